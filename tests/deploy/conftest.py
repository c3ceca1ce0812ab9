import sys
from pathlib import Path

import pytest

# The integration tests' server harness and client, and the observability
# tests' helpers, imported rather than copied.
TESTS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TESTS / "integration"))
sys.path.insert(0, str(TESTS / "observability"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failed test that ran through nginx shows nginx's error and access logs."""
    outcome = yield
    report = outcome.get_result()
    balancer = item.funcargs.get("nginx") if hasattr(item, "funcargs") else None
    if report.when == "call" and report.failed and balancer is not None:
        report.sections.append(("nginx", balancer.log()))
