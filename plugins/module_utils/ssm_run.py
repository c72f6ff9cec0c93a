# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Systems Manager Run Command with rate control and waiting, and patch compliance reads.

Used by the ssm_command and ssm_patch_compliance_info modules. Pure functions that take
retrying clients (called with ``aws_retry=True``), so they are unit-tested with botocore's Stubber.

Run Command in four steps, all batched:

1. ``validate_request``: every option is checked before any AWS call (ParameterError names it).
2. ``resolve_targets``: instance ids, or instances carrying tags, checked against Systems Manager's
   managed instances (one paginated DescribeInstanceInformation, and for tag targets one paginated
   DescribeInstances so that tagged instances that are not managed are reported, never skipped silently).
3. ``send_commands``: SendCommand accepts at most 50 instance ids, so the targets go out in commands of
   up to 50; MaxConcurrency and MaxErrors are shared out so that the whole run honours them.
4. ``wait_commands`` / ``collect_invocations``: poll ListCommands for the commands still running (one call
   each), stop the run (CancelCommand) once the errors exceed MaxErrors, then one paginated
   ListCommandInvocations (Details) per command gives each instance's status, exit code and output.
"""

import math
import re
import time

from ansible_collections.medcircle.cloudops.plugins.module_utils.common import ParameterError

MAX_IDS_PER_COMMAND = 50
CONCURRENCY_PATTERN = re.compile(r"^([1-9][0-9]*|[1-9][0-9]%|[1-9]%|100%)$")
ERRORS_PATTERN = re.compile(r"^([1-9][0-9]*|0|[1-9][0-9]%|[0-9]%|100%)$")
INSTANCE_ID_PATTERN = re.compile(r"^(i-[0-9a-f]{8,17}|mi-[0-9a-f]{17})$")
DOCUMENT_PATTERN = re.compile(r"^[a-zA-Z0-9_\-.:/]{3,128}$")
TERMINAL = ("Success", "Failed", "TimedOut", "Cancelled")
#: Systems Manager throttles with ThrottlingException, which AWSRetry does not retry by default.
RETRY_CODES = ["ThrottlingException"]
ERROR_STATUSES = ("Failed", "TimedOut")


# --- validation ------------------------------------------------------------------------------------------


def validate_rate(option, value, errors=False):
    """A MaxConcurrency (errors=False) or MaxErrors value as AWS accepts it: a number or a percentage."""
    text = str(value).strip()
    pattern = ERRORS_PATTERN if errors else CONCURRENCY_PATTERN
    if not pattern.match(text):
        allowed = (
            "a number of instances (0 or more) or a percentage of the targets from 0% to 100%, such as 0, 2 or 10%"
            if errors
            else "a number of instances (1 or more) or a percentage of the targets from 1% to 100%, such as 10 or 25%"
        )
        raise ParameterError(option, text, "is not a valid rate", allowed)
    return text


def rate_count(value, total, minimum):
    """How many instances a rate means for ``total`` targets (a percentage rounds down, at least ``minimum``)."""
    text = str(value)
    if text.endswith("%"):
        return max(minimum, math.floor(total * int(text[:-1]) / 100.0))
    return max(minimum, int(text))


def normalize_parameters(parameters):
    """Document parameters as SendCommand wants them: {name: [str, ...]}."""
    result = {}
    for key, value in (parameters or {}).items():
        if not isinstance(key, str) or not key:
            raise ParameterError("parameters", key, "has a parameter name that is not a string")
        if isinstance(value, (list, tuple)):
            values = [str(v) for v in value]
        elif value is None:
            raise ParameterError("parameters", key, "has no value", "a string or a list of strings")
        elif isinstance(value, bool):
            values = ["true" if value else "false"]
        else:
            values = [str(value)]
        result[key] = values
    return result


def normalize_tags(tags):
    """Tag targets {key: value or [values]} as {key: [values]}."""
    result = {}
    for key, value in (tags or {}).items():
        values = value if isinstance(value, (list, tuple)) else [value]
        values = [str(v) for v in values if v is not None and str(v) != ""]
        if not key or not values:
            raise ParameterError("tags", key, "needs a tag key and at least one value", "{PatchGroup: prod}")
        result[str(key)] = values
    if len(result) > 5:
        raise ParameterError("tags", sorted(result), "has more than 5 tag keys", "at most 5 tag keys")
    return result


def validate_request(params):
    """Check every ssm_command option before any AWS call; return the normalised request."""
    document = params["document_name"]
    if not DOCUMENT_PATTERN.match(document or ""):
        raise ParameterError(
            "document_name", document, "is not a document name", "a name such as AWS-RunShellScript or an ARN"
        )
    instance_ids = list(dict.fromkeys(params.get("instance_ids") or []))
    tags = normalize_tags(params.get("tags"))
    if instance_ids and tags:
        raise ParameterError(
            "instance_ids", instance_ids, "cannot be combined with tags", "either instance_ids or tags"
        )
    if not instance_ids and not tags:
        raise ParameterError("instance_ids", None, "or tags must name the target instances")
    bad = [i for i in instance_ids if not INSTANCE_ID_PATTERN.match(str(i))]
    if bad:
        raise ParameterError("instance_ids", bad, "contains values that are not instance ids", "ids such as i-0abc1234")
    wait_timeout = params.get("wait_timeout")
    if wait_timeout is not None and wait_timeout < 1:
        raise ParameterError("wait_timeout", wait_timeout, "is too small", "a number of seconds, 1 or more")
    timeout_seconds = params.get("timeout_seconds")
    if timeout_seconds is not None and not 30 <= timeout_seconds <= 2592000:
        raise ParameterError("timeout_seconds", timeout_seconds, "is out of range", "30 to 2592000 seconds")
    output_chars = params.get("output_chars", 1000)
    if output_chars is not None and output_chars < 0:
        raise ParameterError("output_chars", output_chars, "is negative", "0 or more characters")
    parameters = normalize_parameters(params.get("parameters"))
    if document == "AWS-RunPatchBaseline":
        operation = parameters.get("Operation", [""])[0]
        if operation not in ("Scan", "Install"):
            raise ParameterError("parameters.Operation", operation or None, "is not set or not valid", "Scan, Install")
        reboot = parameters.get("RebootOption", ["RebootIfNeeded"])[0]
        if reboot not in ("RebootIfNeeded", "NoReboot"):
            raise ParameterError("parameters.RebootOption", reboot, "is not valid", "RebootIfNeeded, NoReboot")
    if document == "AWS-RunShellScript" and not parameters.get("commands"):
        raise ParameterError("parameters.commands", None, "is required by AWS-RunShellScript", "a list of commands")
    return {
        "document_name": document,
        "parameters": parameters,
        "instance_ids": instance_ids,
        "tags": tags,
        "max_concurrency": validate_rate("max_concurrency", params.get("max_concurrency") or "50"),
        "max_errors": validate_rate("max_errors", params.get("max_errors") or "0", errors=True),
        "timeout_seconds": timeout_seconds,
        "wait_timeout": wait_timeout,
        "comment": (params.get("comment") or "")[:100],
        "output_chars": output_chars,
    }


# --- targets ---------------------------------------------------------------------------------------------


def _chunks(items, size):
    return [items[i : i + size] for i in range(0, len(items), size)]


def describe_managed(ssm, instance_ids=None, tags=None):
    """{instance id: InstanceInformation} of managed instances, by ids (50 per call) or tags (paginated)."""
    found = {}
    requests = []
    if instance_ids:
        requests = [[{"Key": "InstanceIds", "Values": chunk}] for chunk in _chunks(list(instance_ids), 50)]
    else:
        requests = [[{"Key": "tag:" + key, "Values": values} for key, values in (tags or {}).items()]]
    for filters in requests:
        kwargs = {"MaxResults": 50}
        if filters:
            kwargs["Filters"] = filters
        while True:
            page = ssm.describe_instance_information(aws_retry=True, **kwargs)
            for info in page.get("InstanceInformationList", []):
                found[info["InstanceId"]] = info
            if not page.get("NextToken"):
                break
            kwargs["NextToken"] = page["NextToken"]
    return found


def describe_tagged_instances(ec2, instance_ids=None, tags=None):
    """{instance id: {"state", "name"}} of EC2 instances by ids or tags (not terminated)."""
    kwargs = {"Filters": [{"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]}]}
    if instance_ids:
        kwargs["InstanceIds"] = list(instance_ids)
    for key, values in (tags or {}).items():
        kwargs["Filters"].append({"Name": "tag:" + key, "Values": values})
    found = {}
    while True:
        page = ec2.describe_instances(aws_retry=True, **kwargs)
        for reservation in page.get("Reservations", []):
            for instance in reservation.get("Instances", []):
                tags_of = {t["Key"]: t["Value"] for t in instance.get("Tags", [])}
                found[instance["InstanceId"]] = {
                    "state": instance.get("State", {}).get("Name", ""),
                    "name": tags_of.get("Name", ""),
                }
        if not page.get("NextToken"):
            break
        kwargs["NextToken"] = page["NextToken"]
    return found


def resolve_targets(ssm, ec2, instance_ids=None, tags=None, managed_out=None):
    """(ids to send to, not managed) where not managed is [{instance_id, instance_name, reason, ping_status}].

    An instance is a target when Systems Manager lists it with PingStatus Online. Named ids that Systems
    Manager does not list, tagged EC2 instances it does not list, and listed instances that are not
    Online are reported in ``not managed`` with the reason.
    """
    managed = describe_managed(ssm, instance_ids=instance_ids, tags=tags)
    if managed_out is not None:
        managed_out.update(managed)
    if instance_ids:
        wanted = list(instance_ids)
        ec2_info = {}
    else:
        ec2_info = describe_tagged_instances(ec2, tags=tags)
        wanted = sorted(set(ec2_info) | set(managed))
    targets, not_managed = [], []
    for instance_id in wanted:
        info = managed.get(instance_id)
        name = (info or {}).get("ComputerName", "") if info else ec2_info.get(instance_id, {}).get("name", "")
        if info is None:
            state = ec2_info.get(instance_id, {}).get("state")
            reason = "not a managed instance: no SSM agent registration (check its instance profile and agent)"
            if state and state != "running":
                reason = "instance is %s and not a managed instance" % state
            not_managed.append(
                {"instance_id": instance_id, "instance_name": name, "reason": reason, "ping_status": "NotRegistered"}
            )
        elif info.get("PingStatus") != "Online":
            not_managed.append(
                {
                    "instance_id": instance_id,
                    "instance_name": name,
                    "reason": "SSM agent is %s (the instance is stopped or the agent cannot reach Systems Manager)"
                    % info.get("PingStatus"),
                    "ping_status": info.get("PingStatus", ""),
                }
            )
        else:
            targets.append(instance_id)
    return targets, not_managed


# --- sending and waiting ---------------------------------------------------------------------------------


def plan_chunks(instance_ids, max_concurrency, max_errors):
    """Split targets into SendCommand batches of at most 50 and share the rate control out.

    Returns (chunks, chunk_concurrency, chunk_errors, active_limit, error_budget): each chunk is sent
    with ``chunk_concurrency`` and ``chunk_errors``; at most ``active_limit`` chunks run at once; the
    whole run stops once more than ``error_budget`` invocations have failed or timed out.
    """
    total = len(instance_ids)
    chunks = _chunks(list(instance_ids), MAX_IDS_PER_COMMAND)
    count = max(1, len(chunks))
    error_budget = rate_count(max_errors, total, 0)
    if len(chunks) <= 1:
        return chunks, max_concurrency, max_errors, 1, error_budget
    if max_concurrency.endswith("%"):
        chunk_concurrency, active = max_concurrency, count
    else:
        allowed = int(max_concurrency)
        per_chunk = max(1, allowed // count)
        chunk_concurrency, active = str(per_chunk), max(1, min(count, allowed // per_chunk))
    # each command may use the whole budget; the run as a whole is stopped by wait_commands
    chunk_errors = max_errors if max_errors.endswith("%") else str(error_budget)
    return chunks, chunk_concurrency, chunk_errors, active, error_budget


def send_command(ssm, request, instance_ids, max_concurrency, max_errors):
    kwargs = {
        "DocumentName": request["document_name"],
        "InstanceIds": list(instance_ids),
        "Parameters": request["parameters"],
        "MaxConcurrency": max_concurrency,
        "MaxErrors": max_errors,
    }
    if request.get("comment"):
        kwargs["Comment"] = request["comment"]
    if request.get("timeout_seconds"):
        kwargs["TimeoutSeconds"] = request["timeout_seconds"]
    return ssm.send_command(aws_retry=True, **kwargs)["Command"]


def command_status(ssm, command_id):
    commands = ssm.list_commands(aws_retry=True, CommandId=command_id).get("Commands", [])
    return commands[0] if commands else {"CommandId": command_id, "Status": "Pending", "ErrorCount": 0}


def run_and_wait(ssm, request, targets, wait=True, wait_timeout=3600, poll=2.0, sleep=None, clock=None):
    """Send the command(s) and, when ``wait``, wait for them. Returns a dict:

    ``commands`` (id -> last ListCommands entry), ``timed_out`` (the wait timed out), ``stopped`` (the
    error budget was exceeded and the rest of the run cancelled), ``not_sent`` (ids of chunks never sent).
    """
    sleep = sleep or time.sleep
    clock = clock or time.monotonic
    chunks, concurrency, errors, active_limit, budget = plan_chunks(
        targets, request["max_concurrency"], request["max_errors"]
    )
    pending = list(chunks)
    running, commands, chunk_of = [], {}, {}
    stopped = timed_out = False
    deadline = clock() + (wait_timeout or 3600)
    delay = min(poll, 1.0)
    while True:
        while pending and (len(running) < active_limit or not wait) and not stopped:
            chunk = pending.pop(0)
            command = send_command(ssm, request, chunk, concurrency, errors)
            commands[command["CommandId"]] = command
            chunk_of[command["CommandId"]] = chunk
            running.append(command["CommandId"])
        if not wait or (not running and not pending) or (stopped and not running):
            break
        if clock() >= deadline:
            timed_out = True
            break
        sleep(delay)
        delay = min(poll, delay * 1.5)
        for command_id in list(running):
            commands[command_id] = command_status(ssm, command_id)
            if commands[command_id].get("Status") in TERMINAL:
                running.remove(command_id)
        error_count = sum(int(c.get("ErrorCount") or 0) for c in commands.values())
        if error_count > budget and not stopped:
            stopped = True
            for command_id in running:
                ssm.cancel_command(aws_retry=True, CommandId=command_id)
    not_sent = [i for chunk in pending for i in chunk]
    return {"commands": commands, "timed_out": timed_out, "stopped": stopped, "not_sent": not_sent}


def cancel_commands(ssm, command_ids):
    for command_id in command_ids:
        ssm.cancel_command(aws_retry=True, CommandId=command_id)


def list_invocations(ssm, command_id):
    """Every invocation of a command, with plugin details (paginated, 50 per call)."""
    kwargs = {"CommandId": command_id, "Details": True, "MaxResults": 50}
    found = []
    while True:
        page = ssm.list_command_invocations(aws_retry=True, **kwargs)
        found += page.get("CommandInvocations", [])
        if not page.get("NextToken"):
            break
        kwargs["NextToken"] = page["NextToken"]
    return found


def _iso(value):
    if value is None or value == "":
        return None
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def summarize_invocation(invocation, output_chars=1000):
    """One instance's result: status, exit code, an output excerpt (its last ``output_chars`` characters)."""
    plugins = invocation.get("CommandPlugins") or []
    output = "\n".join(p.get("Output") or "" for p in plugins).strip("\n")
    codes = [p.get("ResponseCode") for p in plugins if p.get("ResponseCode") is not None]
    starts = [p["ResponseStartDateTime"] for p in plugins if p.get("ResponseStartDateTime")]
    ends = [p["ResponseFinishDateTime"] for p in plugins if p.get("ResponseFinishDateTime")]
    excerpt = output[-output_chars:] if output_chars else ""
    return {
        "instance_id": invocation["InstanceId"],
        "instance_name": invocation.get("InstanceName", ""),
        "command_id": invocation.get("CommandId", ""),
        "status": invocation.get("Status", ""),
        "status_details": invocation.get("StatusDetails", ""),
        "response_code": max(codes, key=abs) if codes else -1,
        "output": excerpt,
        "output_truncated": bool(output_chars) and len(output) > output_chars,
        "start_time": _iso(min(starts)) if starts else None,
        "end_time": _iso(max(ends)) if ends else None,
    }


def summarize(instances, not_managed, not_sent):
    statuses = [i["status"] for i in instances]
    return {
        "targets": len(instances) + len(not_sent),
        "success": statuses.count("Success"),
        "failed": statuses.count("Failed"),
        "timed_out": statuses.count("TimedOut"),
        "cancelled": statuses.count("Cancelled"),
        "in_progress": sum(1 for s in statuses if s not in TERMINAL),
        "not_sent": len(not_sent),
        "not_managed": len(not_managed),
    }


def overall_status(summary, outcome):
    if outcome.get("timed_out"):
        return "WaitTimedOut"
    if outcome.get("stopped"):
        return "Stopped"
    if summary["failed"] or summary["timed_out"]:
        return "Failed"
    if summary["cancelled"]:
        return "Cancelled"
    return "Success"


def run_command(ssm, ec2, params, check_mode=False, sleep=None, clock=None):
    """What ssm_command does; returns the module result (without ``failed``/``msg`` decisions)."""
    request = validate_request(params)
    managed = {}
    targets, not_managed = resolve_targets(ssm, ec2, request["instance_ids"], request["tags"], managed_out=managed)
    result = {
        "changed": False,
        "document_name": request["document_name"],
        "command_ids": [],
        "target_ids": targets,
        "not_managed": not_managed,
        "instances": [],
    }
    if not_managed and params.get("on_unmanaged", "fail") == "fail":
        result["status"] = "NotSent"
        result["summary"] = summarize([], not_managed, targets)
        result["msg"] = "Nothing was sent: %d target instance(s) are not managed by Systems Manager: %s" % (
            len(not_managed),
            "; ".join("%s (%s)" % (i["instance_id"], i["reason"]) for i in not_managed),
        )
        result["error"] = True
        return result
    if not targets:
        result["status"] = "NoTargets"
        result["summary"] = summarize([], not_managed, [])
        result["msg"] = "No managed instance matched; nothing was sent"
        return result
    if check_mode:
        result["changed"] = True
        result["status"] = "WouldSend"
        result["instances"] = [{"instance_id": i, "status": "WouldRun"} for i in targets]
        result["summary"] = summarize([], not_managed, [])
        result["summary"]["targets"] = len(targets)
        result["msg"] = "Check mode: %s would be sent to %d instance(s) in %d command(s)" % (
            request["document_name"],
            len(targets),
            len(plan_chunks(targets, request["max_concurrency"], request["max_errors"])[0]),
        )
        return result
    outcome = run_and_wait(
        ssm,
        request,
        targets,
        wait=params.get("wait", True),
        wait_timeout=request["wait_timeout"] or 3600,
        poll=params.get("poll_interval") or 2.0,
        sleep=sleep,
        clock=clock,
    )
    result["changed"] = True
    result["command_ids"] = list(outcome["commands"])
    if not params.get("wait", True):
        result["status"] = "Sent"
        result["summary"] = summarize([], not_managed, outcome["not_sent"])
        result["msg"] = "Sent %s to %d instance(s); not waiting" % (request["document_name"], len(targets))
        return result
    if outcome["timed_out"] and params.get("cancel_on_timeout", True):
        cancel_commands(ssm, [c for c, v in outcome["commands"].items() if v.get("Status") not in TERMINAL])
    instances = []
    for command_id in outcome["commands"]:
        instances += [summarize_invocation(i, request["output_chars"]) for i in list_invocations(ssm, command_id)]
    instances.sort(key=lambda i: i["instance_id"])
    if params.get("report_patch_state") and request["document_name"] == "AWS-RunPatchBaseline":
        states = describe_patch_states(ssm, [i["instance_id"] for i in instances])
        for entry in instances:
            entry["patch_state"] = instance_compliance(
                entry["instance_id"], managed.get(entry["instance_id"]), states.get(entry["instance_id"])
            )
    summary = summarize(instances, not_managed, outcome["not_sent"])
    status = overall_status(summary, outcome)
    result.update(instances=instances, summary=summary, status=status, not_sent=outcome["not_sent"])
    problems = [i for i in instances if i["status"] != "Success"]
    result["msg"] = "%s on %d instance(s): %d succeeded, %d failed, %d timed out, %d cancelled%s%s%s" % (
        request["document_name"],
        len(instances),
        summary["success"],
        summary["failed"],
        summary["timed_out"],
        summary["cancelled"],
        "; the error budget (max_errors %s) was exceeded and the rest of the run stopped" % request["max_errors"]
        if outcome["stopped"]
        else "",
        "; the wait timed out after %ss" % request["wait_timeout"] if outcome["timed_out"] else "",
        "; %d not managed: %s" % (len(not_managed), ", ".join(i["instance_id"] for i in not_managed))
        if not_managed
        else "",
    )
    result["error"] = bool(problems or outcome["timed_out"] or outcome["not_sent"])
    return result


# --- patch compliance ------------------------------------------------------------------------------------

PATCH_STATE_FIELDS = {
    "BaselineId": "baseline_id",
    "PatchGroup": "patch_group",
    "InstalledCount": "installed_count",
    "InstalledOtherCount": "installed_other_count",
    "InstalledPendingRebootCount": "installed_pending_reboot_count",
    "InstalledRejectedCount": "installed_rejected_count",
    "MissingCount": "missing_count",
    "FailedCount": "failed_count",
    "NotApplicableCount": "not_applicable_count",
    "CriticalNonCompliantCount": "critical_non_compliant_count",
    "SecurityNonCompliantCount": "security_non_compliant_count",
    "OtherNonCompliantCount": "other_non_compliant_count",
    "Operation": "last_operation",
    "RebootOption": "reboot_option",
}
COUNT_KEYS = (
    "installed_count",
    "installed_other_count",
    "installed_pending_reboot_count",
    "installed_rejected_count",
    "missing_count",
    "failed_count",
    "not_applicable_count",
    "critical_non_compliant_count",
    "security_non_compliant_count",
    "other_non_compliant_count",
)


def describe_patch_states(ssm, instance_ids):
    """{instance id: InstancePatchState}, 50 instance ids per call (the API's limit), paginated."""
    found = {}
    for chunk in _chunks(list(instance_ids), 50):
        kwargs = {"InstanceIds": chunk, "MaxResults": 50}
        while True:
            page = ssm.describe_instance_patch_states(aws_retry=True, **kwargs)
            for state in page.get("InstancePatchStates", []):
                found[state["InstanceId"]] = state
            if not page.get("NextToken"):
                break
            kwargs["NextToken"] = page["NextToken"]
    return found


def instance_compliance(instance_id, info, state, name=""):
    """One instance's patch compliance as ssm_patch_compliance_info returns it."""
    entry = {
        "instance_id": instance_id,
        "instance_name": name or (info or {}).get("ComputerName", ""),
        "managed": info is not None,
        "ping_status": (info or {}).get("PingStatus", "NotRegistered"),
        "platform_name": (info or {}).get("PlatformName", ""),
        "platform_version": (info or {}).get("PlatformVersion", ""),
    }
    if state is None:
        entry.update(dict.fromkeys(PATCH_STATE_FIELDS.values()))
        entry.update(
            compliance="NOT_MANAGED" if info is None else "NOT_SCANNED",
            last_operation_start_time=None,
            last_operation_end_time=None,
        )
        return entry
    for key, value in PATCH_STATE_FIELDS.items():
        entry[value] = state.get(key)
    for key in COUNT_KEYS:
        entry[key] = int(entry.get(key) or 0)
    entry["last_operation_start_time"] = _iso(state.get("OperationStartTime"))
    entry["last_operation_end_time"] = _iso(state.get("OperationEndTime"))
    entry["compliance"] = "NON_COMPLIANT" if entry["missing_count"] or entry["failed_count"] else "COMPLIANT"
    return entry


def fleet_summary(instances):
    by_compliance = {}
    baselines = {}
    for entry in instances:
        by_compliance[entry["compliance"]] = by_compliance.get(entry["compliance"], 0) + 1
        if entry.get("baseline_id"):
            baselines[entry["baseline_id"]] = baselines.get(entry["baseline_id"], 0) + 1
    scanned = [e for e in instances if e["compliance"] in ("COMPLIANT", "NON_COMPLIANT")]
    return {
        "instances": len(instances),
        "managed": sum(1 for e in instances if e["managed"]),
        "not_managed": by_compliance.get("NOT_MANAGED", 0),
        "not_scanned": by_compliance.get("NOT_SCANNED", 0),
        "compliant": by_compliance.get("COMPLIANT", 0),
        "non_compliant": by_compliance.get("NON_COMPLIANT", 0),
        "missing_count": sum(e["missing_count"] for e in scanned),
        "failed_count": sum(e["failed_count"] for e in scanned),
        "installed_pending_reboot_count": sum(e["installed_pending_reboot_count"] for e in scanned),
        "security_non_compliant_count": sum(e["security_non_compliant_count"] for e in scanned),
        "baselines": baselines,
    }


def patch_compliance(ssm, ec2, instance_ids=None, tags=None):
    """Per-instance patch compliance and a fleet summary, for ids, tags, or every managed instance."""
    instance_ids = list(dict.fromkeys(instance_ids or []))
    bad = [i for i in instance_ids if not INSTANCE_ID_PATTERN.match(str(i))]
    if bad:
        raise ParameterError("instance_ids", bad, "contains values that are not instance ids", "ids such as i-0abc1234")
    tags = normalize_tags(tags)
    if instance_ids and tags:
        raise ParameterError(
            "instance_ids", instance_ids, "cannot be combined with tags", "either instance_ids or tags"
        )
    managed = describe_managed(ssm, instance_ids=instance_ids or None, tags=tags or None)
    names = {}
    if instance_ids:
        wanted = instance_ids
    elif tags:
        ec2_info = describe_tagged_instances(ec2, tags=tags)
        names = {k: v["name"] for k, v in ec2_info.items()}
        wanted = sorted(set(ec2_info) | set(managed))
    else:
        wanted = sorted(managed)
    states = describe_patch_states(ssm, [i for i in wanted if i in managed])
    instances = [instance_compliance(i, managed.get(i), states.get(i), names.get(i, "")) for i in wanted]
    return {"changed": False, "instances": instances, "summary": fleet_summary(instances)}
