"""Run the collection's playbooks as a person would, against a sandbox, and read what they did.

``run_playbook`` runs the real ``ansible-playbook`` of the virtualenv with the repository's
ansible.cfg and the sandbox inventory pointed at the sandbox's port, and returns the process result
with the JSON callback's output parsed (plays, tasks, per-host results, stats).
"""

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


@dataclass
class PlaybookRun:
    returncode: int
    stdout: str
    stderr: str
    result: dict | None

    def tasks(self, host: str = "localhost"):
        """(task name, host result) for every task of every play, in order."""
        for play in (self.result or {}).get("plays", []):
            for task in play.get("tasks", []):
                outcome = task.get("hosts", {}).get(host)
                if outcome is not None:
                    yield task["task"]["name"], outcome

    def task(self, name_part: str, host: str = "localhost") -> dict:
        matches = [outcome for name, outcome in self.tasks(host) if name_part in name]
        if not matches:
            raise AssertionError(f"no task named like {name_part!r}; tasks: {[n for n, _ in self.tasks(host)]}")
        return matches[-1]

    @property
    def stats(self) -> dict:
        return (self.result or {}).get("stats", {})


def run_playbook(
    sandbox,
    playbook: str,
    *args: str,
    extra_vars: dict | None = None,
    check: bool = False,
    inventory: str = "inventories/sandbox",
    env: dict | None = None,
    timeout: int = 600,
) -> PlaybookRun:
    command = [str(BIN / "ansible-playbook"), "-i", inventory, playbook, *args]
    # Reports (and the DR plan and drill history the audit reads) go to a folder of the run's own, never
    # into the checkout's reports/, unless the test names one.
    extra_vars = dict(extra_vars or {})
    extra_vars.setdefault("cloudops_reports_dir", tempfile.mkdtemp(prefix="cloudops-reports-"))
    if extra_vars:
        command += ["-e", json.dumps(extra_vars)]
    if check:
        command += ["--check", "--diff"]
    environment = {
        **os.environ,
        "ANSIBLE_CONFIG": str(REPO_ROOT / "ansible.cfg"),
        "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
        "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "SANDBOX_PORT": str(sandbox.port),
        **(env or {}),
    }
    done = subprocess.run(
        command, cwd=REPO_ROOT, env=environment, capture_output=True, text=True, timeout=timeout, check=False
    )
    parsed = None
    start = done.stdout.find("{")
    if start >= 0:
        try:
            parsed = json.loads(done.stdout[start:])
        except json.JSONDecodeError:
            parsed = None
    return PlaybookRun(done.returncode, done.stdout, done.stderr, parsed)


def run_module(
    sandbox,
    module: str,
    args: dict,
    check: bool = False,
    diff: bool = False,
    timeout: int = 300,
    env: dict | None = None,
) -> dict:
    """Run one module on localhost with ``ansible`` as a person would, against the sandbox's endpoint.

    Returns the module's result dict (``failed`` is always present). The process must exit 2 when the
    module failed and 0 otherwise, so a crash of ansible itself is never read as a module result.
    """
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "ANSIBLE_"))}
    environment.update(sandbox.env())
    environment.update(
        ANSIBLE_CONFIG=str(REPO_ROOT / "ansible.cfg"),
        ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
        ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
        **(env or {}),
    )
    command = [str(BIN / "ansible"), "localhost", "-m", module, "-a", json.dumps(args)]
    if check:
        command.append("--check")
    if diff:
        command.append("--diff")
    done = subprocess.run(
        command, cwd=REPO_ROOT, env=environment, capture_output=True, text=True, timeout=timeout, check=False
    )
    try:
        output = json.loads(done.stdout)
    except json.JSONDecodeError as exc:
        raise AssertionError(f"ansible printed no JSON (rc {done.returncode}):\n{done.stdout}\n{done.stderr}") from exc
    result = output["plays"][0]["tasks"][0]["hosts"]["localhost"]
    expected = 2 if result.get("failed") else 0
    assert done.returncode == expected, f"rc {done.returncode}, expected {expected}:\n{done.stderr}"
    result.setdefault("failed", False)
    return result
