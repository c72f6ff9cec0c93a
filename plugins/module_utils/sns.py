# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Server-side encryption of SNS topics with a KMS key (the security alert topic of finding 2.11).

Used by the sns_topic_encryption module. Functions take boto3 clients (wrapped by
AnsibleAWSModule.client with a retry decorator) and never the module, so the
logic is tested with botocore's Stubber.

A topic's encryption is its ``KmsMasterKeyId`` attribute. GetTopicAttributes
returns it exactly as it was set (a key id, a key ARN, an alias name or an alias
ARN), so the current and the requested key are both resolved to a key ARN with
KMS DescribeKey (read-only) before they are compared. The module sets the key
ARN, so the topic keeps its key even if an alias is later pointed elsewhere.
Setting ``KmsMasterKeyId`` to an empty string turns encryption off.
"""

import re

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.medcircle.cloudops.plugins.module_utils.common import ParameterError
from ansible_collections.medcircle.cloudops.plugins.module_utils.kms import (
    describe_kms_key,
    parse_kms_key_id,
    require_usable_kms_key,
)

# arn:<partition>:sns:<region>:<account>:<topic name, 1-256 letters, digits, - or _, .fifo for FIFO topics>
TOPIC_ARN_PATTERN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):sns:(?P<region>[a-z0-9-]+):(?P<account>[0-9]{12}):"
    r"(?P<name>[A-Za-z0-9_-]{1,256}(\.fifo)?)$"
)
TOPIC_ARN_ALLOWED = "a topic ARN such as arn:aws:sns:us-east-1:123456789012:medcircle-security-alerts"


class SnsError(AnsibleAWSError):
    pass


class SnsErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = SnsError

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code("NotFound")


def parse_topic_arn(value, option="topic_arn"):
    """The region of a well-formed topic ARN; raises ParameterError otherwise."""
    match = TOPIC_ARN_PATTERN.match(value) if isinstance(value, str) else None
    if not match:
        raise ParameterError(option, value, "is not a well-formed SNS topic ARN", TOPIC_ARN_ALLOWED)
    return match.group("region")


@SnsErrorHandler.list_error_handler("read the topic's attributes (sns:GetTopicAttributes)")
def get_topic_attributes(client, topic_arn):
    """The topic's attributes, or None when the topic does not exist."""
    return client.get_topic_attributes(TopicArn=topic_arn, aws_retry=True)["Attributes"]


@SnsErrorHandler.common_error_handler("set the topic's KMS key (sns:SetTopicAttributes KmsMasterKeyId)")
def set_topic_kms_key(client, topic_arn, value):
    client.set_topic_attributes(
        TopicArn=topic_arn, AttributeName="KmsMasterKeyId", AttributeValue=value, aws_retry=True
    )


def resolve_current_key(kms_client, value):
    """The key ARN behind the topic's current KmsMasterKeyId, or None if KMS no longer knows it."""
    if not value:
        return None
    metadata = describe_kms_key(kms_client, value)
    return metadata["Arn"] if metadata else None


def ensure_topic_encryption(sns_client, kms_client, topic_arn, state="present", kms_key_id=None, check_mode=False):
    """Encrypt the topic with ``kms_key_id`` (state=present) or turn its encryption off (state=absent).

    Every input is checked, and the requested key looked up, before any change. Returns
    {changed, topic_arn, kms_master_key_id, kms_key_arn, diff}; in check mode nothing is changed
    and the result says what would be.
    """
    region = parse_topic_arn(topic_arn)
    wanted_arn = None
    if state == "present":
        if not kms_key_id:
            raise ParameterError(
                "kms_key_id", None, "is required when state is present", "a key id, alias name, key ARN or alias ARN"
            )
        ref = parse_kms_key_id(kms_key_id)
        wanted_arn = require_usable_kms_key(kms_client, ref, region)["Arn"]

    attributes = get_topic_attributes(sns_client, topic_arn)
    if attributes is None:
        raise ParameterError(
            "topic_arn",
            topic_arn,
            f"does not exist in {region}",
            "an existing topic (create it first, for example with community.aws.sns_topic)",
        )
    current_value = attributes.get("KmsMasterKeyId") or None
    if current_value is None:
        current_arn = None
    elif wanted_arn is not None and current_value == wanted_arn:
        current_arn = wanted_arn
    else:
        current_arn = resolve_current_key(kms_client, current_value)

    before = {"kms_master_key_id": current_value, "kms_key_arn": current_arn}
    if state == "present":
        changed = current_arn != wanted_arn
        after = {"kms_master_key_id": wanted_arn, "kms_key_arn": wanted_arn} if changed else dict(before)
        new_value = wanted_arn
    else:
        changed = current_value is not None
        after = {"kms_master_key_id": None, "kms_key_arn": None}
        new_value = ""
    if changed and not check_mode:
        set_topic_kms_key(sns_client, topic_arn, new_value)
    return {
        "changed": changed,
        "topic_arn": topic_arn,
        "kms_master_key_id": after["kms_master_key_id"],
        "kms_key_arn": after["kms_key_arn"],
        "diff": {"before": before, "after": after},
    }
