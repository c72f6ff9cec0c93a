"""The request log: one entry per AWS request the sandbox answered (control endpoints excluded)."""

import collections
import datetime
import os
import threading

_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


class FilterError(ValueError):
    pass


class RequestLog:
    def __init__(self, limit: int | None = None):
        limit = limit or int(os.environ.get("SANDBOX_LOG_LIMIT", "200000"))
        self._lock = threading.Lock()
        self._entries: collections.deque = collections.deque(maxlen=limit)
        self._seq = 0

    def start(self, service: str, operation: str, region: str | None, mutating: bool) -> dict:
        """Log a request as it arrives; the caller fills in ``status`` (and ``fault``) when it is answered."""
        with self._lock:
            self._seq += 1
            entry = {
                "seq": self._seq,
                "time": datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds"),
                "service": service,
                "operation": operation,
                "region": region,
                "mutating": mutating,
                "status": None,
                "fault": None,
            }
            self._entries.append(entry)
            return entry

    def clear(self) -> None:
        """Forget every entry. Sequence numbers keep counting, so ``since`` stays meaningful."""
        with self._lock:
            self._entries.clear()

    def last_seq(self) -> int:
        with self._lock:
            return self._seq

    def query(self, filters: dict) -> list[dict]:
        """Entries matching ``filters`` (service, operation, region, mutating, since, fault)."""
        allowed = {"service", "operation", "region", "mutating", "since", "fault"}
        unknown = sorted(set(filters) - allowed)
        if unknown:
            raise FilterError(f"unknown filter(s) {', '.join(unknown)}; allowed: {', '.join(sorted(allowed))}")
        since = 0
        if "since" in filters:
            try:
                since = int(filters["since"])
            except ValueError:
                raise FilterError(f"since must be a sequence number, got {filters['since']!r}") from None
        mutating = None
        if "mutating" in filters:
            value = str(filters["mutating"]).lower()
            if value not in _TRUE + _FALSE:
                raise FilterError(f"mutating must be true or false, got {filters['mutating']!r}")
            mutating = value in _TRUE
        with self._lock:
            entries = [dict(entry) for entry in self._entries]
        result = []
        for entry in entries:
            if entry["seq"] <= since:
                continue
            if mutating is not None and entry["mutating"] != mutating:
                continue
            if any(key in filters and entry[key] != filters[key] for key in ("service", "operation", "region")):
                continue
            if "fault" in filters:
                wanted = str(filters["fault"]).lower()
                if wanted in _TRUE and entry["fault"] is None:
                    continue
                if wanted in _FALSE and entry["fault"] is not None:
                    continue
            result.append(entry)
        return result
