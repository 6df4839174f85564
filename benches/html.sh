#!/usr/bin/env bash
# How long Debian's chromium takes to open the HTML report of a 2,000-vault
# tenant (4 subscriptions), headless, from start to the loaded DOM, against
# an empty page (the browser's own start-up). Needs chromium (apt) and GNU time.
#   bash benches/html.sh [RUNS]     # default 5
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
cargo build --release --quiet --bin kvaudit --example gen-inventory
work=${TMPDIR:-/tmp}/kvaudit-bench-html
mkdir -p "$work"
[[ -f $work/inv.json ]] || target/release/examples/gen-inventory --vaults 2000 --subscriptions 4 --out "$work/inv.json"
target/release/kvaudit eval "$work/inv.json" --format html --output "$work/report.html" || [[ $? == 1 ]]
echo '<!DOCTYPE html><html><body>empty</body></html>' >"$work/empty.html"
echo "report: $(stat -c %s "$work/report.html") bytes"
for page in empty report; do
  : >"$work/times-$page"
  for i in $(seq "$runs"); do
    /usr/bin/time -f "%e" -a -o "$work/times-$page" chromium --headless --no-sandbox --disable-gpu \
      --no-first-run --disable-background-networking --user-data-dir="$work/profile-$page-$i" \
      --dump-dom "file://$work/$page.html" >/dev/null 2>&1
  done
  sort -n "$work/times-$page" | awk -v p="$page" '{a[NR]=$1} END {printf "%s: min %.2f s, median %.2f s (%d runs)\n", p, a[1], a[int((NR+1)/2)], NR}'
done
