//! Azure shapes and (later) clients. `models` holds the typed serde models of
//! every ARM and Log Analytics shape kvaudit reads.
pub mod models;
