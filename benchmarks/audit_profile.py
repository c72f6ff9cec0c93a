"""Where the audit's wall time goes at scale: time of every AWS call by operation, on the seeded estate of
benchmarks/audit_scale.py, and the time spent outside the calls (the checks themselves).

    .venv/bin/python benchmarks/audit_profile.py --size 1000 --buckets 200

Calls made in parallel overlap, so the per-operation sums can exceed the wall time; "busy" is the wall time
during which at least one call of that operation was in flight.
"""

import argparse
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
for path in (REPO / ".collections", REPO / "tests", REPO / "benchmarks"):
    sys.path.insert(0, str(path))

import audit_scale  # noqa: E402  (sets sys.path for the collection and the sandbox client)
from ansible_collections.medcircle.cloudops.plugins.module_utils.audit import checks  # noqa: E402
from ansible_collections.medcircle.cloudops.plugins.module_utils.audit.collect import AwsSnapshot  # noqa: E402
from botocore.config import Config  # noqa: E402
from sandbox_client import SandboxClient  # noqa: E402


class Timings:
    def __init__(self):
        self.lock = threading.Lock()
        self.spans = defaultdict(list)

    def hook(self, client):
        service = client.meta.service_model.service_name
        starts = {}

        def before(context, **_kwargs):
            starts[id(context)] = time.monotonic()

        def after(http_response, parsed, model, context, **_kwargs):
            started = starts.pop(id(context), None)
            if started is not None:
                with self.lock:
                    self.spans[f"{service}:{model.name}"].append((started, time.monotonic()))

        client.meta.events.register("before-send", lambda request, **kw: before(request.context))
        client.meta.events.register("after-call", after)
        return client


def busy(spans):
    total, end = 0.0, None
    for start, stop in sorted(spans):
        if end is None or start > end:
            total += stop - start
            end = stop
        elif stop > end:
            total += stop - end
            end = stop
    return total


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--buckets", type=int, default=200)
    parser.add_argument("--databases", type=int, default=5)
    parser.add_argument("--port", type=int, default=None, help="sandbox port (default: a free one)")
    args = parser.parse_args()
    timings = Timings()
    with SandboxClient.start(port=args.port, seed="empty") as sandbox:
        audit_scale.seed(sandbox, args.size, args.buckets, args.databases)
        config = Config(
            read_timeout=1800, connect_timeout=10, retries={"total_max_attempts": 1}, max_pool_connections=64
        )
        snap = AwsSnapshot(
            lambda service, region: timings.hook(sandbox.client(service, region, config=config)),
            [audit_scale.P, audit_scale.DR],
        )
        started = time.monotonic()
        snap.get("account")
        checks.run_audit(snap, checks.AuditContext())
        wall = time.monotonic() - started
    all_spans = [s for spans in timings.spans.values() for s in spans]
    in_calls = busy(all_spans)
    print(f"audit wall {wall:.1f}s; some AWS call in flight {in_calls:.1f}s; outside calls {wall - in_calls:.1f}s")
    print(f"{'operation':<48}{'calls':>7}{'sum s':>9}{'busy s':>9}{'mean ms':>9}")
    rows = sorted(timings.spans.items(), key=lambda kv: -busy(kv[1]))
    for op, spans in rows:
        total = sum(b - a for a, b in spans)
        print(f"{op:<48}{len(spans):>7}{total:>9.1f}{busy(spans):>9.1f}{1000 * total / len(spans):>9.1f}")


if __name__ == "__main__":
    sys.exit(main())
