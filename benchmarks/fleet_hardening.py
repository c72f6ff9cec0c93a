"""Batched fleet hardening versus one amazon.aws.ec2_instance task per instance, on 1,000 instances.

Seeds N instances (default 1,000) into a sandbox this script starts (IMDSv1, hop limit 2, no
termination protection, no instance profile), then, on the same estate:

1. runs medcircle.cloudops.ec2_instance_hardening once over all of them (IMDSv2 required, hop limit 1,
   termination protection, the fleet instance profile) and times it;
2. runs a playbook that loops amazon.aws.ec2_instance over a sample of instances (default 50), one task
   run per instance with the same settings (metadata_options, termination_protection,
   iam_instance_profile), times it, and extrapolates the loop to all N instances (stated in the output);
3. counts the AWS calls of each from the sandbox request log.

    .venv/bin/python benchmarks/fleet_hardening.py
    .venv/bin/python benchmarks/fleet_hardening.py --instances 1000 --sample 50 --port 5150

Floors (exit status 1 when one is missed):
- speed: extrapolated loop time / batched time >= 50;
- calls: the batched run makes exactly the lower bound: the read pages (DescribeInstances at 1,000 per
  page, DescribeIamInstanceProfileAssociations at one filtered listing per 200 instances, one
  GetInstanceProfile) plus one DescribeInstanceAttribute per instance (AWS reports termination
  protection only per instance) plus one modify call per setting that differs.
"""

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
from sandbox_client import SandboxClient  # noqa: E402

REGION = "us-east-1"
PROFILE = "medcircle-fleet-instance"
BIN = Path(sys.executable).parent
SPEED_FLOOR = 50.0
TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def seed(sandbox, count):
    iam = sandbox.client("iam", REGION)
    iam.create_role(RoleName=PROFILE, AssumeRolePolicyDocument=json.dumps(TRUST))
    iam.create_instance_profile(InstanceProfileName=PROFILE)
    iam.add_role_to_instance_profile(InstanceProfileName=PROFILE, RoleName=PROFILE)
    ec2 = sandbox.client("ec2", REGION)
    image = ec2.register_image(Name="bench-image", RootDeviceName="/dev/xvda", Architecture="x86_64")["ImageId"]
    ids = []
    while len(ids) < count:
        batch = min(100, count - len(ids))
        reservation = ec2.run_instances(
            ImageId=image,
            InstanceType="t3.micro",
            MinCount=batch,
            MaxCount=batch,
            MetadataOptions={"HttpTokens": "optional", "HttpEndpoint": "enabled", "HttpPutResponseHopLimit": 2},
            TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Role", "Value": "bench"}]}],
        )
        ids.extend(i["InstanceId"] for i in reservation["Instances"])
    return sorted(ids)


def environment(sandbox):
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "ANSIBLE_"))}
    env.update(sandbox.env())
    env.update(
        ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
        ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
        ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
        PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    return env


def batched(sandbox):
    args = {
        "region": REGION,
        "filters": {"tag:Role": "bench"},
        "http_tokens": "required",
        "http_put_response_hop_limit": 1,
        "http_endpoint": "enabled",
        "termination_protection": True,
        "iam_instance_profile": PROFILE,
    }
    command = [
        str(BIN / "ansible"),
        "localhost",
        "-m",
        "medcircle.cloudops.ec2_instance_hardening",
        "-a",
        json.dumps(args),
    ]
    start = time.perf_counter()
    done = subprocess.run(  # noqa: S603 - ansible from the project's virtualenv
        command, cwd=REPO, env=environment(sandbox), capture_output=True, text=True, check=False
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"ec2_instance_hardening failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]
    return elapsed, result


LOOP_PLAYBOOK = """
- name: One amazon.aws.ec2_instance task per instance
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Harden one instance
      amazon.aws.ec2_instance:
        region: {region}
        instance_ids: ["{{{{ item }}}}"]
        metadata_options:
          http_tokens: required
          http_put_response_hop_limit: 1
          http_endpoint: enabled
        termination_protection: true
        iam_instance_profile: {profile}
        state: present
        wait: false
      loop: {ids}
"""


def looped(sandbox, ids):
    with tempfile.TemporaryDirectory() as folder:
        playbook = Path(folder) / "loop.yml"
        playbook.write_text(LOOP_PLAYBOOK.format(region=REGION, profile=PROFILE, ids=json.dumps(ids)))
        command = [str(BIN / "ansible-playbook"), "-i", "localhost,", str(playbook)]
        env = environment(sandbox)
        env["ANSIBLE_PYTHON_INTERPRETER"] = sys.executable
        start = time.perf_counter()
        done = subprocess.run(  # noqa: S603 - ansible-playbook from the project's virtualenv
            command, cwd=REPO, env=env, capture_output=True, text=True, check=False
        )
        elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"the ec2_instance loop failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return elapsed


def calls(sandbox):
    """AWS operations in the sandbox request log since it was last cleared."""
    return Counter(r["operation"] for r in sandbox.requests())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=1000)
    parser.add_argument("--sample", type=int, default=50)
    parser.add_argument("--port", type=int, default=None)
    options = parser.parse_args()

    sandbox = SandboxClient.start(port=options.port, seed="empty")
    try:
        print(f"Seeding {options.instances} instances (IMDSv1, hop limit 2, unprotected, no profile) ...")
        ids = seed(sandbox, options.instances)
        sample = ids[: options.sample]
        rest = ids[options.sample :]

        # The loop first, on the sample; the batched module then hardens the rest (the sample already complies,
        # so the batched run is measured on N - sample differing instances and N described ones).
        sandbox.clear_requests()
        loop_seconds = looped(sandbox, sample)
        loop_calls = calls(sandbox)
        per_instance = loop_seconds / len(sample)
        loop_total = per_instance * len(ids)

        sandbox.clear_requests()
        batch_seconds, result = batched(sandbox)
        batch_calls = calls(sandbox)
        differing = len(rest)
        # Lower bound for the batched run.
        bound = Counter(
            {
                "DescribeInstances": max(1, math.ceil(len(ids) / 1000)),
                "DescribeIamInstanceProfileAssociations": max(1, math.ceil(len(ids) / 200)),
                "GetInstanceProfile": 1,
                "DescribeInstanceAttribute": len(ids),
                "ModifyInstanceMetadataOptions": differing,
                "ModifyInstanceAttribute": differing,
                "AssociateIamInstanceProfile": differing,
            }
        )
        ratio = loop_total / batch_seconds
        print()
        print(
            f"ec2_instance_hardening over {len(ids)} instances ({result['summary']['changed']} changed): "
            f"{batch_seconds:.1f} s, {sum(batch_calls.values())} API calls"
        )
        for operation, count in sorted(batch_calls.items()):
            print(f"    {operation:42} {count:6}   lower bound {bound.get(operation, 0)}")
        print(
            f"amazon.aws.ec2_instance looped over a sample of {len(sample)} instances: {loop_seconds:.1f} s "
            f"({per_instance:.2f} s per instance), {sum(loop_calls.values())} API calls "
            f"({sum(loop_calls.values()) / len(sample):.1f} per instance)"
        )
        for operation, count in sorted(loop_calls.items()):
            print(f"    {operation:42} {count:6}")
        print(
            f"  extrapolated to {len(ids)} instances: {loop_total:.0f} s, "
            f"~{sum(loop_calls.values()) / len(sample) * len(ids):.0f} API calls "
            f"(the measured sample x {len(ids) / len(sample):.0f})"
        )
        print()
        print(f"Speed ratio (extrapolated loop / batched): {ratio:.1f} x   (floor {SPEED_FLOOR:.0f} x)")
        calls_ok = batch_calls == bound
        print(
            f"Batched API calls {sum(batch_calls.values())} vs lower bound {sum(bound.values())}: "
            f"{'equal' if calls_ok else 'NOT equal'}"
        )
        failed = ratio < SPEED_FLOOR or not calls_ok or result["summary"]["changed"] != differing
        print("RESULT:", "floors missed" if failed else "floors met")
        return 1 if failed else 0
    finally:
        sandbox.stop()


if __name__ == "__main__":
    sys.exit(main())
