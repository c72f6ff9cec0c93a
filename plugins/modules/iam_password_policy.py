#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: iam_password_policy
version_added: 0.1.0
short_description: Set or remove the IAM account password policy, changing it only when it differs
description:
  - Makes the IAM account password policy what the options describe. Part of closing finding C(3.1) of the
    risk register (weak authentication).
  - The current policy is read first (C(GetAccountPasswordPolicy)) and compared field by field.
    C(UpdateAccountPasswordPolicy) is called only when a field differs, so a second run changes nothing.
  - The options describe the B(whole) policy, as C(UpdateAccountPasswordPolicy) does - an option left out
    gets AWS's default (false, or not set), it does not keep the current value. The diff and RV(changes) show
    every field that changes.
  - Every option is checked against AWS's limits before any call to AWS; a bad value fails the task, naming
    the option and what is allowed, and nothing is changed.
  - This module does not judge whether a policy is strong enough; the playbook that calls it does
    (C(playbooks/remediate/identity.yml) refuses a policy weaker than the audit requires).
  - Existing passwords keep working; new rules apply at the next password change.
author:
  - MedCircle Cloud Operations (@medcircle)
options:
  state:
    description:
      - V(present) sets the policy, V(absent) deletes it (the account then has no password policy).
    type: str
    choices: [present, absent]
    default: present
  minimum_length:
    description:
      - The fewest characters a password may have (C(MinimumPasswordLength)), from V(6) to V(128).
      - Required when O(state=present).
    type: int
  require_uppercase:
    description:
      - Passwords need at least one upper case letter (C(RequireUppercaseCharacters)).
    type: bool
    default: false
  require_lowercase:
    description:
      - Passwords need at least one lower case letter (C(RequireLowercaseCharacters)).
    type: bool
    default: false
  require_numbers:
    description:
      - Passwords need at least one digit (C(RequireNumbers)).
    type: bool
    default: false
  require_symbols:
    description:
      - Passwords need at least one symbol, such as C(!@#$%^&*) (C(RequireSymbols)).
    type: bool
    default: false
  allow_users_to_change:
    description:
      - People may change their own password (C(AllowUsersToChangePassword)).
    type: bool
    default: false
  max_age_days:
    description:
      - Days after which a password expires (C(MaxPasswordAge)), from V(1) to V(1095).
      - V(0), V(null) or leaving it out means not set - passwords never expire.
    type: int
  reuse_prevention:
    description:
      - How many previous passwords a person may not reuse (C(PasswordReusePrevention)), from V(1) to V(24).
      - V(0), V(null) or leaving it out means not set - previous passwords may be reused.
    type: int
  hard_expiry:
    description:
      - V(true) means a person whose password expired cannot set a new one; an administrator must (C(HardExpiry)).
    type: bool
    default: false
notes:
  - Supports C(check_mode) and C(diff_mode). In check mode only C(GetAccountPasswordPolicy) is called.
  - "IAM permissions: C(iam:GetAccountPasswordPolicy), C(iam:UpdateAccountPasswordPolicy) and, for
    O(state=absent), C(iam:DeleteAccountPasswordPolicy)."
  - Replaces M(amazon.aws.iam_password_policy) in this collection's playbooks; that module changes the policy
    even in check mode and calls C(UpdateAccountPasswordPolicy) on every run.
seealso:
  - module: medcircle.cloudops.risk_audit
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
# Note: these examples do not set authentication details; the playbooks set them
# with module_defaults for group/medcircle.cloudops.aws.

- name: 3.1 | PATCH | Set the strong account password policy
  medcircle.cloudops.iam_password_policy:
    minimum_length: 14
    require_uppercase: true
    require_lowercase: true
    require_numbers: true
    require_symbols: true
    allow_users_to_change: true
    max_age_days: 90
    reuse_prevention: 24
    hard_expiry: false
  register: password_policy

- name: 3.1 | AUDIT | Show what changed
  ansible.builtin.debug:
    msg: "{{ password_policy.changes or ['nothing: the policy was already as asked'] }}"

- name: Remove the account password policy (AWS's defaults apply again)
  medcircle.cloudops.iam_password_policy:
    state: absent
"""

RETURN = r"""
changed:
  description: Whether the policy was changed (or, in check mode, would be).
  returned: always
  type: bool
  sample: true
password_policy:
  description:
    - The account password policy after the task (in check mode, what it would be); null when the account has
      none (O(state=absent)).
    - C(max_password_age) and C(password_reuse_prevention) are null when not set.
  returned: always
  type: dict
  contains:
    minimum_password_length:
      description: The fewest characters a password may have.
      returned: success
      type: int
      sample: 14
    require_uppercase_characters:
      description: Whether a password needs an upper case letter.
      returned: success
      type: bool
      sample: true
    require_lowercase_characters:
      description: Whether a password needs a lower case letter.
      returned: success
      type: bool
      sample: true
    require_numbers:
      description: Whether a password needs a digit.
      returned: success
      type: bool
      sample: true
    require_symbols:
      description: Whether a password needs a symbol.
      returned: success
      type: bool
      sample: true
    allow_users_to_change_password:
      description: Whether people may change their own password.
      returned: success
      type: bool
      sample: true
    expire_passwords:
      description: Whether passwords expire (true when C(max_password_age) is set).
      returned: success
      type: bool
      sample: true
    max_password_age:
      description: Days after which a password expires; null when passwords never expire.
      returned: success
      type: int
      sample: 90
    password_reuse_prevention:
      description: How many previous passwords may not be reused; null when not set.
      returned: success
      type: int
      sample: 24
    hard_expiry:
      description: Whether only an administrator can reset an expired password.
      returned: success
      type: bool
      sample: false
changes:
  description:
    - One line per field that changed (or would), with its AWS name, the old value and the new one.
    - C(not set) is a field without a value; C((no policy)) means the account had (or will have) no policy.
    - Empty when nothing changed.
  returned: always
  type: list
  elements: str
  sample:
    - MinimumPasswordLength 6 -> 14
    - RequireSymbols false -> true
    - MaxPasswordAge not set -> 90
diff:
  description: The policy before and after, in the form of RV(password_policy) (null when there is none).
  returned: when diff mode is on
  type: dict
  sample:
    before: {minimum_password_length: 6, require_symbols: false, max_password_age: null}
    after: {minimum_password_length: 14, require_symbols: true, max_password_age: 90}
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.medcircle.cloudops.plugins.module_utils.common import exit_with_diff
from ansible_collections.medcircle.cloudops.plugins.module_utils.iam_password_policy import (
    FIELDS,
    ensure_password_policy,
)


def main():
    argument_spec = {
        "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        "minimum_length": {"type": "int"},
        "require_uppercase": {"type": "bool", "default": False},
        "require_lowercase": {"type": "bool", "default": False},
        "require_numbers": {"type": "bool", "default": False},
        "require_symbols": {"type": "bool", "default": False},
        "allow_users_to_change": {"type": "bool", "default": False},
        "max_age_days": {"type": "int"},
        "reuse_prevention": {"type": "int"},
        "hard_expiry": {"type": "bool", "default": False},
    }
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)

    try:
        iam = module.client("iam", retry_decorator=AWSRetry.jittered_backoff())
        result = ensure_password_policy(
            iam,
            state=module.params["state"],
            options={option: module.params[option] for option, _field in FIELDS},
            check_mode=module.check_mode,
        )
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    exit_with_diff(module, result)


if __name__ == "__main__":
    main()
