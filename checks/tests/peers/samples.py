#!/usr/bin/env python3
"""samples.py [--openmetrics] < exposition
Parses an exposition with prometheus_client 0.26.0 (text 0.0.4 or OpenMetrics 1.0) and prints
JSON: {"families": [{"name", "type", "help", "unit", "samples": [{"name", "labels", "value"}]}]}.
Values are printed with repr() so they round-trip exactly. Run with tests/peers/.venv/bin/python."""
import json, sys
from prometheus_client.parser import text_string_to_metric_families as parse_004
from prometheus_client.openmetrics.parser import text_string_to_metric_families as parse_om
om = "--openmetrics" in sys.argv
text = sys.stdin.read()
fams = []
for f in (parse_om if om else parse_004)(text):
    fams.append({"name": f.name, "type": f.type, "help": f.documentation, "unit": getattr(f, "unit", ""),
                 "samples": [{"name": s.name, "labels": s.labels, "value": repr(float(s.value))} for s in f.samples]})
json.dump({"families": fams}, sys.stdout)
