// kvaudit fix: Bicep for 21 failing result(s) in demo.
// Review every module before you deploy; kvaudit deploys nothing itself. Then:
//   az deployment sub create --location <location> --template-file main.bicep
// Modules that need a value the inventory does not hold are commented out below.
// No Bicep for kv/logs-arriving, kv/purge-protection, kv/firewall-default-deny, kv/key-expiry, kv/public-network-access, kv/rbac-authorization, kv/secret-expiry, kv/key-rotation, kv/soft-delete-retention (the fix changes an existing resource: see `kvaudit fix` for the az commands).
targetScope = 'subscription'

// ── kv/access-policy-alert (high): Access policy changes raise an activity-log alert

// kv-intranet-web: no usable activity-log alert covers Microsoft.KeyVault/vaults/accessPolicies/write: 'kv-identity-admin-ops' is scoped elsewhere (subscriptions/2e91b7c4-05af-4d38-b6e2-9c4a71f3d058/resourceGroups/rg-id…
// kv-legacy-app: no usable activity-log alert covers Microsoft.KeyVault/vaults/accessPolicies/write: 'kv-identity-admin-ops' is scoped elsewhere (subscriptions/2e91b7c4-05af-4d38-b6e2-9c4a71f3d058/resourceGroups/rg-id…
// kv-sandbox-dev: no usable activity-log alert covers Microsoft.KeyVault/vaults/accessPolicies/write: 'kv-identity-admin-ops' is scoped elsewhere (subscriptions/2e91b7c4-05af-4d38-b6e2-9c4a71f3d058/resourceGroups/rg-id…
module fix001 'modules/001-kv-access-policy-alert.bicep' = {
  name: 'kvaudit-fix-001'
  scope: resourceGroup('2e91b7c4-05af-4d38-b6e2-9c4a71f3d058', 'rg-monitoring')
}

// ── kv/admin-alert (high): Vault changes and deletions raise an activity-log alert

// kv-intranet-web: no usable activity-log alert covers Microsoft.KeyVault/vaults/write: 'kv-legacy-write' names no usable action group (/subscriptions/2e91b7c4-05af-4d38-b6e2-9c4a71f3d058/resourceGroups/rg-legacy-apps/p…
// kv-legacy-app: no usable activity-log alert covers Microsoft.KeyVault/vaults/write: 'kv-legacy-write' names no usable action group (/subscriptions/2e91b7c4-05af-4d38-b6e2-9c4a71f3d058/resourceGroups/rg-legacy-apps/p…
// kv-sandbox-dev: no usable activity-log alert covers Microsoft.KeyVault/vaults/write: 'kv-legacy-write' names no usable action group (/subscriptions/2e91b7c4-05af-4d38-b6e2-9c4a71f3d058/resourceGroups/rg-legacy-apps/p…
module fix002 'modules/002-kv-admin-alert.bicep' = {
  name: 'kvaudit-fix-002'
  scope: resourceGroup('2e91b7c4-05af-4d38-b6e2-9c4a71f3d058', 'rg-monitoring')
}

// ── kv/audit-logging (high): Key Vault audit logging is enabled

// kv-legacy-app: no diagnostic setting exports AuditEvent to a destination: 'legacy-diag' exports no AuditEvent (category AuditEvent is disabled, category AzurePolicyEvaluationDetails does not contain AuditEvent)
module fix003 'modules/003-kv-audit-logging.bicep' = {
  name: 'kvaudit-fix-003'
  scope: resourceGroup('2e91b7c4-05af-4d38-b6e2-9c4a71f3d058', 'rg-legacy-apps')
}

// kv-sandbox-dev: the vault has no diagnostic setting, so its AuditEvent logs go nowhere
module fix004 'modules/004-kv-audit-logging.bicep' = {
  name: 'kvaudit-fix-004'
  scope: resourceGroup('2e91b7c4-05af-4d38-b6e2-9c4a71f3d058', 'rg-sandbox')
}

// ── kv/log-tamper-alert (high): Changes to the vault's diagnostic settings raise an activity-log alert

// kv-identity-prod: no usable activity-log alert covers Microsoft.Insights/diagnosticSettings/write: 'kv-delete-guard' its condition operationName equals 'Microsoft.KeyVault/vaults/delete' does not match microsoft.insigh…
// kv-intranet-web: no usable activity-log alert covers Microsoft.Insights/diagnosticSettings/write: 'kv-delete-guard' its condition operationName equals 'Microsoft.KeyVault/vaults/delete' does not match microsoft.insigh…
// kv-legacy-app: no usable activity-log alert covers Microsoft.Insights/diagnosticSettings/write: 'kv-delete-guard' its condition operationName equals 'Microsoft.KeyVault/vaults/delete' does not match microsoft.insigh…
// kv-sandbox-dev: no usable activity-log alert covers Microsoft.Insights/diagnosticSettings/write: 'kv-delete-guard' its condition operationName equals 'Microsoft.KeyVault/vaults/delete' does not match microsoft.insigh…
module fix005 'modules/005-kv-log-tamper-alert.bicep' = {
  name: 'kvaudit-fix-005'
  scope: resourceGroup('2e91b7c4-05af-4d38-b6e2-9c4a71f3d058', 'rg-monitoring')
}

// ── kv/purge-alert (high): Purging a deleted vault raises an activity-log alert

// contoso-corp-it: no usable activity-log alert covers Microsoft.KeyVault/locations/deletedVaults/purge/action: 'kv-delete-guard' its condition operationName equals 'Microsoft.KeyVault/vaults/delete' does not match micr…
module fix006 'modules/006-kv-purge-alert.bicep' = {
  name: 'kvaudit-fix-006'
  scope: resourceGroup('2e91b7c4-05af-4d38-b6e2-9c4a71f3d058', 'rg-monitoring')
}

// ── kv/defender (medium): Microsoft Defender for Key Vault is on

// contoso-corp-it: Defender for Key Vault is off (pricingTier Free) for the subscription's 4 vaults
module fix007 'modules/007-kv-defender.bicep' = {
  name: 'kvaudit-fix-007'
  scope: subscription('2e91b7c4-05af-4d38-b6e2-9c4a71f3d058')
}

// ── kv/private-endpoint (low): The vault has an approved private endpoint

// kv-identity-prod: the vault has no private endpoint connection
// needs vnet, subnet (not in the inventory): give them values in modules/008-kv-private-endpoint.bicep, then uncomment
// module fix008 'modules/008-kv-private-endpoint.bicep' = {
//   name: 'kvaudit-fix-008'
//   scope: resourceGroup('2e91b7c4-05af-4d38-b6e2-9c4a71f3d058', 'rg-identity')
// }

// kv-intranet-web: the vault has no private endpoint connection
// needs vnet, subnet (not in the inventory): give them values in modules/009-kv-private-endpoint.bicep, then uncomment
// module fix009 'modules/009-kv-private-endpoint.bicep' = {
//   name: 'kvaudit-fix-009'
//   scope: resourceGroup('2e91b7c4-05af-4d38-b6e2-9c4a71f3d058', 'rg-intranet')
// }

// kv-legacy-app: the vault has no private endpoint connection
// needs vnet, subnet (not in the inventory): give them values in modules/010-kv-private-endpoint.bicep, then uncomment
// module fix010 'modules/010-kv-private-endpoint.bicep' = {
//   name: 'kvaudit-fix-010'
//   scope: resourceGroup('2e91b7c4-05af-4d38-b6e2-9c4a71f3d058', 'rg-legacy-apps')
// }

// kv-sandbox-dev: the vault has no private endpoint connection
// needs vnet, subnet (not in the inventory): give them values in modules/011-kv-private-endpoint.bicep, then uncomment
// module fix011 'modules/011-kv-private-endpoint.bicep' = {
//   name: 'kvaudit-fix-011'
//   scope: resourceGroup('2e91b7c4-05af-4d38-b6e2-9c4a71f3d058', 'rg-sandbox')
// }

// kv-archive: the vault has no private endpoint connection
// needs vnet, subnet (not in the inventory): give them values in modules/012-kv-private-endpoint.bicep, then uncomment
// module fix012 'modules/012-kv-private-endpoint.bicep' = {
//   name: 'kvaudit-fix-012'
//   scope: resourceGroup('8f3c1a52-7d4e-4b9a-a1c6-3e5f20d9b714', 'rg-archive')
// }

// kv-data-platform: none of the vault's 1 private endpoint connection is approved (Pending), so none carries traffic
// needs vnet, subnet (not in the inventory): give them values in modules/013-kv-private-endpoint.bicep, then uncomment
// module fix013 'modules/013-kv-private-endpoint.bicep' = {
//   name: 'kvaudit-fix-013'
//   scope: resourceGroup('8f3c1a52-7d4e-4b9a-a1c6-3e5f20d9b714', 'rg-data-platform')
// }

// kv-shared-secrets: the vault has no private endpoint connection
// needs vnet, subnet (not in the inventory): give them values in modules/014-kv-private-endpoint.bicep, then uncomment
// module fix014 'modules/014-kv-private-endpoint.bicep' = {
//   name: 'kvaudit-fix-014'
//   scope: resourceGroup('8f3c1a52-7d4e-4b9a-a1c6-3e5f20d9b714', 'rg-platform-shared')
// }
