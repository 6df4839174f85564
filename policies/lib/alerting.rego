# Per-vault alert data shared by the built-in alert rules. A package of its
# own with one rule: a reference to a rule evaluates every rule of its
# package, and this one is wanted by every vault alert rule.
package kvaudit.alerting

import data.kvaudit.lib

# vault_live: [name, facts] of each live alert whose scope covers the vault.
vault_live := lib.live_alerts(input.subscription.activityLogAlerts.value, input.vault.id)
