"""The burst's client side, on the integration tests' gRPC client
(tests/integration/aurora_client.py, imported, not copied)."""

import dataclasses
import hashlib
import io
import sys
from pathlib import Path

import grpc
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from aurora_client import Client, pb  # noqa: E402,F401 - Client is re-exported
from server_process import ServerProcess  # noqa: E402,F401 - re-exported


def png(width, height, seed):
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return buffer.getvalue()


@dataclasses.dataclass
class Outcome:
    """What one client saw of its call."""
    request_id: str
    code: grpc.StatusCode = grpc.StatusCode.OK
    text: str = ""
    tokens_received: int = 0
    final: object = None
    image_sha256: list = dataclasses.field(default_factory=list)


def generate(client, request_id, images, prompt, priority=0, cancel_after_first_chunk=False,
             **sampling):
    request = pb.GenerateRequest(
        request_id=request_id, prompt=prompt, priority=priority,
        images=[pb.Image(encoded=data) for data in images],
        sampling=pb.SamplingParams(**sampling))
    outcome = Outcome(request_id, image_sha256=[hashlib.sha256(d).hexdigest() for d in images])
    call = client.generate_stream(request, timeout=120)
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
