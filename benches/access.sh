#!/usr/bin/env bash
# Benchmark of `kvaudit access` (callers view) on a large answer (see benches/README.md):
# duckdb-kql runs the real callers query once over 1,000,000 seeded AZKVAuditLogs rows for
# 200 vaults (tests/kql/seed_million.py), and the fake Azure then serves that answer
# (~10,000 rows) to kvaudit, so kvaudit's own time and memory are measured without the engine's.
#   bash benches/access.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
[[ -x /usr/bin/time ]] || { apt-get update -qq && apt-get install -y -qq time; }
eval "$(bash scripts/kql-tools.sh)"
cargo build --release --quiet --bin kvaudit --example gen-inventory --example fake-azure
work=${TMPDIR:-/tmp}/kvaudit-access-bench
mkdir -p "$work"
[[ -f $work/callers-response.json ]] || "$KVAUDIT_KQL_PYTHON" tests/kql/seed_million.py --out "$work/callers-response.json"
target/release/examples/gen-inventory --vaults 200 --subscriptions 1 --out "$work/tenant.json"
export PATH=$PWD/tests/support/bin:$PATH
target/release/examples/fake-azure --tenant "$work/tenant.json" --canned-query "$work/callers-response.json" >"$work/url" 2>/dev/null &
fake=$!
trap 'kill -INT $fake 2>/dev/null || true' EXIT
for _ in $(seq 50); do [[ -s $work/url ]] && break; sleep 0.1; done
url=$(cat "$work/url")
: >"$work/times"
for _ in $(seq "$runs"); do
  /usr/bin/time -f "%e %M" -a -o "$work/times" target/release/kvaudit access --auth cli \
    --arm-endpoint "$url" --log-analytics-endpoint "$url" --format json --output "$work/out.json"
done
python3 - "$work" <<'PY'
import json, statistics, sys
work = sys.argv[1]
rows = [list(map(float, l.split())) for l in open(f"{work}/times") if l.strip() and l[0].isdigit()]
wall = sorted(r[0] for r in rows); rss = max(r[1] for r in rows) / 1024
n = len(json.load(open(f"{work}/out.json"))["callers"])
print(f"access callers: {n} result rows, wall min {wall[0]*1000:.0f} ms, median {statistics.median(wall)*1000:.0f} ms, "
      f"peak RSS {rss:.0f} MB ({len(rows)} runs; includes process start, 200 settings GETs and the token)")
PY
