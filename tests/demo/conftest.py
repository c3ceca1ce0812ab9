"""What the demo tests through the server share: a server with no --model,
serving its embedded default (the shipped demo model), one per test module.
The tests that need no server run without the server's environment, so the
server's modules are imported only when the fixture is used."""
import os
import sys

import pytest


@pytest.fixture(scope="module")
def server():
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
    from server_process import ServerProcess

    process = ServerProcess(model_dir=None)
    try:
        process.wait_serving()
        yield process
    finally:
        assert process.terminate() == 0, process.log()
