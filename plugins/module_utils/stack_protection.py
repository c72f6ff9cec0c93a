# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Termination protection of CloudFormation stacks, swept over regions (finding 5.2).

Used by the cloudformation_termination_protection module. Functions take boto3
clients (wrapped by AnsibleAWSModule.client with a retry decorator) and never
the module, so the logic is tested with botocore's Stubber.

1. validate_selection(): the name patterns, before any AWS call.
2. plan_region(): one paginated DescribeStacks per region; every stack is
   selected or not, skipped (nested stacks, stacks being deleted) or planned.
3. apply_plan(): UpdateTerminationProtection, one call per stack that differs.

ensure_termination_protection() plans every region before it changes any.
"""

import fnmatch

from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.medcircle.cloudops.plugins.module_utils.common import ParameterError

# Stacks in these states cannot be changed (or are on their way out); they are reported, never touched.
SKIPPED_STATUSES = ("DELETE_IN_PROGRESS", "DELETE_COMPLETE")


class StackProtectionError(AnsibleAWSError):
    pass


class StackProtectionErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = StackProtectionError


@StackProtectionErrorHandler.common_error_handler("describe CloudFormation stacks")
def describe_stacks(client):
    paginator = client.get_paginator("describe_stacks")
    return AWSRetry.jittered_backoff()(paginator.paginate().build_full_result)().get("Stacks", [])


@StackProtectionErrorHandler.common_error_handler("update the termination protection of a CloudFormation stack")
def update_termination_protection(client, stack_id, enabled):
    return client.update_termination_protection(
        StackName=stack_id, EnableTerminationProtection=enabled, aws_retry=True
    )["StackId"]


def validate_selection(stack_names, exclude_stack_names, tags, state):
    """Check the selection options; raise ParameterError naming the option."""
    for option, patterns in (("stack_names", stack_names), ("exclude_stack_names", exclude_stack_names)):
        for pattern in patterns:
            if not isinstance(pattern, str) or not pattern.strip():
                raise ParameterError(
                    option,
                    pattern,
                    "is not a stack name pattern",
                    "stack names or shell-style patterns such as medcircle-* (not empty)",
                )
    for key, value in (tags or {}).items():
        if not isinstance(key, str) or not key or value is None:
            raise ParameterError(
                "tags",
                {key: value},
                "is not a tag filter",
                "a dict of tag keys to values, such as {Project: medcircle}",
            )
    if state == "disabled" and (not stack_names or any(ch in p for p in stack_names for ch in "*?[")):
        raise ParameterError(
            "stack_names",
            stack_names,
            "must name the stacks when state is disabled (turning protection off is never a sweep)",
            "exact stack names, without wildcards",
        )


def _matches(name, patterns):
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns)


def _tags(stack):
    return {t["Key"]: t["Value"] for t in stack.get("Tags") or []}


def select_stack(stack, stack_names, exclude_stack_names, tags):
    """True when the stack is in the selection (names, exclusions, tags)."""
    name = stack["StackName"]
    if stack_names and not _matches(name, stack_names):
        return False
    if exclude_stack_names and _matches(name, exclude_stack_names):
        return False
    stack_tags = _tags(stack)
    return all(stack_tags.get(key) == str(value) for key, value in (tags or {}).items())


def plan_region(client, region, stack_names, exclude_stack_names, tags, enabled):
    """Every selected stack of the region with what would happen to it (read-only)."""
    planned = []
    for stack in describe_stacks(client):
        if not select_stack(stack, stack_names, exclude_stack_names, tags):
            continue
        before = bool(stack.get("EnableTerminationProtection"))
        entry = {
            "region": region,
            "stack_name": stack["StackName"],
            "stack_id": stack["StackId"],
            "stack_status": stack.get("StackStatus"),
            "termination_protection_before": before,
            "termination_protection": before,
            "changed": False,
            "skipped": None,
        }
        if stack.get("ParentId"):
            entry["skipped"] = "nested stack of %s: protection follows its root stack %s" % (
                stack["ParentId"],
                stack.get("RootId") or stack["ParentId"],
            )
        elif stack.get("StackStatus") in SKIPPED_STATUSES:
            entry["skipped"] = "stack status %s" % stack.get("StackStatus")
        elif before != enabled:
            entry["termination_protection"] = enabled
            entry["changed"] = True
        planned.append(entry)
    return planned


def apply_plan(client, planned, enabled):
    for entry in planned:
        if entry["changed"]:
            update_termination_protection(client, entry["stack_id"], enabled)


def ensure_termination_protection(
    clients, regions, stack_names=None, exclude_stack_names=None, tags=None, state="enabled", check_mode=False
):
    """Plan every region, then (unless check_mode) change the stacks that differ.

    Returns {changed, stacks, summary, diff}.
    """
    stack_names = list(stack_names or [])
    exclude_stack_names = list(exclude_stack_names or [])
    validate_selection(stack_names, exclude_stack_names, tags, state)
    enabled = state == "enabled"
    plans = {
        region: plan_region(clients[region], region, stack_names, exclude_stack_names, tags, enabled)
        for region in regions
    }
    if state == "disabled":
        found = {entry["stack_name"] for planned in plans.values() for entry in planned}
        missing = [name for name in stack_names if name not in found]
        if missing:
            raise ParameterError(
                "stack_names",
                missing,
                "not found in regions %s" % ", ".join(regions),
                "names of existing stacks",
            )
    if not check_mode:
        for region in regions:
            apply_plan(clients[region], plans[region], enabled)
    stacks = [entry for region in regions for entry in plans[region]]
    summary = {
        "selected": len(stacks),
        "changed": sum(1 for e in stacks if e["changed"]),
        "already": sum(1 for e in stacks if not e["changed"] and not e["skipped"]),
        "skipped": sum(1 for e in stacks if e["skipped"]),
    }
    diff = {
        "before": {"%s/%s" % (e["region"], e["stack_name"]): e["termination_protection_before"] for e in stacks},
        "after": {"%s/%s" % (e["region"], e["stack_name"]): e["termination_protection"] for e in stacks},
    }
    return {"changed": summary["changed"] > 0, "stacks": stacks, "summary": summary, "diff": diff}
