"""Control routes registered by addition modules are served under /_sandbox/ next to the built-in ones."""

import pytest
from sandbox_client import SandboxError

from sandbox import additions


def test_registered_routes_are_listed_as_allowed(sandbox):
    with pytest.raises(SandboxError, match="answered 404") as refused:
        sandbox.call("GET", "no-such-route")
    for path, method in additions.control_routes():
        assert f"{method} /_sandbox/{path}" in str(refused.value)


def test_duplicate_registration_is_refused():
    @additions.control("test/duplicate-probe", "POST")
    def first(query, payload):
        return {}

    with pytest.raises(ValueError, match="already registered"):

        @additions.control("test/duplicate-probe", "POST")
        def second(query, payload):
            return {}

    additions._CONTROL.pop(("test/duplicate-probe", "POST"))


def test_control_error_becomes_a_json_error():
    error = additions.ControlError("no such policy", 404)
    assert (error.status, error.message) == (404, "no such policy")
