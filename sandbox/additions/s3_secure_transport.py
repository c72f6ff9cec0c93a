"""S3 bucket policies with conditions, evaluated as AWS does, and ``aws:SecureTransport``.

The SDKs always reach AWS over HTTPS; the sandbox listens on plain HTTP only because it is local. So a
request to the sandbox stands for a request over TLS (``aws:SecureTransport`` is true) unless it says it
came over plain HTTP with the header ``X-Forwarded-Proto: http`` (what a TLS-terminating proxy in front of
the sandbox would send for a cleartext client). A test proves a TLS-only bucket policy by sending that
header: the request is denied, as AWS denies a cleartext request.

moto evaluates a bucket policy for object requests without any condition context and answers "denied"
whenever a statement's condition does not hold, even for a Deny statement (which then simply does not
apply). Here a statement applies only when its action, resource, principal and conditions all match; the
condition context has ``aws:SecureTransport``; a condition on a key the context lacks does not hold (as in
AWS). A matching Deny denies, a matching Allow allows, nothing matching is neutral.
"""

import fnmatch
import threading

_local = threading.local()
_PATCHED = False


def _values(value) -> list:
    return [str(v) for v in (value if isinstance(value, list) else [value])]


def _test(operator: str, expected: list, actual: str) -> bool:
    if operator == "Bool":
        return actual.lower() in [v.lower() for v in expected]
    if operator in ("StringEquals", "ArnEquals"):
        return actual in expected
    if operator == "StringEqualsIgnoreCase":
        return actual.lower() in [v.lower() for v in expected]
    if operator in ("StringLike", "ArnLike"):
        return any(fnmatch.fnmatchcase(actual, v) for v in expected)
    raise KeyError(operator)


def conditions_hold(conditions: dict, context: dict) -> bool:
    """Whether a statement's Condition block holds for ``context`` (AWS's rules for the operators used here).

    A key the context lacks: the condition does not hold, except with an ...IfExists operator or a negated
    operator (StringNotEquals, ...), which then hold. An operator not known here does not hold.
    """
    for operator, pairs in (conditions or {}).items():
        if_exists = operator.endswith("IfExists")
        base = operator[: -len("IfExists")] if if_exists else operator
        negated = base.startswith(("StringNot", "ArnNot"))
        positive = base.replace("StringNot", "String").replace("ArnNot", "Arn")
        for key, expected in (pairs or {}).items():
            actual = context.get(key)
            if actual is None:
                if if_exists or negated:
                    continue
                return False
            try:
                hit = _test(positive, _values(expected), str(actual))
            except KeyError:
                return False
            if hit == negated:
                return False
    return True


def _install() -> None:
    global _PATCHED
    if _PATCHED:
        return
    import json

    from moto.iam.access_control import IAMPolicyStatement, PermissionResult
    from moto.s3.models import FakeBucket
    from moto.s3.responses import S3Response

    original_key_response = S3Response._key_response

    def key_response(self, request, full_url):
        proto = (request.headers.get("X-Forwarded-Proto") or "https").lower()
        _local.secure = "false" if proto == "http" else "true"
        try:
            return original_key_response(self, request, full_url)
        finally:
            _local.secure = "true"

    def get_permission(self, action, resource):
        if self.policy is None:
            return PermissionResult.NEUTRAL
        policy = json.loads(self.policy.decode() if isinstance(self.policy, bytes) else self.policy)
        statements = policy.get("Statement") or []
        if isinstance(statements, dict):
            statements = [statements]
        context = {"aws:SecureTransport": getattr(_local, "secure", "true")}
        permitted = False
        for stmt in statements:
            evaluator = IAMPolicyStatement(stmt)
            if "NotAction" in stmt:
                if evaluator._check_element_matches("NotAction", action):
                    continue
            elif not evaluator._check_element_matches("Action", action):
                continue
            principal = stmt.get("Principal")
            if principal != "*" and not (isinstance(principal, dict) and principal.get("AWS") in ("*", ["*"])):
                continue  # a named principal: moto does not know who calls, so the statement is not applied
            if stmt.get("Resource") and not evaluator._check_element_matches("Resource", resource):
                continue
            if not conditions_hold(stmt.get("Condition") or {}, context):
                continue
            if stmt.get("Effect") == "Deny":
                return PermissionResult.DENIED
            permitted = True
        return PermissionResult.PERMITTED if permitted else PermissionResult.NEUTRAL

    S3Response._key_response = key_response
    FakeBucket.get_permission = get_permission
    _PATCHED = True


_install()
