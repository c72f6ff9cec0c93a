"""Answers in each AWS protocol's wire format: errors (injected faults, addition errors) and results.

An answer is ``(status, headers, body)`` with ``headers`` a list of pairs and ``body`` bytes.
"""

import json
import uuid
from xml.sax.saxutils import escape

from sandbox import models

# Codes that botocore's retry handlers treat as throttling, in the order the sandbox prefers them
# when an operation's model lists more than one.
MODEL_THROTTLING_CODES = (
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "TooManyRequestsException",
    "RequestThrottled",
    "RequestThrottledException",
)

# Services whose throttling answer is not the protocol's usual one.
SERVICE_THROTTLING = {
    "ec2": ("RequestLimitExceeded", 503),
    "s3": ("SlowDown", 503),
    "dlm": ("LimitExceededException", 429),
}

PROTOCOL_THROTTLING = {
    "ec2": ("RequestLimitExceeded", 503),
    "query": ("Throttling", 400),
    "rest-xml": ("Throttling", 400),
    "json": ("ThrottlingException", 400),
    "rest-json": ("ThrottlingException", 400),
    "smithy-rpc-v2-cbor": ("ThrottlingException", 400),
}

SERVER_ERRORS = {500: "InternalError", 503: "ServiceUnavailable"}


def request_id() -> str:
    return str(uuid.uuid4())


def throttling_error(service: str, operation: str, protocol: str | None) -> tuple[str, int]:
    """The (code, HTTP status) the service answers when it throttles ``operation``."""
    if service in SERVICE_THROTTLING:
        return SERVICE_THROTTLING[service]
    op_model = models.operation_model(service, operation)
    if op_model is not None:
        listed = {shape.name: shape for shape in op_model.error_shapes}
        for name in MODEL_THROTTLING_CODES:
            if name in listed:
                error = listed[name].metadata.get("error", {})
                return error.get("code", name), int(error.get("httpStatusCode", 400))
    return PROTOCOL_THROTTLING.get(protocol or "json", ("ThrottlingException", 400))


def _xml(text: str) -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + text).encode("utf-8")


def _namespace(service: str) -> str:
    model = models.service_model(service)
    if model is None:
        return ""
    namespace = model.metadata.get("xmlNamespace")
    if isinstance(namespace, dict):
        namespace = namespace.get("uri")
    if not namespace:
        prefix = model.metadata.get("endpointPrefix", service)
        namespace = f"https://{prefix}.amazonaws.com/doc/{model.api_version}/"
    return namespace


def error_response(
    service: str, protocol: str | None, code: str, message: str, status: int, method: str = "POST"
) -> tuple[int, list, bytes]:
    """An error answer in the wire format of ``protocol`` (botocore parses it into ClientError ``code``)."""
    rid = request_id()
    sender = "Sender" if status < 500 else "Receiver"
    headers = [("x-amzn-RequestId", rid)]
    if protocol == "ec2":
        body = _xml(
            f"<Response><Errors><Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
            f"</Errors><RequestID>{rid}</RequestID></Response>"
        )
        headers.append(("Content-Type", "text/xml;charset=UTF-8"))
    elif protocol == "query":
        body = _xml(
            f'<ErrorResponse xmlns="{_namespace(service)}"><Error><Type>{sender}</Type><Code>{escape(code)}</Code>'
            f"<Message>{escape(message)}</Message></Error><RequestId>{rid}</RequestId></ErrorResponse>"
        )
        headers.append(("Content-Type", "text/xml"))
    elif protocol == "rest-xml" and service in ("s3", "s3control"):
        body = _xml(
            f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message>"
            f"<RequestId>{rid}</RequestId><HostId>{rid}</HostId></Error>"
        )
        headers += [("Content-Type", "application/xml"), ("x-amz-request-id", rid)]
    elif protocol == "rest-xml":
        body = _xml(
            f'<ErrorResponse xmlns="{_namespace(service)}"><Error><Type>{sender}</Type><Code>{escape(code)}</Code>'
            f"<Message>{escape(message)}</Message></Error><RequestId>{rid}</RequestId></ErrorResponse>"
        )
        headers.append(("Content-Type", "application/xml"))
    else:
        model = models.service_model(service)
        body = json.dumps({"__type": code, "message": message}).encode("utf-8")
        headers.append(("x-amzn-ErrorType", code))
        if protocol == "rest-json":
            headers.append(("Content-Type", "application/json"))
        else:
            version = (model.metadata.get("jsonVersion") if model is not None else None) or "1.1"
            headers.append(("Content-Type", f"application/x-amz-json-{version}"))
        if model is not None and "awsQueryCompatible" in model.metadata:
            query_code = "Throttling" if code == "ThrottlingException" else code
            headers.append(("x-amzn-query-error", f"{query_code};{sender}"))
    if method.upper() == "HEAD":
        body = b""
    headers.append(("Content-Length", str(len(body))))
    return status, headers, body


def result_response(service: str, operation: str, protocol: str, result: dict) -> tuple[int, list, bytes]:
    """Serialise an operation's output dict exactly as its botocore output shape says.

    Uses the model-driven serialisers that moto itself answers with, so the additions and moto
    speak the same dialect of every protocol.
    """
    from moto.core.serialize import SerializationContext, get_serializer_class
    from moto.core.utils import get_service_model

    service_model = get_service_model(service)
    op_model = service_model.operation_model(operation)
    context = SerializationContext(request_id=request_id())
    serializer = get_serializer_class(service, protocol)(operation_model=op_model, context=context)
    serialized = serializer.serialize(result)
    body = serialized["body"]
    if isinstance(body, str):
        body = body.encode("utf-8")
    headers = [(str(key), str(value)) for key, value in serialized["headers"].items()]
    names = {key.lower() for key, _ in headers}
    if "content-type" not in names:
        content_type = {
            "ec2": "text/xml;charset=UTF-8",
            "query": "text/xml",
            "rest-xml": "application/xml",
            "rest-json": "application/json",
        }.get(protocol, "application/x-amz-json-1.1")
        headers.append(("Content-Type", content_type))
    if "x-amzn-requestid" not in names:
        headers.append(("x-amzn-RequestId", request_id()))
    headers = [(key, value) for key, value in headers if key.lower() != "content-length"]
    headers.append(("Content-Length", str(len(body))))
    return int(serialized["status_code"]), headers, body
