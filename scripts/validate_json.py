#!/usr/bin/env python3
"""validate_json.py SCHEMA FILE... — validates JSON files against a JSON schema
with python-jsonschema (the draft the schema declares, formats checked).
Exit 1 on any error. Used by scripts/test.sh for SARIF and inventories.

check-jsonschema refuses the SARIF schema copy that serde-sarif ships (one
`pattern` in it is not an ECMA-262 regex), so this calls jsonschema directly."""
import json
import sys

import jsonschema

schema = json.load(open(sys.argv[1]))
cls = jsonschema.validators.validator_for(schema)
cls.check_schema(schema)
validator = cls(schema, format_checker=cls.FORMAT_CHECKER)
bad = 0
for path in sys.argv[2:]:
    for e in sorted(validator.iter_errors(json.load(open(path))), key=lambda e: list(e.absolute_path)):
        bad += 1
        print(f"{path}: {e.json_path}: {e.message}")
    print(f"{path}: valid against {schema.get('title') or sys.argv[1]} ({cls.__name__})" if not bad else f"{path}: {bad} error(s)")
sys.exit(1 if bad else 0)
