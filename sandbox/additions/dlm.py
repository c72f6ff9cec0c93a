"""Amazon Data Lifecycle Manager, which moto lacks entirely: lifecycle policies and their tags.

CreateLifecyclePolicy, GetLifecyclePolicies, GetLifecyclePolicy, UpdateLifecyclePolicy,
DeleteLifecyclePolicy, TagResource, UntagResource and ListTagsForResource, kept per account and region in
a store here. As on AWS, the execution role must be an IAM role that exists (in moto's IAM), the state is
ENABLED or DISABLED, and a policy is stored and answered with its details as given.
"""

import copy
import datetime
import re
import threading
import uuid

from sandbox.additions import AdditionError, addition, on_reset

_POLICIES: dict[tuple[str, str], dict[str, dict]] = {}
_lock = threading.Lock()

_STATES = ("ENABLED", "DISABLED")
_POLICY_TYPES = ("EBS_SNAPSHOT_MANAGEMENT", "IMAGE_MANAGEMENT", "EVENT_BASED_POLICY")
_DESCRIPTION = re.compile(r"^[0-9A-Za-z _-]{0,500}$")
_ROLE_ARN = re.compile(r"^arn:aws(-[a-z]{1,3}){0,2}:iam::\d+:role/.+$")
_POLICY_ARN = re.compile(r"^arn:aws(-[a-z]{1,3}){0,2}:dlm:([A-Za-z0-9_/.-]{0,63}):(\d+):policy/([0-9A-Za-z_-]{1,128})$")
_MAX_TAGS = 45


@on_reset
def _clear() -> None:
    with _lock:
        _POLICIES.clear()


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def _invalid(message: str) -> AdditionError:
    return AdditionError("InvalidRequestException", message, 400)


def _not_found(ids: list[str]) -> AdditionError:
    return AdditionError("ResourceNotFoundException", f"Policy not found: {', '.join(ids)}", 404)


def _store(ctx) -> dict[str, dict]:
    return _POLICIES.setdefault((ctx.account_id, ctx.region), {})


# --- validation -----------------------------------------------------------------------------------------


def _check_role(ctx, arn: str) -> None:
    if not _ROLE_ARN.match(arn or ""):
        raise _invalid(f"ExecutionRoleArn {arn!r} is not a valid IAM role ARN")
    iam = ctx.backend("iam", "global")
    try:
        iam.get_role_by_arn(arn)
    except Exception:  # moto's IAMNotFoundException: no such role
        raise _invalid(f"The role {arn} does not exist or cannot be assumed by dlm.amazonaws.com") from None


def _check_state(state) -> None:
    if state not in _STATES:
        raise _invalid(f"State {state!r} is not valid; allowed values: {', '.join(_STATES)}")


def _check_description(description) -> None:
    if description is None or not _DESCRIPTION.match(description):
        raise _invalid("Description must be at most 500 characters of letters, digits, spaces, '_' and '-'")


def _check_tags(tags: dict) -> None:
    if len(tags) > _MAX_TAGS:
        raise _invalid(f"A policy can have at most {_MAX_TAGS} tags")
    for key in tags:
        if not key or key.lower().startswith("aws:"):
            raise _invalid(f"Tag key {key!r} is not valid: it must not be empty or start with 'aws:'")


def _check_details(details: dict) -> None:
    """The members AWS requires for each policy type."""
    policy_type = details.get("PolicyType", "EBS_SNAPSHOT_MANAGEMENT")
    if policy_type not in _POLICY_TYPES:
        raise _invalid(f"PolicyType {policy_type!r} is not valid; allowed values: {', '.join(_POLICY_TYPES)}")
    if policy_type == "EVENT_BASED_POLICY":
        missing = [name for name in ("EventSource", "Actions") if not details.get(name)]
    else:
        missing = [name for name in ("ResourceTypes", "TargetTags", "Schedules") if not details.get(name)]
    if missing:
        raise _invalid(f"PolicyDetails of a {policy_type} policy need {', '.join(missing)}")
    if policy_type == "IMAGE_MANAGEMENT" and details.get("ResourceTypes") != ["INSTANCE"]:
        raise _invalid("An IMAGE_MANAGEMENT policy targets ResourceTypes ['INSTANCE'] only")
    schedules = details.get("Schedules") or []
    if len(schedules) > 4:
        raise _invalid("A policy can have at most 4 schedules")
    for schedule in schedules:
        rule = schedule.get("CreateRule") or {}
        if rule.get("Interval") is not None and rule.get("CronExpression"):
            raise _invalid("CreateRule takes either Interval and IntervalUnit or CronExpression, not both")
        for copy_rule in schedule.get("CrossRegionCopyRules") or []:
            if copy_rule.get("Encrypted") is None:
                raise _invalid("CrossRegionCopyRules need Encrypted")
            if not (copy_rule.get("TargetRegion") or copy_rule.get("Target")):
                raise _invalid("CrossRegionCopyRules need TargetRegion or Target")


def _default_details(ctx, kind: str) -> dict:
    """The simplified policy details of a default policy (DefaultPolicy VOLUME or INSTANCE)."""
    details = {
        "PolicyLanguage": "SIMPLIFIED",
        "PolicyType": "EBS_SNAPSHOT_MANAGEMENT" if kind == "VOLUME" else "IMAGE_MANAGEMENT",
        "ResourceType": kind,
        "CreateInterval": int(ctx.param("CreateInterval", 1)),
        "RetainInterval": int(ctx.param("RetainInterval", 7)),
        "CopyTags": bool(ctx.param("CopyTags", False)),
        "ExtendDeletion": bool(ctx.param("ExtendDeletion", False)),
    }
    if ctx.param("CrossRegionCopyTargets"):
        details["CrossRegionCopyTargets"] = ctx.params["CrossRegionCopyTargets"]
    if ctx.param("Exclusions"):
        details["Exclusions"] = ctx.params["Exclusions"]
    return details


def _policy(ctx, policy_id: str) -> dict:
    policy = _store(ctx).get(policy_id)
    if policy is None:
        raise _not_found([policy_id])
    return policy


# --- policies -------------------------------------------------------------------------------------------


def _example_role(client, name: str) -> str:
    trust = (
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
        '"Principal": {"Service": "dlm.amazonaws.com"}, "Action": "sts:AssumeRole"}]}'
    )
    return client("iam").create_role(RoleName=name, AssumeRolePolicyDocument=trust)["Role"]["Arn"]


EXAMPLE_DETAILS = {
    "PolicyType": "EBS_SNAPSHOT_MANAGEMENT",
    "ResourceTypes": ["VOLUME"],
    "TargetTags": [{"Key": "Backup", "Value": "daily"}],
    "Schedules": [
        {
            "Name": "daily",
            "CreateRule": {"Interval": 24, "IntervalUnit": "HOURS", "Times": ["03:00"]},
            "RetainRule": {"Count": 7},
        }
    ],
}


def _example_policy(client) -> dict:
    role = _example_role(client, "example-dlm-role")
    created = client("dlm").create_lifecycle_policy(
        ExecutionRoleArn=role, Description="example", State="ENABLED", PolicyDetails=EXAMPLE_DETAILS
    )
    return {"PolicyId": created["PolicyId"]}


def _example_create(client) -> dict:
    role = _example_role(client, "example-dlm-role")
    return {
        "ExecutionRoleArn": role,
        "Description": "example",
        "State": "ENABLED",
        "PolicyDetails": EXAMPLE_DETAILS,
        "Tags": {"Project": "example"},
    }


@addition("dlm", "CreateLifecyclePolicy", example=_example_create)
def create_lifecycle_policy(ctx):
    role = ctx.require("ExecutionRoleArn")
    description = ctx.require("Description")
    state = ctx.require("State")
    _check_state(state)
    _check_description(description)
    tags = dict(ctx.param("Tags", {}))
    _check_tags(tags)
    default = ctx.param("DefaultPolicy")
    details = ctx.param("PolicyDetails")
    if default is not None:
        if default not in ("VOLUME", "INSTANCE"):
            raise _invalid(f"DefaultPolicy {default!r} is not valid; allowed values: VOLUME, INSTANCE")
        if details is not None:
            raise _invalid("DefaultPolicy and PolicyDetails cannot be used together")
        details = _default_details(ctx, default)
    elif details is None:
        raise _invalid("PolicyDetails is required for a custom policy")
    else:
        _check_details(details)
    _check_role(ctx, role)
    with _lock:
        store = _store(ctx)
        if default is not None:
            for other in store.values():
                if other["DefaultPolicy"] and (other["PolicyDetails"] or {}).get("ResourceType") == default:
                    raise _invalid(
                        f"A default policy for {default} already exists in {ctx.region}: {other['PolicyId']}"
                    )
        policy_id = "policy-" + uuid.uuid4().hex[:17]
        now = _now()
        store[policy_id] = {
            "PolicyId": policy_id,
            "Description": description,
            "State": state,
            "StatusMessage": state,
            "ExecutionRoleArn": role,
            "DateCreated": now,
            "DateModified": now,
            "PolicyDetails": copy.deepcopy(details),
            "Tags": tags,
            "PolicyArn": f"arn:{_partition(ctx.region)}:dlm:{ctx.region}:{ctx.account_id}:policy/{policy_id}",
            "DefaultPolicy": default is not None,
        }
    return {"PolicyId": policy_id}


@addition("dlm", "GetLifecyclePolicy", example=_example_policy)
def get_lifecycle_policy(ctx):
    with _lock:
        return {"Policy": copy.deepcopy(_policy(ctx, ctx.require("PolicyId")))}


def _pairs(values, what: str) -> set[tuple[str, str]]:
    pairs = set()
    for value in values or []:
        key, sep, tag_value = value.partition("=")
        if not sep or not key:
            raise _invalid(f"{what} filter {value!r} is not in the form key=value")
        pairs.add((key, tag_value))
    return pairs


def _tag_pairs(tags) -> set[tuple[str, str]]:
    return {(tag.get("Key"), tag.get("Value")) for tag in tags or []}


@addition("dlm", "GetLifecyclePolicies", example={})
def get_lifecycle_policies(ctx):
    ids = ctx.param("PolicyIds") or []
    state = ctx.param("State")
    if state is not None and state not in (*_STATES, "ERROR"):
        raise _invalid(f"State {state!r} is not valid; allowed values: ENABLED, DISABLED, ERROR")
    resource_types = set(ctx.param("ResourceTypes") or [])
    if resource_types - {"VOLUME", "INSTANCE"}:
        raise _invalid("ResourceTypes filter values must be VOLUME or INSTANCE")
    target_tags = _pairs(ctx.param("TargetTags"), "TargetTags")
    tags_to_add = _pairs(ctx.param("TagsToAdd"), "TagsToAdd")
    default_type = ctx.param("DefaultPolicyType")
    if default_type is not None and default_type not in ("VOLUME", "INSTANCE", "ALL"):
        raise _invalid(f"DefaultPolicyType {default_type!r} is not valid; allowed values: VOLUME, INSTANCE, ALL")
    with _lock:
        store = _store(ctx)
        missing = [policy_id for policy_id in ids if policy_id not in store]
        if missing:
            raise _not_found(missing)
        policies = sorted(store.values(), key=lambda p: (p["DateCreated"], p["PolicyId"]))
        summaries = []
        for policy in policies:
            details = policy["PolicyDetails"] or {}
            if ids and policy["PolicyId"] not in ids:
                continue
            if state is not None and policy["State"] != state:
                continue
            if default_type is not None:
                if not policy["DefaultPolicy"]:
                    continue
                if default_type != "ALL" and details.get("ResourceType") != default_type:
                    continue
            types = set(
                details.get("ResourceTypes") or ([details["ResourceType"]] if "ResourceType" in details else [])
            )
            if resource_types and not resource_types & types:
                continue
            if target_tags and not target_tags & _tag_pairs(details.get("TargetTags")):
                continue
            if tags_to_add:
                added = set()
                for schedule in details.get("Schedules") or []:
                    added |= _tag_pairs(schedule.get("TagsToAdd"))
                if not tags_to_add & added:
                    continue
            summaries.append(
                {
                    "PolicyId": policy["PolicyId"],
                    "Description": policy["Description"],
                    "State": policy["State"],
                    "Tags": dict(policy["Tags"]),
                    "PolicyType": details.get("PolicyType", "EBS_SNAPSHOT_MANAGEMENT"),
                    "DefaultPolicy": policy["DefaultPolicy"],
                }
            )
    return {"Policies": summaries}


@addition("dlm", "UpdateLifecyclePolicy", example=_example_policy)
def update_lifecycle_policy(ctx):
    policy_id = ctx.require("PolicyId")
    with _lock:
        _policy(ctx, policy_id)
    changes = {}
    if ctx.param("ExecutionRoleArn") is not None:
        _check_role(ctx, ctx.params["ExecutionRoleArn"])
        changes["ExecutionRoleArn"] = ctx.params["ExecutionRoleArn"]
    if ctx.param("State") is not None:
        _check_state(ctx.params["State"])
        changes["State"] = changes["StatusMessage"] = ctx.params["State"]
    if ctx.param("Description") is not None:
        _check_description(ctx.params["Description"])
        changes["Description"] = ctx.params["Description"]
    with _lock:
        policy = _policy(ctx, policy_id)
        if ctx.param("PolicyDetails") is not None:
            if policy["DefaultPolicy"]:
                raise _invalid("The details of a default policy are changed with its own parameters, not PolicyDetails")
            _check_details(ctx.params["PolicyDetails"])
            changes["PolicyDetails"] = copy.deepcopy(ctx.params["PolicyDetails"])
        if policy["DefaultPolicy"]:
            details = copy.deepcopy(policy["PolicyDetails"])
            for name in ("CreateInterval", "RetainInterval", "CopyTags", "ExtendDeletion"):
                if ctx.param(name) is not None:
                    details[name] = ctx.params[name]
            for name in ("CrossRegionCopyTargets", "Exclusions"):
                if ctx.param(name) is not None:
                    details[name] = ctx.params[name]
            changes["PolicyDetails"] = details
        policy.update(changes)
        policy["DateModified"] = _now()
    return {}


@addition("dlm", "DeleteLifecyclePolicy", example=_example_policy)
def delete_lifecycle_policy(ctx):
    policy_id = ctx.require("PolicyId")
    with _lock:
        _policy(ctx, policy_id)
        del _store(ctx)[policy_id]
    return {}


# --- tags -----------------------------------------------------------------------------------------------


def _by_arn(ctx, arn: str) -> dict:
    match = _POLICY_ARN.match(arn or "")
    if not match:
        raise _invalid(f"ResourceArn {arn!r} is not a valid lifecycle policy ARN")
    region, account, policy_id = match.group(2), match.group(3), match.group(4)
    policy = _POLICIES.get((account, region), {}).get(policy_id)
    if policy is None or account != ctx.account_id or region != ctx.region:
        raise _not_found([policy_id])
    return policy


def _example_arn(client) -> dict:
    policy_id = _example_policy(client)["PolicyId"]
    return client("dlm").get_lifecycle_policy(PolicyId=policy_id)["Policy"]["PolicyArn"]


@addition("dlm", "TagResource", example=lambda client: {"ResourceArn": _example_arn(client), "Tags": {"Team": "ops"}})
def tag_resource(ctx):
    arn = ctx.require("ResourceArn")
    tags = ctx.require("Tags")
    with _lock:
        policy = _by_arn(ctx, arn)
        merged = {**policy["Tags"], **tags}
        _check_tags(merged)
        policy["Tags"] = merged
    return {}


@addition("dlm", "UntagResource", example=lambda client: {"ResourceArn": _example_arn(client), "TagKeys": ["Team"]})
def untag_resource(ctx):
    arn = ctx.require("ResourceArn")
    keys = ctx.require("TagKeys")
    with _lock:
        policy = _by_arn(ctx, arn)
        policy["Tags"] = {key: value for key, value in policy["Tags"].items() if key not in keys}
    return {}


@addition("dlm", "ListTagsForResource", example=lambda client: {"ResourceArn": _example_arn(client)})
def list_tags_for_resource(ctx):
    arn = ctx.require("ResourceArn")
    with _lock:
        return {"Tags": dict(_by_arn(ctx, arn)["Tags"])}
