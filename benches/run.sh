#!/usr/bin/env bash
# Benchmark of `kvaudit eval` on synthetic inventories (see benches/README.md).
#   bash benches/run.sh [RUNS]        # default 5 runs per size
# Prints, per size, the fastest and median wall time, CPU time and peak RSS of
# `kvaudit eval INVENTORY --format sarif --output FILE` (release build), once
# with every built-in rule and once with the mission's four rules
# (audit-logging, admin-alert, unauthorized- and forbidden-requests).
# Needs GNU time (/usr/bin/time; Debian package `time`).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
[[ -x /usr/bin/time ]] || { apt-get update -qq && apt-get install -y -qq time; }
cargo build --release --quiet --bin kvaudit --example gen-inventory
work=${TMPDIR:-/tmp}/kvaudit-bench
mkdir -p "$work"
mission=(--rule kv/audit-logging --rule kv/admin-alert --rule 'kv/*-requests')
for n in 10000 100000 limits; do
  inv=$work/inv-$n.json
  if [[ $n == limits ]]; then
    [[ -f $inv ]] || target/release/examples/gen-inventory --vaults 10000 --subscriptions 10 --limits --out "$inv"
  else
    [[ -f $inv ]] || target/release/examples/gen-inventory --vaults "$n" --out "$inv"
  fi
  for set in all mission; do
    if [[ $set == all ]]; then args=(); else args=("${mission[@]}"); fi
    : >"$work/times-$n-$set"
    for _ in $(seq "$runs"); do
      /usr/bin/time -f "%e %U %S %M" -a -o "$work/times-$n-$set" \
        target/release/kvaudit eval "$inv" --format sarif --output "$work/out.sarif" "${args[@]}" >/dev/null 2>&1 || true
    done
    python3 - "$n" "$work/times-$n-$set" "$(stat -c %s "$inv")" "$set" <<'PY'
import statistics, sys
n, path, size, label = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
n = "10000 at the limits," if n == "limits" else f"{int(n):>7}"
rows = [list(map(float, l.split())) for l in open(path) if l.strip() and l[0].isdigit()]
wall = sorted(r[0] for r in rows); cpu = [r[1] + r[2] for r in rows]; rss = max(r[3] for r in rows) / 1024
print(f"{n} vaults ({size/1e6:.0f} MB), {label:7s} rules: wall min {wall[0]:.2f} s, median {statistics.median(wall):.2f} s; "
      f"CPU median {statistics.median(cpu):.2f} s; peak RSS {rss:.0f} MB ({len(rows)} runs)")
PY
  done
done
