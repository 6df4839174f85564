# Per-subscription alert data shared by the built-in alert rules: each
# alert's facts and an index of the alerts by scope and by operation, so a
# vault looks only at the alerts that could cover it. kvaudit computes
# `data.kvaudit.precompute` once per subscription and passes it in as
# `input.subscription.alertFacts` and `input.subscription.alertIndex`;
# without them (a hand-written input in a policy test) they are computed
# here, with the same result.
#
# A package of its own: a reference to a rule evaluates every rule of its
# package, and these are wanted by every alert rule.
package kvaudit.alerting

import data.kvaudit.lib

alerts := lib.list(input.subscription.activityLogAlerts.value)

facts := input.subscription.alertFacts if {
	input.subscription.alertFacts
} else := {a.id: lib.compute_alert_facts(a) | some a in alerts}

index := input.subscription.alertIndex if {
	input.subscription.alertIndex
} else := lib.alert_index_of(alerts, facts)

# in_scope(target): positions (in `alerts`) of the alerts one of whose
# scopes is the target's subscription, resource group or the target itself:
# the only scopes an activity-log alert can have that cover it.
in_scope(target) := sort({i |
	some sc in lib.covering_scopes(target)
	some i in object.get(index.byScope, sc, [])
})

# live(target): [name, facts] of each live alert whose scope covers target.
live(target) := [[alerts[i].name, f] |
	some i in in_scope(target)
	f := facts[alerts[i].id]
	f.live
]

# vault_live: live(input.vault.id), once per vault.
vault_live := live(input.vault.id)

# How many alerts that match an uncovered operation but are scoped elsewhere
# a failing result examines (the rest are only counted): a subscription
# with one alert per vault would otherwise explain all of them on every vault.
max_out_of_scope := 10

out_of_scope_matching(uncovered, target) := sort({i |
	scoped := {j | some j in in_scope(target)}
	some op in uncovered
	some i in object.get(index.byOperation, lower(op), [])
	not i in scoped
})

candidate_positions(uncovered, target) := sort(array.concat(in_scope(target), array.slice(out_of_scope_matching(uncovered, target), 0, max_out_of_scope)))

out_of_scope_not_shown(uncovered, target) := max([0, count(out_of_scope_matching(uncovered, target)) - max_out_of_scope])
