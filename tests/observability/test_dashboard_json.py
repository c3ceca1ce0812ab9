"""The dashboard is importable as it is: one data-source variable that every
panel uses, unique ids, panels on the grid without overlaps, every query
with a reference id. Runs without a server."""

import dashboard


def test_datasource_is_a_prometheus_variable():
    board = dashboard.load()
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    for panel in dashboard.panels(board):
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "${datasource}", panel["title"]


def test_ids_are_unique_and_panels_do_not_overlap():
    board = dashboard.load()
    all_panels = list(dashboard.panels(board))
    ids = [p["id"] for p in all_panels]
    assert len(ids) == len(set(ids))
    cells = {}
    for panel in all_panels:
        g = panel["gridPos"]
        assert g["x"] >= 0 and g["x"] + g["w"] <= 24, panel["title"]
        for x in range(g["x"], g["x"] + g["w"]):
            for y in range(g["y"], g["y"] + g["h"]):
                assert (x, y) not in cells, f"{panel['title']} overlaps {cells[(x, y)]}"
                cells[(x, y)] = panel["title"]


def test_every_query_has_a_unique_ref_id_and_only_known_variables():
    board = dashboard.load()
    for panel in dashboard.panels(board):
        ref_ids = [t["refId"] for t in panel.get("targets", [])]
        assert len(ref_ids) == len(set(ref_ids)), panel["title"]
    queries = list(dashboard.panel_queries(board))
    assert len(queries) >= 25
    for title, expr in queries:
        assert "auroraedge_" in expr, title


def test_issue_panels_are_present():
    titles = {p["title"] for p in dashboard.panels(dashboard.load())}
    for wanted in ["Requests per second by method and status", "Tokens per second",
                   "Images per second", "End-to-end request latency", "Time to first token",
                   "Inter-token latency", "Waiting and running requests", "Mean batch size",
                   "KV cache use", "Errors by status", "Resident memory"]:
        assert wanted in titles
