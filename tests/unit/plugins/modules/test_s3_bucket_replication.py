"""s3_bucket_replication through main(), with botocore's Stubber behind AnsibleAWSModule.client."""

import json

import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.medcircle.cloudops.plugins.modules import s3_bucket_replication

SRC = "medcircle-patient-records-123456789012"
DST = "medcircle-patient-records-dr-123456789012"
ROLE = "arn:aws:iam::123456789012:role/medcircle-s3-replication"
DR_KEY = "arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
RULE = {
    "id": "cloudops-dr",
    "destination_bucket": DST,
    "destination_region": "us-west-2",
    "replica_kms_key_id": "alias/medcircle-s3",
}
WANTED_RULE = {
    "ID": "cloudops-dr",
    "Priority": 1,
    "Status": "Enabled",
    "Filter": {"Prefix": ""},
    "DeleteMarkerReplication": {"Status": "Enabled"},
    "Destination": {"Bucket": f"arn:aws:s3:::{DST}", "EncryptionConfiguration": {"ReplicaKmsKeyID": DR_KEY}},
    "SourceSelectionCriteria": {"SseKmsEncryptedObjects": {"Status": "Enabled"}},
}
OTHERS_RULE = {
    "ID": "someone-else",
    "Priority": 9,
    "Status": "Enabled",
    "Filter": {"Prefix": "exports/"},
    "DeleteMarkerReplication": {"Status": "Disabled"},
    "Destination": {"Bucket": "arn:aws:s3:::elsewhere"},
}


@pytest.fixture
def aws_module(aws, monkeypatch):
    monkeypatch.setattr(
        AnsibleAWSModule,
        "client",
        lambda self, service, region=None, retry_decorator=None, **kw: aws.client(service, region or "us-east-1"),
    )
    return aws


def run(args, capsys, check=False):
    base = {"access_key": "AKIDEXAMPLE", "secret_key": "secret", "region": "us-east-1", "bucket": SRC, "role_arn": ROLE}
    base.update(args)
    if check:
        base["_ansible_check_mode"] = True
    with patch_module_args(base), pytest.raises(SystemExit) as exc:
        s3_bucket_replication.main()
    return exc.value.code, json.loads(capsys.readouterr().out)


def buckets_ready(aws):
    src = aws.stub("s3", "us-east-1")
    src.add_response("get_bucket_location", {}, {"Bucket": SRC})
    src.add_response("get_bucket_versioning", {"Status": "Enabled"}, {"Bucket": SRC})
    dst = aws.stub("s3", "us-west-2")
    dst.add_response("get_bucket_location", {"LocationConstraint": "us-west-2"}, {"Bucket": DST})
    dst.add_response("get_bucket_versioning", {"Status": "Enabled"}, {"Bucket": DST})
    aws.describe_key("us-west-2", "alias/medcircle-s3", DR_KEY)


@pytest.mark.parametrize(
    "rule, message",
    [
        ({"destination_region": "us-east-1"}, "rules[0].destination_region us-east-1 is the source bucket's region"),
        (
            {"replica_kms_key_id": "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
            "is a key in eu-west-1, but the destination bucket is in us-west-2",
        ),
        ({"replica_kms_key_id": None}, "rules[0].replica_kms_key_id is required when replicate_kms_encrypted is true"),
        ({"tags": {"DataClass": "phi"}}, "rules[0].delete_marker_replication True cannot be used with a tag filter"),
    ],
)
def test_bad_rules_are_refused_before_any_call(aws_module, capsys, rule, message):
    code, out = run({"rules": [dict(RULE, **rule)]}, capsys)  # nothing stubbed
    assert code == 1
    assert message in out["msg"], out["msg"]


def test_check_mode_plans_the_rule_and_the_copies_and_changes_nothing(aws_module, capsys):
    buckets_ready(aws_module)
    src = aws_module.stub("s3", "us-east-1")
    src.add_response(
        "get_bucket_replication", {"ReplicationConfiguration": {"Role": ROLE, "Rules": [OTHERS_RULE]}}, {"Bucket": SRC}
    )
    objects = [{"Key": "records/a.json", "Size": 3}, {"Key": "records/b.json", "Size": 4}]
    src.add_response("list_objects_v2", {"Contents": objects, "IsTruncated": False}, {"Bucket": SRC, "Prefix": ""})
    aws_module.stub("s3", "us-west-2").add_response(
        "list_objects_v2", {"Contents": objects[:1], "IsTruncated": False}, {"Bucket": DST, "Prefix": ""}
    )
    code, out = run({"rules": [RULE], "replicate_existing": True, "_ansible_diff": True}, capsys, check=True)
    assert code == 0, out
    assert out["changed"] is True and out["configuration_changed"] is True
    assert [r["ID"] for r in out["diff"]["after"]["Rules"]] == ["someone-else", "cloudops-dr"]
    assert out["existing"]["source_objects"] == 2
    assert out["existing"]["already_in_destination"] == 1
    assert out["existing"]["copied"] == 1
    assert out["existing"]["copied_keys"] == [{"key": "records/b.json", "destination_bucket": DST}]


def test_apply_puts_the_merged_configuration_then_nothing_to_do(aws_module, capsys):
    buckets_ready(aws_module)
    src = aws_module.stub("s3", "us-east-1")
    src.add_client_error("get_bucket_replication", "ReplicationConfigurationNotFoundError", http_status_code=404)
    src.add_response(
        "put_bucket_replication",
        {},
        {"Bucket": SRC, "ReplicationConfiguration": {"Role": ROLE, "Rules": [WANTED_RULE]}},
    )
    code, out = run({"rules": [RULE]}, capsys)
    assert code == 0, out
    assert out["changed"] is True

    buckets_ready(aws_module)
    src.add_response(
        "get_bucket_replication", {"ReplicationConfiguration": {"Role": ROLE, "Rules": [WANTED_RULE]}}, {"Bucket": SRC}
    )
    code, out = run({"rules": [RULE]}, capsys)
    assert code == 0, out
    assert out["changed"] is False


def test_a_destination_bucket_in_another_region_is_refused_before_any_change(aws_module, capsys):
    src = aws_module.stub("s3", "us-east-1")
    src.add_response("get_bucket_location", {}, {"Bucket": SRC})
    src.add_response("get_bucket_versioning", {"Status": "Enabled"}, {"Bucket": SRC})
    aws_module.stub("s3", "us-west-2").add_response(
        "get_bucket_location", {"LocationConstraint": "eu-west-1"}, {"Bucket": DST}
    )
    code, out = run({"rules": [RULE]}, capsys)
    assert code == 1
    assert "rules[0].destination_region us-west-2 is not the region of bucket" in out["msg"]


def test_existing_objects_are_copied_in_batches_that_a_rerun_resumes(aws_module, capsys):
    objects = [{"Key": "records/a.json", "Size": 3}, {"Key": "records/b.json", "Size": 4}]
    current = {"ReplicationConfiguration": {"Role": ROLE, "Rules": [WANTED_RULE]}}

    def listing(in_destination):
        src = aws_module.stub("s3", "us-east-1")
        src.add_response("get_bucket_replication", current, {"Bucket": SRC})
        src.add_response("list_objects_v2", {"Contents": objects, "IsTruncated": False}, {"Bucket": SRC, "Prefix": ""})
        aws_module.stub("s3", "us-west-2").add_response(
            "list_objects_v2", {"Contents": in_destination, "IsTruncated": False}, {"Bucket": DST, "Prefix": ""}
        )

    def copy(key):
        aws_module.stub("s3", "us-west-2").add_response(
            "copy_object",
            {"CopyObjectResult": {"ETag": '"x"'}},
            {
                "Bucket": DST,
                "Key": key,
                "CopySource": {"Bucket": SRC, "Key": key},
                "MetadataDirective": "COPY",
                "TaggingDirective": "COPY",
                "ServerSideEncryption": "aws:kms",
                "SSEKMSKeyId": DR_KEY,
            },
        )

    args = {"rules": [RULE], "replicate_existing": True, "replicate_existing_batch_size": 1}
    buckets_ready(aws_module)
    listing([])
    copy("records/a.json")
    code, out = run(args, capsys)
    assert code == 0, out
    assert out["changed"] is True and out["configuration_changed"] is False
    assert {k: out["existing"][k] for k in ("copied", "remaining", "failed")} == {
        "copied": 1,
        "remaining": 1,
        "failed": 0,
    }

    # the next run skips what is there and copies the rest
    buckets_ready(aws_module)
    listing(objects[:1])
    copy("records/b.json")
    code, out = run(args, capsys)
    assert code == 0, out
    assert out["existing"]["already_in_destination"] == 1
    assert {k: out["existing"][k] for k in ("copied", "remaining")} == {"copied": 1, "remaining": 0}


def test_a_rule_without_a_priority_follows_the_buckets_other_rules(aws_module, capsys):
    """S3 refuses two rules with one priority: the rule is placed after the bucket's other rules (and so wins
    where it overlaps them), on every run the same."""
    other = dict(OTHERS_RULE, Priority=1, Filter={"Prefix": ""}, Destination={"Bucket": f"arn:aws:s3:::{DST}"})
    for _ in range(2):
        buckets_ready(aws_module)
        aws_module.stub("s3", "us-east-1").add_response(
            "get_bucket_replication", {"ReplicationConfiguration": {"Role": ROLE, "Rules": [other]}}, {"Bucket": SRC}
        )
    code, out = run({"rules": [RULE], "_ansible_diff": True}, capsys, check=True)
    assert code == 0, out
    priorities = {r["ID"]: r["Priority"] for r in out["diff"]["after"]["Rules"]}
    assert priorities == {"someone-else": 1, "cloudops-dr": 2}
    code, out = run({"rules": [RULE], "_ansible_diff": True}, capsys, check=True)
    assert {r["ID"]: r["Priority"] for r in out["diff"]["after"]["Rules"]} == priorities


def test_a_priority_another_rule_has_is_refused_before_any_change(aws_module, capsys):
    buckets_ready(aws_module)
    aws_module.stub("s3", "us-east-1").add_response(
        "get_bucket_replication", {"ReplicationConfiguration": {"Role": ROLE, "Rules": [OTHERS_RULE]}}, {"Bucket": SRC}
    )
    code, out = run({"rules": [dict(RULE, priority=9)]}, capsys)  # no put_bucket_replication stubbed
    assert code == 1
    assert out["msg"].startswith("rules[0].priority 9 is the priority of rule someone-else already on the bucket"), out


def test_rules_without_a_priority_skip_the_priorities_given_to_others():
    from ansible_collections.medcircle.cloudops.plugins.module_utils.s3_replication import place_priorities

    rules = [{"id": "a", "priority": 1}, {"id": "b", "priority": 3}, {"id": "c", "priority": 3}]
    place_priorities(rules, [0, 2], {"Rules": [dict(OTHERS_RULE, Priority=2)]})  # a and c were given none
    assert [r["priority"] for r in rules] == [4, 3, 5]
