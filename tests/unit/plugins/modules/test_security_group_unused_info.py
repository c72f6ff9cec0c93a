"""ec2_security_group_unused_info through main(), with botocore's Stubber behind every client."""

import pytest
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.medcircle.cloudops.plugins.module_utils.security_groups import referenced_groups
from ansible_collections.medcircle.cloudops.plugins.modules import ec2_security_group_unused_info
from botocore.stub import ANY
from module_run import run_module

P = "us-east-1"
VPC = "vpc-0123456789abcdef0"
WEB = "sg-000000000000000a1"
DB = "sg-000000000000000a2"
LB = "sg-000000000000000a3"
EP = "sg-000000000000000a4"
REF = "sg-000000000000000a5"
SPARE = "sg-000000000000000a6"
DEFAULT = "sg-000000000000000a7"
ELSEWHERE = "sg-000000000000000a8"


@pytest.fixture
def clients(aws, monkeypatch):
    requested = []

    def client(self, service, retry_decorator=None, **extra_params):
        requested.append((service, retry_decorator is not None))
        return aws.client(service, extra_params.get("region") or self.region)

    monkeypatch.setattr(AnsibleAWSModule, "client", client)
    return requested


def run(args, capsys):
    return run_module(ec2_security_group_unused_info.main, args, capsys, region=P)


def group(group_id, name, ingress=None):
    return {
        "GroupId": group_id,
        "GroupName": name,
        "VpcId": VPC,
        "Description": name,
        "OwnerId": "123456789012",
        "IpPermissions": ingress or [],
        "IpPermissionsEgress": [],
        "Tags": [{"Key": "Name", "Value": name}],
    }


def stub_ec2(aws, vpc_filter):
    ec2 = aws.stub("ec2", P)
    pair = {"IpProtocol": "tcp", "FromPort": 1, "ToPort": 1, "UserIdGroupPairs": [{"GroupId": REF}]}
    ec2.add_response(
        "describe_security_groups",
        {
            "SecurityGroups": [
                group(WEB, "web", [pair]),
                group(DB, "db"),
                group(LB, "lb"),
                group(EP, "endpoint"),
                group(REF, "referenced"),
                group(DEFAULT, "default"),
            ],
            "NextToken": "page2",
        },
        {"Filters": vpc_filter},
    )
    ec2.add_response(
        "describe_security_groups",
        {"SecurityGroups": [group(SPARE, "spare")]},
        {"Filters": vpc_filter, "NextToken": "page2"},
    )
    ec2.add_response(
        "describe_network_interfaces",
        {"NetworkInterfaces": [{"NetworkInterfaceId": "eni-1", "Groups": [{"GroupId": WEB, "GroupName": "web"}]}]},
        {"Filters": vpc_filter},
    )
    ec2.add_response(
        "describe_instances",
        {
            "Reservations": [
                {
                    "Instances": [
                        {"InstanceId": "i-1", "State": {"Name": "running"}, "SecurityGroups": [{"GroupId": WEB}]},
                        {"InstanceId": "i-2", "State": {"Name": "terminated"}, "SecurityGroups": [{"GroupId": SPARE}]},
                    ]
                }
            ]
        },
        {"Filters": vpc_filter},
    )
    ec2.add_response(
        "describe_vpc_endpoints",
        {"VpcEndpoints": [{"VpcEndpointId": "vpce-1", "Groups": [{"GroupId": EP, "GroupName": "endpoint"}]}]},
        {"Filters": vpc_filter},
    )


def stub_rds_and_elb(aws):
    aws.stub("rds", P).add_response(
        "describe_db_instances",
        {"DBInstances": [{"DBInstanceIdentifier": "db", "VpcSecurityGroups": [{"VpcSecurityGroupId": DB}]}]},
        {},
    )
    aws.stub("elbv2", P).add_response(
        "describe_load_balancers", {"LoadBalancers": [{"LoadBalancerName": "lb", "SecurityGroups": [LB]}]}, {}
    )


def test_reports_what_every_service_uses(aws, clients, capsys):
    vpc_filter = [{"Name": "vpc-id", "Values": [VPC]}]
    stub_ec2(aws, vpc_filter)
    stub_rds_and_elb(aws)
    rc, result = run({"vpc_ids": [VPC]}, capsys)
    assert rc == 0 and result["changed"] is False
    assert sorted(g["group_name"] for g in result["unused"]) == ["referenced", "spare"]
    by_name = {g["group_name"]: g for g in result["security_groups"]}
    assert [name for name, g in by_name.items() if g["in_use"]] == ["db", "endpoint", "lb", "web"]
    assert by_name["referenced"]["referenced_by"] == [WEB]
    assert by_name["default"]["default"] is True and by_name["default"]["in_use"] is False
    assert by_name["web"]["tags"] == {"Name": "web"}
    assert all(with_retry for _service, with_retry in clients)
    for service in ("ec2", "rds", "elbv2"):
        aws.stub(service, P).assert_no_pending_responses()


def test_include_default_and_skipped_services(aws, clients, capsys):
    stub_ec2(aws, [])
    rc, result = run({"include_default": True, "check_rds": False, "check_load_balancers": False}, capsys)
    assert rc == 0
    assert sorted(g["group_name"] for g in result["unused"]) == ["db", "default", "lb", "referenced", "spare"]
    assert [service for service, _ in clients] == ["ec2"]


def test_bad_vpc_id_fails_before_any_call(aws, clients, capsys):
    rc, result = run({"vpc_ids": ["subnet-0123"]}, capsys)
    assert rc == 1 and result["failed"]
    assert result["msg"] == "vpc_ids subnet-0123 is not a VPC id. Allowed: ids such as vpc-0123456789abcdef0"
    assert clients == []


def test_aws_error_is_reported(aws, clients, capsys):
    aws.stub("ec2", P).add_client_error(
        "describe_security_groups", "UnauthorizedOperation", "not allowed", expected_params={"Filters": ANY}
    )
    rc, result = run({"check_rds": False, "check_load_balancers": False}, capsys)
    assert rc == 1 and result["failed"]
    assert "describe security groups" in result["msg"].lower()


def test_referenced_groups_ignores_self_references():
    groups = [
        group(WEB, "web", [{"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": WEB}, {"GroupId": DB}]}]),
        group(SPARE, "spare", [{"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": DB}]}]),
    ]
    assert referenced_groups(groups) == {DB: [WEB, SPARE]}
