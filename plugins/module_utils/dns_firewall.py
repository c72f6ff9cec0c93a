# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Route 53 Resolver DNS Firewall (finding 4.7): the logic of the route53_resolver_firewall module.

One rule group, found by name, with its rules (one per domain list), the domain lists those rules use (found by
name; their domains replaced when they differ) and the group's associations with VPCs (found by VPC). Everything
is read first, the whole change is planned, then carried out; in check mode only the plan is returned.
"""

import uuid

from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import (
    ansible_dict_to_boto3_tag_list,
    boto3_tag_list_to_ansible_dict,
    compare_aws_tags,
)
from ansible_collections.medcircle.cloudops.plugins.module_utils.common import ParameterError

ACTIONS = ("ALLOW", "BLOCK", "ALERT")
BLOCK_RESPONSES = ("NODATA", "NXDOMAIN", "OVERRIDE")
MUTATION_PROTECTION = ("ENABLED", "DISABLED")
RULE_FIELDS = {
    "priority": "Priority",
    "action": "Action",
    "block_response": "BlockResponse",
    "block_override_domain": "BlockOverrideDomain",
    "block_override_dns_type": "BlockOverrideDnsType",
    "block_override_ttl": "BlockOverrideTtl",
    "name": "Name",
}


class DnsFirewallError(Exception):
    """A state AWS would refuse to change (for example mutation protection), said plainly."""


def normalise_domain(domain):
    domain = domain.strip().lower()
    return domain if domain.endswith(".") else domain + "."


def validate(params):
    """Check the options before any call; return rules, domain lists and associations in a normal form."""
    name = params["name"]
    if not name or len(name) > 64:
        raise ParameterError("name", name, "is not a valid rule group name", "1 to 64 characters")
    lists = {}
    for index, item in enumerate(params.get("domain_lists") or []):
        list_name = item.get("name")
        if not list_name:
            raise ParameterError("domain_lists[%d].name" % index, None, "is missing", "the domain list's name")
        if list_name in lists:
            raise ParameterError("domain_lists[%d].name" % index, list_name, "is listed twice")
        domains = sorted({normalise_domain(d) for d in item.get("domains") or []})
        for domain in domains:
            bare = domain.lstrip("*.").rstrip(".")
            if not bare or " " in domain or "/" in domain:
                raise ParameterError(
                    "domain_lists[%d].domains" % index, domain, "is not a domain name", "example.com or *.example.com"
                )
        lists[list_name] = domains
    rules = []
    seen_priorities = set()
    for index, item in enumerate(params.get("rules") or []):
        where = "rules[%d]" % index
        rule = {key: item.get(key) for key in RULE_FIELDS}
        rule["domain_list"] = item.get("domain_list")
        if not rule["name"]:
            raise ParameterError(where + ".name", None, "is missing", "a name for the rule")
        if not rule["domain_list"]:
            raise ParameterError(where + ".domain_list", None, "is missing", "the name of a domain list")
        if rule["priority"] is None or not 1 <= int(rule["priority"]) <= 10000:
            raise ParameterError(where + ".priority", rule["priority"], "is not allowed", "an integer 1-10000")
        if rule["priority"] in seen_priorities:
            raise ParameterError(where + ".priority", rule["priority"], "is used by another rule of the group")
        seen_priorities.add(rule["priority"])
        if rule["action"] not in ACTIONS:
            raise ParameterError(where + ".action", rule["action"], "is not allowed", ", ".join(ACTIONS))
        if rule["action"] == "BLOCK":
            if rule["block_response"] not in BLOCK_RESPONSES:
                raise ParameterError(
                    where + ".block_response",
                    rule["block_response"],
                    "is required with action BLOCK",
                    ", ".join(BLOCK_RESPONSES),
                )
            if rule["block_response"] == "OVERRIDE":
                if not rule["block_override_domain"] or rule["block_override_ttl"] is None:
                    raise ParameterError(
                        where + ".block_override_domain",
                        rule["block_override_domain"],
                        "and block_override_ttl are required with block_response OVERRIDE",
                    )
                rule["block_override_dns_type"] = rule["block_override_dns_type"] or "CNAME"
        else:
            for key in ("block_response", "block_override_domain", "block_override_dns_type", "block_override_ttl"):
                if rule[key] is not None:
                    raise ParameterError(where + "." + key, rule[key], "can only be used with action BLOCK")
        rules.append(rule)
    domain_lists_used = {r["domain_list"] for r in rules}
    if len(domain_lists_used) != len(rules):
        raise ParameterError("rules", None, "name the same domain_list twice", "one rule per domain list")
    associations = []
    for index, item in enumerate(params.get("associations") or []):
        where = "associations[%d]" % index
        vpc = item.get("vpc_id") or ""
        if not vpc.startswith("vpc-"):
            raise ParameterError(where + ".vpc_id", vpc, "is not a VPC id", "vpc-...")
        priority = item.get("priority")
        if priority is None or not 101 <= int(priority) <= 9900:
            raise ParameterError(where + ".priority", priority, "is not allowed", "an integer 101-9900")
        protection = item.get("mutation_protection") or "DISABLED"
        if protection not in MUTATION_PROTECTION:
            raise ParameterError(where + ".mutation_protection", protection, "is not allowed", "ENABLED, DISABLED")
        if any(a["vpc_id"] == vpc for a in associations):
            raise ParameterError(where + ".vpc_id", vpc, "is listed twice")
        associations.append(
            {
                "vpc_id": vpc,
                "priority": int(priority),
                "name": item.get("name") or "%s-%s" % (name, vpc),
                "mutation_protection": protection,
            }
        )
    return {"name": name, "domain_lists": lists, "rules": rules, "associations": associations}


# --- reads -----------------------------------------------------------------------------------------------------


@AWSRetry.jittered_backoff()
def _paginate(client, operation, key, **params):
    return client.get_paginator(operation).paginate(**params).build_full_result().get(key, [])


def read_state(client, request):
    """The rule group (or None), its rules and associations, and the domain lists by name."""
    groups = [
        g for g in _paginate(client, "list_firewall_rule_groups", "FirewallRuleGroups") if g["Name"] == request["name"]
    ]
    mine = [g for g in groups if g.get("ShareStatus", "NOT_SHARED") != "SHARED_WITH_ME"]
    if len(mine) > 1:
        raise ParameterError(
            "name",
            request["name"],
            "names %d rule groups (%s); rename the extra ones or delete them"
            % (len(mine), ", ".join(g["Id"] for g in mine)),
        )
    group = mine[0] if mine else None
    lists = {}
    managed = {}
    for item in _paginate(client, "list_firewall_domain_lists", "FirewallDomainLists"):
        if item.get("ManagedOwnerName"):
            managed[item["Name"]] = item  # AWS managed lists cannot be changed; a rule may still name them
            continue
        lists.setdefault(item["Name"], []).append(item)
    for list_name in request["domain_lists"]:
        if list_name in managed and list_name not in lists:
            raise ParameterError(
                "domain_lists",
                list_name,
                "is an AWS managed domain list, which cannot be changed",
                "name it in rules only",
            )
    for list_name, found in lists.items():
        if len(found) > 1 and list_name in request["domain_lists"]:
            raise ParameterError(
                "domain_lists",
                list_name,
                "names %d domain lists (%s)" % (len(found), ", ".join(f["Id"] for f in found)),
            )
    state = {
        "group": group,
        "rules": [],
        "associations": [],
        "lists": {k: v[0] for k, v in lists.items()},
        "managed": managed,
        "tags": {},
    }
    state["domains"] = {}
    for list_name in request["domain_lists"]:
        item = state["lists"].get(list_name)
        if item:
            state["domains"][list_name] = sorted(
                normalise_domain(d)
                for d in _paginate(client, "list_firewall_domains", "Domains", FirewallDomainListId=item["Id"])
            )
    if group:
        state["rules"] = _paginate(client, "list_firewall_rules", "FirewallRules", FirewallRuleGroupId=group["Id"])
        state["associations"] = _paginate(
            client,
            "list_firewall_rule_group_associations",
            "FirewallRuleGroupAssociations",
            FirewallRuleGroupId=group["Id"],
        )
        state["tags"] = boto3_tag_list_to_ansible_dict(
            _paginate(client, "list_tags_for_resource", "Tags", ResourceArn=group["Arn"])
        )
    return state


# --- plan --------------------------------------------------------------------------------------------------------


def _rule_request(rule):
    out = {RULE_FIELDS[k]: rule[k] for k in RULE_FIELDS if rule.get(k) is not None}
    out["Priority"] = int(out["Priority"])
    if "BlockOverrideTtl" in out:
        out["BlockOverrideTtl"] = int(out["BlockOverrideTtl"])
    return out


def plan(state, request, desired_state, purge_rules, purge_associations, tags, purge_tags):
    steps = {
        "create_group": False,
        "delete_group": False,
        "create_lists": [],
        "replace_domains": [],
        "create_rules": [],
        "update_rules": [],
        "delete_rules": [],
        "associate": [],
        "update_associations": [],
        "disassociate": [],
        "delete_lists": [],
        "tags_add": {},
        "tags_remove": [],
    }
    group = state["group"]
    id_by_list = {name: item["Id"] for name, item in state.get("managed", {}).items()}
    id_by_list.update({name: item["Id"] for name, item in state["lists"].items()})
    name_by_list_id = {v: k for k, v in id_by_list.items()}
    if desired_state == "absent":
        if group:
            steps["disassociate"] = list(state["associations"])
            steps["delete_rules"] = list(state["rules"])
            steps["delete_group"] = True
        for list_name in request["domain_lists"]:
            if list_name in state["lists"]:
                steps["delete_lists"].append(state["lists"][list_name])
        return steps
    for list_name, domains in request["domain_lists"].items():
        if list_name not in id_by_list:
            steps["create_lists"].append(list_name)
            if domains:
                steps["replace_domains"].append((list_name, domains))
        elif state["domains"].get(list_name, []) != domains:
            steps["replace_domains"].append((list_name, domains))
    for rule in request["rules"]:
        if rule["domain_list"] not in id_by_list and rule["domain_list"] not in request["domain_lists"]:
            raise ParameterError(
                "rules",
                rule["domain_list"],
                "is not a domain list of this account and region, nor one in domain_lists",
                "a name listed in domain_lists, or an existing domain list",
            )
    if not group:
        steps["create_group"] = True
        steps["create_rules"] = list(request["rules"])
        steps["associate"] = list(request["associations"])
        steps["tags_add"] = dict(tags or {})
        return steps
    existing = {
        name_by_list_id.get(r.get("FirewallDomainListId"), r.get("FirewallDomainListId")): r for r in state["rules"]
    }
    for rule in request["rules"]:
        current = existing.pop(rule["domain_list"], None)
        if current is None:
            steps["create_rules"].append(rule)
            continue
        wanted = _rule_request(rule)
        if any(current.get(k) != v for k, v in wanted.items()):
            steps["update_rules"].append((rule, current))
    if purge_rules:
        steps["delete_rules"] = list(existing.values())
    by_vpc = {a["VpcId"]: a for a in state["associations"] if a.get("Status") not in ("DELETING",)}
    for assoc in request["associations"]:
        current = by_vpc.pop(assoc["vpc_id"], None)
        if current is None:
            steps["associate"].append(assoc)
        elif (current.get("Priority"), current.get("Name"), current.get("MutationProtection")) != (
            assoc["priority"],
            assoc["name"],
            assoc["mutation_protection"],
        ):
            steps["update_associations"].append((assoc, current))
    if purge_associations:
        steps["disassociate"] = list(by_vpc.values())
    if tags is not None:
        add, remove = compare_aws_tags(state["tags"], tags, purge_tags)
        steps["tags_add"], steps["tags_remove"] = add, remove
    return steps


def has_changes(steps):
    return any(bool(v) for v in steps.values())


def describe_steps(steps, request):
    """The plan in words, for people (``changes`` in the result)."""
    out = []
    if steps["create_group"]:
        out.append("create rule group %s" % request["name"])
    out += ["create domain list %s" % n for n in steps["create_lists"]]
    out += ["set the %d domain(s) of %s" % (len(d), n) for n, d in steps["replace_domains"]]
    out += ["create rule %s (%s %s)" % (r["name"], r["action"], r["domain_list"]) for r in steps["create_rules"]]
    out += ["update rule %s" % r["name"] for r, _current in steps["update_rules"]]
    out += ["delete rule %s" % r.get("Name") for r in steps["delete_rules"]]
    out += ["associate with %s (priority %d)" % (a["vpc_id"], a["priority"]) for a in steps["associate"]]
    out += ["update the association with %s" % a["vpc_id"] for a, _current in steps["update_associations"]]
    out += ["disassociate from %s" % a["VpcId"] for a in steps["disassociate"]]
    if steps["delete_group"]:
        out.append("delete rule group %s" % request["name"])
    out += ["delete domain list %s" % d["Name"] for d in steps["delete_lists"]]
    if steps["tags_add"] or steps["tags_remove"]:
        out.append("set tags of rule group %s" % request["name"])
    return out


# --- apply -------------------------------------------------------------------------------------------------------


def _token():
    return str(uuid.uuid4())


def _association_waiter(client, name, delay, attempts):
    from botocore.waiter import WaiterModel, create_waiter_with_client

    acceptors = {
        "complete": [
            {
                "matcher": "path",
                "argument": "FirewallRuleGroupAssociation.Status",
                "expected": "COMPLETE",
                "state": "success",
            },
            {
                "matcher": "path",
                "argument": "FirewallRuleGroupAssociation.Status",
                "expected": "FAILED",
                "state": "failure",
            },
            {"matcher": "error", "expected": "ThrottlingException", "state": "retry"},
        ],
        "gone": [
            {"matcher": "error", "expected": "ResourceNotFoundException", "state": "success"},
            {"matcher": "error", "expected": "ThrottlingException", "state": "retry"},
        ],
    }[name]
    model = WaiterModel(
        {
            "version": 2,
            "waiters": {
                name: {
                    "operation": "GetFirewallRuleGroupAssociation",
                    "delay": delay,
                    "maxAttempts": attempts,
                    "acceptors": acceptors,
                }
            },
        }
    )
    raw = getattr(client, "client", client)
    return create_waiter_with_client(name, model, raw)


def apply(client, state, request, steps, tags, wait, wait_timeout):
    """Carry out the plan; returns the ids of what was created."""
    delay = 5
    attempts = max(1, int(wait_timeout // delay))
    list_ids = {name: item["Id"] for name, item in state.get("managed", {}).items()}
    list_ids.update({name: item["Id"] for name, item in state["lists"].items()})
    tag_list = ansible_dict_to_boto3_tag_list(tags) if tags else []
    # removals first: associations, rules, group, lists
    for assoc in steps["disassociate"]:
        if assoc.get("MutationProtection") == "ENABLED":
            client.update_firewall_rule_group_association(
                aws_retry=True, FirewallRuleGroupAssociationId=assoc["Id"], MutationProtection="DISABLED"
            )
        client.disassociate_firewall_rule_group(aws_retry=True, FirewallRuleGroupAssociationId=assoc["Id"])
    if steps["disassociate"] and (wait or steps["delete_group"]):
        for assoc in steps["disassociate"]:
            _association_waiter(client, "gone", delay, attempts).wait(FirewallRuleGroupAssociationId=assoc["Id"])
    group_id = state["group"]["Id"] if state["group"] else None
    for rule in steps["delete_rules"]:
        client.delete_firewall_rule(
            aws_retry=True, FirewallRuleGroupId=group_id, FirewallDomainListId=rule["FirewallDomainListId"]
        )
    if steps["delete_group"]:
        client.delete_firewall_rule_group(aws_retry=True, FirewallRuleGroupId=group_id)
    for item in steps["delete_lists"]:
        client.delete_firewall_domain_list(aws_retry=True, FirewallDomainListId=item["Id"])
    # then creations and updates
    for list_name in steps["create_lists"]:
        params = {"CreatorRequestId": _token(), "Name": list_name}
        if tag_list:
            params["Tags"] = tag_list
        list_ids[list_name] = client.create_firewall_domain_list(aws_retry=True, **params)["FirewallDomainList"]["Id"]
    for list_name, domains in steps["replace_domains"]:
        client.update_firewall_domains(
            aws_retry=True, FirewallDomainListId=list_ids[list_name], Operation="REPLACE", Domains=domains
        )
    if steps["create_group"]:
        params = {"CreatorRequestId": _token(), "Name": request["name"]}
        if tag_list:
            params["Tags"] = tag_list
        created = client.create_firewall_rule_group(aws_retry=True, **params)["FirewallRuleGroup"]
        group_id = created["Id"]
    elif steps["tags_add"] or steps["tags_remove"]:
        arn = state["group"]["Arn"]
        if steps["tags_remove"]:
            client.untag_resource(aws_retry=True, ResourceArn=arn, TagKeys=list(steps["tags_remove"]))
        if steps["tags_add"]:
            client.tag_resource(aws_retry=True, ResourceArn=arn, Tags=ansible_dict_to_boto3_tag_list(steps["tags_add"]))
    for rule, _current in steps["update_rules"]:
        client.update_firewall_rule(
            aws_retry=True,
            FirewallRuleGroupId=group_id,
            FirewallDomainListId=list_ids[rule["domain_list"]],
            **_rule_request(rule),
        )
    for rule in steps["create_rules"]:
        client.create_firewall_rule(
            aws_retry=True,
            CreatorRequestId=_token(),
            FirewallRuleGroupId=group_id,
            FirewallDomainListId=list_ids[rule["domain_list"]],
            **_rule_request(rule),
        )
    for assoc, current in steps["update_associations"]:
        client.update_firewall_rule_group_association(
            aws_retry=True,
            FirewallRuleGroupAssociationId=current["Id"],
            Priority=assoc["priority"],
            Name=assoc["name"],
            MutationProtection=assoc["mutation_protection"],
        )
    created_assocs = []
    for assoc in steps["associate"]:
        params = {
            "CreatorRequestId": _token(),
            "FirewallRuleGroupId": group_id,
            "VpcId": assoc["vpc_id"],
            "Priority": assoc["priority"],
            "Name": assoc["name"],
            "MutationProtection": assoc["mutation_protection"],
        }
        if tag_list:
            params["Tags"] = tag_list
        created_assocs.append(
            client.associate_firewall_rule_group(aws_retry=True, **params)["FirewallRuleGroupAssociation"]["Id"]
        )
    if wait:
        for ident in created_assocs + [c["Id"] for _wanted, c in steps["update_associations"]]:
            _association_waiter(client, "complete", delay, attempts).wait(FirewallRuleGroupAssociationId=ident)
    return group_id


# --- result ------------------------------------------------------------------------------------------------------


def summarise(state, request):
    """The module's result for a state read from AWS."""
    group = state["group"]
    names = {item["Id"]: name for name, item in list(state.get("managed", {}).items()) + list(state["lists"].items())}
    return {
        "rule_group": {
            "id": group["Id"],
            "arn": group["Arn"],
            "name": group["Name"],
            "tags": state["tags"],
        }
        if group
        else {},
        "domain_lists": [
            {"name": name, "id": state["lists"][name]["Id"], "domains": state["domains"].get(name, [])}
            for name in request["domain_lists"]
            if name in state["lists"]
        ],
        "rules": sorted(
            (
                {
                    "name": r.get("Name"),
                    "priority": r.get("Priority"),
                    "action": r.get("Action"),
                    "domain_list": names.get(r.get("FirewallDomainListId"), r.get("FirewallDomainListId")),
                    "block_response": r.get("BlockResponse"),
                }
                for r in state["rules"]
            ),
            key=lambda r: r["priority"] or 0,
        ),
        "associations": sorted(
            (
                {
                    "id": a["Id"],
                    "vpc_id": a["VpcId"],
                    "priority": a.get("Priority"),
                    "name": a.get("Name"),
                    "mutation_protection": a.get("MutationProtection"),
                    "status": a.get("Status"),
                }
                for a in state["associations"]
            ),
            key=lambda a: a["vpc_id"],
        ),
    }


def planned(summary, steps, request, tags):
    """The result check mode reports: the current state with the plan applied (new things have no id)."""
    if steps["delete_group"] or (not summary["rule_group"] and not steps["create_group"]):
        return {"rule_group": {}, "domain_lists": [], "rules": [], "associations": []}
    out = dict(summary)
    if steps["create_group"]:
        out["rule_group"] = {"id": None, "arn": None, "name": request["name"], "tags": dict(tags or {})}
    elif steps["tags_add"] or steps["tags_remove"]:
        merged = {**summary["rule_group"]["tags"], **steps["tags_add"]}
        out["rule_group"] = dict(
            summary["rule_group"], tags={k: v for k, v in merged.items() if k not in steps["tags_remove"]}
        )
    out["domain_lists"] = [
        dict(item, domains=request["domain_lists"][item["name"]]) for item in summary["domain_lists"]
    ]
    out["rules"] = sorted(
        (
            {
                "name": r["name"],
                "priority": int(r["priority"]),
                "action": r["action"],
                "domain_list": r["domain_list"],
                "block_response": r.get("block_response"),
            }
            for r in request["rules"]
        ),
        key=lambda r: r["priority"],
    )
    current = {a["vpc_id"]: a for a in summary["associations"]}
    removed = {a["VpcId"] for a in steps["disassociate"]}
    assocs = [a for a in summary["associations"] if a["vpc_id"] not in removed]
    for assoc, _current in steps["update_associations"]:
        current[assoc["vpc_id"]].update(
            priority=assoc["priority"], name=assoc["name"], mutation_protection=assoc["mutation_protection"]
        )
    assocs += [dict(assoc, id=None, status="CREATING") for assoc in steps["associate"]]
    out["associations"] = sorted(assocs, key=lambda a: a["vpc_id"])
    return out


def ensure(client, params, check_mode):
    request = validate(params)
    state = read_state(client, request)
    steps = plan(
        state,
        request,
        params["state"],
        params["purge_rules"],
        params["purge_associations"],
        params.get("tags"),
        params["purge_tags"],
    )
    before = summarise(state, request)
    changed = has_changes(steps)
    if changed and not check_mode:
        apply(client, state, request, steps, params.get("tags"), params["wait"], params["wait_timeout"])
        after = summarise(read_state(client, request), request)
    elif changed:
        after = planned(before, steps, request, params.get("tags"))
    else:
        after = before
    result = dict(after)
    result.update(changed=changed, changes=describe_steps(steps, request), diff={"before": before, "after": after})
    return result
