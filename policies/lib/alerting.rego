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
in_scope(target) := positions(index.byScope, target)

positions(by_scope, target) := sort({i |
	some sc in lib.covering_scopes(target)
	some i in object.get(by_scope, sc, [])
})

# memo_key(target): all that an alert rule's results on `target` depend on,
# besides the subscription's alerts and the action groups, when the rule
# builds its events from `target` with lib.vault_event or lib.child_event
# (see "memo_key" in docs/policies.md). A target that no alert is scoped to
# and no alert condition names is judged exactly like every other such
# target of its subscription and resource group (the messages do not name
# it), so kvaudit evaluates the rule once for all of them.
memo_key(target) := {"resource": n} if {
	n := lib.norm_id(target)
	specific(n)
} else := {
	"subscription": lower(lib.str(input.subscription.subscriptionId)),
	"scopes": sort(lib.covering_scopes(target) - {lib.norm_id(target)}),
	"resourceGroup": lib.resource_group(target),
}

# vault_memo_key is memo_key(input.vault.id) as a rule, so that the alert
# rules that share it compute it once per vault (a function is recomputed
# at every call).
vault_memo_key := memo_key(input.vault.id)

# specific(n): an alert is scoped to the resource itself, or its condition
# names it.
specific(n) if count(object.get(index.byScope, n, [])) > 0

specific(n) if count(object.get(index.byResourceId, n, [])) > 0

# covering(target, event): positions of the live alerts that notify someone
# of `event` on `target`, in list order. For the operations of
# data.kvaudit.events.templates this is a lookup per covering scope (plus
# the few alerts whose condition names a resource group or resource);
# other operations are matched against each live alert in scope.
covering(target, event) := sort({i |
	some sc in lib.covering_scopes(target)
	some i in object.get(index.coverBy, concat(" ", [sc, event.operationname]), [])
} | {i |
	some i in positions(index.residualLiveByScope, target)
	lib.fact_matches(index.facts[i], event)
}) if {
	data.kvaudit.events.templates[event.operationname]
} else := [i |
	some i in positions(index.liveByScope, target)
	lib.fact_matches(index.facts[i], event)
]

# ranked(uncovered, target): [rank, position] of every alert in scope or
# matching an uncovered operation, nearest first. The rank comes from the
# index (vault-independent conditions), so it orders the alerts to examine;
# each examined alert's reasons say exactly why it does not cover.
#
# A failing result explains the alerts nearest to covering the operations,
# at most this many; the others are counted. Nearness, cheapest first to
# compute from the index: 0 in scope and matching an uncovered operation
# (so disabled, filtered or without a usable action group), 1 matching but
# scoped elsewhere, 2 in scope with another condition.
max_examined := 10

ranked(uncovered, target) := sort(array.concat(
	[[near_rank(i, matched), i] | some i in scoped],
	[[1, i] | some i in array.slice(outside, 0, max_examined)],
)) if {
	scoped := {i | some i in in_scope(target)}
	ops := sort({lower(op) | some op in uncovered})
	matched := matched_in_scope(scoped, ops)

	# The first max_examined positions of the matching alerts outside the
	# scopes are among the first max_examined + count(scoped) of each
	# operation's (ascending) list: the cost does not grow with the alerts
	# that match elsewhere.
	need := max_examined + count(scoped)
	head := {i | some op in ops; some i in array.slice(object.get(index.byOperation, op, []), 0, need)}
	outside := sort([i | some i in head; not i in scoped])
}

# matched_in_scope(scoped, ops): the alerts in scope that match one of ops.
matched_in_scope(scoped, ops) := {i |
	some i in scoped
	some op in ops
	i in object.get(index.byOperationSet, op, set())
}

near_rank(i, matched) := 0 if i in matched

else := 2

# ranked_total(uncovered, target): how many alerts `ranked` would list if it
# were not cut (in scope, or matching an uncovered operation elsewhere),
# from the index's counts.
ranked_total(uncovered, target) := (count(scoped) + match_count(ops)) - count(matched_in_scope(scoped, ops)) if {
	scoped := {i | some i in in_scope(target)}
	ops := sort({lower(op) | some op in uncovered})
}

match_count(ops) := n if {
	n := index.matchCount[concat("|", ops)]
} else := count({i | some op in ops; some i in object.get(index.byOperation, op, [])})
