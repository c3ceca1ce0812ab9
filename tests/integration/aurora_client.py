"""A Python gRPC client of auroraedge.v1, as an outside caller would write it.

Debian's python3-grpc-tools is too old to generate stubs, so calls go through
grpcio's generic channel methods with the message classes that protoc
generated at build time (AURORAEDGE_PYTHON_PROTO_DIR).
"""
import importlib.util
import os
import sys

import grpc

PROTO_DIR = os.environ["AURORAEDGE_PYTHON_PROTO_DIR"]
sys.path.insert(0, PROTO_DIR)

from auroraedge.v1 import admin_pb2  # noqa: E402
from auroraedge.v1 import inference_pb2 as pb  # noqa: E402


def _load_health_module():
    # Its package path (grpc.health.v1) would clash with grpcio's `grpc`.
    path = os.path.join(PROTO_DIR, "grpc", "health", "v1", "health_pb2.py")
    spec = importlib.util.spec_from_file_location("auroraedge_health_pb2", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


health_pb2 = _load_health_module()
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


class Client:
    def __init__(self, address, credentials=None, token=None, options=()):
        """credentials: grpc.ssl_channel_credentials(...) for TLS; None: plaintext.
        token: sent as 'authorization: Bearer <token>' with every call.
        options: more channel arguments."""
        options = [("grpc.max_send_message_length", -1),
                   ("grpc.max_receive_message_length", -1), *options]
        self.channel = (grpc.secure_channel(address, credentials, options=options) if credentials
                        else grpc.insecure_channel(address, options=options))
        self.metadata = (("authorization", f"Bearer {token}"),) if token else None
        self._generate = self.channel.unary_stream(
            "/auroraedge.v1.Inference/Generate",
            request_serializer=pb.GenerateRequest.SerializeToString,
            response_deserializer=pb.GenerateResponse.FromString)
        self._inspect = self.channel.unary_unary(
            "/auroraedge.v1.Inference/Inspect",
            request_serializer=pb.InspectRequest.SerializeToString,
            response_deserializer=pb.InspectResponse.FromString)
        self._info = self.channel.unary_unary(
            "/auroraedge.v1.Inference/GetModelInfo",
            request_serializer=pb.GetModelInfoRequest.SerializeToString,
            response_deserializer=pb.ModelInfo.FromString)
        self._load_model = self.channel.unary_unary(
            "/auroraedge.v1.Admin/LoadModel",
            request_serializer=admin_pb2.LoadModelRequest.SerializeToString,
            response_deserializer=admin_pb2.LoadModelResponse.FromString)
        self._check = self.channel.unary_unary(
            "/grpc.health.v1.Health/Check",
            request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
            response_deserializer=health_pb2.HealthCheckResponse.FromString)

    def close(self):
        self.channel.close()

    def health(self, timeout=5, service=""):
        """The serving status of `service` ("": the whole server)."""
        return self._check(health_pb2.HealthCheckRequest(service=service), timeout=timeout,
                           metadata=self.metadata).status

    def info(self, timeout=10):
        return self._info(pb.GetModelInfoRequest(), timeout=timeout, metadata=self.metadata)

    def load_model(self, model_dir, timeout=300):
        """Admin.LoadModel: the LoadModelResponse; raises grpc.RpcError when refused."""
        return self._load_model(admin_pb2.LoadModelRequest(model_dir=str(model_dir)),
                                timeout=timeout, metadata=self.metadata)

    def generate_stream(self, request, timeout=None):
        """The call object: iterate it for responses; .cancel() cancels."""
        return self._generate(request, timeout=timeout, metadata=self.metadata)

    def inspect(self, request, timeout=120, metadata=()):
        """The InspectResponse; raises grpc.RpcError on a non-OK status."""
        return self._inspect(request, timeout=timeout,
                             metadata=tuple(self.metadata or ()) + tuple(metadata))

    def generate(self, request, timeout=120, metadata=()):
        """All responses of a call; raises grpc.RpcError on a non-OK status."""
        return list(self._generate(request, timeout=timeout,
                                   metadata=tuple(self.metadata or ()) + tuple(metadata)))


def check_token_count(chunks, final):
    """completion_tokens counts every generated token; the chunks stream them
    all but an end-of-sequence token, which has no text."""
    streamed = sum(len(c.token_ids) for c in chunks)
    extra = final.completion_tokens - streamed
    assert extra == 0 or (extra == 1 and final.finish_reason == pb.FINISH_REASON_STOP), (
        streamed, final)


def split_responses(responses):
    """(chunks, final) of a finished stream; asserts the stream's shape."""
    assert responses, "empty stream"
    *chunks, final = responses
    assert all(r.WhichOneof("kind") == "chunk" for r in chunks), "a non-chunk before the end"
    assert final.WhichOneof("kind") == "final", "the last message is not the final one"
    return [c.chunk for c in chunks], final.final
