"""Work out which service, operation and region an incoming AWS request is for.

Region and service come from the SigV4 credential scope
(``Credential=AKID/20240101/us-east-1/ec2/aws4_request``), else from the Host
header. The operation comes from ``X-Amz-Target`` (JSON protocols), the
``Action`` parameter (query protocols), the RPCv2 path, or, for REST protocols,
from matching the method and path against the botocore model's
``http.method`` / ``http.requestUri`` (query-string subresources such as S3's
``?versioning`` are part of the match).
"""

import dataclasses
import io
import re
import threading
from urllib.parse import parse_qsl, unquote

from sandbox import models

UNKNOWN = "unknown"

# Operation names that only read. Everything else counts as mutating.
READ_PREFIXES = (
    "Describe",
    "List",
    "Get",
    "Head",
    "Check",
    "Lookup",
    "Search",
    "Select",
    "Scan",
    "Query",
    "BatchGet",
    "Validate",
    "Estimate",
    "Simulate",
    "Preview",
    "Test",
    "Generate",
)

# SigV4 signing names that differ from the botocore service name.
SIGNING_ALIASES = {
    "monitoring": "cloudwatch",
    "email": "ses",
    "states": "stepfunctions",
    "tagging": "resourcegroupstaggingapi",
    "elasticfilesystem": "efs",
    "elasticmapreduce": "emr",
    "es": "opensearch",
    "eventbridge": "events",
}

# Services whose API version tells them apart when they share a signing name.
_BY_VERSION = {
    "elasticloadbalancing": {"2012-06-01": "elb", "2015-12-01": "elbv2"},
}
_DEFAULT_FOR_SHARED = {"elasticloadbalancing": "elbv2"}

_SCOPE_RE = re.compile(r"Credential=([^/,\s]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request")
_REGION_RE = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d+$")
_RPCV2_RE = re.compile(r"^/service/([^/]+)/operation/([^/]+)$")
_FORM = "application/x-www-form-urlencoded"


@dataclasses.dataclass
class RequestInfo:
    """What the middleware knows about one AWS request."""

    service: str = UNKNOWN
    operation: str = UNKNOWN
    region: str | None = None
    protocol: str | None = None
    access_key: str | None = None
    # The service of the SigV4 credential scope (``s3``, ``monitoring``, ...), else the Host header's.
    signing_name: str | None = None
    uri_params: dict = dataclasses.field(default_factory=dict)
    body: bytes | None = None

    @property
    def mutating(self) -> bool:
        return is_mutating(self.operation)


def is_mutating(operation: str, method: str = "POST") -> bool:
    if operation == UNKNOWN:
        return method.upper() not in ("GET", "HEAD", "OPTIONS")
    return not operation.startswith(READ_PREFIXES)


def read_body(environ) -> bytes:
    """Read the whole request body once and put it back for the next reader."""
    cached = environ.get("sandbox.body")
    if cached is not None:
        return cached
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    stream = environ["wsgi.input"]
    if length > 0:
        body = stream.read(length)
    elif environ.get("wsgi.input_terminated") or environ.get("HTTP_TRANSFER_ENCODING", "").lower() == "chunked":
        body = stream.read()
    else:
        body = b""
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    environ.pop("HTTP_TRANSFER_ENCODING", None)
    environ["sandbox.body"] = body
    return body


def _query_params(environ) -> dict:
    return dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))


def _scope(environ):
    """(access key, region, signing name) from the Authorization header or a presigned URL."""
    auth = environ.get("HTTP_AUTHORIZATION", "")
    match = _SCOPE_RE.search(auth)
    if match is None:
        credential = _query_params(environ).get("X-Amz-Credential", "")
        match = _SCOPE_RE.search("Credential=" + credential) if credential else None
    if match is None:
        return None, None, None
    return match.group(1), match.group(3), match.group(4).lower()


def _from_host(environ):
    """(service, region) from an AWS-style Host header, e.g. ec2.eu-west-1.amazonaws.com."""
    host = environ.get("HTTP_HOST", "").split(":")[0].lower()
    if not host.endswith(("amazonaws.com", "api.aws")):
        return None, None
    labels = host.split(".")
    for index, label in enumerate(labels):
        if _REGION_RE.match(label) and index > 0:
            return labels[index - 1], label
    return labels[-3] if len(labels) >= 3 else None, "us-east-1"


def _service_name(signing_name: str, environ, params: dict) -> str:
    if signing_name in _BY_VERSION:
        version = params.get("Version")
        return _BY_VERSION[signing_name].get(version, _DEFAULT_FOR_SHARED[signing_name])
    if signing_name == "s3" and (
        environ.get("PATH_INFO", "").startswith("/v20180820/") or "s3-control" in environ.get("HTTP_HOST", "")
    ):
        return "s3control"
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if signing_name == "dynamodb" and target.startswith("DynamoDBStreams"):
        return "dynamodbstreams"
    name = SIGNING_ALIASES.get(signing_name, signing_name)
    return name


def detect(environ) -> RequestInfo:
    """Classify the request in ``environ``. Reads (and restores) the body of form-encoded requests."""
    info = RequestInfo()
    access_key, region, signing_name = _scope(environ)
    if signing_name is None:
        signing_name, region = _from_host(environ)
    info.access_key = access_key
    info.signing_name = signing_name
    info.region = region

    query = _query_params(environ)
    params = dict(query)
    content_type = environ.get("CONTENT_TYPE", "")
    if environ.get("REQUEST_METHOD") == "POST" and content_type.startswith(_FORM):
        body = read_body(environ)
        params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))

    if signing_name:
        info.service = _service_name(signing_name, environ, params)
    model = models.service_model(info.service)
    info.protocol = model.resolved_protocol if model is not None else None

    target = environ.get("HTTP_X_AMZ_TARGET")
    rpcv2 = _RPCV2_RE.match(environ.get("PATH_INFO", ""))
    if target:
        info.operation = target.rsplit(".", 1)[-1]
        info.protocol = "json"
    elif rpcv2 and environ.get("HTTP_SMITHY_PROTOCOL"):
        info.operation = rpcv2.group(2)
        info.protocol = "smithy-rpc-v2-cbor"
    elif "Action" in params and (info.protocol in (None, "query", "ec2") or content_type.startswith(_FORM)):
        info.operation = params["Action"]
        if info.protocol not in ("query", "ec2"):
            info.protocol = "query"
    elif model is not None and info.protocol in ("rest-json", "rest-xml"):
        matched = match_rest(info.service, environ, query)
        if matched is not None:
            info.operation, info.uri_params = matched
    return info


# --- REST matching -----------------------------------------------------------------


@dataclasses.dataclass
class _Route:
    operation: str
    method: str
    regex: re.Pattern
    labels: dict  # regex group name -> uri label
    query: dict  # literal query keys from requestUri -> required value or None
    required_headers: tuple
    required_query: tuple
    literal_chars: int
    greedy: int


_routes: dict[str, list[_Route]] = {}
_routes_lock = threading.Lock()


def _compile(operation_model) -> _Route:
    http = operation_model.http
    uri = http.get("requestUri", "/")
    path, _, query_template = uri.partition("?")
    labels = {}
    pattern = ""
    literal = 0
    greedy = 0
    for index, part in enumerate(re.split(r"(\{[^}]+\})", path)):
        if part.startswith("{") and part.endswith("}"):
            name = part[1:-1]
            group = f"g{index}"
            if name.endswith("+"):
                labels[group] = name[:-1]
                pattern += f"(?P<{group}>.+)"
                greedy += 1
            else:
                labels[group] = name
                pattern += f"(?P<{group}>[^/]+)"
        else:
            pattern += re.escape(part)
            literal += len(part)
    pattern = pattern.rstrip("/") if pattern not in ("/", "") else ""
    regex = re.compile("^" + pattern + "/?$")
    query = {key: (value or None) for key, value in parse_qsl(query_template, keep_blank_values=True) if key != "x-id"}
    required_headers = []
    required_query = []
    shape = operation_model.input_shape
    if shape is not None:
        for name in shape.required_members:
            member = shape.members[name]
            location = member.serialization.get("location")
            wire_name = member.serialization.get("name", name)
            if location == "header":
                required_headers.append(wire_name.lower())
            elif location == "querystring":
                required_query.append(wire_name)
    return _Route(
        operation=operation_model.name,
        method=http.get("method", "POST").upper(),
        regex=regex,
        labels=labels,
        query=query,
        required_headers=tuple(required_headers),
        required_query=tuple(required_query),
        literal_chars=literal,
        greedy=greedy,
    )


def routes_for(service: str) -> list[_Route]:
    """The REST matchers of ``service``, built once from its botocore model."""
    routes = _routes.get(service)
    if routes is not None:
        return routes
    with _routes_lock:
        routes = _routes.get(service)
        if routes is None:
            model = models.service_model(service)
            routes = [_compile(model.operation_model(name)) for name in model.operation_names] if model else []
            _routes[service] = routes
    return routes


def _request_path(service: str, environ) -> str:
    # Match on the path as sent: a label may hold an encoded "/" (an ARN in /tags/{resourceArn}),
    # which PATH_INFO has already decoded into a path separator.
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    path = raw.split("?", 1)[0] if raw and raw.startswith("/") else environ.get("PATH_INFO", "") or "/"
    if service == "s3":
        # Virtual-hosted style (bucket.s3.amazonaws.com, bucket.localhost): put the bucket back in the path.
        host = environ.get("HTTP_HOST", "").split(":")[0]
        for suffix in (".localhost", ".s3.amazonaws.com"):
            if host.endswith(suffix) and host != suffix[1:]:
                return "/" + host[: -len(suffix)] + path
        match = re.match(r"^(.+)\.s3[.-][a-z0-9-]+\.amazonaws\.com$", host)
        if match:
            return "/" + match.group(1) + path
    return path


def match_rest(service: str, environ, query: dict):
    """(operation, uri params) for a REST request, or None when nothing in the model fits."""
    method = environ.get("REQUEST_METHOD", "GET").upper()
    path = _request_path(service, environ)
    explicit = query.get("x-id")
    headers = {key[5:].replace("_", "-").lower() for key in environ if key.startswith("HTTP_")}
    headers.update(key.replace("_", "-").lower() for key in ("CONTENT_TYPE", "CONTENT_LENGTH") if key in environ)
    best = None
    best_score = None
    for route in routes_for(service):
        if route.method != method:
            continue
        match = route.regex.match(path)
        if match is None:
            continue
        if any(key not in query or (value is not None and query[key] != value) for key, value in route.query.items()):
            continue
        if any(header not in headers for header in route.required_headers):
            continue
        if any(key not in query for key in route.required_query):
            continue
        score = (
            route.operation == explicit,
            len(route.query),
            len(route.required_headers) + len(route.required_query),
            route.literal_chars,
            -route.greedy,
        )
        if best_score is None or score > best_score:
            best, best_score = (route, match), score
    if best is None:
        return None
    route, match = best
    params = {route.labels[group]: unquote(value) for group, value in match.groupdict().items()}
    return route.operation, params
