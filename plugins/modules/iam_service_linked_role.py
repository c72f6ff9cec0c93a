#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: iam_service_linked_role
version_added: 0.1.0
short_description: Make sure the service-linked role of an AWS service exists
description:
  - Makes sure the account has the service-linked role of one AWS service, for example Auto Scaling's
    C(AWSServiceRoleForAutoScaling), creating it (C(iam:CreateServiceLinkedRole)) when it is missing.
  - AWS creates most service-linked roles by itself, but only the first time the service needs one (Auto Scaling's
    when the first Auto Scaling group is created). A KMS key policy that names a role which does not exist yet is
    refused (C(MalformedPolicyDocumentException)), so a playbook that gives a service's role the use of a key runs
    this module first and puts RV(arn) in the key policy.
  - The existing role is looked up first (C(iam:ListRoles) under the path C(/aws-service-role/<aws_service_name>/)),
    so a second run changes nothing and makes no change call. Without O(custom_suffix) the role looked for is the
    one whose name has no C(_<suffix>); with O(custom_suffix), the one whose name ends with C(_<custom_suffix>).
  - The module never makes up a role name; AWS names the role (C(AWSServiceRoleFor...), plus C(_<custom_suffix>)).
  - When another run creates the same role at the same moment, AWS answers that the name has been taken; the module
    then reads the role again and returns it, unchanged.
  - O(aws_service_name), O(custom_suffix) and O(description) are checked before any call to AWS; a bad value fails
    the task, naming the option, the value and what is allowed.
author:
  - MedCircle Cloud Operations (@medcircle)
options:
  aws_service_name:
    description:
      - The service principal of the service whose role this is, for example V(autoscaling.amazonaws.com).
      - Lower case letters, digits, dots and hyphens, ending in C(.amazonaws.com).
      - AWS's documentation of each service says whether it uses a service-linked role and under which principal.
    type: str
    required: true
  custom_suffix:
    description:
      - A suffix that makes a second, separate service-linked role of the same service; AWS names that role
        C(<name>_<custom_suffix>), for example C(AWSServiceRoleForAutoScaling_fleet).
      - 1 to 64 letters, digits and C(+=,.@-) characters.
      - Only some services allow a suffix (Auto Scaling does); for the others AWS refuses the creation.
      - Leave it out for the service's usual role.
    type: str
  description:
    description:
      - The role's description, used only when the role is created; an existing role's description is left as it is.
      - At most 1000 characters, printable Latin-1 (letters, digits, punctuation, spaces, tabs, line breaks).
    type: str
notes:
  - Supports C(check_mode) and C(diff_mode). In check mode only C(iam:ListRoles) is called; a missing role is
    reported as C(changed) with an empty RV(role) and a null RV(arn).
  - "IAM permissions: C(iam:ListRoles) and, to create the role, C(iam:CreateServiceLinkedRole) on
    C(arn:aws:iam::<account>:role/aws-service-role/<aws_service_name>/*)."
  - There is no O(ignore:state=absent). Deleting a service-linked role is asynchronous (AWS first checks that the
    service no longer uses it) and breaks the service that uses it; delete one by hand, in the IAM console, if
    that is really wanted.
  - "A service whose usual role name already has an underscore in it (Application Auto Scaling's, for example
    C(AWSServiceRoleForApplicationAutoScaling_DynamoDBTable)) is only recognised from AWS's answer to a creation:
    such a run calls C(iam:CreateServiceLinkedRole), gets the name-taken answer and returns the role unchanged, and
    check mode reports it as to be created."
seealso:
  - module: amazon.aws.iam_role
  - module: amazon.aws.kms_key
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
# Note: these examples do not set authentication details; the playbooks set them
# with module_defaults for group/medcircle.cloudops.aws.

- name: Make sure Auto Scaling's service-linked role exists
  medcircle.cloudops.iam_service_linked_role:
    aws_service_name: autoscaling.amazonaws.com
    description: Launches the fleet's instances (encrypted volumes need it in the EBS key policy)
  register: autoscaling_role

- name: Let Auto Scaling's role use the EBS key (the policy template names autoscaling_role.arn)
  amazon.aws.kms_key:
    alias: alias/medcircle-ebs
    policy: "{{ lookup('ansible.builtin.template', 'ebs-key-policy.json.j2') }}"

- name: A second, separate Auto Scaling role (AWSServiceRoleForAutoScaling_fleet)
  medcircle.cloudops.iam_service_linked_role:
    aws_service_name: autoscaling.amazonaws.com
    custom_suffix: fleet

- name: Only check whether the role exists (changed means it does not)
  medcircle.cloudops.iam_service_linked_role:
    aws_service_name: autoscaling.amazonaws.com
  check_mode: true
  register: autoscaling_role_check
"""

RETURN = r"""
changed:
  description: Whether the role was created (or, in check mode, would be).
  returned: always
  type: bool
  sample: true
msg:
  description: What the module found or did, in a sentence.
  returned: always
  type: str
  sample: The service-linked role AWSServiceRoleForAutoScaling of autoscaling.amazonaws.com was created.
arn:
  description:
    - The role's ARN, for use in key policies and templates.
    - Null in check mode when the role does not exist yet (it would be created).
  returned: always
  type: str
  sample: arn:aws:iam::123456789012:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling
role:
  description:
    - The service-linked role, found or created.
    - Empty in check mode when the role does not exist yet (it would be created).
  returned: always
  type: dict
  contains:
    arn:
      description: The role's ARN.
      returned: when the role exists
      type: str
      sample: arn:aws:iam::123456789012:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling
    role_name:
      description: The role's name, as AWS gave it.
      returned: when the role exists
      type: str
      sample: AWSServiceRoleForAutoScaling
    path:
      description: The role's path, C(/aws-service-role/<aws_service_name>/).
      returned: when the role exists
      type: str
      sample: /aws-service-role/autoscaling.amazonaws.com/
    role_id:
      description: The role's unique id.
      returned: when the role exists
      type: str
      sample: AROA1234567890EXAMPLE
    create_date:
      description: When the role was created, in ISO 8601.
      returned: when the role exists
      type: str
      sample: "2026-11-30T08:15:00+00:00"
    description:
      description: The role's description.
      returned: when the role has one
      type: str
      sample: Default Service-Linked Role enables access to AWS Services and Resources used or managed by Auto Scaling
diff:
  description:
    - Before, the role found (empty when there was none); after, the role (in check mode, the path and description
      of the role that would be created).
  returned: when diff mode is on
  type: dict
  sample:
    before: {}
    after: {path: /aws-service-role/autoscaling.amazonaws.com/}
"""

import re

try:
    import botocore
except ImportError:
    botocore = None  # Handled by AnsibleAWSModule

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.medcircle.cloudops.plugins.module_utils.common import exit_with_diff

SERVICE_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]*\.amazonaws\.com$")
CUSTOM_SUFFIX = re.compile(r"^[A-Za-z0-9+=,.@-]{1,64}$")
# IAM's limit and character set for a role description.
DESCRIPTION_MAX = 1000
DESCRIPTION_CHARACTERS = re.compile(r"^[\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*$")
# What IAM answers when the role's name is in use (InvalidInput): "Service role name AWSServiceRoleForAutoScaling
# has been taken in this account, please try a different suffix." EntityAlreadyExists ("Role with name
# AWSServiceRoleForAutoScaling already exists.") means the same.
NAME_TAKEN = re.compile(r"name (\S+?)\.? (?:has been taken|already exists)")
ROLE_FIELDS = ("Arn", "RoleName", "Path", "RoleId", "CreateDate", "Description")


def validate(params):
    """The first problem with the options, as a message naming the option, the value and what is allowed."""
    service = params["aws_service_name"]
    if not SERVICE_NAME.match(service or ""):
        return (
            "aws_service_name %r is not an AWS service principal. Allowed: lower case letters, digits, dots and "
            "hyphens ending in .amazonaws.com, such as autoscaling.amazonaws.com. Nothing was changed." % service
        )
    suffix = params["custom_suffix"]
    if suffix is not None and not CUSTOM_SUFFIX.match(suffix):
        return (
            "custom_suffix %r is not allowed. Allowed: 1 to 64 letters, digits and the characters +=,.@- "
            "(no spaces or underscores), such as fleet; or leave custom_suffix out for the service's usual "
            "role. Nothing was changed." % suffix
        )
    description = params["description"]
    if description is not None and (
        len(description) > DESCRIPTION_MAX or not DESCRIPTION_CHARACTERS.match(description)
    ):
        return (
            "description is not allowed (%d characters). Allowed: at most %d characters of printable Latin-1 "
            "(letters, digits, punctuation, spaces, tabs and line breaks). Nothing was changed."
            % (len(description), DESCRIPTION_MAX)
        )
    return None


def role_path(service):
    return "/aws-service-role/%s/" % service


def what(params):
    """The role asked for, in words: 'the service-linked role of autoscaling.amazonaws.com'."""
    if params["custom_suffix"]:
        return "the service-linked role of %s with the suffix %s" % (
            params["aws_service_name"],
            params["custom_suffix"],
        )
    return "the service-linked role of %s" % params["aws_service_name"]


@AWSRetry.jittered_backoff()
def list_linked_roles(client, service):
    """Every role under the service's service-linked role path, across all pages."""
    paginator = client.get_paginator("list_roles")
    return paginator.paginate(PathPrefix=role_path(service)).build_full_result().get("Roles", [])


def pick_role(roles, suffix, name=None):
    """The role asked for among the service's roles.

    Without a suffix it is the role whose name has no ``_<suffix>``; with one, the role whose name ends with
    ``_<suffix>``. When that finds none and AWS named the role (``name``, from its name-taken answer), that one.
    """
    if suffix:
        matches = [role for role in roles if role.get("RoleName", "").endswith("_" + suffix)]
    else:
        matches = [role for role in roles if "_" not in role.get("RoleName", "")]
    if not matches and name:
        matches = [role for role in roles if role.get("RoleName") == name]
    return sorted(matches, key=lambda role: role["RoleName"])[0] if matches else None


def snake_role(role):
    kept = {field: role[field] for field in ROLE_FIELDS if role.get(field) is not None}
    created = kept.get("CreateDate")
    if hasattr(created, "isoformat"):
        kept["CreateDate"] = created.isoformat()
    return camel_dict_to_snake_dict(kept)


def find_role(module, client, name=None):
    """The service-linked role asked for (a boto3 dict), or None."""
    service = module.params["aws_service_name"]
    try:
        roles = list_linked_roles(client, service)
    except is_boto3_error_code("AccessDenied") as e:
        module.fail_json_aws(
            e, msg="Could not list the service-linked roles of %s; the caller needs iam:ListRoles" % service
        )
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(
            e, msg="Could not list the service-linked roles of %s (path %s)" % (service, role_path(service))
        )
    return pick_role(roles, module.params["custom_suffix"], name)


def create_role(module, client):
    """(the created role, None), or (None, the role name or None) when IAM answers that the name is taken."""
    params = module.params
    service = params["aws_service_name"]
    request = {"AWSServiceName": service}
    if params["custom_suffix"]:
        request["CustomSuffix"] = params["custom_suffix"]
    if params["description"]:
        request["Description"] = params["description"]
    try:
        return client.create_service_linked_role(aws_retry=True, **request)["Role"], None
    except is_boto3_error_code(["InvalidInput", "EntityAlreadyExists"]) as e:
        error = e.response.get("Error", {})
        message = error.get("Message") or ""
        if "has been taken" in message or error.get("Code") == "EntityAlreadyExists":
            named = NAME_TAKEN.search(message)
            return None, named.group(1) if named else None
        module.fail_json_aws(
            e,
            msg="Could not create %s: IAM refused the request (does %s use a service-linked role, and does it "
            "allow custom_suffix?)" % (what(params), service),
        )
    except is_boto3_error_code("AccessDenied") as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(
            e,
            msg="Could not create %s; the caller needs iam:CreateServiceLinkedRole on arn:aws:iam::<account>:role%s*"
            % (what(params), role_path(service)),
        )
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg="Could not create %s" % what(params))


def exit_with_role(module, changed, msg, role, before):
    exit_with_diff(
        module,
        {
            "changed": changed,
            "msg": msg,
            "role": role,
            "arn": role.get("arn"),
            "diff": {"before": before, "after": role},
        },
    )


def main():
    argument_spec = {
        "aws_service_name": {"type": "str", "required": True},
        "custom_suffix": {"type": "str"},
        "description": {"type": "str"},
    }
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    if params["custom_suffix"] == "":
        params["custom_suffix"] = None
    problem = validate(params)
    if problem:
        module.fail_json(msg=problem)
    service = params["aws_service_name"]
    client = module.client("iam", retry_decorator=AWSRetry.jittered_backoff())

    existing = find_role(module, client)
    if existing:
        role = snake_role(existing)
        msg = "The service-linked role %s of %s exists." % (existing["RoleName"], service)
        exit_with_role(module, False, msg, role, before=role)

    if module.check_mode:
        planned = {"path": role_path(service)}
        if params["description"]:
            planned["description"] = params["description"]
        msg = "%s does not exist and would be created (check mode: nothing was changed)." % what(params)
        exit_with_diff(
            module,
            {
                "changed": True,
                "msg": msg[0].upper() + msg[1:],
                "role": {},
                "arn": None,
                "diff": {"before": {}, "after": planned},
            },
        )

    created, taken_name = create_role(module, client)
    if created:
        role = snake_role(created)
        msg = "The service-linked role %s of %s was created." % (created["RoleName"], service)
        exit_with_role(module, True, msg, role, before={})

    # The name is taken: most likely another run created the role between the look-up and the creation.
    existing = find_role(module, client, name=taken_name)
    if not existing:
        module.fail_json(
            msg="IAM answered that the name of %s (%s) is taken, but no such role is under the path %s: a role of "
            "that name that is not %s exists in the account. Look at it with aws iam get-role --role-name %s. "
            "Nothing was changed."
            % (what(params), taken_name or "name not given", role_path(service), what(params), taken_name or "<name>")
        )
    role = snake_role(existing)
    msg = "The service-linked role %s of %s exists (IAM refused to create it again: its name is taken)." % (
        existing["RoleName"],
        service,
    )
    exit_with_role(module, False, msg, role, before=role)


if __name__ == "__main__":
    main()
