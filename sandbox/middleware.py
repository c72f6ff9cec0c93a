"""The sandbox's WSGI middleware around moto's server.

For every AWS request it works out service, operation and region (``sandbox.detect``), logs it,
injects faults when a rule says so (``sandbox.faults``), answers operations moto lacks
(``sandbox.additions``) and hands everything else to moto. Requests under ``/_sandbox/`` are the
control endpoints (JSON in and out) and never reach moto.
"""

import http
import json
import logging
import os
import threading
import time
import traceback
from collections.abc import Callable
from urllib.parse import parse_qsl

from sandbox import CONTROL_PREFIX, additions, detect, faults, protocols, requestlog

log = logging.getLogger("sandbox")


def _status_line(status: int) -> str:
    try:
        return f"{status} {http.HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Error"


class SandboxState:
    """What the control endpoints report and change: the seed, readiness, the log and the faults."""

    def __init__(self, seed: str):
        self.seed = seed
        self.ready = False
        self.error: str | None = None
        self.seed_result: dict | None = None
        self.seeding = False
        self.log = requestlog.RequestLog()
        self.faults = faults.Faults()
        self.reset_lock = threading.Lock()


def _has_no_body(status) -> bool:
    try:
        code = int(str(status).split(" ", 1)[0])
    except ValueError:
        return False
    return code < 200 or code in (204, 304)


class SandboxMiddleware:
    """WSGI app: control endpoints, request log, faults and additions in front of moto's app."""

    def __init__(self, app, state: SandboxState, endpoint: str, apply_seed: Callable[[str, str], dict]):
        self.app = app
        self.state = state
        self.endpoint = endpoint
        self.apply_seed = apply_seed
        additions.load()
        additions.ENDPOINT = endpoint
        from sandbox.additions import iam_last_accessed

        self._record_use = iam_last_accessed.record  # who used which service: IAM's service last accessed data

    # --- AWS requests ---------------------------------------------------------------

    def __call__(self, environ, start_response):
        """Every answer, with HTTP's framing kept: an answer whose status has no body (1xx, 204, 304) is sent
        without one. moto and the additions give some of them a body (``{}`` for a 204 of rest-json
        services); on a kept-open connection those bytes would be read as the start of the next answer."""
        bodyless = []

        def framed_start_response(status, headers, exc_info=None):
            if _has_no_body(status):
                bodyless.append(True)
                headers = [(k, v) for k, v in headers if k.lower() not in ("content-length", "transfer-encoding")]
            return start_response(status, headers, exc_info)

        result = self._answer(environ, framed_start_response)
        if not bodyless:  # start_response was called before the answer was returned (moto, additions, control)
            return result
        if hasattr(result, "close"):
            result.close()
        return []

    def _answer(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith(CONTROL_PREFIX) or path == CONTROL_PREFIX.rstrip("/"):
            return self.control(environ, start_response)
        if path.startswith("/moto-api"):
            return self.app(environ, start_response)
        info = detect.detect(environ)
        method = environ.get("REQUEST_METHOD", "POST")
        entry = self.state.log.start(
            info.service, info.operation, info.region, detect.is_mutating(info.operation, method)
        )
        if info.access_key and not self.state.seeding:  # AWS counts every attempt of a signed request
            self._record_use(info.access_key, info.signing_name, info.operation, info.region)

        picked = None
        if not self.state.seeding:
            rules = self.state.faults
            text = None
            if rules.needs_text():  # a rule matches on a resource name: look at the URI and the body
                body = detect.read_body(environ).decode("utf-8", "replace")
                text = f"{path}?{environ.get('QUERY_STRING', '')}\n{body}"
            delay = rules.delay(info.service, info.operation, info.region, text)
            if delay > 0:
                time.sleep(delay)  # the server is threaded: only this request waits
            picked = rules.pick(info.service, info.operation, info.region, text)
        if picked is not None:
            kind, rule = picked
            if kind == "throttle":
                code, status = protocols.throttling_error(info.service, info.operation, info.protocol)
                message = "Rate exceeded"
            elif rule.error_code:
                status, code = rule.error_status, rule.error_code
                message = rule.error_message or f"{code} from the sandbox's fault rule {rule.index}"
            else:
                status = rule.error_status
                code = protocols.SERVER_ERRORS[status]
                message = "We encountered an internal error. Please try again."
            status, headers, body = protocols.error_response(info.service, info.protocol, code, message, status, method)
            entry["fault"] = code
            return self._respond(start_response, entry, status, headers, body)

        item = additions.find(info.service, info.operation)
        if item is not None:
            body = detect.read_body(environ)
            try:
                status, headers, payload, _ = additions.dispatch(item, info, environ, body)
            except Exception as error:  # a handler bug: say so at once (501 is not retried), keep serving
                log.error("addition %s failed:\n%s", item.key, traceback.format_exc())
                item.last_error = f"{type(error).__name__}: {error}"
                status, headers, payload = protocols.error_response(
                    info.service,
                    info.protocol,
                    "SandboxAdditionError",
                    f"sandbox addition {item.key} failed: {type(error).__name__}: {error}",
                    501,
                    method,
                )
            return self._respond(start_response, entry, status, headers, payload)

        return self._forward(environ, start_response, info, entry, method)

    def _forward(self, environ, start_response, info, entry, method):
        """Hand the request to moto; turn "moto has no such operation/service" into a clear 501."""
        held = {}

        def recording_start_response(status, headers, exc_info=None):
            try:
                entry["status"] = int(status.split(" ", 1)[0])
            except ValueError:
                entry["status"] = None
            content_type = next((value for key, value in headers if key.lower() == "content-type"), "")
            if entry["status"] == 404 and content_type.startswith("text/html") and info.operation != detect.UNKNOWN:
                held["start"] = (status, headers, exc_info)  # maybe moto's "no route" page: look before passing it on
                return lambda data: None
            return start_response(status, headers, exc_info)

        try:
            result = self.app(environ, recording_start_response)
        except NotImplementedError as error:
            return self._not_implemented(start_response, entry, info, method, str(error))
        except Exception as error:
            if not self._moto_has_service(environ):
                return self._not_implemented(start_response, entry, info, method, f"moto has no {info.service}")
            log.error("moto failed on %s:%s:\n%s", info.service, info.operation, traceback.format_exc())
            message = f"moto failed: {type(error).__name__}: {error}"
            status, headers, body = protocols.error_response(
                info.service, info.protocol, "InternalError", message, 500, method
            )
            return self._respond(start_response, entry, status, headers, body)
        if not held:
            return result
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
        if b"<title>404 Not Found</title>" in body:
            return self._not_implemented(start_response, entry, info, method, "moto has no route for it")
        start_response(*held["start"])
        return [body]

    def _moto_has_service(self, environ) -> bool:
        try:
            host = self.app.infer_service_region_host(environ, environ.get("PATH_INFO", ""))
            return self.app.get_backend_for_host(host) is not None
        except Exception:  # cannot tell: assume moto has it and report its failure as such
            return True

    def _not_implemented(self, start_response, entry, info, method, why: str):
        message = (
            f"the sandbox does not implement {info.service}:{info.operation} ({why}); add it under sandbox/additions/"
        )
        log.warning(message)
        status, headers, body = protocols.error_response(
            info.service, info.protocol, "NotImplemented", message, 501, method
        )
        return self._respond(start_response, entry, status, headers, body)

    def _respond(self, start_response, entry, status, headers, body):
        entry["status"] = status
        start_response(_status_line(status), headers)
        return [body]

    # --- control endpoints ------------------------------------------------------------

    def control(self, environ, start_response):
        method = environ.get("REQUEST_METHOD", "GET").upper()
        name = environ.get("PATH_INFO", "")[len(CONTROL_PREFIX) :].strip("/")
        query = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        handlers = {
            ("health", "GET"): self._health,
            ("requests", "GET"): self._requests_get,
            ("requests", "DELETE"): self._requests_delete,
            ("faults", "GET"): self._faults_get,
            ("faults", "PUT"): self._faults_put,
            ("faults", "POST"): self._faults_post,
            ("faults", "DELETE"): self._faults_delete,
            ("reset", "POST"): self._reset,
            ("additions", "GET"): self._additions,
        }
        for key, route in additions.control_routes().items():
            handlers.setdefault(key, self._addition_route(route))
        handler = handlers.get((name, method))
        if handler is None:
            allowed = sorted(f"{verb} {CONTROL_PREFIX}{path}" for path, verb in handlers)
            known = {path for path, _ in handlers}
            status = 405 if name in known else 404
            return self._json(
                start_response, status, {"error": f"no {method} {CONTROL_PREFIX}{name}", "allowed": allowed}
            )
        try:
            payload = None
            if method in ("PUT", "POST"):
                raw = detect.read_body(environ)
                try:
                    payload = json.loads(raw) if raw.strip() else None
                except ValueError as error:
                    return self._json(start_response, 400, {"error": f"the body is not valid JSON: {error}"})
            status, result = handler(query, payload)
        except (faults.RuleError, requestlog.FilterError) as error:
            status, result = 400, {"error": str(error)}
        except additions.ControlError as error:
            status, result = error.status, {"error": error.message}
        except Exception as error:
            log.error("control endpoint %s failed:\n%s", name, traceback.format_exc())
            status, result = 500, {"error": f"{type(error).__name__}: {error}"}
        return self._json(start_response, status, result)

    def _addition_route(self, route):
        def handler(query, payload):
            return 200, route(query, payload)

        return handler

    @staticmethod
    def _json(start_response, status, result):
        body = json.dumps(result, default=str).encode("utf-8")
        start_response(
            _status_line(status),
            [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
        )
        return [body]

    def _health(self, query, payload):
        state = self.state
        # pid: which process answers, so that a client that started a sandbox knows it is its own
        result = {"status": "ok", "seed": state.seed, "ready": state.ready, "pid": os.getpid()}
        if state.error:
            result["error"] = state.error
        return 200, result

    def _requests_get(self, query, payload):
        return 200, self.state.log.query(query)

    def _requests_delete(self, query, payload):
        self.state.log.clear()
        return 200, {"status": "ok", "last_seq": self.state.log.last_seq()}

    def _faults_get(self, query, payload):
        return 200, self.state.faults.list()

    def _faults_put(self, query, payload):
        return 200, self.state.faults.set(payload)

    def _faults_post(self, query, payload):
        return 200, self.state.faults.add(payload)

    def _faults_delete(self, query, payload):
        self.state.faults.clear()
        return 200, []

    def _additions(self, query, payload):
        return 200, [item.summary() for item in additions.registry()]

    def _reset(self, query, payload):
        payload = payload or {}
        if not isinstance(payload, dict):
            return 400, {"error": 'the body must be a JSON object such as {"seed": "empty"}'}
        unknown = sorted(set(payload) - {"seed"})
        if unknown:
            return 400, {"error": f"unknown field(s) {', '.join(unknown)}; allowed: seed"}
        seed = payload.get("seed", self.state.seed)
        if not isinstance(seed, str) or not seed:
            return 400, {"error": f"seed must be a seed name, got {seed!r}"}
        try:
            result = self.reset(seed)
        except ValueError as error:
            return 400, {"error": str(error)}
        return 200, {"status": "ok", "seed": seed, "result": result}

    # --- reset and seeding ----------------------------------------------------------------

    def reset(self, seed: str) -> dict:
        """Forget moto's state and the additions' state, apply ``seed``, clear the request log."""
        from sandbox.motostate import reset_moto

        state = self.state
        with state.reset_lock:
            self._check_seed(seed)
            state.ready = False
            reset_moto()
            additions.reset_state()
            return self._seed(seed)

    def seed_initial(self) -> None:
        """Apply the startup seed (the server is already listening); record any failure for /health."""
        try:
            with self.state.reset_lock:
                self._seed(self.state.seed)
        except Exception:
            log.error("%s\n%s", self.state.error, traceback.format_exc())

    def _check_seed(self, seed: str) -> None:
        from sandbox import seeds

        if seed not in seeds.SEEDS:
            raise ValueError(f"unknown seed {seed!r}; allowed seeds: {', '.join(sorted(seeds.SEEDS))}")

    def _seed(self, seed: str) -> dict:
        state = self.state
        state.seeding = True
        state.error = None
        try:
            result = self.apply_seed(seed, self.endpoint)
        except Exception as error:
            state.error = f"seed {seed!r} failed: {type(error).__name__}: {error}"
            raise
        finally:
            state.seeding = False
        state.log.clear()
        state.seed = seed
        state.seed_result = result if isinstance(result, dict) else {}
        state.ready = True
        log.info("seed %r applied", seed)
        return state.seed_result
