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

from sandbox.additions import AdditionError, ControlError, addition, control, kms_policies, on_reset

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


# --- running a policy now (control route) ------------------------------------------------------------------
#
# AWS runs a policy on its schedule; ``POST /_sandbox/dlm/run`` runs it now: {"region", "policy_id",
# "at" (optional ISO time the run happens at, to age snapshots for retention tests)}. For each schedule it
# snapshots the target-tagged volumes (or every volume of the target-tagged instances; AMIs for an
# IMAGE_MANAGEMENT policy) in moto's EC2, tags them with the schedule's TagsToAdd, the source's tags when
# CopyTags, and the ``aws:dlm:lifecycle-policy-id`` / ``aws:dlm:lifecycle-schedule-name`` tags DLM adds, applies
# the retain rule (oldest first), and makes the cross-region copies (encrypted with the rule's key) with their
# own retention.

_UNIT_DAYS = {"DAYS": 1, "WEEKS": 7, "MONTHS": 30, "YEARS": 365}


def _ec2(account: str, region: str):
    from moto.backends import get_backend

    return get_backend("ec2")[account][region]


def _tags_of(obj) -> dict:
    return {tag["key"]: tag["value"] for tag in obj.get_tags()}


def _targets(ec2, resource_types, target_tags) -> list:
    wanted = {(t["Key"], t["Value"]) for t in target_tags}
    matched = []
    if "VOLUME" in resource_types:
        matched += [v for v in ec2.volumes.values() if wanted & set(_tags_of(v).items())]
    if "INSTANCE" in resource_types:
        matched += [
            i
            for i in ec2.all_instances()
            if i.state not in ("terminated", "shutting-down") and wanted & set(_tags_of(i).items())
        ]
    return matched


def _age_limit(rule: dict) -> datetime.timedelta | None:
    if rule.get("Interval") and rule.get("IntervalUnit"):
        return datetime.timedelta(days=int(rule["Interval"]) * _UNIT_DAYS[rule["IntervalUnit"]])
    return None


def _retain(ec2, items: list, rule: dict, at: datetime.datetime, delete) -> list[str]:
    """Apply a retain rule to one source's snapshots or images (oldest first); the ids deleted."""
    items = sorted(items, key=lambda item: item[1])
    doomed = []
    if rule.get("Count"):
        doomed = items[: max(0, len(items) - int(rule["Count"]))]
    limit = _age_limit(rule)
    if limit is not None:
        doomed += [item for item in items if at - item[1] > limit and item not in doomed]
    for obj_id, _ in doomed:
        delete(obj_id)
    return [obj_id for obj_id, _ in doomed]


def _snapshot_time(snapshot) -> datetime.datetime:
    when = snapshot.start_time
    return when if when.tzinfo else when.replace(tzinfo=datetime.UTC)


@control("dlm/run", "POST")
def run_policy(query, payload):
    from sandbox import DEFAULT_ACCOUNT_ID

    payload = payload or {}
    region = payload.get("region") or query.get("region") or "us-east-1"
    account = str(payload.get("account_id") or DEFAULT_ACCOUNT_ID)
    policy_id = payload.get("policy_id") or query.get("policy_id")
    at = payload.get("at")
    try:
        at = datetime.datetime.fromisoformat(at) if at else _now()
    except ValueError:
        raise ControlError(f"'at' {at!r} is not an ISO 8601 time") from None
    if at.tzinfo is None:
        at = at.replace(tzinfo=datetime.UTC)
    with _lock:
        policy = _POLICIES.get((account, region), {}).get(policy_id)
        if policy is None:
            raise ControlError(f"no lifecycle policy {policy_id!r} in {region}", 404)
        policy = copy.deepcopy(policy)
    if policy["State"] != "ENABLED":
        raise ControlError(f"policy {policy_id} is {policy['State']}: AWS runs only ENABLED policies", 409)
    details = policy["PolicyDetails"] or {}
    if policy["DefaultPolicy"] or details.get("PolicyType") == "EVENT_BASED_POLICY":
        raise ControlError("only custom EBS_SNAPSHOT_MANAGEMENT and IMAGE_MANAGEMENT policies can be run", 400)
    ec2 = _ec2(account, region)
    images = details.get("PolicyType") == "IMAGE_MANAGEMENT"
    out = {"policy_id": policy_id, "region": region, "created": [], "deleted": [], "copies": [], "deleted_copies": []}
    for schedule in details.get("Schedules") or []:
        name = schedule.get("Name") or "schedule"
        dlm_tags = {"aws:dlm:lifecycle-policy-id": policy_id, "aws:dlm:lifecycle-schedule-name": name}
        made = []  # (source id, new id, tags)
        for target in _targets(ec2, details.get("ResourceTypes") or [], details.get("TargetTags") or []):
            source_tags = {k: v for k, v in _tags_of(target).items() if not k.startswith("aws:")}
            tags = {**(source_tags if schedule.get("CopyTags") else {}), **_tag_dict(schedule.get("TagsToAdd"))}
            tags.update(dlm_tags)
            if images:
                ami = ec2.create_image(target.id, f"dlm-{policy_id}-{target.id}-{uuid.uuid4().hex[:8]}", name, [])
                ami.creation_date = at
                ec2.create_tags([ami.id], {**tags, "cloudops:source-instance": target.id})
                made.append((target.id, ami.id, tags))
                continue
            volumes = (
                [target]
                if hasattr(target, "size")
                else [ec2.get_volume(m.volume_id) for _, m in target.get_block_device_mapping]
            )
            for volume in volumes:
                snap = ec2.create_snapshot(volume.id, f"Created for policy: {policy_id} schedule: {name}")
                snap.start_time = at
                extra = {"cloudops:source-volume": volume.id}
                if not hasattr(target, "size"):
                    extra["cloudops:source-instance"] = target.id
                ec2.create_tags([snap.id], {**tags, **extra})
                made.append((volume.id, snap.id, tags))
        out["created"] += [new_id for _, new_id, _ in made]
        # retention of this schedule's snapshots, per source
        out["deleted"] += _apply_retention(ec2, policy_id, name, schedule.get("RetainRule") or {}, at, images)
        for rule in schedule.get("CrossRegionCopyRules") or []:
            target_region = rule.get("TargetRegion") or rule.get("Target")
            dest = _ec2(account, target_region)
            for source_id, new_id, tags in made:
                # DLM copies with the policy's role: it must be able to read the source key and write the copy's
                if images:
                    source_key = getattr(ec2.amis[new_id].ebs_snapshot, "kms_key_id", None)
                else:  # moto leaves the key of an encrypted volume's snapshot empty; on AWS it is the volume's
                    made_snapshot = ec2.snapshots[new_id]
                    source_key = made_snapshot.kms_key_id or getattr(made_snapshot.volume, "kms_key_id", None)
                copy_key = rule.get("CmkArn") if rule.get("Encrypted") else None
                refused = kms_policies.refusal(
                    account,
                    policy.get("ExecutionRoleArn"),
                    [
                        (region, source_key, kms_policies.READ_ACTIONS),
                        (target_region, copy_key, kms_policies.WRITE_ACTIONS),
                    ],
                    "ec2",
                )
                if refused:  # AWS: this copy fails (CloudWatch metric SnapshotsCopiedRegionFailed); the others go on
                    out.setdefault("errors", []).append({"region": target_region, "source": new_id, "error": refused})
                    continue
                copy_tags = {**(tags if rule.get("CopyTags") else {}), **dlm_tags}
                copy_tags.update({"cloudops:source-region": region, "cloudops:source-snapshot": new_id})
                if images:
                    ami = dest.copy_image(new_id, region, None, f"Copy of {new_id} by policy {policy_id}")
                    ami.creation_date = at
                    ami.ebs_snapshot.encrypted = bool(rule.get("Encrypted"))
                    ami.ebs_snapshot.kms_key_id = rule.get("CmkArn")
                    dest.create_tags([ami.id], {**copy_tags, "cloudops:source-instance": source_id})
                    out["copies"].append({"region": target_region, "id": ami.id, "source": new_id})
                    continue
                snap = dest.copy_snapshot(new_id, region, f"Copied for policy: {policy_id} from {region}", None)
                snap.start_time = at
                if rule.get("Encrypted"):
                    snap.encrypted = True
                    snap.kms_key_id = rule.get("CmkArn") or f"arn:aws:kms:{target_region}:{account}:alias/aws/ebs"
                source_tags = {"cloudops:source-volume": source_id}
                instance_id = _tags_of(ec2.snapshots[new_id]).get("cloudops:source-instance")
                if instance_id:
                    source_tags["cloudops:source-instance"] = instance_id
                dest.create_tags([snap.id], {**copy_tags, **source_tags})
                out["copies"].append({"region": target_region, "id": snap.id, "source": new_id})
            out["deleted_copies"] += _apply_retention(
                dest, policy_id, name, rule.get("RetainRule") or {}, at, images, copies_from=region
            )
    return out


def _tag_dict(tags) -> dict:
    return {t["Key"]: t["Value"] for t in tags or []}


def _apply_retention(ec2, policy_id, schedule, rule, at, images, copies_from=None) -> list[str]:
    by_source: dict[str, list] = {}

    def mine(tags):
        if (
            tags.get("aws:dlm:lifecycle-policy-id") != policy_id
            or tags.get("aws:dlm:lifecycle-schedule-name") != schedule
        ):
            return False
        return tags.get("cloudops:source-region") == copies_from

    if images:
        for ami in list(ec2.amis.values()):
            tags = _tags_of(ami)
            if mine(tags):
                when = ami.creation_date if isinstance(ami.creation_date, datetime.datetime) else at
                when = when if when.tzinfo else when.replace(tzinfo=datetime.UTC)
                by_source.setdefault(tags.get("cloudops:source-instance", ""), []).append((ami.id, when))

        def delete(ami_id):
            snapshot = ec2.amis[ami_id].ebs_snapshot.id
            ec2.deregister_image(ami_id)
            ec2.snapshots.pop(snapshot, None)

    else:
        for snap in list(ec2.snapshots.values()):
            tags = _tags_of(snap)
            if mine(tags):
                by_source.setdefault(tags.get("cloudops:source-volume", ""), []).append((snap.id, _snapshot_time(snap)))

        def delete(snapshot_id):
            ec2.delete_snapshot(snapshot_id)

    deleted = []
    for items in by_source.values():
        deleted += _retain(ec2, items, rule, at, delete)
    return deleted
