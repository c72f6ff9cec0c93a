# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The IAM account password policy (finding 3.1).

Used by the iam_password_policy module. Functions take an IAM client (wrapped by
AnsibleAWSModule.client with a retry decorator) and never the module, so the
logic is tested with botocore's Stubber.

An account has at most one password policy. UpdateAccountPasswordPolicy replaces
all of it: a field the request leaves out goes back to AWS's default. So the
module describes the whole policy, and ensure_password_policy() reads the current
one (GetAccountPasswordPolicy; NoSuchEntity means there is none), compares it
field by field and calls UpdateAccountPasswordPolicy (or, for state=absent,
DeleteAccountPasswordPolicy) only when something differs.

Policies are handled here as dicts keyed by the AWS field names, with
MaxPasswordAge and PasswordReusePrevention None when they are not set (AWS
leaves them out of GetAccountPasswordPolicy; some emulators report 0).
"""

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.medcircle.cloudops.plugins.module_utils.common import ParameterError

# (module option, AWS field), in the order AWS's console lists them.
FIELDS = (
    ("minimum_length", "MinimumPasswordLength"),
    ("require_uppercase", "RequireUppercaseCharacters"),
    ("require_lowercase", "RequireLowercaseCharacters"),
    ("require_numbers", "RequireNumbers"),
    ("require_symbols", "RequireSymbols"),
    ("allow_users_to_change", "AllowUsersToChangePassword"),
    ("max_age_days", "MaxPasswordAge"),
    ("reuse_prevention", "PasswordReusePrevention"),
    ("hard_expiry", "HardExpiry"),
)
BOOLEAN_FIELDS = (
    "RequireUppercaseCharacters",
    "RequireLowercaseCharacters",
    "RequireNumbers",
    "RequireSymbols",
    "AllowUsersToChangePassword",
    "HardExpiry",
)
# Fields that may be left unset (0 or null in the module's options).
OPTIONAL_FIELDS = ("MaxPasswordAge", "PasswordReusePrevention")

# AWS's limits (UpdateAccountPasswordPolicy), and what to tell a person who asked for something else.
RANGES = {
    "minimum_length": (6, 128, "a number of characters from 6 to 128"),
    "max_age_days": (1, 1095, "a number of days from 1 to 1095, or 0 (or null) for passwords that never expire"),
    "reuse_prevention": (
        1,
        24,
        "a number of previous passwords from 1 to 24, or 0 (or null) to allow reusing passwords",
    ),
}
NO_POLICY = "(no policy)"


class PasswordPolicyError(AnsibleAWSError):
    pass


class PasswordPolicyErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = PasswordPolicyError

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code("NoSuchEntity")


@PasswordPolicyErrorHandler.list_error_handler("read the account password policy (iam:GetAccountPasswordPolicy)")
def get_password_policy(client):
    """The account's password policy as AWS returns it, or None when the account has none."""
    return client.get_account_password_policy(aws_retry=True)["PasswordPolicy"]


@PasswordPolicyErrorHandler.common_error_handler("set the account password policy (iam:UpdateAccountPasswordPolicy)")
def update_password_policy(client, policy):
    params = {field: value for field, value in policy.items() if value is not None}
    client.update_account_password_policy(aws_retry=True, **params)


@PasswordPolicyErrorHandler.deletion_error_handler(
    "delete the account password policy (iam:DeleteAccountPasswordPolicy)"
)
def delete_password_policy(client):
    client.delete_account_password_policy(aws_retry=True)
    return True


def normalise(aws_policy):
    """The comparable fields of a policy returned by GetAccountPasswordPolicy (None stays None)."""
    if aws_policy is None:
        return None
    policy = {"MinimumPasswordLength": int(aws_policy.get("MinimumPasswordLength", 6))}
    for field in BOOLEAN_FIELDS:
        policy[field] = bool(aws_policy.get(field, False))
    for field in OPTIONAL_FIELDS:
        policy[field] = int(aws_policy.get(field) or 0) or None
    return policy


def validate(options):
    """Check the requested policy (module option -> value) against AWS's limits.

    Raises ParameterError naming the first option that is out of range; returns nothing.
    """
    for option, (low, high, allowed) in RANGES.items():
        value = options.get(option)
        optional = option != "minimum_length"
        if value is None:
            if optional:
                continue
            raise ParameterError(option, None, "is required when state is present", allowed)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ParameterError(option, value, "is not a whole number", allowed)
        if optional and value == 0:
            continue
        if not low <= value <= high:
            raise ParameterError(option, value, "is out of range", allowed)


def requested_policy(options):
    """The policy (AWS fields) that the module's options describe; validates them first."""
    validate(options)
    policy = {}
    for option, field in FIELDS:
        value = options.get(option)
        if field in BOOLEAN_FIELDS:
            policy[field] = bool(value)
        elif field in OPTIONAL_FIELDS:
            policy[field] = value or None
        else:
            policy[field] = value
    return policy


def to_result(policy):
    """A policy (AWS fields) as the module returns it: snake_case, with expire_passwords."""
    if policy is None:
        return None
    return {
        "minimum_password_length": policy["MinimumPasswordLength"],
        "require_uppercase_characters": policy["RequireUppercaseCharacters"],
        "require_lowercase_characters": policy["RequireLowercaseCharacters"],
        "require_numbers": policy["RequireNumbers"],
        "require_symbols": policy["RequireSymbols"],
        "allow_users_to_change_password": policy["AllowUsersToChangePassword"],
        "expire_passwords": bool(policy["MaxPasswordAge"]),
        "max_password_age": policy["MaxPasswordAge"],
        "password_reuse_prevention": policy["PasswordReusePrevention"],
        "hard_expiry": policy["HardExpiry"],
    }


def _show(policy, field):
    if policy is None:
        return NO_POLICY
    value = policy[field]
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def describe_changes(before, after):
    """Human-readable differences, one per field, e.g. ``MinimumPasswordLength 8 -> 14``."""
    if before == after:
        return []
    changes = []
    for _option, field in FIELDS:
        old, new = _show(before, field), _show(after, field)
        if old != new:
            changes.append(f"{field} {old} -> {new}")
    return changes


def ensure_password_policy(client, state="present", options=None, check_mode=False):
    """Make the account password policy match ``options`` (state=present) or remove it (state=absent).

    ``options`` maps the module's option names to values. Input is checked before any AWS call.
    Returns {changed, password_policy, changes, diff}; in check mode nothing is changed and the
    result says what would be.
    """
    wanted = requested_policy(options or {}) if state == "present" else None
    before = normalise(get_password_policy(client))
    changes = describe_changes(before, wanted)
    changed = bool(changes)
    if changed and not check_mode:
        if wanted is None:
            delete_password_policy(client)
        else:
            update_password_policy(client, wanted)
    return {
        "changed": changed,
        "password_policy": to_result(wanted),
        "changes": changes,
        "diff": {"before": to_result(before), "after": to_result(wanted)},
    }
