#!/usr/bin/python3
"""Parses a Prometheus text exposition (the file named on the command line)
with the Prometheus project's own parser (Debian's python3-prometheus-client)
and prints its samples as JSON lines: {"name", "labels", "value", "type"}.
Exits 1, with the parser's error, if the text does not parse."""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families


def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        text = f.read()
    try:
        for family in text_string_to_metric_families(text):
            for s in family.samples:
                print(json.dumps({"name": s.name, "labels": s.labels, "value": s.value,
                                  "type": family.type}))
    except Exception as e:  # the parser raises ValueError and others
        print(f"not a valid exposition: {e}", file=sys.stderr)
        sys.exit(1)


main()
