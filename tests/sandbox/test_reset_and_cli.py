"""Reset with a seed, health, and the start --background / status / stop round trip."""

import subprocess
import sys

import pytest
from sandbox_client import REPO_ROOT, SandboxClient, SandboxError, free_port


def test_reset_forgets_state_and_clears_the_log(clean_sandbox):
    sb = clean_sandbox
    sb.client("s3").create_bucket(Bucket="reset-me")
    vpc = sb.client("ec2").create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    sb.client("iam").create_user(UserName="bob")
    sb.set_faults([{"service": "sqs", "throttle_rate": 1.0}])

    answer = sb.reset("empty")
    assert (answer["status"], answer["seed"]) == ("ok", "empty")
    assert isinstance(answer["result"], dict), "the seed's summary"
    assert sb.requests() == []
    assert sb.health() == {"status": "ok", "seed": "empty", "ready": True, "pid": sb.process.pid}
    assert sb.client("s3").list_buckets()["Buckets"] == []
    assert vpc not in {v["VpcId"] for v in sb.client("ec2").describe_vpcs()["Vpcs"]}
    assert sb.client("iam").list_users()["Users"] == []
    assert len(sb.faults()) == 1, "fault rules are harness settings: reset keeps them"


def test_reset_refuses_unknown_seeds(clean_sandbox):
    with pytest.raises(SandboxError) as raised:
        clean_sandbox.reset("no-such-seed")
    assert "answered 400" in str(raised.value)
    assert "unknown seed 'no-such-seed'; allowed seeds:" in str(raised.value)
    assert "empty" in str(raised.value)
    assert clean_sandbox.health()["ready"] is True


def test_control_endpoint_errors(clean_sandbox):
    with pytest.raises(SandboxError, match="answered 404"):
        clean_sandbox.call("GET", "nothing-here")
    with pytest.raises(SandboxError, match="answered 405"):
        clean_sandbox.call("PATCH", "faults")
    with pytest.raises(SandboxError, match="unknown field"):
        clean_sandbox.call("POST", "reset", {"seed": "empty", "wipe": True})


def _cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "sandbox", *args], cwd=REPO_ROOT, capture_output=True, text=True, timeout=240
    )


def test_cli_background_round_trip():
    port = str(free_port())
    try:
        started = _cli("start", "--port", port, "--seed", "empty", "--background")
        assert started.returncode == 0, started.stderr + started.stdout
        assert f"http://127.0.0.1:{port}" in started.stdout
        assert (REPO_ROOT / ".cache" / "sandbox" / f"{port}.pid").exists()

        status = _cli("status", "--port", port)
        assert status.returncode == 0
        assert "ready" in status.stdout and "'empty'" in status.stdout
        assert SandboxClient(int(port)).client("sts").get_caller_identity()["Account"] == "123456789012"

        again = _cli("start", "--port", port, "--seed", "empty", "--background")
        assert again.returncode == 2
        assert "already answers on port" in again.stderr
    finally:
        stopped = _cli("stop", "--port", port)
    assert stopped.returncode == 0
    assert "stopped" in stopped.stdout
    assert not (REPO_ROOT / ".cache" / "sandbox" / f"{port}.pid").exists()

    status = _cli("status", "--port", port)
    assert status.returncode == 1
    assert "no sandbox answers" in status.stdout
    stopped = _cli("stop", "--port", port)
    assert stopped.returncode == 0
    assert "no background sandbox runs on port" in stopped.stdout


def test_cli_refuses_unknown_seed():
    result = _cli("start", "--port", str(free_port()), "--seed", "no-such-seed", "--background")
    assert result.returncode == 2
    assert "unknown seed 'no-such-seed'; allowed seeds:" in result.stderr
