"""Fault injection: rules that answer matching requests with throttling, server errors or a named AWS error."""

import difflib
import random
import re
import threading
import time

from sandbox import models

RULE_FIELDS = {
    "service": "botocore service name, e.g. ec2 (missing = every service)",
    "operation": "operation name, e.g. DescribeInstances (missing = every operation)",
    "region": "region, e.g. eu-west-1 (missing = every region)",
    "throttle_rate": "share of matching calls answered with the service's throttling error, 0..1",
    "error_rate": "share of matching calls answered with a server error (or with error_code), 0..1",
    "error_status": "HTTP status of the error: 500 (InternalError, the default) or 503 (ServiceUnavailable); "
    "with error_code, 400 (the default) or 403",
    "error_code": "answer the error_rate share with this AWS error code instead of a server error "
    "(e.g. AccessDeniedException, UnauthorizedOperation, AccessDenied): a refusal the caller does not retry",
    "error_message": "the message of the error_code answer (missing = one that names the rule)",
    "count": "at most this many injections, then the rule is spent (missing = unlimited)",
    "seed": "random seed, for repeatable runs",
    "delay_seconds": "sleep this many seconds (0..600) before answering a matching call (slow APIs, restore durations)",
    "match": "only calls whose URI or body contains this text match (e.g. a resource identifier)",
    "rate_limit": "a request-rate limit as AWS applies it: tokens added per second to a bucket per matching "
    "(service, operation, region); a call that finds the bucket empty is throttled",
    "burst": "the bucket's size for rate_limit (missing = rate_limit, rounded up)",
}

MAX_RATE_LIMIT = 100000

MAX_DELAY_SECONDS = 600

ERROR_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9.]{0,99}$")
CLIENT_ERROR_STATUSES = (400, 403)
SERVER_ERROR_STATUSES = (500, 503)


class RuleError(ValueError):
    """A fault rule that cannot be used; the message says which field is wrong and what is allowed."""


class Rule:
    def __init__(self, spec: dict, index: int):
        self.spec = dict(spec)
        self.index = index
        self.service = spec.get("service")
        self.operation = spec.get("operation")
        self.region = spec.get("region")
        self.throttle_rate = float(spec.get("throttle_rate", 0))
        self.error_rate = float(spec.get("error_rate", 0))
        self.error_code = spec.get("error_code")
        self.error_message = spec.get("error_message")
        self.error_status = int(spec.get("error_status", 400 if self.error_code else 500))
        self.count = spec.get("count")
        self.delay_seconds = float(spec.get("delay_seconds", 0))
        self.match = spec.get("match")
        self.rate_limit = float(spec.get("rate_limit", 0))
        self.burst = float(spec.get("burst") or -(-self.rate_limit // 1))
        self._buckets: dict = {}  # (service, operation, region) -> [tokens, monotonic time of the last refill]
        self.injected = 0
        self.random = random.Random(spec.get("seed"))  # noqa: S311 - test randomness, not crypto

    @property
    def spent(self) -> bool:
        return self.count is not None and self.injected >= self.count

    @property
    def delay_only(self) -> bool:
        return self.throttle_rate + self.error_rate <= 0 and self.rate_limit <= 0

    def take_token(self, key, now: float) -> bool:
        """Refill the key's bucket for the time since its last call, then take a token if there is one."""
        tokens, last = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate_limit)
        taken = tokens >= 1
        self._buckets[key] = (tokens - 1 if taken else tokens, now)
        return taken

    def matches(self, service: str, operation: str, region: str | None, text: str | None = None) -> bool:
        return (
            (self.service is None or self.service == service)
            and (self.operation is None or self.operation == operation)
            and (self.region is None or self.region == region)
            and (self.match is None or (text is not None and self.match in text))
        )

    def as_dict(self) -> dict:
        remaining = None if self.count is None else max(self.count - self.injected, 0)
        return {**self.spec, "injected": self.injected, "remaining": remaining, "spent": self.spent}


def _number(rule: dict, where: str, field: str, low: float, high: float) -> None:
    value = rule.get(field)
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise RuleError(f"{where}: {field} must be a number from {low} to {high}, got {value!r}")


def validate_rules(payload) -> list[dict]:
    """Check a list of rule dicts; raise RuleError naming the rule, the field and what is allowed."""
    if isinstance(payload, dict) and "rules" in payload:
        payload = payload["rules"]
    if isinstance(payload, dict):
        payload = [payload]
    if not isinstance(payload, list):
        raise RuleError('faults must be a JSON list of rule objects (or {"rules": [...]})')
    for index, rule in enumerate(payload):
        where = f"rule {index}"
        if not isinstance(rule, dict):
            raise RuleError(f"{where}: must be a JSON object, got {rule!r}")
        unknown = sorted(set(rule) - set(RULE_FIELDS))
        if unknown:
            raise RuleError(f"{where}: unknown field(s) {', '.join(unknown)}; allowed fields: {', '.join(RULE_FIELDS)}")
        for field in ("service", "operation", "region", "match"):
            if field in rule and (not isinstance(rule[field], str) or not rule[field]):
                raise RuleError(f"{where}: {field} must be a non-empty string, got {rule[field]!r}")
        service = rule.get("service")
        if service is not None and service not in models.available_services():
            close = difflib.get_close_matches(service, models.available_services(), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise RuleError(f"{where}: unknown service {service!r} (use botocore service names such as ec2, s3){hint}")
        operation = rule.get("operation")
        if service is not None and operation is not None:
            names = models.service_model(service).operation_names
            if operation not in names:
                close = difflib.get_close_matches(operation, names, n=3)
                hint = f"; did you mean {', '.join(close)}?" if close else ""
                raise RuleError(f"{where}: {service} has no operation {operation!r}{hint}")
        _number(rule, where, "throttle_rate", 0, 1)
        _number(rule, where, "error_rate", 0, 1)
        _number(rule, where, "delay_seconds", 0, MAX_DELAY_SECONDS)
        _number(rule, where, "rate_limit", 0.01, MAX_RATE_LIMIT)
        _number(rule, where, "burst", 1, MAX_RATE_LIMIT)
        throttle = rule.get("throttle_rate", 0)
        error = rule.get("error_rate", 0)
        if "burst" in rule and "rate_limit" not in rule:
            raise RuleError(f"{where}: burst is the bucket size of rate_limit; set rate_limit too")
        if rule.get("rate_limit") and throttle + error > 0:
            raise RuleError(f"{where}: rate_limit cannot be combined with throttle_rate or error_rate; use two rules")
        if throttle + error <= 0 and not rule.get("delay_seconds") and not rule.get("rate_limit"):
            raise RuleError(
                f"{where}: injects nothing; set throttle_rate and/or error_rate above 0, rate_limit, "
                "or delay_seconds above 0"
            )
        if throttle + error > 1:
            raise RuleError(f"{where}: throttle_rate + error_rate must not exceed 1, got {throttle + error}")
        code = rule.get("error_code")
        if code is not None and (not isinstance(code, str) or not ERROR_CODE.match(code)):
            raise RuleError(
                f"{where}: error_code must be an AWS error code (letters, digits and dots, such as "
                f"AccessDeniedException), got {code!r}"
            )
        if "error_message" in rule and (not isinstance(rule["error_message"], str) or code is None):
            raise RuleError(f"{where}: error_message is the message of error_code's answer: a string, with error_code")
        if code is not None and not error:
            raise RuleError(f"{where}: error_code answers the error_rate share of calls; set error_rate above 0")
        statuses = CLIENT_ERROR_STATUSES if code is not None else SERVER_ERROR_STATUSES
        if "error_status" in rule and rule["error_status"] not in statuses:
            what = "with error_code, error_status must be 400 or 403" if code else "error_status must be 500 or 503"
            hint = "" if code else " (set error_code for a 4xx refusal)"
            raise RuleError(f"{where}: {what}, got {rule['error_status']!r}{hint}")
        count = rule.get("count")
        if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
            raise RuleError(f"{where}: count must be a whole number of 1 or more, got {count!r}")
        seed = rule.get("seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int | str)):
            raise RuleError(f"{where}: seed must be an integer or a string, got {seed!r}")
    return payload


class Faults:
    """The active rules. Thread-safe: the server answers requests concurrently."""

    def __init__(self):
        self._lock = threading.Lock()
        self._rules: list[Rule] = []

    def set(self, payload) -> list[dict]:
        specs = validate_rules(payload)
        with self._lock:
            self._rules = [Rule(spec, index) for index, spec in enumerate(specs)]
            return [rule.as_dict() for rule in self._rules]

    def add(self, payload) -> list[dict]:
        specs = validate_rules(payload)
        with self._lock:
            start = len(self._rules)
            self._rules += [Rule(spec, start + index) for index, spec in enumerate(specs)]
            return [rule.as_dict() for rule in self._rules]

    def clear(self) -> None:
        with self._lock:
            self._rules = []

    def list(self) -> list[dict]:
        with self._lock:
            return [rule.as_dict() for rule in self._rules]

    def needs_text(self) -> bool:
        """True when a rule matches on the request's URI or body (the caller then reads the body)."""
        with self._lock:
            return any(rule.match is not None and not rule.spent for rule in self._rules)

    def delay(self, service: str, operation: str, region: str | None, text: str | None = None) -> float:
        """Seconds to sleep before answering: the first live matching rule with delay_seconds, else 0.

        A delay-only rule counts each delay as an injection (``count`` limits them); a rule that also
        throttles or errors delays every matching call and counts only its injected errors.
        """
        with self._lock:
            for rule in self._rules:
                if rule.spent or rule.delay_seconds <= 0 or not rule.matches(service, operation, region, text):
                    continue
                if rule.delay_only:
                    rule.injected += 1
                return rule.delay_seconds
        return 0.0

    def pick(self, service: str, operation: str, region: str | None, text: str | None = None):
        """("throttle" | "error", rule) for the first live rule that fires on this request, else None.

        A rate_limit rule fires when the bucket of the call's (service, operation, region) is empty.
        """
        now = time.monotonic()
        with self._lock:
            for rule in self._rules:
                if rule.spent or rule.delay_only or not rule.matches(service, operation, region, text):
                    continue
                if rule.rate_limit > 0:
                    if rule.take_token((service, operation, region), now):
                        continue
                    rule.injected += 1
                    return "throttle", rule
                draw = rule.random.random()
                if draw < rule.throttle_rate:
                    kind = "throttle"
                elif draw < rule.throttle_rate + rule.error_rate:
                    kind = "error"
                else:
                    continue
                rule.injected += 1
                return kind, rule
        return None
