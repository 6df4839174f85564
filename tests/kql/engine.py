#!/usr/bin/env python3
"""Run a KQL query on seeded Log Analytics tables with duckdb-kql, and print the result as the Log
Analytics query API would.

    python3 tests/kql/engine.py --tables TABLES.json [--query QUERY_FILE] [--set NAME=VALUE ...]

The query text comes from QUERY_FILE, or from standard input without --query. Each --set replaces the
placeholder {{NAME}} in it; a placeholder left over is an error.

TABLES.json is {"AzureDiagnostics": [{column: value, ...}, ...], "AZKVAuditLogs": [...], ...}. A table
absent from the file is absent from the engine (a workspace without that table); top-level keys starting
with "$" are comments. Values are JSON: datetimes as ISO-8601 strings, dynamic columns as JSON values.

Column types are declared when seeding (.set-or-replace T <| datatable(...)[...]), from:
  - AZKVAuditLogs: its fixed schema (every column always exists, as in Log Analytics);
  - AzureDiagnostics: its fixed columns always, plus each flattened column that some row of the file names
    (in Log Analytics such a column exists only once some row filled it), typed by its suffix:
    _s string, _d real, _g guid, _b bool;
  - any other column: "$types": {"Table": {"column": "type"}} in the file, else its suffix, else its
    JSON values (integer -> long, number -> real, bool -> bool, object/array -> dynamic, else string).
guid columns are seeded as strings (duckdb-kql has no guid type). As in Kusto, a string cell is never
null: a JSON null in a string or guid column is seeded as "".

duckdb-kql 1.1.2 has no column_ifexists(). Before execution this harness rewrites each
column_ifexists("col", default) in the query text: to the column itself when the seeded table that the
enclosing union leg (or statement) reads has it, else to (default). The production query keeps
column_ifexists. `union isfuzzy=true` over a table absent from the engine works in duckdb-kql as is.

Prints {"tables":[{"name":"PrimaryResult","columns":[{"name","type"}],"rows":[[...]]}]} with real JSON
types: long/int/real as numbers, bool as true/false, datetime as ISO-8601 with Z (7 fraction digits, none
when the fraction is zero), dynamic as a JSON-encoded string, null as null. Exits 1 with a one-line
message on any failure.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys

# ---------------------------------------------------------------------------------------------------
# Schemas (azure-api.md section 6; AZKVAuditLogs from the Azure Monitor table reference)

AZKV_AUDIT_LOGS = {
    "TimeGenerated": "datetime", "_ResourceId": "string", "_SubscriptionId": "string", "TenantId": "string",
    "OperationName": "string", "OperationVersion": "string", "ResultType": "string",
    "ResultSignature": "string", "ResultDescription": "string", "DurationMs": "int",
    "CallerIpAddress": "string", "CorrelationId": "string", "Identity": "dynamic", "ClientInfo": "string",
    "RequestUri": "string", "Id": "string", "HttpStatusCode": "int", "IsAccessPolicyMatch": "bool",
    "IsRbacAuthorized": "bool", "AppliedAssignmentId": "string", "IsAddressAuthorized": "bool",
    "AddressAuthorizationType": "string", "SubnetId": "string", "TrustedService": "string",
    "Tlsversion": "string", "Nsp": "dynamic", "NetworkAcls": "dynamic", "Properties": "dynamic",
    "KeyProperties": "dynamic", "SecretProperties": "dynamic", "CertificateProperties": "dynamic",
    "CertificatePolicyProperties": "dynamic", "CertificateIssuerProperties": "dynamic",
    "CertificateRequestProperties": "dynamic", "StorageAccountProperties": "dynamic",
    "StorageSasDefinitionProperties": "dynamic", "VaultProperties": "dynamic", "Sku": "dynamic",
    "EnabledForDeployment": "bool", "EnabledForDiskEncryption": "bool", "EnabledForTemplateDeployment": "bool",
    "EnablePurgeProtection": "bool", "EnableRbacAuthorization": "bool", "EnableSoftDelete": "bool",
    "SoftDeleteRetentionInDays": "int", "HsmPoolResourceId": "string", "Algorithm": "string",
    "SourceSystem": "string", "Type": "string", "_BilledSize": "real", "_IsBillable": "string",
}

AZURE_DIAGNOSTICS_FIXED = {
    "TimeGenerated": "datetime", "TenantId": "string", "ResourceId": "string", "_ResourceId": "string",
    "SubscriptionId": "string", "_SubscriptionId": "string", "ResourceGroup": "string",
    "ResourceProvider": "string", "ResourceType": "string", "Resource": "string", "Category": "string",
    "OperationName": "string", "OperationVersion": "string", "ResultType": "string",
    "ResultSignature": "string", "ResultDescription": "string", "DurationMs": "long",
    "CallerIPAddress": "string", "CorrelationId": "string", "SourceSystem": "string", "Type": "string",
    "_BilledSize": "real", "_IsBillable": "string",
}

FIXED_SCHEMAS = {"AZKVAuditLogs": AZKV_AUDIT_LOGS, "AzureDiagnostics": AZURE_DIAGNOSTICS_FIXED}
# Tables whose every column exists whether or not a row fills it.
FULL_SCHEMA_TABLES = {"AZKVAuditLogs"}

SUFFIX_TYPES = {"_s": "string", "_d": "real", "_g": "guid", "_b": "bool"}
TYPES = {"datetime", "string", "guid", "int", "long", "real", "bool", "dynamic"}


class HarnessError(Exception):
    pass


# ---------------------------------------------------------------------------------------------------
# Seeding


def column_type(table: str, column: str, values: list, declared: dict) -> str:
    if column in declared:
        return declared[column]
    fixed = FIXED_SCHEMAS.get(table, {})
    if column in fixed:
        return fixed[column]
    for suffix, kind in SUFFIX_TYPES.items():
        if column.endswith(suffix):
            return kind
    seen = {type(v) for v in values if v is not None}
    if seen and seen <= {bool}:
        return "bool"
    if seen and seen <= {int}:
        return "long"
    if seen and seen <= {int, float}:
        return "real"
    if seen & {dict, list}:
        return "dynamic"
    return "string"


def table_schema(table: str, rows: list, declared: dict) -> list[tuple[str, str]]:
    names: list[str] = []
    if table in FIXED_SCHEMAS:
        names.extend(FIXED_SCHEMAS[table])
    for row in rows:
        if not isinstance(row, dict):
            raise HarnessError(f"{table}: every row must be a JSON object")
        for name in row:
            if name not in names:
                if table in FULL_SCHEMA_TABLES:
                    raise HarnessError(f"{table} has no column {name!r}")
                names.append(name)
    for name in declared:
        if name not in names:
            names.append(name)
    schema = []
    for name in names:
        kind = column_type(table, name, [r.get(name) for r in rows], declared)
        if kind not in TYPES:
            raise HarnessError(f"{table}.{name}: unknown type {kind!r}")
        schema.append((name, kind))
    return schema


def parse_datetime(value: str) -> dt.datetime:
    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,7}))?(Z|[+-]00:00)?", value)
    if not m:
        raise HarnessError(f"not an ISO-8601 UTC datetime: {value!r}")
    base = dt.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")
    fraction = (m.group(2) or "").ljust(7, "0")
    if fraction[6] != "0":
        # DuckDB timestamps are microseconds; 100 ns ticks would be silently truncated.
        raise HarnessError(f"{value!r}: sub-microsecond precision is not representable in DuckDB")
    return base.replace(microsecond=int(fraction[:6]))


def kql_string(value: str) -> str:
    # json.dumps escapes ", \ and control characters the way KQL string literals read them.
    return json.dumps(value, ensure_ascii=False)


def kql_literal(kind: str, value, where: str) -> str:
    try:
        if kind in ("string", "guid"):
            if value is None:
                return '""'
            if not isinstance(value, str):
                raise HarnessError(f"{where}: expected a string, got {value!r}")
            return kql_string(value)
        if value is None:
            return f"{kind}(null)"
        if kind == "datetime":
            t = parse_datetime(value)
            return f"datetime({t.strftime('%Y-%m-%dT%H:%M:%S')}.{t.microsecond:06d}Z)"
        if kind in ("int", "long"):
            if isinstance(value, bool) or not isinstance(value, int):
                raise HarnessError(f"{where}: expected an integer, got {value!r}")
            return f"{kind}({value})"
        if kind == "real":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise HarnessError(f"{where}: expected a number, got {value!r}")
            return f"real({float(value)!r})"
        if kind == "bool":
            if not isinstance(value, bool):
                raise HarnessError(f"{where}: expected true/false, got {value!r}")
            return "true" if value else "false"
        if kind == "dynamic":
            return f"dynamic({json.dumps(value, ensure_ascii=False)})"
    except HarnessError:
        raise
    except Exception as exc:  # noqa: BLE001 - reported with its location
        raise HarnessError(f"{where}: {exc}") from exc
    raise HarnessError(f"{where}: unknown type {kind}")


def seed(con, dk, tables: dict, declared_types: dict) -> dict[str, set[str]]:
    """Create one real table per entry; return {table: set of its columns}."""
    columns: dict[str, set[str]] = {}
    for table, rows in tables.items():
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", table):
            raise HarnessError(f"bad table name {table!r}")
        if not isinstance(rows, list):
            raise HarnessError(f"{table}: expected a list of rows")
        schema = table_schema(table, rows, declared_types.get(table, {}))
        decl = ", ".join(f"['{name}']: {'string' if kind == 'guid' else kind}" for name, kind in schema)
        cells = []
        for i, row in enumerate(rows):
            for name, kind in schema:
                cells.append(kql_literal(kind, row.get(name), f"{table}[{i}].{name}"))
        statement = f".set-or-replace {table} <| datatable({decl})[{', '.join(cells)}]"
        try:
            dk.script(con, statement)
        except Exception as exc:  # noqa: BLE001
            raise HarnessError(f"seeding {table}: {type(exc).__name__}: {first_line(exc)}") from exc
        columns[table] = {name for name, _ in schema}
    return columns


# ---------------------------------------------------------------------------------------------------
# column_ifexists() resolution


def code_mask(text: str) -> list[bool]:
    """True for each character that is code (not inside a string literal or a // comment)."""
    mask = [True] * len(text)
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            for k in range(i, j):
                mask[k] = False
            i = j
        elif text.startswith("```", i):
            j = text.find("```", i + 3)
            j = n if j < 0 else j + 3
            for k in range(i, j):
                mask[k] = False
            i = j
        elif c in "\"'" or (c in "@hH" and i + 1 < n and text[i + 1] in "\"'" and not is_ident(text, i - 1)):
            verbatim = c == "@"
            if c in "@hH":
                i += 1
            quote = text[i]
            j = i + 1
            while j < n:
                if not verbatim and text[j] == "\\":
                    j += 2
                    continue
                if text[j] == quote:
                    if verbatim and j + 1 < n and text[j + 1] == quote:
                        j += 2
                        continue
                    break
                j += 1
            for k in range(i - (1 if c in "@hH" else 0), min(j + 1, n)):
                mask[k] = False
            i = j + 1
        else:
            i += 1
    return mask


def is_ident(text: str, i: int) -> bool:
    return 0 <= i < len(text) and (text[i].isalnum() or text[i] == "_")


def matching_paren(text: str, mask: list[bool], open_at: int) -> int:
    depth = 0
    for i in range(open_at, len(text)):
        if not mask[i]:
            continue
        if text[i] in "([{":
            depth += 1
        elif text[i] in ")]}":
            depth -= 1
            if depth == 0:
                return i
    raise HarnessError(f"unbalanced parenthesis at offset {open_at}")


def split_args(text: str, mask: list[bool], start: int, end: int) -> list[str]:
    args, depth, last = [], 0, start
    for i in range(start, end):
        if not mask[i]:
            continue
        if text[i] in "([{":
            depth += 1
        elif text[i] in ")]}":
            depth -= 1
        elif text[i] == "," and depth == 0:
            args.append(text[last:i])
            last = i + 1
    args.append(text[last:end])
    return [a.strip() for a in args]


def skip_space(text: str, mask: list[bool], i: int) -> int:
    while i < len(text) and (text[i].isspace() or not mask[i]):
        i += 1
    return i


TABLE_HEAD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def leg_table(text: str, mask: list[bool], pos: int, known: set[str]) -> str | None:
    """The table read by the innermost union leg / parenthesised pipeline around `pos`, else by the
    statement around it."""
    # Enclosing '(' positions, innermost last.
    stack: list[int] = []
    for i in range(pos):
        if not mask[i]:
            continue
        if text[i] in "([{":
            stack.append(i)
        elif text[i] in ")]}" and stack:
            stack.pop()
    for open_at in reversed(stack):
        j = skip_space(text, mask, open_at + 1)
        m = TABLE_HEAD.match(text, j)
        if m and m.group(0) in known:
            k = skip_space(text, mask, m.end())
            if k < len(text) and text[k] in "|)":
                return m.group(0)
    # Statement start: after the last top-level ';' before pos.
    start = 0
    depth = 0
    for i in range(pos):
        if mask[i]:
            if text[i] in "([{":
                depth += 1
            elif text[i] in ")]}":
                depth -= 1
            elif text[i] == ";" and depth == 0:
                start = i + 1
    j = skip_space(text, mask, start)
    m = re.compile(r"let\s+[A-Za-z_][A-Za-z0-9_]*\s*=\s*").match(text, j)
    if m:
        j = skip_space(text, mask, m.end())
    m = TABLE_HEAD.match(text, j)
    if m and m.group(0) in known:
        return m.group(0)
    return None


CALL = re.compile(r"\bcolumn_ifexists\s*\(", re.IGNORECASE)


def resolve_column_ifexists(query: str, seeded: dict[str, set[str]]) -> str:
    known = set(seeded) | set(FIXED_SCHEMAS)
    for _ in range(10_000):
        mask = code_mask(query)
        calls = [m for m in CALL.finditer(query) if mask[m.start()]]
        if not calls:
            return query
        call = calls[-1]  # innermost-last: a default may itself hold a column_ifexists
        open_at = call.end() - 1
        close_at = matching_paren(query, mask, open_at)
        args = split_args(query, mask, open_at + 1, close_at)
        if len(args) != 2:
            raise HarnessError(f"column_ifexists at offset {call.start()} needs 2 arguments, has {len(args)}")
        name_lit, default = args
        m = re.fullmatch(r"""@?(["'])(.*)\1""", name_lit, re.DOTALL)
        if not m:
            raise HarnessError(f"column_ifexists at offset {call.start()}: first argument must be a string literal")
        column = m.group(2)
        table = leg_table(query, mask, call.start(), known)
        if table is None:
            raise HarnessError(f"cannot tell which table column_ifexists({name_lit}, ...) reads")
        if column in seeded.get(table, set()):
            replacement = column if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", column) else f"['{column}']"
        else:
            replacement = f"({default})"
        query = query[: call.start()] + replacement + query[close_at + 1 :]
    raise HarnessError("too many column_ifexists calls")


# ---------------------------------------------------------------------------------------------------
# Result


def format_datetime(value) -> str:
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        text = value.strftime("%Y-%m-%dT%H:%M:%S")
        if value.microsecond:
            text += f".{value.microsecond:06d}0"
        return text + "Z"
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%dT00:00:00Z")
    raise HarnessError(f"not a datetime: {value!r}")


def format_timespan(value: dt.timedelta) -> str:
    total = value.days * 86400 * 10**6 + value.seconds * 10**6 + value.microseconds
    sign = "-" if total < 0 else ""
    total = abs(total)
    days, rest = divmod(total, 86400 * 10**6)
    h, rest = divmod(rest, 3600 * 10**6)
    m, rest = divmod(rest, 60 * 10**6)
    s, us = divmod(rest, 10**6)
    text = f"{sign}{days}.{h:02d}:{m:02d}:{s:02d}" if days else f"{sign}{h:02d}:{m:02d}:{s:02d}"
    return text + (f".{us:06d}0" if us else "")


def format_value(kind: str, value):
    if value is None:
        return None
    if kind == "datetime":
        return format_datetime(value)
    if kind == "dynamic":
        parsed = json.loads(value) if isinstance(value, str) else value
        return json.dumps(parsed, separators=(",", ":"), ensure_ascii=False)
    if kind == "timespan":
        return format_timespan(value)
    if kind in ("int", "long"):
        return int(value)
    if kind == "real":
        return float(value)
    if kind == "bool":
        return bool(value)
    return value if isinstance(value, str) else str(value)


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def import_engine():
    """(duckdb_kql module, its kusto_type function); a HarnessError when duckdb-kql is missing."""
    try:
        import duckdb_kql as dk
        from duckdb_kql.types import kusto_type
    except ImportError as exc:
        raise HarnessError(f"duckdb-kql is not installed (run scripts/kql-tools.sh): {exc}") from exc
    return dk, kusto_type


def load_tables(path: str) -> tuple[dict, dict]:
    """(tables, declared "$types") of a TABLES.json file."""
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError) as exc:
        raise HarnessError(f"{path}: {exc}") from exc
    if not isinstance(doc, dict):
        raise HarnessError(f"{path}: expected an object of tables")
    declared = doc.get("$types", {})
    tables = {k: v for k, v in doc.items() if not k.startswith("$")}
    return tables, declared


def substitute(query: str, settings) -> str:
    """Replace each {{NAME}} by its value; settings is a dict or a list of "NAME=VALUE". A placeholder left
    over is an error."""
    if isinstance(settings, dict):
        pairs = list(settings.items())
    else:
        pairs = []
        for item in settings or []:
            name, sep, value = item.partition("=")
            if not sep:
                raise HarnessError(f"--set {item!r}: expected NAME=VALUE")
            pairs.append((name, value))
    for name, value in pairs:
        query = query.replace("{{" + name + "}}", value)
    left = re.search(r"\{\{[^}]*\}\}", query)
    if left:
        raise HarnessError(f"placeholder {left.group(0)} not substituted (use --set)")
    return query


def execute(con, dk, query: str, seeded: dict[str, set[str]], print_query: bool = False) -> dict:
    """Resolve column_ifexists against the seeded tables, run the query, and return the Log Analytics
    query API response."""
    _, kusto_type = import_engine()
    query = resolve_column_ifexists(query, seeded)
    if print_query:
        sys.stderr.write(query + "\n")
    try:
        rel = dk.kql(con, query)
        rows = rel.fetchall()
        description = rel.description
    except Exception as exc:  # noqa: BLE001
        raise HarnessError(f"query failed: {type(exc).__name__}: {first_line(exc)}") from exc

    columns = [{"name": d[0], "type": kusto_type(d[1])} for d in description]
    out_rows = [[format_value(c["type"], v) for c, v in zip(columns, row)] for row in rows]
    return {"tables": [{"name": "PrimaryResult", "columns": columns, "rows": out_rows}]}


def run(args) -> dict:
    dk, _ = import_engine()
    tables, declared = load_tables(args.tables)
    if args.query:
        try:
            with open(args.query, encoding="utf-8") as f:
                query = f.read()
        except OSError as exc:
            raise HarnessError(str(exc)) from exc
    else:
        query = sys.stdin.read()
    query = substitute(query, args.set or [])

    con = dk.connect()
    seeded = seed(con, dk, tables, declared)
    return execute(con, dk, query, seeded, args.print_query)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tables", required=True, help="JSON file of seeded tables")
    parser.add_argument("--query", help="KQL file (default: standard input)")
    parser.add_argument("--set", action="append", metavar="NAME=VALUE", help="replace {{NAME}} in the query")
    parser.add_argument("--print-query", action="store_true", help="print the rewritten query to stderr")
    args = parser.parse_args(argv)
    try:
        result = run(args)
    except HarnessError as exc:
        print(f"engine.py: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - one line, never a traceback
        print(f"engine.py: {type(exc).__name__}: {first_line(exc)}", file=sys.stderr)
        return 1
    json.dump(result, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
