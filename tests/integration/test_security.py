"""Transport security and client identity on the real server: TLS, mTLS and
bearer tokens with certificates and tokens made at test time by openssl
(pki.py), Python's grpcio as the outside client, SIGHUP reloads, and the CLI."""
import os
import re
import shutil
import signal
import subprocess
import time
import types
import urllib.request

import grpc
import pytest

from aurora_client import SERVING, Client, check_token_count, pb, split_responses
from pki import REPO, Authority, credentials, new_token, write_token_file
from server_process import MODEL_DIR, SERVER_BIN, ServerProcess

CLI_BIN = os.environ["AURORAEDGE_TEST_CLI"]
SAMPLE_IMAGE = os.path.join(REPO, "models", "samples", "scratch-1.png")
SERVER_EXTENSIONS = "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth"
# Every client gets its own connection: gRPC would otherwise share one
# between channels with equal arguments, and a test that asks which
# certificate a new connection sees must really open one.
OWN_CONNECTION = [("grpc.use_local_subchannel_pool", 1)]


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    root = tmp_path_factory.mktemp("pki")
    plant = Authority(str(root / "plant"), "plc-3")
    plant.sign_expired("plc-old", "/O=AuroraEdge/CN=plc-old", "extendedKeyUsage=clientAuth")
    plant.sign_expired("server-old", "/O=AuroraEdge/CN=auroraedge-server", SERVER_EXTENSIONS)
    other = Authority(str(root / "other"), "intruder")
    return types.SimpleNamespace(plant=plant, other=other)


@pytest.fixture(scope="module")
def tokens(tmp_path_factory):
    line3, batch, trickle = new_token(), new_token(), new_token()
    path = str(tmp_path_factory.mktemp("tokens") / "tokens.json")
    write_token_file(path, [
        {"name": "line-3", "sha256": line3[1], "priorities": ["line_critical", "normal"]},
        {"name": "batch", "sha256": batch[1], "priorities": ["background"]},
        # Two calls at once, then one per 1,000 s: the third call is surely over.
        {"name": "trickle", "sha256": trickle[1], "priorities": ["normal"],
         "requests_per_second": 0.001, "burst": 2}])
    return types.SimpleNamespace(path=path, line3=line3[0], batch=batch[0], trickle=trickle[0])


@pytest.fixture(scope="module")
def mtls_server(pki, tokens):
    """TLS with client certificates of the plant CA, and bearer tokens."""
    server = ServerProcess(
        "--tls-cert", pki.plant.path("server.pem"), "--tls-key", pki.plant.path("server.key"),
        "--tls-client-ca", pki.plant.path("ca.pem"), "--token-file", tokens.path,
        "--metrics-listen", "127.0.0.1:0")
    try:
        server.wait_serving(credentials=credentials(pki.plant, "plc-3"))
        yield server
    finally:
        code = server.terminate()
    assert code == 0, server.log()


def plc3(server, pki, token):
    """The plant's client plc-3 with `token`."""
    return Client(server.address, credentials(pki.plant, "plc-3"), token, OWN_CONNECTION)


def short_request(priority=pb.PRIORITY_NORMAL, request_id=""):
    return pb.GenerateRequest(prompt="Is the part OK or NG?", priority=priority,
                              request_id=request_id,
                              sampling=pb.SamplingParams(max_new_tokens=4, temperature=0.0))


def refused_code(call):
    with pytest.raises(grpc.RpcError) as refused:
        call()
    return refused.value.code()


def wait_request_log(server, request_id, timeout=60):
    """The request log line (standard output) of `request_id`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in list(server.stdout_lines):
            if f"request_id={request_id} " in line:
                return line
        time.sleep(0.05)
    raise AssertionError(f"no request log line for {request_id}")


def rpc_count(server, method, code):
    """Finished calls of `method` with `code`, from the server's /metrics."""
    port = next(int(m.group(1)) for m in
                (re.search(r"/metrics \(port (\d+)\)", line) for line in server.stderr_lines) if m)
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=30) as response:
        text = response.read().decode()
    for line in text.splitlines():
        if (line.startswith("auroraedge_rpc_requests_total{") and f'method="{method}"' in line
                and f'grpc_code="{code}"' in line):
            return float(line.rsplit(" ", 1)[1])
    return 0


def all_output(server):
    return "\n".join(server.stdout_lines + server.stderr_lines)


def test_a_known_certificate_and_token_are_served_and_named_in_the_request_log(
        mtls_server, pki, tokens):
    client = plc3(mtls_server, pki, tokens.line3)
    try:
        chunks, final = split_responses(client.generate(short_request(request_id="sec-identity")))
        assert client.info().name
    finally:
        client.close()
    check_token_count(chunks, final)
    line = wait_request_log(mtls_server, "sec-identity")
    # The client's identity: its token's name and its certificate's subject.
    assert re.search(r'client="ipv4:127\.0\.0\.1:\d+ token=line-3 subject=[^"]*CN=plc-3', line), line
    assert "O=AuroraEdge" in line
    assert tokens.line3 not in all_output(mtls_server)
    assert "gRPC port security: TLS, certificate" in mtls_server.log()
    assert "client certificates required" in mtls_server.log()
    assert "reachable from other machines" not in mtls_server.log()


@pytest.mark.parametrize("case", ["no client certificate", "client certificate of another CA",
                                  "expired client certificate"])
def test_the_server_refuses_the_handshake(case, mtls_server, pki, tokens):
    refused_credentials = {
        "no client certificate": credentials(pki.plant),
        "client certificate of another CA": credentials(pki.plant, "intruder", issuer=pki.other),
        "expired client certificate": credentials(pki.plant, "plc-old"),
    }[case]
    mark = len(mtls_server.stderr_lines)
    refused = Client(mtls_server.address, refused_credentials, tokens.line3, OWN_CONNECTION)
    good = plc3(mtls_server, pki, tokens.line3)
    try:
        assert refused_code(lambda: refused.info(timeout=30)) == grpc.StatusCode.UNAVAILABLE
        assert good.info(timeout=30).name
    finally:
        refused.close()
        good.close()
    # gRPC's own log line says the server ended the handshake.
    mtls_server.wait_for_log("Handshake failed", after=mark)


def test_the_client_refuses_a_server_certificate_of_an_unknown_ca(mtls_server, pki, tokens):
    # plc-3's certificate is good, but the client trusts only the other CA.
    client = Client(mtls_server.address, credentials(pki.other, "plc-3", issuer=pki.plant),
                    tokens.line3, OWN_CONNECTION)
    try:
        assert refused_code(lambda: client.info(timeout=30)) == grpc.StatusCode.UNAVAILABLE
    finally:
        client.close()


def test_a_missing_or_wrong_token_is_unauthenticated_before_any_model_work(
        mtls_server, pki, tokens):
    before = rpc_count(mtls_server, "Generate", "UNAUTHENTICATED")
    wrong_token = "not-" + tokens.line3
    clients = {"missing": plc3(mtls_server, pki, None), "wrong": plc3(mtls_server, pki, wrong_token),
               "basic": plc3(mtls_server, pki, None)}
    clients["basic"].metadata = (("authorization", "Basic " + tokens.line3),)
    try:
        for name, client in clients.items():
            request = short_request(request_id=f"sec-unauthenticated-{name}")
            assert refused_code(lambda: client.generate(request)) == grpc.StatusCode.UNAUTHENTICATED
            assert refused_code(client.info) == grpc.StatusCode.UNAUTHENTICATED
            assert client.health() == SERVING  # probes need no token
        with pytest.raises(grpc.RpcError) as missing:
            clients["missing"].info()
        assert "authorization: Bearer <token>" in missing.value.details()
        good = plc3(mtls_server, pki, tokens.line3)
        good.generate(short_request(request_id="sec-after-unauthenticated"))
        good.close()
    finally:
        for client in clients.values():
            client.close()
    # The engine never saw the refused calls: the request log, written by the
    # engine in order, has the later good request and none of them.
    wait_request_log(mtls_server, "sec-after-unauthenticated")
    assert not any("sec-unauthenticated-" in line for line in mtls_server.stdout_lines)
    assert rpc_count(mtls_server, "Generate", "UNAUTHENTICATED") == before + 3
    refusal = mtls_server.wait_for_log("Generate refused with UNAUTHENTICATED: unknown bearer token")
    assert "subject=" in refusal and "CN=plc-3" in refusal
    assert wrong_token not in all_output(mtls_server)
    assert tokens.line3 not in all_output(mtls_server)


def test_a_priority_the_token_may_not_use_is_permission_denied(mtls_server, pki, tokens):
    batch = plc3(mtls_server, pki, tokens.batch)
    line3 = plc3(mtls_server, pki, tokens.line3)
    try:
        for priority in (pb.PRIORITY_NORMAL, pb.PRIORITY_UNSPECIFIED, pb.PRIORITY_LINE_CRITICAL):
            request = short_request(priority)
            assert refused_code(lambda: batch.generate(request)) == grpc.StatusCode.PERMISSION_DENIED
        with pytest.raises(grpc.RpcError) as denied:
            line3.generate(short_request(pb.PRIORITY_BACKGROUND))
        assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert denied.value.details() == (
            "priority: client 'line-3' may not use background (allowed: line_critical, normal)")
        # What each token allows goes through.
        split_responses(batch.generate(short_request(pb.PRIORITY_BACKGROUND)))
        split_responses(line3.generate(short_request(pb.PRIORITY_LINE_CRITICAL)))
        assert batch.info().name  # GetModelInfo has no priority
    finally:
        batch.close()
        line3.close()
    line = mtls_server.wait_for_log("Generate refused with PERMISSION_DENIED")
    assert "token=batch" in line or "token=line-3" in line


def test_a_client_over_its_rate_is_resource_exhausted_while_others_are_served(
        mtls_server, pki, tokens):
    trickle = plc3(mtls_server, pki, tokens.trickle)
    line3 = plc3(mtls_server, pki, tokens.line3)
    try:
        # line-3's stream runs across trickle's refusals.
        stream = line3.generate_stream(pb.GenerateRequest(
            prompt="Describe the plate.", sampling=pb.SamplingParams(max_new_tokens=64)))
        first = next(stream)
        assert trickle.info().name
        assert trickle.info().name
        with pytest.raises(grpc.RpcError) as over:
            trickle.info()
        assert over.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert over.value.details() == (
            "client 'trickle' is over its rate of 0.001 requests/s, burst 2")
        assert refused_code(lambda: trickle.generate(short_request())) == (
            grpc.StatusCode.RESOURCE_EXHAUSTED)
        for _ in range(10):
            assert line3.info().name
        split_responses(line3.generate(short_request()))
        chunks, final = split_responses([first, *stream])
        check_token_count(chunks, final)
    finally:
        trickle.close()
        line3.close()
    mtls_server.wait_for_log("refused with RESOURCE_EXHAUSTED: client 'trickle' is over its rate")


def test_the_cli_speaks_tls_mtls_and_tokens(mtls_server, pki, tokens, tmp_path):
    token_file = tmp_path / "token.txt"
    token_file.write_text(tokens.line3 + "\n")

    def cli(*args):
        return subprocess.run([CLI_BIN, "--address", mtls_server.address, *args],
                              capture_output=True, text=True, timeout=300)

    mtls = ["--tls-ca", pki.plant.path("ca.pem"), "--tls-cert", pki.plant.path("plc-3.pem"),
            "--tls-key", pki.plant.path("plc-3.key")]
    answer = cli(*mtls, "--token-file", str(token_file), "generate", "--image", SAMPLE_IMAGE,
                 "--prompt", "Is the part OK or NG?", "--max-new-tokens", "3")
    assert answer.returncode == 0, answer.stderr
    assert "finish=length" in answer.stderr
    info = cli(*mtls, "--token", tokens.line3, "info")
    assert info.returncode == 0, info.stderr
    wrong = cli(*mtls, "--token", "wrong-token", "info")
    assert wrong.returncode == 1
    assert "UNAUTHENTICATED: unknown bearer token" in wrong.stderr
    no_certificate = cli("--tls-ca", pki.plant.path("ca.pem"), "--token-file", str(token_file),
                         "--deadline-ms", "20000", "info")
    assert no_certificate.returncode == 3, no_certificate.stderr
    plaintext = cli("--deadline-ms", "20000", "health")
    assert plaintext.returncode == 3, plaintext.stderr
    missing = cli("--tls-ca", str(tmp_path / "none.pem"), "health")
    assert missing.returncode == 2
    assert "--tls-ca" in missing.stderr and "cannot be read" in missing.stderr


def tls_server(pki, directory, *extra):
    """A TLS server (no client certificates) on copies of the plant's
    server certificate and key, which the test may overwrite."""
    cert, key = os.path.join(directory, "server.pem"), os.path.join(directory, "server.key")
    shutil.copy(pki.plant.path("server.pem"), cert)
    shutil.copy(pki.plant.path("server.key"), key)
    server = ServerProcess("--tls-cert", cert, "--tls-key", key, *extra)
    server.wait_serving(credentials=credentials(pki.plant))
    return server, cert, key


def sighup(server, expected):
    mark = len(server.stderr_lines)
    server.process.send_signal(signal.SIGHUP)
    return server.wait_for_log(expected, after=mark)


def test_sighup_serves_a_renewed_certificate_to_new_connections_and_keeps_streams(pki, tmp_path):
    server, cert, key = tls_server(pki, str(tmp_path), "--stream-buffer-chunks", "4096",
                                   "--metrics-listen", "127.0.0.1:0")
    # A small receive window (no BDP probing, 1 KiB lookahead): the stream
    # below carries about 100 KiB (a 128-byte request id echoed in each of
    # some 600 messages), so it cannot end while the client does not read.
    old = Client(server.address, credentials(pki.plant), None,
                 OWN_CONNECTION + [("grpc.http2.bdp_probe", 0), ("grpc.http2.lookahead_bytes", 1024)])
    request_id = "sec-reload-" + "x" * 117
    try:
        call = old.generate_stream(pb.GenerateRequest(
            prompt="Describe the plate.", request_id=request_id,
            sampling=pb.SamplingParams(max_new_tokens=800, temperature=5.0, seed=7)))
        first = next(call)
        wait_request_log(server, request_id)  # the engine is done; the call is not
        assert rpc_count(server, "Generate", "OK") == 0

        shutil.copy(pki.other.path("server.pem"), cert)
        shutil.copy(pki.other.path("server.key"), key)
        line = sighup(server, "SIGHUP: reloaded the TLS certificate")
        assert "not after" in line
        # New connections get the renewed certificate within the provider's
        # refresh interval (1 s); each try is a new connection.
        deadline = time.monotonic() + 60
        while True:
            renewed = Client(server.address, credentials(pki.other), None, OWN_CONNECTION)
            try:
                assert renewed.info(timeout=10).name
                break
            except grpc.RpcError as error:
                assert error.code() == grpc.StatusCode.UNAVAILABLE
                assert time.monotonic() < deadline, "the renewed certificate is never served"
                time.sleep(0.1)
            finally:
                renewed.close()
        stale = Client(server.address, credentials(pki.plant), None, OWN_CONNECTION)
        try:
            assert refused_code(lambda: stale.info(timeout=30)) == grpc.StatusCode.UNAVAILABLE
        finally:
            stale.close()

        # The connection made under the old certificate is still up: a new
        # call on it works (a new connection would fail, as just seen).
        assert old.info(timeout=30).name
        # The stream opened under the old certificate was in flight all along
        # and ends whole.
        assert rpc_count(server, "Generate", "OK") == 0
        chunks, final = split_responses([first, *call])
        assert final.finish_reason in (pb.FINISH_REASON_STOP, pb.FINISH_REASON_LENGTH)
        check_token_count(chunks, final)
        assert len(chunks) > 500
        assert rpc_count(server, "Generate", "OK") == 1
    finally:
        old.close()
        code = server.terminate()
    assert code == 0, server.log()


def test_sighup_keeps_the_certificate_in_use_when_the_new_files_fail(pki, tmp_path):
    server, cert, key = tls_server(pki, str(tmp_path))
    try:
        failures = [
            (pki.plant.path("server-old.pem"), pki.plant.path("server-old.key"), "expired on"),
            (pki.plant.path("server.pem"), pki.other.path("server.key"),
             "does not belong to the certificate"),
            (pki.plant.path("server.pem"), None, "cannot be opened"),
        ]
        for new_cert, new_key, problem in failures:
            shutil.copy(new_cert, cert)
            if new_key:
                shutil.copy(new_key, key)
            else:
                os.remove(key)
            line = sighup(server, "SIGHUP: cannot reload the TLS certificate")
            assert problem in line, line
            assert "keeping certificate" in line and "CN=auroraedge-server" in line
        # Longer than two refreshes of the provider (1 s each): every new
        # connection still gets the certificate the plant CA signed.
        until = time.monotonic() + 3
        while time.monotonic() < until:
            client = Client(server.address, credentials(pki.plant), None, OWN_CONNECTION)
            try:
                assert client.info(timeout=30).name
            finally:
                client.close()
        assert server.process.poll() is None
    finally:
        code = server.terminate()
    assert code == 0, server.log()


def info_status(server, token):
    """GetModelInfo's status code over a new plaintext connection with `token`."""
    client = Client(server.address, token=token)
    try:
        client.info()
        return grpc.StatusCode.OK
    except grpc.RpcError as error:
        return error.code()
    finally:
        client.close()


def test_sighup_reloads_the_token_file_and_keeps_it_when_the_new_one_is_broken(tmp_path):
    first, renewed = new_token(), new_token()
    path = str(tmp_path / "tokens.json")
    write_token_file(path, [{"name": "mes", "sha256": first[1], "priorities": ["normal"]}])
    # Tokens on a plaintext loopback port (for example behind a TLS proxy).
    server = ServerProcess("--token-file", path)
    try:
        server.wait_serving()
        assert info_status(server, first[0]) == grpc.StatusCode.OK

        write_token_file(path, [{"name": "mes-2", "sha256": renewed[1], "priorities": ["normal"]}])
        line = sighup(server, "SIGHUP: reloaded the token file")
        assert "1 client token(s)" in line
        assert info_status(server, first[0]) == grpc.StatusCode.UNAUTHENTICATED
        assert info_status(server, renewed[0]) == grpc.StatusCode.OK

        write_token_file(path, [{"name": "mes", "sha256": first[1], "priorities": ["urgent"]}])
        line = sighup(server, "SIGHUP: cannot reload the token file")
        assert "tokens[0].priorities[0]: urgent is not line_critical, normal or background" in line
        assert "keeping the 1 client token(s) in use" in line
        assert info_status(server, renewed[0]) == grpc.StatusCode.OK
        assert info_status(server, first[0]) == grpc.StatusCode.UNAUTHENTICATED
        assert first[0] not in all_output(server) and renewed[0] not in all_output(server)
    finally:
        code = server.terminate()
    assert code == 0, server.log()


def test_sighup_on_a_plaintext_server_neither_stops_nor_drains_it(server, client):
    sighup(server, "SIGHUP: nothing to reload")
    assert client.health() == SERVING
    split_responses(client.generate(short_request()))
    assert server.process.poll() is None


def run_server(*args):
    return subprocess.run([SERVER_BIN, "--listen", "127.0.0.1:0", "--metrics-listen", "off",
                           "--model", MODEL_DIR, *args], capture_output=True, text=True, timeout=300)


def test_unusable_tls_or_token_files_stop_the_server_at_start(pki, tmp_path):
    plant = pki.plant
    bad_tokens = tmp_path / "tokens.json"
    bad_tokens.write_text('{"tokens": [{"name": "a b", "sha256": "00", "priorities": []}]}')
    cases = [
        (["--tls-cert", plant.path("server-old.pem"), "--tls-key", plant.path("server-old.key")],
         f"certificate {plant.path('server-old.pem')}: expired on Jan  2 00:00:00 2020 GMT"),
        (["--tls-cert", plant.path("server.pem"), "--tls-key", plant.path("plc-3.key")],
         f"private key {plant.path('plc-3.key')}: does not belong to the certificate"),
        (["--tls-cert", plant.path("server.pem"), "--tls-key", str(tmp_path / "none.key")],
         f"private key {tmp_path / 'none.key'}: cannot be opened"),
        (["--tls-cert", plant.path("server.pem"), "--tls-key", plant.path("server.key"),
          "--tls-client-ca", plant.path("server.key")],
         f"client CA {plant.path('server.key')}: holds no PEM certificate"),
        (["--token-file", str(bad_tokens)],
         f"token file {bad_tokens}: tokens[0].name: 'a b' is not 1 to 64 characters"),
        (["--tls-client-ca", plant.path("ca.pem")], "--tls-client-ca: needs --tls-cert"),
    ]
    for args, message in cases:
        result = run_server(*args)
        assert result.returncode == 2, (args, result.stderr)
        assert message in result.stderr, result.stderr


def test_plaintext_beyond_loopback_warns_at_start(tmp_path):
    token, digest = new_token()
    path = str(tmp_path / "tokens.json")
    write_token_file(path, [{"name": "mes", "sha256": digest, "priorities": ["normal"]}])
    server = ServerProcess("--listen", "0.0.0.0:0", "--token-file", path)
    try:
        line = server.wait_for_log("reachable from other machines")
        assert "0.0.0.0:0" in line and "bearer tokens travel in clear text" in line
        assert "warn" in line
        server.wait_serving()
    finally:
        assert server.terminate() == 0, server.log()


def test_inspect_passes_the_same_access_check_as_generate(mtls_server, pki, tokens):
    def inspection(priority, request_id=""):
        return pb.InspectRequest(prompt="Is the part OK or NG?", labels=["OK", "NG"],
                                 priority=priority, request_id=request_id)

    anonymous = plc3(mtls_server, pki, None)
    batch = plc3(mtls_server, pki, tokens.batch)
    line3 = plc3(mtls_server, pki, tokens.line3)
    try:
        assert refused_code(lambda: anonymous.inspect(inspection(pb.PRIORITY_NORMAL))) == (
            grpc.StatusCode.UNAUTHENTICATED)
        with pytest.raises(grpc.RpcError) as denied:
            batch.inspect(inspection(pb.PRIORITY_LINE_CRITICAL))
        assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert denied.value.details() == (
            "priority: client 'batch' may not use line_critical (allowed: background)")
        reply = line3.inspect(inspection(pb.PRIORITY_LINE_CRITICAL, "sec-inspect-line3"))
        assert [score.label for score in reply.scores] == ["OK", "NG"]
    finally:
        for client in (anonymous, batch, line3):
            client.close()
    assert "token=line-3" in wait_request_log(mtls_server, "sec-inspect-line3")
    mtls_server.wait_for_log("Inspect refused with UNAUTHENTICATED")
    mtls_server.wait_for_log("Inspect refused with PERMISSION_DENIED")
