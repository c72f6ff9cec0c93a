"""medcircle.cloudops.ec2_instance_hardening through real `ansible` runs on the sandbox.

Each run is `ansible localhost -m medcircle.cloudops.ec2_instance_hardening -a <json>` with the
sandbox's environment; results come back through the ansible.posix.json callback, and the
sandbox's request log shows which AWS calls a run made.
"""

import json
import sys
from pathlib import Path

import pytest
from playbook import run_module

REPO_ROOT = Path(__file__).resolve().parents[2]
ANSIBLE = str(Path(sys.executable).parent / "ansible")
MODULE = "medcircle.cloudops.ec2_instance_hardening"
REGION = "us-east-1"
FLEET_SIZE = 6
TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
)
HARDEN = {
    "filters": {"tag:Role": "app"},
    "http_tokens": "required",
    "http_put_response_hop_limit": 1,
    "http_endpoint": "enabled",
    "termination_protection": True,
    "stop_protection": True,
    "iam_instance_profile": "medcircle-fleet-instance",
}


def mutating(sandbox):
    return [r["operation"] for r in sandbox.requests(mutating=True)]


def settings(sandbox, instance_id):
    """What AWS now says about one instance: the settings the module manages."""
    ec2 = sandbox.client("ec2", REGION)
    instance = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
    metadata = instance["MetadataOptions"]
    associations = ec2.describe_iam_instance_profile_associations(
        Filters=[{"Name": "instance-id", "Values": [instance_id]}]
    )["IamInstanceProfileAssociations"]
    return {
        "http_tokens": metadata["HttpTokens"],
        "http_put_response_hop_limit": metadata["HttpPutResponseHopLimit"],
        "http_endpoint": metadata["HttpEndpoint"],
        "termination_protection": ec2.describe_instance_attribute(
            InstanceId=instance_id, Attribute="disableApiTermination"
        )["DisableApiTermination"]["Value"],
        "stop_protection": ec2.describe_instance_attribute(InstanceId=instance_id, Attribute="disableApiStop")[
            "DisableApiStop"
        ]["Value"],
        "iam_instance_profile": associations[0]["IamInstanceProfile"]["Arn"].rsplit("/", 1)[-1]
        if associations
        else None,
    }


HARDENED = {
    "http_tokens": "required",
    "http_put_response_hop_limit": 1,
    "http_endpoint": "enabled",
    "termination_protection": True,
    "stop_protection": True,
    "iam_instance_profile": "medcircle-fleet-instance",
}


@pytest.fixture
def fleet(clean_sandbox):
    """FLEET_SIZE app instances with IMDSv1 and no profile (one already hardened), one web instance, profiles."""
    sandbox = clean_sandbox
    ec2 = sandbox.client("ec2", REGION)
    iam = sandbox.client("iam", REGION)
    for name in ("medcircle-fleet-instance", "medcircle-old-profile"):
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)
        iam.create_instance_profile(InstanceProfileName=name)
        iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=name)
    image = ec2.register_image(Name="fleet-test-image", RootDeviceName="/dev/xvda", Architecture="x86_64")["ImageId"]

    def launch(count, role):
        reservation = ec2.run_instances(
            ImageId=image,
            InstanceType="t3.micro",
            MinCount=count,
            MaxCount=count,
            MetadataOptions={"HttpTokens": "optional", "HttpEndpoint": "enabled", "HttpPutResponseHopLimit": 2},
            TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Role", "Value": role}]}],
        )
        return sorted(i["InstanceId"] for i in reservation["Instances"])

    app = launch(FLEET_SIZE, "app")
    web = launch(1, "web")
    # One app instance is already hardened, one has a different profile.
    done = app[0]
    ec2.modify_instance_metadata_options(
        InstanceId=done, HttpTokens="required", HttpPutResponseHopLimit=1, HttpEndpoint="enabled"
    )
    ec2.modify_instance_attribute(InstanceId=done, DisableApiTermination={"Value": True})
    ec2.modify_instance_attribute(InstanceId=done, DisableApiStop={"Value": True})
    ec2.associate_iam_instance_profile(InstanceId=done, IamInstanceProfile={"Name": "medcircle-fleet-instance"})
    ec2.associate_iam_instance_profile(InstanceId=app[1], IamInstanceProfile={"Name": "medcircle-old-profile"})
    sandbox.clear_requests()
    return {"app": app, "web": web, "done": done, "old_profile": app[1]}


def test_check_mode_real_run_idempotent(clean_sandbox, fleet):
    sandbox = clean_sandbox
    app = fleet["app"]
    to_change = [i for i in app if i != fleet["done"]]

    # Check mode: a plan for every instance, the diff, and no mutating call.
    result = run_module(sandbox, MODULE, HARDEN, check=True, diff=True)
    assert result["changed"] is True
    assert result["summary"] == {"matched": FLEET_SIZE, "changed": FLEET_SIZE - 1, "unchanged": 1, "skipped": 1}
    assert [i["instance_id"] for i in result["instances"]] == app
    assert sorted(result["diff"]["after"]) == to_change
    first = result["diff"]["before"][to_change[0]]
    assert first["http_tokens"] == "optional"
    assert first["termination_protection"] is False
    assert result["diff"]["after"][to_change[0]]["http_tokens"] == "required"
    old = next(i for i in result["instances"] if i["instance_id"] == fleet["old_profile"])
    assert old["skipped"] and "replace_instance_profile" in old["skipped"][0]
    assert "iam_instance_profile" not in " ".join(old["changes"])
    assert mutating(sandbox) == []
    describes = sandbox.requests(operation="DescribeInstances")
    assert len(describes) == 1, "one paginated DescribeInstances for the whole selection"
    assert settings(sandbox, to_change[0])["http_tokens"] == "optional"

    # For real: one call per differing setting per instance, nothing on the compliant or unselected ones.
    sandbox.clear_requests()
    result = run_module(sandbox, MODULE, HARDEN)
    assert result["changed"] is True
    calls = sandbox.requests(mutating=True)
    touched = {json.dumps(c) for c in calls}
    assert not any(fleet["done"] in c or fleet["web"][0] in c for c in touched)
    operations = [c["operation"] for c in calls]
    changed = FLEET_SIZE - 1
    assert operations.count("ModifyInstanceMetadataOptions") == changed
    assert operations.count("ModifyInstanceAttribute") == 2 * changed
    assert operations.count("AssociateIamInstanceProfile") == changed - 1
    assert "ReplaceIamInstanceProfileAssociation" not in operations
    for instance_id in app:
        expected = dict(HARDENED)
        if instance_id == fleet["old_profile"]:
            expected["iam_instance_profile"] = "medcircle-old-profile"
        assert settings(sandbox, instance_id) == expected
    assert settings(sandbox, fleet["web"][0])["http_tokens"] == "optional"

    # Again: nothing to change, no mutating call.
    sandbox.clear_requests()
    result = run_module(sandbox, MODULE, HARDEN, diff=True)
    assert result["changed"] is False
    assert result["summary"]["changed"] == 0
    assert result["diff"] == {"before": {}, "after": {}}
    assert mutating(sandbox) == []

    # Replacing the old profile: real, then idempotent.
    replace = {**HARDEN, "replace_instance_profile": True}
    result = run_module(sandbox, MODULE, replace)
    assert result["summary"]["changed"] == 1
    assert mutating(sandbox) == ["ReplaceIamInstanceProfileAssociation"]
    assert settings(sandbox, fleet["old_profile"])["iam_instance_profile"] == "medcircle-fleet-instance"
    sandbox.clear_requests()
    assert run_module(sandbox, MODULE, replace)["changed"] is False
    assert mutating(sandbox) == []


BAD_INPUT = [
    (
        {"instance_ids": ["__APP__", "i-0123456789abcdef0"], "http_tokens": "required"},
        "instance_ids i-0123456789abcdef0 not found (or terminated) in this region",
    ),
    (
        {"instance_ids": ["web-server-1"], "http_tokens": "required"},
        "instance_ids web-server-1 is not a well-formed EC2 instance id",
    ),
    (
        {"filters": {"tag:Role": "app"}, "http_tokens": "required", "iam_instance_profile": "no-such-profile"},
        "iam_instance_profile no-such-profile is not an existing IAM instance profile",
    ),
]


def test_bad_input_fails_before_any_change(clean_sandbox, fleet):
    """A nonexistent or malformed id, or a missing profile, fails naming the option; nothing changes."""
    sandbox = clean_sandbox
    for args, message in BAD_INPUT:
        args = json.loads(json.dumps(args).replace("__APP__", fleet["app"][1]))
        result = run_module(sandbox, MODULE, args)
        assert result["failed"] is True
        assert result["msg"].startswith(message), result["msg"]
        assert mutating(sandbox) == []
    assert settings(sandbox, fleet["app"][1])["http_tokens"] == "optional"


def test_throttling_and_server_errors_reach_the_same_end_state(clean_sandbox, fleet):
    """With 10 % of EC2 and IAM calls throttled and 2 % answered 500, the fleet still ends up hardened."""
    sandbox = clean_sandbox
    sandbox.set_faults(
        [
            {"service": "ec2", "throttle_rate": 0.1, "error_rate": 0.02, "seed": 5},
            {"service": "iam", "throttle_rate": 0.1, "error_rate": 0.02, "seed": 9},
        ]
    )
    result = run_module(sandbox, MODULE, {**HARDEN, "replace_instance_profile": True})
    assert result.get("failed") is not True, result.get("msg")
    assert result["summary"]["changed"] == FLEET_SIZE - 1
    injected = sandbox.requests(fault=True)
    assert injected, "no fault was injected, so nothing was proven"
    sandbox.clear_faults()
    for instance_id in fleet["app"]:
        assert settings(sandbox, instance_id) == HARDENED
    sandbox.clear_requests()
    assert run_module(sandbox, MODULE, {**HARDEN, "replace_instance_profile": True})["changed"] is False
    assert mutating(sandbox) == []
