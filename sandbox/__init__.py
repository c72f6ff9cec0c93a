"""The local AWS sandbox of medcircle.cloudops.

moto's server runs in this process behind the project's own WSGI middleware
(``sandbox.middleware``), which adds a request log, fault injection, control
endpoints under ``/_sandbox/`` and the operations moto lacks
(``sandbox.additions``). Start it with ``python -m sandbox start``.
"""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
CACHE_DIR = REPO_ROOT / ".cache" / "sandbox"
HOST = "127.0.0.1"
DEFAULT_PORT = 4566
DEFAULT_SEED = "as-assessed"
DEFAULT_ACCOUNT_ID = "123456789012"
CONTROL_PREFIX = "/_sandbox/"
