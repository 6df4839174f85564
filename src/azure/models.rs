//! Typed models of the Azure REST shapes kvaudit reads, named and cased as
//! Azure writes them. Each struct keeps the fields it does not name in
//! `extra`, so an inventory round-trips exactly and policies see every
//! property Azure returned.
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Unknown fields, kept verbatim (as compact JSON text), and free-form
/// objects no Rust code reads.
pub use super::json::{Extra, Json};

/// `GET /subscriptions` item (api-version 2022-12-01).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub subscription_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A Key Vault (`Microsoft.KeyVault/vaults`, api-version 2026-02-01).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Vault {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Map<String, Value>>,
    pub properties: VaultProperties,
    #[serde(flatten)]
    pub extra: Extra,
}

/// `properties` of a vault. Absent or null booleans keep Azure's meaning
/// (purge protection off; `enableRbacAuthorization` null = access policies).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct VaultProperties {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vault_uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_soft_delete: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub soft_delete_retention_in_days: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_rbac_authorization: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_purge_protection: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_network_access: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_acls: Option<Json>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_endpoint_connections: Option<Vec<Json>>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A diagnostic setting (`Microsoft.Insights/diagnosticSettings`, 2021-05-01-preview).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DiagnosticSetting {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub name: String,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    pub properties: DiagnosticSettingProperties,
    #[serde(flatten)]
    pub extra: Extra,
}

/// Destinations are ARM ids; the examples write `""` for "none".
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct DiagnosticSettingProperties {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_account_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_hub_authorization_rule_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_hub_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marketplace_partner_id: Option<String>,
    /// `Dedicated` (resource-specific table AZKVAuditLogs) or null (AzureDiagnostics).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_analytics_destination_type: Option<String>,
    #[serde(default)]
    pub logs: Vec<LogSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<Vec<Json>>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// One `logs[]` entry: either `category` or `categoryGroup`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LogSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category_group: Option<String>,
    pub enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_policy: Option<Json>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A diagnostic-settings category (`diagnosticSettingsCategories` item).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DiagnosticCategory {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub properties: Option<Value>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// An activity-log alert rule (`Microsoft.Insights/activityLogAlerts`, 2020-10-01).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ActivityLogAlert {
    pub id: String,
    pub name: String,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    pub properties: ActivityLogAlertProperties,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ActivityLogAlertProperties {
    #[serde(default)]
    pub scopes: Vec<String>,
    pub condition: AlertCondition,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actions: Option<AlertActions>,
    /// Defaults to true in the API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AlertCondition {
    #[serde(rename = "allOf")]
    pub all_of: Vec<AlertRuleAnyOfOrLeafCondition>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// An `allOf` element: a leaf (`field` + `equals` or `containsAny`) or `anyOf` of leaves.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AlertRuleAnyOfOrLeafCondition {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub equals: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contains_any: Option<Vec<String>>,
    #[serde(rename = "anyOf", default, skip_serializing_if = "Option::is_none")]
    pub any_of: Option<Vec<AlertRuleAnyOfOrLeafCondition>>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AlertActions {
    #[serde(default)]
    pub action_groups: Vec<ActionGroupReference>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ActionGroupReference {
    pub action_group_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook_properties: Option<Value>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// An action group (`Microsoft.Insights/actionGroups`, 2023-01-01). Receivers
/// stay untyped lists: kvaudit only asks whether any list is non-empty.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ActionGroup {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    pub properties: ActionGroupProperties,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ActionGroupProperties {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group_short_name: Option<String>,
    pub enabled: bool,
    #[serde(flatten)]
    pub receivers: Map<String, Value>,
}

/// A log search alert (`Microsoft.Insights/scheduledQueryRules`, 2026-03-01).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ScheduledQueryRule {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    pub properties: Value,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A Log Analytics workspace (`Microsoft.OperationalInsights/workspaces`, 2025-02-01).
/// `properties.customerId` is the GUID the query API wants.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Workspace {
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    pub properties: WorkspaceProperties,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct WorkspaceProperties {
    pub customer_id: String,
    #[serde(flatten)]
    pub extra: Extra,
}

/// An ARM or Log Analytics error, from either shape (`{"error":{...}}` or flat).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
    /// HTTP status the error came with, when it came over HTTP.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_status: Option<u16>,
}

/// A Defender for Cloud plan (`Microsoft.Security/pricings/{name}`, 2024-01-01).
/// kvaudit reads the `KeyVaults` plan: `properties.pricingTier` is `Free` or
/// `Standard` (Defender on).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Pricing {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub name: String,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    pub properties: PricingProperties,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PricingProperties {
    pub pricing_tier: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub_plan: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A key as the management plane lists it (`{vault}/keys`, 2026-02-01):
/// metadata only, never key material. `attributes.exp` is Unix seconds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Key {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub name: String,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default)]
    pub properties: KeyProperties,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct KeyProperties {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<ItemAttributes>,
    /// Present when the key has a rotation policy: Keys_Get omits it when the
    /// policy is empty (Microsoft.KeyVault's spec). The key list does not
    /// carry it reliably, so kvaudit reads each key (see kv/key-rotation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotation_policy: Option<Json>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// A secret as the management plane lists it (`{vault}/secrets`): metadata
/// only, the list never returns values.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Secret {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub name: String,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default)]
    pub properties: SecretProperties,
    /// A secret value is never kept, even if an answer carries one.
    #[serde(
        rename = "value",
        default,
        skip_serializing,
        deserialize_with = "discard"
    )]
    pub value: Discarded,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct SecretProperties {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<ItemAttributes>,
    /// A secret value is never kept, even if an answer carries one.
    #[serde(
        rename = "value",
        default,
        skip_serializing,
        deserialize_with = "discard"
    )]
    pub value: Discarded,
    #[serde(flatten)]
    pub extra: Extra,
}

/// The place of a field that is read past and never stored (a secret's value).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Discarded;

fn discard<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Discarded, D::Error> {
    serde::de::IgnoredAny::deserialize(d).map(|_| Discarded)
}

/// `attributes` of a key or secret: `enabled` (default true), `exp` and `nbf`
/// in Unix seconds.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Default)]
#[serde(rename_all = "camelCase")]
pub struct ItemAttributes {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// An Azure Monitor metrics answer (`{resource}/providers/Microsoft.Insights/metrics`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MetricsResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timespan: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<String>,
    #[serde(default)]
    pub value: Vec<Metric>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// One metric of the answer; `errorCode` other than `Success` means this
/// metric failed although the call answered 200.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Metric {
    pub name: MetricName,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    #[serde(default)]
    pub timeseries: Vec<TimeSeries>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MetricName {
    pub value: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub localized_value: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TimeSeries {
    #[serde(default)]
    pub data: Vec<MetricValue>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// One point; `count` and `total` are absent for intervals with no data.
/// `ServiceApiHit` documents Count as its aggregation; kvaudit asks for both.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct MetricValue {
    pub time_stamp: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<f64>,
    #[serde(flatten)]
    pub extra: Extra,
}
