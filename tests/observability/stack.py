"""Debian's Prometheus for the observability check, on a loopback port of its
own (the server runs through tests/integration/server_process.py)."""

import json
import shutil
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import yaml

import dashboard

PROMETHEUS_CONFIG = dashboard.REPO / "deploy" / "prometheus" / "prometheus.yml"
SCRAPE_INTERVAL = "1s"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(what, check, timeout, process=None):
    """Polls check() until it returns a true value; fails naming `what`."""
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise AssertionError(f"{what}: the process exited with {process.returncode}")
        try:
            result = check()
            if result:
                return result
        except Exception as error:  # noqa: BLE001 - retried until the timeout
            last_error = error
        time.sleep(0.2)
    raise AssertionError(f"{what}: not reached within {timeout} s (last error: {last_error})")


def stop(process, timeout=30):
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class Prometheus:
    """Debian's prometheus with the project's scrape configuration, its target
    and intervals rewritten to the test's server."""

    def __init__(self, metrics_port, workdir: Path):
        config = yaml.safe_load(PROMETHEUS_CONFIG.read_text())
        config["global"]["scrape_interval"] = SCRAPE_INTERVAL
        config["global"]["evaluation_interval"] = SCRAPE_INTERVAL
        config["rule_files"] = [str(PROMETHEUS_CONFIG.parent / f) for f in config["rule_files"]]
        (job,) = [j for j in config["scrape_configs"] if j["job_name"] == "auroraedge"]
        job["static_configs"] = [{"targets": [f"127.0.0.1:{metrics_port}"]}]
        config_path = workdir / "prometheus.yml"
        config_path.write_text(yaml.safe_dump(config))

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(workdir / "prometheus.log", "w")
        self.process = subprocess.Popen(
            [shutil.which("prometheus") or "/usr/bin/prometheus",
             f"--config.file={config_path}", f"--storage.tsdb.path={workdir / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{self.port}"],
            stdout=self.log, stderr=subprocess.STDOUT)
        wait_until("prometheus ready", lambda: self._get("/-/ready", raw=True), 60, self.process)

    def _get(self, path, raw=False, **params):
        url = self.url + path + ("?" + urllib.parse.urlencode(params) if params else "")
        with urllib.request.urlopen(url, timeout=10) as response:
            body = response.read()
        return body if raw else json.loads(body)

    def api(self, path, **params):
        reply = self._get("/api/v1/" + path, **params)
        assert reply["status"] == "success", reply
        return reply["data"]

    def query(self, expr):
        """The instant vector or scalar of `expr`, as a list of (labels, value)."""
        data = self.api("query", query=expr)
        if data["resultType"] == "scalar":
            return [({}, float(data["result"][1]))]
        assert data["resultType"] == "vector", (expr, data)
        return [(r["metric"], float(r["value"][1])) for r in data["result"]]

    def value(self, expr):
        """The single value of `expr`, or None when it has no data."""
        result = self.query(expr)
        assert len(result) <= 1, (expr, result)
        return result[0][1] if result else None

    def close(self):
        stop(self.process)
        self.log.close()
