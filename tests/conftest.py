"""Shared pytest setup: import paths, the collection link, and the sandbox fixtures.

``sandbox`` (session scope) is one sandbox process per pytest process (moto's state is global to a
process, so each pytest-xdist worker gets its own). ``clean_sandbox`` resets it to the ``empty``
seed with no fault rules and an empty request log before the test and clears faults after it.
``quiet_sandbox`` is the cheaper variant for tests that do not care about AWS state: no fault rules
and an empty request log, but whatever resources earlier tests left behind.
"""

import contextlib
import os
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
TESTS_DIR = Path(__file__).resolve().parent

for path in (REPO_ROOT / ".collections", REPO_ROOT, TESTS_DIR):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))


def _link_collection() -> None:
    """.collections/ansible_collections/medcircle/cloudops -> ../../.. (as `make venv` does)."""
    link = REPO_ROOT / ".collections" / "ansible_collections" / "medcircle" / "cloudops"
    if link.is_symlink() or link.exists():
        return
    link.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):  # another xdist worker made it first
        os.symlink("../../..", link)


_link_collection()

from sandbox_client import SandboxClient  # noqa: E402 - needs the paths above


@pytest.fixture(scope="session")
def sandbox():
    """A sandbox (seed ``empty``) on a free port, for the whole session of this pytest process."""
    instance = SandboxClient.start(seed="empty")
    try:
        yield instance
    finally:
        instance.stop()


@pytest.fixture
def clean_sandbox(sandbox):
    """The session sandbox reset to ``empty``: no AWS resources, no fault rules, empty request log."""
    sandbox.clear_faults()
    sandbox.reset("empty")
    yield sandbox
    sandbox.clear_faults()


@pytest.fixture
def quiet_sandbox(sandbox):
    """The session sandbox with no fault rules and an empty request log (AWS state is not reset)."""
    sandbox.clear_faults()
    sandbox.clear_requests()
    yield sandbox
    sandbox.clear_faults()


@pytest.fixture(scope="module")
def assessed_sandbox():
    """A sandbox of the test module's own on the as-assessed seed, for tests that only read it."""
    instance = SandboxClient.start(seed="as-assessed")
    try:
        yield instance
    finally:
        instance.stop()
