# Shared helpers for kvaudit's built-in and custom policies.
#
# A rule package imports this as `data.kvaudit.lib`. Nothing here is a rule
# (no `metadata`), so kvaudit treats the package as a library.
package kvaudit.lib

# ---------------------------------------------------------------------------
# Strings and ARM ids
# ---------------------------------------------------------------------------

# norm_id normalises an ARM id or alert scope: a leading '/', lower case and
# no trailing '/'. The official examples write scopes without the leading
# slash ("subscriptions/..."), ARM echoes ids in inconsistent case.
norm_id(s) := out if {
	t := trim_right(lower(trim_space(s)), "/")
	startswith(t, "/")
	out := t
}

norm_id(s) := out if {
	t := trim_right(lower(trim_space(s)), "/")
	not startswith(t, "/")
	out := concat("", ["/", t])
}

# is_id_prefix(scope, id) holds when the normalised scope equals the id or
# is a whole-segment path prefix of it.
is_id_prefix(scope, id) if norm_id(scope) == norm_id(id)

is_id_prefix(scope, id) if startswith(norm_id(id), concat("", [norm_id(scope), "/"]))

# str(x) is x when it is a string, else "" (ARM writes null for unset fields).
str(x) := x if is_string(x)

else := ""

# shown(x) is a setting's value as a person reads it: "not set" for null or
# missing (read with a null default).
shown(x) := "not set" if x == null

else := sprintf("%v", [x])

# list(x) is x when it is an array, else [] (ARM writes null for empty lists).
list(x) := x if is_array(x)

else := []

non_empty(s) if {
	is_string(s)
	trim_space(s) != ""
}

# resource_group(id) is the resource group segment of an ARM id, lower-cased.
resource_group(id) := rg if {
	parts := split(norm_id(id), "/")
	some i
	parts[i] == "resourcegroups"
	rg := parts[i + 1]
}

# ---------------------------------------------------------------------------
# Diagnostic settings (2021-05-01-preview)
# ---------------------------------------------------------------------------

destination_fields := ["workspaceId", "storageAccountId", "eventHubAuthorizationRuleId", "marketplacePartnerId"]

# destinations(setting) is the set of destination field names that are set.
destinations(setting) := {f |
	some f in destination_fields
	non_empty(object.get(setting, ["properties", f], ""))
}

audit_groups := {"audit", "alllogs"}

# audit_entry(log) holds when a log entry of a diagnostic setting exports
# Key Vault audit events: enabled, and category AuditEvent or group
# audit/allLogs, compared case-insensitively.
audit_entry(log) if {
	log.enabled == true
	lower(str(object.get(log, "category", ""))) == "auditevent"
}

audit_entry(log) if {
	log.enabled == true
	lower(str(object.get(log, "categoryGroup", ""))) in audit_groups
}

# entry_label(log) names a log entry the way a person reads it.
entry_label(log) := sprintf("category %v", [log.category]) if non_empty(object.get(log, "category", ""))

else := sprintf("categoryGroup %v", [log.categoryGroup]) if non_empty(object.get(log, "categoryGroup", ""))

else := "an entry with neither category nor categoryGroup"

# audit_entries(setting) lists the log entries of a setting that export
# AuditEvent.
audit_entries(setting) := [log |
	some log in object.get(setting, ["properties", "logs"], [])
	audit_entry(log)
]

# exports_audit(setting) holds when a setting has a destination and an
# enabled AuditEvent entry: the test of kv/audit-logging.
exports_audit(setting) if {
	count(destinations(setting)) > 0
	count(audit_entries(setting)) > 0
}

config := data.config

error_text(c) := sprintf("%v: %v", [c.error.code, c.error.message]) if {
	c.error.code
} else := sprintf("not collected: %v", [c.reason]) if {
	c.status == "notCollected"
	is_string(c.reason)
} else := "unknown error"

# unread_text(c) says why a Collected part has no value: "could not be read:
# CODE: message" or "were not collected (reason)".
unread_text(c) := sprintf("could not be read: %v", [error_text(c)]) if {
	c.status == "error"
} else := sprintf("were not collected (%v)", [object.get(c, "reason", "not in the inventory")])

# in_window(ts) holds when an RFC 3339 timestamp lies within the configured
# window, which ends where the evidence ends.
in_window(ts) if {
	bounds := data.kvaudit.evidence.window_ns
	t := time.parse_rfc3339_ns(ts)
	t > bounds[0]
	t <= bounds[1]
}

# ---------------------------------------------------------------------------
# Grouping in one sort (linear after it, not one pass per group)
# ---------------------------------------------------------------------------

# group_by_key(items, keys) groups items[i] by keys[i] (two arrays of the
# same length): [[key, [items]]], keys ascending, items in their order. One
# sort of [key, index] pairs, then each group is a slice between two places
# where the key changes, so the cost is n log n for any number of groups.
group_by_key(items, keys) := [[p[0], [items[p[1]]]] | some p in sort([[k, i] | some i, k in keys])] if {
	# Every key distinct (a public vault's background noise: one group per
	# caller): each group is one item, and the sort is all the work.
	count({k | some k in keys}) == count(keys)
} else := [[sorted[st][0], [items[p[1]] | some p in array.slice(sorted, st, group_end(starts, j, count(sorted)))]] |
	sorted := sort([[k, i] | some i, k in keys])
	starts := [i | some i, p in sorted; key_changes(sorted, i)]
	some j, st in starts
]

key_changes(_, i) if i == 0

key_changes(sorted, i) if {
	i > 0
	sorted[i - 1][0] != sorted[i][0]
}

group_end(starts, j, n) := starts[j + 1] if j + 1 < count(starts)

else := n

# ---------------------------------------------------------------------------
# Allow-list (policy data: config.allowList)
# ---------------------------------------------------------------------------

ip_allowed(ip) if {
	some entry in object.get(config, ["allowList", "ips"], [])
	ip_matches(entry, ip)
}

ip_matches(entry, ip) if entry == ip

ip_matches(entry, ip) if {
	contains(entry, "/")
	net.cidr_is_valid(entry)
	is_ip(ip)
	net.cidr_contains(entry, ip)
}

# is_ip(s) holds for an IPv4 or IPv6 address. net.cidr_contains raises an
# error (failing the whole rule) on an empty or malformed address or CIDR.
is_ip(s) if {
	is_string(s)
	net.cidr_is_valid(concat("/", [s, "32"]))
}

identity_allowed(identity) if {
	oid := object.get(identity, "objectId", "")
	non_empty(oid)
	some x in object.get(config, ["allowList", "objectIds"], [])
	lower(x) == lower(oid)
}

identity_allowed(identity) if {
	app := object.get(identity, "appId", "")
	non_empty(app)
	some x in object.get(config, ["allowList", "appIds"], [])
	lower(x) == lower(app)
}

# allowed(group) holds when an evidence group's caller is allow-listed.
allowed(group) if {
	not data.kvaudit.evidence.allow_list_empty
	ip_allowed(group.callerIp)
}

allowed(group) if {
	not data.kvaudit.evidence.allow_list_empty
	identity_allowed(object.get(group, "identity", {}))
}

# identity_label names the caller: UPN, else app id, else object id, else
# "anonymous".
identity_label(identity) := identity.upn if non_empty(object.get(identity, "upn", ""))

else := sprintf("app %v", [identity.appId]) if non_empty(object.get(identity, "appId", ""))

else := sprintf("object %v", [identity.objectId]) if non_empty(object.get(identity, "objectId", ""))

else := "anonymous"

# ---------------------------------------------------------------------------
# Activity-log alerts (2020-10-01) and action groups
# ---------------------------------------------------------------------------

# Fields whose leaves filter events out (an alert that filters on them misses
# some changes, so it does not cover the operation).
filter_fields := {"level", "status", "substatus", "caller"}

# alert_enabled: `enabled` defaults to true in the API.
alert_enabled(alert) if object.get(alert, ["properties", "enabled"], true) == true

alert_elements(alert) := object.get(alert, ["properties", "condition", "allOf"], [])

# alert_leaves(alert) is every leaf of the condition, top level or in anyOf.
alert_leaves(alert) := array.concat(
	[el | some el in alert_elements(alert); not is_array(object.get(el, "anyOf", null))],
	[leaf | some el in alert_elements(alert); is_array(object.get(el, "anyOf", null)); some leaf in el.anyOf],
)

leaf_field(leaf) := lower(str(object.get(leaf, "field", "")))

# leaf_value_matches(field, expected, actual): case-insensitive, ids normalised.
leaf_value_matches("resourceid", expected, actual) if norm_id(expected) == actual

leaf_value_matches(field, expected, actual) if {
	field != "resourceid"
	lower(trim_space(expected)) == actual
}

# leaf_satisfied(leaf, event) for a leaf {field, equals} or {field, containsAny}.
# A leaf on a field the event does not carry is not satisfied.
leaf_satisfied(leaf, event) if {
	f := leaf_field(leaf)
	actual := event[f]
	expected := object.get(leaf, "equals", null)
	is_string(expected)
	leaf_value_matches(f, expected, actual)
}

leaf_satisfied(leaf, event) if {
	f := leaf_field(leaf)
	actual := event[f]
	not is_string(object.get(leaf, "equals", null))
	some expected in object.get(leaf, "containsAny", [])
	is_string(expected)
	leaf_value_matches(f, expected, actual)
}

element_satisfied(el, event) if {
	not is_array(object.get(el, "anyOf", null))
	leaf_satisfied(el, event)
}

element_satisfied(el, event) if {
	is_array(el.anyOf)
	some leaf in el.anyOf
	not is_array(object.get(leaf, "anyOf", null))
	leaf_satisfied(leaf, event)
}

leaf_text(leaf) := sprintf("%v equals '%v'", [leaf.field, leaf.equals]) if {
	is_string(object.get(leaf, "equals", null))
} else := sprintf("%v containsAny %v", [object.get(leaf, "field", "?"), object.get(leaf, "containsAny", [])]) if {
	is_array(object.get(leaf, "containsAny", null))
} else := "a condition without field/equals/containsAny"

element_text(el) := sprintf("anyOf(%v)", [concat(" or ", [leaf_text(l) | some l in el.anyOf])]) if {
	is_array(object.get(el, "anyOf", null))
} else := leaf_text(el)

# Action groups: input.actionGroups = {"status", "byId": {normalised id: ARM object}}.
receiver_fields := [
	"emailReceivers", "smsReceivers", "webhookReceivers", "itsmReceivers", "azureAppPushReceivers",
	"automationRunbookReceivers", "voiceReceivers", "logicAppReceivers", "azureFunctionReceivers",
	"armRoleReceivers", "eventHubReceivers", "incidentReceivers",
]

action_group_problem(ag_id) := "does not exist (not found among the inventory's action groups)" if {
	not input.actionGroups.byId[norm_id(ag_id)]
} else := "is disabled" if {
	ag := input.actionGroups.byId[norm_id(ag_id)]
	object.get(ag, ["properties", "enabled"], true) != true
} else := "has no receivers" if {
	ag := input.actionGroups.byId[norm_id(ag_id)]
	count([f | some f in receiver_fields; count(object.get(ag, ["properties", f], [])) > 0]) == 0
} else := ""

alert_action_group_ids(alert) := [g.actionGroupId |
	some g in object.get(alert, ["properties", "actions", "actionGroups"], [])
	is_string(object.get(g, "actionGroupId", null))
]

usable_action_groups(alert) := [id |
	some id in alert_action_group_ids(alert)
	action_group_problem(id) == ""
]

# alert_facts(alert): what does not depend on the vault (enabled, normalised
# scopes and conditions, filtering leaves, action groups). kvaudit evaluates
# `data.kvaudit.precompute.subscription_alert_facts` once per subscription
# and passes it in as `input.subscription.alertFacts`; without it the facts
# are computed here, with the same result.
#
# Keep this package free of expensive rules: a reference to any rule of
# `lib` (such as `lib.config`) makes regorus evaluate every rule of the
# package, for every vault. Expensive derived data belongs in functions or
# in its own package.
#
# (Two definitions rather than an `else`: regorus 0.14.1's VM gave
# undefined for the else branch here, inside the comprehension of a
# failing result's candidates; tests/differential.rs caught it.)
alert_facts(alert) := f if {
	f := data.kvaudit.alerting.facts[alert.id]
}

alert_facts(alert) := compute_alert_facts(alert) if {
	not data.kvaudit.alerting.facts[alert.id]
}

compute_alert_facts(alert) := {
	"enabled": enabled,
	"elements": elements,
	"scopes": [norm_id(sc) | some sc in object.get(alert, ["properties", "scopes"], [])],
	"filters": filters,
	"groups": ids,
	"groupProblems": group_problems,
	"usable": usable,
	# live: the alert can notify someone at all (enabled, unfiltered, a usable group).
	"live": live_flag(enabled, filters, usable),
	# matches[operation]: the elements that do not depend on the vault hold
	# for that operation's event template; residual: the elements that do.
	"matches": {op: every_element_holds(independent, template) | some op, template in data.kvaudit.events.templates},
	"residual": [el | some el in elements; vault_dependent(el)],
	# For the failing message, what does not depend on the vault:
	# unmatched[operation] = [[index, text]] of the elements the operation's
	# event template does not satisfy; the first problem after the scope.
	"unmatched": {op: [[i, element_text(alert_elements(alert)[i])] |
		some i, el in elements
		not vault_dependent(el)
		not normalised_satisfied(el, template)
	] |
		some op, template in data.kvaudit.events.templates
	},
	"filterProblem": filter_problem(filters),
	"groupProblem": group_problem(ids, usable, group_problems),
} if {
	ids := alert_action_group_ids(alert)
	enabled := object.get(alert, ["properties", "enabled"], true) == true
	elements := [normalised_element(el) | some el in alert_elements(alert)]
	independent := [el | some el in elements; not vault_dependent(el)]
	filters := sort({leaf.field | some leaf in alert_leaves(alert); leaf_field(leaf) in filter_fields})
	group_problems := [sprintf("%v %v", [id, p]) | some id in ids; p := action_group_problem(id); p != ""]
	usable := count(ids) - count(group_problems)
}

live_flag(enabled, filters, usable) := true if {
	enabled
	count(filters) == 0
	usable > 0
} else := false

vault_fields := {"resourcegroup", "resourceid"}

vault_dependent(el) if {
	some alt in el
	alt.field in vault_fields
}

# (Written with a count, not `every`: regorus 0.14.1's VM evaluates an
# `every` in an else-chained function as true when it is false.)
every_element_holds(elements, event) := true if {
	count([el | some el in elements; not normalised_satisfied(el, event)]) == 0
} else := false

# fact_matches(f, event): the alert (by its facts) matches the event. Known
# operations use the precomputed answer plus the vault-dependent elements;
# others are matched element by element.
fact_matches(f, event) if {
	f.matches[event.operationname] == true
	f.residual == []
}

fact_matches(f, event) if {
	f.matches[event.operationname] == true
	f.residual != []
	every_element_holds(f.residual, event)
}

fact_matches(f, event) if {
	not f.matches[event.operationname]
	not data.kvaudit.events.templates[event.operationname]
	event_matches(f, event)
}

# normalised_element(el) is an allOf element as a list of alternatives
# {field, values}: one for a leaf, one per leaf of an anyOf. Values are lower
# case (ids normalised), so matching an event is a set lookup. A leaf without
# equals/containsAny, or an anyOf nested in an anyOf, can never match.
normalised_element(el) := [normalised_leaf(leaf) | some leaf in el.anyOf] if {
	is_array(object.get(el, "anyOf", null))
} else := [normalised_leaf(el)]

normalised_leaf(leaf) := {"field": "", "values": set()} if {
	is_array(object.get(leaf, "anyOf", null))
} else := {"field": f, "values": {leaf_value(f, leaf.equals)}} if {
	f := leaf_field(leaf)
	is_string(object.get(leaf, "equals", null))
} else := {"field": f, "values": {leaf_value(f, v) | some v in leaf.containsAny; is_string(v)}} if {
	f := leaf_field(leaf)
	is_array(object.get(leaf, "containsAny", null))
} else := {"field": "", "values": set()}

leaf_value("resourceid", v) := norm_id(v)

leaf_value(f, v) := lower(trim_space(v)) if f != "resourceid"

normalised_satisfied(el, event) if {
	some alt in el
	event[alt.field] in alt.values
}

# scope_covers(scopes, target): a normalised scope equals the normalised
# target or is a whole-segment prefix of it.
scope_covers(scopes, target) if target in scopes

scope_covers(scopes, target) if {
	some sc in scopes
	startswith(target, concat("", [sc, "/"]))
}

# covering_scopes(id) is the set of normalised scopes an activity-log alert
# can have that cover a resource: its subscription, its resource group and
# the resource itself (alerts cannot be scoped to anything else).
covering_scopes(id) := {concat("/", array.slice(parts, 0, 3)), concat("/", array.slice(parts, 0, 5)), n} if {
	n := norm_id(id)
	parts := split(n, "/")
}

# alert_index_of(alerts, facts) indexes a subscription's alerts by position
# (their place in the list): facts[i] are the facts of alert i; byScope
# [normalised scope] lists the alerts with that scope and liveByScope the
# live ones among them; byOperation[lower-case operation] lists those whose
# vault-independent conditions match that operation's event
# (data.kvaudit.events.templates). A vault then looks up its three possible
# covering scopes instead of reading every alert.
alert_index_of(alerts, facts) := {
	"facts": [facts[a.id] | some a in alerts],
	"byScope": grouped(scoped),
	"liveByScope": grouped([pair | some pair in scoped; facts[alerts[pair[1]].id].live]),
	"byOperation": by_operation,
	# byOperationSet: the same positions as sets, for membership tests.
	"byOperationSet": {op: {i | some i in listed} | some op, listed in by_operation},
	# matchCount["op1|op2"]: how many alerts match at least one of the
	# (sorted, lower-case) operations, for every one or two template
	# operations: a failing vault counts its unexamined alerts without
	# reading them.
	"matchCount": {concat("|", ops): count({i | some op in ops; some i in by_operation[op]}) |
		some a, _ in data.kvaudit.events.templates
		some b, _ in data.kvaudit.events.templates
		a <= b
		ops := sort({a, b})
	},
	# "scope operation": the live alerts with that scope whose whole
	# condition matches that operation on any resource under the scope.
	"coverBy": grouped([[concat(" ", [pair[0], op]), pair[1]] |
		some pair in scoped
		f := facts[alerts[pair[1]].id]
		f.live
		f.residual == []
		some op, matched in f.matches
		matched == true
	]),
	# The live alerts whose condition names a resource group or resource:
	# matched per target.
	"residualLiveByScope": grouped([pair | some pair in scoped; f := facts[alerts[pair[1]].id]; f.live; f.residual != []]),
	# byResourceId[normalised id]: the alerts (live or not) whose condition
	# names that resource id: they judge it unlike its neighbours.
	"byResourceId": grouped([pair | some pair in {[v, i] |
		some i, a in alerts
		some el in facts[a.id].elements
		some alt in el
		alt.field == "resourceid"
		some v in alt.values
	}]),
} if {
	scoped := [[sc, i] | some i, a in alerts; some sc in {x | some x in facts[a.id].scopes}]
	by_operation := {op: [i | some i, a in alerts; facts[a.id].matches[op] == true] |
		some op, _ in data.kvaudit.events.templates
	}
}

# grouped(pairs): {key: [values]} of [key, value] pairs, in one sort.
grouped(pairs) := {entry[0]: entry[1] | some entry in group_by_key([p[1] | some p in pairs], [p[0] | some p in pairs])}

# live_alerts(alerts, target) pairs each alert that could notify anyone about
# `target` with its facts: enabled, no filtering leaf, a usable action group
# and a scope that covers the target. Rules call it once per vault, then
# test each event with `event_matches`.
live_alerts(alerts, target) := [[a.name, f] |
	scopes := covering_scopes(target)
	some a in alerts
	f := alert_facts(a)
	f.live
	count([sc | some sc in f.scopes; sc in scopes]) > 0
]

# event_matches(f, event): every allOf element of the alert (in its facts)
# is satisfied by the event.
event_matches(f, event) if {
	every el in f.elements {
		some alt in el
		event[alt.field] in alt.values
	}
}

# alert_covers(alert, event, target) holds when alert_problem would be "".
alert_covers(alert, event, target) if {
	some pair in live_alerts([alert], target)
	fact_matches(pair[1], event)
}

# alert_problem(alert, event, target) is "" when the alert notifies someone
# of `event` on the resource `target` (an ARM id the scope must cover), else
# the first reason it does not.
alert_problem(alert, event, target) := problem if {
	f := alert_facts(alert)
	problem := facts_problem(alert, f, event, norm_id(target))
}

facts_problem(alert, f, event, target) := "is disabled" if {
	not f.enabled
} else := sprintf("is scoped elsewhere (%v)", [concat(", ", [str(sc) | some sc in object.get(alert, ["properties", "scopes"], [])])]) if {
	not scope_covers(f.scopes, target)
} else := f.filterProblem if {
	f.filterProblem != ""
} else := sprintf("its condition %v does not match %v", [concat(", ", [pair[1] | some pair in unmatched]), event.operationname]) if {
	unmatched := unmatched_elements(alert, f, event)
	count(unmatched) > 0
} else := f.groupProblem

# unmatched_elements: [index, text] of the condition's elements the event
# does not satisfy, in condition order; the vault-independent ones come from
# the facts when the event is a known template.
unmatched_elements(alert, f, event) := sort(array.concat(f.unmatched[event.operationname], [[i, element_text(alert_elements(alert)[i])] |
	some i, el in f.elements
	vault_dependent(el)
	not normalised_satisfied(el, event)
])) if {
	f.unmatched[event.operationname]
} else := [[i, element_text(alert_elements(alert)[i])] |
	some i, el in f.elements
	not normalised_satisfied(el, event)
]

filter_problem(filters) := sprintf("filters events out on %v", [concat(", ", filters)]) if count(filters) > 0

else := ""

group_problem(ids, usable, problems) := "names no action group" if {
	count(ids) == 0
} else := sprintf("names no usable action group (%v)", [concat("; ", problems)]) if {
	usable == 0
} else := ""

# ---------------------------------------------------------------------------
# Alert rules: the verdicts every built-in alert rule gives
# ---------------------------------------------------------------------------

# alert_results(operations, events, target) is the `results` of an alert
# rule: each operation (an activity-log operationName) must be covered, for
# its event events[op] (lower-case fields, see data.kvaudit.events), by a
# live alert whose scope covers `target` (the ARM id the scope must equal or
# be a prefix of: the vault, or the subscription for events that carry no
# resource group).
alert_results(operations, events, target) := {r} if {
	input.subscription.activityLogAlerts.status != "ok"
	r := {
		"status": "not_evaluable",
		"message": sprintf("activity-log alerts of subscription %v %v", [input.subscription.subscriptionId, unread_text(input.subscription.activityLogAlerts)]),
	}
} else := coverage_results(operations, events, target, alert_coverage(operations, events, target))

# alert_coverage: operation -> names of the alerts that cover it.
alert_coverage(operations, events, target) := {op: [data.kvaudit.alerting.alerts[i].name | some i in data.kvaudit.alerting.covering(target, events[op])] |
	some op in operations
}

# (Written with a count, not `every`: regorus 0.14.1's VM evaluates this
# `every` in an else-chained function as true when it is false.)
coverage_results(operations, events, target, coverage) := {r} if {
	count([op | some op in operations; count(coverage[op]) == 0]) == 0
	r := {
		"status": "pass",
		"message": concat("; ", [sprintf("%v is alerted by %v", [op, concat(", ", coverage[op])]) | some op in operations]),
		"evidence": {"coverage": coverage},
	}
} else := {r} if {
	# Action groups we could not read may be the ones that would have covered.
	input.actionGroups.status != "ok"
	uncovered := [op | some op in operations; count(coverage[op]) == 0]
	r := {
		"status": "not_evaluable",
		"message": sprintf("%v not covered by a usable alert, but action groups could not be read: %v", [concat(" and ", uncovered), error_text(input.actionGroups)]),
		"evidence": {"uncovered": uncovered, "candidates": examined(uncovered, events, target).candidates},
	}
} else := {r} if {
	uncovered := [op | some op in operations; count(coverage[op]) == 0]
	seen := examined(uncovered, events, target)
	r := {
		"status": "fail",
		"message": sprintf("no usable activity-log alert covers %v%v%v", [concat(" and ", uncovered), near_misses(seen.candidates), unexamined_text(seen.notExamined)]),
		"evidence": {
			"uncovered": uncovered,
			"candidates": seen.candidates,
			"alerts": count(data.kvaudit.alerting.alerts),
			"notExamined": seen.notExamined,
		},
	}
}

# examined(uncovered, events, target): the candidates of a failing result,
# nearest first: why each of the alerts nearest to covering the uncovered
# operations does not (data.kvaudit.alerting.ranked: in scope, or matching
# an operation elsewhere; at most max_examined), and how many such alerts
# were not examined. Alerts that are neither are not looked at.
examined(uncovered, events, target) := {
	"candidates": [candidate(data.kvaudit.alerting.alerts[p[1]], p[0], uncovered, events, target) |
		some j, p in ranked
		j < data.kvaudit.alerting.max_examined
	],
	"notExamined": max([0, data.kvaudit.alerting.ranked_total(uncovered, target) - data.kvaudit.alerting.max_examined]),
} if {
	ranked := data.kvaudit.alerting.ranked(uncovered, target)
}

# candidate: one examined alert with its rank (see data.kvaudit.alerting.ranked)
# and its first problem per uncovered operation.
candidate(a, rank, uncovered, events, target) := {
	"alert": a.name,
	"id": a.id,
	"rank": rank,
	"reasons": {op: alert_problem(a, events[op], target) | some op in uncovered},
}

# near_misses(candidates) ends the failing message: the first three
# candidates (they come nearest first), each with its first reason per
# operation; the rest are counted and left to the evidence.
max_near_misses := 3

near_misses(candidates) := " (the subscription has no activity-log alerts)" if {
	count(candidates) == 0
	count(data.kvaudit.alerting.alerts) == 0
} else := sprintf(" (none of the subscription's %v activity-log alerts is scoped to it or matches the operation)", [count(data.kvaudit.alerting.alerts)]) if {
	count(candidates) == 0
} else := sprintf(": %v%v", [concat("; ", [near_miss_text(c) | some c in shown]), more_text(count(candidates) - count(shown))]) if {
	shown := array.slice(candidates, 0, max_near_misses)
}

near_miss_text(c) := sprintf("'%v' %v", [c.alert, concat(", ", {p | some p in c.reasons})])

more_text(0) := ""

more_text(n) := sprintf("; %v more in the evidence", [n]) if n > 0

unexamined_text(0) := ""

unexamined_text(n) := sprintf(" (%v further alert(s) in scope or for these operations not examined)", [n]) if n > 0

# vault_event(op, vault_id) is the event of operation op on the vault itself
# (resourceId = the vault): kv/admin-alert.
vault_event(op, vault_id) := object.union(data.kvaudit.events.templates[lower(op)], {
	"resourcegroup": resource_group(vault_id),
	"resourceid": norm_id(vault_id),
})

# child_event(op, vault_id) is the event of an operation on something under
# the vault whose id ends in segments not known in advance (an access policy
# kind, a diagnostic setting's name): a resourceId leaf cannot match it.
child_event(op, vault_id) := object.union(data.kvaudit.events.templates[lower(op)], {
	"resourcegroup": resource_group(vault_id),
})

# ---------------------------------------------------------------------------
# Keys and secrets (management plane lists)
# ---------------------------------------------------------------------------

# item_enabled(item): `attributes.enabled` defaults to true.
item_enabled(item) if object.get(item, ["properties", "attributes", "enabled"], true) != false

# not_listed_reason(c, what) says why a keys or secrets list cannot be judged;
# undefined when it was read.
not_listed_reason(c, what) := sprintf("the vault's %v could not be listed through the management plane (%v)", [what, error_text(c)]) if {
	c.status == "error"
} else := sprintf("the vault's %v were not collected (%v)", [what, object.get(c, "reason", "not in the inventory")]) if {
	c.status != "ok"
}

# permission_model names the vault's model, for the CIS control split
# (RBAC vaults and access-policy vaults have separate ids).
permission_model := "rbac" if object.get(input.vault, ["properties", "enableRbacAuthorization"], null) == true

else := "accessPolicies"
