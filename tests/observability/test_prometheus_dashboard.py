"""The real check of issue 7: a Debian Prometheus scrapes a real
auroraedge-server through the project's scrape configuration while the test
sends a burst of good, bad and cancelled requests; then every query of the
Grafana dashboard must return data through Prometheus' HTTP API, the
counters must agree with what the clients saw, and the request log must tie
each answer to its input's hash."""

import collections
import dataclasses
import json
import math
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import grpc
import pytest

import dashboard
import stack
from client import Client, ServerProcess, generate, png


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("observability")


@dataclasses.dataclass
class RunningServer:
    process: ServerProcess
    metrics_port: int
    request_log: Path
    client: Client


def metrics_port(process):
    for line in process.stderr_lines:
        match = re.search(r"metrics on \S+ \(port (\d+)\)", line)
        if match:
            return int(match.group(1))
    raise AssertionError(f"no metrics port in the server's log:\n{process.log()}")


@pytest.fixture(scope="module")
def server(workdir):
    """The server with its metrics endpoint on a free port and a JSON request
    log."""
    request_log = workdir / "requests.log"
    process = ServerProcess("--metrics-listen", "127.0.0.1:0", "--request-log", str(request_log),
                            "--log-format", "json", "--threads", "1")
    client = None
    try:
        process.wait_serving()
        client = Client(process.address)
        yield RunningServer(process, metrics_port(process), request_log, client)
    finally:
        if client:
            client.close()
        code = process.terminate()
    assert code == 0, process.log()


@pytest.fixture(scope="module")
def prometheus(server, workdir):
    prometheus = stack.Prometheus(server.metrics_port, workdir)
    try:
        stack.wait_until("first scrape of the server",
                         lambda: prometheus.value('up{job="auroraedge"}') == 1, 30,
                         prometheus.process)
        yield prometheus
    finally:
        prometheus.close()


def good_requests(count):
    # Priorities 1..3: line critical, normal, background.
    return [dict(request_id=f"obs-ok-{i}", images=[png(48 + 16 * i, 64, i)] * (1 + i % 2),
                 prompt=f"inspect part {i}", priority=1 + i % 3, max_new_tokens=6 + i % 5,
                 temperature=0.0)
            for i in range(count)]


def bad_requests(max_images):
    good_image = png(64, 64, 99)
    return [
        dict(request_id="obs-bad-temperature", images=[good_image], prompt="inspect",
             temperature=1000.0),
        dict(request_id="obs-bad-bytes", images=[b"not an image"], prompt="inspect"),
        dict(request_id="obs-bad-prompt", images=[good_image], prompt=""),
        dict(request_id="obs-bad-images", images=[good_image] * (max_images + 1), prompt="inspect"),
    ]


def cancelled_requests(count):
    # Sampled at a high temperature from the random-weight model, so that no
    # end-of-sequence token ends them before the cancel.
    return [dict(request_id=f"obs-cancel-{i}", images=[png(64, 64, 200 + i)], prompt="describe",
                 max_new_tokens=512, temperature=50.0, seed=i, cancel_after_first_chunk=True)
            for i in range(count)]


def send(client, requests):
    with ThreadPoolExecutor(max_workers=6) as pool:
        return list(pool.map(lambda r: generate(client, **r), requests))


def wait_for_counter(prometheus, expr, expected):
    stack.wait_until(f"{expr} == {expected}",
                     lambda: prometheus.value(expr) == expected, 30, prometheus.process)


@pytest.fixture(scope="module")
def burst(server, prometheus):
    client = server.client
    max_images = client.info().limits.max_images_per_request
    # One request first, scraped alone: Prometheus must see every series at
    # zero before the burst, or rate() misses the burst's first increase.
    (first, *good) = good_requests(13)
    answered = send(client, [first])
    wait_for_counter(prometheus, 'sum(auroraedge_rpc_requests_total{method="Generate"})', 1)
    answered += send(client, good + bad_requests(max_images))
    # Wait until Prometheus has every token of the first wave before the
    # cancelled requests add tokens that their clients never receive.
    ok = [o for o in answered if o.code == grpc.StatusCode.OK]
    tokens = sum(o.tokens_received for o in ok)
    wait_for_counter(prometheus, "sum(auroraedge_completion_tokens_total)", tokens)
    tokens_scraped = prometheus.value("sum(auroraedge_completion_tokens_total)")
    cancelled = send(client, cancelled_requests(3))
    outcomes = answered + cancelled
    by_code = collections.Counter(o.code.name for o in outcomes)
    for code, count in by_code.items():
        wait_for_counter(prometheus,
                         f'sum(auroraedge_rpc_requests_total{{method="Generate", grpc_code="{code}"}})',
                         count)
    return {"outcomes": outcomes, "ok": ok, "tokens_first_wave": tokens_scraped,
            "by_code": by_code}


def test_the_burst_got_the_statuses_it_asked_for(burst):
    assert burst["by_code"] == {"OK": 13, "INVALID_ARGUMENT": 4, "CANCELLED": 3}
    for outcome in burst["ok"]:
        assert outcome.final.completion_tokens == outcome.tokens_received


def test_requests_by_status_agree_with_the_clients(burst, prometheus):
    scraped = {labels["grpc_code"]: value for labels, value in prometheus.query(
        'sum by (grpc_code) (auroraedge_rpc_requests_total{method="Generate"}) > 0')}
    assert scraped == {code: float(n) for code, n in burst["by_code"].items()}
    assert prometheus.value(
        'sum(auroraedge_requests_finished_total{reason="cancelled"})') == 3
    # Only good requests came with a priority other than normal.
    sent = collections.Counter(r["priority"] for r in good_requests(13))
    for priority, label in ((1, "line_critical"), (3, "background")):
        assert prometheus.value(
            f'sum(auroraedge_requests_finished_total{{priority="{label}"}})') == sent[priority]


def test_tokens_and_images_agree_with_the_clients(burst, prometheus):
    ok = burst["ok"]
    assert burst["tokens_first_wave"] == sum(o.tokens_received for o in ok)
    assert prometheus.value("sum(auroraedge_completion_tokens_total)") >= \
        burst["tokens_first_wave"] + sum(o.tokens_received for o in burst["outcomes"]
                                         if o.code == grpc.StatusCode.CANCELLED)
    assert prometheus.value('sum(auroraedge_requests_finished_total{reason=~"stop|length"})') == \
        len(ok)
    # Every good request's images and prompt tokens are in (requests that
    # failed validation may or may not reach the engine).
    assert prometheus.value("sum(auroraedge_images_total)") >= sum(o.final.images for o in ok)
    assert prometheus.value("sum(auroraedge_prompt_tokens_total)") >= \
        sum(o.final.prompt_tokens for o in ok)


def test_every_dashboard_query_returns_data(burst, prometheus):
    board = dashboard.load()
    empty = []
    for title, expr in dashboard.panel_queries(board):
        values = [value for _, value in prometheus.query(expr)]
        # Rates and what is computed from them must show the burst; gauges
        # (waiting, KV cache in use) may read 0 once it is over.
        shown = [v for v in values if math.isfinite(v) and (v > 0 or "rate(" not in expr)]
        if not shown:
            empty.append(f"{title}: {expr} -> {values}")
    assert not empty, "dashboard queries without data:\n" + "\n".join(empty)
    for name, metric, label in dashboard.variable_queries(board):
        assert all(label in labels for labels, _ in prometheus.query(metric)), name
        assert prometheus.query(metric), name


def test_alert_rules_evaluate_without_errors(burst, prometheus):
    groups = prometheus.api("rules")["groups"]
    rules = [rule for group in groups for rule in group["rules"]]
    assert len(rules) >= 4
    stack.wait_until("alert rules evaluated",
                     lambda: all(r["health"] == "ok" for g in prometheus.api("rules")["groups"]
                                 for r in g["rules"]), 15, prometheus.process)


def test_request_log_ties_each_answer_to_its_input(burst, server):
    lines = [json.loads(line) for line in server.request_log.read_text().splitlines()]
    by_id = {line["request_id"]: line for line in lines}
    for outcome in burst["ok"]:
        line = by_id[outcome.request_id]
        assert line["status"] == "OK"
        assert [image["sha256"] for image in line["images"]] == outcome.image_sha256
        assert line["output"] == outcome.text
        assert line["completion_tokens"] == outcome.tokens_received
        assert line["model_version"]
        assert line["client"]
    for outcome in burst["outcomes"]:
        if outcome.code == grpc.StatusCode.CANCELLED:
            assert by_id[outcome.request_id]["finish_reason"] == "cancelled"
