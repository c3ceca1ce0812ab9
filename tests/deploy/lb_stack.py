"""Three real auroraedge-server replicas behind Debian's nginx, run with the
project's configuration (deploy/nginx) on free loopback ports: the addresses
of nginx.conf and upstream-box.conf are rewritten, nothing else."""

import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import urllib.request
from pathlib import Path

# On the path of conftest.py: the integration tests' server harness, the
# observability tests' helpers (wait_until is re-exported).
from server_process import ServerProcess
from stack import free_port, wait_until  # noqa: F401

NGINX_DIR = Path(__file__).resolve().parents[2] / "deploy" / "nginx"
NGINX = os.environ.get("AURORAEDGE_NGINX") or shutil.which("nginx") or "/usr/sbin/nginx"
# How long a call, or a wait on the stack, may take before the test fails.
CALL_TIMEOUT_S = 60


class Replica:
    """One server process with its metrics endpoint; restartable on the same
    gRPC port, which nginx's configuration names."""

    def __init__(self, *extra_args):
        self.extra_args = extra_args
        self.port = None
        self.process = None
        self.start()

    def start(self):
        listen = ["--listen", f"127.0.0.1:{self.port}"] if self.port else []
        self.process = ServerProcess("--metrics-listen", "127.0.0.1:0", "--threads", "1",
                                     *listen, *self.extra_args)
        self.process.wait_serving()
        assert self.port in (None, self.process.port)
        self.port = self.process.port

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    def metrics_port(self):
        for line in self.process.stderr_lines:
            match = re.search(r"metrics on \S+ \(port (\d+)\)", line)
            if match:
                return int(match.group(1))
        raise AssertionError(f"no metrics port in the replica's log:\n{self.process.log()}")

    def metrics(self):
        """{(name, ((label, value), ...)): value} of GET /metrics."""
        url = f"http://127.0.0.1:{self.metrics_port()}/metrics"
        with urllib.request.urlopen(url, timeout=10) as response:
            text = response.read().decode()
        samples = {}
        for line in text.splitlines():
            match = re.fullmatch(r"([a-z_:][a-z0-9_:]*)(?:\{(.*)\})? (\S+)", line)
            if match:
                labels = tuple(sorted(re.findall(r'(\w+)="([^"]*)"', match.group(2) or "")))
                samples[(match.group(1), labels)] = float(match.group(3))
        return samples

    def generate_calls(self, code="OK"):
        """Generate calls this replica finished with `code` (None: any code)."""
        return int(sum(value for (name, labels), value in self.metrics().items()
                       if name == "auroraedge_rpc_requests_total"
                       and ("method", "Generate") in labels
                       and (code is None or ("grpc_code", code) in labels)))

    def finished(self, reason):
        """Requests this replica's engine finished with `reason`, all priorities."""
        return int(sum(value for (name, labels), value in self.metrics().items()
                       if name == "auroraedge_requests_finished_total"
                       and ("reason", reason) in labels))

    def in_engine(self):
        """Requests admitted and not finished: waiting or running."""
        samples = self.metrics()
        return int(sum(value for (name, _), value in samples.items()
                       if name in ("auroraedge_requests_waiting", "auroraedge_requests_running")))

    def kill(self):
        self.process.process.kill()
        self.process.wait_exit(CALL_TIMEOUT_S)

    def stop(self):
        if self.process.process.poll() is None:
            code = self.process.terminate(signal.SIGTERM, timeout=CALL_TIMEOUT_S)
            assert code == 0, self.process.log()


class Nginx:
    """Debian's nginx with deploy/nginx/nginx.conf and upstream-box.conf,
    their listen port and replica addresses rewritten to the test's."""

    def __init__(self, workdir: Path, replicas):
        self.port = free_port()
        self.prefix = workdir
        self.prefix.mkdir(parents=True, exist_ok=True)
        config = rewrite(NGINX_DIR / "nginx.conf", r"listen 8080 ", f"listen 127.0.0.1:{self.port} ",
                         count=1)
        (self.prefix / "nginx.conf").write_text(config)
        upstream = (NGINX_DIR / "upstream-box.conf").read_text()
        box_addresses = re.findall(r"server (127\.0\.0\.1:\d+) ", upstream)
        assert len(box_addresses) == len(replicas), box_addresses
        for box, replica in zip(box_addresses, replicas):
            upstream = rewrite_text(upstream, f"server {box} ", f"server {replica.address} ", 1)
        (self.prefix / "upstream.conf").write_text(upstream)
        self.access_log = []
        self.process = subprocess.Popen(
            [NGINX, "-p", f"{self.prefix}/", "-c", str(self.prefix / "nginx.conf"), "-e", "stderr"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace")
        self.stderr_lines = []
        self._readers = [threading.Thread(target=self._read, args=(stream, lines), daemon=True)
                         for stream, lines in ((self.process.stdout, self.access_log),
                                               (self.process.stderr, self.stderr_lines))]
        for reader in self._readers:
            reader.start()
        wait_until("nginx accepting", self._accepting, CALL_TIMEOUT_S, self.process)

    @staticmethod
    def _read(stream, lines):
        for line in stream:
            lines.append(line.rstrip("\n"))

    def _accepting(self):
        with socket.create_connection(("127.0.0.1", self.port), timeout=1):
            return True

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    def log(self):
        return "\n".join(["nginx error log:", *self.stderr_lines, "nginx access log:",
                          *self.access_log])

    def stop(self):
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(CALL_TIMEOUT_S)
        for reader in self._readers:
            reader.join(5)


def rewrite_text(text, old, new, count):
    """text with `old` replaced by `new`; fails unless it occurs `count` times."""
    assert text.count(old) == count, f"{old!r} occurs {text.count(old)} times, not {count}"
    return text.replace(old, new)


def rewrite(path, old, new, count):
    return rewrite_text(path.read_text(), old, new, count)

