"""Run the sandbox: moto's WSGI app behind the project's middleware on 127.0.0.1.

``serve()`` runs in the foreground until SIGINT/SIGTERM; ``start_background()`` launches that in a
detached process (pid and log under ``.cache/sandbox/``) and waits until it is healthy and seeded.
"""

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

from sandbox import CACHE_DIR, CONTROL_PREFIX, HOST, REPO_ROOT

log = logging.getLogger("sandbox")


class SandboxError(RuntimeError):
    """A start/stop problem, with a message for the person at the terminal."""


def endpoint_for(port: int) -> str:
    return f"http://{HOST}:{port}"


def pid_file(port: int):
    return CACHE_DIR / f"{port}.pid"


def log_file(port: int):
    return CACHE_DIR / f"{port}.log"


def health(port: int, timeout: float = 2.0) -> dict | None:
    """The /_sandbox/health answer of the sandbox on ``port``, or None when nothing answers there."""
    try:
        with urllib.request.urlopen(f"{endpoint_for(port)}{CONTROL_PREFIX}health", timeout=timeout) as reply:  # noqa: S310 - loopback
            return json.loads(reply.read())
    except (OSError, ValueError):
        return None


def _check_seed(seed: str) -> None:
    from sandbox import seeds

    if seed not in seeds.SEEDS:
        raise SandboxError(f"unknown seed {seed!r}; allowed seeds: {', '.join(sorted(seeds.SEEDS))}")


def build_app(port: int, seed: str):
    """The WSGI app (middleware around moto) of a sandbox that listens on ``port`` and applies ``seed``."""
    from moto.moto_server.werkzeug_app import create_backend_app

    from sandbox import seeds, speed
    from sandbox.middleware import SandboxMiddleware, SandboxState

    speed.apply()
    moto_app = speed.dispatcher_class()(create_backend_app)
    return SandboxMiddleware(moto_app, SandboxState(seed), endpoint_for(port), seeds.apply)


def serve(port: int, seed: str) -> None:
    """Serve in the foreground until SIGINT or SIGTERM."""
    from sandbox import amis, fidelity

    amis.install()  # before moto loads its EC2 images
    fidelity.apply()
    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug.serving import make_server

    _check_seed(seed)
    os.environ.setdefault("MOTO_PORT", str(port))
    # Like AWS, every account has the AWS managed policies (arn:aws:iam::aws:policy/...).
    os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    app = build_app(port, seed)
    from sandbox import speed

    try:
        handler = speed.keep_alive_handler(MotoRequestHandler)
        server = make_server(HOST, port, app, threaded=True, request_handler=handler)
    except OSError as error:
        raise SandboxError(f"cannot listen on {HOST}:{port}: {error.strerror or error}") from error

    def on_sigterm(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_sigterm)
    threading.Thread(target=app.seed_initial, name="sandbox-seed", daemon=True).start()
    print(f"sandbox listening on {endpoint_for(port)} (seed {seed!r})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        print(f"sandbox on port {port} stopped", flush=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _read_pid(port: int) -> int | None:
    try:
        return int(pid_file(port).read_text().strip())
    except (OSError, ValueError):
        return None


def start_background(port: int, seed: str, timeout: float = 180.0) -> str:
    """Start a detached sandbox, wait until it is healthy and seeded, and return its endpoint."""
    _check_seed(seed)
    running = health(port)
    if running is not None:
        raise SandboxError(
            f"a sandbox already answers on port {port} (seed {running.get('seed')!r}); "
            f"stop it with: python -m sandbox stop --port {port}"
        )
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    logfile = open(log_file(port), "ab")  # noqa: SIM115 - handed to the child process
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "sandbox", "start", "--port", str(port), "--seed", seed],
            cwd=REPO_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=logfile,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    finally:
        logfile.close()
    pid_file(port).write_text(f"{process.pid}\n")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pid_file(port).unlink(missing_ok=True)
            raise SandboxError(f"the sandbox exited with code {process.returncode}; see {log_file(port)}")
        state = health(port, timeout=1.0)
        if state is not None and state.get("error"):
            stop(port, quiet=True)
            raise SandboxError(f"the sandbox started but {state['error']}; see {log_file(port)}")
        if state is not None and state.get("ready"):
            return endpoint_for(port)
        time.sleep(0.2)
    stop(port, quiet=True)
    raise SandboxError(f"the sandbox was not ready within {timeout:.0f}s; see {log_file(port)}")


def stop(port: int, quiet: bool = False, timeout: float = 15.0) -> str:
    """Stop the background sandbox on ``port``; return what happened, for people."""
    pid = _read_pid(port)
    if pid is None:
        if health(port) is not None:
            raise SandboxError(
                f"a sandbox answers on port {port} but was not started with --background "
                f"(no {pid_file(port)}); stop it where it runs (Ctrl-C)"
            )
        return f"no background sandbox runs on port {port} (no {pid_file(port)})"
    if not _alive(pid):
        pid_file(port).unlink(missing_ok=True)
        return f"no sandbox runs on port {port} (removed the stale pid file of process {pid})"
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _alive(pid):
        os.kill(pid, signal.SIGKILL)
    pid_file(port).unlink(missing_ok=True)
    return f"sandbox on port {port} stopped (process {pid})"


def status(port: int) -> tuple[bool, str]:
    """(running, description) of the sandbox on ``port``."""
    state = health(port)
    pid = _read_pid(port)
    if state is None:
        if pid is not None and _alive(pid):
            return False, f"process {pid} runs for port {port} but does not answer yet (see {log_file(port)})"
        return False, f"no sandbox answers on port {port}"
    where = f"process {pid}, log {log_file(port)}" if pid is not None else "foreground"
    readiness = "ready" if state.get("ready") else "seeding"
    text = f"sandbox on {endpoint_for(port)}: {readiness}, seed {state.get('seed')!r} ({where})"
    if state.get("error"):
        text += f"; error: {state['error']}"
    return True, text
