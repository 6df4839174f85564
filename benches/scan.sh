#!/usr/bin/env bash
# Benchmark of `kvaudit scan` against the fake Azure (see benches/README.md):
# 2,000 vaults over 4 subscriptions, 20 ms added to every request, first
# without throttling, then with ARM's per-subscription read bucket (250,
# refilled at 25/s) emulated. Prints requests, 429s, wall time, the bounds
# the issue sets, and peak RSS. Runs every rule (keys, secrets, key GETs,
# metrics, pricings, two queries per workspace), then the mission's four
# rules only (`mission`: one request per vault, as before the posture rules).
#   bash benches/scan.sh [VAULTS] [SUBSCRIPTIONS] [CONCURRENCY]
set -euo pipefail
cd "$(dirname "$0")/.."
vaults=${1:-2000}; subs=${2:-4}; conc=${3:-16}
[[ -x /usr/bin/time ]] || { apt-get update -qq && apt-get install -y -qq time; }
cargo build --release --quiet --bin kvaudit --example gen-inventory --example fake-azure
work=${TMPDIR:-/tmp}/kvaudit-scan-bench
mkdir -p "$work"
target/release/examples/gen-inventory --vaults "$vaults" --subscriptions "$subs" --out "$work/tenant.json"
export PATH=$PWD/tests/support/bin:$PATH
rules=()
run() {  # $1 label, rest: fake-azure args; kvaudit gets "${rules[@]}"
  local label=$1; shift
  target/release/examples/fake-azure --tenant "$work/tenant.json" --empty-workspaces --latency-ms 20 --page-size 100 "$@" \
    >"$work/url" 2>"$work/fake.log" &
  local fake=$!
  for _ in $(seq 600); do [[ -s $work/url ]] && break; sleep 0.1; done
  [[ -s $work/url ]] || { echo "the fake Azure did not start within 60 s: $(cat "$work/fake.log")" >&2; return 1; }
  local url; url=$(cat "$work/url")
  /usr/bin/time -f "%e %M" -o "$work/time" target/release/kvaudit -v scan --auth cli --concurrency "$conc" \
    --arm-endpoint "$url" --log-analytics-endpoint "$url" --format sarif --output "$work/out.sarif" \
    "${rules[@]}" 2>"$work/scan.log" || true
  kill -INT $fake; wait $fake 2>/dev/null || true
  python3 - "$label" "$work" "$conc" "$subs" <<'PY'
import re, sys
label, work, conc, subs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
wall, rss = open(f"{work}/time").read().split()[-2:]
wall, rss = float(wall), int(rss) / 1024
log = re.sub(r"\x1b\[[0-9;]*m", "", open(f"{work}/scan.log").read())
m = re.search(r"scan collected .*?requests=(\d+) retries=(\d+) throttled=(\d+)", log)
req, retries, throttled = map(int, m.groups())
evaluation = int(re.search(r"evaluated findings=\d+ ms=(\d+)", log).group(1)) / 1000
fake = open(f"{work}/fake.log").read().strip()
line = f"{label}: {req} requests ({retries} retries, {throttled} answered 429 = {100*throttled/req:.2f}%), wall {wall:.2f} s, peak RSS {rss:.0f} MB"
if label.startswith("unthrottled"):
    bound = 1.15 * (req * 0.020 / conc) + evaluation
    verdict = "met" if wall <= bound else "NOT met"
    line += f"; bound 1.15 x ({req} x 20 ms / {conc}) + evaluation {evaluation:.2f} s = {bound:.2f} s: {verdict}"
else:
    per_sub = req / subs
    minimum = max(0.0, (per_sub - 250) / 25)
    line += f"; bucket minimum ({per_sub:.0f} reads/subscription - 250) / 25/s = {minimum:.2f} s, x1.15 = {1.15*minimum:.2f} s"
    line += f"; 429s under 1 %: {'met' if throttled < req / 100 else 'NOT met'}"
print(line)
print(f"  fake: {fake}")
PY
}
run unthrottled
run throttled --bucket 250,25
rules=(--rule kv/audit-logging --rule kv/admin-alert --rule 'kv/*-requests')
run unthrottled-mission
run throttled-mission --bucket 250,25
