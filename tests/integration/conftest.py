import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from aurora_client import Client  # noqa: E402
from server_process import ServerProcess  # noqa: E402

# Small enough that the oversized-message case stays cheap.
MAX_REQUEST_BYTES = 4 << 20


@pytest.fixture(scope="session")
def server():
    """The shared server; every test leaves it serving."""
    process = ServerProcess("--max-request-bytes", str(MAX_REQUEST_BYTES))
    try:
        process.wait_serving()
        yield process
    finally:
        code = process.terminate()
    assert code == 0, process.log()


@pytest.fixture()
def client(server):
    c = Client(server.address)
    yield c
    c.close()


@pytest.fixture(scope="session")
def model_info(server):
    c = Client(server.address)
    try:
        return c.info()
    finally:
        c.close()
