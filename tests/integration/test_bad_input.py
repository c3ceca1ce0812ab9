"""Every class of bad input gets its status and a message naming the field;
the server keeps serving afterwards."""
import grpc
import pytest

import images
from aurora_client import SERVING, pb, split_responses
from conftest import MAX_REQUEST_BYTES


def good_request():
    return pb.GenerateRequest(images=[pb.Image(encoded=images.encoded("PNG"))],
                              prompt="Is the plate scratched?",
                              sampling=pb.SamplingParams(max_new_tokens=2, temperature=0.0))


def raw_image(**overrides):
    data, width, height, stride = images.raw_bytes("RGB8")
    frame = dict(data=data, width=width, height=height, stride=stride,
                 pixel_format=pb.PIXEL_FORMAT_RGB8)
    frame.update(overrides)
    return pb.Image(raw=pb.RawFrame(**frame))


def with_image(image):
    req = good_request()
    req.images[0].CopyFrom(image)
    return req


def with_sampling(**sampling):
    req = good_request()
    for key, value in sampling.items():
        setattr(req.sampling, key, value)
    return req


def expect_error(client, req, code, *fragments):
    with pytest.raises(grpc.RpcError) as error:
        client.generate(req)
    assert error.value.code() == code, error.value.details()
    for fragment in fragments:
        assert fragment in error.value.details()
    return error.value.details()


RGB = images.part_rgb()

CASES = {
    "bad image bytes": lambda info: (with_image(pb.Image(encoded=b"\xff\xd8\xff\xe0 not really a jpeg")),
                        ["images[0]"]),
    "unknown image format": lambda info: (with_image(pb.Image(encoded=b"GIF89a" + bytes(64))),
                             ["images[0]"]),
    "image without pixels": lambda info: (with_image(pb.Image()), ["images[0]", "no pixels"]),
    "raw frame size mismatch": lambda info: (with_image(raw_image(data=bytes(100))),
                                ["images[0].raw"]),
    "raw frame longer than its rows": lambda info: (with_image(raw_image(
        data=images.raw_bytes("RGB8")[0] + b"\0")), ["images[0].raw.data", "expected"]),
    "raw stride too small": lambda info: (with_image(raw_image(stride=RGB.shape[1] * 3 - 1)),
                             ["images[0].raw.stride"]),
    "raw zero width": lambda info: (with_image(raw_image(width=0)), ["images[0].raw.width"]),
    "raw pixel format unset": lambda info: (with_image(raw_image(pixel_format=pb.PIXEL_FORMAT_UNSPECIFIED)),
                               ["images[0].raw.pixel_format"]),
    "ROI outside the image": lambda info: (with_image(pb.Image(
        encoded=images.encoded("PNG"), roi=pb.RegionOfInterest(x=90, y=0, width=20, height=10))),
                              ["images[0].roi"]),
    "ROI of zero size": lambda info: (with_image(pb.Image(
        encoded=images.encoded("PNG"), roi=pb.RegionOfInterest(x=1, y=1, width=0, height=10))),
                         ["images[0].roi"]),
    "too many images": lambda info: (pb.GenerateRequest(
        images=[pb.Image(encoded=images.encoded("PNG"))] * (info.limits.max_images_per_request + 1),
        prompt="Compare them."), ["images", str(info.limits.max_images_per_request)]),
    "prompt too long in bytes": lambda info: (pb.GenerateRequest(
        images=[pb.Image(encoded=images.encoded("PNG"))],
        prompt="x" * (info.limits.max_prompt_bytes + 1)), ["prompt", str(info.limits.max_prompt_bytes)]),
    "prompt too long in tokens": lambda info: (pb.GenerateRequest(
        images=[pb.Image(encoded=images.encoded("PNG"))],
        prompt=" ".join(f"w{i}" for i in range(info.limits.context_length))[
            :info.limits.max_prompt_bytes]), ["context", str(info.limits.context_length)]),
    "empty prompt": lambda info: (pb.GenerateRequest(images=[pb.Image(encoded=images.encoded("PNG"))]),
                     ["prompt"]),
    "max_new_tokens zero": lambda info: (with_sampling(max_new_tokens=0), ["sampling.max_new_tokens"]),
    "max_new_tokens beyond the context": lambda info: (with_sampling(
        max_new_tokens=info.limits.context_length + 1), ["sampling.max_new_tokens"]),
    "negative temperature": lambda info: (with_sampling(temperature=-1.0), ["sampling.temperature"]),
    "top_p zero": lambda info: (with_sampling(top_p=0.0), ["sampling.top_p", "(0, 1]"]),
    "top_k beyond the vocabulary": lambda info: (with_sampling(top_k=info.architecture.vocab_size + 1),
                                    ["sampling.top_k", str(info.architecture.vocab_size)]),
    "repetition penalty zero": lambda info: (with_sampling(repetition_penalty=0.0),
                                ["sampling.repetition_penalty"]),
    "empty stop string": lambda info: (pb.GenerateRequest(
        images=[pb.Image(encoded=images.encoded("PNG"))], prompt="p",
        sampling=pb.SamplingParams(stop=[""])), ["sampling.stop[0]"]),
    "unknown priority": lambda info: (pb.GenerateRequest(
        images=[pb.Image(encoded=images.encoded("PNG"))], prompt="p", priority=42), ["priority"]),
    "request id too long": lambda info: (pb.GenerateRequest(
        images=[pb.Image(encoded=images.encoded("PNG"))], prompt="p", request_id="r" * 129),
                            ["request_id", "128"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_invalid_argument_naming_the_field(client, model_info, case):
    req, fragments = CASES[case](model_info)
    expect_error(client, req, grpc.StatusCode.INVALID_ARGUMENT, *fragments)
    assert client.health() == SERVING


def test_message_over_the_size_limit_is_resource_exhausted(client):
    req = with_image(pb.Image(encoded=bytes(MAX_REQUEST_BYTES + 1)))
    expect_error(client, req, grpc.StatusCode.RESOURCE_EXHAUSTED)


def test_server_still_answers_after_all_bad_input(client):
    chunks, final = split_responses(client.generate(good_request()))
    assert final.completion_tokens >= 1
    assert client.health() == SERVING


def raw_generate(client, data, timeout=30):
    """Generate with the request's bytes as they are (grpcio sends them
    without looking)."""
    call = client.channel.unary_stream("/auroraedge.v1.Inference/Generate",
                                       request_serializer=lambda raw: raw,
                                       response_deserializer=pb.GenerateResponse.FromString)
    return list(call(data, timeout=timeout))


def with_bytes_replaced(req, marker, bad):
    """The request's wire bytes with the text `marker` replaced by `bad` (same
    length, so the message stays well formed)."""
    wire = req.SerializeToString()
    assert len(bad) == len(marker) and wire.count(marker) == 1
    return wire.replace(marker, bad)


UNDECODABLE = {
    "prompt": (lambda r: setattr(r, "prompt", "PROMPT"), b"PROMPT", b"\xffROMPT", "prompt"),
    "system prompt": (lambda r: setattr(r, "system_prompt", "SYSTEM"), b"SYSTEM", b"SYST\xc3\x28",
                      "system_prompt"),
    "stop string": (lambda r: r.sampling.stop.extend(["fine", "STOP"]), b"STOP", b"ST\xed\xa0",
                    "sampling.stop[1]"),
    "request id": (lambda r: setattr(r, "request_id", "REQUEST"), b"REQUEST", b"\xc0\xafQUEST",
                   "request_id"),
}


@pytest.mark.parametrize("case", sorted(UNDECODABLE))
def test_text_that_is_not_utf8_is_invalid_argument_naming_the_field(server, client, case):
    fill, marker, bad, field = UNDECODABLE[case]
    req = good_request()
    fill(req)
    log_lines = len(server.stderr_lines)
    with pytest.raises(grpc.RpcError) as error:
        raw_generate(client, with_bytes_replaced(req, marker, bad))
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.value.details().startswith(f"{field}: not valid UTF-8"), error.value.details()
    # No line in the server's log for it (protobuf used to log an error).
    assert server.stderr_lines[log_lines:] == []
    assert client.health() == SERVING


@pytest.mark.parametrize("method,message", [
    ("/auroraedge.v1.Inference/Generate", "auroraedge.v1.GenerateRequest"),
    ("/auroraedge.v1.Inference/GetModelInfo", "auroraedge.v1.GetModelInfoRequest")])
def test_bytes_that_are_not_protobuf_are_invalid_argument(server, client, method, message):
    call = client.channel.unary_unary(method, request_serializer=lambda raw: raw,
                                      response_deserializer=lambda raw: raw)
    log_lines = len(server.stderr_lines)
    for garbage in (b"\xff" * 11, b"\x0a\x05hi", b"\x0f", b"\x00"):
        with pytest.raises(grpc.RpcError) as error:
            call(garbage, timeout=30)
        assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT, garbage
        assert f"request: not a valid {message}" in error.value.details()
    assert server.stderr_lines[log_lines:] == []
    assert client.health() == SERVING
