"""Systems Manager Run Command in the sandbox: SendCommand, ListCommands, ListCommandInvocations,
GetCommandInvocation, CancelCommand, and maintenance-window executions run on demand.

moto 5.2 answers SendCommand with a command that is already "Success" and runs nothing; these additions
replace it. A command goes to managed instances (``ssm_inventory.managed_instances``: the instance
profile's role lets the SSM agent register) named by ``InstanceIds`` or resolved from ``Targets``
(``InstanceIds``, ``tag:<key>``, ``tag-key``). SendCommand answers at once with a Pending command; a
background thread per command starts the invocations with AWS's rate control:

* ``MaxConcurrency`` (a number or a percentage of the targets, default 50) invocations run at once;
* ``MaxErrors`` (a number or a percentage, default 0): once the failed and timed-out invocations exceed
  it, no further invocation is started; those not started end ``Cancelled`` and the command ``Failed``.
  A command whose errors stay within MaxErrors ends ``Success`` (as on AWS, that does not mean every
  invocation succeeded);
* ``TimeoutSeconds``: how long an invocation waits for delivery. An instance that is not running (SSM
  PingStatus ConnectionLost) never picks the command up: its invocation ends ``TimedOut`` ("Delivery Timed
  Out") after ``min(TimeoutSeconds, DELIVERY_WAIT_SECONDS)`` seconds, so tests need not wait an hour;
* the document's ``executionTimeout`` parameter (default 3600 s): a script running longer is killed and its
  invocation ends ``TimedOut`` ("Execution Timed Out").

Where a command runs
--------------------
An instance tagged ``sandbox:rootfs`` (value: a Debian release such as ``bookworm``), or launched from an AMI
tagged so, is backed by a real Debian root filesystem: ``sandbox.rootfs.clone(<instance id>, release)``, made
on first use. There:

* ``AWS-RunShellScript`` runs its ``commands`` (in ``workingDirectory``) with ``/bin/sh`` chrooted into
  the root (``rootfs.run``): real output, real exit code.
* ``AWS-RunPatchBaseline`` ``Operation=Scan`` counts the really upgradable packages (``rootfs.upgradable``);
  ``Install`` really upgrades them (``apt-get dist-upgrade`` from the root's local repositories).
  ``RebootOption=RebootIfNeeded`` "reboots" when ``/var/run/reboot-required`` exists (the flag files are
  removed, the instance stays running); ``NoReboot`` leaves the installed packages counted in
  ``InstalledPendingRebootCount``.

An instance without the tag has no operating system in the sandbox: commands there complete at once with
a synthetic success, so fleets of hundreds of instances run in milliseconds. ``AWS-RunShellScript`` ends
Success with exit code 0 and the output ``sandbox: no root filesystem ...: the script was not run`` (the
output says plainly that nothing ran), and ``AWS-RunPatchBaseline`` uses a simulated package state: a few
missing patches per instance (a number derived from the instance id) that ``Install`` clears.
The real and simulated paths record their result the same way
(``_record_patch_result``): the instance's patch state (DescribeInstancePatchStates, with the baseline of
the instance's patch group, tag ``Patch Group`` or ``PatchGroup``, else the region's default baseline for
its operating system) and its Patch compliance items (ListComplianceItems and the summaries).

Other documents are not executed: their invocations fail with ``sandbox: document ... is not executed``.

Control routes (JSON in and out, under ``/_sandbox/``)
------------------------------------------------------
``POST ssm/instance-failures`` ``{"i-...": 3}`` or ``{"i-...": {"exit_code": 3, "delay_seconds": 5,
"output": "...", "operation": "Install"}}``: every later command on that instance (any document; with
``operation``, only AWS-RunPatchBaseline with that Operation) ends with that exit code, after the delay,
without running (exit code 0 with a delay makes slow instances). ``null`` removes an
entry; ``DELETE ssm/instance-failures`` removes all; ``GET`` lists them.

``GET ssm/commands``: the commands (id, document, status, counts) and ``execution_seconds`` (the summed
time invocations spent executing, as the sandbox measured it) and ``busy_seconds`` (the wall time during
which at least one invocation was executing).

``POST ssm/maintenance-windows/run`` ``{"WindowId": "mw-...", "region": "us-east-1", "wait": true,
"cutoff_seconds": null, "hour_seconds": 60}``: runs the window's RUN_COMMAND tasks now, in priority
order, each as a command against the task's targets (window targets by ``WindowTargetIds``, or the task's
own ``InstanceIds``/tag targets) with the task's MaxConcurrency and MaxErrors and its Run Command
parameters. The window's cutoff is honoured: no task starts after ``cutoff_seconds`` (default: the window's
``Duration - Cutoff`` hours, each hour scaled to ``hour_seconds`` seconds, default 60); with the task's
``CutoffBehavior`` ``CANCEL_TASK`` a task still running at the cutoff is cancelled. The execution is
recorded for DescribeMaintenanceWindowExecutions, DescribeMaintenanceWindowExecutionTasks,
DescribeMaintenanceWindowExecutionTaskInvocations, GetMaintenanceWindowExecution and
GetMaintenanceWindowExecutionTask. Answers ``{"WindowExecutionId": ..., "Status": ...}``.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
import json
import logging
import math
import threading
import time
import uuid

from sandbox import DEFAULT_ACCOUNT_ID
from sandbox.additions import AdditionError, ControlError, addition, control, on_reset
from sandbox.additions import ssm_inventory as inventory

log = logging.getLogger("sandbox.additions.ssm")

DELIVERY_WAIT_SECONDS = 3.0
GET_OUTPUT_LIMIT = 24000  # GetCommandInvocation's StandardOutputContent
LIST_OUTPUT_LIMIT = 2500  # ListCommandInvocations Details: a plugin's Output
DEFAULT_EXECUTION_TIMEOUT = 3600
TERMINAL = ("Success", "Failed", "TimedOut", "Cancelled")
PLUGINS = {"AWS-RunShellScript": "aws:runShellScript", "AWS-RunPatchBaseline": "PatchLinux"}
NO_ROOT = "sandbox: no root filesystem"
_PATCH_DOC_PARAMS = {
    "Operation",
    "SnapshotId",
    "InstallOverrideList",
    "BaselineOverride",
    "RebootOption",
    "AssociationId",
}
_SHELL_DOC_PARAMS = {"commands", "workingDirectory", "executionTimeout"}

_lock = threading.RLock()
_changed = threading.Condition(_lock)
_COMMANDS: dict[str, Command] = {}
_FAILURES: dict[str, dict] = {}
_SIMULATED: dict[tuple[str, str, str], dict] = {}
_WINDOW_EXECUTIONS: dict[str, dict] = {}
_CLONED: set[str] = set()
_generation = [0]


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


@dataclasses.dataclass
class Invocation:
    instance_id: str
    instance_name: str
    status: str = "Pending"
    details: str = "Pending"
    response_code: int = -1
    stdout: str = ""
    stderr: str = ""
    start: datetime.datetime | None = None
    end: datetime.datetime | None = None
    requested: datetime.datetime = dataclasses.field(default_factory=_now)

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL


@dataclasses.dataclass
class Command:
    command_id: str
    account_id: str
    region: str
    document: str
    parameters: dict
    comment: str
    timeout_seconds: int
    max_concurrency: str
    max_errors: str
    targets: list
    instance_ids: list
    invocations: dict
    requested: datetime.datetime = dataclasses.field(default_factory=_now)
    status: str = "Pending"
    details: str = "Pending"
    cancel: threading.Event = dataclasses.field(default_factory=threading.Event)
    generation: int = 0

    def counts(self) -> tuple[int, int, int]:
        invocations = list(self.invocations.values())
        completed = sum(1 for i in invocations if i.terminal)
        errors = sum(1 for i in invocations if i.status in ("Failed", "TimedOut") and i.details != "Delivery Timed Out")
        delivery = sum(1 for i in invocations if i.details == "Delivery Timed Out")
        return completed, errors, delivery

    def describe(self) -> dict:
        completed, errors, delivery = self.counts()
        out = {
            "CommandId": self.command_id,
            "DocumentName": self.document,
            "DocumentVersion": "$DEFAULT",
            "Comment": self.comment,
            "ExpiresAfter": self.requested + datetime.timedelta(seconds=self.timeout_seconds),
            "Parameters": self.parameters,
            "InstanceIds": list(self.instance_ids),
            "Targets": self.targets,
            "RequestedDateTime": self.requested,
            "Status": self.status,
            "StatusDetails": self.details,
            "OutputS3Region": self.region,
            "OutputS3BucketName": "",
            "OutputS3KeyPrefix": "",
            "MaxConcurrency": self.max_concurrency,
            "MaxErrors": self.max_errors,
            "TargetCount": len(self.invocations),
            "CompletedCount": completed,
            "ErrorCount": errors + delivery,
            "DeliveryTimedOutCount": delivery,
            "ServiceRole": "",
            "NotificationConfig": {"NotificationArn": "", "NotificationEvents": [], "NotificationType": "Command"},
            "CloudWatchOutputConfig": {"CloudWatchLogGroupName": "", "CloudWatchOutputEnabled": False},
            "TimeoutSeconds": self.timeout_seconds,
        }
        return out


@on_reset
def _clear() -> None:
    with _lock:
        _generation[0] += 1
        for command in _COMMANDS.values():
            command.cancel.set()
        _COMMANDS.clear()
        _FAILURES.clear()
        _SIMULATED.clear()
        _WINDOW_EXECUTIONS.clear()
        cloned = sorted(_CLONED)
        _CLONED.clear()
        _changed.notify_all()
    if cloned:
        threading.Thread(target=_remove_clones, args=(cloned,), daemon=True).start()


def _remove_clones(names: list[str]) -> None:
    try:
        from sandbox import rootfs

        for name in names:
            rootfs.remove(name)
    except Exception as error:  # a clone still in use by a late invocation: leave it, the next reset retries
        log.warning("could not remove instance roots %s: %s", names, error)


# --- parameters and targets -------------------------------------------------------------------------------


def _validation(message: str, code: str = "ValidationException") -> AdditionError:
    return AdditionError(code, message)


def _rate(value: str | None, total: int, default: str, name: str, minimum: int) -> int:
    text = str(value if value not in (None, "") else default).strip()
    try:
        if text.endswith("%"):
            percent = int(text[:-1])
            if not 0 <= percent <= 100:
                raise ValueError
            number = math.floor(total * percent / 100)
        else:
            number = int(text)
            if number < 0:
                raise ValueError
    except ValueError:
        raise _validation(
            f"1 validation error detected: Value '{text}' at '{name}' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: ^([1-9][0-9]*|[1-9][0-9]%|[1-9]%|100%)$"
        ) from None
    return max(minimum, number)


def _check_parameters(document: str, parameters: dict) -> dict:
    parameters = {key: list(value) for key, value in (parameters or {}).items()}
    if document == "AWS-RunShellScript":
        unknown = set(parameters) - _SHELL_DOC_PARAMS
        if unknown or not parameters.get("commands"):
            raise AdditionError(
                "InvalidParameters", f"document AWS-RunShellScript needs commands; unknown: {sorted(unknown)}"
            )
        timeout = parameters.get("executionTimeout", [str(DEFAULT_EXECUTION_TIMEOUT)])[0]
        if not str(timeout).isdigit() or not 1 <= int(timeout) <= 172800:
            raise AdditionError(
                "InvalidParameters", f"executionTimeout {timeout!r} is not a number of seconds 1-172800"
            )
    elif document == "AWS-RunPatchBaseline":
        unknown = set(parameters) - _PATCH_DOC_PARAMS
        operation = (parameters.get("Operation") or [""])[0]
        reboot = (parameters.get("RebootOption") or ["RebootIfNeeded"])[0]
        if unknown or operation not in ("Scan", "Install") or reboot not in ("RebootIfNeeded", "NoReboot"):
            raise AdditionError(
                "InvalidParameters",
                "AWS-RunPatchBaseline needs Operation Scan|Install and RebootOption RebootIfNeeded|NoReboot"
                + (f"; unknown parameters {sorted(unknown)}" if unknown else ""),
            )
    return parameters


def _document_exists(ctx, name: str) -> bool:
    if name in PLUGINS:
        return True
    try:
        return name in ctx.backend("ssm")._documents
    except Exception:  # moto keeps documents elsewhere: let the invocation say it cannot run it
        return True


def _resolve_targets(account_id: str, region: str, instance_ids: list, targets: list) -> list[str]:
    managed = {i["InstanceId"]: i for i in inventory.managed_instances(None, region, account_id)}
    if instance_ids:
        unknown = [i for i in instance_ids if i not in managed]
        if unknown:
            raise AdditionError(
                "InvalidInstanceId",
                f"Instances {json.dumps(unknown)} not in a valid state for account {account_id}",
            )
        return list(dict.fromkeys(instance_ids))
    found = set(managed)
    ec2 = inventory._ec2(account_id, region)
    tags = {i.id: inventory.instance_tags(i) for i in ec2.all_instances() if i.id in managed}
    for target in targets:
        key, values = target.get("Key", ""), target.get("Values") or []
        if key == "InstanceIds":
            found &= set(values)
        elif key.startswith("tag:"):
            found &= {i for i in found if tags.get(i, {}).get(key[4:]) in values}
        elif key == "tag-key":
            found &= {i for i in found if any(v in tags.get(i, {}) for v in values)}
        else:
            raise _validation(f"Target key {key!r} is not supported (InstanceIds, tag:<key>, tag-key)")
    return sorted(found)


def _names(account_id: str, region: str) -> dict[str, str]:
    ec2 = inventory._ec2(account_id, region)
    return {i.id: inventory.instance_tags(i).get("Name", "") for i in ec2.all_instances()}


def start_command(
    account_id: str,
    region: str,
    document: str,
    parameters: dict,
    *,
    instance_ids: list | None = None,
    targets: list | None = None,
    comment: str = "",
    timeout_seconds: int | None = None,
    max_concurrency: str | None = None,
    max_errors: str | None = None,
) -> Command:
    """Create a command and start running it in the background (SendCommand, maintenance-window tasks)."""
    instance_ids, targets = list(instance_ids or []), list(targets or [])
    if instance_ids and targets:
        raise _validation("InstanceIds and Targets cannot be used in the same request.")
    if not instance_ids and not targets:
        raise _validation("Either InstanceIds or Targets must be specified.")
    if len(targets) > 5:
        raise _validation("Targets: Member must have length less than or equal to 5")
    if timeout_seconds is not None and not 30 <= int(timeout_seconds) <= 2592000:
        raise _validation(f"TimeoutSeconds {timeout_seconds} is not between 30 and 2592000")
    parameters = _check_parameters(document, parameters)
    ids = _resolve_targets(account_id, region, instance_ids, targets)
    names = _names(account_id, region)
    total = len(ids)
    concurrency = max_concurrency or "50"
    errors = max_errors or "0"
    _rate(concurrency, total, "50", "maxConcurrency", 1)
    _rate(errors, total, "0", "maxErrors", 0)
    with _lock:
        command = Command(
            command_id=str(uuid.uuid4()),
            account_id=account_id,
            region=region,
            document=document,
            parameters=parameters,
            comment=comment or "",
            timeout_seconds=int(timeout_seconds or 3600),
            max_concurrency=concurrency,
            max_errors=errors,
            targets=targets,
            instance_ids=ids if instance_ids else [],
            invocations={i: Invocation(i, names.get(i, "")) for i in ids},
            generation=_generation[0],
        )
        if not ids:
            command.status, command.details = "Success", "No Instances In Tag"
        _COMMANDS[command.command_id] = command
    if ids:
        threading.Thread(target=_controller, args=(command,), name=f"ssm-{command.command_id[:8]}", daemon=True).start()
    return command


# --- execution -------------------------------------------------------------------------------------------


def _stale(command: Command) -> bool:
    return command.generation != _generation[0]


def _controller(command: Command) -> None:
    total = len(command.invocations)
    concurrency = _rate(command.max_concurrency, total, "50", "maxConcurrency", 1)
    allowed_errors = _rate(command.max_errors, total, "0", "maxErrors", 0)
    pending = list(command.invocations.values())
    running: list[threading.Thread] = []
    with _lock:
        command.status, command.details = "InProgress", "InProgress"
    while True:
        with _lock:
            running = [t for t in running if t.is_alive()]
            _completed, errors, delivery = command.counts()
            stop = command.cancel.is_set() or _stale(command) or errors + delivery > allowed_errors
            if stop and pending:
                for item in pending:
                    item.status, item.details, item.end = "Cancelled", "Cancelled", _now()
                pending = []
            while pending and len(running) < concurrency:
                item = pending.pop(0)
                thread = threading.Thread(target=_invoke, args=(command, item), daemon=True)
                thread.start()
                running.append(thread)
            if not pending and not running:
                break
            _changed.wait(timeout=0.5)
    with _lock:
        _completed, errors, delivery = command.counts()
        if command.cancel.is_set() and not _stale(command):
            command.status, command.details = "Cancelled", "Cancelled"
        elif errors + delivery > allowed_errors:
            command.status, command.details = "Failed", "Failed"
        elif delivery and delivery == total:
            command.status, command.details = "TimedOut", "Delivery Timed Out"
        else:
            command.status, command.details = "Success", "Success"
        _changed.notify_all()


def _finish(command: Command, item: Invocation, status: str, details: str, rc: int, out: str, err: str) -> None:
    with _lock:
        if item.status == "Cancelled":  # cancelled while it ran: the result is dropped, as AWS reports it
            _changed.notify_all()
            return
        item.status, item.details, item.response_code = status, details, rc
        item.stdout, item.stderr, item.end = out, err, _now()
        _changed.notify_all()


def _instance(account_id: str, region: str, instance_id: str):
    try:
        return inventory._ec2(account_id, region).get_instance(instance_id)
    except Exception:  # terminated and gone
        return None


def _invoke(command: Command, item: Invocation) -> None:
    try:
        _invoke_unchecked(command, item)
    except Exception as error:  # a sandbox bug: report it in the invocation, never leave it hanging
        log.exception("invocation %s/%s failed", command.command_id, item.instance_id)
        _finish(command, item, "Failed", "Failed", 1, "", f"sandbox: {type(error).__name__}: {error}")


def _invoke_unchecked(command: Command, item: Invocation) -> None:
    instance = _instance(command.account_id, command.region, item.instance_id)
    if instance is None or instance.state != "running":
        # the agent is not connected: the command is never delivered
        command.cancel.wait(min(command.timeout_seconds, DELIVERY_WAIT_SECONDS))
        _finish(command, item, "TimedOut", "Delivery Timed Out", -1, "", "")
        return
    with _lock:
        item.status, item.details, item.start = "InProgress", "InProgress", _now()
        failure = _FAILURES.get(item.instance_id)
    if failure is not None and failure.get("operation"):  # only AWS-RunPatchBaseline with that Operation
        operation = (command.parameters.get("Operation") or [""])[0]
        if command.document != "AWS-RunPatchBaseline" or operation != failure["operation"]:
            failure = None
    if failure is not None:
        if command.cancel.wait(float(failure.get("delay_seconds") or 0)):
            return
        rc = int(failure.get("exit_code", 1))
        out = failure.get("output") or ("" if rc == 0 else f"sandbox: injected failure, exit code {rc}")
        _finish(command, item, "Success" if rc == 0 else "Failed", "Success" if rc == 0 else "Failed", rc, out, "")
        return
    release = inventory.rootfs_release(instance)
    if command.document == "AWS-RunShellScript":
        _run_shell(command, item, release)
    elif command.document == "AWS-RunPatchBaseline":
        _run_patch_baseline(command, item, instance, release)
    else:
        _finish(
            command,
            item,
            "Failed",
            "Failed",
            1,
            "",
            f"sandbox: document {command.document} is not executed by the sandbox",
        )


def _root(instance_id: str, release: str):
    from sandbox import rootfs

    with _lock:
        fresh = instance_id not in _CLONED
        _CLONED.add(instance_id)
    return rootfs.clone(instance_id, release=release, fresh=fresh)


def _execution_timeout(command: Command) -> int:
    return int((command.parameters.get("executionTimeout") or [DEFAULT_EXECUTION_TIMEOUT])[0])


def _run_shell(command: Command, item: Invocation, release: str | None) -> None:
    if not release:
        _finish(
            command,
            item,
            "Success",
            "Success",
            0,
            f"{NO_ROOT} on {item.instance_id}: the script was not run (synthetic success; tag the instance "
            "sandbox:rootfs=<Debian release> to back it with a Debian root)\n",
            "",
        )
        return
    from sandbox import rootfs

    root = _root(item.instance_id, release)
    script = "\n".join(command.parameters["commands"])
    workdir = (command.parameters.get("workingDirectory") or [""])[0]
    if workdir:
        script = f"cd {json.dumps(workdir)} || exit 1\n{script}"
    try:
        rc, out, err = rootfs.run(root, script, timeout=_execution_timeout(command))
    except rootfs.RunTimeout as timeout:
        _finish(
            command,
            item,
            "TimedOut",
            "Execution Timed Out",
            -1,
            timeout.stdout if hasattr(timeout, "stdout") else "",
            "",
        )
        return
    status = "Success" if rc == 0 else "Failed"
    _finish(command, item, status, status, rc, out, err)


# --- AWS-RunPatchBaseline ----------------------------------------------------------------------------------


def _patch_group(instance) -> str:
    tags = inventory.instance_tags(instance)
    return tags.get("Patch Group") or tags.get("PatchGroup") or ""


def _operating_system(instance, release: str | None, account_id: str, region: str) -> str:
    if release:
        return "DEBIAN"
    image = inventory._ec2(account_id, region).amis.get(instance.image_id)
    name, version = inventory.platform_of(getattr(image, "name", None))
    return {
        ("Amazon Linux", "2"): "AMAZON_LINUX_2",
        ("Amazon Linux", "2023"): "AMAZON_LINUX_2023",
        ("Amazon Linux AMI", "2018.03"): "AMAZON_LINUX",
    }.get(
        (name, version),
        {"Ubuntu": "UBUNTU", "Debian GNU/Linux": "DEBIAN", "Red Hat Enterprise Linux": "REDHAT_ENTERPRISE_LINUX"}.get(
            name, "AMAZON_LINUX_2"
        ),
    )


def baseline_for(account_id: str, region: str, patch_group: str, operating_system: str) -> str:
    """The baseline AWS-RunPatchBaseline uses: the patch group's for the OS, else the default for the OS."""
    try:
        from moto.backends import get_backend

        ssm = get_backend("ssm")[account_id][region]
        group = ssm.patch_groups.get(patch_group) if patch_group else None
        if group is not None and group.associations.get(operating_system):
            return group.associations[operating_system]
        try:  # a default registered with RegisterDefaultPatchBaseline (sandbox.additions.ssm_patching)
            from sandbox.additions import ssm_patching

            with ssm_patching._lock:
                chosen = ssm_patching._DEFAULTS.get((account_id, region, operating_system))
            if chosen and chosen in ssm.baselines:
                return chosen
        except (ImportError, AttributeError):
            pass
        for baseline in ssm.baselines.values():
            if getattr(baseline, "default_baseline", False) and baseline.operating_system == operating_system:
                return baseline.id
        from moto.utilities.utils import load_resource

        defaults = load_resource("ssm/resources/default_baselines.json")
        return defaults.get(region, {}).get(operating_system) or "pb-sandbox"
    except Exception as error:  # moto changed: still record a state
        log.debug("no baseline for %s/%s: %s", patch_group, operating_system, error)
        return "pb-sandbox"


def _simulated(account_id: str, region: str, instance_id: str) -> dict:
    key = (account_id, region, instance_id)
    with _lock:
        state = _SIMULATED.get(key)
        if state is None:
            digest = int(hashlib.sha256(instance_id.encode()).hexdigest()[:8], 16)
            missing = [
                {
                    "package": f"sandbox-simulated-{n + 1}",
                    "installed": "1.0",
                    "candidate": "1.1",
                    "security": n % 2 == 0,
                }
                for n in range(2 + digest % 5)
            ]
            state = {"installed": 380 + digest % 60, "missing": missing, "pending": []}
            _SIMULATED[key] = state
        return state


def _run_patch_baseline(command: Command, item: Invocation, instance, release: str | None) -> None:
    operation = command.parameters["Operation"][0]
    reboot = (command.parameters.get("RebootOption") or ["RebootIfNeeded"])[0]
    started = _now()
    if release:
        result = _patch_root(command, item, release, operation, reboot)
    else:
        result = _patch_simulated(command, item, operation, reboot)
    if result is None:
        return
    group = _patch_group(instance)
    os_name = _operating_system(instance, release, command.account_id, command.region)
    baseline = baseline_for(command.account_id, command.region, group, os_name)
    _record_patch_result(command, item, group, baseline, operation, reboot, started, result)


def _patch_simulated(command: Command, item: Invocation, operation: str, reboot: str) -> dict:
    state = _simulated(command.account_id, command.region, item.instance_id)
    with _lock:
        installed_now = []
        if operation == "Install":
            installed_now = state["missing"]
            state["installed"] += len(installed_now)
            state["missing"] = []
            state["pending"] = [] if reboot == "RebootIfNeeded" else state["pending"] + installed_now
        return {
            "installed_count": state["installed"],
            "missing": list(state["missing"]),
            "failed": [],
            "installed_now": list(installed_now),
            "pending": list(state["pending"]),
            "rebooted": bool(installed_now) and reboot == "RebootIfNeeded",
            "rc": 0,
            "log": "",
        }


def _patch_root(command: Command, item: Invocation, release: str, operation: str, reboot: str) -> dict | None:
    from sandbox import rootfs

    root = _root(item.instance_id, release)
    timeout = _execution_timeout(command)
    try:
        before = rootfs.upgradable(root, update=True, timeout=timeout)
        rc, log_text = 0, ""
        if operation == "Install" and before:
            rc, out, err = rootfs.run(
                root,
                "apt-get -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold dist-upgrade",
                timeout=timeout,
            )
            log_text = (out + err)[-4000:]
        after = rootfs.upgradable(root, update=False, timeout=timeout) if operation == "Install" else before
    except rootfs.RunTimeout:
        _finish(command, item, "TimedOut", "Execution Timed Out", -1, "", "")
        return None
    still = {p["package"] for p in after}
    installed_now = [p for p in before if p["package"] not in still]
    failed = [p for p in before if p["package"] in still] if operation == "Install" and rc != 0 else []
    missing = [p for p in after if p["package"] not in {f["package"] for f in failed}]
    flag = rootfs._inside(root, "var/run/reboot-required")
    rebooted = False
    pending_file = rootfs._inside(root, "var/run/sandbox-pending-reboot.json")
    pending = json.loads(pending_file.read_text()) if pending_file.exists() else []
    if flag.exists():
        if reboot == "RebootIfNeeded":
            for path in (flag, rootfs._inside(root, "var/run/reboot-required.pkgs"), pending_file):
                path.unlink(missing_ok=True)
            pending, rebooted = [], True
        else:
            pending = pending + [p for p in installed_now if p not in pending]
            pending_file.write_text(json.dumps(pending))
    return {
        "installed_count": len(rootfs.installed_packages(root)),
        "missing": missing,
        "failed": failed,
        "installed_now": installed_now,
        "pending": pending,
        "rebooted": rebooted,
        "rc": rc,
        "log": log_text,
    }


def _record_patch_result(command, item, group, baseline, operation, reboot, started, result) -> None:
    """Record what AWS-RunPatchBaseline found or did (real root or simulated) and finish the invocation."""
    ended = _now()
    missing, failed, pending = result["missing"], result["failed"], result["pending"]
    security_missing = sum(1 for p in missing if p.get("security"))
    fields = {
        "PatchGroup": group,
        "BaselineId": baseline,
        "InstalledCount": result["installed_count"],
        "InstalledOtherCount": 0,
        "InstalledPendingRebootCount": len(pending),
        "InstalledRejectedCount": 0,
        "MissingCount": len(missing),
        "FailedCount": len(failed),
        "NotApplicableCount": 0,
        "OperationStartTime": started,
        "OperationEndTime": ended,
        "Operation": operation,
        "RebootOption": reboot,
        "CriticalNonCompliantCount": security_missing,
        "SecurityNonCompliantCount": security_missing,
        "OtherNonCompliantCount": len(missing) - security_missing + len(failed),
    }
    if operation == "Install" and reboot == "NoReboot":
        fields["LastNoRebootInstallOperationTime"] = ended
    inventory.record_patch_state(command.account_id, command.region, item.instance_id, **fields)
    items = []
    for package, status, state in (
        [(p, "NON_COMPLIANT", "Missing") for p in missing]
        + [(p, "NON_COMPLIANT", "Failed") for p in failed]
        + [(p, "COMPLIANT", "InstalledPendingReboot") for p in pending]
        + [(p, "COMPLIANT", "Installed") for p in result["installed_now"] if p not in pending]
    ):
        version = package["candidate"] if state != "Missing" and state != "Failed" else package["installed"]
        items.append(
            {
                "Id": package["package"],
                "Title": f"{package['package']} {package['candidate']}",
                "Status": status,
                "Severity": "CRITICAL" if package.get("security") and status == "NON_COMPLIANT" else "UNSPECIFIED",
                "Details": {
                    "PatchState": state,
                    "InstalledVersion": version,
                    "Classification": "Security" if package.get("security") else "Bugfix",
                },
            }
        )
    inventory.record_patch_compliance(
        command.account_id, command.region, item.instance_id, items, command.command_id, ended
    )
    lines = [
        f"Patch group: {group or '(none)'}",
        f"Operation type: {operation}, reboot option: {reboot}",
        f"Patch baseline: {baseline}",
        f"InstalledCount: {result['installed_count']}",
        f"InstalledPendingRebootCount: {len(pending)}",
        f"MissingCount: {len(missing)}",
        f"FailedCount: {len(failed)}",
    ]
    lines += [f"Installed: {p['package']} {p['installed']} -> {p['candidate']}" for p in result["installed_now"]]
    lines += [f"Missing: {p['package']} {p['installed']} -> {p['candidate']}" for p in missing]
    lines += [f"Failed: {p['package']}" for p in failed]
    if result["rebooted"]:
        lines.append("Reboot: the instance was restarted to finish the installation")
    output = "\n".join(lines) + "\n"
    if result["log"] and failed:
        output += "\n" + result["log"]
    ok = not failed and result["rc"] == 0
    _finish(command, item, "Success" if ok else "Failed", "Success" if ok else "Failed", 0 if ok else 1, output, "")


# --- API -------------------------------------------------------------------------------------------------


def _command(ctx, command_id: str) -> Command:
    with _lock:
        command = _COMMANDS.get(command_id)
    if command is None or command.account_id != ctx.account_id or command.region != ctx.region:
        raise AdditionError("InvalidCommandId", f"Command {command_id} was not found")
    return command


def _page(ctx, items: list, key: str, default: int, maximum: int) -> dict:
    return inventory._page(ctx, items, key, default, maximum)


def example_managed_instance(client, name: str = "sandbox-example-managed") -> str:
    """Launch a running instance whose instance profile carries AmazonSSMManagedInstanceCore (for examples)."""
    iam, ec2 = client("iam"), client("ec2")
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
    iam.attach_role_policy(RoleName=name, PolicyArn=f"arn:aws:iam::aws:policy/{inventory.SSM_CORE_POLICY}")
    iam.create_instance_profile(InstanceProfileName=name)
    iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=name)
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    return ec2.run_instances(
        ImageId=image, MinCount=1, MaxCount=1, InstanceType="t3.micro", IamInstanceProfile={"Name": name}
    )["Instances"][0]["InstanceId"]


def _example_command(client) -> tuple[str, str]:
    instance = example_managed_instance(client)
    command = client("ssm").send_command(
        InstanceIds=[instance], DocumentName="AWS-RunPatchBaseline", Parameters={"Operation": ["Scan"]}
    )["Command"]["CommandId"]
    for _ in range(50):
        listed = client("ssm").list_commands(CommandId=command)["Commands"]
        if listed and listed[0]["Status"] not in ("Pending", "InProgress"):
            break
        time.sleep(0.1)
    return command, instance


def _send_example(client):
    return {
        "Targets": [{"Key": "tag:Name", "Values": ["nothing-has-this-name"]}],
        "DocumentName": "AWS-RunShellScript",
        "Parameters": {"commands": ["true"]},
    }


@addition("ssm", "SendCommand", example=_send_example)
def send_command(ctx):
    document = ctx.require("DocumentName")
    if not _document_exists(ctx, document):
        raise AdditionError("InvalidDocument", f"Document {document} does not exist")
    command = start_command(
        ctx.account_id,
        ctx.region,
        document,
        ctx.param("Parameters", {}),
        instance_ids=ctx.param("InstanceIds", []),
        targets=ctx.param("Targets", []),
        comment=ctx.param("Comment", ""),
        timeout_seconds=ctx.param("TimeoutSeconds"),
        max_concurrency=ctx.param("MaxConcurrency"),
        max_errors=ctx.param("MaxErrors"),
    )
    with _lock:
        return {"Command": command.describe()}


def _command_filters(ctx, command: Command, invocation: Invocation | None = None) -> bool:
    for flt in ctx.param("Filters", []):
        key, value = flt.get("key"), flt.get("value")
        if key == "Status":
            status = invocation.status if invocation else command.status
            if status != value:
                return False
        elif (
            (key == "DocumentName" and command.document != value)
            or (key == "InvokedAfter" and command.requested < _parse(value))
            or (key == "InvokedBefore" and command.requested > _parse(value))
        ):
            return False
    return True


def _parse(value: str) -> datetime.datetime:
    parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.UTC)


@addition("ssm", "ListCommands", example={})
def list_commands(ctx):
    command_id, instance_id = ctx.param("CommandId"), ctx.param("InstanceId")
    if command_id:
        commands = [_command(ctx, command_id)]
    else:
        with _lock:
            commands = [c for c in _COMMANDS.values() if c.account_id == ctx.account_id and c.region == ctx.region]
    with _lock:
        items = [
            c.describe()
            for c in sorted(commands, key=lambda c: c.requested, reverse=True)
            if (not instance_id or instance_id in c.invocations) and _command_filters(ctx, c)
        ]
    return _page(ctx, items, "Commands", 50, 50)


def _invocation_dict(command: Command, item: Invocation, details: bool) -> dict:
    out = {
        "CommandId": command.command_id,
        "InstanceId": item.instance_id,
        "InstanceName": item.instance_name,
        "Comment": command.comment,
        "DocumentName": command.document,
        "DocumentVersion": "$DEFAULT",
        "RequestedDateTime": item.requested,
        "Status": item.status,
        "StatusDetails": item.details,
        "TraceOutput": "",
        "StandardOutputUrl": "",
        "StandardErrorUrl": "",
        "CommandPlugins": [],
        "ServiceRole": "",
        "NotificationConfig": {"NotificationArn": "", "NotificationEvents": [], "NotificationType": "Command"},
        "CloudWatchOutputConfig": {"CloudWatchLogGroupName": "", "CloudWatchOutputEnabled": False},
    }
    if details:
        plugin = {
            "Name": PLUGINS.get(command.document, "aws:runShellScript"),
            "Status": item.status,
            "StatusDetails": item.details,
            "ResponseCode": item.response_code,
            "Output": _truncate(
                item.stdout + (("\n----------ERROR-------\n" + item.stderr) if item.stderr else ""), LIST_OUTPUT_LIMIT
            ),
            "StandardOutputUrl": "",
            "StandardErrorUrl": "",
            "OutputS3Region": command.region,
            "OutputS3BucketName": "",
            "OutputS3KeyPrefix": "",
        }
        if item.start:
            plugin["ResponseStartDateTime"] = item.start
        if item.end and item.start:
            plugin["ResponseFinishDateTime"] = item.end
        out["CommandPlugins"] = [plugin]
    return out


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit]


@addition(
    "ssm", "ListCommandInvocations", example=lambda client: {"CommandId": _example_command(client)[0], "Details": True}
)
def list_command_invocations(ctx):
    command_id, instance_id = ctx.param("CommandId"), ctx.param("InstanceId")
    if command_id:
        commands = [_command(ctx, command_id)]
    else:
        with _lock:
            commands = [c for c in _COMMANDS.values() if c.account_id == ctx.account_id and c.region == ctx.region]
    details = bool(ctx.param("Details", False))
    with _lock:
        items = [
            _invocation_dict(c, item, details)
            for c in sorted(commands, key=lambda c: c.requested, reverse=True)
            for item in c.invocations.values()
            if (not instance_id or item.instance_id == instance_id) and _command_filters(ctx, c, item)
        ]
    return _page(ctx, items, "CommandInvocations", 50, 50)


def _get_example(client):
    command, instance = _example_command(client)
    return {"CommandId": command, "InstanceId": instance}


@addition("ssm", "GetCommandInvocation", example=_get_example)
def get_command_invocation(ctx):
    command_id, instance_id = ctx.require("CommandId"), ctx.require("InstanceId")
    with _lock:
        command = _COMMANDS.get(command_id)
        item = command.invocations.get(instance_id) if command else None
    if command is None or item is None or command.account_id != ctx.account_id or command.region != ctx.region:
        raise AdditionError("InvocationDoesNotExist", "An error occurred (InvocationDoesNotExist)")
    with _lock:
        out = {
            "CommandId": command.command_id,
            "InstanceId": item.instance_id,
            "Comment": command.comment,
            "DocumentName": command.document,
            "DocumentVersion": "$DEFAULT",
            "PluginName": PLUGINS.get(command.document, "aws:runShellScript"),
            "ResponseCode": item.response_code,
            "Status": item.status,
            "StatusDetails": item.details,
            "StandardOutputContent": _truncate(item.stdout, GET_OUTPUT_LIMIT),
            "StandardOutputUrl": "",
            "StandardErrorContent": _truncate(item.stderr, 8000),
            "StandardErrorUrl": "",
            "CloudWatchOutputConfig": {"CloudWatchLogGroupName": "", "CloudWatchOutputEnabled": False},
        }
        if item.start:
            out["ExecutionStartDateTime"] = item.start.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            out["ExecutionElapsedTime"] = _elapsed(item)
        if item.end:
            out["ExecutionEndDateTime"] = item.end.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return out


def _elapsed(item: Invocation) -> str:
    seconds = ((item.end or _now()) - item.start).total_seconds()
    return f"PT{seconds:.3f}S"


def _cancel_example(client):
    command, _instance = _example_command(client)
    return {"CommandId": command}


def cancel(command: Command, instance_ids: list | None = None) -> None:
    with _lock:
        targets = instance_ids or list(command.invocations)
        for instance_id in targets:
            item = command.invocations.get(instance_id)
            if item is not None and not item.terminal:
                item.status, item.details, item.end = "Cancelled", "Cancelled", _now()
        if not instance_ids:
            command.cancel.set()
        _changed.notify_all()


@addition("ssm", "CancelCommand", example=_cancel_example)
def cancel_command(ctx):
    command = _command(ctx, ctx.require("CommandId"))
    cancel(command, ctx.param("InstanceIds") or None)
    return {}


# --- control routes --------------------------------------------------------------------------------------


@control("ssm/instance-failures", "POST")
def set_instance_failures(query, payload):
    if not isinstance(payload, dict):
        raise ControlError('expected a JSON object {"i-...": exit code or {"exit_code", "delay_seconds", "output"}}')
    with _lock:
        for instance_id, rule in payload.items():
            if rule is None:
                _FAILURES.pop(instance_id, None)
                continue
            if isinstance(rule, int) and not isinstance(rule, bool):
                rule = {"exit_code": rule}
            if not isinstance(rule, dict) or not isinstance(rule.get("exit_code", 1), int):
                raise ControlError(
                    f"{instance_id}: expected an exit code or {{'exit_code': int, 'delay_seconds': number}}"
                )
            unknown = set(rule) - {"exit_code", "delay_seconds", "output", "operation"}
            if unknown:
                raise ControlError(
                    f"{instance_id}: unknown fields {sorted(unknown)} "
                    "(allowed: exit_code, delay_seconds, output, operation)"
                )
            if rule.get("operation") not in (None, "Scan", "Install"):
                raise ControlError(f"{instance_id}: operation must be Scan or Install, got {rule['operation']!r}")
            _FAILURES[instance_id] = {"exit_code": 1, "delay_seconds": 0, **rule}
        return {"instance_failures": dict(_FAILURES)}


@control("ssm/instance-failures", "GET")
def get_instance_failures(query, payload):
    with _lock:
        return {"instance_failures": dict(_FAILURES)}


@control("ssm/instance-failures", "DELETE")
def clear_instance_failures(query, payload):
    with _lock:
        _FAILURES.clear()
        return {"instance_failures": {}}


def execution_stats() -> dict:
    """Summed and wall-clock execution time of every invocation that ran (for benchmarks)."""
    with _lock:
        spans = sorted(
            (item.start, item.end)
            for c in _COMMANDS.values()
            for item in c.invocations.values()
            if item.start and item.end
        )
    total = sum((end - start).total_seconds() for start, end in spans)
    busy, current = 0.0, None
    for start, end in spans:
        if current is None or start > current[1]:
            if current:
                busy += (current[1] - current[0]).total_seconds()
            current = [start, end]
        else:
            current[1] = max(current[1], end)
    if current:
        busy += (current[1] - current[0]).total_seconds()
    return {"execution_seconds": round(total, 3), "busy_seconds": round(busy, 3), "invocations": len(spans)}


@control("ssm/commands", "GET")
def get_commands(query, payload):
    with _lock:
        commands = []
        for c in sorted(_COMMANDS.values(), key=lambda c: c.requested):
            completed, errors, delivery = c.counts()
            commands.append(
                {
                    "CommandId": c.command_id,
                    "DocumentName": c.document,
                    "Region": c.region,
                    "Status": c.status,
                    "TargetCount": len(c.invocations),
                    "CompletedCount": completed,
                    "ErrorCount": errors + delivery,
                }
            )
    return {"commands": commands, **execution_stats()}


# --- maintenance windows ---------------------------------------------------------------------------------


def _window_targets(window, task) -> tuple[list, list]:
    """(instance ids, targets) for a task: window targets by WindowTargetIds, else the task's own targets."""
    ids, tag_targets = [], []
    for target in task.targets or []:
        if target.get("Key") == "WindowTargetIds":
            for target_id in target.get("Values") or []:
                registered = window.targets.get(target_id)
                if registered is None:
                    continue
                for inner in registered.targets:
                    if inner.get("Key") == "InstanceIds":
                        ids += inner.get("Values") or []
                    else:
                        tag_targets.append(inner)
        elif target.get("Key") == "InstanceIds":
            ids += target.get("Values") or []
        else:
            tag_targets.append(target)
    return ids, tag_targets


def _task_parameters(task) -> dict:
    invocation = task.task_invocation_parameters or {}
    run = invocation.get("RunCommand") or {}
    parameters = dict(run.get("Parameters") or {})
    for key, value in (task.task_parameters or {}).items():
        parameters.setdefault(key, value.get("Values") if isinstance(value, dict) else value)
    return parameters, run


def _run_window(
    account_id: str, region: str, window, execution: dict, deadline: float, wait_event: threading.Event
) -> None:
    try:
        generation = _generation[0]
        tasks = sorted(window.tasks.values(), key=lambda t: t.priority or 0)
        failed = timed_out = False
        for task in tasks:
            record = execution["tasks"][task.window_task_id]
            if _generation[0] != generation:
                return
            if time.monotonic() >= deadline:
                record.update(
                    Status="CANCELLED",
                    StatusDetails="The maintenance window cutoff was reached before the task started",
                    EndTime=_now(),
                )
                timed_out = True
                continue
            if task.task_type != "RUN_COMMAND":
                record.update(
                    Status="FAILED", StatusDetails=f"sandbox: {task.task_type} tasks are not run", EndTime=_now()
                )
                failed = True
                continue
            parameters, run = _task_parameters(task)
            ids, tag_targets = _window_targets(window, task)
            record.update(Status="IN_PROGRESS", StartTime=_now())
            try:
                command = start_command(
                    account_id,
                    region,
                    task.task_arn,
                    parameters,
                    instance_ids=ids if not tag_targets else [],
                    targets=tag_targets if tag_targets else [],
                    comment=run.get("Comment")
                    or f"maintenance window {window.id} task {task.name or task.window_task_id}",
                    timeout_seconds=run.get("TimeoutSeconds"),
                    max_concurrency=task.max_concurrency,
                    max_errors=task.max_errors,
                )
            except AdditionError as error:
                record.update(Status="FAILED", StatusDetails=error.message, EndTime=_now())
                failed = True
                continue
            record["CommandId"] = command.command_id
            while True:
                with _lock:
                    if command.status in TERMINAL or _generation[0] != generation:
                        break
                    if time.monotonic() >= deadline and task.cutoff_behavior == "CANCEL_TASK":
                        cancel(command)
                    _changed.wait(timeout=0.5)
            with _lock:
                status = {"Success": "SUCCESS", "Failed": "FAILED", "TimedOut": "TIMED_OUT", "Cancelled": "CANCELLED"}[
                    command.status
                ]
                record.update(Status=status, StatusDetails=command.details, EndTime=_now())
            failed = failed or status in ("FAILED", "TIMED_OUT")
            timed_out = timed_out or status == "CANCELLED"
        if timed_out:
            execution.update(Status="TIMED_OUT", StatusDetails="The maintenance window cutoff was reached")
        elif failed:
            execution.update(Status="FAILED", StatusDetails="One or more tasks in the orchestration failed.")
        else:
            execution.update(Status="SUCCESS", StatusDetails="")
    except Exception as error:  # a sandbox bug: say so in the execution
        log.exception("maintenance window %s failed", window.id)
        execution.update(Status="FAILED", StatusDetails=f"sandbox: {type(error).__name__}: {error}")
    finally:
        execution["EndTime"] = _now()
        wait_event.set()


@control("ssm/maintenance-windows/run", "POST")
def run_maintenance_window(query, payload):
    payload = payload or {}
    window_id = payload.get("WindowId")
    region = payload.get("region") or query.get("region") or "us-east-1"
    account_id = payload.get("account_id") or DEFAULT_ACCOUNT_ID
    if not window_id:
        raise ControlError('expected {"WindowId": "mw-...", "region": "us-east-1"}')
    from moto.backends import get_backend

    ssm = get_backend("ssm")[account_id][region]
    window = ssm.windows.get(window_id) if hasattr(ssm, "windows") else None
    if window is None:
        raise ControlError(f"maintenance window {window_id} not found in {region}", 404)
    hour_seconds = float(payload.get("hour_seconds", 60))
    cutoff_seconds = payload.get("cutoff_seconds")
    if cutoff_seconds is None:
        cutoff_seconds = max(0, (int(window.duration or 1) - int(window.cutoff or 0))) * hour_seconds
    execution_id = str(uuid.uuid4())
    execution = {
        "WindowId": window_id,
        "WindowExecutionId": execution_id,
        "Status": "IN_PROGRESS",
        "StatusDetails": "",
        "StartTime": _now(),
        "account_id": account_id,
        "region": region,
        "tasks": {
            task.window_task_id: {
                "TaskExecutionId": str(uuid.uuid4()),
                "TaskArn": task.task_arn,
                "TaskType": task.task_type,
                "Priority": task.priority or 0,
                "MaxConcurrency": task.max_concurrency or "",
                "MaxErrors": task.max_errors or "",
                "Status": "PENDING",
                "StatusDetails": "",
                "WindowTaskId": task.window_task_id,
            }
            for task in window.tasks.values()
        },
    }
    with _lock:
        _WINDOW_EXECUTIONS[execution_id] = execution
    done = threading.Event()
    deadline = time.monotonic() + float(cutoff_seconds)
    threading.Thread(
        target=_run_window, args=(account_id, region, window, execution, deadline, done), daemon=True
    ).start()
    if payload.get("wait", True):
        done.wait(timeout=float(payload.get("wait_seconds", 900)))
    return {
        "WindowExecutionId": execution_id,
        "Status": execution["Status"],
        "StatusDetails": execution["StatusDetails"],
        "Tasks": [
            {k: v for k, v in t.items() if k in ("TaskExecutionId", "TaskArn", "Status", "StatusDetails", "CommandId")}
            for t in execution["tasks"].values()
        ],
    }


def _example_window_execution(client) -> tuple[str, str, str]:
    """Run a window with one AWS-RunPatchBaseline Scan task on a managed instance; (window, execution, task)."""
    import urllib.request

    instance = example_managed_instance(client, "sandbox-example-window")
    ssm = client("ssm")
    window = ssm.create_maintenance_window(
        Name="sandbox-example-window", Schedule="rate(7 days)", Duration=2, Cutoff=1, AllowUnassociatedTargets=False
    )["WindowId"]
    target = ssm.register_target_with_maintenance_window(
        WindowId=window, ResourceType="INSTANCE", Targets=[{"Key": "InstanceIds", "Values": [instance]}]
    )["WindowTargetId"]
    ssm.register_task_with_maintenance_window(
        WindowId=window,
        Targets=[{"Key": "WindowTargetIds", "Values": [target]}],
        TaskArn="AWS-RunPatchBaseline",
        TaskType="RUN_COMMAND",
        MaxConcurrency="1",
        MaxErrors="0",
        TaskInvocationParameters={"RunCommand": {"Parameters": {"Operation": ["Scan"]}}},
    )
    url = ssm.meta.endpoint_url.rstrip("/") + "/_sandbox/ssm/maintenance-windows/run"
    body = json.dumps({"WindowId": window}).encode()
    request = urllib.request.Request(url, data=body, method="POST")  # noqa: S310 - the sandbox's own endpoint
    with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310 - the sandbox's own endpoint
        result = json.loads(answer.read())
    return window, result["WindowExecutionId"], result["Tasks"][0]["TaskExecutionId"]


def _execution(ctx, execution_id: str) -> dict:
    with _lock:
        execution = _WINDOW_EXECUTIONS.get(execution_id)
    if execution is None or execution["account_id"] != ctx.account_id or execution["region"] != ctx.region:
        raise AdditionError("DoesNotExistException", f"Maintenance window execution {execution_id} does not exist")
    return execution


def _execution_summary(execution: dict) -> dict:
    out = {k: execution[k] for k in ("WindowId", "WindowExecutionId", "Status", "StatusDetails", "StartTime")}
    if execution.get("EndTime"):
        out["EndTime"] = execution["EndTime"]
    return out


@addition(
    "ssm",
    "DescribeMaintenanceWindowExecutions",
    example=lambda client: {"WindowId": _example_window_execution(client)[0]},
)
def describe_maintenance_window_executions(ctx):
    window_id = ctx.require("WindowId")
    with _lock:
        found = [
            _execution_summary(e)
            for e in _WINDOW_EXECUTIONS.values()
            if e["WindowId"] == window_id and e["account_id"] == ctx.account_id and e["region"] == ctx.region
        ]
    found.sort(key=lambda e: e["StartTime"], reverse=True)
    return _page(ctx, found, "WindowExecutions", 10, 100)


def _task_identity(execution: dict, record: dict) -> dict:
    out = {
        "WindowExecutionId": execution["WindowExecutionId"],
        "TaskExecutionId": record["TaskExecutionId"],
        "Status": record["Status"],
        "StatusDetails": record["StatusDetails"],
        "TaskArn": record["TaskArn"],
        "TaskType": record["TaskType"],
    }
    for key in ("StartTime", "EndTime"):
        if record.get(key):
            out[key] = record[key]
    return out


@addition(
    "ssm",
    "DescribeMaintenanceWindowExecutionTasks",
    example=lambda client: {"WindowExecutionId": _example_window_execution(client)[1]},
)
def describe_maintenance_window_execution_tasks(ctx):
    execution = _execution(ctx, ctx.require("WindowExecutionId"))
    with _lock:
        items = [_task_identity(execution, r) for r in execution["tasks"].values()]
    return _page(ctx, items, "WindowExecutionTaskIdentities", 10, 100)


@addition(
    "ssm",
    "GetMaintenanceWindowExecution",
    example=lambda client: {"WindowExecutionId": _example_window_execution(client)[1]},
)
def get_maintenance_window_execution(ctx):
    execution = _execution(ctx, ctx.require("WindowExecutionId"))
    with _lock:
        out = _execution_summary(execution)
        out.pop("WindowId")
        out["TaskIds"] = [r["TaskExecutionId"] for r in execution["tasks"].values()]
    return out


def _task_record(ctx, execution: dict, task_id: str) -> dict:
    for record in execution["tasks"].values():
        if record["TaskExecutionId"] == task_id:
            return record
    raise AdditionError("DoesNotExistException", f"Maintenance window task execution {task_id} does not exist")


@addition(
    "ssm",
    "GetMaintenanceWindowExecutionTask",
    example=lambda client: dict(
        zip(("WindowExecutionId", "TaskId"), _example_window_execution(client)[1:], strict=True)
    ),
)
def get_maintenance_window_execution_task(ctx):
    execution = _execution(ctx, ctx.require("WindowExecutionId"))
    record = _task_record(ctx, execution, ctx.require("TaskId"))
    with _lock:
        out = {
            "WindowExecutionId": execution["WindowExecutionId"],
            "TaskExecutionId": record["TaskExecutionId"],
            "TaskArn": record["TaskArn"],
            "Type": record["TaskType"],
            "Priority": record["Priority"],
            "MaxConcurrency": record["MaxConcurrency"],
            "MaxErrors": record["MaxErrors"],
            "Status": record["Status"],
            "StatusDetails": record["StatusDetails"],
        }
        for key in ("StartTime", "EndTime"):
            if record.get(key):
                out[key] = record[key]
    return out


@addition(
    "ssm",
    "DescribeMaintenanceWindowExecutionTaskInvocations",
    example=lambda client: dict(
        zip(("WindowExecutionId", "TaskId"), _example_window_execution(client)[1:], strict=True)
    ),
)
def describe_maintenance_window_execution_task_invocations(ctx):
    execution = _execution(ctx, ctx.require("WindowExecutionId"))
    record = _task_record(ctx, execution, ctx.require("TaskId"))
    items = []
    with _lock:
        command = _COMMANDS.get(record.get("CommandId") or "")
        if command is not None:
            status_map = {
                "Pending": "PENDING",
                "InProgress": "IN_PROGRESS",
                "Success": "SUCCESS",
                "Failed": "FAILED",
                "TimedOut": "TIMED_OUT",
                "Cancelled": "CANCELLED",
            }
            for item in command.invocations.values():
                entry = {
                    "WindowExecutionId": execution["WindowExecutionId"],
                    "TaskExecutionId": record["TaskExecutionId"],
                    "InvocationId": f"{command.command_id}:{item.instance_id}",
                    "ExecutionId": command.command_id,
                    "TaskType": "RUN_COMMAND",
                    "Parameters": json.dumps({"instanceId": item.instance_id, "documentName": command.document}),
                    "Status": status_map.get(item.status, "PENDING"),
                    "StatusDetails": item.details,
                    "WindowTargetId": "",
                }
                if item.start:
                    entry["StartTime"] = item.start
                if item.end:
                    entry["EndTime"] = item.end
                items.append(entry)
    return _page(ctx, items, "WindowExecutionTaskInvocationIdentities", 10, 100)
