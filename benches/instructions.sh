#!/usr/bin/env bash
# Instruction counts of `kvaudit eval` (see benches/README.md, "The noisy vault").
#   bash benches/instructions.sh [KVAUDIT_BINARY]
# Wall time on a shared 2-core host drifts by up to 50 % within minutes;
# instruction counts do not, so they compare two builds' evaluation cost
# exactly. valgrind's callgrind counts every instruction the process runs
# (Ir) and each function's share; this prints, per case, the whole run, the
# rules in regorus' VM (`Worker::run`) and the building of the vaults'
# inputs (`InputBuilder::vault_input`). Cases: 1,000 vaults at Azure's
# limits with every rule and with the mission's four, and 4 noisy vaults
# (1,000 failing IPs and 1,000 refused identities each) with the two
# request rules. About 3 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { apt-get update -qq && apt-get install -y -qq valgrind; }
bin=${1:-}
if [[ -z $bin ]]; then
  cargo build --release --quiet --bin kvaudit --example gen-inventory
  bin=target/release/kvaudit
else
  cargo build --release --quiet --example gen-inventory
fi
work=${TMPDIR:-/tmp}/kvaudit-instructions
mkdir -p "$work"
lim=$work/lim-1k.json
[[ -f $lim ]] || target/release/examples/gen-inventory --vaults 1000 --subscriptions 1 --limits --out "$lim"
noisy=$work/noisy4.json
[[ -f $noisy ]] || python3 - "$lim" "$noisy" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
# The generator's noisy vault: the one with the most failing callers.
v = max(d["vaults"], key=lambda v: len((v.get("auditLogs") or {}).get("unauthorized") or []))
name, text = v["vault"]["name"], json.dumps(v)
d["vaults"] = [json.loads(text.replace(name, f"kv-noisy-{i}")) for i in range(4)]
json.dump(d, open(sys.argv[2], "w"))
PY
mission=(--rule kv/audit-logging --rule kv/admin-alert --rule 'kv/*-requests')
count() {
  local label=$1 inv=$2
  shift 2
  valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" \
    "$bin" eval "$inv" --format json --output "$work/out.json" "$@" >/dev/null 2>&1 || true
  callgrind_annotate --inclusive=yes "$work/cg.out" 2>/dev/null | python3 -c '
import re, sys
label = sys.argv[1]
want = {"PROGRAM TOTALS": "run", "Worker::run": "VM", "InputBuilder::vault_input": "inputs"}
got = {}
for line in sys.stdin:
    m = re.match(r"\s*([\d,]+) ", line)
    if not m:
        continue
    for key, name in want.items():
        if key in line and name not in got:
            got[name] = int(m.group(1).replace(",", "")) / 1e6
print(f"{label:37s}" + "  ".join(f"{n} {got.get(n, 0):8.0f} M" for n in ("run", "VM", "inputs")))
' "$label"
}
count "1,000 vaults at the limits, all" "$lim"
count "1,000 vaults at the limits, mission" "$lim" "${mission[@]}"
count "4 noisy vaults, request rules" "$noisy" --rule 'kv/*-requests'
