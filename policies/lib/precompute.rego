# Derived data kvaudit computes once per subscription, not once per vault.
#
# kvaudit evaluates `subscription_alert_facts` with input
# {"subscription": ..., "actionGroups": ...} for each subscription and passes
# the result to every vault's evaluation as `input.subscription.alertFacts`.
# It lives in its own package because referencing any rule of a package
# evaluates all of that package's rules.
package kvaudit.precompute

import data.kvaudit.lib

subscription_alert_facts[a.id] := lib.compute_alert_facts(a) if {
	input.subscription.activityLogAlerts.status == "ok"
	some a in input.subscription.activityLogAlerts.value
}
