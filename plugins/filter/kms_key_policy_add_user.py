# -*- coding: utf-8 -*-

# Copyright: (c) 2026, MedCircle Cloud Operations
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""A key policy with one more IAM principal allowed to use the key.

AWS Backup, Amazon Data Lifecycle Manager and S3 replication work with IAM roles of the account. The
collection's keys let IAM policies decide nothing (their policy names every user), so a role that
backs up, copies or replicates data encrypted with a key must be named in that key's policy, or its
jobs fail when they run: the backup, the snapshot copy to the DR region or the replication of an
object. The roles that create those IAM roles add them with this filter, in the two statements the
kms_keys role writes for a key's users (``KeyUse`` and ``KeyGrantsForAwsServices``), and leave every
other statement as it is. The kms_keys role names the same roles (``kms_keys_user_roles``), so its
next run keeps them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json

from ansible.errors import AnsibleFilterError

# The statements the kms_keys role writes for the users of a key (roles/kms_keys/tasks/keys.yml).
USER_STATEMENTS = (
    {
        "Sid": "KeyUse",
        "Effect": "Allow",
        "Principal": {"AWS": []},
        "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
        "Resource": "*",
    },
    {
        "Sid": "KeyGrantsForAwsServices",
        "Effect": "Allow",
        "Principal": {"AWS": []},
        "Action": ["kms:CreateGrant", "kms:ListGrants", "kms:RevokeGrant"],
        "Resource": "*",
        "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}},
    },
)


def _policy_of(value):
    """The policy document from a key of kms_key_info, a policy dict or a policy JSON string."""
    if isinstance(value, dict) and "key_policies" in value:
        policies = value.get("key_policies") or []
        if not policies:
            raise AnsibleFilterError("kms_key_policy_add_user: the key has no policy (was it read with GetKeyPolicy?)")
        value = policies[0]
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as e:
            raise AnsibleFilterError("kms_key_policy_add_user: the key policy is not JSON: %s" % e) from None
    if not isinstance(value, dict) or "Statement" not in value:
        raise AnsibleFilterError(
            "kms_key_policy_add_user: expected a key of amazon.aws.kms_key_info or a key policy, got %s"
            % type(value).__name__
        )
    return copy.deepcopy(value)


def kms_key_policy_add_user(key, principal):
    """The key's policy with ``principal`` in its KeyUse and KeyGrantsForAwsServices statements."""
    principal = str(principal or "")
    parts = principal.split(":")
    if len(parts) < 6 or parts[0] != "arn" or parts[2] != "iam" or not parts[5].startswith(("role/", "user/")):
        raise AnsibleFilterError(
            "kms_key_policy_add_user: principal must be the ARN of an IAM role or user, got %r" % principal
        )
    policy = _policy_of(key)
    statements = policy["Statement"]
    if isinstance(statements, dict):
        statements = [statements]
    policy["Statement"] = statements
    for wanted in USER_STATEMENTS:
        found = [s for s in statements if s.get("Sid") == wanted["Sid"]]
        if not found:
            statement = copy.deepcopy(wanted)
            statement["Principal"]["AWS"] = [principal]
            statements.append(statement)
            continue
        statement = found[0]
        who = statement.get("Principal")
        if statement.get("Effect") != "Allow" or not isinstance(who, dict) or "AWS" not in who:
            raise AnsibleFilterError(
                "kms_key_policy_add_user: the key policy's statement %s is not an Allow for IAM principals; "
                "add %s to the key policy by hand" % (wanted["Sid"], principal)
            )
        listed = who["AWS"] if isinstance(who["AWS"], list) else [who["AWS"]]
        if principal not in listed:
            listed = [*listed, principal]
        who["AWS"] = listed
    return policy


class FilterModule(object):
    def filters(self):
        return {"kms_key_policy_add_user": kms_key_policy_add_user}
