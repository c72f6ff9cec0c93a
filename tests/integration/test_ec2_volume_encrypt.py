"""medcircle.cloudops.ec2_volume_encrypt against the sandbox.

The headline scenario runs the module through real `ansible` on the as-assessed
estate (the app server's unencrypted root and data volumes, plus a detached
volume): check mode, allow_stop false, the real run, the idempotent rerun.

The interruption and throttling tests run the module's main() in this process
(the same code ansible runs, with real boto3 clients on the sandbox; nothing is
mocked) because they need many runs: each makes one step's AWS call fail with
sandbox fault injection, checks that nothing was lost, then reruns without the
fault and checks the end state. Each of them works on its own new instance.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from ansible.module_utils.testing import patch_module_args
from sandbox_client import ANSIBLE_ACCESS_KEY, ANSIBLE_SECRET_KEY

REPO_ROOT = Path(__file__).resolve().parents[2]
ANSIBLE = str(Path(sys.executable).parent / "ansible")
MODULE = "medcircle.cloudops.ec2_volume_encrypt"
REGION = "us-east-1"
KEY_ALIAS = "alias/medcircle-ebs"
APP_NAME = "medcircle-app"
DELETES = ("DeleteVolume", "DeleteSnapshot", "TerminateInstances")


# --- helpers -------------------------------------------------------------------------


def run_cli(sandbox, args, check=False, diff=False):
    """Run the module with `ansible localhost -m`; return its result dict."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "ANSIBLE_"))}
    env.update(sandbox.env())
    env.update(
        ANSIBLE_CONFIG=str(REPO_ROOT / "ansible.cfg"),
        ANSIBLE_LOAD_CALLBACK_PLUGINS="1",
        ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
    )
    command = [ANSIBLE, "localhost", "-m", MODULE, "-a", json.dumps(args)]
    if check:
        command.append("--check")
    if diff:
        command.append("--diff")
    proc = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    try:
        output = json.loads(proc.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"ansible printed no JSON (rc {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return output["plays"][0]["tasks"][0]["hosts"]["localhost"]


def run_inline(sandbox, args, capsys, check=False):
    """Run the module's main() in this process against the sandbox; return its result dict."""
    from ansible_collections.medcircle.cloudops.plugins.modules import ec2_volume_encrypt

    base = {
        "endpoint_url": sandbox.endpoint,
        # the inventory's words, which no output contains (a secret of "testing" would be masked in results)
        "access_key": ANSIBLE_ACCESS_KEY,
        "secret_key": ANSIBLE_SECRET_KEY,
        "region": REGION,
        "wait_delay": 1,
        "wait_timeout": 60,
    }
    base.update(args)
    if check:
        base["_ansible_check_mode"] = True
    capsys.readouterr()
    with patch_module_args(base), pytest.raises(SystemExit):
        ec2_volume_encrypt.main()
    out = capsys.readouterr().out
    assert "********" not in out, out  # nothing in the result was masked as if it were the secret
    return json.loads(out)


def mutating(sandbox):
    return [r["operation"] for r in sandbox.requests(service="ec2", mutating=True)]


def ensure_key(sandbox):
    kms = sandbox.client("kms", REGION)
    aliases = {a["AliasName"] for a in kms.list_aliases()["Aliases"]}
    if KEY_ALIAS not in aliases:
        key = kms.create_key(Description="EBS test key")["KeyMetadata"]
        kms.create_alias(AliasName=KEY_ALIAS, TargetKeyId=key["KeyId"])


def key_arn(sandbox):
    return sandbox.client("kms", REGION).describe_key(KeyId=KEY_ALIAS)["KeyMetadata"]["Arn"]


def tags(resource):
    return {t["Key"]: t["Value"] for t in resource.get("Tags", []) or []}


def new_instance(sandbox, name):
    """A running instance with an unencrypted gp2 root (/dev/sda1) and gp3 data volume (/dev/sdf).

    The data volume is created on its own (IOPS and throughput above the gp3 baseline) and attached,
    so the test sees that the replacement keeps them.
    """
    ec2 = sandbox.client("ec2", REGION)
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]
    reservation = ec2.run_instances(
        ImageId=image["ImageId"],
        InstanceType="t3.micro",
        MinCount=1,
        MaxCount=1,
        Placement={"AvailabilityZone": "us-east-1a"},
        BlockDeviceMappings=[
            {
                "DeviceName": image["RootDeviceName"],
                "Ebs": {"VolumeSize": 8, "VolumeType": "gp2", "DeleteOnTermination": True},
            },
        ],
        TagSpecifications=[
            {"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": name}]},
            {"ResourceType": "volume", "Tags": [{"Key": "Name", "Value": f"{name}-root"}]},
        ],
    )
    instance_id = reservation["Instances"][0]["InstanceId"]
    data = ec2.create_volume(
        AvailabilityZone="us-east-1a",
        Size=20,
        VolumeType="gp3",
        Iops=4000,
        Throughput=250,
        TagSpecifications=[
            {
                "ResourceType": "volume",
                "Tags": [{"Key": "Name", "Value": f"{name}-data"}, {"Key": "Owner", "Value": "ops"}],
            }
        ],
    )["VolumeId"]
    ec2.attach_volume(VolumeId=data, InstanceId=instance_id, Device="/dev/sdf")
    return instance_id


def originals_of(sandbox, instance_id):
    ec2 = sandbox.client("ec2", REGION)
    volumes = (
        ec2.describe_volumes(Filters=[{"Name": "attachment.instance-id", "Values": [instance_id]}])["Volumes"]
        + ec2.describe_volumes(Filters=[{"Name": "tag:cloudops:encrypt-instance", "Values": [instance_id]}])["Volumes"]
    )
    return {v["VolumeId"]: v for v in volumes if not v["Encrypted"]}


def assert_end_state(sandbox, instance_id, originals):
    """Encrypted volumes at the same devices, instance running, originals kept and tagged, no duplicates."""
    ec2 = sandbox.client("ec2", REGION)
    instance = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
    assert instance["State"]["Name"] == "running"
    mappings = {m["DeviceName"]: m["Ebs"] for m in instance["BlockDeviceMappings"]}
    root = instance["RootDeviceName"]
    assert sorted(mappings) == sorted(["/dev/sdf", root])
    assert mappings[root]["DeleteOnTermination"] is True
    assert mappings["/dev/sdf"]["DeleteOnTermination"] is False
    for device, original_id in originals.items():
        original = ec2.describe_volumes(VolumeIds=[original_id])["Volumes"][0]
        assert original["State"] == "available" and original["Attachments"] == []
        otags = tags(original)
        assert otags["cloudops:encrypt-status"] == "verified"
        assert otags["cloudops:encrypt-device"] == device
        assert otags["cloudops:retain-until"] > otags["cloudops:encrypt-verified-at"]
        new = ec2.describe_volumes(VolumeIds=[mappings[device]["VolumeId"]])["Volumes"][0]
        assert new["VolumeId"] == otags["cloudops:replaced-by"]
        assert new["Encrypted"] is True
        assert new["KmsKeyId"] == key_arn(sandbox)
        assert (new["Size"], new["VolumeType"], new["AvailabilityZone"]) == (
            original["Size"],
            original["VolumeType"],
            original["AvailabilityZone"],
        )
        assert tags(new)["Name"] == tags(original)["Name"]
        if original["VolumeType"] in ("gp3", "io1", "io2"):
            assert new["Iops"] == original["Iops"]
        if original["VolumeType"] == "gp3":
            assert new["Throughput"] == original["Throughput"]
        made = ec2.describe_volumes(Filters=[{"Name": "tag:cloudops:encrypt-source", "Values": [original_id]}])
        assert [v["VolumeId"] for v in made["Volumes"]] == [new["VolumeId"]], "duplicate replacement volumes"
        snaps = ec2.describe_snapshots(
            OwnerIds=["self"], Filters=[{"Name": "tag:cloudops:encrypt-source", "Values": [original_id]}]
        )["Snapshots"]
        assert sorted(tags(s)["cloudops:encrypt-role"] for s in snaps) == ["encrypted-copy", "source-snapshot"]


# --- fixtures ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def assessed(sandbox):
    """The session sandbox reset once to the as-assessed estate, with the EBS key and a detached volume."""
    sandbox.clear_faults()
    sandbox.reset("as-assessed")
    ensure_key(sandbox)
    ec2 = sandbox.client("ec2", REGION)
    detached = ec2.create_volume(
        AvailabilityZone="us-east-1b",
        Size=5,
        VolumeType="gp2",
        TagSpecifications=[{"ResourceType": "volume", "Tags": [{"Key": "Name", "Value": "medcircle-scratch"}]}],
    )["VolumeId"]
    yield {"detached": detached}
    sandbox.clear_faults()


@pytest.fixture
def estate(assessed, sandbox):
    sandbox.clear_faults()
    sandbox.clear_requests()
    yield sandbox
    sandbox.clear_faults()


# --- tests ---------------------------------------------------------------------------


def app_instance(sandbox):
    ec2 = sandbox.client("ec2", REGION)
    reservations = ec2.describe_instances(Filters=[{"Name": "tag:Name", "Values": [APP_NAME]}])["Reservations"]
    return reservations[0]["Instances"][0]["InstanceId"]


def test_app_server_root_and_detached_volume_check_run_rerun(estate, assessed, capsys):
    sandbox = estate
    instance_id = app_instance(sandbox)
    originals = {v["Attachments"][0]["Device"]: v["VolumeId"] for v in originals_of(sandbox, instance_id).values()}
    assert sorted(originals) == ["/dev/sdf", "/dev/xvda"]
    args = {
        "instance_ids": [instance_id],
        "volume_ids": [assessed["detached"]],
        "kms_key_id": KEY_ALIAS,
        "wait_delay": 1,
    }

    # allow_stop false: fails, names the option and what to set, changes nothing.
    result = run_inline(sandbox, args, capsys)
    assert result.get("failed") is True
    assert "allow_stop is false" in result["msg"] and "allow_stop: true" in result["msg"]
    assert mutating(sandbox) == []

    # Check mode: the plan, no mutating call.
    args["allow_stop"] = True
    result = run_inline(sandbox, {**args, "_ansible_diff": True}, capsys, check=True)
    assert result["changed"] is True
    plans = {v["volume_id"]: v for v in result["volumes"]}
    assert plans[originals["/dev/xvda"]]["root"] is True
    assert plans[originals["/dev/xvda"]]["steps"][:2] == ["record", "stop"]
    assert plans[assessed["detached"]]["steps"] == ["record", "snapshot", "copy", "create_volume", "verify"]
    assert result["diff"]["before"][originals["/dev/xvda"]]["attached_at"] == f"{instance_id} /dev/xvda"
    assert mutating(sandbox) == []

    # For real.
    sandbox.clear_requests()
    result = run_cli(sandbox, args)
    assert result["changed"] is True, result
    assert result["instances_stopped"] == [instance_id] and result["instances_started"] == [instance_id]
    assert {v["status"] for v in result["volumes"]} == {"encrypted"}
    ops = mutating(sandbox)
    assert ops.count("StopInstances") == 1 and ops.count("StartInstances") == 1
    assert ops.count("CreateSnapshot") == 3 and ops.count("CreateVolume") == 3
    assert not set(ops) & set(DELETES)
    assert_end_state(sandbox, instance_id, originals)
    ec2 = sandbox.client("ec2", REGION)
    detached = ec2.describe_volumes(VolumeIds=[assessed["detached"]])["Volumes"][0]
    replacement = ec2.describe_volumes(VolumeIds=[tags(detached)["cloudops:replaced-by"]])["Volumes"][0]
    assert replacement["Encrypted"] is True and replacement["State"] == "available"
    assert replacement["AvailabilityZone"] == "us-east-1b"

    # Again: nothing to do.
    sandbox.clear_requests()
    result = run_inline(sandbox, args, capsys)
    assert result["changed"] is False
    assert sorted(v["status"] for v in result["volumes"]) == ["verified"] * 3
    assert mutating(sandbox) == []

    # Cleanup before the retention passed deletes nothing.
    result = run_inline(sandbox, {"state": "cleanup", "volume_ids": list(originals.values())}, capsys)
    assert result["changed"] is False
    assert all(not c["delete"] for c in result["cleanup"])
    assert mutating(sandbox) == []


def test_auto_scaling_group_member_is_refused(estate, capsys):
    sandbox = estate
    ec2 = sandbox.client("ec2", REGION)
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    subnet = ec2.describe_subnets()["Subnets"][0]
    asg = sandbox.client("autoscaling", REGION)
    sandbox.client("ec2", REGION).create_launch_template(
        LaunchTemplateName="web-lt", LaunchTemplateData={"ImageId": image, "InstanceType": "t3.micro"}
    )
    asg.create_auto_scaling_group(
        AutoScalingGroupName="web-asg",
        LaunchTemplate={"LaunchTemplateName": "web-lt"},
        MinSize=1,
        MaxSize=1,
        VPCZoneIdentifier=subnet["SubnetId"],
    )
    member = asg.describe_auto_scaling_groups(AutoScalingGroupNames=["web-asg"])["AutoScalingGroups"][0]
    instance_id = member["Instances"][0]["InstanceId"]
    sandbox.clear_requests()

    result = run_inline(sandbox, {"instance_ids": [instance_id], "allow_stop": True}, capsys)

    assert result.get("failed") is True
    assert "Auto Scaling group web-asg" in result["msg"] and "instance refresh" in result["msg"]
    assert mutating(sandbox) == []


# Each case: the operations made to fail, one per run, before a clean run.
INTERRUPTIONS = {
    "record": ["CreateTags"],
    "stop": ["StopInstances"],
    "snapshot": ["CreateSnapshot"],
    "copy": ["CopySnapshot"],
    "create_volume": ["CreateVolume"],
    "detach": ["DetachVolume"],
    "attach": ["AttachVolume"],
    "delete_on_termination": ["ModifyInstanceAttribute"],
    "start": ["StartInstances"],
    "verify": ["StartInstances", "CreateTags"],
    # The waiter's DescribeSnapshots names the snapshot ids; the discovery describe does not.
    "wait_for_snapshot": [("DescribeSnapshots", "SnapshotId.1")],
    "many": ["CreateSnapshot", "CopySnapshot", "DetachVolume", "StartInstances", "CreateTags"],
}


@pytest.mark.parametrize("case", sorted(INTERRUPTIONS))
def test_interrupted_run_is_resumed_without_loss_or_duplicates(estate, capsys, case):
    sandbox = estate
    instance_id = new_instance(sandbox, f"interrupt-{case}")
    originals = {v["Attachments"][0]["Device"]: v["VolumeId"] for v in originals_of(sandbox, instance_id).values()}
    args = {
        "instance_ids": [instance_id],
        "kms_key_id": KEY_ALIAS,
        "allow_stop": True,
        "original_retention_days": 3,
        # One try per call, so the injected fault interrupts the run at once.
        "max_attempts": 1,
        "aws_config": {"retries": {"total_max_attempts": 1, "mode": "standard"}},
    }
    for operation in INTERRUPTIONS[case]:
        operation, match = operation if isinstance(operation, tuple) else (operation, None)
        rule = {"service": "ec2", "operation": operation, "error_rate": 1.0}
        if match:
            rule["match"] = match
        sandbox.clear_requests()
        # Every try of the step's call fails during this run (as if AWS or the network broke there).
        sandbox.set_faults([rule])
        result = run_inline(sandbox, args, capsys)
        sandbox.clear_faults()
        assert result.get("failed") is True, f"{operation} did not interrupt the run: {result}"
        assert "rerun" in result["msg"], result["msg"]
        assert {r["operation"] for r in sandbox.requests(fault=True)} == {operation}
        assert not set(mutating(sandbox)) & set(DELETES)
        assert len(originals_of(sandbox, instance_id)) == 2, "an original volume was lost"

    sandbox.clear_requests()
    result = run_inline(sandbox, args, capsys)
    assert result.get("failed") is not True, result
    assert result["changed"] is True
    assert_end_state(sandbox, instance_id, originals)

    result = run_inline(sandbox, args, capsys)
    assert result["changed"] is False


def test_throttling_and_server_errors_reach_the_same_end_state(estate, capsys):
    sandbox = estate
    instance_id = new_instance(sandbox, "throttled")
    originals = {v["Attachments"][0]["Device"]: v["VolumeId"] for v in originals_of(sandbox, instance_id).values()}
    sandbox.set_faults([{"service": "ec2", "throttle_rate": 0.10, "error_rate": 0.02, "error_status": 503, "seed": 7}])
    result = run_inline(sandbox, {"instance_ids": [instance_id], "kms_key_id": KEY_ALIAS, "allow_stop": True}, capsys)
    injected = sandbox.requests(fault=True)
    sandbox.clear_faults()
    assert result.get("failed") is not True, result
    assert injected, "no fault was injected"
    assert_end_state(sandbox, instance_id, originals)


def test_cleanup_deletes_expired_originals_and_their_snapshots_only(estate, capsys):
    sandbox = estate
    instance_id = new_instance(sandbox, "cleanup")
    originals = {v["Attachments"][0]["Device"]: v["VolumeId"] for v in originals_of(sandbox, instance_id).values()}
    args = {"instance_ids": [instance_id], "allow_stop": True, "original_retention_days": 0}
    assert run_inline(sandbox, args, capsys)["changed"] is True

    sandbox.clear_requests()
    plan = run_inline(sandbox, {"state": "cleanup", "instance_ids": [instance_id]}, capsys, check=True)
    assert plan["changed"] is True
    assert sorted(c["volume_id"] for c in plan["cleanup"] if c["delete"]) == sorted(originals.values())
    assert mutating(sandbox) == []

    result = run_inline(sandbox, {"state": "cleanup", "instance_ids": [instance_id]}, capsys)
    assert result["changed"] is True
    assert sorted(v for v in result["deleted"] if v.startswith("vol-")) == sorted(originals.values())
    assert len([s for s in result["deleted"] if s.startswith("snap-")]) == 4
    ec2 = sandbox.client("ec2", REGION)
    instance = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
    assert instance["State"]["Name"] == "running"
    for mapping in instance["BlockDeviceMappings"]:
        assert ec2.describe_volumes(VolumeIds=[mapping["Ebs"]["VolumeId"]])["Volumes"][0]["Encrypted"] is True
    assert run_inline(sandbox, {"state": "cleanup", "instance_ids": [instance_id]}, capsys)["changed"] is False
