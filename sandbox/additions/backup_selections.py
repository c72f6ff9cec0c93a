"""AWS Backup selections, which moto lacks: CreateBackupSelection, GetBackupSelection, ListBackupSelections
and DeleteBackupSelection.

moto has the plans and vaults (CreateBackupPlan, GetBackupPlan, ...); the selections that assign resources
to a plan are kept per account and region in a store here, keyed by the plan. A selection must name a plan
that exists in moto's Backup and has not been deleted, as AWS requires.
"""

import copy
import datetime
import re
import threading
import uuid

from sandbox.additions import AdditionError, addition, on_reset

# (account, region) -> plan id -> selection id -> selection record
_SELECTIONS: dict[tuple[str, str], dict[str, dict[str, dict]]] = {}
_lock = threading.Lock()

_NAME = re.compile(r"^[a-zA-Z0-9\-_.]{1,50}$")
_ROLE_ARN = re.compile(r"^arn:aws(-[a-z]{1,3}){0,2}:iam::\d{12}:role/.+$")
_CONDITION_TYPES = ("STRINGEQUALS",)


@on_reset
def _clear() -> None:
    with _lock:
        _SELECTIONS.clear()


def _plan_selections(ctx, plan_id: str) -> dict[str, dict]:
    """The selections of an existing plan, or ResourceNotFoundException as AWS answers."""
    plan = ctx.backend("backup").plans.get(plan_id)
    if plan is None or plan.deletion_date is not None:
        raise AdditionError("ResourceNotFoundException", f"Failed reading Backup plan with provided version: {plan_id}")
    return _SELECTIONS.setdefault((ctx.account_id, ctx.region), {}).setdefault(plan_id, {})


def _missing(name: str) -> AdditionError:
    return AdditionError("MissingParameterValueException", f"{name} is required")


def _invalid(message: str) -> AdditionError:
    return AdditionError("InvalidParameterValueException", message)


def _check_selection(ctx, selection: dict) -> None:
    for name in ("SelectionName", "IamRoleArn"):
        if not selection.get(name):
            raise _missing(f"BackupSelection.{name}")
    if not _NAME.match(selection["SelectionName"]):
        raise _invalid(
            f"Invalid selection name {selection['SelectionName']!r}: 1 to 50 letters, digits, '-', '_' or '.'"
        )
    role = selection["IamRoleArn"]
    if not _ROLE_ARN.match(role):
        raise _invalid(f"Invalid ARN: {role}")
    try:
        ctx.backend("iam", "global").get_role_by_arn(role)
    except Exception:  # moto's IAMNotFoundException: no such role
        raise _invalid(f"IAM Role {role} does not exist or cannot be assumed by backup.amazonaws.com") from None
    for tag in selection.get("ListOfTags") or []:
        if tag.get("ConditionType") not in _CONDITION_TYPES:
            raise _invalid(f"Invalid ConditionType {tag.get('ConditionType')!r}; allowed: STRINGEQUALS")
        if not tag.get("ConditionKey"):
            raise _missing("BackupSelection.ListOfTags.ConditionKey")
    if not (selection.get("Resources") or selection.get("ListOfTags") or selection.get("Conditions")):
        raise _invalid("A backup selection must assign resources: Resources, ListOfTags or Conditions")


def _example_plan(client) -> tuple[str, str]:
    trust = (
        '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", '
        '"Principal": {"Service": "backup.amazonaws.com"}, "Action": "sts:AssumeRole"}]}'
    )
    role = client("iam").create_role(RoleName="example-backup-role", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    backup = client("backup")
    backup.create_backup_vault(BackupVaultName="example-vault")
    plan = backup.create_backup_plan(
        BackupPlan={
            "BackupPlanName": "example-plan",
            "Rules": [
                {
                    "RuleName": "daily",
                    "TargetBackupVaultName": "example-vault",
                    "ScheduleExpression": "cron(0 5 * * ? *)",
                }
            ],
        }
    )["BackupPlanId"]
    return plan, role


def _example_selection(role: str) -> dict:
    return {
        "SelectionName": "example-tagged",
        "IamRoleArn": role,
        "ListOfTags": [{"ConditionType": "STRINGEQUALS", "ConditionKey": "Backup", "ConditionValue": "daily"}],
    }


def _example_create(client) -> dict:
    plan, role = _example_plan(client)
    return {"BackupPlanId": plan, "BackupSelection": _example_selection(role), "CreatorRequestId": "example-1"}


def _example_existing(client) -> dict:
    plan, role = _example_plan(client)
    created = client("backup").create_backup_selection(BackupPlanId=plan, BackupSelection=_example_selection(role))
    return {"BackupPlanId": plan, "SelectionId": created["SelectionId"]}


@addition("backup", "CreateBackupSelection", example=_example_create)
def create_backup_selection(ctx):
    plan_id = ctx.params.get("BackupPlanId")
    if not plan_id:
        raise _missing("BackupPlanId")
    selection = ctx.params.get("BackupSelection")
    if not selection:
        raise _missing("BackupSelection")
    _check_selection(ctx, selection)
    request = ctx.param("CreatorRequestId")
    with _lock:
        selections = _plan_selections(ctx, plan_id)
        if request:
            for existing in selections.values():
                if existing["CreatorRequestId"] == request:
                    if existing["BackupSelection"] != selection:
                        raise AdditionError(
                            "AlreadyExistsException",
                            f"A backup selection with creator request id {request} already exists",
                        )
                    return {k: existing[k] for k in ("SelectionId", "BackupPlanId", "CreationDate")}
        selection_id = str(uuid.uuid4())
        record = {
            "SelectionId": selection_id,
            "BackupPlanId": plan_id,
            "CreationDate": datetime.datetime.now(datetime.UTC),
            "CreatorRequestId": request,
            "BackupSelection": copy.deepcopy(selection),
        }
        selections[selection_id] = record
    return {k: record[k] for k in ("SelectionId", "BackupPlanId", "CreationDate")}


def _selection(ctx) -> tuple[dict[str, dict], dict]:
    plan_id = ctx.require("BackupPlanId")
    selection_id = ctx.require("SelectionId")
    selections = _plan_selections(ctx, plan_id)
    record = selections.get(selection_id)
    if record is None:
        raise AdditionError(
            "ResourceNotFoundException", f"Failed reading backup selection {selection_id} of plan {plan_id}"
        )
    return selections, record


@addition("backup", "GetBackupSelection", example=_example_existing)
def get_backup_selection(ctx):
    with _lock:
        _, record = _selection(ctx)
        out = copy.deepcopy(record)
    if out["CreatorRequestId"] is None:
        del out["CreatorRequestId"]
    return out


@addition(
    "backup", "ListBackupSelections", example=lambda client: {"BackupPlanId": _example_existing(client)["BackupPlanId"]}
)
def list_backup_selections(ctx):
    plan_id = ctx.require("BackupPlanId")
    size = int(ctx.param("MaxResults", 1000))
    if size < 1 or size > 1000:
        raise _invalid("MaxResults must be between 1 and 1000")
    with _lock:
        records = sorted(_plan_selections(ctx, plan_id).values(), key=lambda r: (r["CreationDate"], r["SelectionId"]))
        members = []
        for record in records:
            member = {
                "SelectionId": record["SelectionId"],
                "SelectionName": record["BackupSelection"]["SelectionName"],
                "BackupPlanId": record["BackupPlanId"],
                "CreationDate": record["CreationDate"],
                "IamRoleArn": record["BackupSelection"]["IamRoleArn"],
            }
            if record["CreatorRequestId"] is not None:
                member["CreatorRequestId"] = record["CreatorRequestId"]
            members.append(member)
    start = 0
    token = ctx.param("NextToken")
    if token:
        ids = [m["SelectionId"] for m in members]
        if token not in ids:
            raise _invalid("The NextToken is not valid")
        start = ids.index(token)
    out = {"BackupSelectionsList": members[start : start + size]}
    if start + size < len(members):
        out["NextToken"] = members[start + size]["SelectionId"]
    return out


@addition("backup", "DeleteBackupSelection", example=_example_existing)
def delete_backup_selection(ctx):
    with _lock:
        selections, record = _selection(ctx)
        del selections[record["SelectionId"]]
    return {}
