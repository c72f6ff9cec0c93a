"""Cached access to botocore's service models (the contract every sandbox answer follows)."""

import functools
import threading

import botocore.session
from botocore.exceptions import UnknownServiceError
from botocore.model import OperationModel, ServiceModel

_session_lock = threading.Lock()
_session = None


def _botocore_session():
    global _session
    with _session_lock:
        if _session is None:
            _session = botocore.session.get_session()
        return _session


@functools.cache
def available_services() -> frozenset:
    """Names of every service botocore ships a model for (as passed to ``boto3.client``)."""
    return frozenset(_botocore_session().get_available_services())


@functools.cache
def service_model(name: str) -> ServiceModel | None:
    """The botocore model of ``name``, or None when botocore does not know the service."""
    if name not in available_services():
        return None
    try:
        return _botocore_session().get_service_model(name)
    except UnknownServiceError:
        return None


def operation_model(service: str, operation: str) -> OperationModel | None:
    model = service_model(service)
    if model is None or operation not in model.operation_names:
        return None
    return model.operation_model(operation)


def protocol_of(service: str) -> str | None:
    """The wire protocol botocore uses for ``service`` (its resolved protocol)."""
    model = service_model(service)
    if model is None:
        return None
    return model.resolved_protocol
