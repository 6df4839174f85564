#!/usr/bin/env bash
# Installs the two KQL engines that tests/kql uses into $KVAUDIT_TOOLS (default ~/.cache/kvaudit-tools),
# idempotently (nothing is downloaded when the pinned versions are already there):
#   - duckdb-kql[duckdb], pinned in tests/kql/requirements.txt, into $KVAUDIT_TOOLS/venv (PyPI);
#   - @kusto/language-service-next, pinned in tests/kql/package.json, into $KVAUDIT_TOOLS/node_modules (npm).
# Prints two eval-able lines on stdout (progress goes to stderr):
#   KVAUDIT_KQL_PYTHON=<python of the venv>      runs tests/kql/engine.py and tests/kql/check.py
#   KVAUDIT_KQL_NODE_MODULES=<node_modules dir>   read by tests/kql/validate.js
# Usage: eval "$(bash scripts/kql-tools.sh)"
set -euo pipefail
cd "$(dirname "$0")/.."
tools=${KVAUDIT_TOOLS:-$HOME/.cache/kvaudit-tools}
mkdir -p "$tools"
say() { printf 'kql-tools: %s\n' "$*" >&2; }

# --- duckdb-kql (PyPI) ------------------------------------------------------------------------------
py=$tools/venv/bin/python
want_kql=$(sed -n 's/^duckdb-kql\[duckdb\]==\([^ ]*\).*/\1/p' tests/kql/requirements.txt)
[[ -n $want_kql ]] || { say "no duckdb-kql pin in tests/kql/requirements.txt"; exit 1; }
if [[ ! -x $py ]]; then
  say "creating $tools/venv"
  python3 -m venv "$tools/venv"
fi
have_kql() {
  "$py" - "$want_kql" <<'PY' 2>/dev/null
import importlib.metadata as m, sys
sys.exit(0 if m.version("duckdb-kql") == sys.argv[1] and m.version("duckdb") else 1)
PY
}
if ! have_kql; then
  say "installing duckdb-kql[duckdb]==$want_kql"
  "$py" -m pip install -q --disable-pip-version-check -r tests/kql/requirements.txt >&2
  have_kql || { say "duckdb-kql $want_kql did not install"; exit 1; }
fi
"$py" -c 'import duckdb_kql, duckdb' || { say "duckdb-kql does not import"; exit 1; }

# --- Kusto language service (npm) -------------------------------------------------------------------
if ! command -v npm >/dev/null; then
  say "installing nodejs and npm (apt)"
  { apt-get update -qq && apt-get install -y -qq nodejs npm; } >&2
fi
want_ls=$(node -p "require('./tests/kql/package.json').dependencies['@kusto/language-service-next']")
ls_pkg=$tools/node_modules/@kusto/language-service-next
have_ls() {
  [[ -f $ls_pkg/Kusto.Language.Bridge.min.js ]] &&
    [[ $(node -p "require('$ls_pkg/package.json').version" 2>/dev/null) == "$want_ls" ]]
}
if ! have_ls; then
  say "installing @kusto/language-service-next@$want_ls"
  # Saved (exactly) in $tools/package.json: a later `npm install` there must not prune it.
  (cd "$tools" && { [[ -f package.json ]] || npm init -y >/dev/null; } &&
    npm install --no-audit --no-fund -q --save-exact "@kusto/language-service-next@$want_ls" >&2)
  have_ls || { say "@kusto/language-service-next $want_ls did not install"; exit 1; }
fi

echo "KVAUDIT_KQL_PYTHON=$py"
echo "KVAUDIT_KQL_NODE_MODULES=$tools/node_modules"
