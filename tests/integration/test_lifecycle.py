"""Start-up and shutdown of the real server process: drain on SIGTERM,
UNAVAILABLE while draining, a full queue, and start-up errors."""
import json
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
from aurora_client import NOT_SERVING, SERVING, Client, check_token_count, pb, split_responses
from raw_h2 import RawConnection
from server_process import MODEL_DIR, SERVER_BIN, ServerProcess


def long_request(max_new_tokens=400):
    # A high temperature keeps even a trained model from ending early.
    return pb.GenerateRequest(
        images=[pb.Image(encoded=images.encoded("PNG"))], prompt="Describe the plate.",
        sampling=pb.SamplingParams(max_new_tokens=max_new_tokens, temperature=5.0, seed=7))


def test_sigterm_drains_in_flight_streams_then_exits_zero():
    # One sequence at a time: the later streams wait in the queue. The last
    # stream is read only after the server has refused a new call, so it is
    # surely in flight when the signal comes, however fast the engine is.
    server = ServerProcess("--drain-timeout-ms", "120000", "--max-running-sequences", "1")
    server.wait_serving()
    client = Client(server.address)
    calls = [client.generate_stream(long_request(200)) for _ in range(6)]
    first = next(iter(calls[0]))
    assert first.HasField("chunk")

    finished = {}
    refused = threading.Event()

    def consume(index, call):
        if index == len(calls) - 1:
            refused.wait(120)
        responses = [first] if index == 0 else []
        responses += list(call)
        finished[index] = (time.monotonic(), responses)

    consumers = [threading.Thread(target=consume, args=(i, c)) for i, c in enumerate(calls)]
    for consumer in consumers:
        consumer.start()
    # Connected before the signal: the draining server refuses new connections.
    late = Client(server.address)
    assert late.health(timeout=5) == SERVING
    server.process.send_signal(signal.SIGTERM)
    try:
        # Health answers at once (a Generate would queue behind the streams).
        deadline = time.monotonic() + 60
        while late.health(timeout=5) != NOT_SERVING:
            assert time.monotonic() < deadline, "health never became NOT_SERVING"
            time.sleep(0.01)
        assert late.health(timeout=5, service="auroraedge.v1.Inference") == NOT_SERVING
        with pytest.raises(grpc.RpcError) as refusal:
            late.generate(long_request(1), timeout=30)
        assert refusal.value.code() == grpc.StatusCode.UNAVAILABLE
        refused_at = time.monotonic()
        # Its own connection (the process's channels would share one).
        newcomer = Client(server.address, options=[("grpc.use_local_subchannel_pool", 1)])
        with pytest.raises(grpc.RpcError) as unreachable:
            newcomer.health(timeout=2)
        newcomer.close()
        assert unreachable.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        refused.set()
        late.close()

    for consumer in consumers:
        consumer.join(300)
    assert len(finished) == len(calls)
    for _, responses in finished.values():
        chunks, final = split_responses(responses)
        assert final.finish_reason in (pb.FINISH_REASON_STOP, pb.FINISH_REASON_LENGTH)
        check_token_count(chunks, final)
    assert finished[len(calls) - 1][0] > refused_at
    client.close()
    assert server.wait_exit(120) == 0, server.log()
    assert "draining" in server.log()


def test_a_second_sigterm_during_the_drain_ends_the_streams_at_once():
    # Streams that cannot end by themselves for 10 minutes: their client
    # never opens its receive window, and neither the write timeout nor the
    # drain timeout comes sooner.
    server = ServerProcess("--drain-timeout-ms", "600000", "--stream-write-timeout-ms", "600000")
    try:
        server.wait_serving()
        stuck = RawConnection(server.address, window=0, read=False)
        client = Client(server.address)

        def start_stream():
            return stuck.call("/auroraedge.v1.Inference/Generate", long_request().SerializeToString())

        # Every stream admitted and answering before the signal: a call still
        # being prepared when the drain begins is refused with UNAVAILABLE
        # instead. (Not the KV use: each stream's generation ends within
        # moments, its KV freed, while its writes wait for the window.)
        streams = [start_stream() for _ in range(3)]
        assert stuck.wait_answering(streams, 60), "not every stream started"
        # Connected before the drain closes the listening socket.
        assert client.health() == SERVING
        server.process.send_signal(signal.SIGTERM)
        assert wait_until(lambda: client.health(timeout=5) == NOT_SERVING, 60), "no drain began"
        client.close()
        stuck.pump(1.0)
        assert server.process.poll() is None, "the first signal alone ended the process"
        assert not any(stuck.streams[s].ended for s in streams), [(stuck.streams[s].status, stuck.streams[s].message, stuck.streams[s].reset) for s in streams]

        server.process.send_signal(signal.SIGTERM)
        # Far sooner than the drain or the write timeout would end them.
        assert server.wait_exit(120) == 0, server.log()
        assert "second shutdown signal" in server.log()
        stuck.pump(5)
        assert stuck.closed or all(stuck.streams[s].ended for s in streams)
        stuck.close()
    finally:
        if server.process.poll() is None:
            server.process.kill()


def wait_until(condition, seconds):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_sigint_on_an_idle_server_exits_zero():
    server = ServerProcess()
    server.wait_serving()
    assert server.terminate(signal.SIGINT) == 0, server.log()


def test_full_queue_is_resource_exhausted():
    server = ServerProcess("--max-waiting-requests", "1", "--max-running-sequences", "1")
    server.wait_serving()
    client = Client(server.address)
    calls = [client.generate_stream(long_request(64)) for _ in range(8)]
    codes = []
    for call in calls:
        try:
            for _ in call:
                pass
            codes.append(grpc.StatusCode.OK)
        except grpc.RpcError as error:
            codes.append(error.code())
            if error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED:
                assert "queue" in error.details() or "waiting" in error.details()
    client.close()
    assert grpc.StatusCode.RESOURCE_EXHAUSTED in codes, codes
    assert grpc.StatusCode.OK in codes, codes
    assert set(codes) <= {grpc.StatusCode.OK, grpc.StatusCode.RESOURCE_EXHAUSTED}, codes
    assert server.terminate() == 0, server.log()


def run_server(*args, timeout=120):
    return subprocess.run([SERVER_BIN, "--listen", "127.0.0.1:0", "--metrics-listen", "off", *args],
                          capture_output=True, text=True, timeout=timeout)


def test_missing_model_dir_names_the_file_and_fails():
    result = run_server("--model", "/nonexistent/model-dir")
    assert result.returncode != 0
    assert "/nonexistent/model-dir" in result.stderr


def test_broken_model_dir_names_the_file_and_fails(tmp_path):
    broken = tmp_path / "model"
    shutil.copytree(MODEL_DIR, broken)
    config = json.loads((broken / "config.json").read_text())
    del config["decoder"]
    (broken / "config.json").write_text(json.dumps(config))
    result = run_server("--model", str(broken), "--verify-checksums", "false")
    assert result.returncode != 0
    assert "config.json" in result.stderr


def test_bad_option_fails_with_its_name():
    result = run_server("--model", MODEL_DIR, "--threads", "lots")
    assert result.returncode == 2
    assert "--threads" in result.stderr


def test_help_lists_options_with_defaults_and_env():
    result = run_server("--help")
    assert result.returncode == 0
    for option in ("--listen", "--model", "--config", "--metrics-listen", "--log-format", "--threads"):
        assert option in result.stdout
    assert "AURORAEDGE_LISTEN" in result.stdout


def test_json_logs_and_config_file(tmp_path):
    config = tmp_path / "server.json"
    config.write_text(json.dumps({"log_format": "json", "max_waiting_requests": 3}))
    server = ServerProcess("--config", str(config))
    server.wait_serving()
    client = Client(server.address)
    assert client.info().limits.max_waiting_requests == 3
    client.close()
    assert server.terminate() == 0
    records = [json.loads(line) for line in server.stderr_lines if line.startswith("{")]
    assert records and all("message" in r and "level" in r for r in records)
    assert any("SERVING" in r["message"] for r in records)


def test_metrics_endpoint_counts_grpc_calls():
    server = ServerProcess("--metrics-listen", "127.0.0.1:0")
    server.wait_serving()
    client = Client(server.address)
    client.info()
    client.close()
    ports = [re.search(r"/metrics \(port (\d+)\)", line) for line in server.stderr_lines]
    port = next(int(m.group(1)) for m in ports if m)
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    assert re.search(r'auroraedge_\w+\{[^}]*method="GetModelInfo"', text), text[:2000]
    assert server.terminate() == 0, server.log()
