"""Operations moto lacks (or gets wrong), added in one place.

Write one module per service in this package (``ssm.py``, ``dlm.py``, ``backup.py``, ...); every
module here is imported automatically. A handler looks like::

    from sandbox.additions import AdditionError, addition

    @addition("cloudformation", "UpdateTerminationProtection", example={"StackName": "x", ...})
    def update_termination_protection(ctx):
        stack = ctx.backend().get_stack(ctx.params["StackName"])
        ...
        return {"StackId": stack.stack_id}

``ctx.params`` holds the request parsed by the operation's botocore input shape (from the form for
query protocols, the body for JSON, path/query/headers/body for REST). The handler returns the
output as a dict shaped exactly like the botocore output shape; the sandbox checks it against that
shape (``sandbox.shapes``) and serialises it in the protocol's wire format. Raise
``AdditionError(code, message, status)`` for an AWS error answer. Keep state in moto's backends
(``ctx.backend("ec2")``) wherever moto has a model for it; module-level state of your own must be
cleared by a function decorated with ``@on_reset``.

Sandbox-only actions that AWS performs on its own schedule (run a DLM policy or a maintenance window now,
make a restore take N seconds) are control routes under ``/_sandbox/``, registered next to the additions::

    from sandbox.additions import ControlError, control

    @control("dlm/run", "POST")
    def run_policy(query, payload):
        ...
        return {"snapshots": [...]}       # 200 with this JSON; raise ControlError(message, status) for 4xx

``example`` is the request the shape test (tests/sandbox/test_additions_shapes.py) sends through a
real boto3 client: a dict of parameters, or a callable ``example(client)`` that prepares what the
call needs with ``client(service_name)`` (a boto3 client on the sandbox) and returns the parameters.
"""

import dataclasses
import datetime
import importlib
import json
import logging
import pkgutil
import threading
from collections.abc import Callable
from urllib.parse import parse_qsl

from sandbox import DEFAULT_ACCOUNT_ID, protocols, shapes


class AdditionError(Exception):
    """An AWS error answer: ``code`` as botocore will report it, ``message`` for people, HTTP ``status``."""

    def __init__(self, code: str, message: str, status: int = 400):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


@dataclasses.dataclass
class Addition:
    service: str
    operation: str
    handler: Callable
    example: dict | Callable | None
    module: str
    calls: int = 0
    last_output: dict | None = None
    last_error: str | None = None

    @property
    def key(self) -> str:
        return f"{self.service}:{self.operation}"

    def summary(self) -> dict:
        return {
            "service": self.service,
            "operation": self.operation,
            "module": self.module,
            "calls": self.calls,
            "last_output": json.loads(json.dumps(self.last_output, default=_jsonable)),
            "last_error": self.last_error,
        }


def _jsonable(value):
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


log = logging.getLogger("sandbox.additions")
_REGISTRY: dict[tuple[str, str], Addition] = {}
_RESET_HOOKS: list[Callable[[], None]] = []
_CONTROL: dict[tuple[str, str], Callable] = {}
# The sandbox's own endpoint URL (set when the server starts), for a control route that calls AWS APIs on it.
ENDPOINT: str | None = None
_lock = threading.Lock()
_loaded = False


def addition(service: str, operation: str, *, example: dict | Callable):
    """Register ``fn(ctx) -> dict`` as the sandbox's implementation of ``service`` ``operation``."""
    from sandbox import models

    model = models.service_model(service)
    if model is None:
        raise ValueError(f"addition for unknown service {service!r}: use the botocore service name")
    if operation not in model.operation_names:
        raise ValueError(f"addition for unknown operation {service}:{operation}")

    def register(fn):
        key = (service, operation)
        if key in _REGISTRY and _REGISTRY[key].handler is not fn:
            raise ValueError(f"{service}:{operation} is already added by {_REGISTRY[key].module}")
        _REGISTRY[key] = Addition(service, operation, fn, example, fn.__module__)
        return fn

    return register


class ControlError(Exception):
    """A control route's refusal: ``message`` for people, HTTP ``status`` (4xx)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message = message
        self.status = status


def control(path: str, method: str = "POST"):
    """Register ``fn(query: dict, payload) -> dict`` as the control route ``method /_sandbox/<path>``."""
    key = (path.strip("/"), method.upper())

    def register(fn):
        if key in _CONTROL and _CONTROL[key] is not fn:
            raise ValueError(f"control route {key[1]} {key[0]} is already registered by {_CONTROL[key].__module__}")
        _CONTROL[key] = fn
        return fn

    return register


def control_routes() -> dict[tuple[str, str], Callable]:
    """The control routes the addition modules registered, by (path, method)."""
    load()
    return dict(_CONTROL)


def on_reset(fn):
    """Register ``fn()`` to clear an addition module's own state when the sandbox resets."""
    _RESET_HOOKS.append(fn)
    return fn


def load() -> dict[tuple[str, str], Addition]:
    """Import every module of this package (each registers its additions) and return the registry."""
    global _loaded
    with _lock:
        if not _loaded:
            for module in pkgutil.iter_modules(__path__):
                if not module.name.startswith("_"):
                    importlib.import_module(f"{__name__}.{module.name}")
            _loaded = True
    return _REGISTRY


def registry() -> list[Addition]:
    return [load()[key] for key in sorted(load())]


def find(service: str, operation: str) -> Addition | None:
    return load().get((service, operation))


def reset_state() -> None:
    load()
    for hook in _RESET_HOOKS:
        hook()
    for item in _REGISTRY.values():
        item.calls, item.last_output, item.last_error = 0, None, None


class Context:
    """What a handler gets: the parsed request, where it was sent, and moto's backends."""

    def __init__(self, service, operation, region, account_id, params, headers, protocol):
        self.service = service
        self.operation = operation
        self.region = region
        self.account_id = account_id
        self.params = params
        self.headers = headers
        self.protocol = protocol

    def backend(self, service: str | None = None, region: str | None = None):
        """moto's backend of ``service`` (moto's name; default: this request's) for this account and region."""
        from moto.backends import get_backend

        return get_backend(service or self.service)[self.account_id][region or self.region]

    def param(self, name: str, default=None):
        value = self.params.get(name)
        return default if value is None else value

    def require(self, name: str):
        """The parameter ``name``, or the ValidationException AWS answers when it is missing."""
        value = self.params.get(name)
        if value is None or value == "":
            code = "ValidationError" if self.protocol in ("query", "ec2") else "ValidationException"
            raise AdditionError(
                code, f"1 validation error detected: Value null at '{name}' failed to satisfy constraint"
            )
        return value


def _account_id(access_key: str | None) -> str:
    if not access_key:
        return DEFAULT_ACCOUNT_ID
    try:
        from moto.iam.models import get_account_id_from

        return get_account_id_from(access_key)
    except Exception:  # moto's default account when the key is not one of moto's
        return DEFAULT_ACCOUNT_ID


def parse_params(service: str, operation: str, protocol: str, environ, body: bytes, uri_params: dict) -> dict:
    """The request's parameters, parsed by the operation's input shape (moto's model-driven parsers)."""
    from moto.core.parse import PROTOCOL_PARSERS
    from moto.core.utils import get_service_model
    from werkzeug.datastructures import EnvironHeaders, MultiDict

    op_model = get_service_model(service).operation_model(operation)
    pairs = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    if protocol in ("query", "ec2"):
        pairs += parse_qsl(body.decode("utf-8"), keep_blank_values=True)
    request_dict = {
        "body": body if protocol in ("rest-xml",) else body.decode("utf-8") if body else "",
        "headers": EnvironHeaders(environ),
        "method": environ.get("REQUEST_METHOD", "POST"),
        "url_params": uri_params,
        "url_path": environ.get("PATH_INFO", "/"),
        "values": MultiDict(pairs),
    }
    if protocol in ("json", "rest-json") and not request_dict["body"]:
        request_dict["body"] = "{}"
    parsed = PROTOCOL_PARSERS[protocol](op_model).parse(request_dict)
    return dict(parsed)


def dispatch(item: Addition, info, environ, body: bytes) -> tuple[int, list, bytes, str | None]:
    """Run an addition for one request: (status, headers, body, error code or None)."""
    from werkzeug.datastructures import EnvironHeaders

    from sandbox import models

    protocol = info.protocol or models.protocol_of(item.service)
    op_model = models.operation_model(item.service, item.operation)
    item.calls += 1
    try:
        params = parse_params(item.service, item.operation, protocol, environ, body, info.uri_params)
        ctx = Context(
            item.service,
            item.operation,
            info.region or "us-east-1",
            _account_id(info.access_key),
            params,
            {key.lower(): value for key, value in EnvironHeaders(environ).items()},
            protocol,
        )
        output = item.handler(ctx)
        output = {} if output is None else output
        problems = shapes.validate(op_model.output_shape, output)
        if problems:
            # 501: botocore does not retry it, so the bug shows at once instead of as a retried side effect
            raise AdditionError(
                "SandboxAdditionError",
                f"sandbox addition {item.key} answered outside its output shape: {'; '.join(problems)}",
                501,
            )
        item.last_output, item.last_error = output, None
        status, headers, payload = protocols.result_response(item.service, item.operation, protocol, output)
        return status, headers, payload, None
    except AdditionError as error:
        item.last_error = f"{error.code}: {error.message}"
        if error.status >= 500:
            log.error("%s", item.last_error)
        status, headers, payload = protocols.error_response(
            item.service, protocol, error.code, error.message, error.status, environ.get("REQUEST_METHOD", "POST")
        )
        return status, headers, payload, error.code
