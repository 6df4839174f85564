//! Azure: the clouds and their endpoints, credentials (azure_identity), one
//! HTTP client for ARM and Log Analytics (paging, retries, pacing), and the
//! typed models of every REST shape kvaudit reads.
pub mod client;
pub mod cloud;
pub mod credentials;
pub mod error;
pub mod json;
pub mod loganalytics;
pub mod models;
pub mod throttle;
