#!/usr/bin/python3
"""Validates an EPCIS document (the file named first) against GS1's
published EPCIS 2.0 JSON schema (the file named second) with a real JSON
Schema validator (Debian's python3-jsonschema, draft-07, with format
checks: uri through python3-rfc3987; date-time, which needs a package
Debian does not have, as RFC 3339 section 5.6 read by Python's datetime).
Prints each error with its
path and exits 1 when there is one; prints the event count otherwise."""
import datetime
import json
import re
import sys

import jsonschema


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        document = json.load(f)
    with open(sys.argv[2], encoding="utf-8") as f:
        schema = json.load(f)
    checker = jsonschema.FormatChecker()
    if "date-time" not in checker.checkers:
        rfc3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")

        @checker.checks("date-time", raises=ValueError)
        def date_time(value):
            if not isinstance(value, str):
                return True
            if not rfc3339.match(value):
                return False
            datetime.datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
            return True
    for needed in ("uri", "date-time"):
        if needed not in checker.checkers:
            print(f"the format checker cannot check {needed}", file=sys.stderr)
            sys.exit(2)
    validator = jsonschema.Draft7Validator(schema, format_checker=checker)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.path))
    for e in errors:
        print("/".join(str(p) for p in e.absolute_path) + ": " + e.message, file=sys.stderr)
    if errors:
        sys.exit(1)
    print(len(document["epcisBody"]["eventList"]))


main()
