"""A handle on one running sandbox: start/stop it, drive its control endpoints, make boto3 clients.

Used by tests/conftest.py (the ``sandbox`` fixture) and by scripts such as the benchmarks::

    from sandbox_client import SandboxClient
    with SandboxClient.start(seed="as-assessed") as sandbox:
        ec2 = sandbox.client("ec2")
        ...
        print(sandbox.requests(service="ec2", mutating=True))
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
# boto3 clients of tests and scripts sign with this dummy key (moto accepts any credentials).
DUMMY_KEY = "testing"
# What Ansible runs use: the dummy credentials of inventories/sandbox/group_vars/all/aws.yml. Ansible hides a
# secret key's value wherever it appears in a module's output, so these are words no real output contains (a
# secret of "testing" turned a restore testing plan's ARN into "restore-********-plan"). Any access key that is
# not one of moto's own IAM keys is moto's default account, 123456789012.
ANSIBLE_ACCESS_KEY = "AKIASANDBOXEXAMPLE01"
ANSIBLE_SECRET_KEY = "sandbox-dummy-secret-not-a-real-key"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SandboxError(RuntimeError):
    pass


class SandboxClient:
    """One sandbox on 127.0.0.1:``port``; ``process`` is set when this object started it."""

    def __init__(self, port: int, process: subprocess.Popen | None = None, log_path: Path | None = None):
        self.port = int(port)
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.process = process
        self.log_path = log_path
        self._session = None

    # --- lifecycle -------------------------------------------------------------------

    @classmethod
    def start(cls, port: int | None = None, seed: str = "empty", timeout: float = 180.0, log_dir: Path | None = None):
        """Start ``python -m sandbox start`` in the foreground as a child process and wait until it is ready.

        Without ``port``, a free port is picked; two test processes can pick the same one at the same moment.
        The sandbox that loses cannot bind and exits, and is then started again on another port: it never
        shares the winner (whose state the loser's resets would wipe), because readiness only counts when the
        answer comes from this child process.
        """
        log_dir = Path(log_dir or REPO_ROOT / ".cache" / "sandbox")
        log_dir.mkdir(parents=True, exist_ok=True)
        attempts = 1 if port else 3
        for attempt in range(1, attempts + 1):
            chosen = port or free_port()
            log_path = log_dir / f"child-{chosen}.log"
            with open(log_path, "wb") as log:
                process = subprocess.Popen(
                    [sys.executable, "-m", "sandbox", "start", "--port", str(chosen), "--seed", seed],
                    cwd=REPO_ROOT,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env={**os.environ, "PYTHONUNBUFFERED": "1"},
                )
            sandbox = cls(chosen, process, log_path)
            try:
                sandbox.wait_ready(timeout)
                return sandbox
            except SandboxError:
                sandbox.stop()
                if attempt == attempts or process.poll() is None or "Address already in use" not in sandbox.log_tail():
                    raise
            except BaseException:
                sandbox.stop()
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    def wait_ready(self, timeout: float = 180.0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise SandboxError(f"the sandbox exited with code {self.process.returncode}:\n{self.log_tail()}")
            try:
                state = self.health()
            except OSError:
                state = None
            if state and state.get("error"):
                raise SandboxError(f"the sandbox failed to seed: {state['error']}\n{self.log_tail()}")
            # Another sandbox on this port (one that picked the same free port) is not ours: wait for our own.
            ours = self.process is None or state is None or state.get("pid") in (None, self.process.pid)
            if state and state.get("ready") and ours:
                return state
            time.sleep(0.1)
        raise SandboxError(f"the sandbox on port {self.port} was not ready within {timeout:.0f}s\n{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout)
        if self.process.returncode == 0 and self.log_path is not None:
            self.log_path.unlink(missing_ok=True)  # a clean run leaves no log behind; a failed one keeps it

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    # --- control endpoints ----------------------------------------------------------------

    def call(self, method: str, path: str, payload=None, query: dict | None = None, timeout: float = 300.0):
        """Call a control endpoint (``path`` below /_sandbox/); return the decoded JSON answer."""
        url = f"{self.endpoint}/_sandbox/{path}"
        if query:
            url += "?" + urllib.parse.urlencode(query)
        data = None if payload is None else json.dumps(payload).encode("utf-8")
        headers = {"Content-Type": "application/json"}
        request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310 - loopback
        try:
            with urllib.request.urlopen(request, timeout=timeout) as reply:  # noqa: S310 - loopback only
                return json.loads(reply.read())
        except urllib.error.HTTPError as error:
            body = error.read().decode("utf-8", "replace")
            raise SandboxError(f"{method} /_sandbox/{path} answered {error.code}: {body}") from None

    def health(self) -> dict:
        return self.call("GET", "health", timeout=5.0)

    def reset(self, seed: str = "empty") -> dict:
        """Forget all AWS state, apply ``seed``, clear the request log (fault rules stay)."""
        return self.call("POST", "reset", {"seed": seed})

    def requests(self, **filters) -> list[dict]:
        """Logged requests; filters: service, operation, region, mutating (bool), since (seq), fault (bool)."""
        query = {key: (str(value).lower() if isinstance(value, bool) else value) for key, value in filters.items()}
        return self.call("GET", "requests", query=query)

    def clear_requests(self) -> None:
        self.call("DELETE", "requests")

    def set_faults(self, rules) -> list[dict]:
        return self.call("PUT", "faults", rules)

    def faults(self) -> list[dict]:
        return self.call("GET", "faults")

    def clear_faults(self) -> None:
        self.call("DELETE", "faults")

    def additions(self) -> list[dict]:
        return self.call("GET", "additions")

    # --- AWS side ------------------------------------------------------------------------

    def client(self, service: str, region: str = "us-east-1", **kwargs):
        """A boto3 client on this sandbox with dummy credentials (``kwargs`` go to ``boto3.client``)."""
        import boto3

        if self._session is None:
            self._session = boto3.session.Session(aws_access_key_id=DUMMY_KEY, aws_secret_access_key=DUMMY_KEY)
        return self._session.client(service, region_name=region, endpoint_url=self.endpoint, **kwargs)

    def client_as(self, access_key: dict, service: str, region: str = "us-east-1"):
        """A boto3 client that signs with ``access_key`` (an ``AccessKey`` as IAM's CreateAccessKey returns it),
        as the automation holding that key would; the sandbox records the key's use as IAM does."""
        import boto3

        return boto3.client(
            service,
            region_name=region,
            endpoint_url=self.endpoint,
            aws_access_key_id=access_key["AccessKeyId"],
            aws_secret_access_key=access_key["SecretAccessKey"],
        )

    def env(self) -> dict:
        """Environment variables that point AWS SDKs (and so ansible's AWS modules) at this sandbox.

        The credentials are the sandbox inventory's (``ANSIBLE_ACCESS_KEY``/``ANSIBLE_SECRET_KEY``), so that
        the only thing ansible masks in what its modules return is that secret itself.
        """
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": ANSIBLE_ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": ANSIBLE_SECRET_KEY,
            "AWS_DEFAULT_REGION": "us-east-1",
            "SANDBOX_PORT": str(self.port),
        }
