"""How the risk audit scales: seed N instances (with volumes), security groups, a few hundred buckets and
some databases into a sandbox this script starts, run the audit of all 42 findings over two regions, and
compare the API calls made with the pagination lower bound. Then, on the same seeded estate, run Prowler
(the other tool, in its own virtualenv: bash benchmarks/prowler_env.sh) for the Prowler checks the findings
map to, and set its wall time beside the audit's.

    .venv/bin/python benchmarks/audit_scale.py                 # 100, 1,000 and 5,000 instances
    .venv/bin/python benchmarks/audit_scale.py --sizes 100,1000 --buckets 200
    .venv/bin/python benchmarks/audit_scale.py --sizes 1000 --no-prowler

The lower bound, per operation: a paginated read of n items costs ceil(n / largest page) calls (at least
one per region); a read AWS only offers per resource (S3 bucket settings, DescribeInstanceAttribute for
termination protection, trail status, ...) costs one call per resource, except the replication and Object
Lock of a bucket never versioned, which S3 cannot have and the audit does not ask. The floor: calls <= 1.1 x
bound.

Prowler runs by default when .cache/prowler-venv holds it (--prowler insists, --no-prowler skips it). Its
wall time is the whole ``prowler aws -c <mapped checks>`` process, as a user waits for it; the scan time
Prowler prints itself (without its start-up and output writing) is shown too. The audit's wall time is
run_audit with a fresh SDK session (service models loaded again, as in a new module process), without
Python's start-up. The floor: at 1,000 instances the audit is at least 10 x faster than Prowler's mapped
checks (Prowler wall / audit wall >= 10).

Each round also prints the CPU time the audit's process and the sandbox's process used for the audit
(on 2 CPUs the two share the machine; the audit cannot be faster than its own CPU time).

Each size runs --rounds rounds (default 2) of audit then Prowler on the same estate. The sandbox loads a
service's code the first time the service is asked, which the first tool of the first round pays for
alone; the floors are judged on the last round, when the sandbox has answered both tools once, and the
first round's times are printed beside them. --latency-ms N makes the sandbox wait N ms before
answering every call of either tool (its fault injection), to compare them as on a network;
--ec2-rate-limit applies EC2's default request-rate limit (100 calls per API and region at once, then
20 a second) to both tools, as AWS would.
Exit status 1 when a size misses a floor.
"""

import argparse
import gc
import math
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
for path in (REPO / ".collections", REPO, REPO / "tests"):
    sys.path.insert(0, str(path))

from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper  # noqa: E402
from ansible_collections.medcircle.cloudops.plugins.module_utils.audit import checks as checks_module  # noqa: E402
from ansible_collections.medcircle.cloudops.plugins.module_utils.audit.collect import (  # noqa: E402
    IMAGE_BATCH,
    PAGE_SIZES,
    PATCH_STATE_BATCH,
    AwsSnapshot,
)
from ansible_collections.medcircle.cloudops.plugins.module_utils.audit.sdk import audit_session  # noqa: E402
from ansible_collections.medcircle.cloudops.plugins.modules.risk_audit import ThrottlingRetry  # noqa: E402
from botocore.config import Config  # noqa: E402
from sandbox_client import DUMMY_KEY, SandboxClient  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import prowler_run  # noqa: E402

P, DR = "us-east-1", "us-west-2"
FLOOR = 1.1
SPEED_FLOOR = 10.0  # Prowler's wall time / the audit's, at SPEED_FLOOR_SIZE instances
SPEED_FLOOR_SIZE = 1000
S3_OPERATIONS = {
    "versioning": "GetBucketVersioning",
    "encryption": "GetBucketEncryption",
    "object_lock": "GetObjectLockConfiguration",
    "logging": "GetBucketLogging",
    "policy": "GetBucketPolicy",
    "replication": "GetBucketReplication",
    "tagging": "GetBucketTagging",
}
# botocore operation name -> (service, python name) for the paginated reads
PAGED = {
    "ec2:DescribeInstances": ("ec2", "describe_instances", "ec2_instances"),
    "ec2:DescribeVolumes": ("ec2", "describe_volumes", "ec2_volumes"),
    "ec2:DescribeSecurityGroups": ("ec2", "describe_security_groups", "ec2_security_groups"),
    "ec2:DescribeNetworkInterfaces": ("ec2", "describe_network_interfaces", "ec2_network_interfaces"),
    "ec2:DescribeVpcs": ("ec2", "describe_vpcs", "ec2_vpcs"),
    "ec2:DescribeSubnets": ("ec2", "describe_subnets", "ec2_subnets"),
    "ec2:DescribeRouteTables": ("ec2", "describe_route_tables", "ec2_route_tables"),
    "ec2:DescribeFlowLogs": ("ec2", "describe_flow_logs", "ec2_flow_logs"),
    "ec2:DescribeVpcEndpoints": ("ec2", "describe_vpc_endpoints", "ec2_vpc_endpoints"),
    "rds:DescribeDBInstances": ("rds", "describe_db_instances", "rds_instances"),
    "rds:DescribeDBInstanceAutomatedBackups": (
        "rds",
        "describe_db_instance_automated_backups",
        "rds_automated_backups",
    ),
    "cloudwatch:DescribeAlarms": ("cloudwatch", "describe_alarms", "cloudwatch_alarms"),
    "autoscaling:DescribeAutoScalingInstances": (
        "autoscaling",
        "describe_auto_scaling_instances",
        "autoscaling_instances",
    ),
    "elbv2:DescribeLoadBalancers": ("elbv2", "describe_load_balancers", "elbv2_load_balancers"),
    "kms:ListAliases": ("kms", "list_aliases", "kms_aliases"),
    "cloudformation:DescribeStacks": ("cloudformation", "describe_stacks", "cloudformation_stacks"),
    "ssm:DescribeInstanceInformation": ("ssm", "describe_instance_information", "ssm_instance_information"),
}


def seed(sandbox, instances, buckets, databases):
    """The estate: instances in the primary region (a tenth in the DR region), one data volume per ten,
    a security group per twenty, buckets, databases."""
    started = time.monotonic()
    for region, count in ((P, instances - instances // 10), (DR, instances // 10)):
        if not count:
            continue
        ec2 = sandbox.client("ec2", region)
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/18")["Subnet"]["SubnetId"]
        groups = [
            ec2.create_security_group(GroupName=f"bench-{i}", Description="bench", VpcId=vpc)["GroupId"]
            for i in range(max(1, count // 20))
        ]
        image = ec2.register_image(Name="al2023-ami-2023.9.20261101.0-kernel-6.1-x86_64", RootDeviceName="/dev/xvda")
        launched = []
        for start in range(0, count, 500):
            batch = min(500, count - start)
            reply = ec2.run_instances(
                ImageId=image["ImageId"],
                InstanceType="t3.micro",
                MinCount=batch,
                MaxCount=batch,
                SubnetId=subnet,
                SecurityGroupIds=[groups[(start // 500) % len(groups)]],
                BlockDeviceMappings=[{"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 8}}],
                TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "bench"}]}],
            )
            launched += [i["InstanceId"] for i in reply["Instances"]]
        for index, iid in enumerate(launched[::10]):
            volume = ec2.create_volume(AvailabilityZone=f"{region}a", Size=10)["VolumeId"]
            ec2.attach_volume(VolumeId=volume, InstanceId=iid, Device="/dev/sdf")
            if index > 200:  # enough attached data volumes; the rest stay unattached
                break
    s3 = sandbox.client("s3", P)
    for i in range(buckets):
        s3.create_bucket(Bucket=f"bench-bucket-{i:04d}")
        if i % 2:
            s3.put_bucket_versioning(Bucket=f"bench-bucket-{i:04d}", VersioningConfiguration={"Status": "Enabled"})
    rds = sandbox.client("rds", P)
    for i in range(databases):
        rds.create_db_instance(
            DBInstanceIdentifier=f"bench-db-{i}",
            DBInstanceClass="db.t3.micro",
            Engine="mysql",
            AllocatedStorage=20,
            MasterUsername="admin",
            MasterUserPassword="bench-password-1",
        )
    return time.monotonic() - started


def _pages(n, page):
    return max(1, math.ceil(n / page))


def lower_bound(snap):
    """Minimum calls per operation to read what this audit read, from the data it read."""
    data = snap._data
    bound = Counter()
    for operation, (service, method, source) in PAGED.items():
        page = PAGE_SIZES.get((service, method), 100)
        for region in snap.regions:
            if (source, region, None) in data:
                items = data[(source, region, None)]
                bound[operation] += _pages(len(items), page)
    for region in snap.regions:
        if ("ec2_images", region, None) in data:
            ids = {i["ImageId"] for i in data[("ec2_instances", region, None)]}
            bound["ec2:DescribeImages"] += math.ceil(len(ids) / IMAGE_BATCH)
        if ("ec2_termination_protection", region, None) in data:
            bound["ec2:DescribeInstanceAttribute"] += len(data[("ec2_termination_protection", region, None)])
        if ("ec2_ebs_default", region, None) in data:
            bound["ec2:GetEbsEncryptionByDefault"] += 1
            if data[("ec2_ebs_default", region, None)]["enabled"]:
                bound["ec2:GetEbsDefaultKmsKeyId"] += 1
        if ("ec2_imds_defaults", region, None) in data:
            bound["ec2:GetInstanceMetadataDefaults"] += 1
        if ("ssm_patch_states", region, None) in data:
            managed = len(data[("ssm_instance_information", region, None)])
            bound["ssm:DescribeInstancePatchStates"] += math.ceil(managed / PATCH_STATE_BATCH)
        for source, ops in (
            ("cloudtrail_trails", ["cloudtrail:DescribeTrails"]),
            ("guardduty", ["guardduty:ListDetectors"]),
            ("wafv2_web_acls", ["wafv2:ListWebACLs"]),
            ("network_firewalls", ["network-firewall:ListFirewalls"]),
            ("network_firewall_policies", ["network-firewall:ListFirewallPolicies"]),
            ("dns_firewall_associations", ["route53resolver:ListFirewallRuleGroupAssociations"]),
            ("dlm_policies", ["dlm:GetLifecyclePolicies"]),
            ("backup_plans", ["backup:ListBackupPlans"]),
        ):
            if (source, region, None) in data:
                for op in ops:
                    bound[op] += 1
                items = data[(source, region, None)]
                if source == "guardduty":
                    bound["guardduty:GetDetector"] += len(items)
                if source == "network_firewalls":
                    bound["network-firewall:DescribeFirewall"] += len(items)
                if source == "dlm_policies":
                    bound["dlm:GetLifecyclePolicy"] += len(items)
                if source == "backup_plans":
                    bound["backup:GetBackupPlan"] += len(items)
                    bound["backup:ListBackupSelections"] += len(items)
                    bound["backup:GetBackupSelection"] += sum(len(p["Selections"]) for p in items)
    for key in data:
        source, region, key_part = key
        if source == "cloudtrail_trail_status":
            bound["cloudtrail:GetTrailStatus"] += 1
        elif source == "cloudtrail_event_selectors":
            bound["cloudtrail:GetEventSelectors"] += 1
        elif source == "rds_parameters":
            bound["rds:DescribeDBParameters"] += 1
        elif source == "s3_bucket" and key_part not in snap.s3_answered_by_versioning:
            # replication and Object Lock of a bucket never versioned: known absent, not asked
            bound["s3:" + S3_OPERATIONS[key_part[0]]] += 1
    if ("s3_buckets", "global", None) in data:
        buckets = data[("s3_buckets", "global", None)]
        bound["s3:ListBuckets"] += _pages(len(buckets), PAGE_SIZES[("s3", "list_buckets")])
        # AWS names each bucket's region in ListBuckets; where the endpoint does not, one
        # GetBucketLocation per bucket is the only way to learn it.
        bound["s3:GetBucketLocation"] += snap.bucket_location_lookups
    for source, op in (
        ("account", "sts:GetCallerIdentity"),
        ("iam_authorization", "iam:GetAccountAuthorizationDetails"),
        ("iam_password_policy", "iam:GetAccountPasswordPolicy"),
    ):
        if (source, "global", None) in data:
            bound[op] += 1
    if ("iam_credential_report", "global", None) in data:
        # GenerateCredentialReport answers STARTED on a fresh account and COMPLETE when asked again.
        bound["iam:GenerateCredentialReport"] += 2
        bound["iam:GetCredentialReport"] += 1
    # A read that failed still had to be asked once.
    failed = {
        "dlm_policies": "dlm:GetLifecyclePolicies",
        "backup_plans": "backup:ListBackupPlans",
        "dns_firewall_associations": "route53resolver:ListFirewallRuleGroupAssociations",
        "network_firewall_policies": "network-firewall:ListFirewallPolicies",
        "ssm_instance_information": "ssm:DescribeInstanceInformation",
    }
    for (source, _region, _key), _message in snap.errors().items():
        if source in failed:
            bound[failed[source]] += 1
    return bound


def run_prowler(sandbox, size, checks, timeout):
    """Prowler's mapped checks on the estate the audit just read; None when it did not finish."""
    sandbox.clear_requests()
    out_dir = REPO / ".cache" / "audit-scale-prowler" / str(size)
    try:
        result = prowler_run.run_prowler(sandbox.endpoint, checks, out_dir, timeout=timeout)
    except subprocess.TimeoutExpired:
        print(f"Prowler did not finish within {timeout}s")
        return None
    result["api_calls"] = len(sandbox.requests())
    statuses = Counter(f["status_code"] for f in result["findings"])
    print(
        f"Prowler {len(set(checks))} mapped checks: wall {result['wall_seconds']:.1f}s (scan {result['scan_seconds']}s "
        f"as Prowler reports it); {result['api_calls']} API calls; results {dict(statuses)}; "
        f"exit {result['returncode']}"
    )
    return result


def _process_cpu(sandbox):
    """CPU seconds (user and system) the sandbox's process has used so far; None where /proc does not say."""
    process = getattr(sandbox, "process", None)
    try:
        with open(f"/proc/{process.pid}/stat", encoding="ascii") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (AttributeError, OSError, ValueError, IndexError):
        return None


def run_audit(sandbox):
    """One audit of all 42 findings over both regions, as the risk_audit module runs it: a fresh SDK
    session (so the service models are loaded again, as in a new module process), the module's
    default number of parallel reads. Returns the wall time, the calls and their lower bound."""
    session = audit_session()
    # The module's retries (adaptive mode, throttling retried with jittered backoff); moto answers a
    # page of thousands of instances slowly: allow minutes per call.
    config = Config(
        read_timeout=1800,
        connect_timeout=10,
        retries={"mode": "adaptive", "total_max_attempts": 2},
        max_pool_connections=64,
    )

    def factory(service, region):
        client = session.client(
            service,
            region_name=region,
            endpoint_url=sandbox.endpoint,
            config=config,
            aws_access_key_id=DUMMY_KEY,
            aws_secret_access_key=DUMMY_KEY,
        )
        return RetryingBotoClientWrapper(client, ThrottlingRetry.jittered_backoff())

    snap = AwsSnapshot(factory, [P, DR], retry=ThrottlingRetry.jittered_backoff(), aws_retry=True)
    gc.collect()  # a new module process starts with nothing of an earlier round to collect
    sandbox_cpu = _process_cpu(sandbox)
    cpu = time.process_time()
    started = time.monotonic()
    with checks_module.cycle_collector_paused():  # as the module runs it
        snap.get("account")
        _results, summary = checks_module.run_audit(snap, checks_module.AuditContext())
    wall = time.monotonic() - started
    cpu = time.process_time() - cpu
    sandbox_cpu = None if sandbox_cpu is None else _process_cpu(sandbox) - sandbox_cpu
    mutating = sandbox.requests(mutating=True)
    bound = lower_bound(snap)
    calls = sum(snap.api_calls.values())
    floor = sum(bound.values())
    ratio = calls / floor if floor else float("inf")
    # An operation the sandbox does not implement yet is a gap of the sandbox, reported; any other
    # read error (a timeout, a server error) means the audit did not see the estate: the run fails.
    errors = {k: m for k, m in snap.errors().items() if "NotImplemented" not in m}
    gaps = {k: m for k, m in snap.errors().items() if "NotImplemented" in m}
    return {
        "wall": wall,
        "cpu": cpu,
        "sandbox_cpu": sandbox_cpu,
        "calls": calls,
        "floor": floor,
        "ratio": ratio,
        "summary": summary,
        "mutating": mutating,
        "errors": errors,
        "gaps": gaps,
        "by_operation": dict(snap.api_calls),
        "bound": dict(bound),
        "ok": ratio <= FLOOR and not mutating and not errors,
    }


def report_audit(size, buckets, databases, seeded, round_no, rounds, audit):
    when = "a sandbox that has not answered yet" if round_no == 1 else "a sandbox that has answered these reads before"
    print(f"\n=== {size} instances, {buckets} buckets, {databases} databases (seeded in {seeded:.1f}s)")
    print(f"round {round_no} of {rounds}, on {when}")
    print(
        f"audit wall time {audit['wall']:.1f}s; API calls {audit['calls']}; lower bound {audit['floor']}; "
        f"ratio {audit['ratio']:.3f}"
    )
    print(f"findings by status: {audit['summary']['by_status']}; mutating calls: {len(audit['mutating'])}")
    sandbox_cpu = "-" if audit["sandbox_cpu"] is None else f"{audit['sandbox_cpu']:.1f}s"
    print(
        f"CPU: the audit's process {audit['cpu']:.1f}s, the sandbox answering it {sandbox_cpu} "
        f"({os.cpu_count()} CPUs; {audit['wall']:.1f}s wall)"
    )
    for source, message in sorted(audit["errors"].items(), key=str):
        print(f"read error {' '.join(str(p) for p in source if p)}: {message[:200]}")
    for source, message in sorted(audit["gaps"].items(), key=str):
        print(f"sandbox gap {' '.join(str(p) for p in source if p)}: {message[:160]}")
    if round_no == rounds:
        print(f"{'operation':<52}{'calls':>8}{'bound':>8}")
        made, bound = audit["by_operation"], audit["bound"]
        for op in sorted(set(made) | set(bound)):
            flag = "" if made.get(op, 0) <= bound.get(op, 0) else "  (+)"
            print(f"{op:<52}{made.get(op, 0):>8}{bound.get(op, 0):>8}{flag}")


def cpu_ceiling(prowler_wall, audit_cpu, sandbox_cpu, cpus=None):
    """The best ratio the CPU the two processes used allows on this machine.

    Each process runs Python code on one CPU at a time, and both share the machine's CPUs: the audit's wall
    time cannot be below its own CPU time, the sandbox's, or the two together spread over every CPU.
    """
    if sandbox_cpu is None:
        return "CPU ceiling: - (the sandbox's CPU time could not be read)"
    cpus = cpus or os.cpu_count() or 1
    shared = (audit_cpu + sandbox_cpu) / cpus
    least = max(audit_cpu, sandbox_cpu, shared)
    return (
        f"CPU ceiling: the audit cannot take less than {least:.1f}s here (its process {audit_cpu:.1f}s, the "
        f"sandbox {sandbox_cpu:.1f}s, both over {cpus} CPUs {shared:.1f}s), so at most {prowler_wall / least:.1f} x; "
        f"an audit needing no CPU of its own would still wait {sandbox_cpu:.1f}s for the sandbox: at most "
        f"{prowler_wall / sandbox_cpu:.1f} x"
    )


# EC2's documented request-rate limit for non-mutating actions: per account, region and API, a bucket of
# 100 tokens refilled at 20 a second.
EC2_RATE_LIMIT = {"service": "ec2", "rate_limit": 20, "burst": 100}


def run(
    sizes, buckets, databases, prowler=False, prowler_timeout=3600, port=None, rounds=2, latency_ms=0, ec2_limit=False
):
    rows = []
    ok = True
    checks = []
    if prowler:
        by_finding, unknown = prowler_run.mapped_checks()
        checks = sorted({c for cs in by_finding.values() for c in cs})
        print(f"Prowler {prowler_run.prowler_version()}: {len(checks)} mapped checks; ids it does not have: {unknown}")
    for size in sizes:
        with SandboxClient.start(port=port, seed="empty") as sandbox:
            seeded = seed(sandbox, size, buckets, databases)
            rules = []
            if latency_ms:
                # every call waits this long in the sandbox before it is answered, as on a network
                rules.append({"delay_seconds": latency_ms / 1000.0})
                print(f"every call answered after {latency_ms} ms (the sandbox's fault injection)")
            if ec2_limit:
                rules.append(EC2_RATE_LIMIT)
                print("EC2 calls limited as on AWS: per API and region, 100 at once, then 20 a second")
            if rules:
                sandbox.set_faults(rules)
            audit_runs, prowler_runs = [], []
            for round_no in range(1, rounds + 1):
                sandbox.clear_requests()
                audit = run_audit(sandbox)
                audit_runs.append(audit)
                report_audit(size, buckets, databases, seeded, round_no, rounds, audit)
                ok = ok and audit["ok"]
                if prowler:
                    prowler_runs.append(run_prowler(sandbox, size, checks, prowler_timeout))
        audit = audit_runs[-1]
        wall, calls, floor, ratio = audit["wall"], audit["calls"], audit["floor"], audit["ratio"]
        prowler_result = prowler_runs[-1] if prowler_runs else None
        speed = None
        if prowler_result is not None and wall > 0:
            speed = prowler_result["wall_seconds"] / wall
            print(f"Prowler / audit wall time: {speed:.1f} x")
            print(cpu_ceiling(prowler_result["wall_seconds"], audit["cpu"], audit["sandbox_cpu"]))
        if prowler and size == SPEED_FLOOR_SIZE:
            met = speed is not None and speed >= SPEED_FLOOR
            ok = ok and met
            print(
                f"speed floor at {size} instances (>= {SPEED_FLOOR:.0f} x faster than Prowler): "
                f"{'met' if met else 'MISSED'}"
            )
        cold = (audit_runs[0]["wall"], prowler_runs[0]["wall_seconds"] if prowler_runs and prowler_runs[0] else None)
        rows.append((size, seeded, wall, audit["cpu"], calls, floor, ratio, prowler_result, speed, cold))
    print("\nsummary")
    print(
        f"{'instances':>10}{'audit s':>9}{'CPU s':>7}{'calls':>8}{'bound':>8}{'calls/bound':>12}"
        f"{'prowler s':>11}{'scan s':>8}{'prowler/audit':>15}"
    )
    for size, _seeded, wall, cpu, calls, floor, ratio, pr, speed, _cold in rows:
        pw = f"{pr['wall_seconds']:.1f}" if pr else "-"
        ps = f"{pr['scan_seconds']:.1f}" if pr and pr["scan_seconds"] is not None else "-"
        sp = f"{speed:.1f} x" if speed is not None else "-"
        print(f"{size:>10}{wall:>9.1f}{cpu:>7.1f}{calls:>8}{floor:>8}{ratio:>12.3f}{pw:>11}{ps:>8}{sp:>15}")
    if rounds > 1:
        print("first rounds (the sandbox loads each service's code on its first request):")
        for size, *_x, (audit_cold, prowler_cold) in rows:
            pc = f"{prowler_cold:.1f}s" if prowler_cold is not None else "-"
            print(f"{size:>10} instances: audit {audit_cold:.1f}s, Prowler {pc}")
    calls_ok = all(row[6] <= FLOOR for row in rows)
    print(
        f"floor: calls <= {FLOOR} x lower bound, no mutating call, every read answered (sandbox gaps aside): "
        f"{'met' if calls_ok else 'MISSED'}"
    )
    if prowler:
        at = [row[8] for row in rows if row[0] == SPEED_FLOOR_SIZE]
        if at:
            verdict = "met" if at[0] is not None and at[0] >= SPEED_FLOOR else "MISSED"
            shown = f"{at[0]:.1f} x" if at[0] is not None else "Prowler did not finish"
            print(f"floor: at {SPEED_FLOOR_SIZE} instances Prowler / audit >= {SPEED_FLOOR:.0f} x: {shown}: {verdict}")
        else:
            print(f"floor: the speed floor applies at {SPEED_FLOOR_SIZE} instances, not among --sizes")
    return ok


def parse_sizes(values):
    return [int(part) for value in values for part in str(value).split(",") if part.strip()]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", nargs="+", default=["100,1000,5000"], help="instance counts: 100,1000 or 100 1000")
    parser.add_argument("--buckets", type=int, default=200, help="S3 buckets to seed")
    parser.add_argument("--databases", type=int, default=5, help="RDS instances to seed")
    parser.add_argument(
        "--prowler",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="also time Prowler's mapped checks (default: when .cache/prowler-venv holds Prowler)",
    )
    parser.add_argument("--prowler-timeout", type=int, default=3600, help="seconds per Prowler run")
    parser.add_argument("--port", type=int, default=None, help="sandbox port (default: a free one)")
    parser.add_argument(
        "--latency-ms",
        type=int,
        default=0,
        help="make the sandbox wait this long before answering every call, for both tools (default 0)",
    )
    parser.add_argument(
        "--ec2-rate-limit",
        action="store_true",
        help="limit every EC2 API of both tools as AWS does by default (a bucket of 100 per API and region, "
        "refilled at 20 a second): the per-instance reads then take as long as on AWS",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=2,
        help="audit and Prowler runs per size, alternating; the floors are judged on the last round",
    )
    args = parser.parse_args()
    prowler = prowler_run.prowler_available() if args.prowler is None else args.prowler
    if prowler and not prowler_run.prowler_available():
        print(f"Prowler is not installed in {prowler_run.PROWLER_VENV}: run bash benchmarks/prowler_env.sh")
        return 2
    if args.rounds < 1:
        parser.error("--rounds must be 1 or more")
    ok = run(
        parse_sizes(args.sizes),
        args.buckets,
        args.databases,
        prowler,
        args.prowler_timeout,
        args.port,
        args.rounds,
        args.latency_ms,
        args.ec2_rate_limit,
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
