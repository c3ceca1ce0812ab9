"""Inspect, constrained decoding and log-probabilities through the real
server (small test model) with Python's grpcio: the shape of the answers,
the bad requests (each INVALID_ARGUMENT naming the field, the server still
serving after them), the CLI, and the metrics and request log they leave."""
import json
import os
import re
import subprocess
import time
import urllib.request

import grpc
import pytest

import images
from aurora_client import SERVING, Client, pb, split_responses
from server_process import ServerProcess

CLI_BIN = os.environ["AURORAEDGE_TEST_CLI"]
PNG = images.encoded("PNG")


def inspect_request(labels=("OK", "NG"), **fields):
    return pb.InspectRequest(images=[pb.Image(encoded=PNG)], prompt="Is the part OK or NG?",
                             labels=list(labels), **fields)


def expect_invalid(call, request, *fragments):
    with pytest.raises(grpc.RpcError) as error:
        call(request)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT, error.value.details()
    for fragment in fragments:
        assert fragment in error.value.details(), error.value.details()


def test_inspect_scores_every_label(client, model_info):
    reply = client.inspect(inspect_request(labels=["OK", "NG", "scratch"], request_id="insp-1",
                                           decision_rule=pb.DecisionRule(label="NG", ok_below=0.0,
                                                                         ng_from=0.0)))
    assert reply.request_id == "insp-1"
    assert [s.label for s in reply.scores] == ["OK", "NG", "scratch"]
    assert abs(sum(s.probability for s in reply.scores) - 1) < 1e-9
    assert reply.label == max(reply.scores, key=lambda s: s.probability).label
    assert all(s.logprob < 0 and s.tokens >= 2 for s in reply.scores)
    assert reply.decision == pb.DECISION_NG  # p >= 0 always
    assert reply.model_version == model_info.version
    assert reply.images == 1 and reply.prompt_tokens > 0
    assert reply.timings.total_seconds > 0


def test_inspect_bad_requests_name_the_field(client, model_info):
    expect_invalid(client.inspect, inspect_request(labels=[]), "labels: empty")
    expect_invalid(client.inspect, inspect_request(labels=[f"l{i}" for i in range(1000)]),
                   "labels: 1000 labels; at most 32")
    expect_invalid(client.inspect, inspect_request(labels=["OK", "NG", "OK"]),
                   'labels[2]: "OK" is labels[0] again')
    too_long = " ".join(str(i) for i in range(model_info.limits.context_length))
    expect_invalid(client.inspect, inspect_request(labels=["OK", too_long]), "labels[1]",
                   "context_length")
    expect_invalid(client.inspect, inspect_request(
        decision_rule=pb.DecisionRule(label="maybe", ok_below=0.5, ng_from=0.8)),
        "decision_rule.label")
    expect_invalid(client.inspect, pb.InspectRequest(labels=["OK"]), "prompt")
    assert client.health() == SERVING


def generate(client, **sampling):
    request = pb.GenerateRequest(images=[pb.Image(encoded=PNG)], prompt="Give the record.",
                                 sampling=pb.SamplingParams(**sampling))
    chunks, final = split_responses(client.generate(request))
    return "".join(c.text for c in chunks), chunks, final


def test_constrained_answers_parse(client):
    schema = json.dumps({"type": "object", "properties": {
        "status": {"type": "string", "enum": ["OK", "NG"]},
        "holes": {"type": "integer", "minimum": 0, "maximum": 5}}, "required": ["status", "holes"]})
    for seed in range(4):
        text, _, final = generate(client, json_schema=schema, temperature=1.0, seed=seed,
                                  max_new_tokens=40)
        assert final.finish_reason == pb.FINISH_REASON_STOP
        record = json.loads(text)
        assert record["status"] in ("OK", "NG") and 0 <= record["holes"] <= 5
        text, _, _ = generate(client, choice=["OK", "NG"], temperature=1.0, seed=seed)
        assert text in ("OK", "NG")


def test_bad_constraints_name_the_field(client):
    def call(sampling):
        return client.generate(pb.GenerateRequest(prompt="p", sampling=sampling))
    expect_invalid(call, pb.SamplingParams(json_schema=json.dumps(
        {"type": "object", "properties": {"id": {"type": "string", "pattern": "^[0-9]+$"}}})),
        "sampling.json_schema: $.properties.id", '"pattern"')
    expect_invalid(call, pb.SamplingParams(json_schema=json.dumps(
        {"type": "integer", "minimum": 3, "maximum": 1})), "sampling.json_schema")
    expect_invalid(call, pb.SamplingParams(choice=["OK", "OK"]), "sampling.choice[1]")
    expect_invalid(call, pb.SamplingParams(top_logprobs=21), "sampling.top_logprobs")
    assert client.health() == SERVING


def test_log_probabilities(client):
    _, chunks, final = generate(client, top_logprobs=2, max_new_tokens=6, temperature=0.0)
    ids = [i for c in chunks for i in c.token_ids]
    logprobs = [lp for c in chunks for lp in c.logprobs]
    assert [lp.token_id for lp in logprobs] == ids
    for lp in logprobs:
        assert lp.logprob <= 0 and len(lp.top_logprobs) == 2
        assert lp.top_logprobs[0].token_id == lp.token_id  # greedy
    _, plain, _ = generate(client, max_new_tokens=3)
    assert all(not c.logprobs for c in plain)


def test_cli_inspect(server, tmp_path):
    part = tmp_path / "part.png"
    part.write_bytes(PNG)
    result = subprocess.run(
        [CLI_BIN, "--address", server.address, "inspect", "--reference", str(part), "--image",
         str(part), "--question", "Does it match?", "--labels", "OK,NG", "--threshold",
         "NG=0.4,0.6"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines[:2]] == ["OK", "NG"]
    assert abs(sum(float(line.split()[1]) for line in lines[:2]) - 1) < 2e-4
    assert lines[2].startswith("label: ")
    assert lines[3] in ("decision: OK", "decision: NG", "decision: UNKNOWN")
    assert "images=2" in result.stderr
    bad = subprocess.run([CLI_BIN, "--address", server.address, "inspect", "--question", "q",
                          "--labels", "OK,OK"], capture_output=True, text=True, timeout=120)
    assert bad.returncode == 1
    assert "INVALID_ARGUMENT" in bad.stderr and "labels[1]" in bad.stderr


def metric(text, name, **labels):
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no {name} {labels} in /metrics")


def test_metrics_and_request_log(tmp_path):
    log = tmp_path / "requests.log"
    process = ServerProcess("--metrics-listen", "127.0.0.1:0", "--request-log", str(log),
                            "--log-format", "json")
    try:
        process.wait_serving()
        metrics_port = int(re.search(r"\(port (\d+)\)",
                                     process.wait_for_log("metrics on")).group(1))
        client = Client(process.address)
        try:
            golden = pb.Image(encoded=PNG, role=pb.IMAGE_ROLE_REFERENCE)
            # Other pixels than the golden image's (a lossless PNG of the same
            # pixels would be the same encoder input, hence the same entry).
            test_image = pb.Image(encoded=images.encoded("BMP", images.part_rgb(width=80)))
            for _ in range(3):
                client.inspect(pb.InspectRequest(
                    images=[golden, test_image],
                    prompt="Does it match?", labels=["OK", "NG"],
                    decision_rule=pb.DecisionRule(label="NG", ok_below=1.0, ng_from=1.0)))
        finally:
            client.close()
        # The engine records a request just after it answers the call: the
        # last one's counters may trail its reply by a moment.
        deadline = time.monotonic() + 60
        while True:
            text = urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics",
                                          timeout=10).read().decode()
            if (metric(text, "auroraedge_inspection_duration_seconds_count") >= 3
                    or time.monotonic() > deadline):
                break
            time.sleep(0.05)
    finally:
        assert process.terminate() == 0, process.log()
    assert metric(text, "auroraedge_inspections_total", decision="ok") == 3
    assert metric(text, "auroraedge_inspection_duration_seconds_count") == 3
    # The golden image is encoded once; the test image (the same each time) too.
    assert metric(text, "auroraedge_image_feature_cache_misses_total") == 2
    assert metric(text, "auroraedge_image_feature_cache_hits_total") == 4
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(lines) == 3
    assert lines[0]["inspection"]["decision"] == "ok"
    assert [s["label"] for s in lines[0]["inspection"]["scores"]] == ["OK", "NG"]
