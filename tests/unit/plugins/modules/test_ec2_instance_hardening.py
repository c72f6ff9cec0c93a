"""The ec2_instance_hardening module, driven through main() on botocore's Stubber.

Every AWS call is checked against the service model; a call that was not
stubbed fails the test, so "no mutating call" is proven by not stubbing one.
"""

import json

import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.medcircle.cloudops.plugins.modules import ec2_instance_hardening

REGION = "us-east-1"
ACCOUNT = "123456789012"
PROFILE = "medcircle-fleet-instance"
PROFILE_ARN = f"arn:aws:iam::{ACCOUNT}:instance-profile/{PROFILE}"
OLD_ARN = f"arn:aws:iam::{ACCOUNT}:instance-profile/old"
IDS = ["i-0000000000000000a", "i-0000000000000000b", "i-0000000000000000c"]
LIVE = {"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]}


@pytest.fixture
def clients(aws, monkeypatch):
    def client(self, service, retry_decorator=None, **extra_params):
        assert retry_decorator is not None
        return aws.client(service, extra_params.get("region") or self.region)

    monkeypatch.setattr(AnsibleAWSModule, "client", client)


def run(args, capsys, check=False, diff=False):
    base = {"access_key": "AKIDEXAMPLE", "secret_key": "secret", "region": REGION}
    base.update(args)
    if check:
        base["_ansible_check_mode"] = True
    if diff:
        base["_ansible_diff"] = True
    with patch_module_args(base), pytest.raises(SystemExit) as exc:
        ec2_instance_hardening.main()
    return exc.value.code, json.loads(capsys.readouterr().out)


def instance(instance_id, tokens="optional", hop=2, endpoint="enabled", profile=None, tags=None):
    item = {
        "InstanceId": instance_id,
        "State": {"Name": "running", "Code": 16},
        "MetadataOptions": {
            "State": "applied",
            "HttpTokens": tokens,
            "HttpPutResponseHopLimit": hop,
            "HttpEndpoint": endpoint,
        },
        "Tags": [{"Key": k, "Value": v} for k, v in (tags or {"Name": instance_id}).items()],
    }
    if profile:
        item["IamInstanceProfile"] = {"Arn": profile, "Id": "AIPAEXAMPLE"}
    return item


def describe(aws, instances, filters):
    aws.stub("ec2", REGION).add_response(
        "describe_instances",
        {"Reservations": [{"ReservationId": "r-1", "Instances": instances}]},
        {"Filters": filters, "MaxResults": 1000},
    )


def attribute(aws, instance_id, name, value):
    key = name[0].upper() + name[1:]
    aws.stub("ec2", REGION).add_response(
        "describe_instance_attribute",
        {"InstanceId": instance_id, key: {"Value": value}},
        {"InstanceId": instance_id, "Attribute": name},
    )


def test_check_mode_plans_without_mutating_calls(aws, clients, capsys):
    describe(
        aws,
        [instance(IDS[0]), instance(IDS[1], tokens="required", hop=1)],
        [{"Name": "tag:Role", "Values": ["app"]}, LIVE],
    )
    attribute(aws, IDS[0], "disableApiTermination", False)
    attribute(aws, IDS[1], "disableApiTermination", True)

    rc, result = run(
        {
            "filters": {"tag:Role": "app"},
            "http_tokens": "required",
            "http_put_response_hop_limit": 1,
            "termination_protection": True,
        },
        capsys,
        check=True,
        diff=True,
    )

    assert rc == 0
    assert result["changed"] is True
    assert result["summary"] == {"matched": 2, "changed": 1, "unchanged": 1, "skipped": 0}
    first, second = result["instances"]
    assert first["changes"] == [
        "http_tokens: optional -> required",
        "http_put_response_hop_limit: 2 -> 1",
        "termination_protection: false -> true",
    ]
    assert second["changed"] is False
    assert result["diff"]["before"] == {
        IDS[0]: {"http_tokens": "optional", "http_put_response_hop_limit": 2, "termination_protection": False}
    }
    assert result["diff"]["after"][IDS[0]]["termination_protection"] is True


def test_apply_one_call_per_differing_setting(aws, clients, capsys):
    asg_member = instance(IDS[2], tokens="required", hop=1, tags={"aws:autoscaling:groupName": "app-asg"})
    describe(
        aws,
        [instance(IDS[0]), instance(IDS[1], tokens="required", hop=1, profile=OLD_ARN), asg_member],
        [LIVE, {"Name": "instance-id", "Values": IDS}],
    )
    aws.stub("iam", REGION).add_response(
        "get_instance_profile",
        {
            "InstanceProfile": {
                "Path": "/",
                "InstanceProfileName": PROFILE,
                "InstanceProfileId": "AIPAEXAMPLEEXAMPLE1",
                "Arn": PROFILE_ARN,
                "CreateDate": "2026-01-01T00:00:00Z",
                "Roles": [],
            }
        },
        {"InstanceProfileName": PROFILE},
    )
    ec2 = aws.stub("ec2", REGION)
    ec2.add_response(
        "describe_iam_instance_profile_associations",
        {
            "IamInstanceProfileAssociations": [
                {
                    "AssociationId": "iip-assoc-1",
                    "InstanceId": IDS[1],
                    "IamInstanceProfile": {"Arn": OLD_ARN, "Id": "AIPAOLD"},
                    "State": "associated",
                }
            ]
        },
        {
            "Filters": [
                {"Name": "instance-id", "Values": IDS},
                {"Name": "state", "Values": ["associated"]},
            ]
        },
    )
    for instance_id, protected in zip(IDS, (False, True, False), strict=True):
        attribute(aws, instance_id, "disableApiTermination", protected)
    # Instance a: metadata, termination protection, new association.
    ec2.add_response(
        "modify_instance_metadata_options",
        {"InstanceId": IDS[0]},
        {"InstanceId": IDS[0], "HttpTokens": "required", "HttpPutResponseHopLimit": 1, "HttpEndpoint": "enabled"},
    )
    ec2.add_response("modify_instance_attribute", {}, {"InstanceId": IDS[0], "DisableApiTermination": {"Value": True}})
    ec2.add_response(
        "associate_iam_instance_profile",
        {},
        {"InstanceId": IDS[0], "IamInstanceProfile": {"Arn": PROFILE_ARN}},
    )
    # Instance b: only the profile, replaced. Instance c (in an ASG): only the profile, associated.
    ec2.add_response(
        "replace_iam_instance_profile_association",
        {},
        {"AssociationId": "iip-assoc-1", "IamInstanceProfile": {"Arn": PROFILE_ARN}},
    )
    ec2.add_response(
        "associate_iam_instance_profile",
        {},
        {"InstanceId": IDS[2], "IamInstanceProfile": {"Arn": PROFILE_ARN}},
    )

    rc, result = run(
        {
            "instance_ids": IDS,
            "http_tokens": "required",
            "http_put_response_hop_limit": 1,
            "termination_protection": True,
            "iam_instance_profile": PROFILE,
            "replace_instance_profile": True,
        },
        capsys,
    )

    assert rc == 0, result
    assert result["summary"] == {"matched": 3, "changed": 3, "unchanged": 0, "skipped": 1}
    asg = result["instances"][2]
    assert asg["auto_scaling_group"] == "app-asg"
    assert asg["changes"] == [f"iam_instance_profile: none -> {PROFILE_ARN}"]
    assert "Auto Scaling group app-asg" in asg["skipped"][0]
    assert result["instances"][1]["changes"] == [f"iam_instance_profile: {OLD_ARN} -> {PROFILE_ARN}"]


def test_throttled_calls_are_retried(aws, clients, capsys):
    ec2 = aws.stub("ec2", REGION)
    ec2.add_client_error("describe_instances", service_error_code="RequestLimitExceeded", http_status_code=503)
    describe(aws, [instance(IDS[0])], [{"Name": "tag:Role", "Values": ["app"]}, LIVE])
    ec2.add_client_error("modify_instance_metadata_options", service_error_code="RequestLimitExceeded")
    expected = {"InstanceId": IDS[0], "HttpTokens": "required", "HttpPutResponseHopLimit": 2, "HttpEndpoint": "enabled"}
    ec2.add_response("modify_instance_metadata_options", {"InstanceId": IDS[0]}, expected)

    rc, result = run({"filters": {"tag:Role": "app"}, "http_tokens": "required"}, capsys)

    assert rc == 0, result
    assert result["instances"][0]["changes"] == ["http_tokens: optional -> required"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"instance_ids": ["i-12"], "http_tokens": "required"}, "instance_ids i-12 is not a well-formed EC2"),
        ({"filters": {"tag:Role": "app"}}, "settings are all unset"),
        ({"filters": {"tag:Role": "app"}, "http_put_response_hop_limit": 0}, "http_put_response_hop_limit 0 is out"),
        ({"filters": {"tag:Role": "app"}, "iam_instance_profile": "bad name!"}, "iam_instance_profile 'bad name!'"),
        ({"instance_ids": [], "filters": {}, "http_tokens": "required"}, "instance_ids and filters are both empty"),
    ],
)
def test_bad_input_fails_without_any_call(aws, clients, capsys, args, message):
    rc, result = run(args, capsys)
    assert rc == 1
    assert result["msg"].startswith(message), result["msg"]


def test_nonexistent_instance_fails_after_describe_only(aws, clients, capsys):
    describe(aws, [instance(IDS[0])], [LIVE, {"Name": "instance-id", "Values": IDS[:2]}])
    rc, result = run({"instance_ids": IDS[:2], "termination_protection": True}, capsys)
    assert rc == 1
    assert result["msg"].startswith(f"instance_ids {IDS[1]} not found"), result["msg"]
