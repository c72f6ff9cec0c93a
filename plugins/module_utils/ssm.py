# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Systems Manager patch baselines and maintenance windows.

Pure validation and normalisation (no AWS call) first, then the functions that
read and change AWS through a retrying SSM client (called with ``aws_retry=True``).

Every ``validate_*`` function raises ParameterError before any AWS call, naming
the option, the bad value and what is allowed. Every ``ensure_*`` function works
out the whole change first, makes no mutating call in check mode, and returns
``changed``, the resource as it is (or would be) after the task, and a diff.
"""

import datetime
import re

from ansible_collections.medcircle.cloudops.plugins.module_utils.common import ParameterError

try:
    from zoneinfo import available_timezones
except ImportError:  # Python < 3.9 on the control node: the time zone is left to AWS to check
    available_timezones = None

# --- patch baselines -----------------------------------------------------------------------------

OPERATING_SYSTEMS = (
    "AMAZON_LINUX_2023",
    "AMAZON_LINUX_2",
    "AMAZON_LINUX_2022",
    "AMAZON_LINUX",
    "REDHAT_ENTERPRISE_LINUX",
    "CENTOS",
    "ORACLE_LINUX",
    "ROCKY_LINUX",
    "ALMA_LINUX",
    "SUSE",
    "UBUNTU",
    "DEBIAN",
    "RASPBIAN",
    "WINDOWS",
    "MACOS",
)

_RPM_KEYS = ("PRODUCT", "CLASSIFICATION", "SEVERITY")
_DEB_KEYS = ("PRODUCT", "SECTION", "PRIORITY")

# Patch filter keys each operating system accepts (AWS DescribePatchProperties).
FILTER_KEYS = {
    "AMAZON_LINUX_2023": _RPM_KEYS,
    "AMAZON_LINUX_2": _RPM_KEYS,
    "AMAZON_LINUX_2022": _RPM_KEYS,
    "AMAZON_LINUX": _RPM_KEYS,
    "REDHAT_ENTERPRISE_LINUX": _RPM_KEYS,
    "CENTOS": _RPM_KEYS,
    "ORACLE_LINUX": _RPM_KEYS,
    "ROCKY_LINUX": _RPM_KEYS,
    "ALMA_LINUX": _RPM_KEYS,
    "SUSE": _RPM_KEYS,
    "UBUNTU": _DEB_KEYS,
    "DEBIAN": _DEB_KEYS,
    "RASPBIAN": _DEB_KEYS,
    "WINDOWS": ("PATCH_SET", "PRODUCT", "PRODUCT_FAMILY", "CLASSIFICATION", "MSRC_SEVERITY", "PATCH_ID"),
    "MACOS": ("PRODUCT", "CLASSIFICATION"),
}

# Operating systems whose patches have no release date: approval delays are not supported.
NO_RELEASE_DATES = ("UBUNTU", "DEBIAN")

COMPLIANCE_LEVELS = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNSPECIFIED")
REJECTED_ACTIONS = ("ALLOW_AS_DEPENDENCY", "BLOCK")
MAX_APPROVE_AFTER_DAYS = 360
NAME_PATTERN = re.compile(r"^[a-zA-Z0-9_\-.]{3,128}$")
PATCH_GROUP_PATTERN = re.compile(r"^[\w\s.:/=+\-@]{1,256}$", re.UNICODE)
DATE_PATTERN = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _check_name(option, value):
    if not isinstance(value, str) or not NAME_PATTERN.match(value):
        raise ParameterError(option, value, "is not a valid name", "3 to 128 letters, digits, '_', '-' or '.'")


def _check_choice(option, value, allowed):
    if value not in allowed:
        raise ParameterError(option, value, "is not allowed", ", ".join(allowed))


def _normalise_filters(option, filters, operating_system):
    """[{key, values}] -> [{"Key", "Values"}] sorted by key, values sorted; keys checked for the OS."""
    allowed = FILTER_KEYS[operating_system]
    result = {}
    for index, item in enumerate(filters or []):
        key = str(item.get("key") or "").upper()
        if key not in allowed:
            raise ParameterError(
                f"{option}[{index}].key",
                item.get("key"),
                f"is not a patch filter key for {operating_system}",
                ", ".join(allowed),
            )
        values = item.get("values") or []
        if isinstance(values, str):
            values = [values]
        if not values:
            raise ParameterError(f"{option}[{index}].values", values, "is empty", "one or more values, or '*'")
        if key in result:
            raise ParameterError(f"{option}[{index}].key", key, "is given twice", "each key once per filter group")
        result[key] = sorted(str(v) for v in values)
    return [{"Key": key, "Values": result[key]} for key in sorted(result)]


def validate_patch_baseline(params):
    """Check a patch baseline's options and return its AWS form (what Create/UpdatePatchBaseline take).

    ``params`` holds the module options (snake_case). Raises ParameterError on the first bad one.
    """
    _check_name("name", params.get("name"))
    operating_system = params.get("operating_system")
    if operating_system is None:
        raise ParameterError(
            "operating_system", None, "is required when state is present", ", ".join(OPERATING_SYSTEMS)
        )
    _check_choice("operating_system", operating_system, OPERATING_SYSTEMS)
    linux = operating_system not in ("WINDOWS", "MACOS")

    rules = []
    for index, rule in enumerate(params.get("approval_rules") or []):
        option = f"approval_rules[{index}]"
        filters = _normalise_filters(f"{option}.patch_filters", rule.get("patch_filters"), operating_system)
        if not filters:
            raise ParameterError(
                f"{option}.patch_filters",
                [],
                "is empty",
                "at least one filter, e.g. {key: CLASSIFICATION, values: [Security]}",
            )
        after, until = rule.get("approve_after_days"), rule.get("approve_until_date")
        if operating_system in NO_RELEASE_DATES:
            # AWS: approval delays are not supported for Debian and Ubuntu (their repositories carry no
            # release dates); a rule approves what the repositories publish, which AWS sends as 0 days.
            if until is not None or after not in (None, 0):
                option_name = "approve_until_date" if until is not None else "approve_after_days"
                raise ParameterError(
                    f"{option}.{option_name}",
                    until if until is not None else after,
                    f"is not supported for {operating_system}: its repositories carry no release dates",
                    "approve_after_days: 0, or leave both unset",
                )
            after = 0
        if (after is None) == (until is None):
            raise ParameterError(
                option,
                None,
                "must set exactly one of approve_after_days and approve_until_date",
                "approve_after_days: 7",
            )
        out = {"PatchFilterGroup": {"PatchFilters": filters}}
        if after is not None:
            if not isinstance(after, int) or isinstance(after, bool) or not 0 <= after <= MAX_APPROVE_AFTER_DAYS:
                raise ParameterError(
                    f"{option}.approve_after_days", after, "is out of range", f"0 to {MAX_APPROVE_AFTER_DAYS} days"
                )
            out["ApproveAfterDays"] = after
        else:
            if not isinstance(until, str) or not DATE_PATTERN.match(until):
                raise ParameterError(f"{option}.approve_until_date", until, "is not a date", "YYYY-MM-DD")
            try:
                datetime.date.fromisoformat(until)
            except ValueError:
                raise ParameterError(f"{option}.approve_until_date", until, "is not a date", "YYYY-MM-DD") from None
            out["ApproveUntilDate"] = until
        level = rule.get("compliance_level") or "UNSPECIFIED"
        _check_choice(f"{option}.compliance_level", level, COMPLIANCE_LEVELS)
        out["ComplianceLevel"] = level
        enable_non_security = bool(rule.get("enable_non_security"))
        if enable_non_security and not linux:
            raise ParameterError(
                f"{option}.enable_non_security", True, f"is not supported for {operating_system}", "false"
            )
        out["EnableNonSecurity"] = enable_non_security
        rules.append(out)

    level = params.get("approved_patches_compliance_level") or "UNSPECIFIED"
    _check_choice("approved_patches_compliance_level", level, COMPLIANCE_LEVELS)
    action = params.get("rejected_patches_action") or "ALLOW_AS_DEPENDENCY"
    _check_choice("rejected_patches_action", action, REJECTED_ACTIONS)
    enable_non_security = bool(params.get("approved_patches_enable_non_security"))
    if enable_non_security and not linux:
        raise ParameterError(
            "approved_patches_enable_non_security", True, f"is not supported for {operating_system}", "false"
        )
    for option in ("approved_patches", "rejected_patches"):
        for value in params.get(option) or []:
            if not isinstance(value, str) or not value or len(value) > 100:
                raise ParameterError(
                    option, value, "is not a patch name", "a patch name, e.g. kernel-6.1.*, 1 to 100 characters"
                )
    for group in params.get("patch_groups") or []:
        if not isinstance(group, str) or not PATCH_GROUP_PATTERN.match(group):
            raise ParameterError(
                "patch_groups", group, "is not a valid patch group", "1 to 256 letters, digits, spaces and _.:/=+-@"
            )

    return {
        "Name": params["name"],
        "OperatingSystem": operating_system,
        "Description": params.get("description") or "",
        "GlobalFilters": {
            "PatchFilters": _normalise_filters("global_filters", params.get("global_filters"), operating_system)
        },
        "ApprovalRules": {"PatchRules": rules},
        "ApprovedPatches": sorted(set(params.get("approved_patches") or [])),
        "ApprovedPatchesComplianceLevel": level,
        "ApprovedPatchesEnableNonSecurity": enable_non_security,
        "RejectedPatches": sorted(set(params.get("rejected_patches") or [])),
        "RejectedPatchesAction": action,
    }


def comparable_baseline(baseline):
    """A GetPatchBaseline answer (or a validated spec) reduced to the fields the module manages, with defaults."""
    rules = []
    for rule in (baseline.get("ApprovalRules") or {}).get("PatchRules") or []:
        out = {
            "PatchFilterGroup": {
                "PatchFilters": sorted(
                    (
                        {"Key": f["Key"], "Values": sorted(f.get("Values") or [])}
                        for f in (rule.get("PatchFilterGroup") or {}).get("PatchFilters") or []
                    ),
                    key=lambda f: f["Key"],
                )
            },
            "ComplianceLevel": rule.get("ComplianceLevel") or "UNSPECIFIED",
            "EnableNonSecurity": bool(rule.get("EnableNonSecurity")),
        }
        if rule.get("ApproveUntilDate"):
            out["ApproveUntilDate"] = rule["ApproveUntilDate"]
        else:
            out["ApproveAfterDays"] = rule.get("ApproveAfterDays", 0)
        rules.append(out)
    return {
        "Name": baseline.get("Name"),
        "OperatingSystem": baseline.get("OperatingSystem"),
        "Description": baseline.get("Description") or "",
        "GlobalFilters": {
            "PatchFilters": sorted(
                (
                    {"Key": f["Key"], "Values": sorted(f.get("Values") or [])}
                    for f in (baseline.get("GlobalFilters") or {}).get("PatchFilters") or []
                ),
                key=lambda f: f["Key"],
            )
        },
        "ApprovalRules": {"PatchRules": rules},
        "ApprovedPatches": sorted(baseline.get("ApprovedPatches") or []),
        "ApprovedPatchesComplianceLevel": baseline.get("ApprovedPatchesComplianceLevel") or "UNSPECIFIED",
        "ApprovedPatchesEnableNonSecurity": bool(baseline.get("ApprovedPatchesEnableNonSecurity")),
        "RejectedPatches": sorted(baseline.get("RejectedPatches") or []),
        "RejectedPatchesAction": baseline.get("RejectedPatchesAction") or "ALLOW_AS_DEPENDENCY",
    }


# --- maintenance windows --------------------------------------------------------------------------

SCHEDULE_EXAMPLES = (
    "cron(0 2 ? * TUE *) (Tuesdays 02:00), cron(30 23 ? * SUN#1 *), rate(12 hours), rate(7 days), "
    "at(2026-12-24T03:00:00)"
)
_CRON_FIELD = re.compile(r"^[0-9A-Za-z*?,/#\-L]+$")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_RATE = re.compile(r"^rate\((\d+) (hour|hours|day|days)\)$")
_AT = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")
_CRON = re.compile(r"^cron\((.*)\)$")
MAX_CONCURRENCY_PATTERN = re.compile(r"^([1-9][0-9]*|[1-9][0-9]%|[1-9]%|100%)$")
MAX_ERRORS_PATTERN = re.compile(r"^([1-9][0-9]*|[0]|[1-9][0-9]%|[0-9]%|100%)$")
RESOURCE_TYPES = ("INSTANCE", "RESOURCE_GROUP")
CUTOFF_BEHAVIORS = ("CONTINUE_TASK", "CANCEL_TASK")
RUN_PATCH_BASELINE = "AWS-RunPatchBaseline"
RUN_PATCH_BASELINE_CHOICES = {"Operation": ("Scan", "Install"), "RebootOption": ("RebootIfNeeded", "NoReboot")}
INSTANCE_ID_PATTERN = re.compile(r"^(i|mi)-[0-9a-f]{8,17}$")


def _bad_schedule(value, problem):
    return ParameterError("schedule", value, problem, SCHEDULE_EXAMPLES)


def _numbers_in(field, low, high, names=()):
    """Check the plain numbers (and names) of one cron field are in range; wildcards and steps pass."""
    for part in re.split(r"[,/\-#]", field):
        if part in ("*", "?", "L", "") or part.upper() in names or part.upper().rstrip("L") in names:
            continue
        digits = part.rstrip("LW")
        if not digits.isdigit() or not low <= int(digits) <= high:
            return False
    return True


def validate_schedule(schedule):
    """Check a maintenance window schedule as AWS accepts it; return it unchanged.

    cron: six fields ``cron(minutes hours day-of-month month day-of-week year)`` with ``?`` in exactly
    one of day-of-month and day-of-week; rate: ``rate(N hour(s)|day(s))``; once: ``at(yyyy-mm-ddThh:mm:ss)``.
    """
    if not isinstance(schedule, str) or not schedule.strip():
        raise _bad_schedule(schedule, "is empty")
    schedule = schedule.strip()
    rate = re.match(r"^rate\((.*)\)$", schedule)
    if rate:
        match = _RATE.match(schedule)
        if not match:
            raise _bad_schedule(
                schedule, "is not a rate AWS accepts for maintenance windows (a whole number of hours or days)"
            )
        count, unit = int(match.group(1)), match.group(2)
        if count < 1 or (count == 1) != (not unit.endswith("s")):
            raise _bad_schedule(
                schedule, "must use a positive number with 'hour'/'day' for 1 and 'hours'/'days' otherwise"
            )
        return schedule
    if schedule.startswith("at("):
        match = _AT.match(schedule)
        try:
            datetime.datetime.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S") if match else None
        except ValueError:
            match = None
        if not match:
            raise _bad_schedule(schedule, "is not a one-time schedule at(yyyy-mm-ddThh:mm:ss)")
        return schedule
    match = _CRON.match(schedule)
    if not match:
        raise _bad_schedule(schedule, "is not a cron(...), rate(...) or at(...) expression")
    fields = match.group(1).split()
    if len(fields) != 6:
        raise _bad_schedule(
            schedule,
            f"has {len(fields)} cron fields; maintenance windows take 6: "
            "minutes hours day-of-month month day-of-week year",
        )
    if any(not _CRON_FIELD.match(f) for f in fields):
        raise _bad_schedule(schedule, "has characters a cron expression cannot contain")
    minutes, hours, dom, month, dow, year = fields
    if (dom == "?") == (dow == "?"):
        raise _bad_schedule(schedule, "must have '?' in exactly one of day-of-month and day-of-week")
    checks = (
        ("minutes", minutes, 0, 59, ()),
        ("hours", hours, 0, 23, ()),
        ("day-of-month", dom, 1, 31, ()),
        ("month", month, 1, 12, _MONTHS),
        ("day-of-week", dow, 1, 7, _DAYS),
        ("year", year, 1970, 2199, ()),
    )
    for label, field, low, high, names in checks:
        if not _numbers_in(field, low, high, names):
            raise _bad_schedule(schedule, f"has a {label} field ({field}) out of range {low}-{high}")
    return schedule


def validate_window(params):
    """Check a maintenance window's own options; return its AWS form (CreateMaintenanceWindow's fields)."""
    _check_name("name", params.get("name"))
    schedule = params.get("schedule")
    if schedule is None:
        raise ParameterError("schedule", None, "is required when state is present", SCHEDULE_EXAMPLES)
    schedule = validate_schedule(schedule)
    duration, cutoff = params.get("duration"), params.get("cutoff")
    if duration is None or not 1 <= duration <= 24:
        raise ParameterError("duration", duration, "is out of range", "1 to 24 hours")
    if cutoff is None or not 0 <= cutoff <= 23:
        raise ParameterError("cutoff", cutoff, "is out of range", "0 to 23 hours")
    if cutoff >= duration:
        raise ParameterError(
            "cutoff",
            cutoff,
            f"must be shorter than duration ({duration} hours): no task could start",
            f"0 to {duration - 1}",
        )
    offset = params.get("schedule_offset")
    if offset is not None:
        if not schedule.startswith("cron("):
            raise ParameterError(
                "schedule_offset", offset, "only works with a cron(...) schedule", "omit it for rate(...) and at(...)"
            )
        if not 1 <= offset <= 6:
            raise ParameterError("schedule_offset", offset, "is out of range", "1 to 6 days")
    timezone = params.get("schedule_timezone")
    if timezone and available_timezones is not None:
        zones = available_timezones()
        if zones and timezone not in zones and timezone != "UTC":
            raise ParameterError(
                "schedule_timezone", timezone, "is not an IANA time zone", "e.g. UTC, Europe/Berlin, America/New_York"
            )
    for option in ("start_date", "end_date"):
        value = params.get(option)
        if value:
            try:
                datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                raise ParameterError(
                    option, value, "is not an ISO-8601 date and time", "2026-01-01T00:00:00+01:00"
                ) from None
    window = {
        "Name": params["name"],
        "Description": params.get("description") or "",
        "Schedule": schedule,
        "ScheduleTimezone": timezone or "",
        "ScheduleOffset": offset or 0,
        "Duration": duration,
        "Cutoff": cutoff,
        "AllowUnassociatedTargets": bool(params.get("allow_unassociated_targets")),
        "Enabled": params.get("enabled", True) is not False,
        "StartDate": params.get("start_date") or "",
        "EndDate": params.get("end_date") or "",
    }
    return window


def comparable_window(window):
    """A GetMaintenanceWindow answer reduced to the managed fields, with AWS's defaults filled in."""
    return {
        "Name": window.get("Name"),
        "Description": window.get("Description") or "",
        "Schedule": window.get("Schedule"),
        "ScheduleTimezone": window.get("ScheduleTimezone") or "",
        "ScheduleOffset": window.get("ScheduleOffset") or 0,
        "Duration": window.get("Duration"),
        "Cutoff": window.get("Cutoff"),
        "AllowUnassociatedTargets": bool(window.get("AllowUnassociatedTargets")),
        "Enabled": window.get("Enabled", True) is not False,
        "StartDate": window.get("StartDate") or "",
        "EndDate": window.get("EndDate") or "",
    }


def _target_list(option, target):
    """A target's AWS Targets list from instance_ids / tags / resource_group."""
    out = []
    if target.get("instance_ids"):
        for instance_id in target["instance_ids"]:
            if not INSTANCE_ID_PATTERN.match(str(instance_id)):
                raise ParameterError(
                    f"{option}.instance_ids", instance_id, "is not an instance id", "i-0123456789abcdef0"
                )
        out.append({"Key": "InstanceIds", "Values": sorted(target["instance_ids"])})
    for key, values in sorted((target.get("tags") or {}).items()):
        if isinstance(values, str):
            values = [values]
        if not values:
            raise ParameterError(f"{option}.tags.{key}", values, "has no value", "a value or a list of values")
        out.append({"Key": f"tag:{key}", "Values": sorted(str(v) for v in values)})
    if target.get("resource_group"):
        out.append({"Key": "resource-groups:Name", "Values": [target["resource_group"]]})
    if not out:
        raise ParameterError(option, target.get("name"), "selects nothing", "instance_ids, tags or resource_group")
    return out


def validate_targets(targets):
    """The targets option -> {name: AWS target fields}, names unique."""
    result = {}
    for index, target in enumerate(targets or []):
        option = f"targets[{index}]"
        _check_name(f"{option}.name", target.get("name"))
        if target["name"] in result:
            raise ParameterError(f"{option}.name", target["name"], "is used twice", "a unique name per target")
        resource_type = target.get("resource_type") or (
            "RESOURCE_GROUP" if target.get("resource_group") else "INSTANCE"
        )
        _check_choice(f"{option}.resource_type", resource_type, RESOURCE_TYPES)
        result[target["name"]] = {
            "Name": target["name"],
            "ResourceType": resource_type,
            "Targets": _target_list(option, target),
            "OwnerInformation": target.get("owner_information") or "",
            "Description": target.get("description") or "",
        }
    return result


def validate_tasks(tasks, target_names):
    """The tasks option -> {name: AWS task fields without WindowTargetIds (target names instead)}."""
    result = {}
    for index, task in enumerate(tasks or []):
        option = f"tasks[{index}]"
        _check_name(f"{option}.name", task.get("name"))
        if task["name"] in result:
            raise ParameterError(f"{option}.name", task["name"], "is used twice", "a unique name per task")
        document = task.get("document") or RUN_PATCH_BASELINE
        names = task.get("targets") or []
        for name in names:
            if name not in target_names:
                raise ParameterError(
                    f"{option}.targets",
                    name,
                    "is not one of the window's targets",
                    ", ".join(sorted(target_names)) or "none defined",
                )
        parameters = {}
        for key, value in sorted((task.get("parameters") or {}).items()):
            values = value if isinstance(value, list) else [value]
            parameters[key] = [str(v) for v in values]
        if document == RUN_PATCH_BASELINE:
            for key, allowed in RUN_PATCH_BASELINE_CHOICES.items():
                for value in parameters.get(key, []):
                    _check_choice(f"{option}.parameters.{key}", value, allowed)
        concurrency = str(task.get("max_concurrency") or "")
        if not MAX_CONCURRENCY_PATTERN.match(concurrency):
            raise ParameterError(
                f"{option}.max_concurrency",
                task.get("max_concurrency"),
                "is not a count or percentage",
                "e.g. 10, 25% (1-100%)",
            )
        errors = str(task.get("max_errors") if task.get("max_errors") is not None else "")
        if not MAX_ERRORS_PATTERN.match(errors):
            raise ParameterError(
                f"{option}.max_errors",
                task.get("max_errors"),
                "is not a count or percentage",
                "e.g. 0, 1, 10% (0-100%)",
            )
        priority = task.get("priority", 1)
        if priority is None or priority < 0:
            raise ParameterError(f"{option}.priority", priority, "is out of range", "0 or more (0 runs first)")
        cutoff_behavior = task.get("cutoff_behavior") or "CONTINUE_TASK"
        _check_choice(f"{option}.cutoff_behavior", cutoff_behavior, CUTOFF_BEHAVIORS)
        timeout = task.get("timeout_seconds")
        if timeout is not None and not 30 <= timeout <= 2592000:
            raise ParameterError(f"{option}.timeout_seconds", timeout, "is out of range", "30 to 2592000 seconds")
        run_command = {"Parameters": parameters}
        if task.get("comment"):
            run_command["Comment"] = task["comment"]
        if timeout is not None:
            run_command["TimeoutSeconds"] = timeout
        if task.get("output_s3_bucket"):
            run_command["OutputS3BucketName"] = task["output_s3_bucket"]
            if task.get("output_s3_key_prefix"):
                run_command["OutputS3KeyPrefix"] = task["output_s3_key_prefix"]
        if task.get("cloudwatch_log_group"):
            run_command["CloudWatchOutputConfig"] = {
                "CloudWatchLogGroupName": task["cloudwatch_log_group"],
                "CloudWatchOutputEnabled": True,
            }
        spec = {
            "Name": task["name"],
            "Description": task.get("description") or "",
            "TaskArn": document,
            "TaskType": "RUN_COMMAND",
            "TargetNames": sorted(names),
            "ServiceRoleArn": task.get("service_role_arn") or "",
            "Priority": priority,
            "MaxConcurrency": concurrency,
            "MaxErrors": errors,
            "CutoffBehavior": cutoff_behavior,
            "TaskInvocationParameters": {"RunCommand": run_command},
        }
        alarms = task.get("alarms") or []
        if alarms:
            spec["AlarmConfiguration"] = {
                "Alarms": [{"Name": name} for name in sorted(set(alarms))],
                "IgnorePollAlarmFailure": bool(task.get("ignore_poll_alarm_failure")),
            }
        result[task["name"]] = spec
    return result


def comparable_target(target):
    return {
        "Name": target.get("Name"),
        "ResourceType": target.get("ResourceType"),
        "Targets": sorted(
            ({"Key": t["Key"], "Values": sorted(t.get("Values") or [])} for t in target.get("Targets") or []),
            key=lambda t: t["Key"],
        ),
        "OwnerInformation": target.get("OwnerInformation") or "",
        "Description": target.get("Description") or "",
    }


def comparable_task(task, target_names_by_id):
    """A GetMaintenanceWindowTask answer reduced to the managed fields; target ids shown as target names."""
    names = []
    for target in task.get("Targets") or []:
        if target.get("Key") == "WindowTargetIds":
            names.extend(target_names_by_id.get(v, v) for v in target.get("Values") or [])
    run_command = dict((task.get("TaskInvocationParameters") or {}).get("RunCommand") or {})
    run_command["Parameters"] = {k: list(v) for k, v in sorted((run_command.get("Parameters") or {}).items())}
    for key in list(run_command):
        if key not in (
            "Parameters",
            "Comment",
            "TimeoutSeconds",
            "OutputS3BucketName",
            "OutputS3KeyPrefix",
            "CloudWatchOutputConfig",
        ):
            del run_command[key]
    # AWS may echo settings that are off as empty values; they mean the same as leaving them out.
    if not (run_command.get("CloudWatchOutputConfig") or {}).get("CloudWatchOutputEnabled"):
        run_command.pop("CloudWatchOutputConfig", None)
    for key in ("Comment", "OutputS3BucketName", "OutputS3KeyPrefix"):
        if not run_command.get(key):
            run_command.pop(key, None)
    out = {
        "Name": task.get("Name"),
        "Description": task.get("Description") or "",
        "TaskArn": task.get("TaskArn"),
        "TaskType": task.get("TaskType") or task.get("Type"),
        "TargetNames": sorted(names),
        "ServiceRoleArn": task.get("ServiceRoleArn") or "",
        "Priority": task.get("Priority", 1),
        "MaxConcurrency": task.get("MaxConcurrency") or "",
        "MaxErrors": task.get("MaxErrors") or "",
        "CutoffBehavior": task.get("CutoffBehavior") or "CONTINUE_TASK",
        "TaskInvocationParameters": {"RunCommand": run_command},
    }
    alarm = task.get("AlarmConfiguration") or {}
    if alarm.get("Alarms"):
        out["AlarmConfiguration"] = {
            "Alarms": sorted(({"Name": a["Name"]} for a in alarm["Alarms"]), key=lambda a: a["Name"]),
            "IgnorePollAlarmFailure": bool(alarm.get("IgnorePollAlarmFailure")),
        }
    return out


# --- AWS: shared --------------------------------------------------------------------------------


def _snake(value):
    """camel_dict_to_snake_dict without touching tag dicts (callers add tags afterwards)."""
    from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

    return camel_dict_to_snake_dict(value)


# SSM answers throttling with ThrottlingException, which AWSRetry does not retry unless told to.
RETRY_CODES = ["ThrottlingException"]


def retry_decorator():
    """The retry decorator for SSM clients (``module.client("ssm", retry_decorator=retry_decorator())``)."""
    from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

    return AWSRetry.jittered_backoff(catch_extra_error_codes=RETRY_CODES)


def paginate(client, operation, result_key, **kwargs):
    """Every item of a paginated SSM read (the whole read is retried when throttled)."""

    @retry_decorator()
    def _read():
        return client.get_paginator(operation).paginate(**kwargs).build_full_result().get(result_key, [])

    return _read()


def get_tags(client, resource_type, resource_id):
    from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict

    answer = client.list_tags_for_resource(ResourceType=resource_type, ResourceId=resource_id, aws_retry=True)
    return boto3_tag_list_to_ansible_dict(answer.get("TagList", []))


def plan_tags(current, desired, purge):
    """(tags to set, keys to remove, tags after); ``desired`` None leaves tags as they are."""
    from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

    if desired is None:
        return {}, [], dict(current)
    to_set, to_remove = compare_aws_tags(current, desired, purge_tags=purge)
    after = {k: v for k, v in current.items() if k not in to_remove}
    after.update(to_set)
    return to_set, to_remove, after


def apply_tags(client, resource_type, resource_id, to_set, to_remove):
    from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list

    if to_remove:
        client.remove_tags_from_resource(
            ResourceType=resource_type, ResourceId=resource_id, TagKeys=sorted(to_remove), aws_retry=True
        )
    if to_set:
        client.add_tags_to_resource(
            ResourceType=resource_type,
            ResourceId=resource_id,
            Tags=ansible_dict_to_boto3_tag_list(to_set),
            aws_retry=True,
        )


# --- AWS: patch baselines -----------------------------------------------------------------------


def find_baselines(client, name=None, operating_system=None, owner="Self"):
    """Baseline identities (DescribePatchBaselines), exact name match when ``name`` is given."""
    filters = []
    if name:
        filters.append({"Key": "NAME_PREFIX", "Values": [name]})
    if operating_system:
        filters.append({"Key": "OPERATING_SYSTEM", "Values": [operating_system]})
    if owner:
        filters.append({"Key": "OWNER", "Values": [owner]})
    found = paginate(client, "describe_patch_baselines", "BaselineIdentities", Filters=filters)
    return [b for b in found if name is None or b.get("BaselineName") == name]


def find_baseline_by_name(client, name):
    found = find_baselines(client, name=name)
    if len(found) > 1:
        raise ParameterError(
            "name",
            name,
            f"matches {len(found)} patch baselines ({', '.join(b['BaselineId'] for b in found)})",
            "a name that only one of your baselines has; rename or delete the others",
        )
    return found[0] if found else None


def describe_baseline(client, baseline_id):
    """GetPatchBaseline + whether it is its OS's default + tags, as the module returns it (snake_case)."""
    baseline = client.get_patch_baseline(BaselineId=baseline_id, aws_retry=True)
    baseline.pop("ResponseMetadata", None)
    default = client.get_default_patch_baseline(OperatingSystem=baseline["OperatingSystem"], aws_retry=True)
    default_id = default.get("BaselineId", "")
    baseline["DefaultBaseline"] = default_id == baseline_id or default_id.endswith("/" + baseline_id)
    tags = get_tags(client, "PatchBaseline", baseline_id)
    out = _snake(baseline)
    out["patch_groups"] = sorted(baseline.get("PatchGroups") or [])
    out["tags"] = tags
    return out, baseline


def _group_owners(client):
    """{patch group: [(baseline id, operating system)]} for every registered patch group (DescribePatchGroups)."""
    owners = {}
    for mapping in paginate(client, "describe_patch_groups", "Mappings"):
        identity = mapping.get("BaselineIdentity") or {}
        owners.setdefault(mapping["PatchGroup"], []).append(
            (identity.get("BaselineId"), identity.get("OperatingSystem"))
        )
    return owners


def _baseline_view(spec, patch_groups, default, tags):
    view = comparable_baseline(spec)
    view["PatchGroups"] = sorted(patch_groups)
    view["DefaultBaseline"] = default
    out = _snake(view)
    out["tags"] = tags
    return out


def ensure_patch_baseline(client, params, check_mode):
    """Create, update or delete one patch baseline named ``params['name']``.

    Returns {"changed", "baseline" (snake_case, {} when absent), "diff": {"before", "after"}}.
    """
    name = params["name"]
    state = params.get("state") or "present"
    _check_name("name", name)
    spec = validate_patch_baseline(params) if state == "present" else None

    identity = find_baseline_by_name(client, name)
    current, raw = describe_baseline(client, identity["BaselineId"]) if identity else ({}, None)

    if current:
        before_view = _baseline_view(raw, raw.get("PatchGroups") or [], current["default_baseline"], current["tags"])
        before_view["baseline_id"] = current["baseline_id"]
    else:
        before_view = {}

    if state == "absent":
        if not current:
            return {"changed": False, "baseline": {}, "diff": {"before": {}, "after": {}}}
        if current["default_baseline"]:
            raise ParameterError(
                "name",
                name,
                f"is the default patch baseline for {current['operating_system']} and cannot be deleted",
                "first make another baseline the default for that operating system (default: true)",
            )
        if not check_mode:
            for group in current["patch_groups"]:
                client.deregister_patch_baseline_for_patch_group(
                    BaselineId=current["baseline_id"], PatchGroup=group, aws_retry=True
                )
            client.delete_patch_baseline(BaselineId=current["baseline_id"], aws_retry=True)
        return {"changed": True, "baseline": {}, "diff": {"before": before_view, "after": {}}}

    if current and current["operating_system"] != spec["OperatingSystem"]:
        raise ParameterError(
            "operating_system",
            spec["OperatingSystem"],
            f"differs from the existing baseline's {current['operating_system']}; AWS cannot change it",
            f"{current['operating_system']}, or delete the baseline (state: absent) and create it again",
        )

    desired_groups = set(params.get("patch_groups") or [])
    current_groups = set(current.get("patch_groups") or [])
    if params.get("patch_groups") is None:
        desired_groups = set(current_groups)
    elif not params.get("purge_patch_groups", True):
        desired_groups |= current_groups
    add_groups = sorted(desired_groups - current_groups)
    remove_groups = sorted(current_groups - desired_groups)

    # A patch group has one baseline per operating system: one registered elsewhere moves to this one.
    move_from = []
    if add_groups:
        owners = _group_owners(client)
        for group in add_groups:
            for other_id, other_os in owners.get(group, []):
                if other_os == spec["OperatingSystem"] and other_id != (current or {}).get("baseline_id"):
                    move_from.append((other_id, group))

    current_tags = current.get("tags", {})
    to_set, to_remove, tags_after = plan_tags(current_tags, params.get("tags"), params.get("purge_tags", True))
    make_default = bool(params.get("default")) and not current.get("default_baseline")
    default_after = bool(current.get("default_baseline")) or bool(params.get("default"))

    body_changed = not current or comparable_baseline(raw) != comparable_baseline(spec)
    changed = bool(body_changed or add_groups or remove_groups or to_set or to_remove or make_default)

    baseline_id = current.get("baseline_id")
    if changed and not check_mode:
        request = {k: v for k, v in spec.items() if not (k == "Description" and not v)}
        writable = {k: v for k, v in request.items() if k != "OperatingSystem"}
        if not current:
            create = dict(request)
            if tags_after:
                from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list

                create["Tags"] = ansible_dict_to_boto3_tag_list(tags_after)
            baseline_id = client.create_patch_baseline(aws_retry=True, **create)["BaselineId"]
        else:
            if body_changed:
                client.update_patch_baseline(BaselineId=baseline_id, Replace=True, aws_retry=True, **writable)
            apply_tags(client, "PatchBaseline", baseline_id, to_set, to_remove)
        for group in remove_groups:
            client.deregister_patch_baseline_for_patch_group(BaselineId=baseline_id, PatchGroup=group, aws_retry=True)
        for other_id, group in move_from:
            client.deregister_patch_baseline_for_patch_group(BaselineId=other_id, PatchGroup=group, aws_retry=True)
        for group in add_groups:
            client.register_patch_baseline_for_patch_group(BaselineId=baseline_id, PatchGroup=group, aws_retry=True)
        if make_default:
            client.register_default_patch_baseline(BaselineId=baseline_id, aws_retry=True)

    if changed and not check_mode:
        baseline, after_raw = describe_baseline(client, baseline_id)
        after_view = _baseline_view(
            after_raw, after_raw.get("PatchGroups") or [], baseline["default_baseline"], baseline["tags"]
        )
        after_view["baseline_id"] = baseline_id
    else:
        after_view = _baseline_view(spec, desired_groups, default_after, tags_after)
        if baseline_id:
            after_view["baseline_id"] = baseline_id
        baseline = dict(current) if not changed else dict(after_view)
        if current and changed:
            baseline = {**current, **after_view}
    return {
        "changed": changed,
        "baseline": baseline,
        "moved_patch_groups": [{"patch_group": g, "from_baseline_id": b} for b, g in move_from],
        "diff": {"before": before_view, "after": after_view},
    }


# --- AWS: maintenance windows -------------------------------------------------------------------


def find_window_by_name(client, name):
    found = paginate(
        client, "describe_maintenance_windows", "WindowIdentities", Filters=[{"Key": "Name", "Values": [name]}]
    )
    found = [w for w in found if w.get("Name") == name]
    if len(found) > 1:
        raise ParameterError(
            "name",
            name,
            f"matches {len(found)} maintenance windows ({', '.join(w['WindowId'] for w in found)})",
            "a name that only one window has; rename or delete the others",
        )
    return found[0] if found else None


def read_window(client, window_id):
    """The window, its targets and its tasks (full task details), as AWS answers them."""
    window = client.get_maintenance_window(WindowId=window_id, aws_retry=True)
    window.pop("ResponseMetadata", None)
    targets = paginate(client, "describe_maintenance_window_targets", "Targets", WindowId=window_id)
    tasks = []
    for task in paginate(client, "describe_maintenance_window_tasks", "Tasks", WindowId=window_id):
        full = client.get_maintenance_window_task(WindowId=window_id, WindowTaskId=task["WindowTaskId"], aws_retry=True)
        full.pop("ResponseMetadata", None)
        tasks.append(full)
    tags = get_tags(client, "MaintenanceWindow", window_id)
    return window, targets, tasks, tags


def window_view(window, targets, tasks, tags, window_id=None):
    """The module's view (snake_case) of a window: its fields, targets and tasks by name, tags."""
    names_by_id = {t.get("WindowTargetId"): t.get("Name") for t in targets}
    view = _snake(comparable_window(window))
    view["targets"] = [_snake(comparable_target(t)) for t in sorted(targets, key=lambda t: t.get("Name") or "")]
    view["tasks"] = [
        _snake_task(comparable_task(t, names_by_id)) for t in sorted(tasks, key=lambda t: t.get("Name") or "")
    ]
    view["tags"] = dict(tags)
    if window_id or window.get("WindowId"):
        view["window_id"] = window_id or window.get("WindowId")
    for target, raw in zip(view["targets"], sorted(targets, key=lambda t: t.get("Name") or ""), strict=True):
        if raw.get("WindowTargetId"):
            target["window_target_id"] = raw["WindowTargetId"]
    for task, raw in zip(view["tasks"], sorted(tasks, key=lambda t: t.get("Name") or ""), strict=True):
        if raw.get("WindowTaskId"):
            task["window_task_id"] = raw["WindowTaskId"]
    return view


def _snake_task(task):
    """snake_case a task, keeping the document's parameter names (Operation, RebootOption) as AWS spells them."""
    parameters = task["TaskInvocationParameters"]["RunCommand"].get("Parameters", {})
    out = _snake(task)
    out["task_invocation_parameters"]["run_command"]["parameters"] = dict(parameters)
    return out


def _task_request(spec, target_ids):
    request = {k: v for k, v in spec.items() if k not in ("TargetNames",)}
    request["Targets"] = (
        [{"Key": "WindowTargetIds", "Values": [target_ids[n] for n in spec["TargetNames"]]}]
        if spec["TargetNames"]
        else []
    )
    if not request["ServiceRoleArn"]:
        request.pop("ServiceRoleArn")
    if not request["Description"]:
        request.pop("Description")
    return request


def ensure_maintenance_window(client, params, check_mode):
    """Create, update or delete one maintenance window named ``params['name']`` with its targets and tasks.

    Targets and tasks are matched by name within the window. With purge_targets / purge_tasks, those of the
    window that are not listed are removed. Returns {"changed", "window", "diff"}.
    """
    name = params["name"]
    state = params.get("state") or "present"
    _check_name("name", name)
    if state == "present":
        spec = validate_window(params)
        target_specs = validate_targets(params.get("targets"))
    else:
        spec, target_specs = None, {}

    identity = find_window_by_name(client, name)
    if identity:
        window, targets, tasks, tags = read_window(client, identity["WindowId"])
        before = window_view(window, targets, tasks, tags)
    else:
        window, targets, tasks, tags, before = None, [], [], {}, {}

    if state == "absent":
        if identity and not check_mode:
            client.delete_maintenance_window(WindowId=identity["WindowId"], aws_retry=True)
        return {"changed": bool(identity), "window": {}, "diff": {"before": before, "after": {}}}

    current_targets = {t.get("Name"): t for t in targets}
    all_target_names = set(target_specs)
    if params.get("targets") is None or not params.get("purge_targets", True):
        all_target_names |= set(current_targets)
    task_specs = validate_tasks(params.get("tasks"), all_target_names)
    current_tasks = {t.get("Name"): t for t in tasks}
    names_by_id = {t.get("WindowTargetId"): t.get("Name") for t in targets}

    window_changed = window is None or comparable_window(window) != spec
    target_adds = [n for n in target_specs if n not in current_targets]
    target_updates = [
        n
        for n in target_specs
        if n in current_targets and comparable_target(current_targets[n]) != comparable_target(target_specs[n])
    ]
    target_removes = []
    if params.get("targets") is not None and params.get("purge_targets", True):
        target_removes = [n for n in current_targets if n not in target_specs]
    task_adds = [n for n in task_specs if n not in current_tasks]
    task_updates = [
        n for n in task_specs if n in current_tasks and comparable_task(current_tasks[n], names_by_id) != task_specs[n]
    ]
    task_removes = []
    if params.get("tasks") is not None and params.get("purge_tasks", True):
        task_removes = [n for n in current_tasks if n not in task_specs]
    # A removed target must first leave the tasks that still point at it (AWS refuses otherwise).
    for target_name in target_removes:
        for task_name, task in current_tasks.items():
            if task_name in task_removes or task_name in task_updates:
                continue
            if target_name in comparable_task(task, names_by_id)["TargetNames"]:
                raise ParameterError(
                    "targets",
                    target_name,
                    f"is used by task {task_name}, which is kept",
                    "list the task with other targets, or remove it too",
                )
    to_set, to_remove, tags_after = plan_tags(tags, params.get("tags"), params.get("purge_tags", True))

    changed = bool(
        window_changed
        or target_adds
        or target_updates
        or target_removes
        or task_adds
        or task_updates
        or task_removes
        or to_set
        or to_remove
    )

    window_id = identity["WindowId"] if identity else None
    if changed and not check_mode:
        request = {k: v for k, v in spec.items() if k != "Enabled"}
        for key in ("Description", "ScheduleTimezone", "StartDate", "EndDate"):
            if not request[key]:
                request.pop(key)
        if not request["ScheduleOffset"]:
            request.pop("ScheduleOffset")
        if window_id is None:
            from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list

            if tags_after:
                request["Tags"] = ansible_dict_to_boto3_tag_list(tags_after)
            window_id = client.create_maintenance_window(aws_retry=True, **request)["WindowId"]
            if not spec["Enabled"]:
                client.update_maintenance_window(WindowId=window_id, Enabled=False, aws_retry=True)
        else:
            if window_changed:
                client.update_maintenance_window(
                    WindowId=window_id, Replace=True, Enabled=spec["Enabled"], aws_retry=True, **request
                )
            apply_tags(client, "MaintenanceWindow", window_id, to_set, to_remove)

        for task_name in task_removes:
            client.deregister_task_from_maintenance_window(
                WindowId=window_id, WindowTaskId=current_tasks[task_name]["WindowTaskId"], aws_retry=True
            )
        target_ids = {n: t["WindowTargetId"] for n, t in current_targets.items()}
        for target_name in target_removes:
            client.deregister_target_from_maintenance_window(
                WindowId=window_id, WindowTargetId=target_ids.pop(target_name), aws_retry=True
            )
        for target_name in target_updates:
            target = target_specs[target_name]
            client.update_maintenance_window_target(
                WindowId=window_id,
                WindowTargetId=target_ids[target_name],
                Targets=target["Targets"],
                Name=target_name,
                Replace=True,
                aws_retry=True,
                **{k: target[k] for k in ("OwnerInformation", "Description") if target[k]},
            )
        for target_name in target_adds:
            target = target_specs[target_name]
            request = {k: v for k, v in target.items() if v != ""}
            target_ids[target_name] = client.register_target_with_maintenance_window(
                WindowId=window_id, aws_retry=True, **request
            )["WindowTargetId"]
        for task_name in task_updates:
            request = _task_request(task_specs[task_name], target_ids)
            request.pop("TaskType")
            client.update_maintenance_window_task(
                WindowId=window_id,
                WindowTaskId=current_tasks[task_name]["WindowTaskId"],
                Replace=True,
                aws_retry=True,
                **request,
            )
        for task_name in task_adds:
            client.register_task_with_maintenance_window(
                WindowId=window_id, aws_retry=True, **_task_request(task_specs[task_name], target_ids)
            )
        window, targets, tasks, tags = read_window(client, window_id)
        after = window_view(window, targets, tasks, tags)
    elif changed:
        after = _planned_view(
            spec, target_specs, task_specs, current_targets, current_tasks, tags_after, window_id, params
        )
    else:
        after = before
    return {"changed": changed, "window": after, "diff": {"before": before, "after": after}}


def _planned_view(spec, target_specs, task_specs, current_targets, current_tasks, tags, window_id, params):
    """What the window would look like (check mode)."""
    targets = dict(current_targets) if params.get("targets") is None or not params.get("purge_targets", True) else {}
    targets.update(
        {
            n: dict(t, WindowTargetId=(current_targets.get(n) or {}).get("WindowTargetId"))
            for n, t in target_specs.items()
        }
    )
    names_by_id = {t.get("WindowTargetId"): n for n, t in current_targets.items()}
    tasks = {}
    if params.get("tasks") is None or not params.get("purge_tasks", True):
        tasks = {
            n: dict(comparable_task(t, names_by_id), WindowTaskId=t.get("WindowTaskId"))
            for n, t in current_tasks.items()
        }
    for task_name, task in task_specs.items():
        planned = dict(task, WindowTaskId=(current_tasks.get(task_name) or {}).get("WindowTaskId"))
        planned["Targets"] = [{"Key": "WindowTargetIds", "Values": list(task["TargetNames"])}]
        tasks[task_name] = planned
    return window_view(dict(spec, WindowId=window_id), list(targets.values()), list(tasks.values()), tags, window_id)
