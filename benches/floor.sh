#!/usr/bin/env bash
# What `kvaudit eval` costs before any rule does any work (see benches/README.md, "The floor").
#   bash benches/floor.sh [INVENTORY] [KVAUDIT_BINARY]
# Evaluates as many rules as kvaudit has built in (18), each of which returns
# one constant passing result and reads nothing but the vault, on an
# inventory (default: 10,000 vaults at Azure's limits, generated once), 3
# runs, and prints each run's phases from the debug log and its wall time and
# peak memory. What remains of a time target after this floor is what the
# rules' own work may cost.
set -euo pipefail
cd "$(dirname "$0")/.."
inv=${1:-}
bin=${2:-}
work=${TMPDIR:-/tmp}/kvaudit-floor
mkdir -p "$work/policies"
if [[ -z $bin ]]; then
  cargo build --release --quiet --bin kvaudit
  bin=target/release/kvaudit
fi
if [[ -z $inv ]]; then
  inv=$work/lim-10k.json
  if [[ ! -f $inv ]]; then
    cargo build --release --quiet --example gen-inventory
    target/release/examples/gen-inventory --vaults 10000 --subscriptions 10 --limits --out "$inv"
  fi
fi
rm -f "$work"/policies/*.rego
for i in $(seq 1 18); do
  cat >"$work/policies/r$i.rego" <<REGO
package kvaudit.floor.r$i

metadata := {
	"id": "floor/r$i",
	"title": "Constant rule $i",
	"description": "Returns one passing result and reads nothing but the vault.",
	"severity": "low",
	"scope": "vault",
	"help": "A benchmark rule.",
	"markdown": "A benchmark rule.",
	"inputs": [],
}

results contains r if {
	r := {"status": "pass", "message": "constant"}
}
REGO
done
for run in 1 2 3; do
  KVAUDIT_LOG=kvaudit=debug /usr/bin/time -f "wall %e s, %U s user, peak %M KB" \
    "$bin" eval "$inv" --no-builtin --policy "$work/policies" --format sarif --output "$work/out.sarif" 2>&1 >/dev/null |
    grep -E 'loaded|evaluated in|sorted|written|wall' | sed -E 's/^.*Z +(INFO|DEBUG) //' | tr '\n' ';' |
    sed "s/^/run $run: /"
  echo
done
