#!/usr/bin/env bash
# kvaudit fix: 44 failing result(s) of 16 rule(s) in demo.
# Review every command before you run it: kvaudit runs nothing itself.
# Commands that need a value the inventory does not hold are commented out.
set -euo pipefail

# ── kv/access-policy-alert (high): Access policy changes raise an activity-log alert

# kv-intranet-web: no usable activity-log alert covers Microsoft.KeyVault/vaults/accessPolicies/write: 'kv-identity-admin-ops' is scoped elsewhere (subscriptions/2e91b7c4-05af-4d38-b6e2-9c4a71f3d058/resourceGroups/rg-id…
# kv-legacy-app: no usable activity-log alert covers Microsoft.KeyVault/vaults/accessPolicies/write: 'kv-identity-admin-ops' is scoped elsewhere (subscriptions/2e91b7c4-05af-4d38-b6e2-9c4a71f3d058/resourceGroups/rg-id…
# kv-sandbox-dev: no usable activity-log alert covers Microsoft.KeyVault/vaults/accessPolicies/write: 'kv-identity-admin-ops' is scoped elsewhere (subscriptions/2e91b7c4-05af-4d38-b6e2-9c4a71f3d058/resourceGroups/rg-id…
az monitor activity-log alert create --name kv-access-policy-changes --subscription 2e91b7c4-05af-4d38-b6e2-9c4a71f3d058 --resource-group rg-monitoring --scope /subscriptions/2e91b7c4-05af-4d38-b6e2-9c4a71f3d058 --condition 'category=Administrative and operationName=Microsoft.KeyVault/vaults/accessPolicies/write' --action-group /subscriptions/2e91b7c4-05af-4d38-b6e2-9c4a71f3d058/resourceGroups/rg-monitoring/providers/microsoft.insights/actionGroups/ag-corpit-ops

# ── kv/admin-alert (high): Vault changes and deletions raise an activity-log alert

# kv-intranet-web: no usable activity-log alert covers Microsoft.KeyVault/vaults/write: 'kv-legacy-write' names no usable action group (/subscriptions/2e91b7c4-05af-4d38-b6e2-9c4a71f3d058/resourceGroups/rg-legacy-apps/p…
# kv-legacy-app: no usable activity-log alert covers Microsoft.KeyVault/vaults/write: 'kv-legacy-write' names no usable action group (/subscriptions/2e91b7c4-05af-4d38-b6e2-9c4a71f3d058/resourceGroups/rg-legacy-apps/p…
# kv-sandbox-dev: no usable activity-log alert covers Microsoft.KeyVault/vaults/write: 'kv-legacy-write' names no usable action group (/subscriptions/2e91b7c4-05af-4d38-b6e2-9c4a71f3d058/resourceGroups/rg-legacy-apps/p…
az monitor activity-log alert create --name kv-admin-changes --subscription 2e91b7c4-05af-4d38-b6e2-9c4a71f3d058 --resource-group rg-monitoring --scope /subscriptions/2e91b7c4-05af-4d38-b6e2-9c4a71f3d058 --condition 'category=Administrative and resourceType=Microsoft.KeyVault/vaults' --action-group /subscriptions/2e91b7c4-05af-4d38-b6e2-9c4a71f3d058/resourceGroups/rg-monitoring/providers/microsoft.insights/actionGroups/ag-corpit-ops

# ── kv/audit-logging (high): Key Vault audit logging is enabled

# kv-legacy-app: no diagnostic setting exports AuditEvent to a destination: 'legacy-diag' exports no AuditEvent (category AuditEvent is disabled, category AzurePolicyEvaluationDetails does not contain AuditEvent)
az monitor diagnostic-settings create --name kv-audit --resource /subscriptions/2e91b7c4-05af-4d38-b6e2-9c4a71f3d058/resourceGroups/rg-legacy-apps/providers/Microsoft.KeyVault/vaults/kv-legacy-app --workspace /subscriptions/2e91b7c4-05af-4d38-b6e2-9c4a71f3d058/resourceGroups/rg-monitoring/providers/Microsoft.OperationalInsights/workspaces/law-corpit-weu --export-to-resource-specific true --logs '[{"categoryGroup":"audit","enabled":true},{"categoryGroup":"allLogs","enabled":true}]'

# kv-sandbox-dev: the vault has no diagnostic setting, so its AuditEvent logs go nowhere
az monitor diagnostic-settings create --name kv-audit --resource /subscriptions/2e91b7c4-05af-4d38-b6e2-9c4a71f3d058/resourceGroups/rg-sandbox/providers/Microsoft.KeyVault/vaults/kv-sandbox-dev --workspace /subscriptions/2e91b7c4-05af-4d38-b6e2-9c4a71f3d058/resourceGroups/rg-monitoring/providers/Microsoft.OperationalInsights/workspaces/law-corpit-weu --export-to-resource-specific true --logs '[{"categoryGroup":"audit","enabled":true},{"categoryGroup":"allLogs","enabled":true}]'

# ── kv/log-tamper-alert (high): Changes to the vault's diagnostic settings raise an activity-log alert

# kv-identity-prod: no usable activity-log alert covers Microsoft.Insights/diagnosticSettings/write: 'kv-delete-guard' its condition operationName equals 'Microsoft.KeyVault/vaults/delete' does not match microsoft.insigh…
# kv-intranet-web: no usable activity-log alert covers Microsoft.Insights/diagnosticSettings/write: 'kv-delete-guard' its condition operationName equals 'Microsoft.KeyVault/vaults/delete' does not match microsoft.insigh…
# kv-legacy-app: no usable activity-log alert covers Microsoft.Insights/diagnosticSettings/write: 'kv-delete-guard' its condition operationName equals 'Microsoft.KeyVault/vaults/delete' does not match microsoft.insigh…
# kv-sandbox-dev: no usable activity-log alert covers Microsoft.Insights/diagnosticSettings/write: 'kv-delete-guard' its condition operationName equals 'Microsoft.KeyVault/vaults/delete' does not match microsoft.insigh…
az monitor activity-log alert create --name kv-diagnostic-settings-changes --subscription 2e91b7c4-05af-4d38-b6e2-9c4a71f3d058 --resource-group rg-monitoring --scope /subscriptions/2e91b7c4-05af-4d38-b6e2-9c4a71f3d058 --condition 'category=Administrative and resourceType=Microsoft.Insights/diagnosticSettings' --action-group /subscriptions/2e91b7c4-05af-4d38-b6e2-9c4a71f3d058/resourceGroups/rg-monitoring/providers/microsoft.insights/actionGroups/ag-corpit-ops

# ── kv/logs-arriving (high): Audit events of a busy vault arrive in its workspace

# kv-intranet-web: diagnostic setting 'to-law-corpit' sends AuditEvent to workspace /subscriptions/2e91b7c4-05af-4d38-b6e2-9c4a71f3d058/resourceGroups/rg-monitoring/providers/Microsoft.OperationalInsights/workspaces/law…
# where does the AuditEvent setting send the logs? recreate it if the workspace is wrong or gone
az monitor diagnostic-settings list --resource /subscriptions/2e91b7c4-05af-4d38-b6e2-9c4a71f3d058/resourceGroups/rg-intranet/providers/Microsoft.KeyVault/vaults/kv-intranet-web --query '[].{name:name, workspace:workspaceId, type:logAnalyticsDestinationType}'

# ── kv/purge-alert (high): Purging a deleted vault raises an activity-log alert

# contoso-corp-it: no usable activity-log alert covers Microsoft.KeyVault/locations/deletedVaults/purge/action: 'kv-delete-guard' its condition operationName equals 'Microsoft.KeyVault/vaults/delete' does not match micr…
az monitor activity-log alert create --name kv-purge --subscription 2e91b7c4-05af-4d38-b6e2-9c4a71f3d058 --resource-group rg-monitoring --scope /subscriptions/2e91b7c4-05af-4d38-b6e2-9c4a71f3d058 --condition 'category=Administrative and operationName=Microsoft.KeyVault/locations/deletedVaults/purge/action' --action-group /subscriptions/2e91b7c4-05af-4d38-b6e2-9c4a71f3d058/resourceGroups/rg-monitoring/providers/microsoft.insights/actionGroups/ag-corpit-ops

# ── kv/purge-protection (high): Purge protection is enabled

# kv-legacy-app: purge protection is off (enablePurgeProtection is not set): a deleted vault or key can be purged at once and is then lost for good
az keyvault update --name kv-legacy-app --resource-group rg-legacy-apps --subscription 2e91b7c4-05af-4d38-b6e2-9c4a71f3d058 --enable-purge-protection true

# kv-sandbox-dev: purge protection is off (enablePurgeProtection is not set): a deleted vault or key can be purged at once and is then lost for good
az keyvault update --name kv-sandbox-dev --resource-group rg-sandbox --subscription 2e91b7c4-05af-4d38-b6e2-9c4a71f3d058 --enable-purge-protection true

# ── kv/defender (medium): Microsoft Defender for Key Vault is on

# contoso-corp-it: Defender for Key Vault is off (pricingTier Free) for the subscription's 4 vaults
az security pricing create --name KeyVaults --tier Standard --subscription 2e91b7c4-05af-4d38-b6e2-9c4a71f3d058

# ── kv/firewall-default-deny (medium): The vault firewall denies by default

# kv-identity-prod: the firewall's defaultAction is Allow: every public address gets through and its 0 IP rules change nothing
# first allow the vault's clients: az keyvault network-rule add --name VAULT --ip-address RANGE
az keyvault update --name kv-identity-prod --resource-group rg-identity --subscription 2e91b7c4-05af-4d38-b6e2-9c4a71f3d058 --default-action Deny --bypass AzureServices

# kv-legacy-app: the firewall's defaultAction is Allow: every public address gets through and its 0 IP rules change nothing
# first allow the vault's clients: az keyvault network-rule add --name VAULT --ip-address RANGE
az keyvault update --name kv-legacy-app --resource-group rg-legacy-apps --subscription 2e91b7c4-05af-4d38-b6e2-9c4a71f3d058 --default-action Deny --bypass AzureServices

# kv-sandbox-dev: the firewall's defaultAction is Allow: every public address gets through and its 0 IP rules change nothing
# first allow the vault's clients: az keyvault network-rule add --name VAULT --ip-address RANGE
az keyvault update --name kv-sandbox-dev --resource-group rg-sandbox --subscription 2e91b7c4-05af-4d38-b6e2-9c4a71f3d058 --default-action Deny --bypass AzureServices

# kv-shared-secrets: the firewall's defaultAction is Allow: every public address gets through and its 0 IP rules change nothing
# first allow the vault's clients: az keyvault network-rule add --name VAULT --ip-address RANGE
az keyvault update --name kv-shared-secrets --resource-group rg-platform-shared --subscription 8f3c1a52-7d4e-4b9a-a1c6-3e5f20d9b714 --default-action Deny --bypass AzureServices

# ── kv/key-expiry (medium): Every enabled key has an expiration date

# kv-sandbox-dev (dev-test-key): key 'dev-test-key' is enabled and never expires (attributes.exp is not set)
az keyvault key set-attributes --vault-name kv-sandbox-dev --name dev-test-key --subscription 2e91b7c4-05af-4d38-b6e2-9c4a71f3d058 --expires "$(date -u -d '+1 year' +%Y-%m-%dT%H:%M:%SZ)"

# kv-data-platform (lake-cmk): key 'lake-cmk' is enabled and never expires (attributes.exp is not set)
az keyvault key set-attributes --vault-name kv-data-platform --name lake-cmk --subscription 8f3c1a52-7d4e-4b9a-a1c6-3e5f20d9b714 --expires "$(date -u -d '+1 year' +%Y-%m-%dT%H:%M:%SZ)"

# ── kv/public-network-access (medium): Public network access is disabled

# kv-identity-prod: public network access is Enabled: the vault's endpoint answers from any network
# give the vault's clients a private endpoint first (kv/private-endpoint)
az keyvault update --name kv-identity-prod --resource-group rg-identity --subscription 2e91b7c4-05af-4d38-b6e2-9c4a71f3d058 --public-network-access Disabled

# kv-intranet-web: public network access is Enabled; the firewall's defaultAction Deny limits it to the allowed addresses and networks
# give the vault's clients a private endpoint first (kv/private-endpoint)
az keyvault update --name kv-intranet-web --resource-group rg-intranet --subscription 2e91b7c4-05af-4d38-b6e2-9c4a71f3d058 --public-network-access Disabled

# kv-legacy-app: public network access is Enabled: the vault's endpoint answers from any network
# give the vault's clients a private endpoint first (kv/private-endpoint)
az keyvault update --name kv-legacy-app --resource-group rg-legacy-apps --subscription 2e91b7c4-05af-4d38-b6e2-9c4a71f3d058 --public-network-access Disabled

# kv-sandbox-dev: public network access is Enabled: the vault's endpoint answers from any network
# give the vault's clients a private endpoint first (kv/private-endpoint)
az keyvault update --name kv-sandbox-dev --resource-group rg-sandbox --subscription 2e91b7c4-05af-4d38-b6e2-9c4a71f3d058 --public-network-access Disabled

# kv-data-platform: public network access is Enabled; the firewall's defaultAction Deny limits it to the allowed addresses and networks
# give the vault's clients a private endpoint first (kv/private-endpoint)
az keyvault update --name kv-data-platform --resource-group rg-data-platform --subscription 8f3c1a52-7d4e-4b9a-a1c6-3e5f20d9b714 --public-network-access Disabled

# kv-shared-secrets: public network access is Enabled: the vault's endpoint answers from any network
# give the vault's clients a private endpoint first (kv/private-endpoint)
az keyvault update --name kv-shared-secrets --resource-group rg-platform-shared --subscription 8f3c1a52-7d4e-4b9a-a1c6-3e5f20d9b714 --public-network-access Disabled

# ── kv/rbac-authorization (medium): The vault uses the Azure RBAC permission model

# kv-legacy-app: the vault uses access policies (enableRbacAuthorization is not set; 2 access policies): anyone who may write the vault can grant themselves its secrets
# first give each identity of the access policies an equivalent role (az role assignment create --scope VAULT_ID)
az keyvault update --name kv-legacy-app --resource-group rg-legacy-apps --subscription 2e91b7c4-05af-4d38-b6e2-9c4a71f3d058 --enable-rbac-authorization true

# ── kv/secret-expiry (medium): Every enabled secret has an expiration date

# kv-legacy-app (legacy-db-password): secret 'legacy-db-password' is enabled and never expires (attributes.exp is not set)
az keyvault secret set-attributes --vault-name kv-legacy-app --name legacy-db-password --subscription 2e91b7c4-05af-4d38-b6e2-9c4a71f3d058 --expires "$(date -u -d '+1 year' +%Y-%m-%dT%H:%M:%SZ)"

# kv-shared-secrets (github-app-pem): secret 'github-app-pem' is enabled and never expires (attributes.exp is not set)
az keyvault secret set-attributes --vault-name kv-shared-secrets --name github-app-pem --subscription 8f3c1a52-7d4e-4b9a-a1c6-3e5f20d9b714 --expires "$(date -u -d '+1 year' +%Y-%m-%dT%H:%M:%SZ)"

# kv-shared-secrets (smtp-password): secret 'smtp-password' is enabled and never expires (attributes.exp is not set)
az keyvault secret set-attributes --vault-name kv-shared-secrets --name smtp-password --subscription 8f3c1a52-7d4e-4b9a-a1c6-3e5f20d9b714 --expires "$(date -u -d '+1 year' +%Y-%m-%dT%H:%M:%SZ)"

# ── kv/key-rotation (low): Every enabled key has a rotation policy that rotates it

# kv-sandbox-dev (dev-test-key): key 'dev-test-key' has no rotation policy (its Keys_Get answer through Azure Resource Manager carries none), so it is never rotated automatically
az keyvault key rotation-policy update --vault-name kv-sandbox-dev --name dev-test-key --subscription 2e91b7c4-05af-4d38-b6e2-9c4a71f3d058 --value '{"lifetimeActions":[{"trigger":{"timeAfterCreate":"P90D"},"action":{"type":"Rotate"}}],"attributes":{"expiryTime":"P1Y"}}'

# kv-archive (archive-kek): key 'archive-kek' has no rotation policy (its Keys_Get answer through Azure Resource Manager carries none), so it is never rotated automatically
az keyvault key rotation-policy update --vault-name kv-archive --name archive-kek --subscription 8f3c1a52-7d4e-4b9a-a1c6-3e5f20d9b714 --value '{"lifetimeActions":[{"trigger":{"timeAfterCreate":"P90D"},"action":{"type":"Rotate"}}],"attributes":{"expiryTime":"P1Y"}}'

# kv-data-platform (lake-cmk): key 'lake-cmk' has a rotation policy without a Rotate action (actions: Notify), so it is never rotated automatically
az keyvault key rotation-policy update --vault-name kv-data-platform --name lake-cmk --subscription 8f3c1a52-7d4e-4b9a-a1c6-3e5f20d9b714 --value '{"lifetimeActions":[{"trigger":{"timeAfterCreate":"P90D"},"action":{"type":"Rotate"}}],"attributes":{"expiryTime":"P1Y"}}'

# ── kv/private-endpoint (low): The vault has an approved private endpoint

# kv-identity-prod: the vault has no private endpoint connection
# needs vnet, subnet (not in the inventory): fill in, then uncomment
# az network private-endpoint create --name pe-kv-identity-prod --resource-group rg-identity --subscription 2e91b7c4-05af-4d38-b6e2-9c4a71f3d058 --vnet-name <vnet> --subnet <subnet> --group-id vault --connection-name pe-kv-identity-prod --private-connection-resource-id /subscriptions/2e91b7c4-05af-4d38-b6e2-9c4a71f3d058/resourceGroups/rg-identity/providers/Microsoft.KeyVault/vaults/kv-identity-prod

# kv-intranet-web: the vault has no private endpoint connection
# needs vnet, subnet (not in the inventory): fill in, then uncomment
# az network private-endpoint create --name pe-kv-intranet-web --resource-group rg-intranet --subscription 2e91b7c4-05af-4d38-b6e2-9c4a71f3d058 --vnet-name <vnet> --subnet <subnet> --group-id vault --connection-name pe-kv-intranet-web --private-connection-resource-id /subscriptions/2e91b7c4-05af-4d38-b6e2-9c4a71f3d058/resourceGroups/rg-intranet/providers/Microsoft.KeyVault/vaults/kv-intranet-web

# kv-legacy-app: the vault has no private endpoint connection
# needs vnet, subnet (not in the inventory): fill in, then uncomment
# az network private-endpoint create --name pe-kv-legacy-app --resource-group rg-legacy-apps --subscription 2e91b7c4-05af-4d38-b6e2-9c4a71f3d058 --vnet-name <vnet> --subnet <subnet> --group-id vault --connection-name pe-kv-legacy-app --private-connection-resource-id /subscriptions/2e91b7c4-05af-4d38-b6e2-9c4a71f3d058/resourceGroups/rg-legacy-apps/providers/Microsoft.KeyVault/vaults/kv-legacy-app

# kv-sandbox-dev: the vault has no private endpoint connection
# needs vnet, subnet (not in the inventory): fill in, then uncomment
# az network private-endpoint create --name pe-kv-sandbox-dev --resource-group rg-sandbox --subscription 2e91b7c4-05af-4d38-b6e2-9c4a71f3d058 --vnet-name <vnet> --subnet <subnet> --group-id vault --connection-name pe-kv-sandbox-dev --private-connection-resource-id /subscriptions/2e91b7c4-05af-4d38-b6e2-9c4a71f3d058/resourceGroups/rg-sandbox/providers/Microsoft.KeyVault/vaults/kv-sandbox-dev

# kv-archive: the vault has no private endpoint connection
# needs vnet, subnet (not in the inventory): fill in, then uncomment
# az network private-endpoint create --name pe-kv-archive --resource-group rg-archive --subscription 8f3c1a52-7d4e-4b9a-a1c6-3e5f20d9b714 --vnet-name <vnet> --subnet <subnet> --group-id vault --connection-name pe-kv-archive --private-connection-resource-id /subscriptions/8f3c1a52-7d4e-4b9a-a1c6-3e5f20d9b714/resourceGroups/rg-archive/providers/Microsoft.KeyVault/vaults/kv-archive

# kv-data-platform: none of the vault's 1 private endpoint connection is approved (Pending), so none carries traffic
# needs vnet, subnet (not in the inventory): fill in, then uncomment
# az network private-endpoint create --name pe-kv-data-platform --resource-group rg-data-platform --subscription 8f3c1a52-7d4e-4b9a-a1c6-3e5f20d9b714 --vnet-name <vnet> --subnet <subnet> --group-id vault --connection-name pe-kv-data-platform --private-connection-resource-id /subscriptions/8f3c1a52-7d4e-4b9a-a1c6-3e5f20d9b714/resourceGroups/rg-data-platform/providers/Microsoft.KeyVault/vaults/kv-data-platform

# kv-shared-secrets: the vault has no private endpoint connection
# needs vnet, subnet (not in the inventory): fill in, then uncomment
# az network private-endpoint create --name pe-kv-shared-secrets --resource-group rg-platform-shared --subscription 8f3c1a52-7d4e-4b9a-a1c6-3e5f20d9b714 --vnet-name <vnet> --subnet <subnet> --group-id vault --connection-name pe-kv-shared-secrets --private-connection-resource-id /subscriptions/8f3c1a52-7d4e-4b9a-a1c6-3e5f20d9b714/resourceGroups/rg-platform-shared/providers/Microsoft.KeyVault/vaults/kv-shared-secrets

# ── kv/soft-delete-retention (low): Soft-delete retention is at least the configured minimum

# kv-sandbox-dev: deleted objects stay recoverable for only 7 days, below the minimum of 90 (policy data config.softDeleteRetentionMinDays); the retention cannot be changed on an existing vault
# needs newVault (not in the inventory): fill in, then uncomment
# the retention of an existing vault is fixed: create a new vault with a longer one and move the objects
# az keyvault create --name <newVault> --resource-group rg-sandbox --subscription 2e91b7c4-05af-4d38-b6e2-9c4a71f3d058 --location westeurope --retention-days 90 --enable-purge-protection true
