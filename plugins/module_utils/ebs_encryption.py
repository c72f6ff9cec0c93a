# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""EBS encryption by default and its default KMS key, per region.

Used by the ec2_ebs_encryption_default and ec2_ebs_encryption_default_info
modules. Every function takes boto3 clients (wrapped by AnsibleAWSModule.client
with a retry decorator, so calls pass ``aws_retry=True``) and never the module,
so the logic is tested with botocore's Stubber.

The work is split so that bad input never leaves a half-done change:

1. validate_kms_key_option(): the form of kms_key_id against every target
   region, without calling AWS.
2. plan_region(): read-only calls (GetEbsEncryptionByDefault,
   GetEbsDefaultKmsKeyId, kms DescribeKey) in one region; works out what would
   change and raises ParameterError if the key is missing or unusable there.
3. apply_plan(): the mutating calls, only where the plan says so.

ensure_ebs_encryption() plans every region before it applies any.
"""

import re

from ansible_collections.amazon.aws.plugins.module_utils.ec2 import AnsibleEC2Error
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.medcircle.cloudops.plugins.module_utils.kms import (
    check_kms_key_region,
    describe_kms_key,
    parse_kms_key_id,
    require_usable_kms_key,
)

# The AWS managed key for EBS. Naming it in kms_key_id resets the default key
# (ResetEbsDefaultKmsKeyId) instead of pointing the default at a customer key.
AWS_MANAGED_KEY_ALIAS = "alias/aws/ebs"
AWS_MANAGED_KEY_NAMES = ("aws/ebs", AWS_MANAGED_KEY_ALIAS)
_AWS_MANAGED_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:alias/aws/ebs$")


class EbsEncryptionErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = AnsibleEC2Error


# --- EC2 API calls -----------------------------------------------------------


@EbsEncryptionErrorHandler.common_error_handler("get EBS encryption by default")
def get_ebs_encryption_by_default(client):
    return client.get_ebs_encryption_by_default(aws_retry=True)["EbsEncryptionByDefault"]


@EbsEncryptionErrorHandler.common_error_handler("get the default EBS KMS key")
def get_ebs_default_kms_key_id(client):
    return client.get_ebs_default_kms_key_id(aws_retry=True)["KmsKeyId"]


@EbsEncryptionErrorHandler.common_error_handler("enable EBS encryption by default")
def enable_ebs_encryption_by_default(client):
    return client.enable_ebs_encryption_by_default(aws_retry=True)["EbsEncryptionByDefault"]


@EbsEncryptionErrorHandler.common_error_handler("disable EBS encryption by default")
def disable_ebs_encryption_by_default(client):
    return client.disable_ebs_encryption_by_default(aws_retry=True)["EbsEncryptionByDefault"]


@EbsEncryptionErrorHandler.common_error_handler("set the default EBS KMS key")
def modify_ebs_default_kms_key_id(client, kms_key_id):
    return client.modify_ebs_default_kms_key_id(KmsKeyId=kms_key_id, aws_retry=True)["KmsKeyId"]


@EbsEncryptionErrorHandler.common_error_handler("reset the default EBS KMS key to the AWS managed key")
def reset_ebs_default_kms_key_id(client):
    return client.reset_ebs_default_kms_key_id(aws_retry=True)["KmsKeyId"]


# --- Logic ---------------------------------------------------------------------


def is_aws_managed_key(kms_key_id):
    """True for the names and the alias ARN of the AWS managed EBS key."""
    return kms_key_id in AWS_MANAGED_KEY_NAMES or bool(_AWS_MANAGED_KEY_ARN.match(kms_key_id or ""))


def describe_ebs_encryption(client, region):
    """The region's setting as AWS reports it (kms_key_id is an ARN: key or alias)."""
    return {
        "region": region,
        "ebs_encryption_by_default": get_ebs_encryption_by_default(client),
        "kms_key_id": get_ebs_default_kms_key_id(client),
    }


def validate_kms_key_option(kms_key_id, regions, option="kms_key_id"):
    """Check the form of kms_key_id for every target region, without calling AWS.

    Returns None when no key is asked for, AWS_MANAGED_KEY_ALIAS for the AWS
    managed key, or the parsed KmsKeyRef of a customer key.
    """
    if kms_key_id is None:
        return None
    if is_aws_managed_key(kms_key_id):
        return AWS_MANAGED_KEY_ALIAS
    ref = parse_kms_key_id(kms_key_id, option)
    for region in regions:
        check_kms_key_region(ref, region, option)
    return ref


def _key_arn(kms_client, kms_key_id):
    """The key ARN behind any reference (alias ARN, key ARN, ...); None if KMS does not know it."""
    metadata = describe_kms_key(kms_client, kms_key_id)
    return metadata["Arn"] if metadata else None


def plan_region(ec2_client, kms_client, region, enabled, key, option="kms_key_id"):
    """Read one region and work out its changes. Makes read-only calls only.

    ``enabled`` is the wanted encryption-by-default setting; ``key`` is what
    validate_kms_key_option() returned. Raises ParameterError if the key is
    missing or unusable in this region.
    """
    before = describe_ebs_encryption(ec2_client, region)
    after = dict(before)
    plan = {"region": region, "before": before, "after": after, "set_encryption": None, "set_key": None}

    if key == AWS_MANAGED_KEY_ALIAS:
        if not is_aws_managed_key(before["kms_key_id"]):
            managed_arn = _key_arn(kms_client, AWS_MANAGED_KEY_ALIAS)
            if managed_arn is None or _key_arn(kms_client, before["kms_key_id"]) != managed_arn:
                plan["set_key"] = AWS_MANAGED_KEY_ALIAS
                after["kms_key_id"] = managed_arn or AWS_MANAGED_KEY_ALIAS
    elif key is not None:
        wanted_arn = require_usable_kms_key(kms_client, key, region, option)["Arn"]
        current = before["kms_key_id"]
        if current != wanted_arn and _key_arn(kms_client, current) != wanted_arn:
            plan["set_key"] = key.value
            after["kms_key_id"] = wanted_arn

    if before["ebs_encryption_by_default"] != enabled:
        plan["set_encryption"] = enabled
        after["ebs_encryption_by_default"] = enabled

    plan["changed"] = plan["set_key"] is not None or plan["set_encryption"] is not None
    return plan


def apply_plan(ec2_client, plan):
    """Make the plan's changes in its region. Returns the region's new state.

    The default key is set before encryption is turned on, so no volume is
    created with the old key in between.
    """
    after = dict(plan["before"])
    if plan["set_key"] == AWS_MANAGED_KEY_ALIAS:
        after["kms_key_id"] = reset_ebs_default_kms_key_id(ec2_client)
    elif plan["set_key"] is not None:
        after["kms_key_id"] = modify_ebs_default_kms_key_id(ec2_client, plan["set_key"])
    if plan["set_encryption"] is True:
        after["ebs_encryption_by_default"] = enable_ebs_encryption_by_default(ec2_client)
    elif plan["set_encryption"] is False:
        after["ebs_encryption_by_default"] = disable_ebs_encryption_by_default(ec2_client)
    return after


def ensure_ebs_encryption(ec2_clients, kms_clients, regions, enabled, kms_key_id=None, check_mode=False):
    """Bring every region to the wanted setting.

    ``ec2_clients`` and ``kms_clients`` map region -> client. All regions are
    read and validated before any change is made; in check mode nothing is
    changed and the would-be state is returned.

    Returns a dict: changed, regions (one entry per region: region,
    ebs_encryption_by_default, kms_key_id, changed) and diff (before/after
    keyed by region).
    """
    key = validate_kms_key_option(kms_key_id, regions)
    plans = [plan_region(ec2_clients[region], kms_clients.get(region), region, enabled, key) for region in regions]

    results = []
    diff = {"before": {}, "after": {}}
    for plan in plans:
        region = plan["region"]
        after = apply_plan(ec2_clients[region], plan) if plan["changed"] and not check_mode else plan["after"]
        results.append(
            {
                "region": region,
                "ebs_encryption_by_default": after["ebs_encryption_by_default"],
                "kms_key_id": after["kms_key_id"],
                "changed": plan["changed"],
            }
        )
        diff["before"][region] = _diff_view(plan["before"])
        diff["after"][region] = _diff_view(after)

    return {"changed": any(r["changed"] for r in results), "regions": results, "diff": diff}


def _diff_view(state):
    return {"ebs_encryption_by_default": state["ebs_encryption_by_default"], "kms_key_id": state["kms_key_id"]}
