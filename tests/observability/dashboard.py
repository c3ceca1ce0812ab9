"""The Grafana dashboard's queries as Prometheus can evaluate them."""

import json
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DASHBOARD = REPO / "deploy" / "grafana" / "dashboards" / "auroraedge-serve.json"

# What Grafana puts in place of the dashboard's variables: every instance, and
# a rate window of several scrapes of the test's Prometheus.
VARIABLES = {"$instance": ".*", "$__rate_interval": "1m"}


def load():
    return json.loads(DASHBOARD.read_text())


def panels(dashboard):
    """Every panel, those inside collapsed rows included."""
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])


def panel_queries(dashboard):
    """(panel title, PromQL with the variables substituted) for every target."""
    for panel in panels(dashboard):
        for target in panel.get("targets", []):
            yield panel["title"], substitute(target["expr"])


def variable_queries(dashboard):
    """(variable name, metric, label) for every label_values() variable."""
    for variable in dashboard["templating"]["list"]:
        if variable["type"] != "query":
            continue
        match = re.fullmatch(r"label_values\((\w+), *(\w+)\)", variable["definition"])
        assert match, f"variable {variable['name']}: unsupported query {variable['definition']}"
        yield variable["name"], match.group(1), match.group(2)


def substitute(expr):
    for name, value in VARIABLES.items():
        expr = expr.replace(name, value)
    assert "$" not in expr, f"unknown variable in {expr}"
    return expr
