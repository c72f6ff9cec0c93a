#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: wafv2_web_acl
version_added: 0.1.0
short_description: Create, update or delete an AWS WAFv2 web ACL, keeping the rules it is not given
description:
  - Makes the WAFv2 web ACL O(name) exist with the default action, description, visibility settings, rules and
    tags asked for, and changes only what differs (finding C(4.4)). O(state=absent) deletes it.
  - The rules are given as the WAFv2 API names them, exactly as C(GetWebACL) returns them
    (C(Name), C(Priority), C(Action) or C(OverrideAction), C(Statement), C(VisibilityConfig), ...). Each field is
    checked against botocore's WAFv2 model before any call, so a misspelt field fails naming its path.
  - A rule is compared as AWS stores it, so a second run changes nothing - C(SearchString) of a byte match
    statement, anywhere in a rule, is compared as bytes (AWS returns bytes, a playbook gives text; the SDK
    base64-encodes it); numbers and booleans as the API's types; and the default AWS fills in for a field left out
    (C(EvaluationWindowSec) 300 of a rate-based statement) counts as given.
  - Rules of the web ACL that are not in O(rules) are kept exactly as they are (a rule added by hand in an
    incident), unless they are named in O(remove_rules) or O(purge_rules=true). A given rule on the priority of a
    kept rule fails before any change.
  - The web ACL's other settings (CAPTCHA and challenge settings, token domains, custom response bodies, body
    size limits, data protection) are sent back unchanged with every update.
author:
  - MedCircle Cloud Operations (@medcircle)
options:
  name:
    description:
      - The name of the web ACL (1-128 letters, digits, C(_) and C(-)).
    type: str
    required: true
  scope:
    description:
      - V(REGIONAL) for Application Load Balancers, API Gateway and the like (in the module's region);
        V(CLOUDFRONT) for CloudFront (the region must be us-east-1).
    type: str
    choices: [REGIONAL, CLOUDFRONT]
    default: REGIONAL
  state:
    description:
      - V(present) creates or updates the web ACL, V(absent) deletes it (it must not protect any resource).
    type: str
    choices: [present, absent]
    default: present
  default_action:
    description:
      - What the web ACL does with a request no rule decides. Required to create the web ACL; omitted keeps the
        current one. An existing V(Allow) or V(Block) keeps its custom request handling or response.
    type: str
    choices: [Allow, Block]
  description:
    description:
      - The description of the web ACL. Omitted keeps the current one.
    type: str
  sampled_requests:
    description:
      - Whether WAF keeps samples of the requests the web ACL inspects. Omitted keeps the current setting
        (V(false) for a new web ACL).
    type: bool
  cloudwatch_metrics:
    description:
      - Whether the web ACL sends metrics to CloudWatch. Omitted keeps the current setting (V(true) for a new
        web ACL).
    type: bool
  metric_name:
    description:
      - The CloudWatch metric name of the web ACL. Omitted keeps the current one (O(name) for a new web ACL).
    type: str
  rules:
    description:
      - The rules this task manages, as the WAFv2 API names them (keys C(Name), C(Priority), C(Statement),
        C(VisibilityConfig), C(Action) or C(OverrideAction), ...). C(SearchString) is given as text.
      - Each rule replaces the web ACL's rule of the same C(Name). Names and priorities must be unique.
    type: list
    elements: dict
    default: []
  remove_rules:
    description:
      - Names of rules to remove from the web ACL (for example the caller's own rules it no longer wants). A name
        the web ACL does not have is ignored.
    type: list
    elements: str
    default: []
  purge_rules:
    description:
      - Remove every rule of the web ACL that is not in O(rules). V(false) keeps them as they are.
    type: bool
    default: false
  tags:
    description:
      - Tags of the web ACL. Omitted leaves the tags as they are.
    type: dict
    aliases: [resource_tags]
  purge_tags:
    description:
      - Remove the tags of the web ACL that are not in O(tags).
    type: bool
    default: true
notes:
  - Supports C(check_mode) (only C(ListWebACLs), C(GetWebACL) and C(ListTagsForResource) are called) and
    C(diff_mode) (the default action, description, visibility and rules before and after).
  - "IAM permissions: wafv2:ListWebACLs, wafv2:GetWebACL, wafv2:ListTagsForResource, and to change
    wafv2:CreateWebACL, wafv2:UpdateWebACL, wafv2:DeleteWebACL, wafv2:TagResource, wafv2:UntagResource (plus what
    the rules reference, such as wafv2:GetIPSet or wafv2:GetManagedRuleSet)."
  - Another change to the web ACL between this task's read and its update makes AWS refuse the update
    (C(WAFOptimisticLockException)); run the task again.
  - Rules are read with botocore, which drops a field its WAFv2 model does not know yet; an update would send
    such a rule back without it. Keep botocore on the node that runs the module as current as the WAF features
    in use.
seealso:
  - module: community.aws.wafv2_web_acl_info
  - module: community.aws.wafv2_resources
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
# Note: these examples do not set authentication details; the playbooks set them
# with module_defaults for group/medcircle.cloudops.aws.

- name: "4.4 | PATCH | WAF | Web ACL with an AWS managed rule group and a rate limit"
  medcircle.cloudops.wafv2_web_acl:
    name: medcircle-web-acl
    scope: REGIONAL
    default_action: Allow
    description: MedCircle application firewall
    sampled_requests: true
    cloudwatch_metrics: true
    rules:
      - Name: AWSManagedRulesCommonRuleSet
        Priority: 10
        OverrideAction: {None: {}}
        Statement:
          ManagedRuleGroupStatement: {VendorName: AWS, Name: AWSManagedRulesCommonRuleSet}
        VisibilityConfig: {SampledRequestsEnabled: true, CloudWatchMetricsEnabled: true, MetricName: common}
      - Name: login-rate-limit
        Priority: 20
        Action: {Block: {}}
        Statement:
          RateBasedStatement:
            Limit: 100
            AggregateKeyType: IP
            ScopeDownStatement:
              ByteMatchStatement:
                SearchString: /login
                FieldToMatch: {UriPath: {}}
                TextTransformations: [{Priority: 0, Type: NONE}]
                PositionalConstraint: STARTS_WITH
        VisibilityConfig: {SampledRequestsEnabled: true, CloudWatchMetricsEnabled: true, MetricName: login-rate}
    tags:
      Project: medcircle
  register: web_acl

- name: Remove a rule this play added earlier, keep every other rule, show the plan only
  medcircle.cloudops.wafv2_web_acl:
    name: medcircle-web-acl
    remove_rules: [login-rate-limit]
  check_mode: true
  diff: true

- name: Delete the web ACL
  medcircle.cloudops.wafv2_web_acl:
    name: medcircle-test-web-acl
    state: absent
"""

RETURN = r"""
changed:
  description: Whether the web ACL was changed (in check mode, would be).
  returned: always
  type: bool
  sample: true
name:
  description: The web ACL's name.
  returned: always
  type: str
  sample: medcircle-web-acl
arn:
  description: The web ACL's ARN; null when it does not exist (or, in check mode, would be created).
  returned: always
  type: str
  sample: arn:aws:wafv2:us-east-1:123456789012:regional/webacl/medcircle-web-acl/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111
id:
  description: The web ACL's id; null when it does not exist (or, in check mode, would be created).
  returned: always
  type: str
  sample: a1b2c3d4-5678-90ab-cdef-EXAMPLE11111
rules:
  description: The names of the web ACL's rules by what the task did (in check mode, would do) with them.
  returned: always
  type: dict
  contains:
    added:
      description: Rules of O(rules) the web ACL did not have.
      returned: always
      type: list
      elements: str
      sample: [login-rate-limit]
    updated:
      description: Rules of O(rules) that differed from the web ACL's rule of the same name.
      returned: always
      type: list
      elements: str
      sample: []
    unchanged:
      description: Rules of O(rules) the web ACL already had as given.
      returned: always
      type: list
      elements: str
      sample: [AWSManagedRulesCommonRuleSet]
    removed:
      description: Rules removed (O(remove_rules), O(purge_rules), or all of them with O(state=absent)).
      returned: always
      type: list
      elements: str
      sample: []
    kept:
      description: Rules of the web ACL that are not in O(rules) and were kept as they are.
      returned: always
      type: list
      elements: str
      sample: [incident-ip-block]
tags_added:
  description: Tags added or changed (in check mode, would be).
  returned: always
  type: dict
  sample: {Project: medcircle}
tags_removed:
  description: Keys of the tags removed (in check mode, would be).
  returned: always
  type: list
  elements: str
  sample: []
diff:
  description: The default action, description, visibility and rules (search strings as text) before and after.
  returned: when diff mode is on
  type: dict
  sample:
    before: null
    after:
      default_action: Allow
      description: MedCircle application firewall
      visibility_config: {SampledRequestsEnabled: true, CloudWatchMetricsEnabled: true, MetricName: medcircle-web-acl}
      rules: []
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.medcircle.cloudops.plugins.module_utils.common import exit_with_diff
from ansible_collections.medcircle.cloudops.plugins.module_utils.wafv2 import ensure_web_acl


def main():
    argument_spec = {
        "name": {"type": "str", "required": True},
        "scope": {"type": "str", "choices": ["REGIONAL", "CLOUDFRONT"], "default": "REGIONAL"},
        "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        "default_action": {"type": "str", "choices": ["Allow", "Block"]},
        "description": {"type": "str"},
        "sampled_requests": {"type": "bool"},
        "cloudwatch_metrics": {"type": "bool"},
        "metric_name": {"type": "str"},
        "rules": {"type": "list", "elements": "dict", "default": []},
        "remove_rules": {"type": "list", "elements": "str", "default": []},
        "purge_rules": {"type": "bool", "default": False},
        "tags": {"type": "dict", "aliases": ["resource_tags"]},
        "purge_tags": {"type": "bool", "default": True},
    }
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    try:
        # WAFUnavailableEntityException: a resource a rule references (an IP set) is not available yet
        retry = AWSRetry.jittered_backoff(catch_extra_error_codes=["WAFUnavailableEntityException"])
        client = module.client("wafv2", retry_decorator=retry)
        result = ensure_web_acl(client, module.params, check_mode=module.check_mode)
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    exit_with_diff(module, result)


if __name__ == "__main__":
    main()
