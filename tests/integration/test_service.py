"""Health, model info and streamed Generate through Python's grpcio."""
import time

import grpc
import pytest

import images
from aurora_client import SERVING, check_token_count, pb, split_responses
from raw_h2 import RawConnection


def request(prompt="Is the plate scratched?", **sampling):
    sampling.setdefault("max_new_tokens", 8)
    sampling.setdefault("temperature", 0.0)
    return pb.GenerateRequest(
        images=[pb.Image(encoded=images.encoded("PNG"))], prompt=prompt,
        sampling=pb.SamplingParams(**sampling))


def test_health_is_serving(client):
    assert client.health() == SERVING


def test_model_info_describes_model_limits_build_and_kv(model_info):
    assert model_info.name
    assert model_info.version
    limits = model_info.limits
    assert limits.max_images_per_request >= 1
    assert limits.max_patches_per_image >= 1
    assert limits.patch_size == 16
    assert limits.context_length > 0
    assert limits.max_prompt_bytes > 0
    assert model_info.architecture.path in ("compressed", "baseline")
    assert model_info.architecture.vocab_size > 0
    assert model_info.build.server_version
    assert model_info.build.grpc_version.startswith("1.")
    assert model_info.runtime.intra_op_threads == 2
    assert model_info.kv_cache.tokens_total > 0
    assert model_info.kv_cache.tokens_used <= model_info.kv_cache.tokens_total


def test_generate_streams_chunks_then_one_final(client):
    req = request(max_new_tokens=6)
    req.request_id = "py-stream-1"
    responses = client.generate(req)
    chunks, final = split_responses(responses)
    assert all(r.request_id == "py-stream-1" for r in responses)
    assert final.finish_reason in (pb.FINISH_REASON_STOP, pb.FINISH_REASON_LENGTH)
    check_token_count(chunks, final)
    assert 1 <= final.completion_tokens <= 6
    if final.finish_reason == pb.FINISH_REASON_LENGTH:
        assert final.completion_tokens == 6
    assert final.images == 1
    assert final.prompt_tokens > 0
    t = final.timings
    assert t.total_seconds > 0
    assert 0 < t.time_to_first_token_seconds <= t.total_seconds
    for stage in (t.queued_seconds, t.preprocessing_seconds, t.vision_seconds,
                  t.prefill_seconds, t.decode_seconds):
        assert 0 <= stage <= t.total_seconds


def test_greedy_answers_repeat_and_server_makes_up_request_ids(client):
    first = client.generate(request())
    second = client.generate(request())
    ids = lambda rs: [t for r in rs if r.HasField("chunk") for t in r.chunk.token_ids]  # noqa: E731
    assert ids(first) == ids(second)
    assert first[0].request_id and first[0].request_id != second[0].request_id


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "BMP", "TIFF"])
def test_every_encoding_is_accepted(client, fmt):
    req = request(max_new_tokens=1)
    req.images[0].encoded = images.encoded(fmt)
    _, final = split_responses(client.generate(req))
    assert final.images == 1


@pytest.mark.parametrize("pixel_format", images.RAW_FORMATS)
def test_every_raw_format_with_padding_and_roi_is_accepted(client, pixel_format):
    _, _, _, packed_stride = images.raw_bytes(pixel_format)
    padded_stride = packed_stride + 16
    data, width, height, stride = images.raw_bytes(pixel_format, stride=padded_stride)
    # The last row may end right after its pixels (RawFrame.data's rule).
    data = data[:-16]
    req = request(max_new_tokens=1)
    req.images[0].CopyFrom(pb.Image(
        raw=pb.RawFrame(data=data, width=width, height=height, stride=stride,
                        pixel_format=pb.PixelFormat.Value("PIXEL_FORMAT_" + pixel_format)),
        roi=pb.RegionOfInterest(x=8, y=4, width=48, height=32)))
    _, final = split_responses(client.generate(req))
    assert final.images == 1


def test_several_images_and_a_system_prompt(client, model_info):
    count = min(2, model_info.limits.max_images_per_request)
    req = request(max_new_tokens=2)
    del req.images[:]
    for fmt in ["PNG", "JPEG"][:count]:
        req.images.add(encoded=images.encoded(fmt))
    req.system_prompt = "You inspect metal plates."
    req.priority = pb.PRIORITY_LINE_CRITICAL
    _, final = split_responses(client.generate(req))
    assert final.images == count


def test_max_new_tokens_bounds_the_answer(client):
    _, final = split_responses(client.generate(request(max_new_tokens=1)))
    assert final.completion_tokens == 1


def test_cancel_mid_stream_leaves_the_server_serving(client):
    # A high temperature keeps even a trained model from ending early.
    call = client.generate_stream(request(max_new_tokens=500, temperature=5.0, seed=3))
    next(iter(call))
    call.cancel()
    with pytest.raises(grpc.RpcError) as error:
        for _ in call:
            pass
    assert error.value.code() == grpc.StatusCode.CANCELLED
    assert client.health() == SERVING
    split_responses(client.generate(request(max_new_tokens=1)))


def test_the_server_ends_a_call_at_its_deadline(server, client):
    """The deadline goes out as grpc-timeout only; the client keeps no timer
    and never cancels. The server must end the call itself (its trailers say
    DEADLINE_EXCEEDED) and the engine must end the request for that reason
    (its request log line)."""
    req = request(max_new_tokens=500, temperature=5.0, seed=3)
    req.request_id = "py-deadline-1"
    connection = RawConnection(server.address)
    stream_id = connection.call("/auroraedge.v1.Inference/Generate", req.SerializeToString(),
                                timeout=0.05)
    assert connection.wait_ended([stream_id], 120), "the server never ended the call"
    assert connection.streams[stream_id].status == grpc.StatusCode.DEADLINE_EXCEEDED.value[0]
    connection.close()

    def logged():
        return [line for line in server.stdout_lines if "request_id=py-deadline-1 " in line]

    deadline = time.monotonic() + 30
    while not logged() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert logged(), "no request log line"
    assert "finish_reason=deadline" in logged()[0], logged()[0]
    split_responses(client.generate(request(max_new_tokens=1)))


def test_health_answers_per_service(client):
    assert client.health() == SERVING
    assert client.health(service="auroraedge.v1.Inference") == SERVING
    with pytest.raises(grpc.RpcError) as error:
        client.health(service="no.such.Service")
    assert error.value.code() == grpc.StatusCode.NOT_FOUND


def test_reflection_lists_the_services(server, client):
    # ServerReflectionRequest{list_services: ""} is field 7, length 0; the
    # answer's ListServiceResponse carries the names as plain strings.
    # Only v1alpha: Debian's gRPC 1.51 has no grpc.reflection.v1 service.
    call = client.channel.stream_stream(
        "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
        request_serializer=lambda raw: raw, response_deserializer=lambda raw: raw)
    answers = list(call(iter([b"\x3a\x00"]), timeout=10))
    assert len(answers) == 1
    assert b"auroraedge.v1.Inference" in answers[0]
    assert b"grpc.health.v1.Health" in answers[0]
