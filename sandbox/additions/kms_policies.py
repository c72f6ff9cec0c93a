"""Whether a KMS key lets an IAM role use it, as AWS decides when a service works with the role.

moto stores key policies but never reads them, so the sandbox let every role use every key: a backup copy, a
restore or a DLM snapshot copy succeeded here where AWS fails it because the key's policy does not name the
role. AWS Backup's and DLM's jobs and S3 replication (sandbox/additions/backup_jobs.py, dlm.py, s3_replication.py)
ask this module before they use a key on a role's behalf, and fail as AWS does when the answer is no.

The rules are AWS's rules for key policies, for one principal and one action at a time:

- an explicit Deny statement that applies wins;
- else an Allow statement that names the principal (its ARN or ``*``), covers the action (Action or
  NotAction, wildcards) and whose conditions hold;
- else a grant of the key to the principal with that operation;
- else nothing allows it: AccessDenied.

A statement naming the account (``arn:aws:iam::<account>:root`` or the account id) lets IAM policies decide;
the sandbox does not evaluate IAM policies, so such a statement allows (moto's default key policy is one). Keys
AWS manages (``aws/ebs``, ``aws/rds``, ``aws/backup``) let every principal of the account use them through
their service. Conditions are evaluated on the keys a service sets when it uses a key on a role's behalf
(``kms:CallerAccount``, ``kms:ViaService``, ``kms:GrantIsForAWSResource`` for CreateGrant, ``aws:PrincipalArn``,
``aws:PrincipalAccount``); an Allow with another condition key does not apply, a Deny with one does not apply.

The control route ``kms/enforce`` (``{"enabled": false}``) turns the check off, ``GET`` says whether it is on.
"""

import fnmatch
import json
import logging

from sandbox.additions import control, on_reset

log = logging.getLogger(__name__)

_ENFORCE = {"enabled": True}

_POSITIVE = {
    "StringEquals": lambda want, have: have in want,
    "StringEqualsIgnoreCase": lambda want, have: have.lower() in [w.lower() for w in want],
    "StringLike": lambda want, have: any(fnmatch.fnmatchcase(have, w) for w in want),
    "ArnEquals": lambda want, have: have in want,
    "ArnLike": lambda want, have: any(fnmatch.fnmatchcase(have, w) for w in want),
    "Bool": lambda want, have: have.lower() in [w.lower() for w in want],
}
_NEGATED = {
    "StringNotEquals": "StringEquals",
    "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike",
    "ArnNotEquals": "ArnEquals",
    "ArnNotLike": "ArnLike",
}

# What a service needs of the keys when it copies an encrypted EBS snapshot, AMI or DB snapshot with a role
# (AWS's "permissions to copy encrypted snapshots"): the source key to read, the destination key to write.
READ_ACTIONS = ("kms:Decrypt", "kms:DescribeKey", "kms:CreateGrant")
WRITE_ACTIONS = ("kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptTo", "kms:DescribeKey", "kms:CreateGrant")


def enforced() -> bool:
    return _ENFORCE["enabled"]


@on_reset
def _reset() -> None:
    _ENFORCE["enabled"] = True


@control("kms/enforce", "POST")
def _set(query, payload):
    _ENFORCE["enabled"] = bool((payload or {}).get("enabled", True))
    return {"enabled": _ENFORCE["enabled"]}


@control("kms/enforce", "GET")
def _get(query, payload):
    return {"enabled": _ENFORCE["enabled"]}


def _as_list(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [str(value)]


def _covers(patterns, action: str) -> bool:
    return any(fnmatch.fnmatchcase(action.lower(), p.lower()) for p in patterns)


def _action_applies(statement: dict, action: str) -> bool:
    if "NotAction" in statement:
        return not _covers(_as_list(statement["NotAction"]), action)
    return _covers(_as_list(statement.get("Action")), action)


def _principal(statement: dict, principal: str) -> str | None:
    """'named' (the principal or *), 'account' (the account: IAM decides) or None."""
    if "NotPrincipal" in statement:
        return None
    named = statement.get("Principal")
    values = ["*"] if named == "*" else _as_list((named or {}).get("AWS")) if isinstance(named, dict) else []
    account = principal.split(":")[4]
    if "*" in values or principal in values:
        return "named"
    if f"arn:aws:iam::{account}:root" in values or account in values:
        return "account"
    return None


def _conditions_hold(statement: dict, context: dict) -> bool | None:
    """True or False; None when a condition names a key the service does not set."""
    for operator, clauses in (statement.get("Condition") or {}).items():
        base = operator
        for prefix in ("ForAnyValue:", "ForAllValues:"):
            base = base.removeprefix(prefix)
        if_exists = base.endswith("IfExists")
        base = base.removesuffix("IfExists")
        negated = base in _NEGATED
        test = _POSITIVE.get(_NEGATED.get(base, base))
        if test is None:
            return None
        for key, wanted in (clauses or {}).items():
            have = context.get(key) if key in context else context.get(key.lower())
            if have is None:
                if if_exists:
                    continue
                if key not in context and key.lower() not in context:
                    return None
                return False
            matched = test(_as_list(wanted), str(have))
            if matched == negated:
                return False
    return True


def _grant_allows(key, principal: str, operation: str) -> bool:
    for grant in getattr(key, "grants", {}).values():
        if grant.grantee_principal == principal and operation in (grant.operations or []):
            return True
    return False


def decide(key, principal: str, action: str, context: dict) -> str:
    """'allow' or 'deny' for ``principal`` doing ``action`` (kms:...) with moto's ``key``."""
    if getattr(key, "key_manager", "CUSTOMER") == "AWS":
        return "allow"
    try:
        policy = json.loads(key.policy) if isinstance(key.policy, str) else dict(key.policy or {})
    except ValueError:
        return "deny"
    statements = policy.get("Statement") or []
    if isinstance(statements, dict):
        statements = [statements]
    allowed = False
    for statement in statements:
        if not isinstance(statement, dict) or not _action_applies(statement, action):
            continue
        if _principal(statement, principal) is None:
            continue
        holds = _conditions_hold(statement, context)
        if statement.get("Effect") == "Deny":
            if holds:
                return "deny"
        elif statement.get("Effect") == "Allow" and holds:
            allowed = True
    if allowed or _grant_allows(key, principal, action.split(":", 1)[1]):
        return "allow"
    return "deny"


def _find_key(account: str, region: str, key_ref: str):
    from moto.kms.models import kms_backends

    backend = kms_backends[account][region]
    try:
        return backend.keys.get(backend.any_id_to_key_id(key_ref))
    except Exception:  # an alias that does not exist, a key of another region
        return None


def refusal(account: str, role_arn: str, uses: list[tuple[str, str, tuple[str, ...]]], service: str) -> str | None:
    """None when ``role_arn`` may do every action of ``uses`` ((region, key id/ARN/alias, actions)), as
    ``service`` (backup, ec2, rds) would on the role's behalf; else AWS's AccessDenied message for the first
    action refused. A key the sandbox does not know (another account's) is not checked."""
    if not enforced() or not role_arn:
        return None
    for region, key_ref, actions in uses:
        if not key_ref:
            continue
        key = _find_key(account, region, key_ref)
        if key is None:
            continue
        for action in actions:
            context = {
                "kms:CallerAccount": account,
                "kms:ViaService": f"{service}.{region}.amazonaws.com",
                "aws:PrincipalArn": role_arn,
                "aws:PrincipalAccount": account,
            }
            if action == "kms:CreateGrant":
                context["kms:GrantIsForAWSResource"] = "true"
            if decide(key, role_arn, action, context) != "allow":
                partition, name = role_arn.split(":")[1], role_arn.rsplit("/", 1)[-1]
                message = (
                    f"User: arn:{partition}:sts::{account}:assumed-role/{name}/{service} is not authorized to "
                    f"perform: {action} on resource: {key.arn} because no resource-based policy allows the "
                    f"{action} action"
                )
                log.info("KMS refused: %s", message)
                return message
    return None
