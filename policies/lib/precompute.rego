# Derived data kvaudit computes once per subscription, not once per vault.
#
# kvaudit evaluates `subscription_alert_facts` and `subscription_alert_index`
# with input {"subscription": ..., "actionGroups": ...} for each subscription
# and passes the results to every vault's evaluation as
# `input.subscription.alertFacts` and `input.subscription.alertIndex`.
# It lives in its own package because referencing any rule of a package
# evaluates all of that package's rules.
package kvaudit.precompute

import data.kvaudit.lib

subscription_alert_facts[a.id] := lib.compute_alert_facts(a) if {
	input.subscription.activityLogAlerts.status == "ok"
	some a in input.subscription.activityLogAlerts.value
}

subscription_alert_index := lib.alert_index_of(lib.list(input.subscription.activityLogAlerts.value), subscription_alert_facts) if {
	input.subscription.activityLogAlerts.status == "ok"
}
