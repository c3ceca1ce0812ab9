"""What the demo tests through the server share: a server with no --model,
serving its embedded default (the shipped demo model), one per test module."""
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))

from server_process import ServerProcess  # noqa: E402


@pytest.fixture(scope="module")
def server():
    process = ServerProcess(model_dir=None)
    try:
        process.wait_serving()
        yield process
    finally:
        assert process.terminate() == 0, process.log()
