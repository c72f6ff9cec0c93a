"""Test processes that start sandboxes side by side never end up sharing one.

Two pytest workers can pick the same free port at the same moment. The sandbox that loses cannot listen
and exits; before it does, the port already answers, ready, from the other worker's sandbox. If that
answer counted, both workers would use one sandbox and each one's resets would wipe the other's state.
"""

import pytest
import sandbox_client
from sandbox_client import SandboxClient, SandboxError


def test_health_names_the_process_that_answers(sandbox):
    assert sandbox.health()["pid"] == sandbox.process.pid


def test_a_port_another_sandbox_holds_is_not_taken_for_ours(sandbox):
    with pytest.raises(SandboxError, match="exited with code"):
        SandboxClient.start(port=sandbox.port)
    # the sandbox that held the port is untouched and still the only one there
    assert sandbox.health()["pid"] == sandbox.process.pid


def test_a_free_port_picked_twice_is_picked_again(sandbox, monkeypatch):
    picks = [sandbox.port]
    real = sandbox_client.free_port
    monkeypatch.setattr(sandbox_client, "free_port", lambda: picks.pop() if picks else real())
    other = SandboxClient.start(seed="empty")
    try:
        assert other.port != sandbox.port
        assert other.health()["pid"] == other.process.pid != sandbox.process.pid
    finally:
        other.stop()
