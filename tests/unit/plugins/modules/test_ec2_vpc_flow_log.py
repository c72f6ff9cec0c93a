"""ec2_vpc_flow_log through main(), with botocore's Stubber behind AnsibleAWSModule.client."""

import json

import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.medcircle.cloudops.plugins.modules import ec2_vpc_flow_log

ROLE = "arn:aws:iam::123456789012:role/medcircle-flow-logs-role"
GROUP = "/medcircle/vpc-flow-logs"
VPC_A = "vpc-0aaaaaaaaaaaaaaaa"
VPC_B = "vpc-0bbbbbbbbbbbbbbbb"
ARGS = {
    "resource_ids": [VPC_A, VPC_B],
    "log_group_name": GROUP,
    "deliver_logs_permission_arn": ROLE,
    "max_aggregation_interval": 60,
    "tags": {"Project": "medcircle"},
}


@pytest.fixture
def clients(aws, monkeypatch):
    requested = []

    def client(self, service, retry_decorator=None, **extra):
        requested.append((service, retry_decorator is not None))
        return aws.client(service, extra.get("region") or self.region)

    monkeypatch.setattr(AnsibleAWSModule, "client", client)
    return requested


def run(args, capsys, check=False, diff=False):
    base = {"access_key": "AKIDEXAMPLE", "secret_key": "secret", "region": "us-east-1"}
    base.update(args)
    if check:
        base["_ansible_check_mode"] = True
    if diff:
        base["_ansible_diff"] = True
    with patch_module_args(base), pytest.raises(SystemExit) as exc:
        ec2_vpc_flow_log.main()
    return exc.value.code, json.loads(capsys.readouterr().out)


def flow_log(ident, resource, group=GROUP, traffic="ALL", interval=60, tags=None):
    return {
        "FlowLogId": ident,
        "ResourceId": resource,
        "TrafficType": traffic,
        "LogDestinationType": "cloud-watch-logs",
        "LogGroupName": group,
        "DeliverLogsPermissionArn": ROLE,
        "DeliverLogsStatus": "SUCCESS",
        "FlowLogStatus": "ACTIVE",
        "MaxAggregationInterval": interval,
        "LogFormat": "${version} ${srcaddr}",
        "Tags": [{"Key": k, "Value": v} for k, v in (tags if tags is not None else {"Project": "medcircle"}).items()],
    }


def described(aws, ids, logs):
    aws.stub("ec2", "us-east-1").add_response(
        "describe_flow_logs", {"FlowLogs": logs}, {"Filters": [{"Name": "resource-id", "Values": ids}]}
    )


def test_creates_the_missing_flow_log_in_one_batched_call(aws, clients, capsys):
    other_destination = flow_log("fl-00000000000000001", VPC_B, group="/someone/else")
    described(aws, [VPC_A, VPC_B], [flow_log("fl-0000000000000000a", VPC_A), other_destination])
    aws.stub("ec2", "us-east-1").add_response(
        "create_flow_logs",
        {"FlowLogIds": ["fl-0000000000000000b"], "Unsuccessful": []},
        {
            "ResourceIds": [VPC_B],
            "ResourceType": "VPC",
            "TrafficType": "ALL",
            "LogDestinationType": "cloud-watch-logs",
            "LogGroupName": GROUP,
            "DeliverLogsPermissionArn": ROLE,
            "MaxAggregationInterval": 60,
            "TagSpecifications": [{"ResourceType": "vpc-flow-log", "Tags": [{"Key": "Project", "Value": "medcircle"}]}],
        },
    )
    described(
        aws,
        [VPC_A, VPC_B],
        [flow_log("fl-0000000000000000a", VPC_A), other_destination, flow_log("fl-0000000000000000b", VPC_B)],
    )
    rc, result = run(ARGS, capsys, diff=True)
    assert rc == 0, result
    assert result["changed"] is True
    assert result["created"] == [VPC_B]
    assert sorted(f["flow_log_id"] for f in result["flow_logs"]) == ["fl-0000000000000000a", "fl-0000000000000000b"]
    assert result["diff"]["before"]["flow_logs"][VPC_B] == []
    assert result["diff"]["after"]["flow_logs"][VPC_B] == ["fl-0000000000000000b"]
    assert clients == [("ec2", True)]


def test_second_run_changes_nothing(aws, clients, capsys):
    described(aws, [VPC_A, VPC_B], [flow_log("fl-0000000000000000a", VPC_A), flow_log("fl-0000000000000000b", VPC_B)])
    rc, result = run(ARGS, capsys)
    assert rc == 0, result
    assert result["changed"] is False
    assert result["created"] == [] and result["mismatches"] == []


def test_check_mode_only_reads_and_plans(aws, clients, capsys):
    described(aws, [VPC_A, VPC_B], [flow_log("fl-0000000000000000a", VPC_A, tags={"Old": "x"})])
    rc, result = run(ARGS, capsys, check=True)
    assert rc == 0, result
    assert result["changed"] is True
    assert result["created"] == [VPC_B]
    planned = {f["resource_id"]: f for f in result["flow_logs"]}
    assert planned[VPC_B]["flow_log_id"] is None
    assert planned[VPC_A]["tags"] == {"Project": "medcircle"}


def test_retags_and_reports_a_different_interval_without_replacing(aws, clients, capsys):
    described(
        aws,
        [VPC_A],
        [flow_log("fl-0000000000000000a", VPC_A, interval=600, tags={"Project": "medcircle", "Old": "x"})],
    )
    ec2 = aws.stub("ec2", "us-east-1")
    ec2.add_response("delete_tags", {}, {"Resources": ["fl-0000000000000000a"], "Tags": [{"Key": "Old"}]})
    described(aws, [VPC_A], [flow_log("fl-0000000000000000a", VPC_A, interval=600)])
    rc, result = run(dict(ARGS, resource_ids=[VPC_A]), capsys)
    assert rc == 0, result
    assert result["changed"] is True
    assert result["mismatches"][0]["differs"] == ["max_aggregation_interval 600 (wanted 60)"]
    assert "cannot change it in place" in json.dumps(result.get("warnings"))


def test_absent_deletes_only_the_matching_flow_log(aws, clients, capsys):
    described(
        aws,
        [VPC_A],
        [flow_log("fl-0000000000000000a", VPC_A), flow_log("fl-00000000000000001", VPC_A, traffic="REJECT")],
    )
    aws.stub("ec2", "us-east-1").add_response(
        "delete_flow_logs", {"Unsuccessful": []}, {"FlowLogIds": ["fl-0000000000000000a"]}
    )
    rc, result = run({"state": "absent", "resource_ids": [VPC_A], "log_group_name": GROUP}, capsys)
    assert rc == 0, result
    assert result["deleted"] == ["fl-0000000000000000a"]


def test_unsuccessful_items_fail_the_task(aws, clients, capsys):
    described(aws, [VPC_A], [])
    aws.stub("ec2", "us-east-1").add_response(
        "create_flow_logs",
        {
            "FlowLogIds": [],
            "Unsuccessful": [
                {"ResourceId": VPC_A, "Error": {"Code": "InvalidVpcID.NotFound", "Message": "VPC does not exist"}}
            ],
        },
    )
    rc, result = run(dict(ARGS, resource_ids=[VPC_A], tags=None), capsys)
    assert rc == 1
    assert "VPC does not exist" in result["msg"]


@pytest.mark.parametrize(
    "args, message",
    [
        ({"resource_ids": ["subnet-0123"]}, "resource_ids subnet-0123 is not a VPC id"),
        ({"deliver_logs_permission_arn": None}, "deliver_logs_permission_arn is required"),
        ({"max_aggregation_interval": 300}, "max_aggregation_interval 300 is not allowed"),
        (
            {"log_destination_type": "s3", "log_group_name": None, "log_destination": "bucket"},
            "is not an S3 bucket ARN",
        ),
        ({"resource_ids": []}, "resource_ids is empty"),
    ],
)
def test_bad_input_fails_before_any_call(aws, clients, capsys, args, message):
    params = dict(ARGS, **args)
    params = {k: v for k, v in params.items() if v is not None}
    rc, result = run(params, capsys)
    assert rc == 1
    assert message in result["msg"]
