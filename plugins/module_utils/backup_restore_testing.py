# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""AWS Backup restore testing plans and their selections, for the backup_restore_testing_plan module.

- check_options(): every option checked before any call (a schedule AWS would refuse, a window out of range,
  a selection without resources...); answers the plan request and the selection requests as AWS takes them.
- ensure_plan(): the plan and its selections as asked (create, update, replace a selection whose resource type
  changed, delete the selections not listed when asked to), or the plan and all its selections gone.
  Check mode makes only read calls and answers the plan.

Every input problem is a ParameterError naming the option, raised before any call.
"""

import contextlib
import re

from ansible_collections.medcircle.cloudops.plugins.module_utils.common import ParameterError

try:
    import zoneinfo
except ImportError:  # pragma: no cover - Python < 3.9
    zoneinfo = None

NAME = re.compile(r"^[a-zA-Z0-9_]{1,50}$")
ROLE_ARN = re.compile(r"^arn:aws(-[a-z]{1,3}){0,2}:iam::\d{12}:role/.+$")
ALGORITHMS = ("LATEST_WITHIN_WINDOW", "RANDOM_WITHIN_WINDOW")
POINT_TYPES = ("SNAPSHOT", "CONTINUOUS")
RESOURCE_TYPES = (
    "Aurora",
    "DocumentDB",
    "DynamoDB",
    "EBS",
    "EC2",
    "EFS",
    "FSx",
    "Neptune",
    "RDS",
    "S3",
)
TAG_PREFIX = "aws:ResourceTag/"

# AWS Backup's cron: cron(minutes hours day-of-month month day-of-week year), one of the two days is "?".
_CRON = re.compile(r"^cron\((\S+) (\S+) (\S+) (\S+) (\S+) (\S+)\)$")
_FIELD = {
    "minutes": re.compile(r"^(\*|\d{1,2}(-\d{1,2})?)(/\d{1,2})?(,\d{1,2}(-\d{1,2})?)*$"),
    "hours": re.compile(r"^(\*|\d{1,2}(-\d{1,2})?)(/\d{1,2})?(,\d{1,2}(-\d{1,2})?)*$"),
    "day-of-month": re.compile(r"^(\?|\*|L|W|\d{1,2}W?(-\d{1,2})?(/\d{1,2})?(,\d{1,2})*)$"),
    "month": re.compile(
        r"^(\*|(\d{1,2}|JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)"
        r"([-,](\d{1,2}|JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC))*(/\d{1,2})?)$",
        re.IGNORECASE,
    ),
    "day-of-week": re.compile(
        r"^(\?|\*|L|([1-7]|SUN|MON|TUE|WED|THU|FRI|SAT)(L|#[1-5])?([-,]([1-7]|SUN|MON|TUE|WED|THU|FRI|SAT))*)$",
        re.IGNORECASE,
    ),
    "year": re.compile(r"^(\*|\d{4}(-\d{4})?(/\d{1,3})?(,\d{4})*)$"),
}
_RANGES = {"minutes": (0, 59), "hours": (0, 23), "day-of-month": (1, 31), "month": (1, 12)}


def check_schedule(expression, option="schedule_expression"):
    """Refuse a schedule AWS Backup would refuse: cron(min hour day month weekday year), one day field '?'."""
    allowed = (
        "cron(minutes hours day-of-month month day-of-week year) with '?' in one of the two day fields, "
        "e.g. cron(0 6 ? * SUN *)"
    )
    match = _CRON.match(expression or "")
    if not match:
        raise ParameterError(option, expression, "is not a schedule AWS Backup accepts", allowed)
    fields = ("minutes", "hours", "day-of-month", "month", "day-of-week", "year")
    values = {field: match.group(index + 1) for index, field in enumerate(fields)}
    for field, value in values.items():
        if not _FIELD[field].match(value):
            raise ParameterError(option, expression, f"has a {field} field ({value}) AWS Backup refuses", allowed)
        low, high = _RANGES.get(field, (None, None))
        if low is not None:
            for number in re.findall(r"(?<![/#])\b\d+", value):
                if not low <= int(number) <= high:
                    raise ParameterError(option, expression, f"has {field} {number}, outside {low}-{high}", allowed)
    if (values["day-of-month"] == "?") == (values["day-of-week"] == "?"):
        raise ParameterError(
            option, expression, "must have '?' in exactly one of day-of-month and day-of-week", allowed
        )


def check_timezone(name, option="schedule_expression_timezone"):
    known = zoneinfo.available_timezones() if zoneinfo is not None else set()
    if known and name not in known and name != "Etc/UTC":
        raise ParameterError(option, name, "is not a time zone name", "an IANA zone such as Etc/UTC or Europe/Berlin")


def _int_in(option, value, low, high):
    if value is not None and not low <= value <= high:
        raise ParameterError(option, value, "is out of range", f"{low} to {high}")


def _conditions(option, conditions):
    out = {}
    for key, api in (("string_equals", "StringEquals"), ("string_not_equals", "StringNotEquals")):
        tags = (conditions or {}).get(key) or {}
        if not isinstance(tags, dict):
            raise ParameterError(f"{option}.{key}", tags, "is not a dict of tag key to value")
        if tags:
            out[api] = [
                {"Key": k if k.startswith(TAG_PREFIX) else TAG_PREFIX + k, "Value": str(v)}
                for k, v in sorted(tags.items())
            ]
    return out


def check_selection(index, selection):
    option = f"selections[{index}]"
    name = selection.get("name")
    if not name or not NAME.match(name):
        raise ParameterError(
            f"{option}.name", name, "is not a restore test selection name", "1-50 letters, digits or _"
        )
    option = f"selections[{name}]"
    rtype = selection.get("protected_resource_type")
    if rtype not in RESOURCE_TYPES:
        raise ParameterError(
            f"{option}.protected_resource_type",
            rtype,
            "is not a resource type restore testing takes",
            ", ".join(RESOURCE_TYPES),
        )
    role = selection.get("iam_role_arn")
    if not role or not ROLE_ARN.match(role):
        raise ParameterError(
            f"{option}.iam_role_arn", role, "is not an IAM role ARN", "arn:aws:iam::<account>:role/<name>"
        )
    arns = selection.get("protected_resource_arns") or []
    conditions = _conditions(f"{option}.protected_resource_conditions", selection.get("protected_resource_conditions"))
    # AWS selects by conditions only together with the wildcard ARN, and never by specific ARNs and conditions
    if (not arns and not conditions) or (conditions and list(arns) not in ([], ["*"])):
        raise ParameterError(
            option,
            None,
            "needs either protected_resource_arns or protected_resource_conditions (conditions only with * or no ARNs)",
            'protected_resource_arns: ["*"] for every resource of the type, '
            "or protected_resource_conditions: {string_equals: {tag: value}}",
        )
    if conditions:
        arns = ["*"]
    for arn in arns:
        if arn != "*" and not str(arn).startswith("arn:"):
            raise ParameterError(
                f"{option}.protected_resource_arns", arn, "is not a resource ARN", "an ARN, or * alone"
            )
    hours = selection.get("validation_window_hours")
    _int_in(f"{option}.validation_window_hours", hours, 0, 168)
    request = {
        "RestoreTestingSelectionName": name,
        "ProtectedResourceType": rtype,
        "IamRoleArn": role,
    }
    if arns:
        request["ProtectedResourceArns"] = list(arns)
    if conditions:
        request["ProtectedResourceConditions"] = conditions
    overrides = selection.get("restore_metadata_overrides") or {}
    if overrides:
        request["RestoreMetadataOverrides"] = {str(k): _text(v) for k, v in overrides.items()}
    if hours is not None:
        request["ValidationWindowHours"] = hours
    return request


def _text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def check_options(params):
    """Validate everything; answers (plan request or None for absent, [selection requests])."""
    name = params.get("name")
    if not name or not NAME.match(name):
        raise ParameterError("name", name, "is not a restore test plan name", "1-50 letters, digits or _")
    if params.get("state", "present") == "absent":
        return None, []
    check_schedule(params.get("schedule_expression"))
    timezone = params.get("schedule_expression_timezone") or "Etc/UTC"
    check_timezone(timezone)
    _int_in("start_window_hours", params.get("start_window_hours"), 1, 168)
    choose = params.get("recovery_point_selection") or {}
    algorithm = choose.get("algorithm") or "LATEST_WITHIN_WINDOW"
    if algorithm not in ALGORITHMS:
        raise ParameterError("recovery_point_selection.algorithm", algorithm, "is not allowed", ", ".join(ALGORITHMS))
    include = choose.get("include_vaults") or []
    if not include:
        raise ParameterError(
            "recovery_point_selection.include_vaults",
            None,
            "must name at least one vault",
            'vault ARNs, or ["*"] for all',
        )
    types = choose.get("recovery_point_types") or ["SNAPSHOT"]
    for kind in types:
        if kind not in POINT_TYPES:
            raise ParameterError(
                "recovery_point_selection.recovery_point_types", kind, "is not allowed", ", ".join(POINT_TYPES)
            )
    window = choose.get("selection_window_days")
    _int_in("recovery_point_selection.selection_window_days", window, 1, 365)
    selection = {
        "Algorithm": algorithm,
        "IncludeVaults": list(include),
        "RecoveryPointTypes": sorted(set(types)),
        "SelectionWindowDays": window if window is not None else 30,
    }
    if choose.get("exclude_vaults"):
        selection["ExcludeVaults"] = list(choose["exclude_vaults"])
    plan = {
        "RestoreTestingPlanName": name,
        "ScheduleExpression": params["schedule_expression"],
        "ScheduleExpressionTimezone": timezone,
        "StartWindowHours": params.get("start_window_hours") or 24,
        "RecoveryPointSelection": selection,
    }
    selections = []
    seen = set()
    for index, item in enumerate(params.get("selections") or []):
        request = check_selection(index, item)
        if request["RestoreTestingSelectionName"] in seen:
            raise ParameterError(
                "selections", request["RestoreTestingSelectionName"], "is listed twice", "unique names"
            )
        seen.add(request["RestoreTestingSelectionName"])
        selections.append(request)
    return plan, selections


# --- reading --------------------------------------------------------------------------------------------------

PLAN_KEYS = ("ScheduleExpression", "ScheduleExpressionTimezone", "StartWindowHours", "RecoveryPointSelection")
SELECTION_KEYS = (
    "IamRoleArn",
    "ProtectedResourceArns",
    "ProtectedResourceConditions",
    "RestoreMetadataOverrides",
    "ValidationWindowHours",
)


def get_plan(client, name):
    try:
        return client.get_restore_testing_plan(aws_retry=True, RestoreTestingPlanName=name)["RestoreTestingPlan"]
    except client.exceptions.ResourceNotFoundException:
        return None


def get_selections(client, name):
    names = []
    kwargs = {"RestoreTestingPlanName": name}
    while True:
        page = client.list_restore_testing_selections(aws_retry=True, **kwargs)
        names.extend(s["RestoreTestingSelectionName"] for s in page.get("RestoreTestingSelections", []))
        if not page.get("NextToken"):
            break
        kwargs["NextToken"] = page["NextToken"]
    out = {}
    for selection in names:
        out[selection] = client.get_restore_testing_selection(
            aws_retry=True, RestoreTestingPlanName=name, RestoreTestingSelectionName=selection
        )["RestoreTestingSelection"]
    return out


def _normal_plan(plan):
    if not plan:
        return None
    choose = dict(plan.get("RecoveryPointSelection") or {})
    choose["RecoveryPointTypes"] = sorted(set(choose.get("RecoveryPointTypes") or []))
    choose.setdefault("ExcludeVaults", [])
    out = {k: plan.get(k) for k in PLAN_KEYS if k != "RecoveryPointSelection"}
    out["RecoveryPointSelection"] = choose
    return out


def _normal_conditions(conditions):
    out = {}
    for key in ("StringEquals", "StringNotEquals"):
        items = (conditions or {}).get(key) or []
        if items:
            out[key] = sorted(
                ({"Key": i["Key"], "Value": i["Value"]} for i in items), key=lambda i: (i["Key"], i["Value"])
            )
    return out


def _normal_selection(selection):
    if not selection:
        return None
    return {
        "ProtectedResourceType": selection.get("ProtectedResourceType"),
        "IamRoleArn": selection.get("IamRoleArn"),
        "ProtectedResourceArns": sorted(selection.get("ProtectedResourceArns") or []),
        "ProtectedResourceConditions": _normal_conditions(selection.get("ProtectedResourceConditions")),
        "RestoreMetadataOverrides": dict(selection.get("RestoreMetadataOverrides") or {}),
        "ValidationWindowHours": int(selection.get("ValidationWindowHours") or 0),
    }


def _snake(name):
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _view(value):
    if isinstance(value, dict):
        # the restore metadata keys are AWS's own names (DBInstanceIdentifier...): kept as they are
        return {
            _snake(k): dict(v) if k == "RestoreMetadataOverrides" and isinstance(v, dict) else _view(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_view(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


# --- changing -------------------------------------------------------------------------------------------------


def _plan_update(current, wanted):
    """The part of the plan that differs (UpdateRestoreTestingPlan's RestoreTestingPlan), {} when none does."""
    have = _normal_plan(current)
    want = _normal_plan(wanted)
    return {k: wanted[k] for k in PLAN_KEYS if have.get(k) != want.get(k)}


def _selection_update(current, wanted):
    have = _normal_selection(current)
    want = _normal_selection(wanted)
    update = {}
    for key in SELECTION_KEYS:
        if have[key] != want[key]:
            update[key] = wanted.get(key) if wanted.get(key) is not None else _empty(key)
    return update


def _empty(key):
    return {"ProtectedResourceArns": [], "ProtectedResourceConditions": {}, "RestoreMetadataOverrides": {}}.get(key, 0)


def ensure_plan(client, params, check_mode):
    """Returns {changed, plan, selections, actions, diff}."""
    wanted, selections = check_options(params)
    name = params["name"]
    current = get_plan(client, name)
    current_selections = get_selections(client, name) if current else {}
    before = {
        "plan": _view(_normal_plan(current)) if current else None,
        "selections": {n: _view(_normal_selection(s)) for n, s in sorted(current_selections.items())},
    }
    actions = []
    if wanted is None:
        if current:
            actions += [f"delete selection {n}" for n in sorted(current_selections)]
            actions.append(f"delete restore test plan {name}")
            if not check_mode:
                # A delete retried after a lost answer finds the selection or plan gone: that is the goal.
                for selection in sorted(current_selections):
                    with contextlib.suppress(client.exceptions.ResourceNotFoundException):
                        client.delete_restore_testing_selection(
                            aws_retry=True, RestoreTestingPlanName=name, RestoreTestingSelectionName=selection
                        )
                with contextlib.suppress(client.exceptions.ResourceNotFoundException):
                    client.delete_restore_testing_plan(aws_retry=True, RestoreTestingPlanName=name)
        return {
            "changed": bool(actions),
            "actions": actions,
            "plan": None,
            "selections": [],
            "diff": {"before": before, "after": {"plan": None, "selections": {}}},
        }

    if current is None:
        actions.append(f"create restore test plan {name}")
        if not check_mode:
            client.create_restore_testing_plan(aws_retry=True, RestoreTestingPlan=wanted)
    else:
        update = _plan_update(current, wanted)
        if update:
            actions.append(f"update restore test plan {name}: {', '.join(sorted(update))}")
            if not check_mode:
                client.update_restore_testing_plan(
                    aws_retry=True, RestoreTestingPlanName=name, RestoreTestingPlan=update
                )

    wanted_names = {s["RestoreTestingSelectionName"] for s in selections}
    for request in selections:
        selection = request["RestoreTestingSelectionName"]
        have = current_selections.get(selection)
        replace = have is not None and have.get("ProtectedResourceType") != request["ProtectedResourceType"]
        if have is not None and not replace:
            update = _selection_update(have, request)
            if update:
                actions.append(f"update selection {selection}: {', '.join(sorted(update))}")
                if not check_mode:
                    client.update_restore_testing_selection(
                        aws_retry=True,
                        RestoreTestingPlanName=name,
                        RestoreTestingSelectionName=selection,
                        RestoreTestingSelection=update,
                    )
            continue
        if replace:
            actions.append(f"replace selection {selection} (its resource type changes)")
            if not check_mode:
                client.delete_restore_testing_selection(
                    aws_retry=True, RestoreTestingPlanName=name, RestoreTestingSelectionName=selection
                )
        else:
            actions.append(f"create selection {selection}")
        if not check_mode:
            client.create_restore_testing_selection(
                aws_retry=True, RestoreTestingPlanName=name, RestoreTestingSelection=request
            )
    if params.get("purge_selections"):
        for selection in sorted(set(current_selections) - wanted_names):
            actions.append(f"delete selection {selection}")
            if not check_mode:
                client.delete_restore_testing_selection(
                    aws_retry=True, RestoreTestingPlanName=name, RestoreTestingSelectionName=selection
                )

    if check_mode or not actions:
        plan_view = dict(_view(current) or {})
        plan_view.update(_view(wanted))
        after_selections = {n: _normal_selection(s) for n, s in current_selections.items()}
        if params.get("purge_selections"):
            after_selections = {n: s for n, s in after_selections.items() if n in wanted_names}
        for request in selections:
            after_selections[request["RestoreTestingSelectionName"]] = _normal_selection(request)
    else:
        plan_view = _view(get_plan(client, name))
        after_selections = {n: _normal_selection(s) for n, s in get_selections(client, name).items()}
    selection_views = [{"restore_testing_selection_name": n, **_view(s)} for n, s in sorted(after_selections.items())]
    after = {
        "plan": _view(_normal_plan(wanted)),
        "selections": {n: _view(s) for n, s in sorted(after_selections.items())},
    }
    return {
        "changed": bool(actions),
        "actions": actions,
        "plan": plan_view,
        "selections": selection_views,
        "diff": {"before": before, "after": after},
    }
