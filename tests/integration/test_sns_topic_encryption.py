"""medcircle.cloudops.sns_topic_encryption through real `ansible` runs on the sandbox.

Each run is `ansible localhost -m medcircle.cloudops.sns_topic_encryption -a <json>` with the sandbox's
environment (AWS_ENDPOINT_URL and dummy credentials). The topic's KmsMasterKeyId is read back with boto3,
and the sandbox's request log shows which AWS calls a run made: check mode and reruns make no mutating call.
"""

import pytest
from playbook import run_module

MODULE = "medcircle.cloudops.sns_topic_encryption"
REGION = "us-east-1"
ACCOUNT = "123456789012"


def mutating(sandbox):
    return [(r["service"], r["operation"], r["region"]) for r in sandbox.requests(mutating=True)]


def topic_key(sandbox, topic_arn, region=REGION):
    return sandbox.client("sns", region).get_topic_attributes(TopicArn=topic_arn)["Attributes"].get("KmsMasterKeyId")


@pytest.fixture
def estate(clean_sandbox):
    """A plain topic and two keys, alias/medcircle-logs and alias/medcircle-other, in us-east-1."""
    kms = clean_sandbox.client("kms", REGION)
    keys = {}
    for alias in ("alias/medcircle-logs", "alias/medcircle-other"):
        key = kms.create_key(Description=f"{alias} test key")["KeyMetadata"]
        kms.create_alias(AliasName=alias, TargetKeyId=key["KeyId"])
        keys[alias] = key
    topic = clean_sandbox.client("sns", REGION).create_topic(Name="medcircle-security-alerts")["TopicArn"]
    clean_sandbox.clear_requests()
    return clean_sandbox, topic, keys


def test_encrypt_by_alias_then_arn_idempotent_change_key_absent(estate):
    sandbox, topic, keys = estate
    logs_arn = keys["alias/medcircle-logs"]["Arn"]
    other_arn = keys["alias/medcircle-other"]["Arn"]
    by_alias = {"topic_arn": topic, "kms_key_id": "alias/medcircle-logs"}

    # Check mode: changed, a diff, no mutating call, the topic stays unencrypted.
    result = run_module(sandbox, MODULE, by_alias, check=True, diff=True)
    assert result["changed"] is True
    assert result["kms_key_arn"] == logs_arn and result["kms_master_key_id"] == logs_arn
    assert result["diff"] == {
        "before": {"kms_master_key_id": None, "kms_key_arn": None},
        "after": {"kms_master_key_id": logs_arn, "kms_key_arn": logs_arn},
    }
    assert sandbox.requests(service="sns", operation="GetTopicAttributes"), "the module did not reach the sandbox"
    assert mutating(sandbox) == []
    assert topic_key(sandbox, topic) is None

    # For real: one SetTopicAttributes; the topic holds the key ARN.
    result = run_module(sandbox, MODULE, by_alias)
    assert result["changed"] is True and "diff" not in result
    assert mutating(sandbox) == [("sns", "SetTopicAttributes", REGION)]
    assert topic_key(sandbox, topic) == logs_arn

    # Again by alias, by key ARN, by key id and by alias ARN: the same key, nothing to do.
    for ref in ("alias/medcircle-logs", logs_arn, keys["alias/medcircle-logs"]["KeyId"]):
        sandbox.clear_requests()
        result = run_module(sandbox, MODULE, {"topic_arn": topic, "kms_key_id": ref}, diff=True)
        assert result["changed"] is False, ref
        assert result["diff"]["before"] == result["diff"]["after"]
        assert mutating(sandbox) == []
    alias_arn = f"arn:aws:kms:{REGION}:{ACCOUNT}:alias/medcircle-logs"
    assert run_module(sandbox, MODULE, {"topic_arn": topic, "kms_key_id": alias_arn})["changed"] is False

    # Already encrypted with another key: check mode says so, the real run switches, the rerun is quiet.
    change = {"topic_arn": topic, "kms_key_id": other_arn}
    result = run_module(sandbox, MODULE, change, check=True, diff=True)
    assert result["changed"] is True
    assert result["diff"]["before"]["kms_key_arn"] == logs_arn and result["diff"]["after"]["kms_key_arn"] == other_arn
    assert mutating(sandbox) == []
    assert run_module(sandbox, MODULE, change)["changed"] is True
    assert topic_key(sandbox, topic) == other_arn
    sandbox.clear_requests()
    assert run_module(sandbox, MODULE, change)["changed"] is False
    assert mutating(sandbox) == []

    # Absent: check mode, for real (KmsMasterKeyId emptied), idempotent.
    absent = {"topic_arn": topic, "state": "absent"}
    result = run_module(sandbox, MODULE, absent, check=True, diff=True)
    assert result["changed"] is True and result["diff"]["after"] == {"kms_master_key_id": None, "kms_key_arn": None}
    assert mutating(sandbox) == []
    assert topic_key(sandbox, topic) == other_arn
    result = run_module(sandbox, MODULE, absent)
    assert result["changed"] is True and result["kms_key_arn"] is None
    assert mutating(sandbox) == [("sns", "SetTopicAttributes", REGION)]
    assert not topic_key(sandbox, topic)
    sandbox.clear_requests()
    assert run_module(sandbox, MODULE, absent)["changed"] is False
    assert mutating(sandbox) == []


def test_topic_set_by_alias_elsewhere_is_recognised(estate):
    """A topic someone encrypted by alias name: GetTopicAttributes returns the alias; the ARN is the same key."""
    sandbox, topic, keys = estate
    sns = sandbox.client("sns", REGION)
    sns.set_topic_attributes(TopicArn=topic, AttributeName="KmsMasterKeyId", AttributeValue="alias/medcircle-logs")
    sandbox.clear_requests()
    result = run_module(sandbox, MODULE, {"topic_arn": topic, "kms_key_id": keys["alias/medcircle-logs"]["Arn"]})
    assert result["changed"] is False
    assert result["kms_master_key_id"] == "alias/medcircle-logs"
    assert result["kms_key_arn"] == keys["alias/medcircle-logs"]["Arn"]
    assert mutating(sandbox) == []

    # ... and by the other alias it is a different key.
    result = run_module(sandbox, MODULE, {"topic_arn": topic, "kms_key_id": "alias/medcircle-other"}, check=True)
    assert result["changed"] is True
    assert mutating(sandbox) == []


@pytest.mark.parametrize(
    ("args", "named"),
    [
        ({"kms_key_id": "alias/medcircle-logs", "topic_arn": "medcircle-security-alerts"}, "topic_arn medcircle-"),
        ({"kms_key_id": "medcircle-logs"}, "kms_key_id medcircle-logs is not a well-formed KMS key reference"),
        ({"kms_key_id": "alias/missing"}, "kms_key_id alias/missing was not found in us-east-1"),
        (
            {"kms_key_id": "arn:aws:kms:us-west-2:123456789012:alias/medcircle-logs"},
            "is a KMS ARN in us-west-2 and cannot be used in us-east-1",
        ),
        ({"state": "present"}, "kms_key_id is required when state is present"),
        (
            {"kms_key_id": "alias/medcircle-logs", "topic_arn": f"arn:aws:sns:{REGION}:{ACCOUNT}:nope"},
            "does not exist in us-east-1",
        ),
    ],
)
def test_bad_input_fails_before_any_change(estate, args, named):
    sandbox, topic, _keys = estate
    result = run_module(sandbox, MODULE, {"topic_arn": topic, **args})
    assert result["failed"] is True
    assert named in result["msg"], result["msg"]
    assert mutating(sandbox) == []
    assert topic_key(sandbox, topic) is None


def test_disabled_key_is_refused(estate):
    sandbox, topic, keys = estate
    sandbox.client("kms", REGION).disable_key(KeyId=keys["alias/medcircle-other"]["KeyId"])
    sandbox.clear_requests()
    result = run_module(sandbox, MODULE, {"topic_arn": topic, "kms_key_id": "alias/medcircle-other"})
    assert result["failed"] is True and "which is Disabled" in result["msg"], result["msg"]
    assert mutating(sandbox) == []
