"""What one misbehaving client can do to everyone else, tried from outside
against the real server: clients that never read, oversized metadata on a
shared connection, too many connections, a second server on the same
address, and a metrics endpoint under idle and trickling clients."""
import re
import socket
import subprocess
import threading
import time
import urllib.request

import pytest

import images
from aurora_client import Client, pb, split_responses
from raw_h2 import RawConnection
from server_process import SERVER_BIN, ServerProcess

GENERATE = "/auroraedge.v1.Inference/Generate"
WRITE_TIMEOUT_MS = 2000
RESOURCE_EXHAUSTED = 8


def long_request(max_new_tokens=400):
    # A high temperature keeps even a trained model from ending early.
    return pb.GenerateRequest(
        images=[pb.Image(encoded=images.encoded("PNG"))], prompt="Describe the plate.",
        sampling=pb.SamplingParams(max_new_tokens=max_new_tokens, temperature=5.0, seed=7))


def short_request():
    return pb.GenerateRequest(prompt="Is the part OK?",
                              sampling=pb.SamplingParams(max_new_tokens=4, temperature=0.0))


def rss_mib(process):
    with open(f"/proc/{process.pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def wait_for(condition, seconds, step=0.2):
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(step)
    return True


def scrape(port, timeout=10):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=timeout) as response:
        return response.read().decode()


@pytest.fixture(scope="module")
def server():
    # The image-feature cache off: the bursts send one image 100 times, and
    # with the cache it is encoded once, which leaves a burst too little
    # transient memory for the memory test to see come back (it asks 5 MiB;
    # with the cache 2.7-4.7 MiB came back, and none stayed behind).
    process = ServerProcess("--image-feature-cache-bytes", "0",
                            "--stream-write-timeout-ms", str(WRITE_TIMEOUT_MS),
                            "--max-waiting-requests", "256", "--max-calls-per-peer", "0",
                            "--max-connections-per-peer", "8",
                            "--metrics-listen", "127.0.0.1:0",
                            "--metrics-request-timeout-ms", "60000",
                            "--metrics-max-connections", "16")
    try:
        process.wait_serving()
        yield process
    finally:
        code = process.terminate()
    assert code == 0, process.log()


def never_reading_burst(server, client):
    """100 Generate streams on 5 connections whose receive windows are never
    opened: the server cannot send them one byte of a response. Checks that
    the server cuts every one off by itself while a reading client is served;
    returns the server's resident memory (MiB) when they are all over."""
    request = long_request().SerializeToString()
    crowd = [RawConnection(server.address, window=0, read=False) for _ in range(5)]
    calls = [(c, [c.call(GENERATE, request) for _ in range(20)]) for c in crowd]
    _, final = split_responses(client.generate(short_request(), timeout=120))
    assert final.completion_tokens >= 1
    for connection, streams in calls:
        assert connection.wait_ended(streams, 120), "a stream the client never read stayed open"
    peak = rss_mib(server.process)
    for connection, streams in calls:
        for stream_id in streams:
            stream = connection.streams[stream_id]
            assert stream.status == RESOURCE_EXHAUSTED, (stream.status, stream.message)
            assert "stream_write_timeout_ms" in stream.message
            assert stream.data == 0
        connection.close()
    assert wait_for(lambda: client.info().kv_cache.tokens_used == 0, 30)
    return peak


def settled_rss(server):
    """Resident memory once the server, idle, has handed freed memory back."""
    previous = rss_mib(server.process)
    for _ in range(20):
        time.sleep(3)  # longer than the idle trim's period
        now = rss_mib(server.process)
        if abs(now - previous) < 1:
            break
        previous = now
    return now


def test_clients_that_never_read_are_cut_off_and_their_memory_comes_back(server):
    client = Client(server.address)
    split_responses(client.generate(short_request()))
    # A first burst builds what stays for good: the linear layers' kernels
    # for the batch sizes it brings (a few MiB).
    never_reading_burst(server, client)
    warm = settled_rss(server)
    first_peak = never_reading_burst(server, client)
    first = settled_rss(server)
    second_peak = never_reading_burst(server, client)
    second = settled_rss(server)
    figures = dict(warm=warm, first_peak=first_peak, first=first, second_peak=second_peak,
                   second=second)
    # Once the server is idle, what each burst of 100 streams took is handed
    # back, and nothing piles up: each stream held about 1 MiB for good
    # before they were cut off, 100 MiB a burst. A few MiB may stay: the
    # linear layers keep a kernel for each batch size they meet.
    assert first < warm + 10 and second < warm + 10, figures
    client.close()


def test_oversized_metadata_is_refused_alone_on_a_shared_connection(server):
    connection = RawConnection(server.address)
    neighbour = connection.call(GENERATE, long_request(64).SerializeToString())
    connection.pump(0.2)
    oversized = connection.call(GENERATE, short_request().SerializeToString(),
                                metadata=[("x-big", "a" * (16 << 10))])
    later = connection.call(GENERATE, short_request().SerializeToString())
    assert connection.wait_ended([neighbour, oversized, later], 120)
    streams = connection.streams
    assert streams[oversized].status == RESOURCE_EXHAUSTED
    assert "request metadata" in streams[oversized].message
    assert "8192" in streams[oversized].message
    assert streams[neighbour].status == 0, streams[neighbour].message
    assert streams[neighbour].data > 0
    assert streams[later].status == 0, streams[later].message
    assert not connection.closed
    connection.close()


def test_connections_from_one_address_are_bounded(server):
    port = int(server.address.rsplit(":", 1)[1])
    before = refused_connections(scrape(server.metrics_port()))
    held = [socket.create_connection(("127.0.0.1", port)) for _ in range(8)]
    refused = socket.create_connection(("127.0.0.1", port))
    refused.settimeout(30)
    try:
        assert refused.recv(1) == b""  # closed by the server at once
    except ConnectionResetError:
        pass
    assert refused_connections(scrape(server.metrics_port())) > before
    for s in held + [refused]:
        s.close()
    # Once they are gone, a client connects again.
    assert wait_for(lambda: _generate_ok(server.address), 60)


def refused_connections(metrics_text):
    found = re.search(r'auroraedge_connections_refused_total\{limit="max_connections_per_peer"\} '
                      r'(\d+)', metrics_text)
    return int(found.group(1)) if found else 0


def _generate_ok(address):
    client = Client(address)
    try:
        split_responses(client.generate(short_request(), timeout=30))
        return True
    except Exception:  # noqa: BLE001 - refused while the old connections close
        return False
    finally:
        client.close()


def test_the_metrics_endpoint_answers_while_idle_and_trickling_clients_hold_it(server):
    port = server.metrics_port()
    idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(100)]
    trickling = [socket.create_connection(("127.0.0.1", port)) for _ in range(100)]
    stop = threading.Event()

    def trickle():
        while not stop.is_set():
            for s in trickling:
                try:
                    s.send(b"X")
                except OSError:
                    pass
            stop.wait(0.2)

    for s in trickling:
        s.send(b"GET /metrics HTTP/1.1\r\nX-Slow: ")
    thread = threading.Thread(target=trickle)
    thread.start()
    try:
        for _ in range(10):
            started = time.monotonic()
            assert "auroraedge_build_info" in scrape(port, timeout=10)
            # The goal is 100 ms; 1 s leaves room for a loaded machine, and
            # one-at-a-time serving took 5 s per idle client.
            assert time.monotonic() - started < 1.0
    finally:
        stop.set()
        thread.join()
        for s in idle + trickling:
            s.close()


def test_a_second_server_on_the_same_address_fails_naming_it(server):
    result = subprocess.run([SERVER_BIN, "--listen", server.address, "--metrics-listen", "off",
                             "--model", "/nonexistent"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stderr
    assert f"cannot listen on {server.address}" in result.stderr
    assert "Address already in use" in result.stderr


def test_servers_share_an_address_when_both_ask_for_it():
    first = ServerProcess("--listen-reuseport", "true")
    second = None
    try:
        first.wait_serving()
        second = ServerProcess("--listen-reuseport", "true", "--listen", first.address)
        second.wait_serving()
        assert second.port == first.port
    finally:
        codes = [p.terminate() for p in (first, second) if p is not None]
        assert codes == [0] * len(codes), first.log()


def test_grpc_memory_quota_cancels_calls_when_requests_being_received_exceed_it():
    # 12 requests that each send 2 MiB of an 8 MiB message and stop: gRPC
    # holds what it received, 24 MiB against a 4 MiB quota.
    server = ServerProcess("--grpc-memory-bytes", str(4 << 20))
    try:
        server.wait_serving()
        connection = RawConnection(server.address)
        streams = [connection.open_call(GENERATE) for _ in range(12)]
        for stream_id in streams:
            connection.send_partial(stream_id, 8 << 20, 2 << 20, seconds=10)
        connection.pump(2)
        cut = [s for s in streams if connection.streams[s].reset or connection.streams[s].status]
        assert cut or connection.closed, "nothing was cancelled above the quota"
        connection.close()
        # What was over the quota is gone; the server serves the next client.
        client = Client(server.address)
        split_responses(client.generate(short_request()))
        client.close()
    finally:
        assert server.terminate() == 0, server.log()
