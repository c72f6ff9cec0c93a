# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Batched hardening of many EC2 instances at once.

Used by the ec2_instance_hardening module. Every function takes boto3 clients
(wrapped by AnsibleAWSModule.client with a retry decorator, so calls pass
``aws_retry=True``) and never the module, so the logic is tested with
botocore's Stubber.

The work is split so that bad input never leaves a half-done change:

1. validate_settings() / validate_instance_ids(): the form of every option,
   without calling AWS.
2. plan(): read-only calls only. One paginated DescribeInstances for the
   whole selection; DescribeInstanceAttribute only for the protection
   settings that were asked for; DescribeIamInstanceProfileAssociations (one
   paginated call per 200 instances) only when an instance profile is asked
   for; iam GetInstanceProfile once
   to check that the wanted profile exists. Raises ParameterError for an
   instance id that does not exist or a profile that does not exist.
3. apply(): one modify call per setting that differs, per instance.

Instances in an Auto Scaling group (tag ``aws:autoscaling:groupName``) are
skipped for termination protection by default: Auto Scaling terminates them
whatever DisableApiTermination says (use scale-in protection instead), so the
setting would only block operators, never the group.
"""

import contextlib
import re

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    import botocore.exceptions

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.ec2 import AnsibleEC2Error
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.medcircle.cloudops.plugins.module_utils.common import ParameterError

INSTANCE_ID = re.compile(r"^i-[0-9a-f]{8}([0-9a-f]{9})?$")
PROFILE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::[0-9]{12}:instance-profile/(?:[\w+=,.@/-]*/)?([\w+=,.@-]{1,128})$")
PROFILE_NAME = re.compile(r"^[\w+=,.@-]{1,128}$")
ASG_TAG = "aws:autoscaling:groupName"
# States in which an instance's settings can be read and changed.
LIVE_STATES = ["pending", "running", "stopping", "stopped"]
# DescribeInstances accepts at most 200 values per filter.
FILTER_CHUNK = 200
SETTINGS = (
    "http_tokens",
    "http_put_response_hop_limit",
    "http_endpoint",
    "termination_protection",
    "stop_protection",
    "iam_instance_profile",
)
METADATA_SETTINGS = ("http_tokens", "http_put_response_hop_limit", "http_endpoint")
ATTRIBUTES = {"termination_protection": "disableApiTermination", "stop_protection": "disableApiStop"}


class InstanceHardeningErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = AnsibleEC2Error


# --- AWS API calls -------------------------------------------------------------


def _retried(build_full_result):
    """Run a paginator's build_full_result, retrying the whole listing on throttling."""
    return AWSRetry.jittered_backoff()(build_full_result)()


@InstanceHardeningErrorHandler.list_error_handler("describe instances", [])
def describe_instances(client, filters):
    paginator = client.get_paginator("describe_instances")
    pages = _retried(paginator.paginate(Filters=filters, PaginationConfig={"PageSize": 1000}).build_full_result)
    return [instance for reservation in pages.get("Reservations", []) for instance in reservation["Instances"]]


@InstanceHardeningErrorHandler.common_error_handler("describe an instance attribute")
def describe_instance_attribute(client, instance_id, attribute):
    answer = client.describe_instance_attribute(InstanceId=instance_id, Attribute=attribute, aws_retry=True)
    key = attribute[0].upper() + attribute[1:]
    return bool((answer.get(key) or {}).get("Value", False))


@InstanceHardeningErrorHandler.list_error_handler("describe instance profile associations", [])
def describe_profile_associations(client, instance_ids):
    paginator = client.get_paginator("describe_iam_instance_profile_associations")
    associations = []
    for start in range(0, len(instance_ids), FILTER_CHUNK):
        chunk = instance_ids[start : start + FILTER_CHUNK]
        pages = _retried(
            paginator.paginate(
                Filters=[{"Name": "instance-id", "Values": chunk}, {"Name": "state", "Values": ["associated"]}]
            ).build_full_result
        )
        associations.extend(pages.get("IamInstanceProfileAssociations", []))
    return {a["InstanceId"]: (a["AssociationId"], a["IamInstanceProfile"]["Arn"]) for a in associations}


@InstanceHardeningErrorHandler.common_error_handler("modify instance metadata options")
def modify_metadata_options(client, instance_id, options):
    return client.modify_instance_metadata_options(InstanceId=instance_id, aws_retry=True, **options)


@InstanceHardeningErrorHandler.common_error_handler("modify an instance attribute")
def modify_instance_attribute(client, instance_id, attribute, value):
    key = attribute[0].upper() + attribute[1:]
    return client.modify_instance_attribute(InstanceId=instance_id, aws_retry=True, **{key: {"Value": value}})


@InstanceHardeningErrorHandler.common_error_handler("associate an instance profile")
def associate_profile(client, instance_id, profile_arn):
    return client.associate_iam_instance_profile(
        InstanceId=instance_id, IamInstanceProfile={"Arn": profile_arn}, aws_retry=True
    )


@InstanceHardeningErrorHandler.common_error_handler("replace an instance profile association")
def replace_profile(client, association_id, profile_arn):
    return client.replace_iam_instance_profile_association(
        AssociationId=association_id, IamInstanceProfile={"Arn": profile_arn}, aws_retry=True
    )


def get_instance_profile_arn(iam_client, name, option="iam_instance_profile"):
    """The ARN of the instance profile ``name``; ParameterError if IAM does not know it."""
    try:
        return iam_client.get_instance_profile(InstanceProfileName=name, aws_retry=True)["InstanceProfile"]["Arn"]
    except is_boto3_error_code("NoSuchEntity"):
        raise ParameterError(
            option, name, "is not an existing IAM instance profile", "the name or ARN of an instance profile"
        ) from None
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
        raise AnsibleEC2Error(message="Failed to get the instance profile %s" % name, exception=e) from e


# --- Validation (no AWS call) ---------------------------------------------------


def validate_instance_ids(instance_ids, option="instance_ids"):
    """Well-formed, without duplicates, in the order given."""
    result = []
    for instance_id in instance_ids or []:
        if not isinstance(instance_id, str) or not INSTANCE_ID.match(instance_id):
            raise ParameterError(
                option, instance_id, "is not a well-formed EC2 instance id", "ids such as i-0123456789abcdef0"
            )
        if instance_id not in result:
            result.append(instance_id)
    return result


def profile_name(value, option="iam_instance_profile"):
    """The instance profile name from a name or an instance profile ARN."""
    match = PROFILE_ARN.match(value)
    if match:
        return match.group(1)
    if PROFILE_NAME.match(value):
        return value
    raise ParameterError(
        option,
        value,
        "is not an instance profile name or ARN",
        "a name such as medcircle-fleet-instance, or an ARN such as "
        "arn:aws:iam::123456789012:instance-profile/medcircle-fleet-instance",
    )


def validate_settings(settings):
    """Check the wanted settings; return them without the ones left unset (None)."""
    wanted = {key: settings.get(key) for key in SETTINGS if settings.get(key) is not None}
    if not wanted:
        raise ParameterError(
            "settings",
            None,
            "are all unset, so there is nothing to enforce",
            "at least one of " + ", ".join(SETTINGS),
        )
    hop = wanted.get("http_put_response_hop_limit")
    if hop is not None and not 1 <= hop <= 64:
        raise ParameterError("http_put_response_hop_limit", hop, "is out of range", "an integer from 1 to 64")
    if "iam_instance_profile" in wanted:
        profile_name(wanted["iam_instance_profile"])
    return wanted


def selection_filters(instance_ids, filters):
    """DescribeInstances filter lists: one per chunk of ids (or one without ids), live states only."""
    base = []
    has_state = False
    for name, value in (filters or {}).items():
        values = value if isinstance(value, list) else [value]
        base.append({"Name": name, "Values": [str(v) for v in values]})
        has_state = has_state or name == "instance-state-name"
    if not has_state:
        base.append({"Name": "instance-state-name", "Values": list(LIVE_STATES)})
    if not instance_ids:
        return [base]
    return [
        [*base, {"Name": "instance-id", "Values": instance_ids[start : start + FILTER_CHUNK]}]
        for start in range(0, len(instance_ids), FILTER_CHUNK)
    ]


# --- Plan ------------------------------------------------------------------------


def _tags(instance):
    return {t["Key"]: t["Value"] for t in instance.get("Tags") or []}


def current_state(instance):
    """The settings this module manages, as DescribeInstances reports them (protection read separately)."""
    metadata = instance.get("MetadataOptions") or {}
    return {
        "http_tokens": metadata.get("HttpTokens", "optional"),
        "http_put_response_hop_limit": metadata.get("HttpPutResponseHopLimit", 1),
        "http_endpoint": metadata.get("HttpEndpoint", "enabled"),
        "iam_instance_profile": (instance.get("IamInstanceProfile") or {}).get("Arn"),
    }


def plan(
    ec2_client,
    iam_client,
    instance_ids,
    filters,
    settings,
    replace_profile_association=False,
    asg_termination_protection=False,
):
    """Read the selection and work out the changes. Read-only calls only.

    Returns a dict: instances (one plan per instance, sorted by id),
    profile_arn, missing (ids asked for that were not found).
    """
    wanted = dict(settings)
    profile_arn = None
    if "iam_instance_profile" in wanted:
        profile_arn = get_instance_profile_arn(iam_client, profile_name(wanted["iam_instance_profile"]))
        wanted["iam_instance_profile"] = profile_arn

    found = {}
    for filter_list in selection_filters(instance_ids, filters):
        for instance in describe_instances(ec2_client, filter_list):
            found[instance["InstanceId"]] = instance
    missing = [i for i in instance_ids if i not in found]
    if missing:
        raise ParameterError(
            "instance_ids",
            ", ".join(missing),
            "not found (or terminated) in this region%s" % (" with the given filters" if filters else ""),
            "ids of existing instances in state %s" % ", ".join(LIVE_STATES),
        )

    # The association is the source of truth for the instance profile (DescribeInstances can lag behind
    # a replacement), and its id is what a replacement needs.
    associations = {}
    if "iam_instance_profile" in wanted:
        associations = describe_profile_associations(ec2_client, sorted(found))

    plans = []
    for instance_id in sorted(found):
        instance = found[instance_id]
        tags = _tags(instance)
        before = current_state(instance)
        association_id = None
        if "iam_instance_profile" in wanted:
            association_id, before["iam_instance_profile"] = associations.get(instance_id, (None, None))
        for setting, attribute in ATTRIBUTES.items():
            if setting in wanted:
                before[setting] = describe_instance_attribute(ec2_client, instance_id, attribute)
        after = dict(before)
        changes = []
        skipped = []
        asg = tags.get(ASG_TAG)
        for setting, value in wanted.items():
            if before.get(setting) == value:
                continue
            if setting == "termination_protection" and asg and not asg_termination_protection:
                skipped.append(
                    "termination_protection: in Auto Scaling group %s, which terminates instances whatever "
                    "DisableApiTermination says; protect the group instead" % asg
                )
                continue
            if setting == "iam_instance_profile" and before[setting] and not replace_profile_association:
                skipped.append(
                    "iam_instance_profile: has %s; set replace_instance_profile to replace it" % before[setting]
                )
                continue
            changes.append(setting)
            after[setting] = value
        plans.append(
            {
                "instance_id": instance_id,
                "name": tags.get("Name"),
                "state": (instance.get("State") or {}).get("Name"),
                "auto_scaling_group": asg,
                "metadata_options": instance.get("MetadataOptions") or {},
                "before": before,
                "after": after,
                "changes": changes,
                "skipped": skipped,
                "association_id": association_id,
            }
        )
    return {"instances": plans, "profile_arn": profile_arn}


# --- Apply -------------------------------------------------------------------------


def _metadata_request(entry):
    """ModifyInstanceMetadataOptions arguments: every managed field, wanted or current.

    All three are sent so the call states the whole wanted setting (an endpoint
    that treats a missing field as "unset" ends up right too).
    """
    after = entry["after"]
    request = {
        "HttpTokens": after["http_tokens"],
        "HttpPutResponseHopLimit": after["http_put_response_hop_limit"],
        "HttpEndpoint": after["http_endpoint"],
    }
    current = entry["metadata_options"]
    for key in ("HttpProtocolIpv6", "InstanceMetadataTags"):
        if current.get(key):
            request[key] = current[key]
    return request


def apply(ec2_client, entry):
    """Make one instance's planned changes: one call per setting that differs."""
    changes = entry["changes"]
    if any(setting in changes for setting in METADATA_SETTINGS):
        modify_metadata_options(ec2_client, entry["instance_id"], _metadata_request(entry))
    for setting, attribute in ATTRIBUTES.items():
        if setting in changes:
            modify_instance_attribute(ec2_client, entry["instance_id"], attribute, entry["after"][setting])
    if "iam_instance_profile" in changes:
        if entry["association_id"]:
            replace_profile(ec2_client, entry["association_id"], entry["after"]["iam_instance_profile"])
        else:
            associate_profile(ec2_client, entry["instance_id"], entry["after"]["iam_instance_profile"])


def _text(value):
    if isinstance(value, bool):
        return str(value).lower()
    return "none" if value is None else str(value)


def ensure_hardening(
    ec2_client,
    iam_client,
    instance_ids,
    filters,
    settings,
    replace_profile_association=False,
    asg_termination_protection=False,
    check_mode=False,
):
    """Plan the whole selection, then change only what differs (nothing in check mode).

    Returns a dict: changed, instances (per instance: instance_id, name, state,
    auto_scaling_group, changed, changes, skipped, before, after), summary
    (matched, changed, unchanged, skipped) and diff (before/after keyed by
    instance id, for the instances that change).
    """
    if not instance_ids and not filters:
        raise ParameterError(
            "instance_ids",
            None,
            "and filters are both empty, so no instance is selected",
            "a list of instance ids, or filters such as {'tag:Role': 'app'}",
        )
    wanted = validate_settings(settings)
    instance_ids = validate_instance_ids(instance_ids)
    result = plan(
        ec2_client,
        iam_client,
        instance_ids,
        filters,
        wanted,
        replace_profile_association=replace_profile_association,
        asg_termination_protection=asg_termination_protection,
    )

    instances = []
    diff = {"before": {}, "after": {}}
    for entry in result["instances"]:
        if entry["changes"] and not check_mode:
            apply(ec2_client, entry)
        view_keys = [key for key in SETTINGS if key in wanted]
        before = {key: entry["before"].get(key) for key in view_keys}
        after = {key: entry["after"].get(key) for key in view_keys}
        instances.append(
            {
                "instance_id": entry["instance_id"],
                "name": entry["name"],
                "state": entry["state"],
                "auto_scaling_group": entry["auto_scaling_group"],
                "changed": bool(entry["changes"]),
                "changes": ["%s: %s -> %s" % (key, _text(before[key]), _text(after[key])) for key in entry["changes"]],
                "skipped": entry["skipped"],
                "before": before,
                "after": after,
            }
        )
        if entry["changes"]:
            diff["before"][entry["instance_id"]] = before
            diff["after"][entry["instance_id"]] = after

    summary = {
        "matched": len(instances),
        "changed": sum(1 for i in instances if i["changed"]),
        "unchanged": sum(1 for i in instances if not i["changed"]),
        "skipped": sum(1 for i in instances if i["skipped"]),
    }
    return {"changed": summary["changed"] > 0, "instances": instances, "summary": summary, "diff": diff}
