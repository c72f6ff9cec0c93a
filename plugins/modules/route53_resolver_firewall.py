#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: route53_resolver_firewall
version_added: 0.1.0
short_description: Manage a Route 53 Resolver DNS Firewall rule group, its rules, domain lists and VPC associations
description:
  - Makes a DNS Firewall rule group, found by O(name), hold exactly the O(rules) given (one per domain list),
    makes the O(domain_lists) hold exactly their domains, and associates the rule group with the VPCs in
    O(associations), then waits until each association is C(COMPLETE).
  - Closes finding C(4.7) of the risk register (Route 53 Resolver DNS firewall rule groups not configured).
  - Everything is read and every option is checked before any change; the change is planned as a whole
    (RV(changes)) and, in check mode, only reported.
  - With O(state=absent), the rule group is disassociated from every VPC, its rules and the group itself are
    deleted, and so are the domain lists named in O(domain_lists). Nothing else is deleted.
author:
  - MedCircle Cloud Operations (@medcircle)
options:
  state:
    description: V(present) creates or updates; V(absent) deletes the rule group and the named domain lists.
    type: str
    choices: [present, absent]
    default: present
  name:
    description: The rule group's name. It identifies the group; two groups of that name are an error.
    type: str
    required: true
  domain_lists:
    description:
      - Domain lists to create or bring in line, found by name. Their domains are replaced by the ones
        given when they differ. Domains are compared lowercase with a final dot (C(example.com.)).
      - Importing domains from S3 is not supported.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The domain list's name.
        type: str
        required: true
      domains:
        description: The domains, for example V(malware.example) or V(*.phishing.example).
        type: list
        elements: str
        default: []
  rules:
    description:
      - The rules of the group, one per domain list (a name in O(domain_lists) or an existing domain list).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The rule's name.
        type: str
        required: true
      priority:
        description: The rule's order in the group, 1-10000, lowest first; unique within the group.
        type: int
        required: true
      action:
        description: What to do with a query for a domain of the list.
        type: str
        choices: [ALLOW, BLOCK, ALERT]
        required: true
      domain_list:
        description: The name of the domain list the rule inspects.
        type: str
        required: true
      block_response:
        description: The answer to a blocked query. Required with O(rules[].action=BLOCK).
        type: str
        choices: [NODATA, NXDOMAIN, OVERRIDE]
      block_override_domain:
        description: The domain answered instead, with O(rules[].block_response=OVERRIDE).
        type: str
      block_override_dns_type:
        description: The record type of the override answer.
        type: str
        choices: [CNAME]
      block_override_ttl:
        description: The TTL of the override answer, in seconds.
        type: int
  purge_rules:
    description: Delete rules of the group that O(rules) does not list.
    type: bool
    default: true
  associations:
    description: The VPCs the rule group is associated with.
    type: list
    elements: dict
    default: []
    suboptions:
      vpc_id:
        description: The VPC id.
        type: str
        required: true
      priority:
        description: The order of this rule group among the VPC's rule groups, 101-9900, unique per VPC.
        type: int
        required: true
      name:
        description: The association's name. Default C(<name>-<vpc_id>).
        type: str
      mutation_protection:
        description: V(ENABLED) stops the association from being changed or removed until it is turned off.
        type: str
        choices: [ENABLED, DISABLED]
        default: DISABLED
  purge_associations:
    description: Disassociate the rule group from VPCs that O(associations) does not list.
    type: bool
    default: false
  tags:
    description:
      - Tags of the rule group (and of the domain lists and associations it creates).
    type: dict
    aliases: [resource_tags]
  purge_tags:
    description: Remove tags of the rule group that O(tags) does not list (only when O(tags) is given).
    type: bool
    default: true
  wait:
    description: Wait until new or changed associations are C(COMPLETE).
    type: bool
    default: true
  wait_timeout:
    description: How long to wait, in seconds.
    type: int
    default: 300
notes:
  - Supports C(check_mode) (only C(List*) calls) and C(diff_mode).
  - "IAM permissions: C(route53resolver:List*), C(route53resolver:Get*), C(route53resolver:Create*),
    C(route53resolver:Update*), C(route53resolver:Delete*), C(route53resolver:AssociateFirewallRuleGroup),
    C(route53resolver:DisassociateFirewallRuleGroup), C(route53resolver:TagResource),
    C(route53resolver:UntagResource), C(ec2:DescribeVpcs)."
  - See U(https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/resolver-dns-firewall.html).
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: 4.7 | PATCH | Block known-bad domains in the application VPC
  medcircle.cloudops.route53_resolver_firewall:
    region: us-east-1
    name: medcircle-dns-firewall
    domain_lists:
      - name: medcircle-blocked-domains
        domains: [malware.example, "*.phishing.example"]
    rules:
      - name: block-known-bad
        priority: 100
        action: BLOCK
        block_response: NXDOMAIN
        domain_list: medcircle-blocked-domains
    associations:
      - vpc_id: vpc-0abc1234def567890
        priority: 101
    tags:
      Project: medcircle

- name: Delete the rule group and its domain list
  medcircle.cloudops.route53_resolver_firewall:
    name: medcircle-dns-firewall
    state: absent
    domain_lists:
      - name: medcircle-blocked-domains
"""

RETURN = r"""
rule_group:
  description: The rule group (empty when absent). In check mode, a group to be created has no id.
  returned: always
  type: dict
  sample:
    id: rslvr-frg-0123456789abcdef
    arn: arn:aws:route53resolver:us-east-1:123456789012:firewall-rule-group/rslvr-frg-0123456789abcdef
    name: medcircle-dns-firewall
    tags: {Project: medcircle}
domain_lists:
  description: The domain lists named in O(domain_lists) that exist (or would), with their domains.
  returned: always
  type: list
  elements: dict
  sample:
    - name: medcircle-blocked-domains
      id: rslvr-fdl-0123456789abcdef
      domains: ["*.phishing.example.", "malware.example."]
rules:
  description: The group's rules, by priority.
  returned: always
  type: list
  elements: dict
  sample:
    - name: block-known-bad
      priority: 100
      action: BLOCK
      domain_list: medcircle-blocked-domains
      block_response: NXDOMAIN
associations:
  description: The group's VPC associations.
  returned: always
  type: list
  elements: dict
  sample: [{id: rslvr-frgassoc-0123456789abcdef, vpc_id: vpc-0abc1234def567890, priority: 101,
            name: medcircle-dns-firewall-vpc-0abc1234def567890, mutation_protection: DISABLED, status: COMPLETE}]
changes:
  description: What was changed (or, in check mode, would be), in words.
  returned: always
  type: list
  elements: str
  sample: ["create rule group medcircle-dns-firewall", "associate with vpc-0abc1234def567890 (priority 101)"]
diff:
  description: The rule group, domain lists, rules and associations before and after.
  returned: when diff mode is on
  type: dict
"""

import contextlib

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    import botocore

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.medcircle.cloudops.plugins.module_utils import dns_firewall
from ansible_collections.medcircle.cloudops.plugins.module_utils.common import exit_with_diff


def main():
    rule_options = {
        "name": {"type": "str", "required": True},
        "priority": {"type": "int", "required": True},
        "action": {"type": "str", "choices": list(dns_firewall.ACTIONS), "required": True},
        "domain_list": {"type": "str", "required": True},
        "block_response": {"type": "str", "choices": list(dns_firewall.BLOCK_RESPONSES)},
        "block_override_domain": {"type": "str"},
        "block_override_dns_type": {"type": "str", "choices": ["CNAME"]},
        "block_override_ttl": {"type": "int"},
    }
    argument_spec = {
        "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
        "name": {"type": "str", "required": True},
        "domain_lists": {
            "type": "list",
            "elements": "dict",
            "default": [],
            "options": {
                "name": {"type": "str", "required": True},
                "domains": {"type": "list", "elements": "str", "default": []},
            },
        },
        "rules": {"type": "list", "elements": "dict", "default": [], "options": rule_options},
        "purge_rules": {"type": "bool", "default": True},
        "associations": {
            "type": "list",
            "elements": "dict",
            "default": [],
            "options": {
                "vpc_id": {"type": "str", "required": True},
                "priority": {"type": "int", "required": True},
                "name": {"type": "str"},
                "mutation_protection": {
                    "type": "str",
                    "choices": list(dns_firewall.MUTATION_PROTECTION),
                    "default": "DISABLED",
                },
            },
        },
        "purge_associations": {"type": "bool", "default": False},
        "tags": {"type": "dict", "aliases": ["resource_tags"]},
        "purge_tags": {"type": "bool", "default": True},
        "wait": {"type": "bool", "default": True},
        "wait_timeout": {"type": "int", "default": 300},
    }
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    try:
        client = module.client("route53resolver", retry_decorator=AWSRetry.jittered_backoff())
        result = dns_firewall.ensure(client, module.params, module.check_mode)
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    except botocore.exceptions.WaiterError as e:
        module.fail_json(
            msg="Waiting (up to %s seconds) for the VPC associations of DNS Firewall rule group %s to be COMPLETE "
            "failed: %s" % (module.params["wait_timeout"], module.params["name"], e)
        )
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to manage DNS Firewall rule group %s" % module.params["name"])

    exit_with_diff(module, result)


if __name__ == "__main__":
    main()
