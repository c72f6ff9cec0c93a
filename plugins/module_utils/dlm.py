# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Data Lifecycle Manager policies for the dlm_policy and dlm_policy_info modules.

- build_policy(): checks the module's options (schedules, retention, copy rules, keys) and turns them into
  the CreateLifecyclePolicy request. Every problem is a ParameterError naming the option, before any call.
- find_policies(): the policies in a region, with their details, optionally only the one owned by a name
  (the tag ``cloudops:dlm-policy`` = name, set by dlm_policy on every policy it creates).
- ensure_policy(): create, update (only what differs) or delete the named policy; check mode calls only reads.

Functions take a client (wrapped with AWSRetry, called with ``aws_retry=True``), so they are tested with
botocore's Stubber.
"""

import copy
import re

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.medcircle.cloudops.plugins.module_utils.common import ParameterError, validate_regions

OWNER_TAG = "cloudops:dlm-policy"
POLICY_TYPES = ("EBS_SNAPSHOT_MANAGEMENT", "IMAGE_MANAGEMENT")
RESOURCE_TYPES = ("VOLUME", "INSTANCE")
HOURS = (1, 2, 3, 4, 6, 8, 12, 24)
RETAIN_UNITS = ("DAYS", "WEEKS", "MONTHS", "YEARS")
TIME = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
CRON = re.compile(r"^cron\((\S+ ){5}\S+\)$")
DESCRIPTION = re.compile(r"^[0-9A-Za-z _-]{1,500}$")
ROLE_ARN = re.compile(r"^arn:aws(-[a-z]{1,3}){0,2}:iam::\d{12}:role/.+$")
KEY_ARN = re.compile(r"^arn:aws(-[a-z]{1,3}){0,2}:kms:([a-z0-9-]+):\d{12}:(key|alias)/.+$")
NAME = re.compile(r"^[0-9A-Za-z _-]{1,120}$")

# Throttling codes of the JSON APIs that AWSRetry does not retry by itself.
THROTTLED = ["ThrottlingException"]


def _tag_list(tags):
    return [{"Key": str(k), "Value": str(v)} for k, v in sorted((tags or {}).items())]


def _check_tags(option, tags):
    for key in tags or {}:
        if str(key).startswith("aws:"):
            raise ParameterError(option, key, "is a reserved tag key", "keys that do not start with aws:")


def _retain_rule(option, count, interval, unit, allow_count=True):
    if count is not None and interval is not None:
        raise ParameterError(option, None, "sets both a count and an interval", "one of them")
    if count is not None:
        if not allow_count:
            raise ParameterError(f"{option}.retain_count", count, "is not allowed here", "retain_interval")
        if not 1 <= int(count) <= 1000:
            raise ParameterError(f"{option}.retain_count", count, "is out of range", "1 to 1000")
        return {"Count": int(count)}
    if interval is None:
        allowed = "retain_count (1-1000) or retain_interval" if allow_count else "retain_interval"
        raise ParameterError(option, None, "has no retention", allowed)
    if int(interval) < 1:
        raise ParameterError(f"{option}.retain_interval", interval, "is out of range", "1 or more")
    unit = (unit or "DAYS").upper()
    if unit not in RETAIN_UNITS:
        raise ParameterError(f"{option}.retain_interval_unit", unit, "is not a retention unit", ", ".join(RETAIN_UNITS))
    return {"Interval": int(interval), "IntervalUnit": unit}


def _create_rule(option, schedule):
    interval, cron, times = schedule.get("interval"), schedule.get("cron_expression"), schedule.get("times")
    if (interval is None) == (cron is None):
        raise ParameterError(option, None, "must set exactly one of interval and cron_expression")
    if cron is not None:
        if times:
            raise ParameterError(f"{option}.times", times, "cannot be combined with cron_expression")
        if not CRON.match(cron):
            raise ParameterError(
                f"{option}.cron_expression",
                cron,
                "is not a DLM cron expression",
                "cron(minutes hours day-of-month month day-of-week year), for example cron(0 3 ? * SUN *)",
            )
        return {"CronExpression": cron}
    if int(interval) not in HOURS:
        raise ParameterError(
            f"{option}.interval", interval, "is not an interval DLM accepts", "hours 1, 2, 3, 4, 6, 8, 12 or 24"
        )
    rule = {"Interval": int(interval), "IntervalUnit": "HOURS"}
    if times:
        if len(times) != 1 or not TIME.match(str(times[0])):
            raise ParameterError(
                f"{option}.times", times, "is not one UTC start time", 'one time as HH:MM, for example ["03:00"]'
            )
        rule["Times"] = [str(times[0])]
    return rule


def _copy_rules(option, rules, source_region, encrypted_default):
    if len(rules) > 3:
        raise ParameterError(option, len(rules), "copy rules are too many", "at most 3 per schedule")
    out = []
    seen = set()
    for index, rule in enumerate(rules):
        where = f"{option}[{index}]"
        region = rule.get("target_region")
        if not region:
            raise ParameterError(f"{where}.target_region", None, "is required")
        validate_regions([region], option=f"{where}.target_region")
        if region == source_region:
            raise ParameterError(
                f"{where}.target_region",
                region,
                "is the policy's own region; a cross-region copy must go to another region",
            )
        if region in seen:
            raise ParameterError(f"{where}.target_region", region, "appears twice in the same schedule")
        seen.add(region)
        encrypted = rule.get("encrypted")
        encrypted = encrypted_default if encrypted is None else encrypted
        item = {"TargetRegion": region, "Encrypted": bool(encrypted), "CopyTags": bool(rule.get("copy_tags", True))}
        key = rule.get("cmk_arn")
        if key:
            match = KEY_ARN.match(key)
            if not match:
                raise ParameterError(
                    f"{where}.cmk_arn", key, "is not a KMS key or alias ARN", "arn:aws:kms:<region>:<account>:key/<id>"
                )
            if match.group(2) != region:
                raise ParameterError(
                    f"{where}.cmk_arn",
                    key,
                    f"is a key in {match.group(2)}, not in the target region {region}",
                    f"a key ARN in {region}",
                )
            if not encrypted:
                raise ParameterError(f"{where}.encrypted", encrypted, "must be true when cmk_arn is set")
            item["CmkArn"] = key
        item["RetainRule"] = _retain_rule(
            where, None, rule.get("retain_interval"), rule.get("retain_interval_unit"), allow_count=False
        )
        out.append(item)
    return out


def build_policy(params, region):
    """The CreateLifecyclePolicy request (without tags) for the module options; raises ParameterError."""
    name = params["name"]
    if not NAME.match(name or ""):
        raise ParameterError("name", name, "is not a policy name", "1 to 120 letters, digits, spaces, '_' or '-'")
    description = params.get("description") or f"cloudops {name}"
    if not DESCRIPTION.match(description):
        raise ParameterError(
            "description", description, "is not a DLM description", "1 to 500 letters, digits, spaces, '_' or '-'"
        )
    role = params.get("execution_role_arn")
    if not role or not ROLE_ARN.match(role):
        raise ParameterError("execution_role_arn", role, "is not an IAM role ARN", "arn:aws:iam::<account>:role/<name>")
    policy_type = params.get("policy_type") or "EBS_SNAPSHOT_MANAGEMENT"
    resource_types = [r.upper() for r in params.get("resource_types") or ["VOLUME"]]
    for resource in resource_types:
        if resource not in RESOURCE_TYPES:
            raise ParameterError("resource_types", resource, "is not a target resource type", ", ".join(RESOURCE_TYPES))
    if policy_type == "IMAGE_MANAGEMENT" and resource_types != ["INSTANCE"]:
        raise ParameterError("resource_types", resource_types, "must be [INSTANCE] for an IMAGE_MANAGEMENT policy")
    target_tags = params.get("target_tags") or {}
    if not target_tags:
        raise ParameterError("target_tags", target_tags, "is empty", "at least one tag, e.g. {Backup: daily}")
    _check_tags("target_tags", target_tags)
    schedules = params.get("schedules") or []
    if not 1 <= len(schedules) <= 4:
        raise ParameterError("schedules", len(schedules), "schedules is not an allowed number", "1 to 4")
    names = set()
    built = []
    for index, schedule in enumerate(schedules):
        where = f"schedules[{index}]"
        sname = schedule.get("name") or ""
        if not re.match(r"^[0-9A-Za-z _-]{1,120}$", sname):
            raise ParameterError(
                f"{where}.name", sname, "is not a schedule name", "1 to 120 letters, digits, spaces, '_' or '-'"
            )
        if sname in names:
            raise ParameterError(f"{where}.name", sname, "is used by two schedules")
        names.add(sname)
        _check_tags(f"{where}.tags_to_add", schedule.get("tags_to_add"))
        item = {
            "Name": sname,
            "CopyTags": bool(schedule.get("copy_tags", True)),
            "CreateRule": _create_rule(where, schedule),
            "RetainRule": _retain_rule(
                where,
                schedule.get("retain_count"),
                schedule.get("retain_interval"),
                schedule.get("retain_interval_unit"),
            ),
        }
        if schedule.get("tags_to_add"):
            item["TagsToAdd"] = _tag_list(schedule["tags_to_add"])
        zones = schedule.get("fast_restore_availability_zones") or []
        if zones:
            if policy_type != "EBS_SNAPSHOT_MANAGEMENT":
                raise ParameterError(
                    f"{where}.fast_restore_availability_zones", zones, "needs an EBS_SNAPSHOT_MANAGEMENT policy"
                )
            bad = [z for z in zones if not str(z).startswith(region)]
            if bad:
                raise ParameterError(f"{where}.fast_restore_availability_zones", bad, f"are not zones of {region}")
            item["FastRestoreRule"] = {
                "AvailabilityZones": sorted(zones),
                "Count": int(schedule.get("fast_restore_count") or 1),
            }
        copies = _copy_rules(f"{where}.cross_region_copy", schedule.get("cross_region_copy") or [], region, True)
        if copies:
            item["CrossRegionCopyRules"] = copies
        built.append(item)
    details = {
        "PolicyType": policy_type,
        "ResourceTypes": resource_types,
        "TargetTags": _tag_list(target_tags),
        "Schedules": built,
    }
    if policy_type == "IMAGE_MANAGEMENT":
        details["Parameters"] = {"NoReboot": bool(params.get("no_reboot", True))}
    _check_tags("tags", params.get("tags"))
    return {
        "ExecutionRoleArn": role,
        "Description": description,
        "State": "ENABLED" if params.get("enabled", True) else "DISABLED",
        "PolicyDetails": details,
    }


def _covers(have, want):
    """Whether ``have`` (what AWS answers, with its own defaults) holds everything in ``want``."""
    if isinstance(want, dict):
        return isinstance(have, dict) and all(_covers(have.get(k), v) for k, v in want.items())
    if isinstance(want, list):
        if not isinstance(have, list) or len(have) != len(want):
            return False
        if all(isinstance(w, dict) and "Key" in w for w in want):
            return sorted((h.get("Key"), h.get("Value")) for h in have) == sorted((w["Key"], w["Value"]) for w in want)
        return all(_covers(have[i], want[i]) for i in range(len(want)))
    return have == want


def _tags(policy):
    return dict(policy.get("Tags") or {})


def _view(policy):
    """The comparable/returned view of a policy (as AWS answers GetLifecyclePolicy)."""
    if not policy:
        return {}
    return {
        "policy_id": policy.get("PolicyId"),
        "policy_arn": policy.get("PolicyArn"),
        "description": policy.get("Description"),
        "state": policy.get("State"),
        "execution_role_arn": policy.get("ExecutionRoleArn"),
        "policy_details": copy.deepcopy(policy.get("PolicyDetails") or {}),
        "tags": _tags(policy),
    }


def find_policies(client, name=None, policy_ids=None, state=None):
    """Policies in the client's region with their details; ``name`` keeps only the one owned by that name."""
    query = {}
    if policy_ids:
        query["PolicyIds"] = list(policy_ids)
    if state:
        query["State"] = state
    summaries = client.get_lifecycle_policies(aws_retry=True, **query).get("Policies", [])
    out = []
    for summary in summaries:
        tags = summary.get("Tags") or {}
        if name is not None and tags.get(OWNER_TAG) != name:
            continue
        if summary.get("PolicyType") == "EVENT_BASED_POLICY" or summary.get("DefaultPolicy"):
            policy = dict(summary)
        else:
            policy = client.get_lifecycle_policy(aws_retry=True, PolicyId=summary["PolicyId"])["Policy"]
        out.append(policy)
    return out


def ensure_policy(client, params, region, check_mode):
    """Make the named policy match ``params`` (state present) or delete it (absent).

    Returns {changed, policy (view after), diff {before, after}}; check mode makes only read calls.
    """
    name = params["name"]
    if not NAME.match(name or ""):
        raise ParameterError("name", name, "is not a policy name", "1 to 120 letters, digits, spaces, '_' or '-'")
    wanted = build_policy(params, region) if params["state"] == "present" else None
    found = find_policies(client, name=name)
    if len(found) > 1:
        ids = ", ".join(p["PolicyId"] for p in found)
        raise AnsibleAWSError(
            message=f"more than one DLM policy in {region} carries {OWNER_TAG}={name} ({ids}); delete the extra ones"
        )
    current = found[0] if found else None
    before = _view(current)

    if wanted is None:
        if current is None:
            return {"changed": False, "policy": {}, "diff": {"before": {}, "after": {}}}
        if not check_mode:
            client.delete_lifecycle_policy(aws_retry=True, PolicyId=current["PolicyId"])
        return {"changed": True, "policy": {}, "diff": {"before": before, "after": {}}}

    tags = {**(params.get("tags") or {}), OWNER_TAG: name}
    tags = {str(k): str(v) for k, v in tags.items()}
    if current is None:
        after = {
            "policy_id": None,
            "policy_arn": None,
            "description": wanted["Description"],
            "state": wanted["State"],
            "execution_role_arn": wanted["ExecutionRoleArn"],
            "policy_details": wanted["PolicyDetails"],
            "tags": tags,
        }
        if check_mode:
            return {"changed": True, "policy": after, "diff": {"before": {}, "after": after}}
        policy_id = client.create_lifecycle_policy(aws_retry=True, Tags=tags, **wanted)["PolicyId"]
        policy = client.get_lifecycle_policy(aws_retry=True, PolicyId=policy_id)["Policy"]
        return {"changed": True, "policy": _view(policy), "diff": {"before": {}, "after": _view(policy)}}

    update = {}
    for key in ("ExecutionRoleArn", "Description", "State"):
        if current.get(key) != wanted[key]:
            update[key] = wanted[key]
    if not _covers(current.get("PolicyDetails") or {}, wanted["PolicyDetails"]):
        update["PolicyDetails"] = wanted["PolicyDetails"]
    have_tags = _tags(current)
    add = {k: v for k, v in tags.items() if have_tags.get(k) != v}
    remove = []
    if params.get("purge_tags", True):
        remove = [k for k in have_tags if k not in tags and not k.startswith("aws:")]
    changed = bool(update or add or remove)
    after = _view(current)
    after.update(
        {
            "description": wanted["Description"],
            "state": wanted["State"],
            "execution_role_arn": wanted["ExecutionRoleArn"],
            "tags": {**{k: v for k, v in have_tags.items() if k not in remove}, **add},
        }
    )
    if "PolicyDetails" in update:
        after["policy_details"] = wanted["PolicyDetails"]
    if check_mode or not changed:
        return {"changed": changed, "policy": after if changed else before, "diff": {"before": before, "after": after}}
    if update:
        client.update_lifecycle_policy(aws_retry=True, PolicyId=current["PolicyId"], **update)
    if add:
        client.tag_resource(aws_retry=True, ResourceArn=current["PolicyArn"], Tags=add)
    if remove:
        client.untag_resource(aws_retry=True, ResourceArn=current["PolicyArn"], TagKeys=remove)
    policy = client.get_lifecycle_policy(aws_retry=True, PolicyId=current["PolicyId"])["Policy"]
    return {"changed": True, "policy": _view(policy), "diff": {"before": before, "after": _view(policy)}}


def policy_view(policy):
    """The returned view of a policy: snake_case top level, PolicyDetails as AWS answers it."""
    return _view(policy)
