"""IAM service last accessed data: GenerateServiceLastAccessedDetails and GetServiceLastAccessedDetails.

Computed from the requests the sandbox received, signed with the access keys of users and assumed roles.
"""

import datetime
import json

import pytest
from botocore.exceptions import ClientError

from sandbox import additions
from sandbox.additions import iam_last_accessed

TRUST = {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "*"}]}


def allow(*actions) -> str:
    return json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": "*"}]}
    )


def now():
    return datetime.datetime.now(datetime.UTC)


def make_user(iam, name, *actions):
    """A user (with an inline policy allowing ``actions`` if any) and an access key of its own."""
    user = iam.create_user(UserName=name)["User"]
    if actions:
        iam.put_user_policy(UserName=name, PolicyName=f"{name}-policy", PolicyDocument=allow(*actions))
    return user["Arn"], iam.create_access_key(UserName=name)["AccessKey"]


def make_role(sandbox, iam, name):
    """A role and a credential of an STS session of it, as an access key dict."""
    arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    credentials = sandbox.client("sts").assume_role(RoleArn=arn, RoleSessionName="session")["Credentials"]
    return arn, {"AccessKeyId": credentials["AccessKeyId"], "SecretAccessKey": credentials["SecretAccessKey"]}


def report(iam, arn, granularity=None, **kwargs):
    params = {"Arn": arn} | ({"Granularity": granularity} if granularity else {})
    job_id = iam.generate_service_last_accessed_details(**params)["JobId"]
    return iam.get_service_last_accessed_details(JobId=job_id, **kwargs)


def services(answer) -> dict:
    return {service["ServiceNamespace"]: service for service in answer["ServicesLastAccessed"]}


def error_of(call, **kwargs):
    with pytest.raises(ClientError) as raised:
        call(**kwargs)
    response = raised.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"], response["Error"]["Message"]


def test_user_lists_allowed_services_used_and_unused(clean_sandbox):
    iam = clean_sandbox.client("iam")
    arn, key = make_user(iam, "alice", "s3:*", "ec2:Describe*", "sqs:*")
    before = now()
    clean_sandbox.client_as(key, "s3").list_buckets()
    clean_sandbox.client_as(key, "ec2", region="eu-west-1").describe_instances()
    after = now()

    answer = report(iam, arn)
    assert answer["JobStatus"] == "COMPLETED"
    assert answer["JobType"] == "SERVICE_LEVEL"
    assert answer["JobCreationDate"] <= answer["JobCompletionDate"]
    assert answer["IsTruncated"] is False
    assert "Marker" not in answer
    assert [s["ServiceNamespace"] for s in answer["ServicesLastAccessed"]] == ["ec2", "s3", "sqs"]
    found = services(answer)
    assert found["s3"]["ServiceName"] == "Amazon Simple Storage Service"
    assert found["ec2"]["ServiceName"] == "Amazon Elastic Compute Cloud"
    for namespace, region in (("s3", "us-east-1"), ("ec2", "eu-west-1")):
        entry = found[namespace]
        assert before <= entry["LastAuthenticated"] <= after
        assert entry["LastAuthenticatedEntity"] == arn
        assert entry["LastAuthenticatedRegion"] == region
        assert entry["TotalAuthenticatedEntities"] == 1
        assert "TrackedActionsLastAccessed" not in entry
    assert found["sqs"]["ServiceName"] == "Amazon Simple Queue Service"
    assert "LastAuthenticated" not in found["sqs"]
    assert "LastAuthenticatedEntity" not in found["sqs"]
    assert found["sqs"]["TotalAuthenticatedEntities"] == 0

    # the latest use counts
    clean_sandbox.client_as(key, "s3", region="us-west-2").list_buckets()
    later = services(report(iam, arn))["s3"]
    assert later["LastAuthenticated"] > found["s3"]["LastAuthenticated"]
    assert later["LastAuthenticatedRegion"] == "us-west-2"


def test_action_level_lists_the_tracked_actions_used(clean_sandbox):
    iam = clean_sandbox.client("iam")
    arn, key = make_user(iam, "alice", "s3:*", "ec2:Describe*", "iam:GetUser", "sqs:*")
    s3 = clean_sandbox.client_as(key, "s3")
    s3.create_bucket(Bucket="last-accessed-bucket")
    s3.list_buckets()
    s3.list_objects_v2(Bucket="last-accessed-bucket")
    clean_sandbox.client_as(key, "ec2").describe_instances()
    clean_sandbox.client_as(key, "ec2", region="us-west-2").describe_vpcs()
    clean_sandbox.client_as(key, "sqs").list_queues()

    answer = report(iam, arn, "ACTION_LEVEL")
    assert answer["JobType"] == "ACTION_LEVEL"
    found = services(answer)
    assert set(found) == {"ec2", "iam", "s3", "sqs"}
    ec2 = {action["ActionName"]: action for action in found["ec2"]["TrackedActionsLastAccessed"]}
    assert sorted(ec2) == ["DescribeInstances", "DescribeVpcs"]
    assert ec2["DescribeVpcs"]["LastAccessedRegion"] == "us-west-2"
    assert ec2["DescribeInstances"]["LastAccessedRegion"] == "us-east-1"
    assert {action["LastAccessedEntity"] for action in ec2.values()} == {arn}
    assert ec2["DescribeVpcs"]["LastAccessedTime"] > ec2["DescribeInstances"]["LastAccessedTime"]
    assert found["ec2"]["LastAuthenticated"] == ec2["DescribeVpcs"]["LastAccessedTime"]
    # S3 operations under their IAM action names
    s3_actions = [action["ActionName"] for action in found["s3"]["TrackedActionsLastAccessed"]]
    assert s3_actions == ["CreateBucket", "ListAllMyBuckets", "ListBucket"]
    # a tracked service allowed but not used: no action; an untracked service: no action list at all
    assert found["iam"]["TrackedActionsLastAccessed"] == []
    assert "LastAuthenticated" not in found["iam"]
    assert "TrackedActionsLastAccessed" not in found["sqs"]
    assert "LastAuthenticated" in found["sqs"]


def test_star_policy_lists_every_service(clean_sandbox):
    iam = clean_sandbox.client("iam")
    arn, key = make_user(iam, "admin", "*")
    clean_sandbox.client_as(key, "kms", region="eu-central-1").list_keys()

    listed = services(report(iam, arn, MaxItems=1000))
    assert len(listed) > 200
    assert {"iam", "s3", "kms", "ec2", "sts", "ssm", "lambda", "cloudwatch"} <= set(listed)
    assert list(listed) == sorted(listed)
    assert {namespace for namespace, entry in listed.items() if "LastAuthenticated" in entry} == {"kms"}
    assert listed["kms"]["LastAuthenticatedRegion"] == "eu-central-1"
    assert listed["iam"]["ServiceName"] == "AWS Identity and Access Management"


def test_wildcards_and_not_action(clean_sandbox):
    iam = clean_sandbox.client("iam")
    iam.create_user(UserName="bob")
    iam.put_user_policy(
        UserName="bob", PolicyName="wild", PolicyDocument=allow("S3:Get*", "SSM:*", "lambda:List*", "ec2:Describe?pcs")
    )
    listed = services(report(iam, "arn:aws:iam::123456789012:user/bob"))
    assert set(listed) == {"ec2", "lambda", "s3", "ssm"}

    not_action = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "NotAction": ["iam:*", "s3:Get*"], "Resource": "*"}],
    }
    deny = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "kms:*", "Resource": "*"}]}
    iam.create_user(UserName="carol")
    iam.put_user_policy(UserName="carol", PolicyName="not", PolicyDocument=json.dumps(not_action))
    iam.put_user_policy(UserName="carol", PolicyName="deny", PolicyDocument=json.dumps(deny))
    listed = services(report(iam, "arn:aws:iam::123456789012:user/carol", MaxItems=1000))
    assert "iam" not in listed  # covered whole by NotAction
    assert {"s3", "ec2", "kms"} <= set(listed)  # s3: only some actions excluded; Deny statements do not remove
    assert len(listed) == len(iam_last_accessed.service_names()) - 1


def test_group_reports_its_members(clean_sandbox):
    iam = clean_sandbox.client("iam")
    iam.create_group(GroupName="ops")
    group_arn = iam.get_group(GroupName="ops")["Group"]["Arn"]
    iam.put_group_policy(GroupName="ops", PolicyName="s3", PolicyDocument=allow("s3:*"))
    policy_arn = iam.create_policy(PolicyName="describe", PolicyDocument=allow("ec2:Describe*"))["Policy"]["Arn"]
    iam.attach_group_policy(GroupName="ops", PolicyArn=policy_arn)
    alice_arn, alice = make_user(iam, "alice")
    bob_arn, bob = make_user(iam, "bob")
    make_user(iam, "outsider", "s3:*")
    for name in ("alice", "bob"):
        iam.add_user_to_group(GroupName="ops", UserName=name)

    clean_sandbox.client_as(alice, "ec2").describe_instances()
    clean_sandbox.client_as(alice, "s3").list_buckets()
    clean_sandbox.client_as(bob, "s3", region="eu-west-1").list_buckets()

    listed = services(report(iam, group_arn))
    assert set(listed) == {"ec2", "s3"}
    assert listed["s3"]["TotalAuthenticatedEntities"] == 2
    assert listed["s3"]["LastAuthenticatedEntity"] == bob_arn
    assert listed["s3"]["LastAuthenticatedRegion"] == "eu-west-1"
    assert listed["ec2"]["TotalAuthenticatedEntities"] == 1
    assert listed["ec2"]["LastAuthenticatedEntity"] == alice_arn

    # a member's own report includes the policies of its groups, and only its own use
    mine = services(report(iam, alice_arn))
    assert set(mine) == {"ec2", "s3"}
    assert mine["s3"]["LastAuthenticatedEntity"] == alice_arn
    assert mine["s3"]["TotalAuthenticatedEntities"] == 1
    assert mine["s3"]["LastAuthenticatedRegion"] == "us-east-1"


def test_role_used_through_assume_role(clean_sandbox):
    iam = clean_sandbox.client("iam")
    arn, session_key = make_role(clean_sandbox, iam, "deployer")
    iam.put_role_policy(RoleName="deployer", PolicyName="s3", PolicyDocument=allow("s3:*", "ssm:*"))
    before = now()
    clean_sandbox.client_as(session_key, "s3", region="us-west-2").list_buckets()

    listed = services(report(iam, arn, "ACTION_LEVEL"))
    assert set(listed) == {"s3", "ssm"}
    assert listed["s3"]["LastAuthenticatedEntity"] == arn
    assert listed["s3"]["LastAuthenticated"] >= before
    assert listed["s3"]["LastAuthenticatedRegion"] == "us-west-2"
    assert listed["s3"]["TotalAuthenticatedEntities"] == 1
    assert [a["ActionName"] for a in listed["s3"]["TrackedActionsLastAccessed"]] == ["ListAllMyBuckets"]
    assert "LastAuthenticated" not in listed["ssm"]


def test_managed_policy_reports_everyone_it_is_attached_to(clean_sandbox):
    iam = clean_sandbox.client("iam")
    policy_arn = iam.create_policy(PolicyName="params", PolicyDocument=allow("ssm:*", "kms:Decrypt"))["Policy"]["Arn"]
    user_arn, user_key = make_user(iam, "app")
    iam.attach_user_policy(UserName="app", PolicyArn=policy_arn)
    role_arn, role_key = make_role(clean_sandbox, iam, "app-role")
    iam.attach_role_policy(RoleName="app-role", PolicyArn=policy_arn)
    iam.create_group(GroupName="readers")
    iam.attach_group_policy(GroupName="readers", PolicyArn=policy_arn)
    member_arn, member_key = make_user(iam, "reader")
    iam.add_user_to_group(GroupName="readers", UserName="reader")
    _, stranger_key = make_user(iam, "stranger", "ssm:*")

    clean_sandbox.client_as(user_key, "ssm").describe_parameters()
    clean_sandbox.client_as(member_key, "ssm").describe_parameters()
    clean_sandbox.client_as(role_key, "ssm", region="eu-west-2").describe_parameters()
    clean_sandbox.client_as(stranger_key, "ssm").describe_parameters()
    clean_sandbox.client_as(stranger_key, "kms").list_keys()

    listed = services(report(iam, policy_arn))
    assert set(listed) == {"kms", "ssm"}
    assert listed["ssm"]["TotalAuthenticatedEntities"] == 3
    assert listed["ssm"]["LastAuthenticatedEntity"] == role_arn
    assert listed["ssm"]["LastAuthenticatedRegion"] == "eu-west-2"
    assert "LastAuthenticated" not in listed["kms"]

    # an AWS managed policy too
    iam.attach_user_policy(UserName="app", PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
    clean_sandbox.client_as(user_key, "s3").list_buckets()
    listed = services(report(iam, "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"))
    assert listed["s3"]["LastAuthenticatedEntity"] == user_arn
    assert listed["s3"]["TotalAuthenticatedEntities"] == 1
    # the group stands for its member, who used the policy's services through it
    readers = services(report(iam, iam.get_group(GroupName="readers")["Group"]["Arn"]))
    assert readers["ssm"]["LastAuthenticatedEntity"] == member_arn
    assert readers["ssm"]["TotalAuthenticatedEntities"] == 1


def test_user_without_policies_lists_nothing(clean_sandbox):
    iam = clean_sandbox.client("iam")
    arn, key = make_user(iam, "nobody")
    clean_sandbox.client_as(key, "s3").list_buckets()
    answer = report(iam, arn)
    assert answer["ServicesLastAccessed"] == []
    assert answer["IsTruncated"] is False


def test_default_credentials_are_nobody(clean_sandbox):
    iam = clean_sandbox.client("iam")
    arn, _ = make_user(iam, "idle", "s3:*", "iam:*")
    clean_sandbox.client("s3").list_buckets()  # signed with the sandbox's test key, not the user's
    listed = services(report(iam, arn))
    assert set(listed) == {"iam", "s3"}
    assert all("LastAuthenticated" not in entry for entry in listed.values())


def test_errors(clean_sandbox):
    iam = clean_sandbox.client("iam")
    arn, _ = make_user(iam, "alice", "s3:*")
    generate = iam.generate_service_last_accessed_details
    code, status, message = error_of(generate, Arn="arn:aws:iam::123456789012:user/ghost")
    assert (code, status) == ("NoSuchEntity", 404)
    assert "ghost" in message
    assert error_of(generate, Arn="arn:aws:iam::123456789012:role/ghost")[:2] == ("NoSuchEntity", 404)
    assert error_of(generate, Arn="arn:aws:iam::123456789012:group/ghost")[:2] == ("NoSuchEntity", 404)
    assert error_of(generate, Arn="arn:aws:iam::123456789012:policy/ghost")[:2] == ("NoSuchEntity", 404)
    assert error_of(generate, Arn="arn:aws:iam::999999999999:user/alice")[:2] == ("NoSuchEntity", 404)
    for bad in ("not-an-arn-at-all-xyz", "arn:aws:s3:::bucket-name-here", "arn:aws:iam::aws:user/alice"):
        assert error_of(generate, Arn=bad)[:2] == ("InvalidInput", 400), bad
    assert error_of(generate, Arn=arn, Granularity="RESOURCE_LEVEL")[:2] == ("InvalidInput", 400)

    get = iam.get_service_last_accessed_details
    assert error_of(get, JobId="00000000-0000-4000-8000-000000000000")[:2] == ("NoSuchEntity", 404)
    job_id = generate(Arn=arn)["JobId"]
    assert error_of(get, JobId=job_id, Marker="not-a-marker")[:2] == ("InvalidInput", 400)


def test_pagination(clean_sandbox):
    iam = clean_sandbox.client("iam")
    arn, _ = make_user(iam, "admin", "*")
    job_id = iam.generate_service_last_accessed_details(Arn=arn)["JobId"]
    whole = iam.get_service_last_accessed_details(JobId=job_id, MaxItems=1000)
    assert whole["IsTruncated"] is False
    default = iam.get_service_last_accessed_details(JobId=job_id)
    assert len(default["ServicesLastAccessed"]) == 100
    assert default["IsTruncated"] is True

    pages, marker = [], None
    while True:
        page = iam.get_service_last_accessed_details(
            JobId=job_id, MaxItems=60, **({"Marker": marker} if marker else {})
        )
        pages.append(page["ServicesLastAccessed"])
        if not page["IsTruncated"]:
            assert "Marker" not in page
            break
        assert len(page["ServicesLastAccessed"]) == 60
        marker = page["Marker"]
    assert len(pages) == -(-len(whole["ServicesLastAccessed"]) // 60)
    assert [entry for page in pages for entry in page] == whole["ServicesLastAccessed"]


def test_reset_forgets_uses_and_jobs(clean_sandbox):
    iam = clean_sandbox.client("iam")
    arn, key = make_user(iam, "alice", "s3:*")
    clean_sandbox.client_as(key, "s3").list_buckets()
    job_id = iam.generate_service_last_accessed_details(Arn=arn)["JobId"]
    assert "LastAuthenticated" in services(iam.get_service_last_accessed_details(JobId=job_id))["s3"]

    clean_sandbox.reset("empty")
    get = iam.get_service_last_accessed_details
    assert error_of(get, JobId=job_id)[:2] == ("NoSuchEntity", 404)
    assert error_of(iam.generate_service_last_accessed_details, Arn=arn)[:2] == ("NoSuchEntity", 404)
    arn, _ = make_user(iam, "alice", "s3:*")
    assert "LastAuthenticated" not in services(report(iam, arn))["s3"]


def test_reset_hook_clears_the_recorded_uses():
    """In process: what the middleware records is dropped by the sandbox's reset of the additions."""
    # Another test of this worker may have run a sandbox in this process: start from a reset state.
    additions.reset_state()
    assert iam_last_accessed._services == {}
    iam_last_accessed.record("AKIAEXAMPLEEXAMPLE01", "monitoring", "PutMetricData", "us-east-1")
    iam_last_accessed.record("AKIAEXAMPLEEXAMPLE01", "ec2", "DescribeInstances", "us-east-1")
    iam_last_accessed.record(None, "ec2", "DescribeInstances", "us-east-1")
    assert set(iam_last_accessed._services) == {
        ("AKIAEXAMPLEEXAMPLE01", "cloudwatch"),
        ("AKIAEXAMPLEEXAMPLE01", "ec2"),
    }
    assert set(iam_last_accessed._actions) == {("AKIAEXAMPLEEXAMPLE01", "ec2", "DescribeInstances")}
    additions.reset_state()
    assert iam_last_accessed._services == {}
    assert iam_last_accessed._actions == {}
