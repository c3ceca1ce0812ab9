"""nginx as the gRPC load balancer (deploy/nginx) in front of three real
auroraedge-server replicas on loopback: calls are spread, streams, cancels,
deadlines and the server's message limit pass through, a killed replica
fails only its own streams and comes back after a restart, and a draining
replica is given no new streams.

Every wait is bounded: each call carries a deadline that nginx passes on to
the server (tested below), and every poll of the stack has a time limit
(lb_stack.CALL_TIMEOUT_S)."""

import re
import signal
import subprocess
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest

import images
import raw_grpc
from aurora_client import Client, pb, split_responses
from lb_stack import CALL_TIMEOUT_S, Nginx, Replica, wait_until
from server_process import SERVER_BIN

# The small test model's answers run to max_new_tokens; a long stream takes
# seconds (about 4 s alone on the 2-core machine), a short call milliseconds.
LONG_TOKENS = 900


def request(max_new_tokens, request_id=""):
    return pb.GenerateRequest(
        images=[pb.Image(encoded=images.encoded("PNG"))], prompt="Is the part OK or NG?",
        sampling=pb.SamplingParams(max_new_tokens=max_new_tokens), request_id=request_id)


@pytest.fixture(scope="module")
def replicas():
    started = []
    try:
        for _ in range(3):
            started.append(Replica())
        yield started
    finally:
        for replica in started:
            replica.stop()


@pytest.fixture(scope="module")
def nginx(replicas, tmp_path_factory):
    balancer = Nginx(tmp_path_factory.mktemp("nginx"), replicas)
    yield balancer
    balancer.stop()


@pytest.fixture()
def client(nginx):
    channel = Client(nginx.address)
    yield channel
    channel.close()


def short_calls(client, count, id_prefix=""):
    """`count` short calls through the balancer, 6 at a time; all must succeed.
    With id_prefix, call i has the request id f"{id_prefix}{i}"."""
    def call(i):
        request_id = f"{id_prefix}{i}" if id_prefix else ""
        return client.generate(request(4, request_id), timeout=CALL_TIMEOUT_S)

    with ThreadPoolExecutor(6) as pool:
        results = list(pool.map(call, range(count)))
    for responses in results:
        _, final = split_responses(responses)
        assert final.finish_reason == pb.FINISH_REASON_LENGTH


def test_calls_are_spread_over_the_replicas(client, replicas):
    before = [replica.generate_calls() for replica in replicas]
    short_calls(client, 30)

    def counts():
        counted = [replica.generate_calls() - b for replica, b in zip(replicas, before)]
        return counted if sum(counted) == 30 else None

    counted = wait_until("30 calls counted by the replicas", counts, CALL_TIMEOUT_S)
    # Round robin over one client connection: 10 each.
    assert min(counted) >= 8, counted


def test_a_stream_is_relayed_as_written_and_its_cancel_reaches_the_replica(client, replicas):
    before = sum(replica.finished("cancelled") for replica in replicas)
    call = client.generate_stream(request(LONG_TOKENS), timeout=CALL_TIMEOUT_S)
    # Had nginx held the response back, the first chunk would come after the
    # last and the replica would have finished the request (reason "length").
    first = next(call)
    assert first.HasField("chunk")
    call.cancel()
    wait_until("the replica ending the stream as cancelled",
               lambda: sum(replica.finished("cancelled") for replica in replicas) == before + 1,
               CALL_TIMEOUT_S)


def test_the_deadline_reaches_the_replica(nginx, replicas):
    # The client sends grpc-timeout but does not enforce it: only the replica
    # can end the call at 200 ms, long before the generation would end (had
    # nginx dropped the header: all LONG_TOKENS tokens, status OK, seconds).
    def ended_early():
        return sum(replica.finished("deadline") + replica.finished("cancelled")
                   for replica in replicas)

    before = ended_early()
    refused_frames = nginx.log().count("upstream sent frame for closed stream")
    # The replica's engine ends the call just before the deadline, so that
    # gRPC's own cancel at the deadline never adds a second ending, which
    # nginx would refuse and answer INTERNAL (call_setup.h). When both ended
    # the call, one call in about five failed so: ten calls show it.
    calls = 10
    for _ in range(calls):
        messages, status, message = raw_grpc.unary_stream(
            nginx.address, "/auroraedge.v1.Inference/Generate",
            request(LONG_TOKENS).SerializeToString(), grpc_timeout="200m",
            socket_timeout=CALL_TIMEOUT_S)
        assert status == grpc.StatusCode.DEADLINE_EXCEEDED.value[0], (status, message)
        assert len(messages) < LONG_TOKENS
    assert nginx.log().count("upstream sent frame for closed stream") == refused_frames
    wait_until("the replica ending the requests at their deadline",
               lambda: ended_early() == before + calls, CALL_TIMEOUT_S)


def server_max_request_bytes():
    usage = subprocess.run([SERVER_BIN, "--help"], capture_output=True, text=True,
                           check=True).stdout
    return int(re.search(r"--max-request-bytes N\n.*\n\s+default: (\d+)", usage).group(1))


def test_a_request_over_the_servers_limit_is_refused_by_the_server(client):
    # nginx lets through what the server accepts, so that the server's clear
    # RESOURCE_EXHAUSTED answers an oversized request, not an HTTP 413.
    limit = server_max_request_bytes()
    oversized = pb.GenerateRequest(images=[pb.Image(encoded=bytes(limit + 1024))], prompt="x")
    with pytest.raises(grpc.RpcError) as refused:
        client.generate(oversized, timeout=CALL_TIMEOUT_S)
    assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, refused.value.details()
    assert str(limit) in refused.value.details()
    short_calls(client, 3)


def consume(call):
    """(code, details, responses) of a whole stream."""
    responses = []
    try:
        for response in call:
            responses.append(response)
        return grpc.StatusCode.OK, "", responses
    except grpc.RpcError as error:
        return error.code(), error.details(), responses


def test_a_killed_replica_fails_only_its_own_streams_and_returns_after_a_restart(
        client, nginx, replicas):
    victim, survivors = replicas[1], [replicas[0], replicas[2]]
    # Six streams, two per replica (round robin); the victim runs one
    # sequence at a time, so of its two streams one is answering and one
    # waits without an answer yet.
    assert victim.process.terminate() == 0, victim.process.log()
    victim.extra_args = ("--max-running-sequences", "1")
    victim.start()
    try:
        calls = [client.generate_stream(request(LONG_TOKENS), timeout=CALL_TIMEOUT_S)
                 for _ in range(6)]
        wait_until("six streams in the replicas' engines",
                   lambda: [replica.in_engine() for replica in replicas] == [2, 2, 2],
                   CALL_TIMEOUT_S)
        survivors_ok_before = sum(replica.generate_calls() for replica in survivors)
        victim.kill()
        with ThreadPoolExecutor(len(calls)) as pool:
            outcomes = list(pool.map(consume, calls))

        codes = sorted(code.name for code, _, _ in outcomes)
        # The answering stream: nginx has sent its response headers and can
        # only reset it (RST_STREAM INTERNAL_ERROR, which gRPC reads as
        # INTERNAL). The waiting one: no answer yet, HTTP 502, UNAVAILABLE.
        # nginx does not replay either elsewhere (no non_idempotent).
        assert codes == ["INTERNAL", "OK", "OK", "OK", "OK", "UNAVAILABLE"], outcomes
        for code, details, responses in outcomes:
            if code == grpc.StatusCode.OK:
                _, final = split_responses(responses)
                assert final.completion_tokens == LONG_TOKENS
            elif code == grpc.StatusCode.INTERNAL:
                assert "RST_STREAM" in details, details
            else:
                assert "no replica answered" in details, details

        # New calls go to the live replicas: nginx finds the victim's port
        # closed and moves the call on.
        short_calls(client, 12)
        wait_until("the survivors counting every stream and call",
                   lambda: sum(replica.generate_calls() for replica in survivors)
                   == survivors_ok_before + 4 + 12, CALL_TIMEOUT_S)
    finally:
        if victim.process.process.poll() is not None:
            victim.extra_args = ()
            victim.start()

    # Back on its port, the replica gets calls again once nginx tries it
    # (after fail_timeout, 10 s).
    def victim_called():
        client.generate(request(4), timeout=CALL_TIMEOUT_S)
        return victim.generate_calls() > 0

    wait_until("calls reaching the restarted replica", victim_called, CALL_TIMEOUT_S)


def served_ids(replica, prefix):
    """Requests with an id starting with `prefix` in the replica's request log."""
    return sum(f"request_id={prefix}" in line for line in list(replica.process.stdout_lines))


def test_a_draining_replica_is_given_no_new_streams(client, replicas):
    # One long stream: the replica it went to drains while the new calls come.
    stream = client.generate_stream(request(LONG_TOKENS), timeout=CALL_TIMEOUT_S)
    try:
        assert next(stream).HasField("chunk")
        (draining,) = [replica for replica in replicas if replica.in_engine() == 1]
        draining.process.process.send_signal(signal.SIGTERM)
        wait_until("the replica draining", lambda: "draining" in draining.process.log(),
                   CALL_TIMEOUT_S)
        # Every call succeeds (short_calls), so each was served whole by one
        # replica, whose request log names it; the draining one's log names
        # none. (Its metrics could not tell: once the long stream ends, before
        # or after the calls, it exits.)
        short_calls(client, 12, id_prefix="lb-drain-")
        others = [replica for replica in replicas if replica is not draining]
        wait_until("the other replicas logging the 12 calls",
                   lambda: sum(served_ids(replica, "lb-drain-") for replica in others) == 12,
                   CALL_TIMEOUT_S)
        assert served_ids(draining, "lb-drain-") == 0
    finally:
        code, details, _ = consume(stream)
        for replica in replicas:
            if replica.process.process.poll() is None and "draining" in replica.process.log():
                assert replica.process.wait_exit(CALL_TIMEOUT_S) == 0, replica.process.log()
            if replica.process.process.poll() is not None:
                replica.start()
    assert code == grpc.StatusCode.OK, details
