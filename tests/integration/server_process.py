"""Runs the real auroraedge-server binary on a free loopback port."""
import os
import re
import signal
import subprocess
import threading
import time

from aurora_client import SERVING, Client

SERVER_BIN = os.environ["AURORAEDGE_TEST_SERVER"]
MODEL_DIR = os.environ["AURORAEDGE_TEST_MODEL"]
START_TIMEOUT_S = float(os.environ.get("AURORAEDGE_TEST_START_TIMEOUT", "600"))


class ServerProcess:
    """One server process; its log lines are collected as they come."""

    def __init__(self, *extra_args, model_dir=MODEL_DIR, threads="2", command=(SERVER_BIN,)):
        """model_dir: --model for the server; None leaves the server's
        embedded default. threads: --threads; None leaves the server's default.
        command: what runs the server, its options appended (a container
        runtime's command line whose entrypoint is the server, for one)."""
        self.args = [*command, "--listen", "127.0.0.1:0", "--metrics-listen", "off",
                     *(["--model", model_dir] if model_dir else []),
                     *(["--threads", threads] if threads else []), *extra_args]
        self.process = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True, errors="replace")
        self.stderr_lines = []
        self.stdout_lines = []
        self._port_found = threading.Event()
        self.port = None
        self._readers = [
            threading.Thread(target=self._read, args=(self.process.stderr, self.stderr_lines, True),
                             daemon=True),
            threading.Thread(target=self._read, args=(self.process.stdout, self.stdout_lines, False),
                             daemon=True)]
        for reader in self._readers:
            reader.start()

    def _read(self, stream, lines, look_for_port):
        for line in stream:
            lines.append(line.rstrip("\n"))
            match = look_for_port and re.search(r"listening on \S+ \(port (\d+)\)", line)
            if match:
                self.port = int(match.group(1))
                self._port_found.set()

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    def log(self):
        return "\n".join(self.stderr_lines)

    def wait_for_log(self, text, timeout=60, after=0):
        """The first stderr line from index `after` on that contains `text`;
        fails if none comes within `timeout` s or the server exits."""
        deadline = time.monotonic() + timeout
        while True:
            for line in self.stderr_lines[after:]:
                if text in line:
                    return line
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"no log line with {text!r}:\n{self.log()}")
            time.sleep(0.05)

    def metrics_port(self):
        """The /metrics port of a server started with --metrics-listen HOST:0."""
        for line in self.stderr_lines:
            match = re.search(r"/metrics \(port (\d+)\)", line)
            if match:
                return int(match.group(1))
        raise AssertionError(f"no metrics endpoint in the log:\n{self.log()}")

    def wait_port(self, timeout=60):
        deadline = time.monotonic() + timeout
        while not self._port_found.wait(0.1):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"server did not start listening:\n{self.log()}")

    def wait_serving(self, timeout=START_TIMEOUT_S, credentials=None):
        """credentials: the TLS client credentials the server asks for; None: plaintext."""
        self.wait_port()
        client = Client(self.address, credentials)
        deadline = time.monotonic() + timeout
        try:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise AssertionError(f"server exited with {self.process.returncode}:\n{self.log()}")
                try:
                    if client.health(timeout=2) == SERVING:
                        return
                except Exception:  # noqa: BLE001 - not up yet
                    pass
                time.sleep(0.2)
        finally:
            client.close()
        raise AssertionError(f"server not SERVING after {timeout} s:\n{self.log()}")

    def terminate(self, sig=signal.SIGTERM, timeout=120):
        """Sends `sig` and returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(f"server did not exit within {timeout} s:\n{self.log()}")
        for reader in self._readers:
            reader.join(5)
        return code

    def wait_exit(self, timeout=60):
        code = self.process.wait(timeout)
        for reader in self._readers:
            reader.join(5)
        return code
