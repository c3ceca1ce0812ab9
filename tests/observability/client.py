"""A gRPC client of auroraedge.v1 over grpcio's generic calls, with the
message modules the build generates (AURORAEDGE_PYTHON_PROTO_DIR)."""

import dataclasses
import hashlib
import importlib.util
import io
import sys
from pathlib import Path

import grpc
import numpy as np
from PIL import Image

import stack

_proto_dir = Path(stack.required_env("AURORAEDGE_PYTHON_PROTO_DIR"))
sys.path.insert(0, str(_proto_dir))
from auroraedge.v1 import inference_pb2  # noqa: E402


def _load_health():
    # Its package path is grpc/health/v1, which grpcio's own `grpc` package
    # shadows on sys.path; load the module from its file.
    path = _proto_dir / "grpc" / "health" / "v1" / "health_pb2.py"
    spec = importlib.util.spec_from_file_location("auroraedge_health_pb2", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


health_pb2 = _load_health()


def png(width, height, seed):
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


@dataclasses.dataclass
class Outcome:
    request_id: str
    code: grpc.StatusCode = grpc.StatusCode.OK
    text: str = ""
    tokens_received: int = 0
    final: object = None
    image_sha256: list = dataclasses.field(default_factory=list)


class Client:
    def __init__(self, address):
        self.channel = grpc.insecure_channel(address)
        self._generate = self.channel.unary_stream(
            "/auroraedge.v1.Inference/Generate",
            request_serializer=inference_pb2.GenerateRequest.SerializeToString,
            response_deserializer=inference_pb2.GenerateResponse.FromString)
        self._model_info = self.channel.unary_unary(
            "/auroraedge.v1.Inference/GetModelInfo",
            request_serializer=inference_pb2.GetModelInfoRequest.SerializeToString,
            response_deserializer=inference_pb2.ModelInfo.FromString)
        self._health = self.channel.unary_unary(
            "/grpc.health.v1.Health/Check",
            request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
            response_deserializer=health_pb2.HealthCheckResponse.FromString)

    def serving(self):
        reply = self._health(health_pb2.HealthCheckRequest(), timeout=2)
        return reply.status == health_pb2.HealthCheckResponse.SERVING

    def model_info(self):
        return self._model_info(inference_pb2.GetModelInfoRequest(), timeout=10)

    def generate(self, request_id, images, prompt, priority=0, cancel_after_first_chunk=False,
                 **sampling):
        request = inference_pb2.GenerateRequest(
            request_id=request_id, prompt=prompt, priority=priority,
            images=[inference_pb2.Image(encoded=data) for data in images],
            sampling=inference_pb2.SamplingParams(**sampling))
        outcome = Outcome(request_id, image_sha256=[hashlib.sha256(d).hexdigest() for d in images])
        call = self._generate(request, timeout=120)
        try:
            for response in call:
                assert response.request_id == request_id
                if response.HasField("final"):
                    outcome.final = response.final
                    continue
                outcome.text += response.chunk.text
                outcome.tokens_received += len(response.chunk.token_ids)
                if cancel_after_first_chunk:
                    call.cancel()
        except grpc.RpcError as error:
            outcome.code = error.code()
        return outcome

    def close(self):
        self.channel.close()
