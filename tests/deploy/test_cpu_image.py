"""The CPU image that docker/build_cpu_image.sh built (CTest's image.build),
started by Debian's podman the way an edge box runs it: host network, a
read-only root filesystem with nothing writable mounted, the image's own
entrypoint, user and environment. It must serve the shipped demo model with
the answers of the locally built server, run as its non-root user, and drain
on SIGTERM, exiting 0."""

import json
import os
import signal
import subprocess
import threading
import uuid
from pathlib import Path

import pytest

from aurora_client import Client, pb, split_responses
from server_process import ServerProcess

IMAGE = os.environ["AURORAEDGE_TEST_IMAGE"]
IMAGE_REPORT = Path(os.environ["AURORAEDGE_TEST_IMAGE_REPORT"])
CLI = os.environ["AURORAEDGE_TEST_CLI"]
SAMPLES = Path(__file__).resolve().parents[2] / "models" / "samples"
TIMEOUT_S = 120

# podman on the storage the build script used (CONTAINERS_STORAGE_CONF, set
# by CTest). runc with cgroupfs, and limits no higher than podman's own: the
# development machine is a VM with hybrid cgroups (crun refuses them) whose
# root lacks CAP_SYS_RESOURCE, so no runtime may raise a limit; on an
# ordinary machine these change nothing that matters to the test.
PODMAN = ["podman", "--runtime", "runc", "--cgroup-manager", "cgroupfs"]


def podman(*args):
    return subprocess.run([*PODMAN, *args], capture_output=True, text=True, timeout=TIMEOUT_S,
                          check=True).stdout.strip()


class Container(ServerProcess):
    """The image's entrypoint (auroraedge-server) with the test's options,
    in the foreground of `podman run`: its output is the server's, its exit
    code the server's."""

    def __init__(self, *server_args):
        self.name = f"auroraedge-test-{uuid.uuid4().hex[:8]}"
        run = [*PODMAN, "run", "--rm", "--name", self.name, "--network", "host",
               "--read-only", "--read-only-tmpfs=false",
               "--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096", IMAGE]
        super().__init__(*server_args, model_dir=None, threads=None, command=run)

    def host_pid(self):
        return int(podman("inspect", "--format", "{{.State.Pid}}", self.name))

    def exec(self, *command):
        return subprocess.run([*PODMAN, "exec", self.name, *command], capture_output=True,
                              text=True, timeout=TIMEOUT_S)


@pytest.fixture(scope="module")
def container():
    process = Container()
    try:
        process.wait_serving(TIMEOUT_S)
        yield process
    finally:
        code = process.terminate(timeout=TIMEOUT_S)
    assert code == 0, process.log()


@pytest.fixture(scope="module")
def local_server():
    """The build's own server with its embedded default model."""
    process = ServerProcess(model_dir=None)
    try:
        process.wait_serving(TIMEOUT_S)
        yield process
    finally:
        assert process.terminate(timeout=TIMEOUT_S) == 0, process.log()


def cli_generate(address, image, prompt):
    result = subprocess.run([CLI, "--address", address, "--deadline-ms", "60000", "generate",
                             "--image", str(image), "--prompt", prompt],
                            capture_output=True, text=True, timeout=TIMEOUT_S)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_image_size_is_reported():
    report = json.loads(IMAGE_REPORT.read_text())
    assert report["image"] == IMAGE
    print(f"{IMAGE}: {report['size_bytes'] / 1e6:.1f} MB, built in {report['build_seconds']} s")
    assert report["size_bytes"] > 0


def test_health_is_serving_through_the_images_own_cli(container):
    result = container.exec("auroraedge-cli", "--address", container.address, "health")
    assert result.returncode == 0, result.stderr
    assert "SERVING" in result.stdout


@pytest.mark.parametrize("sample,prompt", [
    ("scratch-1.png", "Give the inspection record as JSON."),
    ("ok-1.png", "Is the part OK or NG?"),
    ("dent-1.png", "Which defect does the part have?"),
])
def test_a_sample_gets_the_local_servers_answer(container, local_server, sample, prompt):
    in_image = cli_generate(container.address, SAMPLES / sample, prompt)
    local = cli_generate(local_server.address, SAMPLES / sample, prompt)
    assert in_image.strip(), "empty answer"
    assert in_image == local


def test_the_server_runs_as_the_images_non_root_user(container):
    status = Path(f"/proc/{container.host_pid()}/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines())
    assert fields["Name"].strip() == "auroraedge-serv"  # the kernel's 15-character name
    assert fields["Uid"].split() == ["10001"] * 4
    assert fields["Gid"].split() == ["10001"] * 4


def test_nothing_in_the_container_is_writable(container):
    # The server above serves with this filesystem: it needs no writable path
    # (Kubernetes runs it with readOnlyRootFilesystem and no volume but its
    # configuration).
    for path in ("/tmp/probe", "/opt/auroraedge/probe", "/nonexistent/probe"):
        result = container.exec("touch", path)
        assert result.returncode != 0, path
        assert "Read-only file system" in result.stderr or "No such file" in result.stderr, (
            path, result.stderr)


def test_sigterm_drains_the_streams_and_exits_zero():
    # One sequence at a time: the later streams wait in the queue, so they
    # are in flight when the signal comes. A high temperature keeps the
    # trained model from ending its answers early.
    container = Container("--drain-timeout-ms", "120000", "--max-running-sequences", "1")
    try:
        container.wait_serving(TIMEOUT_S)
        client = Client(container.address)
        sample = pb.Image(encoded=(SAMPLES / "ok-1.png").read_bytes())
        request = pb.GenerateRequest(
            images=[sample], prompt="Describe the part.",
            sampling=pb.SamplingParams(max_new_tokens=300, temperature=5.0, seed=7))
        calls = [client.generate_stream(request, timeout=TIMEOUT_S) for _ in range(4)]
        first = next(calls[0])
        assert first.HasField("chunk")
        finished = {}

        def consume(index, call):
            finished[index] = ([first] if index == 0 else []) + list(call)

        consumers = [threading.Thread(target=consume, args=(i, c)) for i, c in enumerate(calls)]
        for consumer in consumers:
            consumer.start()
        container.process.send_signal(signal.SIGTERM)  # podman passes it on
        for consumer in consumers:
            consumer.join(TIMEOUT_S)
        client.close()
        assert sorted(finished) == [0, 1, 2, 3]
        for responses in finished.values():
            _, final = split_responses(responses)
            assert final.finish_reason in (pb.FINISH_REASON_STOP, pb.FINISH_REASON_LENGTH)
        assert container.wait_exit(TIMEOUT_S) == 0, container.log()
        assert "draining" in container.log()
    finally:
        if container.process.poll() is None:
            container.process.kill()
            container.process.wait()
