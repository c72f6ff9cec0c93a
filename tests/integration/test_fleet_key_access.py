"""Auto Scaling's access to the fleet's EBS key, through playbooks/provision_fleet.yml on the sandbox.

Auto Scaling launches instances with its service-linked role, which has no KMS permission of its own: the
EBS key's policy must name it, or every launch of an encrypted volume fails on AWS. The kms_keys role makes
sure the role exists and names it (kms_keys_service_linked_roles); the ec2_fleet role refuses to touch the
group when the key does not let the role use it, before any change. The sandbox does not evaluate key
policies, so these tests read the policy the roles wrote and check that the refusal comes first.
"""

import json

import pytest
from playbook import run_playbook
from sandbox_client import SandboxClient

REGION = "us-east-1"
DR = "us-west-2"
SLR_PATH = "/aws-service-role/autoscaling.amazonaws.com/"
ENSURE_ROLES = "1.4 | 3.4 | PATCH | KMS keys | Make sure the service-linked roles that use the keys exist"
KEY_CHECK = "1.4 | 5.5 | AUDIT | Fleet | Check that Auto Scaling may use the EBS key to launch encrypted volumes"
GROUP = "medcircle-app"


@pytest.fixture(scope="module")
def estate():
    instance = SandboxClient.start(seed="as-assessed")
    try:
        yield instance
    finally:
        instance.stop()


def linked_roles(sandbox):
    return [r["Arn"] for r in sandbox.client("iam").list_roles(PathPrefix=SLR_PATH)["Roles"]]


def key_policy(sandbox, region, alias):
    kms = sandbox.client("kms", region)
    key_id = kms.describe_key(KeyId=alias)["KeyMetadata"]["KeyId"]  # GetKeyPolicy takes no alias
    return json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])


def principals(policy, sid):
    statement = next(s for s in policy["Statement"] if s.get("Sid") == sid)
    found = statement["Principal"]["AWS"]
    return found if isinstance(found, list) else [found]


def fleet_exists(sandbox):
    groups = sandbox.client("autoscaling", REGION).describe_auto_scaling_groups(AutoScalingGroupNames=[GROUP])
    templates = sandbox.client("ec2", REGION).describe_launch_templates(
        Filters=[{"Name": "launch-template-name", "Values": [GROUP + "-lt"]}]
    )
    return bool(groups["AutoScalingGroups"]), bool(templates["LaunchTemplates"])


def failure(run, task):
    result = run.task(task)
    assert result is not None, run.stdout[-3000:]
    assert result.get("failed"), result
    return result.get("msg", "")


def test_kms_keys_creates_the_service_linked_role_and_names_it_in_both_ebs_keys(estate):
    sandbox = estate
    sandbox.reset("as-assessed")
    assert linked_roles(sandbox) == []
    run = run_playbook(sandbox, "playbooks/provision_fleet.yml")
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    (role,) = linked_roles(sandbox)
    assert role.endswith(":role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling")
    for region in (REGION, DR):
        policy = key_policy(sandbox, region, "alias/medcircle-ebs")
        assert role in principals(policy, "KeyUse")
        assert role in principals(policy, "KeyGrantsForAwsServices")
    # Only the EBS key: the others have no service-linked role by default.
    assert role not in json.dumps(key_policy(sandbox, REGION, "alias/medcircle-rds"))
    # The instance role is made before the keys, so the S3 and RDS keys let the application use them through S3
    # and Secrets Manager only (its buckets, the database password); the EBS key does not name it.
    instance_role = sandbox.client("iam").get_role(RoleName="medcircle-fleet-instance")["Role"]["Arn"]
    for region in (REGION, DR):
        for alias in ("alias/medcircle-s3", "alias/medcircle-rds"):
            policy = key_policy(sandbox, region, alias)
            (statement,) = [s for s in policy["Statement"] if s.get("Sid") == "KeyUseThroughServices"]
            assert statement["Principal"]["AWS"] in ([instance_role], instance_role), statement
            assert sorted(statement["Action"]) == ["kms:Decrypt", "kms:GenerateDataKey"]
            assert sorted(statement["Condition"]["StringEquals"]["kms:ViaService"]) == [
                f"s3.{region}.amazonaws.com",
                f"secretsmanager.{region}.amazonaws.com",
            ]
        assert instance_role not in json.dumps(key_policy(sandbox, region, "alias/medcircle-ebs"))
    assert fleet_exists(sandbox) == (True, True)

    sandbox.clear_requests()
    again = run_playbook(sandbox, "playbooks/provision_fleet.yml")
    assert again.returncode == 0, again.stdout[-3000:]
    created = [r for r in sandbox.requests(mutating=True) if r["operation"] == "CreateServiceLinkedRole"]
    assert created == []
    assert not again.task(ENSURE_ROLES).get("changed")


def test_without_the_service_linked_role_the_fleet_stops_before_any_change(estate):
    sandbox = estate
    sandbox.reset("as-assessed")
    sandbox.clear_requests()
    run = run_playbook(sandbox, "playbooks/provision_fleet.yml", extra_vars={"kms_keys_service_linked_roles": {}})
    assert run.returncode != 0
    msg = failure(run, KEY_CHECK)
    assert "does not exist in this account yet" in msg
    assert "kms_keys_service_linked_roles.ebs" in msg and "Nothing was changed" in msg
    assert fleet_exists(sandbox) == (False, False)
    fleet_calls = [
        r["operation"]
        for r in sandbox.requests(mutating=True)
        if r["service"] == "autoscaling" or r["operation"] in ("CreateLaunchTemplate", "RunInstances")
    ]
    assert fleet_calls == []


def test_a_key_policy_without_the_role_stops_the_fleet_and_names_what_is_missing(estate):
    sandbox = estate
    sandbox.reset("as-assessed")
    sandbox.client("iam").create_service_linked_role(AWSServiceName="autoscaling.amazonaws.com")
    sandbox.clear_requests()
    run = run_playbook(sandbox, "playbooks/provision_fleet.yml", extra_vars={"kms_keys_service_linked_roles": {}})
    assert run.returncode != 0
    msg = failure(run, KEY_CHECK)
    assert "AWSServiceRoleForAutoScaling use it" in msg
    assert "missing: kms:Encrypt, kms:Decrypt" in msg and "kms:CreateGrant" in msg
    assert "Client.InternalError" in msg
    assert fleet_exists(sandbox) == (False, False)

    # The same run with the default settings names the role in the key and provisions the group.
    run = run_playbook(sandbox, "playbooks/provision_fleet.yml")
    assert run.returncode == 0, run.stdout[-4000:]
    assert fleet_exists(sandbox) == (True, True)


def test_the_check_can_be_turned_off_for_a_key_it_cannot_read(estate):
    sandbox = estate
    sandbox.reset("as-assessed")
    run = run_playbook(
        sandbox,
        "playbooks/provision_fleet.yml",
        extra_vars={"kms_keys_service_linked_roles": {}, "ec2_fleet_check_key_access": False},
    )
    assert run.returncode == 0, run.stdout[-4000:]
    assert fleet_exists(sandbox) == (True, True)


def test_bad_service_linked_roles_input_stops_before_any_change(estate):
    sandbox = estate
    sandbox.reset("as-assessed")
    sandbox.clear_requests()
    run = run_playbook(
        sandbox, "playbooks/provision_fleet.yml", extra_vars={"kms_keys_service_linked_roles": {"ebs": ["autoscaling"]}}
    )
    assert run.returncode != 0
    msg = failure(run, "KMS keys | Check kms_keys_service_linked_roles")
    assert "kms_keys_service_linked_roles" in msg and "autoscaling.amazonaws.com" in msg
    assert sandbox.requests(mutating=True) == []


def test_keys_without_the_ebs_purpose_create_no_service_linked_role(estate):
    """The Auto Scaling role is only for the EBS key: a run of kms_keys for other purposes leaves IAM alone."""
    sandbox = estate
    sandbox.reset("as-assessed")
    sandbox.clear_requests()
    run = run_playbook(
        sandbox, "playbooks/provision_fleet.yml", "--tags", "kms_keys", extra_vars={"kms_keys_purposes": ["rds"]}
    )
    assert run.returncode == 0, run.stdout[-3000:]
    assert linked_roles(sandbox) == []
    assert [r for r in sandbox.requests(mutating=True) if r["service"] == "iam"] == []
    assert "AWSServiceRoleForAutoScaling" not in json.dumps(key_policy(sandbox, REGION, "alias/medcircle-rds"))
