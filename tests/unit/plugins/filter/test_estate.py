"""The estate_summary / estate_lines filters on results shaped as amazon.aws's info modules return them."""

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.medcircle.cloudops.plugins.filter.estate import estate_lines, estate_summary


def _looped(region_values, key):
    return [{"item": region, key: value} for region, value in region_values.items()]


def _collected(**overrides):
    base = {
        "instances": _looped(
            {
                "us-east-1": [
                    {
                        "instance_id": "i-weak",
                        "state": {"name": "running"},
                        "tags": {"Name": "app"},
                        "metadata_options": {"http_tokens": "optional"},
                        "public_ip_address": "54.1.2.3",
                    },
                    {
                        "instance_id": "i-good",
                        "state": {"name": "stopped"},
                        "tags": {"Name": "good"},
                        "metadata_options": {"http_tokens": "required"},
                        "iam_instance_profile": {"arn": "arn:aws:iam::123456789012:instance-profile/p"},
                    },
                    {"instance_id": "i-gone", "state": {"name": "terminated"}},
                ],
                "us-west-2": [],
            },
            "instances",
        ),
        "volumes": _looped(
            {
                "us-east-1": [
                    {"id": "vol-plain", "size": 8, "encrypted": False, "attachment_set": [{"instance_id": "i-weak"}]},
                    {"id": "vol-enc", "size": 8, "encrypted": True, "attachment_set": []},
                ],
                "us-west-2": [],
            },
            "volumes",
        ),
        "security_groups": _looped(
            {
                "us-east-1": [
                    {
                        "group_id": "sg-open",
                        "group_name": "open",
                        "ip_permissions": [
                            {
                                "ip_protocol": "tcp",
                                "from_port": 22,
                                "to_port": 22,
                                "ip_ranges": [{"cidr_ip": "0.0.0.0/0"}],
                            },
                            {"ip_protocol": "-1", "ipv6_ranges": [{"cidr_ipv6": "::/0"}]},
                        ],
                        "ip_permissions_egress": [{"ip_protocol": "-1", "ip_ranges": [{"cidr_ip": "0.0.0.0/0"}]}],
                    },
                    {
                        "group_id": "sg-ref",
                        "group_name": "referenced",
                        "ip_permissions": [],
                        "ip_permissions_egress": [],
                    },
                    {
                        "group_id": "sg-db",
                        "group_name": "db",
                        "ip_permissions": [
                            {
                                "ip_protocol": "tcp",
                                "from_port": 3306,
                                "to_port": 3306,
                                "user_id_group_pairs": [{"group_id": "sg-ref"}],
                            }
                        ],
                    },
                    {"group_id": "sg-unused", "group_name": "legacy"},
                    {"group_id": "sg-default", "group_name": "default"},
                ],
                "us-west-2": [],
            },
            "security_groups",
        ),
        "network_interfaces": _looped(
            {"us-east-1": [{"groups": [{"group_id": "sg-open"}, {"group_id": "sg-db"}]}], "us-west-2": []},
            "network_interfaces",
        ),
        "vpcs": _looped({"us-east-1": [{"vpc_id": "vpc-1", "cidr_block": "10.0.0.0/16"}], "us-west-2": []}, "vpcs"),
        "databases": _looped(
            {
                "us-east-1": [
                    {
                        "db_instance_identifier": "db",
                        "engine": "mysql",
                        "storage_encrypted": False,
                        "multi_az": False,
                        "backup_retention_period": 1,
                        "deletion_protection": False,
                        "publicly_accessible": True,
                    }
                ],
                "us-west-2": [],
            },
            "instances",
        ),
        "stacks": _looped(
            {
                "us-east-1": {"s": {"stack_description": {"enable_termination_protection": False}}},
                "us-west-2": {},
            },
            "cloudformation",
        ),
        "buckets": [
            {
                "name": "records",
                "bucket_versioning": {},
                "bucket_encryption": {
                    "ServerSideEncryptionConfiguration": {
                        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
                    }
                },
                "bucket_logging": {},
                "bucket_policy": None,
            },
            {
                "name": "good",
                "bucket_versioning": {"Status": "Enabled"},
                "bucket_encryption": {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]},
                "bucket_logging": {"LoggingEnabled": {"TargetBucket": "logs"}},
                "bucket_policy": '{"Statement": []}',
            },
        ],
        "users": [{"user_name": "admin", "arn": "arn:aws:iam::123456789012:user/admin"}],
    }
    base.update(overrides)
    return base


def test_weaknesses_are_found_per_resource():
    summary = estate_summary(_collected())
    east = summary["regions"]["us-east-1"]
    text = "\n".join(east["weaknesses"])
    assert "app (i-weak): IMDSv1 allowed (HttpTokens optional)" in text
    assert "app (i-weak): no instance role" in text
    assert "i-good" not in text
    assert [i["id"] for i in east["instances"]] == ["i-weak", "i-good"]  # terminated is left out
    assert "volume vol-plain (8 GiB): not encrypted" in text
    assert "vol-enc" not in text
    open_group = next(g for g in east["security_groups"] if g["id"] == "sg-open")
    assert open_group["open_inbound"] == ["0.0.0.0/0 tcp/22", "::/0 all traffic"]
    assert open_group["open_outbound"] == ["0.0.0.0/0 all traffic"]
    unused = sorted(g["id"] for g in east["security_groups"] if g["unused"])
    assert unused == ["sg-unused"]  # referenced and default groups are not unused
    assert "database db: not encrypted at rest" in text
    assert "database db: backups kept 1 day(s)" in text
    assert "stack s: no termination protection" in text
    assert summary["regions"]["us-west-2"]["weaknesses"] == []
    account = "\n".join(summary["account_weaknesses"])
    assert "bucket records: versioning disabled" in account
    assert "bucket records: encryption AES256, not KMS" in account
    assert "bucket good" not in account
    assert summary["weaknesses"] == len(east["weaknesses"]) + len(summary["account_weaknesses"])


def test_lines_show_counts_and_marks():
    lines = estate_lines(estate_summary(_collected()))
    assert lines[0].startswith("us-east-1: 1 VPC(s), 2 instance(s), 2 volume(s), 5 security group(s)")
    assert any(line.startswith("  ! ") for line in lines)
    assert lines[-1].endswith("weakness(es) visible in the data")


def test_failed_read_is_reported_with_region():
    collected = _collected(instances=[{"item": "us-east-1", "failed": True, "msg": "AccessDenied"}])
    with pytest.raises(AnsibleFilterError, match="instances in us-east-1 failed: AccessDenied"):
        estate_summary(collected)


def test_bad_input_is_refused():
    with pytest.raises(AnsibleFilterError, match="expects a dictionary"):
        estate_summary(["not", "a", "dict"])
    with pytest.raises(AnsibleFilterError, match="output of estate_summary"):
        estate_lines({})
