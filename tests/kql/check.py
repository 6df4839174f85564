#!/usr/bin/env python3
"""Check kvaudit's Log Analytics queries with both KQL engines.

    eval "$(bash scripts/kql-tools.sh)"
    "$KVAUDIT_KQL_PYTHON" tests/kql/check.py

1. Microsoft's Kusto language service (tests/kql/validate.js) analyses src/kql/audit_evidence.kql with
   zero errors, and infers exactly the result columns and types of tests/fixtures/audit/expected.json.
   Negative controls: broken variants of the query (a misspelt column, a flattened column without
   column_ifexists, a syntax error, a union without isfuzzy) must each be rejected.
2. duckdb-kql (tests/kql/engine.py) runs the query on each seeded workspace of expected.json; the result
   must equal the hand-computed rows exactly: same columns and types, same rows in the same order,
   same values (a dynamic cell must be a JSON-encoded string whose decoded value is the expected one).
   Negative controls: a different challenge window must change the result, and a broken query must make
   engine.py fail with a one-line message.
3. The four queries of `kvaudit access` (src/kql/access_callers.kql, access_failures.kql,
   access_events.kql, access_timeline.kql): validate.js analyses each with zero errors on every schema variant and infers the
   columns of tests/fixtures/audit/expected-access.json; broken variants (no isfuzzy, a flattened column
   without column_ifexists, CallerIpAddress in the AzureDiagnostics leg) are rejected. engine.py runs
   each case of expected-access.json (every seeded workspace; the events view with several filters,
   IP and CIDR filters as canonical prefixes among them) and must give the expected rows exactly.
   Controls: CHALLENGE_SECONDS=70 changes the callers result; BIN=3h changes the workspace-a timeline.
4. The AuditEvent volume query of `kvaudit scan` (src/kql/audit_volume.kql): validate.js analyses it with
   zero errors on every schema variant and infers exactly the columns of
   tests/fixtures/audit/expected-volume.json; broken variants (no isfuzzy, the misspelt column
   _ResourceID, Category in the AZKVAuditLogs leg, a syntax error) are rejected. engine.py runs each case
   of expected-volume.json (every seeded workspace over two windows) and must give the hand-computed rows
   exactly. Controls: START one second later changes the workspace-a result; VAULT_IDS in upper case
   gives the same workspace-c rows.

Run it with the Python of $KVAUDIT_TOOLS/venv (it runs engine.py with the same interpreter). Prints one
line per check and a closing "N passed, M failed"; exits 1 on any failure.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KQL_DIR = ROOT / "tests" / "kql"
FIXTURES = ROOT / "tests" / "fixtures" / "audit"
EXPECTED = FIXTURES / "expected.json"
EXPECTED_ACCESS = FIXTURES / "expected-access.json"
EXPECTED_VOLUME = FIXTURES / "expected-volume.json"

results: list[tuple[str, bool]] = []


def record(name: str, ok: bool, detail: str = "") -> None:
    results.append((name, ok))
    print(f"{'ok  ' if ok else 'FAIL'} {name}" + (f"\n     {detail}" if detail and not ok else ""))


def run(cmd: list[str], stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, input=stdin, capture_output=True, text=True, cwd=ROOT, timeout=300)


def node() -> str:
    return os.environ.get("NODE", "node")


# ---------------------------------------------------------------------------------------------------
# 1. Kusto language service


def validate(path: Path) -> subprocess.CompletedProcess:
    return run([node(), str(KQL_DIR / "validate.js"), str(path)])


def check_language_service(query_path: Path, columns: list[dict], tmp: Path) -> None:
    proc = validate(query_path)
    out = proc.stdout + proc.stderr
    record(f"validate.js: {query_path.relative_to(ROOT)} has no error", proc.returncode == 0 and "ok: " in out,
           out.strip())
    want = ", ".join(f"{c['name']}:{c['type']}" for c in columns)
    schema = [line.split(": ", 2)[2] for line in proc.stdout.splitlines() if line.startswith("schema: ")]
    record("validate.js: inferred result schema equals expected.json columns", schema == [want],
           f"inferred {schema}, expected [{want!r}]")

    query = query_path.read_text()
    broken = {
        "CallerIpAddress in the AzureDiagnostics leg (it is CallerIPAddress there)":
            ("ip = tostring(CallerIPAddress)", "ip = tostring(CallerIpAddress)"),
        "a flattened column without column_ifexists":
            ('tostring(column_ifexists("identity_claim_upn_s", ""))', "tostring(identity_claim_upn_s)"),
        "a syntax error": ("| where status == 403 and", "| wher status == 403 and"),
        "a union without isfuzzy=true": ("union isfuzzy=true", "union"),
    }
    for label, (old, new) in broken.items():
        if old not in query:
            record(f"validate.js rejects {label}", False, f"the query no longer contains {old!r}")
            continue
        bad = tmp / "broken.kql"
        bad.write_text(query.replace(old, new, 1))
        proc = validate(bad)
        record(f"validate.js rejects {label}", proc.returncode == 1 and "Error" in proc.stdout,
               f"exit {proc.returncode}: {(proc.stdout + proc.stderr).strip()[:400]}")


# ---------------------------------------------------------------------------------------------------
# 2. duckdb-kql


def engine(tables: Path, query_path: Path, params: dict[str, str]) -> subprocess.CompletedProcess:
    cmd = [sys.executable, str(KQL_DIR / "engine.py"), "--tables", str(tables), "--query", str(query_path)]
    for name, value in params.items():
        cmd += ["--set", f"{name}={value}"]
    return run(cmd)


def compare(result: dict, columns: list[dict], rows: list[dict]) -> list[str]:
    """Differences between an engine response and the expected columns/rows (empty when equal)."""
    diffs: list[str] = []
    tables = result.get("tables")
    if not isinstance(tables, list) or len(tables) != 1 or tables[0].get("name") != "PrimaryResult":
        return [f"expected one PrimaryResult table, got {str(tables)[:200]}"]
    table = tables[0]
    if table.get("columns") != columns:
        diffs.append(f"columns differ:\n       got      {table.get('columns')}\n       expected {columns}")
        return diffs
    got_rows = table.get("rows", [])
    if len(got_rows) != len(rows):
        diffs.append(f"{len(got_rows)} rows, expected {len(rows)}")
    for i, (got, want) in enumerate(zip(got_rows, rows)):
        if len(got) != len(columns):
            diffs.append(f"row {i}: {len(got)} cells, expected {len(columns)}")
            continue
        for col, value in zip(columns, got):
            name, kind = col["name"], col["type"]
            expected = want.get(name)
            if kind == "dynamic" and value is not None:
                if not isinstance(value, str):
                    diffs.append(f"row {i} {name}: dynamic must be a JSON-encoded string, got {value!r}")
                    continue
                value = json.loads(value)
            if kind in ("long", "int") and value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                diffs.append(f"row {i} {name}: {value!r} is not a JSON integer")
            if value != expected:
                what = " ".join(str(want[k]) for k in ("kind", "time", "operation", "callerIp") if k in want)
                diffs.append(f"row {i} ({what}) {name}: got {value!r}, expected {expected!r}")
        extra = set(want) - {c["name"] for c in columns}
        if extra:
            diffs.append(f"expected row {i} has unknown keys {sorted(extra)}")
    for i in range(len(rows), len(got_rows)):
        diffs.append(f"unexpected row {i}: {got_rows[i]}")
    return diffs


def check_engine(query_path: Path, expected: dict, tmp: Path) -> None:
    base = dict(expected["parameters"])
    columns = expected["columns"]
    for name, ws in expected["workspaces"].items():
        params = dict(base, VAULT_IDS=f"dynamic({json.dumps(ws['vaults'])})")
        proc = engine(FIXTURES / name, query_path, params)
        label = f"engine.py: {name} gives the {len(ws['rows'])} expected rows"
        if proc.returncode != 0:
            record(label, False, f"exit {proc.returncode}: {proc.stderr.strip()}")
            continue
        try:
            result = json.loads(proc.stdout)
        except ValueError as exc:
            record(label, False, f"output is not JSON: {exc}")
            continue
        diffs = compare(result, columns, ws["rows"])
        record(label, not diffs, "\n     ".join(diffs[:40]))

    # Negative control: a 70 s window makes the 401 answered after 61 s a challenge.
    name = "workspace-a.json"
    ws = expected["workspaces"][name]
    params = dict(base, VAULT_IDS=f"dynamic({json.dumps(ws['vaults'])})", CHALLENGE_SECONDS="70")
    proc = engine(FIXTURES / name, query_path, params)
    differs = proc.returncode == 0 and bool(compare(json.loads(proc.stdout), columns, ws["rows"]))
    record("control: CHALLENGE_SECONDS=70 changes the workspace-a result", differs,
           f"exit {proc.returncode}: {proc.stderr.strip()}")

    # Negative control: a broken query fails with one line on stderr.
    bad = tmp / "bad.kql"
    bad.write_text("AZKVAuditLogs | wher HttpStatusCode == 401")
    proc = engine(FIXTURES / name, bad, {})
    record("control: engine.py fails on a broken query with a one-line message",
           proc.returncode != 0 and proc.stdout == "" and len(proc.stderr.strip().splitlines()) == 1,
           f"exit {proc.returncode}, stderr {proc.stderr!r}")


# ---------------------------------------------------------------------------------------------------
# 3. kvaudit access: callers, failures, events, timeline

# Broken variants; each applies to the queries that contain its text (at least two per query).
ACCESS_BROKEN = {
    "a union without isfuzzy=true": ("union isfuzzy=true", "union"),
    "a flattened column without column_ifexists (identity_claim_upn_s)":
        ('tostring(column_ifexists("identity_claim_upn_s", ""))', "tostring(identity_claim_upn_s)"),
    "a flattened column without column_ifexists (requestUri_s)":
        ('tostring(column_ifexists("requestUri_s", ""))', "tostring(requestUri_s)"),
    "CallerIpAddress in the AzureDiagnostics leg (it is CallerIPAddress there)":
        ("= tostring(CallerIPAddress)", "= tostring(CallerIpAddress)"),
    "a flattened column without column_ifexists (httpStatusCode_d)":
        ('toint(column_ifexists("httpStatusCode_d", real(null)))', "toint(httpStatusCode_d)"),
}


def check_access_language_service(expected: dict, tmp: Path) -> None:
    for view_name, view in expected["views"].items():
        query_path = ROOT / view["query"]
        rel = query_path.relative_to(ROOT)
        proc = validate(query_path)
        out = proc.stdout + proc.stderr
        record(f"validate.js: {rel} has no error", proc.returncode == 0 and "ok: " in out, out.strip())
        want = ", ".join(f"{c['name']}:{c['type']}" for c in view["columns"])
        schema = [line.split(": ", 2)[2] for line in proc.stdout.splitlines() if line.startswith("schema: ")]
        record(f"validate.js: {view_name} schema equals expected-access.json columns", schema == [want],
               f"inferred {schema}, expected [{want!r}]")

        query = query_path.read_text()
        applied = 0
        for label, (old, new) in ACCESS_BROKEN.items():
            if old not in query:
                continue
            applied += 1
            bad = tmp / "broken.kql"
            bad.write_text(query.replace(old, new, 1))
            proc = validate(bad)
            record(f"validate.js rejects {view_name} with {label}", proc.returncode == 1 and "Error" in proc.stdout,
                   f"exit {proc.returncode}: {(proc.stdout + proc.stderr).strip()[:400]}")
        record(f"{view_name}: at least two broken variants apply", applied >= 2, f"{applied} applied")


def access_params(expected: dict, case: dict, **override: str) -> dict[str, str]:
    vaults = expected["vaults"][case["workspace"]]
    return {**expected["parameters"], "VAULT_IDS": f"dynamic({json.dumps(vaults)})", **case["parameters"], **override}


def run_case(query_path: Path, workspace: str, params: dict[str, str]) -> tuple[dict | None, str]:
    proc = engine(FIXTURES / workspace, query_path, params)
    if proc.returncode != 0:
        return None, f"exit {proc.returncode}: {proc.stderr.strip()}"
    try:
        return json.loads(proc.stdout), ""
    except ValueError as exc:
        return None, f"output is not JSON: {exc}"


def check_access_engine(expected: dict) -> None:
    for view_name, view in expected["views"].items():
        query_path = ROOT / view["query"]
        for case in view["cases"]:
            label = f"engine.py: {view_name}: {case['name']} gives the {len(case['rows'])} expected rows"
            result, error = run_case(query_path, case["workspace"], access_params(expected, case))
            if result is None:
                record(label, False, error)
                continue
            diffs = compare(result, view["columns"], case["rows"])
            record(label, not diffs, "\n     ".join(diffs[:40]))

    # Control: a 70 s window makes the 401 answered after 61 s a challenge (workspace-a, 203.0.113.11).
    view = expected["views"]["callers"]
    case = next(c for c in view["cases"] if c["workspace"] == "workspace-a.json")
    result, error = run_case(ROOT / view["query"], case["workspace"],
                             access_params(expected, case, CHALLENGE_SECONDS="70"))
    differs = result is not None and bool(compare(result, view["columns"], case["rows"]))
    record("control: CHALLENGE_SECONDS=70 changes the workspace-a callers result", differs, error)

    # Control: other buckets give other rows.
    view = expected["views"]["timeline"]
    case = next(c for c in view["cases"] if c["workspace"] == "workspace-a.json")
    result, error = run_case(ROOT / view["query"], case["workspace"], access_params(expected, case, BIN="3h"))
    differs = result is not None and bool(compare(result, view["columns"], case["rows"]))
    record("control: BIN=3h changes the workspace-a timeline", differs, error)


# ---------------------------------------------------------------------------------------------------
# 4. kvaudit scan: AuditEvent volume per vault

VOLUME_BROKEN = {
    "a union without isfuzzy=true": ("union isfuzzy=true", "union"),
    "a misspelt column (_ResourceID)": ("| where _ResourceId in~ (vaults)", "| where _ResourceID in~ (vaults)"),
    "Category in the AZKVAuditLogs leg (it has no such column)":
        ("(AZKVAuditLogs\n    | where TimeGenerated", '(AZKVAuditLogs\n    | where Category == "AuditEvent"\n    | where TimeGenerated'),
    "a syntax error": ("| summarize events", "| sumarize events"),
}


def check_volume_language_service(expected: dict, tmp: Path) -> None:
    query_path = ROOT / expected["query"]
    rel = query_path.relative_to(ROOT)
    proc = validate(query_path)
    out = proc.stdout + proc.stderr
    record(f"validate.js: {rel} has no error", proc.returncode == 0 and "ok: " in out, out.strip())
    want = ", ".join(f"{c['name']}:{c['type']}" for c in expected["columns"])
    schema = [line.split(": ", 2)[2] for line in proc.stdout.splitlines() if line.startswith("schema: ")]
    record("validate.js: volume schema equals expected-volume.json columns", schema == [want],
           f"inferred {schema}, expected [{want!r}]")

    query = query_path.read_text()
    for label, (old, new) in VOLUME_BROKEN.items():
        if old not in query:
            record(f"validate.js rejects volume with {label}", False, f"the query no longer contains {old!r}")
            continue
        bad = tmp / "broken.kql"
        bad.write_text(query.replace(old, new, 1))
        proc = validate(bad)
        record(f"validate.js rejects volume with {label}", proc.returncode == 1 and "Error" in proc.stdout,
               f"exit {proc.returncode}: {(proc.stdout + proc.stderr).strip()[:400]}")


def volume_params(expected: dict, case: dict, vaults: list[str] | None = None, **override: str) -> dict[str, str]:
    vaults = expected["vaults"][case["workspace"]] if vaults is None else vaults
    return dict(case["parameters"], VAULT_IDS=f"dynamic({json.dumps(vaults)})", **override)


def check_volume_engine(expected: dict) -> None:
    query_path = ROOT / expected["query"]
    columns = expected["columns"]
    for case in expected["cases"]:
        label = f"engine.py: volume: {case['name']} gives the {len(case['rows'])} expected rows"
        result, error = run_case(query_path, case["workspace"], volume_params(expected, case))
        if result is None:
            record(label, False, error)
            continue
        diffs = compare(result, columns, case["rows"])
        record(label, not diffs, "\n     ".join(diffs[:40]))

    # Control: START one second later drops kv-app-01's row at exactly START (workspace-a, 1-day window).
    case = next(c for c in expected["cases"] if c["workspace"] == "workspace-a.json"
                and c["parameters"]["START"] == "datetime(2026-11-26T09:00:00Z)")
    result, error = run_case(query_path, case["workspace"],
                             volume_params(expected, case, START="datetime(2026-11-26T09:00:01Z)"))
    differs = result is not None and bool(compare(result, columns, case["rows"]))
    record("control: START=2026-11-26T09:00:01Z changes the workspace-a volume result", differs, error)

    # Control: vault ids compare case-insensitively (in~); the output stays lower-case.
    case = next(c for c in expected["cases"] if c["workspace"] == "workspace-c.json")
    upper = [v.upper() for v in expected["vaults"][case["workspace"]]]
    result, error = run_case(query_path, case["workspace"], volume_params(expected, case, vaults=upper))
    diffs = [error] if result is None else compare(result, columns, case["rows"])
    record("control: VAULT_IDS in upper case give the same workspace-c volume rows", not diffs,
           "\n     ".join(diffs[:40]))


def main() -> int:
    import tempfile

    expected = json.loads(EXPECTED.read_text())
    query_path = ROOT / expected["query"]
    expected_access = json.loads(EXPECTED_ACCESS.read_text())
    expected_volume = json.loads(EXPECTED_VOLUME.read_text())
    with tempfile.TemporaryDirectory(prefix="kvaudit-kql-") as d:
        tmp = Path(d)
        check_language_service(query_path, expected["columns"], tmp)
        check_engine(query_path, expected, tmp)
        check_access_language_service(expected_access, tmp)
        check_access_engine(expected_access)
        check_volume_language_service(expected_volume, tmp)
        check_volume_engine(expected_volume)
    failed = sum(1 for _, ok in results if not ok)
    print(f"kql: {len(results) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
