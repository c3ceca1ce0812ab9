"""Changing the model without downtime (auroraedge.v1.Admin/LoadModel) on the
real server: under continuous streaming load the model is swapped back and
forth between two model directories with distinct versions; no request fails,
each answer equals what the model of its reported version answers alone,
streams running at a switch finish on the old model, every replaced model is
released and the resident memory comes back, health stays SERVING. Broken
and incompatible directories are refused naming the file while the old model
answers; one load at a time; the admin permission; the CLI; SIGTERM in the
middle of a change."""
import hashlib
import importlib.util
import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
import urllib.request

import grpc
import pytest

import images
from aurora_client import SERVING, Client, pb, split_responses
from pki import REPO, new_token, write_token_file
from server_process import MODEL_DIR, ServerProcess

CLI_BIN = os.environ["AURORAEDGE_TEST_CLI"]
# The build's two small models: the same name and version, different weights
# (compressed and baseline path), so their greedy answers differ.
BASELINE_DIR = os.path.join(os.path.dirname(MODEL_DIR), "auroraedge-v-small-baseline")
VERSION_A = "random-seed0"  # MODEL_DIR's
VERSION_B = "swap-b"
CLIENTS = 6
SWAPS = 6
# Only failure guards: every wait ends as soon as what it waits for happens.
PATIENCE_S = 120


def model_copy(source, target, edit_config=None, replace_files=None):
    """A copy of the model directory `source`: config.json edited by
    `edit_config(config)`, files replaced from {name: path}, and manifest.json
    rewritten for the changed files (model/FORMAT.md)."""
    shutil.copytree(source, target)
    changed = []
    if edit_config:
        config_path = os.path.join(target, "config.json")
        with open(config_path) as file:
            config = json.load(file)
        edit_config(config)
        with open(config_path, "w") as file:
            json.dump(config, file, indent=2)
        changed.append("config.json")
    for name, path in (replace_files or {}).items():
        shutil.copyfile(path, os.path.join(target, name))
        changed.append(name)
    manifest_path = os.path.join(target, "manifest.json")
    with open(manifest_path) as file:
        manifest = json.load(file)
    for name in changed:
        with open(os.path.join(target, name), "rb") as file:
            data = file.read()
        manifest["files"][name] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    with open(manifest_path, "w") as file:
        json.dump(manifest, file, indent=2)
    return target


def with_version(version):
    def edit(config):
        config["version"] = version
    return edit


@pytest.fixture(scope="module")
def model_b(tmp_path_factory):
    """The baseline small model under another version."""
    return model_copy(BASELINE_DIR, str(tmp_path_factory.mktemp("models") / "b"),
                      edit_config=with_version(VERSION_B))


def greedy_requests():
    """Long greedy answers (the small models run to max_new_tokens), with
    and without an image, so that streams are running when a switch comes."""
    requests = []
    for i, prompt in enumerate(["Describe the plate.", "Is the part OK or NG?",
                                "Where is the scratch?", "Count the holes."]):
        for with_image in (False, True):
            image = [pb.Image(encoded=images.encoded("PNG", images.part_rgb(64 + 16 * i, 48)))]
            requests.append(pb.GenerateRequest(
                images=image if with_image else [], prompt=prompt,
                sampling=pb.SamplingParams(max_new_tokens=96 + 48 * i, temperature=0)))
    return requests


def tokens_and_final(client, request):
    """(token ids, final message) of one call."""
    chunks, final = split_responses(client.generate(request))
    return [t for chunk in chunks for t in chunk.token_ids], final


def references(client, requests):
    """What the current model answers to each request, alone."""
    return [tokens_and_final(client, request) for request in requests]


def resident_kib(server):
    with open(f"/proc/{server.process.pid}/status") as status:
        return int(re.search(r"VmRSS:\s+(\d+) kB", status.read()).group(1))


def metrics_text(server):
    port = next(int(m.group(1)) for m in
                (re.search(r"/metrics \(port (\d+)\)", line) for line in server.stderr_lines) if m)
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        return response.read().decode()


def released_count(server):
    return sum("released: its last request ended" in line for line in server.stderr_lines)


def wait_until(condition, what):
    deadline = time.monotonic() + PATIENCE_S
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


class StreamingClients:
    """CLIENTS threads streaming the requests round-robin, each over its own
    channel, until stopped; every call's outcome is kept."""

    def __init__(self, address, requests):
        self.requests = requests
        self.results = []  # dicts: index, request_id, tokens, final, error, started_at, ended_at
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(address, n)) for n in range(CLIENTS)]
        for thread in self.threads:
            thread.start()

    def _run(self, address, number):
        client = Client(address, options=[("grpc.use_local_subchannel_pool", 1)])
        calls = 0
        while not self.stop.is_set():
            index = (number + calls) % len(self.requests)
            request = pb.GenerateRequest()
            request.CopyFrom(self.requests[index])
            request.request_id = f"client{number}-{calls}"
            calls += 1
            result = {"index": index, "request_id": request.request_id, "error": None,
                      "started_at": time.monotonic()}
            try:
                result["tokens"], result["final"] = tokens_and_final(client, request)
            except grpc.RpcError as error:
                result["error"] = f"{error.code()}: {error.details()}"
            result["ended_at"] = time.monotonic()
            with self.lock:
                self.results.append(result)
        client.close()

    def answered_by(self, version, since):
        """Calls begun after `since` and answered by `version`."""
        with self.lock:
            return sum(1 for r in self.results if r["error"] is None and r["started_at"] > since
                       and r["final"].model_version == version)

    def join(self):
        self.stop.set()
        for thread in self.threads:
            thread.join(PATIENCE_S)
        return self.results


class HealthWatch:
    """Polls health until stopped; keeps every answer that is not SERVING."""

    def __init__(self, address):
        self.bad = []
        self.checks = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(address,))
        self.thread.start()

    def _run(self, address):
        client = Client(address, options=[("grpc.use_local_subchannel_pool", 1)])
        while not self.stop.is_set():
            try:
                status = client.health(timeout=10)
                if status != SERVING:
                    self.bad.append(status)
            except grpc.RpcError as error:
                self.bad.append(f"{error.code()}: {error.details()}")
            self.checks += 1
            self.stop.wait(0.02)  # pacing, not synchronisation
        client.close()

    def join(self):
        self.stop.set()
        self.thread.join(PATIENCE_S)


def request_log_versions(path):
    """request_id -> model_version of every line of a JSON request log."""
    with open(path) as file:
        return {line["request_id"]: line["model_version"] for line in map(json.loads, file)}


def served_between_switches(result, switches):
    """The version a call must have had when it began after one switch had
    answered and ended before the next was asked for; None when it
    overlapped a switch."""
    version = VERSION_A
    for _, new, asked_at, answered_at in switches:
        if result["ended_at"] <= asked_at:
            return version
        if result["started_at"] < answered_at:
            return None
        version = new
    return version


def test_swapping_back_and_forth_under_load_fails_nothing_and_mixes_no_models(model_b, tmp_path):
    request_log = tmp_path / "requests.jsonl"
    server = ServerProcess("--request-log", str(request_log), "--log-format", "json",
                           "--metrics-listen", "127.0.0.1:0")
    server.wait_serving()
    admin = Client(server.address)
    requests = greedy_requests()
    model_dirs = {VERSION_A: MODEL_DIR, VERSION_B: model_b}
    try:
        # Each model alone, one request at a time: the answers to expect.
        expected = {VERSION_A: references(admin, requests)}
        admin.load_model(model_b)
        expected[VERSION_B] = references(admin, requests)
        admin.load_model(MODEL_DIR)
        for index in range(len(requests)):
            # Otherwise a stream answered by the other model would pass unseen.
            assert expected[VERSION_A][index][0] != expected[VERSION_B][index][0]
            for version in model_dirs:
                assert expected[version][index][1].model_version == version
        wait_until(lambda: released_count(server) == 2, "both models released once")
        resident_before = resident_kib(server)

        clients = StreamingClients(server.address, requests)
        health = HealthWatch(server.address)
        switches = []  # (old version, new version, LoadModel asked at, answered at)
        timings = []  # (load, warm-up) seconds of each LoadModel
        current = VERSION_A
        for _ in range(SWAPS):
            target = VERSION_B if current == VERSION_A else VERSION_A
            since = time.monotonic()
            wait_until(lambda: clients.answered_by(current, since) >= CLIENTS,
                       f"streams answered by {current}")
            asked_at = time.monotonic()
            response = admin.load_model(model_dirs[target])
            switches.append((current, target, asked_at, time.monotonic()))
            assert (response.name, response.version) == ("auroraedge-v-small", target)
            assert (response.previous_name, response.previous_version) == (
                "auroraedge-v-small", current)
            assert response.load_seconds > 0 and response.warm_up_seconds > 0
            timings.append((response.load_seconds, response.warm_up_seconds))
            assert admin.info().version == target
            current = target
        wait_until(lambda: clients.answered_by(current, switches[-1][3]) >= CLIENTS,
                   f"streams answered by {current}")
        results = clients.join()
        health.join()
        wait_until(lambda: released_count(server) == 2 + SWAPS, "every replaced model released")
        resident_after = resident_kib(server)
        metrics = metrics_text(server)
    finally:
        admin.close()
        code = server.terminate()
    assert code == 0, server.log()

    assert [r for r in results if r["error"]] == []
    for r in results:
        assert r["tokens"] == expected[r["final"].model_version][r["index"]][0], r["request_id"]
    for old, new, _, answered_at in switches:
        # Streams running at the switch finished on the old model...
        assert any(r["final"].model_version == old and r["ended_at"] > answered_at
                   for r in results), f"no stream of {old} ran past the switch to {new}"
    # ... and a call made once a switch had answered got the new model.
    between = [(r, served_between_switches(r, switches)) for r in results]
    between = [(r, version) for r, version in between if version is not None]
    assert len(between) >= CLIENTS * (SWAPS + 1)
    for r, version in between:
        assert r["final"].model_version == version, r["request_id"]
    assert health.bad == [] and health.checks > SWAPS

    logged = request_log_versions(request_log)
    for r in results:
        assert logged[r["request_id"]] == r["final"].model_version, r["request_id"]
    # Metrics count each version apart; the replaced model's gauges went with it.
    for version in model_dirs:
        completion = re.search(
            r'auroraedge_completion_tokens_total\{[^}]*version="' + version + r'"[^}]*\} (\S+)',
            metrics)
        assert completion and float(completion.group(1)) > 0, version
    assert re.findall(r'auroraedge_model_info\{[^}]*version="([^"]+)"', metrics) == [VERSION_A]
    drained = [float(m.group(1)) for m in
               (re.search(r"released: its last request ended (\S+) s after", line)
                for line in server.stderr_lines) if m][2:]
    print(f"{len(results)} streams, {SWAPS} swaps under load; load "
          f"{min(t[0] for t in timings):.2f}-{max(t[0] for t in timings):.2f} s, warm-up "
          f"{min(t[1] for t in timings):.2f}-{max(t[1] for t in timings):.2f} s, switch to "
          f"release of the old model {min(drained):.2f}-{max(drained):.2f} s; resident memory "
          f"{resident_before / 1024:.1f} -> {resident_after / 1024:.1f} MiB")


@pytest.fixture(scope="module")
def fat_model(tmp_path_factory):
    """The small model with a decoder MLP 384 times wider: about 75 MB more
    weights, so that its memory stands out of the process's."""
    import torch

    # By its path: the package name `auroraedge` is the generated protos'.
    spec = importlib.util.spec_from_file_location(
        "model_safetensors_io",
        os.path.join(REPO, "model", "python", "auroraedge", "safetensors_io.py"))
    safetensors_io = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(safetensors_io)

    width = 128 * 384
    tensors = safetensors_io.read_safetensors(os.path.join(MODEL_DIR, "decoder.safetensors"))
    generator = torch.Generator().manual_seed(0)
    for name, tensor in list(tensors.items()):
        if ".mlp." in name:
            shape = (width, tensor.shape[1]) if "down_proj" not in name else (tensor.shape[0], width)
            tensors[name] = torch.randn(shape, generator=generator) * 0.02
    scratch = tmp_path_factory.mktemp("fat-weights")
    decoder = str(scratch / "decoder.safetensors")
    safetensors_io.write_safetensors(decoder, tensors)

    def widen(config):
        config["version"] = "fat"
        config["decoder"]["intermediate_size"] = width
    return model_copy(MODEL_DIR, str(tmp_path_factory.mktemp("models") / "fat"),
                      edit_config=widen, replace_files={"decoder.safetensors": decoder})


ROUND_TRIPS = 3
# What a round trip may leave resident, against the small model's first
# figure: measured 6-11 MiB; without the server's fixed mmap threshold
# (large_allocations.h) 41-105 MiB, growing with the round trips.
MAX_KEPT_KIB = 25 * 1024


def test_the_memory_of_a_replaced_model_comes_back(fat_model):
    server = ServerProcess()
    server.wait_serving()
    client = Client(server.address)
    request = greedy_requests()[1]
    figures = []
    try:
        for round_trip in range(ROUND_TRIPS):
            tokens_and_final(client, request)
            small = resident_kib(server)
            assert client.load_model(fat_model).version == "fat"
            assert tokens_and_final(client, request)[1].model_version == "fat"
            wait_until(lambda: released_count(server) == 2 * round_trip + 1, "the small model released")
            fat = resident_kib(server)
            assert client.load_model(MODEL_DIR).version == VERSION_A
            wait_until(lambda: released_count(server) == 2 * round_trip + 2, "the fat model released")
            back = resident_kib(server)
            figures.append((small, fat, back))
            # The fat model's weights (75 MB) were in memory and went with it,
            # round trip after round trip.
            assert fat - small > 50 * 1024, figures
            assert back - figures[0][0] < MAX_KEPT_KIB, figures
    finally:
        client.close()
        assert server.terminate() == 0, server.log()
    print("resident MiB (small model, fat model, small again): " +
          ", ".join(f"({s / 1024:.1f}, {f / 1024:.1f}, {b / 1024:.1f})" for s, f, b in figures))


@pytest.fixture(scope="module")
def swap_server():
    """A server of MODEL_DIR for the refusals below; every test leaves it
    serving MODEL_DIR."""
    server = ServerProcess()
    try:
        server.wait_serving()
        yield server
    finally:
        assert server.terminate() == 0, server.log()


def check_old_model_answers(server, expected_tokens):
    client = Client(server.address)
    try:
        assert client.health() == SERVING
        assert client.info().version == VERSION_A
        tokens, final = tokens_and_final(client, greedy_requests()[0])
        assert (tokens, final.model_version) == (expected_tokens, VERSION_A)
    finally:
        client.close()


def broken_directories(root):
    """name -> (model directory, text its refusal must contain)."""
    demo_decoder = os.path.join(REPO, "models", "auroraedge-demo", "decoder.safetensors")

    def without_decoder(config):
        del config["decoder"]

    def format_2(config):
        config["format_version"] = 2

    # Edited in place, its size unchanged, manifest.json not updated.
    tampered = model_copy(MODEL_DIR, str(root / "checksum"))
    config_path = os.path.join(tampered, "config.json")
    with open(config_path) as file:
        text = file.read()
    with open(config_path, "w") as file:
        file.write(text.replace(f'"{VERSION_A}"', f'"{VERSION_A[:-1]}9"'))
    return {
        "missing": (str(root / "nowhere"), "nowhere' does not exist"),
        "checksum": (tampered, "config.json: checksum mismatch: manifest.json expects sha256"),
        "config": (model_copy(MODEL_DIR, str(root / "config"), edit_config=without_decoder),
                   "config.json"),
        "format": (model_copy(MODEL_DIR, str(root / "format"), edit_config=format_2),
                   "config.json: field 'format_version': expected 1, found 2"),
        # The demo model's decoder weights in the small model: other shapes.
        "incompatible": (model_copy(MODEL_DIR, str(root / "incompatible"),
                                    replace_files={"decoder.safetensors": demo_decoder}),
                         "decoder.safetensors: tensor"),
    }


def test_broken_and_incompatible_directories_are_refused_naming_the_file(swap_server, tmp_path):
    client = Client(swap_server.address)
    expected = tokens_and_final(client, greedy_requests()[0])[0]
    try:
        for name, (model_dir, reason) in broken_directories(tmp_path).items():
            with pytest.raises(grpc.RpcError) as refused:
                client.load_model(model_dir)
            assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT, name
            assert refused.value.details().startswith(f"model_dir: cannot serve {model_dir}: "), name
            assert reason in refused.value.details(), (name, refused.value.details())
            check_old_model_answers(swap_server, expected)
        with pytest.raises(grpc.RpcError) as empty:
            client.load_model("")
        assert empty.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert empty.value.details().startswith("model_dir: empty")
    finally:
        client.close()
    assert "LoadModel refused: model_dir: cannot serve" in swap_server.log()


def test_one_load_at_a_time_a_second_is_aborted(swap_server, tmp_path):
    # The first load reads config.json from a FIFO: it waits there until the
    # test writes, so the second call surely comes while it runs.
    blocked = model_copy(MODEL_DIR, str(tmp_path / "blocked"))
    os.remove(os.path.join(blocked, "config.json"))
    os.mkfifo(os.path.join(blocked, "config.json"))
    client = Client(swap_server.address)
    first = {}
    log_mark = len(swap_server.stderr_lines)

    def load_blocked():
        try:
            first["response"] = client.load_model(blocked)
        except grpc.RpcError as error:
            first["error"] = error

    loader = threading.Thread(target=load_blocked)
    loader.start()
    try:
        swap_server.wait_for_log(f"LoadModel {blocked} (from ", after=log_mark)
        with pytest.raises(grpc.RpcError) as second:
            client.load_model(MODEL_DIR)
        assert second.value.code() == grpc.StatusCode.ABORTED
        assert f"another LoadModel ({blocked}, started" in second.value.details()
    finally:
        # An empty config.json: the first load fails and says why.
        with open(os.path.join(blocked, "config.json"), "w"):
            pass
        loader.join(PATIENCE_S)
    assert first["error"].code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "config.json" in first["error"].details()
    # Free again once the first has answered.
    assert client.load_model(MODEL_DIR).version == VERSION_A
    client.close()


def test_loading_needs_an_admin_token_when_the_server_has_tokens(tmp_path, model_b):
    plc, ops = new_token(), new_token()
    token_file = str(tmp_path / "tokens.json")
    write_token_file(token_file, [
        {"name": "plc-3", "sha256": plc[1], "priorities": ["normal"]},
        {"name": "ops", "sha256": ops[1], "priorities": ["normal"], "admin": True}])
    server = ServerProcess("--token-file", token_file)
    server.wait_serving()
    try:
        for token, code in [(None, grpc.StatusCode.UNAUTHENTICATED),
                            (plc[0], grpc.StatusCode.PERMISSION_DENIED)]:
            client = Client(server.address, token=token)
            with pytest.raises(grpc.RpcError) as refused:
                client.load_model(model_b)
            assert refused.value.code() == code
            client.close()
        # The refusal's log line may come just after the answer.
        wait_until(lambda: "admin: client 'plc-3' may not call the Admin service" in server.log(),
                   "the refusal's log line")
        admin = Client(server.address, token=ops[0])
        assert admin.load_model(model_b).version == VERSION_B
        assert Client(server.address, token=plc[0]).info().version == VERSION_B
        admin.close()
    finally:
        assert server.terminate() == 0, server.log()


def test_cli_load_model_prints_the_new_model_and_exits_one_when_refused(swap_server, model_b):
    def cli(*args):
        return subprocess.run([CLI_BIN, "--address", swap_server.address, *args],
                              capture_output=True, text=True, timeout=PATIENCE_S)
    loaded = cli("load-model", model_b)
    assert loaded.returncode == 0, loaded.stderr
    printed = json.loads(loaded.stdout)
    assert (printed["version"], printed["previous_version"]) == (VERSION_B, VERSION_A)
    assert printed["load_seconds"] > 0 and printed["warm_up_seconds"] > 0
    refused = cli("load-model", "/nonexistent/model")
    assert refused.returncode == 1
    assert "INVALID_ARGUMENT: model_dir: cannot serve /nonexistent/model" in refused.stderr
    back = cli("load-model", MODEL_DIR)
    assert back.returncode == 0 and json.loads(back.stdout)["version"] == VERSION_A
    assert cli("load-model").returncode == 2


def test_sigterm_in_the_middle_of_a_change_drains_the_streams_of_both_models(model_b):
    # One sequence at a time per model: the old model has three long
    # streams to run one after the other when the signal comes.
    server = ServerProcess("--max-running-sequences", "1", "--drain-timeout-ms", "120000")
    server.wait_serving()
    client = Client(server.address)
    long_request = pb.GenerateRequest(prompt="Describe the plate.",
                                      sampling=pb.SamplingParams(max_new_tokens=900, temperature=0))
    old_calls = [client.generate_stream(long_request) for _ in range(3)]
    first = next(iter(old_calls[0]))
    assert first.HasField("chunk")
    assert client.load_model(model_b).version == VERSION_B
    new_call = client.generate_stream(long_request)
    new_first = next(iter(new_call))
    server.process.send_signal(signal.SIGTERM)
    signalled_at = time.monotonic()
    finals = []
    for call, head in [*zip(old_calls, [first, None, None]), (new_call, new_first)]:
        responses = ([head] if head else []) + list(call)
        finals.append((split_responses(responses)[1], time.monotonic()))
    client.close()
    assert server.wait_exit(PATIENCE_S) == 0, server.log()
    assert [final.model_version for final, _ in finals] == [VERSION_A] * 3 + [VERSION_B]
    assert all(final.finish_reason == pb.FINISH_REASON_LENGTH for final, _ in finals)
    # The old model was still answering after the signal.
    assert finals[2][1] > signalled_at
    assert "draining" in server.log()
