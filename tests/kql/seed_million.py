#!/usr/bin/env python3
"""Benchmark the `kvaudit access` callers query on a large synthetic workspace.

    "$KVAUDIT_KQL_PYTHON" tests/kql/seed_million.py --out /tmp/callers-response.json

Seeds one AZKVAuditLogs table straight into DuckDB (one INSERT ... SELECT over range(), no datatable
literal): by default 1,000,000 rows over 200 vaults and 5,000 callers, in the window
2026-11-26T09:00:00Z .. 2026-11-27T09:00:00Z. Then runs src/kql/access_callers.kql once through the same
code as engine.py (column_ifexists resolution, duckdb-kql, Log Analytics response formatting), prints
the seeding time, the engine's wall time and the number of result rows, and writes the Log Analytics
query API response JSON to --out (so that a fake endpoint can serve it and kvaudit be timed alone).

The mix (deterministic: every choice is a hash of the row number):
  - ~5% of rows are SDK challenge pairs: an anonymous 401 `Authentication` row, then the same caller's
    200 `SecretGet` 0.2 s later (same vault, IP and client);
  - of the other rows: ~1% 403 (authenticated), ~1% 404, ~0.5% 401 from the caller's own IP and client
    with no answer (mostly unexplained), ~0.25% 401 from 50 anonymous scanner IPs (curl), ~0.2% 429,
    and the rest 200 over ten operations (SecretGet weighted x5).
  So about 95% of the rows are 2xx. Each caller (one in five is a user with a upn, the others are
  applications) uses one vault, one IP and one of six client strings; the callers view gives about one
  row per caller for its authenticated requests plus one for its anonymous 401s (about 10,000 rows).

Options: --rows, --vaults, --callers, --query (another access query; the events view's placeholders
default to LIMIT=1000, OPERATION="", CALLER="", STATUS=0, no IP prefixes; the timeline's to BIN=1800s),
--set NAME=VALUE to override a placeholder,
--out FILE.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import engine  # noqa: E402  (tests/kql/engine.py: the same seeding schema and execution code)

ROOT = Path(__file__).resolve().parents[2]
START = "2026-11-26 09:00:00"
WINDOW_US = 86_400 * 1_000_000
SUBSCRIPTION = "00000000-0000-4000-8000-00000000b0b0"

CLIENTS = [
    "azsdk-net-Security.KeyVault.Secrets/4.6.0 (.NET 8.0.10; Ubuntu 22.04.5 LTS)",
    "azsdk-python-keyvault-secrets/4.8.0 Python/3.11.4 (Linux-6.1.0-18-cloud-amd64-x86_64-with-glibc2.36)",
    "azsdk-java-azure-security-keyvault-secrets/4.8.2 (17.0.10; Linux; 6.5.0-1016-azure)",
    "azsdk-js-keyvault-secrets/4.9.0 core-rest-pipeline/1.18.0 Node/20.18.0 OS/(x64-Linux-6.5.0-1025-azure)",
    "azsdk-go-azsecrets/v1.3.0 (go1.23.2; linux)",
    "AZURECLI/2.67.0 (DEB) azsdk-python-keyvault-secrets/4.8.0 Python/3.12.7 (Linux-6.8.0-1017-azure-x86_64-with-glibc2.39)",
]
OPERATIONS = ["SecretGet", "SecretGet", "SecretGet", "SecretGet", "SecretGet", "SecretList", "KeyGet",
              "KeyUnwrap", "KeySign", "CertificateGet"]


def vault_id(v: int) -> str:
    return (f"/subscriptions/{SUBSCRIPTION}/resourcegroups/rg-bench/providers/microsoft.keyvault/vaults/"
            f"kv-bench-{v:03d}")


def sql_list(values: list[str]) -> str:
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def seed_sql(rows: int, vaults: int, callers: int) -> str:
    """INSERT ... SELECT generating the rows in DuckDB (h1..h5 are independent hashes of the row)."""
    return f"""
INSERT INTO AZKVAuditLogs (TimeGenerated, _ResourceId, _SubscriptionId, TenantId, OperationName,
    OperationVersion, ResultType, ResultSignature, ResultDescription, DurationMs, CallerIpAddress,
    CorrelationId, Identity, ClientInfo, RequestUri, Id, HttpStatusCode, IsRbacAuthorized, Tlsversion,
    SourceSystem, Type)
WITH base AS (
    SELECT i,
        (hash(i // 2) % 100) < 5 AS pair,
        CAST(hash(i * 7 + 1) % 10000 AS BIGINT) AS u,
        CAST(hash(i * 7 + 2) >> 1 AS BIGINT) AS h2,
        CAST(hash(i * 7 + 3) >> 1 AS BIGINT) AS h3,
        CAST(hash((i // 2) * 7 + 4) >> 1 AS BIGINT) AS h4
    FROM range({rows}) t(i)
), kinded AS (
    SELECT i, h2, h3,
        CASE WHEN pair THEN h4 % {callers} ELSE h2 % {callers} END AS c,
        CASE
            WHEN pair AND i % 2 = 0 THEN 'challenge'
            WHEN pair THEN 'answer'
            WHEN u < 100 THEN 'forbidden'
            WHEN u < 200 THEN 'notfound'
            WHEN u < 250 THEN 'unanswered'
            WHEN u < 275 THEN 'scanner'
            WHEN u < 295 THEN 'throttled'
            ELSE 'ok'
        END AS kind,
        CASE WHEN pair THEN (h4 % ({WINDOW_US} - 60000000)) + (i % 2) * 200000
             ELSE h3 % {WINDOW_US} END AS offset_us
    FROM base
), shaped AS (
    SELECT *,
        CASE WHEN kind = 'scanner' THEN (h2 % 50) % {vaults} ELSE c % {vaults} END AS v,
        kind IN ('challenge', 'unanswered', 'scanner') AS anonymous,
        CASE kind WHEN 'challenge' THEN 401 WHEN 'unanswered' THEN 401 WHEN 'scanner' THEN 401
            WHEN 'forbidden' THEN 403 WHEN 'notfound' THEN 404 WHEN 'throttled' THEN 429 ELSE 200 END AS status,
        CASE WHEN kind IN ('challenge', 'unanswered', 'scanner') THEN 'Authentication'
             WHEN kind = 'answer' THEN 'SecretGet'
             ELSE {sql_list(OPERATIONS)}[1 + (h3 % {len(OPERATIONS)})] END AS operation
    FROM kinded
)
SELECT
    TIMESTAMP '{START}' + to_microseconds(CAST(offset_us AS BIGINT)),
    '/subscriptions/{SUBSCRIPTION}/resourcegroups/rg-bench/providers/microsoft.keyvault/vaults/kv-bench-'
        || lpad(CAST(v AS VARCHAR), 3, '0'),
    '{SUBSCRIPTION}', '0f3a1c2e-8d4b-4f6a-9b7c-5e2d1a0b9c8d', operation, '7.5', 'Success',
    CASE status WHEN 200 THEN 'OK' WHEN 401 THEN 'Unauthorized' WHEN 403 THEN 'Forbidden'
        WHEN 404 THEN 'Not Found' ELSE 'TooManyRequests' END,
    CASE WHEN status = 403 THEN 'Caller is not authorized to perform action on resource.' ELSE '' END,
    CAST(3 + h2 % 40 AS INTEGER),
    CASE WHEN kind = 'scanner' THEN '192.0.2.' || CAST(h2 % 50 AS VARCHAR)
         ELSE '10.1.' || CAST(c // 256 AS VARCHAR) || '.' || CAST(c % 256 AS VARCHAR) END,
    printf('c0ffee00-0000-4000-8000-%012x', i),
    CAST(CASE WHEN anonymous THEN '{{}}'
        WHEN c % 5 = 0 THEN printf('{{"claim":{{"upn":"user%d@contoso.com","appid":"04b07795-8ddb-461a-bbee-02f9e1bf7b46","oid":"%08x-0000-4000-8000-%012x","idtyp":"user"}}}}', c, c, c)
        ELSE printf('{{"claim":{{"appid":"%08x-1111-4000-8000-%012x","oid":"%08x-2222-4000-8000-%012x","idtyp":"app"}}}}', c, c, c, c)
        END AS JSON),
    CASE WHEN kind = 'scanner' THEN 'curl/8.11.0' ELSE {sql_list(CLIENTS)}[1 + (c % {len(CLIENTS)})] END,
    'https://kv-bench-' || lpad(CAST(v AS VARCHAR), 3, '0') || '.vault.azure.net/'
        || CASE WHEN operation LIKE 'Key%' THEN 'keys/key-' ELSE 'secrets/secret-' END
        || CAST(h3 % 20 AS VARCHAR) || '?api-version=7.5',
    '', status,
    CASE WHEN anonymous THEN NULL ELSE status <> 403 END,
    'TLS1_3', 'Azure', 'AZKVAuditLogs'
FROM shaped
"""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--vaults", type=int, default=200)
    parser.add_argument("--callers", type=int, default=5_000)
    parser.add_argument("--query", default=str(ROOT / "src" / "kql" / "access_callers.kql"))
    parser.add_argument("--set", action="append", metavar="NAME=VALUE", help="override a placeholder")
    parser.add_argument("--out", help="write the Log Analytics response JSON here")
    args = parser.parse_args(argv)
    if args.rows < 1 or args.vaults < 1 or args.callers < 1:
        parser.error("--rows, --vaults and --callers must be >= 1")

    try:
        dk, _ = engine.import_engine()
        con = dk.connect()
        t0 = time.perf_counter()
        # The empty table comes from engine.py's own seeding (the schema and the column types of every test),
        # then DuckDB fills it in bulk.
        seeded = engine.seed(con, dk, {"AZKVAuditLogs": []}, {})
        con.execute(seed_sql(args.rows, args.vaults, args.callers))
        seeded_rows = con.execute("SELECT count(*) FROM AZKVAuditLogs").fetchone()[0]
        seed_seconds = time.perf_counter() - t0

        params = {
            "VAULT_IDS": "dynamic(" + json.dumps([vault_id(v) for v in range(args.vaults)]) + ")",
            "START": "datetime(2026-11-26T09:00:00Z)",
            "END": "datetime(2026-11-27T09:00:00Z)",
            "CHALLENGE_SECONDS": "60",
            "LIMIT": "1000", "OPERATION": '""', "CALLER": '""', "STATUS": "0", "PATH": '""', "OBJECT": '""',
            "CALLER_PREFIXES": "dynamic([])", "CALLER_PREFIX_LENGTH": "0", "BIN": "1800s",
        }
        for item in args.set or []:
            name, sep, value = item.partition("=")
            if not sep:
                raise engine.HarnessError(f"--set {item!r}: expected NAME=VALUE")
            params[name] = value
        query = engine.substitute(Path(args.query).read_text(encoding="utf-8"), params)

        t1 = time.perf_counter()
        result = engine.execute(con, dk, query, seeded)
        engine_seconds = time.perf_counter() - t1
    except engine.HarnessError as exc:
        print(f"seed_million.py: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - one line, never a traceback
        print(f"seed_million.py: {type(exc).__name__}: {engine.first_line(exc)}", file=sys.stderr)
        return 1

    table = result["tables"][0]
    print(f"seeded: {seeded_rows} AZKVAuditLogs rows, {args.vaults} vaults, {args.callers} callers "
          f"in {seed_seconds:.1f} s")
    print(f"query: {Path(args.query).name} ({len(query)} bytes)")
    print(f"engine: {engine_seconds:.2f} s (duckdb-kql, {con.execute('SELECT current_setting(' + repr('threads') + ')').fetchone()[0]} threads)")
    print(f"rows: {len(table['rows'])}")
    if args.out:
        text = json.dumps(result, ensure_ascii=False, separators=(",", ":"))
        Path(args.out).write_text(text + "\n", encoding="utf-8")
        print(f"response: {args.out} ({len(text)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
