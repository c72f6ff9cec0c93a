# -*- coding: utf-8 -*-

# Copyright: (c) 2026, MedCircle Cloud Operations
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Whether a KMS key lets a principal use it, from the key's policy and grants (as
amazon.aws.kms_key_info or the KMS API return them). Used by the kms_key_access filter and by modules.

The fleet needs it before it starts an Auto Scaling group on customer-managed EBS encryption: Auto
Scaling launches the instances with its service-linked role, which has no KMS permission of its own
(nobody can attach a policy to it), so the key policy or a grant must let that role use the key. When
neither does, every launch fails with "Client.InternalError: Client error on launch" and the group
never reaches its size; this check says so before the group is touched.

The evaluation follows the rules of key policies for one principal and one action at a time: an
explicit Deny wins, then an Allow statement naming the principal (its ARN, or ``*``) whose Action
or NotAction covers the action and whose conditions hold, or a grant to the principal with that
operation. The account's root principal in a key policy only lets IAM policies decide, and a
service-linked role's IAM policy grants no KMS action, so it does not count unless
``account_root_counts`` says the principal's IAM policies do. Conditions are evaluated on the keys
that are known for a service using the key on the principal's behalf (kms:CallerAccount,
kms:ViaService, kms:GrantIsForAWSResource for CreateGrant, aws:PrincipalArn, aws:PrincipalAccount);
a statement with any other condition is reported as ``unsure`` rather than guessed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import json

# What Amazon EC2 and Auto Scaling need to launch instances with volumes encrypted by a key
# (AWS's "required KMS key policy for use with encrypted volumes"): ReEncrypt* and GenerateDataKey*
# written out as the operations they stand for.
EBS_LAUNCH_ACTIONS = (
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:DescribeKey",
    "kms:CreateGrant",
)

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


def _as_list(value):
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [str(value)]


def _names(statement):
    return statement.get("Sid") or "statement %d" % statement["_index"]


def _principal_matches(statement, principal, account_root_counts):
    account = principal.split(":")[4]
    roots = ("arn:aws:iam::%s:root" % account, account)
    if "NotPrincipal" in statement:
        excluded = statement["NotPrincipal"]
        listed = _as_list(excluded.get("AWS")) if isinstance(excluded, dict) else []
        return principal not in listed and not (account_root_counts and any(r in listed for r in roots))
    who = statement.get("Principal")
    if who == "*":
        return True
    listed = _as_list(who.get("AWS")) if isinstance(who, dict) else []
    if "*" in listed or principal in listed:
        return True
    return account_root_counts and any(r in listed for r in roots)


def _action_matches(statement, action):
    def covered(patterns):
        return any(fnmatch.fnmatchcase(action.lower(), p.lower()) for p in _as_list(patterns))

    if "NotAction" in statement:
        return not covered(statement["NotAction"])
    return covered(statement.get("Action"))


def _conditions(statement, context):
    """True when every condition holds, False when one does not, None when one cannot be evaluated here."""
    verdict = True
    for operator, tests in (statement.get("Condition") or {}).items():
        if not isinstance(tests, dict) or operator.split(":")[0] in ("ForAnyValue", "ForAllValues"):
            return None
        if_exists = operator.endswith("IfExists")
        base = operator[: -len("IfExists")] if if_exists else operator
        negated = base in _NEGATED
        compare = _POSITIVE.get(_NEGATED.get(base, base))
        if compare is None:
            return None
        for key, wanted in tests.items():
            known = {k.lower(): v for k, v in context.items()}
            if key.lower() not in known:
                # the key is not one this check knows the value of: it cannot tell
                return None
            have = known[key.lower()]
            if have is None:  # known to be absent for this action
                holds = if_exists or negated
            else:
                holds = compare(_as_list(wanted), str(have))
                holds = not holds if negated else holds
            if not holds:
                verdict = False
    return verdict


def _grant_allows(grants, principal, action):
    operation = action.split(":", 1)[1]
    for grant in grants or []:
        if grant.get("grantee_principal", grant.get("GranteePrincipal")) != principal:
            continue
        if operation in (grant.get("operations") or grant.get("Operations") or []):
            return grant.get("grant_id") or grant.get("GrantId") or "a grant"
    return None


def key_access(key, principal, actions=None, via_service=None, account_root_counts=False):
    """Which ``actions`` the key lets ``principal`` use. ``key``: one element of amazon.aws.kms_key_info's
    ``kms_keys``, or a dictionary with ``key_arn``, ``key_policies`` (documents or JSON) and ``grants`` (as
    ListGrants returns them). Raises ValueError for a key or principal of the wrong form."""
    if not isinstance(key, dict):
        raise ValueError("expected one key of amazon.aws.kms_key_info, got %s" % type(key).__name__)
    principal = str(principal or "")
    if not principal.startswith("arn:") or len(principal.split(":")) < 6:
        raise ValueError("principal must be an IAM ARN, got %r" % principal)
    actions = list(actions or EBS_LAUNCH_ACTIONS)
    arn = key.get("key_arn") or key.get("KeyArn") or ""
    region = arn.split(":")[3] if arn.count(":") >= 5 else ""
    via_service = via_service or ("ec2.%s.amazonaws.com" % region if region else None)
    account = principal.split(":")[4]
    statements = []
    for policy in key.get("key_policies") or []:
        if isinstance(policy, str):
            policy = json.loads(policy)
        found = policy.get("Statement") or []
        for statement in found if isinstance(found, list) else [found]:
            statements.append(dict(statement, _index=len(statements) + 1))

    result = {"principal": principal, "key_arn": arn, "allowed": {}, "missing": [], "unsure": {}, "denied": {}}
    for action in actions:
        context = {
            "kms:CallerAccount": account,
            "kms:ViaService": via_service,
            "aws:PrincipalArn": principal,
            "aws:PrincipalAccount": account,
            "kms:GrantIsForAWSResource": "true" if action == "kms:CreateGrant" else None,
        }
        relevant = [
            s
            for s in statements
            if _action_matches(s, action) and _principal_matches(s, principal, account_root_counts)
        ]
        deny = [s for s in relevant if s.get("Effect") == "Deny" and _conditions(s, context) is True]
        if deny:
            result["denied"][action] = _names(deny[0])
            result["missing"].append(action)
            continue
        allow = [s for s in relevant if s.get("Effect") == "Allow" and _conditions(s, context) is True]
        grant = None if allow else _grant_allows(key.get("grants"), principal, action)
        maybe_deny = [s for s in relevant if s.get("Effect") == "Deny" and _conditions(s, context) is None]
        if (allow or grant) and maybe_deny:
            result["unsure"][action] = "key policy statement %s may deny it (conditions this check cannot evaluate)" % (
                _names(maybe_deny[0])
            )
        elif allow:
            result["allowed"][action] = "key policy statement %s" % _names(allow[0])
        elif grant:
            result["allowed"][action] = "grant %s" % grant
        else:
            maybe = [s for s in relevant if s.get("Effect") == "Allow" and _conditions(s, context) is None]
            if maybe:
                result["unsure"][action] = "key policy statement %s (conditions this check cannot evaluate)" % _names(
                    maybe[0]
                )
            else:
                result["missing"].append(action)
    result["ok"] = not result["missing"]
    return result
