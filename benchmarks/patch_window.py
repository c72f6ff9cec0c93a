"""The patch window at scale: playbooks/patch_window.yml against N sandbox instances (default 500).

    .venv/bin/python benchmarks/patch_window.py --size 500 --rooted 1

Most instances have no root filesystem (the sandbox answers their commands with a simulated package
state at once); ``--rooted`` of them are backed by a real Debian root (needs the built base,
python -m sandbox.rootfs base), where the scan and the upgrade really run.

Reported:
- wall time of the playbook, the time the sandbox's instances spent executing commands (busy: wall time
  during which at least one invocation ran), and the orchestration overhead = wall - busy;
- AWS calls by operation. Systems Manager calls grow with N/50 (commands of up to 50 instances,
  describes of 50 per page), not N; CreateSnapshots is one call per instance (the API snapshots one
  instance's volumes per call).

Floors (exit code 1 when missed): overhead under 60 s; SendCommand, ListCommandInvocations,
DescribeInstanceInformation and DescribeInstancePatchStates calls each at most 3 * (N/50 + waves + 2).
"""

import argparse
import json
import math
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO))

from playbook import run_playbook  # noqa: E402
from sandbox_client import SandboxClient  # noqa: E402

TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
SSM_GROWING = ("SendCommand", "ListCommandInvocations", "DescribeInstanceInformation", "DescribeInstancePatchStates")


def build_fleet(sandbox, size: int, rooted: int) -> list[str]:
    iam, ec2 = sandbox.client("iam"), sandbox.client("ec2")
    iam.create_role(RoleName="bench-ssm", AssumeRolePolicyDocument=json.dumps(TRUST))
    iam.attach_role_policy(RoleName="bench-ssm", PolicyArn="arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore")
    iam.create_instance_profile(InstanceProfileName="bench-ssm")
    iam.add_role_to_instance_profile(InstanceProfileName="bench-ssm", RoleName="bench-ssm")
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    ids = []
    for n in range(size):
        tags = [{"Key": "PatchGroup", "Value": "bench"}]
        if n < rooted:
            tags.append({"Key": "sandbox:rootfs", "Value": "bookworm"})
        reply = ec2.run_instances(
            ImageId=image,
            MinCount=1,
            MaxCount=1,
            InstanceType="t3.micro",
            IamInstanceProfile={"Name": "bench-ssm"},
            TagSpecifications=[{"ResourceType": "instance", "Tags": tags}],
        )
        ids.append(reply["Instances"][0]["InstanceId"])
    return ids


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=500)
    parser.add_argument("--rooted", type=int, default=1, help="instances backed by a real Debian root")
    parser.add_argument("--waves", default="10,50,100", help="wave percentages after the canary")
    parser.add_argument("--max-overhead", type=float, default=60.0)
    parser.add_argument("--json", help="write the numbers to this file")
    args = parser.parse_args(argv)
    percentages = [int(p) for p in args.waves.split(",")]

    with SandboxClient.start(seed="empty") as sandbox:
        started = time.monotonic()
        build_fleet(sandbox, args.size, args.rooted)
        setup = time.monotonic() - started
        sandbox.clear_requests()
        with tempfile.TemporaryDirectory(prefix="patch-bench-") as reports:
            started = time.monotonic()
            run = run_playbook(
                sandbox,
                "playbooks/patch_window.yml",
                extra_vars={
                    "patch_window_target_tags": {"PatchGroup": "bench"},
                    "patch_window_reports_dir": reports,
                    "patch_window_run_id": "bench",
                    "patch_window_wave_percentages": percentages,
                    "patch_window_max_concurrency": "20%",
                    "patch_window_error_budget": "1%",
                    "patch_window_wave_timeout": 900,
                },
                timeout=1800,
            )
            wall = time.monotonic() - started
            report_path = Path(reports) / "bench-patch" / "patch-report.json"
            report = json.loads(report_path.read_text()) if report_path.exists() else {}
        stats = sandbox.call("GET", "ssm/commands")
        calls = Counter(f"{r['service']}:{r['operation']}" for r in sandbox.requests())

    busy = stats.get("busy_seconds", 0.0)
    overhead = wall - busy
    waves = len(report.get("waves", []))
    limit = 3 * (math.ceil(args.size / 50) + waves + 2)
    growing = {op: calls.get(f"ssm:{op}", 0) for op in SSM_GROWING}
    result = {
        "size": args.size,
        "rooted": args.rooted,
        "setup_seconds": round(setup, 1),
        "wall_seconds": round(wall, 1),
        "sandbox_busy_seconds": busy,
        "sandbox_execution_seconds": stats.get("execution_seconds"),
        "overhead_seconds": round(overhead, 1),
        "waves": waves,
        "summary": report.get("summary"),
        "calls_total": sum(calls.values()),
        "calls": dict(sorted(calls.items())),
        "ssm_calls_that_grow_with_n": growing,
        "ssm_call_limit_each": limit,
        "playbook_rc": run.returncode,
    }
    print(json.dumps(result, indent=2))
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2) + "\n")
    problems = []
    if run.returncode != 0:
        problems.append(f"the playbook failed (rc {run.returncode}):\n{run.stdout[-3000:]}")
    if overhead >= args.max_overhead:
        problems.append(f"overhead {overhead:.1f} s is not under {args.max_overhead:g} s")
    problems += [f"{op}: {n} calls, more than {limit}" for op, n in growing.items() if n > limit]
    if report.get("summary", {}).get("patched") != args.size:
        problems.append(f"not every instance was patched: {report.get('summary')}")
    for problem in problems:
        print("FLOOR MISSED:", problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
