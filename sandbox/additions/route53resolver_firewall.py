"""Route 53 Resolver DNS Firewall: rule groups, domain lists, rules, VPC associations and tags, which moto lacks
entirely, so that a DNS Firewall can be created and managed.

- Rule groups: CreateFirewallRuleGroup, GetFirewallRuleGroup, ListFirewallRuleGroups, DeleteFirewallRuleGroup.
- VPC associations: AssociateFirewallRuleGroup, GetFirewallRuleGroupAssociation,
  UpdateFirewallRuleGroupAssociation, DisassociateFirewallRuleGroup, ListFirewallRuleGroupAssociations.
- Domain lists: CreateFirewallDomainList, GetFirewallDomainList, UpdateFirewallDomains, ListFirewallDomains,
  ListFirewallDomainLists, DeleteFirewallDomainList.
- Rules: CreateFirewallRule, ListFirewallRules, UpdateFirewallRule, DeleteFirewallRule.
- Tags: TagResource, UntagResource, ListTagsForResource; the ``Tags`` a create request carries are kept too, so
  ListTagsForResource answers what AWS would.

Everything is kept per account and region in a store here. AWS's rules are kept: an association must name a VPC
that exists in moto's EC2; a domain list used by a rule, or a rule group associated with a VPC, cannot be deleted;
an association with mutation protection cannot be removed; a rule is found by its group and domain list.
"""

import datetime
import threading
import uuid

from sandbox.additions import AdditionError, addition, on_reset

_GROUPS: dict[tuple[str, str], dict[str, dict]] = {}
_ASSOCIATIONS: dict[tuple[str, str], dict[str, dict]] = {}
_DOMAIN_LISTS: dict[tuple[str, str], dict[str, dict]] = {}
_DOMAINS: dict[str, set] = {}
_RULES: dict[tuple[str, str], list[dict]] = {}
_TAGS: dict[str, dict[str, str]] = {}  # resource ARN -> tags
_lock = threading.Lock()


@on_reset
def _clear() -> None:
    with _lock:
        _GROUPS.clear()
        _ASSOCIATIONS.clear()
        _DOMAIN_LISTS.clear()
        _DOMAINS.clear()
        _RULES.clear()
        _TAGS.clear()


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _arn(ctx, kind: str, ident: str) -> str:
    return f"arn:aws:route53resolver:{ctx.region}:{ctx.account_id}:{kind}/{ident}"


def _page(ctx, items: list, key: str) -> dict:
    size = int(ctx.param("MaxResults", 100))
    start = int(ctx.param("NextToken", 0) or 0)
    out = {key: items[start : start + size]}
    if start + size < len(items):
        out["NextToken"] = str(start + size)
    return out


def _not_found(ident: str) -> AdditionError:
    return AdditionError("ResourceNotFoundException", f"Can't find the resource with ID '{ident}'.")


def _keep_tags(ctx, item: dict) -> dict:
    """Keep the Tags of a create request for the resource it created (or found again); call under _lock."""
    tags = ctx.param("Tags") or []
    if item.get("Arn") and tags:
        _TAGS.setdefault(item["Arn"], {}).update({t["Key"]: t["Value"] for t in tags})
    return item


# --- rule groups ---------------------------------------------------------------------------------------------


@addition("route53resolver", "CreateFirewallRuleGroup", example={"CreatorRequestId": "example-1", "Name": "example"})
def create_firewall_rule_group(ctx):
    name = ctx.require("Name")
    request = ctx.require("CreatorRequestId")
    key = (ctx.account_id, ctx.region)
    with _lock:
        groups = _GROUPS.setdefault(key, {})
        for group in groups.values():
            if group["CreatorRequestId"] == request:
                return {"FirewallRuleGroup": dict(_keep_tags(ctx, group))}
        ident = "rslvr-frg-" + uuid.uuid4().hex[:17]
        now = _now()
        group = {
            "Id": ident,
            "Arn": _arn(ctx, "firewall-rule-group", ident),
            "Name": name,
            "RuleCount": 0,
            "Status": "COMPLETE",
            "StatusMessage": "Created Firewall Rule Group",
            "OwnerId": ctx.account_id,
            "CreatorRequestId": request,
            "ShareStatus": "NOT_SHARED",
            "CreationTime": now,
            "ModificationTime": now,
        }
        groups[ident] = group
        return {"FirewallRuleGroup": dict(_keep_tags(ctx, group))}


def _group(ctx, ident: str) -> dict:
    group = _GROUPS.get((ctx.account_id, ctx.region), {}).get(ident)
    if group is None:
        raise _not_found(ident)
    return group


def _example_get(client):
    created = client("route53resolver").create_firewall_rule_group(CreatorRequestId="example-get", Name="example-get")
    return {"FirewallRuleGroupId": created["FirewallRuleGroup"]["Id"]}


@addition("route53resolver", "GetFirewallRuleGroup", example=_example_get)
def get_firewall_rule_group(ctx):
    with _lock:
        return {"FirewallRuleGroup": dict(_group(ctx, ctx.require("FirewallRuleGroupId")))}


@addition("route53resolver", "ListFirewallRuleGroups", example={})
def list_firewall_rule_groups(ctx):
    with _lock:
        groups = sorted(_GROUPS.get((ctx.account_id, ctx.region), {}).values(), key=lambda g: g["CreationTime"])
        meta = [{k: g[k] for k in ("Id", "Arn", "Name", "OwnerId", "CreatorRequestId", "ShareStatus")} for g in groups]
    return _page(ctx, meta, "FirewallRuleGroups")


def _group_example(client):
    created = client("route53resolver").create_firewall_rule_group(CreatorRequestId="example-del-g", Name="example")
    return {"FirewallRuleGroupId": created["FirewallRuleGroup"]["Id"]}


@addition("route53resolver", "DeleteFirewallRuleGroup", example=_group_example)
def delete_firewall_rule_group(ctx):
    ident = ctx.require("FirewallRuleGroupId")
    key = (ctx.account_id, ctx.region)
    with _lock:
        group = _group(ctx, ident)
        if any(a["FirewallRuleGroupId"] == ident for a in _ASSOCIATIONS.get(key, {}).values()):
            raise AdditionError("ConflictException", "The rule group is associated with a VPC; disassociate it first.")
        _GROUPS[key].pop(ident, None)
        _RULES[key] = [r for r in _RULES.get(key, []) if r["FirewallRuleGroupId"] != ident]
        _TAGS.pop(group["Arn"], None)
    return {"FirewallRuleGroup": dict(group, Status="DELETING", StatusMessage="Deleting the rule group")}


# --- VPC associations ----------------------------------------------------------------------------------------


def _example_associate(client):
    ec2 = client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    created = client("route53resolver").create_firewall_rule_group(CreatorRequestId="example-assoc", Name="example")
    return {
        "CreatorRequestId": "example-assoc",
        "FirewallRuleGroupId": created["FirewallRuleGroup"]["Id"],
        "VpcId": vpc,
        "Priority": 101,
        "Name": "example",
    }


@addition("route53resolver", "AssociateFirewallRuleGroup", example=_example_associate)
def associate_firewall_rule_group(ctx):
    group_id = ctx.require("FirewallRuleGroupId")
    vpc_id = ctx.require("VpcId")
    request = ctx.require("CreatorRequestId")
    priority = int(ctx.require("Priority"))
    ec2 = ctx.backend("ec2")
    if vpc_id not in ec2.vpcs:
        raise AdditionError("ValidationException", f"The VPC '{vpc_id}' does not exist.")
    key = (ctx.account_id, ctx.region)
    with _lock:
        _group(ctx, group_id)
        assocs = _ASSOCIATIONS.setdefault(key, {})
        for assoc in assocs.values():
            if assoc["CreatorRequestId"] == request:
                return {"FirewallRuleGroupAssociation": dict(_keep_tags(ctx, assoc))}
            if assoc["VpcId"] == vpc_id and assoc["FirewallRuleGroupId"] == group_id:
                raise AdditionError("ConflictException", "The rule group is already associated with the VPC.")
            if assoc["VpcId"] == vpc_id and assoc["Priority"] == priority:
                raise AdditionError("ConflictException", f"Priority {priority} is already used in the VPC.")
        ident = "rslvr-frgassoc-" + uuid.uuid4().hex[:17]
        now = _now()
        assoc = {
            "Id": ident,
            "Arn": _arn(ctx, "firewall-rule-group-association", ident),
            "FirewallRuleGroupId": group_id,
            "VpcId": vpc_id,
            "Name": ctx.param("Name", ""),
            "Priority": priority,
            "MutationProtection": ctx.param("MutationProtection", "DISABLED"),
            "Status": "COMPLETE",
            "StatusMessage": "Finished rule group association",
            "CreatorRequestId": request,
            "CreationTime": now,
            "ModificationTime": now,
        }
        assocs[ident] = assoc
        return {"FirewallRuleGroupAssociation": dict(_keep_tags(ctx, assoc))}


def _association(ctx, ident: str) -> dict:
    assoc = _ASSOCIATIONS.get((ctx.account_id, ctx.region), {}).get(ident)
    if assoc is None:
        raise _not_found(ident)
    return assoc


def _association_example(suffix: str, **changes):
    def example(client):
        vpc = client("ec2").create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
        resolver = client("route53resolver")
        group = resolver.create_firewall_rule_group(CreatorRequestId=f"example-{suffix}-g", Name=f"example-{suffix}")
        assoc = resolver.associate_firewall_rule_group(
            CreatorRequestId=f"example-{suffix}-a",
            FirewallRuleGroupId=group["FirewallRuleGroup"]["Id"],
            VpcId=vpc,
            Priority=101,
            Name=f"example-{suffix}",
        )
        return dict({"FirewallRuleGroupAssociationId": assoc["FirewallRuleGroupAssociation"]["Id"]}, **changes)

    return example


@addition("route53resolver", "GetFirewallRuleGroupAssociation", example=_association_example("get-assoc"))
def get_firewall_rule_group_association(ctx):
    with _lock:
        return {"FirewallRuleGroupAssociation": dict(_association(ctx, ctx.require("FirewallRuleGroupAssociationId")))}


@addition(
    "route53resolver",
    "UpdateFirewallRuleGroupAssociation",
    example=_association_example("update-assoc", Priority=102, MutationProtection="ENABLED"),
)
def update_firewall_rule_group_association(ctx):
    ident = ctx.require("FirewallRuleGroupAssociationId")
    with _lock:
        assoc = _association(ctx, ident)
        priority = ctx.param("Priority")
        if priority is not None:
            priority = int(priority)
            for other in _ASSOCIATIONS[(ctx.account_id, ctx.region)].values():
                if other is not assoc and other["VpcId"] == assoc["VpcId"] and other["Priority"] == priority:
                    raise AdditionError("ConflictException", f"Priority {priority} is already used in the VPC.")
            assoc["Priority"] = priority
        for field in ("MutationProtection", "Name"):
            if ctx.param(field) is not None:
                assoc[field] = ctx.param(field)
        assoc["ModificationTime"] = _now()
        return {"FirewallRuleGroupAssociation": dict(assoc)}


def _example_disassociate(client):
    params = _example_associate(client)
    params["CreatorRequestId"] = "example-disassoc"
    assoc = client("route53resolver").associate_firewall_rule_group(**params)
    return {"FirewallRuleGroupAssociationId": assoc["FirewallRuleGroupAssociation"]["Id"]}


@addition("route53resolver", "DisassociateFirewallRuleGroup", example=_example_disassociate)
def disassociate_firewall_rule_group(ctx):
    ident = ctx.require("FirewallRuleGroupAssociationId")
    with _lock:
        assocs = _ASSOCIATIONS.get((ctx.account_id, ctx.region), {})
        assoc = assocs.get(ident)
        if assoc is not None and assoc.get("MutationProtection") == "ENABLED":
            # AWS refuses to remove an association with mutation protection
            raise AdditionError(
                "ValidationException", "The association has mutation protection enabled; disable it first."
            )
        assocs.pop(ident, None)
        if assoc is None:
            raise _not_found(ident)
        _TAGS.pop(assoc["Arn"], None)
    assoc = dict(assoc, Status="DELETING", StatusMessage="Deleting the association", ModificationTime=_now())
    return {"FirewallRuleGroupAssociation": assoc}


@addition("route53resolver", "ListFirewallRuleGroupAssociations", example={})
def list_firewall_rule_group_associations(ctx):
    with _lock:
        items = sorted(_ASSOCIATIONS.get((ctx.account_id, ctx.region), {}).values(), key=lambda a: a["CreationTime"])
        items = [dict(a) for a in items]
    for field in ("FirewallRuleGroupId", "VpcId", "Status"):
        value = ctx.param(field)
        if value:
            items = [a for a in items if a[field] == value]
    if ctx.param("Priority") is not None:
        items = [a for a in items if a["Priority"] == int(ctx.param("Priority"))]
    return _page(ctx, items, "FirewallRuleGroupAssociations")


# --- domain lists --------------------------------------------------------------------------------------------


@addition("route53resolver", "CreateFirewallDomainList", example={"CreatorRequestId": "example-dl", "Name": "example"})
def create_firewall_domain_list(ctx):
    name = ctx.require("Name")
    request = ctx.require("CreatorRequestId")
    with _lock:
        lists = _DOMAIN_LISTS.setdefault((ctx.account_id, ctx.region), {})
        for item in lists.values():
            if item["CreatorRequestId"] == request:
                return {"FirewallDomainList": dict(_keep_tags(ctx, item))}
        ident = "rslvr-fdl-" + uuid.uuid4().hex[:17]
        now = _now()
        item = {
            "Id": ident,
            "Arn": _arn(ctx, "firewall-domain-list", ident),
            "Name": name,
            "DomainCount": 0,
            "Status": "COMPLETE",
            "StatusMessage": "Created Firewall Domain List",
            "CreatorRequestId": request,
            "CreationTime": now,
            "ModificationTime": now,
        }
        lists[ident] = item
        _DOMAINS[ident] = set()
        return {"FirewallDomainList": dict(_keep_tags(ctx, item))}


def _domain_list(ctx, ident: str) -> dict:
    item = _DOMAIN_LISTS.get((ctx.account_id, ctx.region), {}).get(ident)
    if item is None:
        raise _not_found(ident)
    return item


def _example_update_domains(client):
    created = client("route53resolver").create_firewall_domain_list(CreatorRequestId="example-ud", Name="example")
    return {"FirewallDomainListId": created["FirewallDomainList"]["Id"], "Operation": "ADD", "Domains": ["a.example."]}


@addition("route53resolver", "UpdateFirewallDomains", example=_example_update_domains)
def update_firewall_domains(ctx):
    ident = ctx.require("FirewallDomainListId")
    operation = ctx.require("Operation")
    domains = set(ctx.param("Domains", []))
    with _lock:
        item = _domain_list(ctx, ident)
        current = _DOMAINS.setdefault(ident, set())
        if operation == "ADD":
            current |= domains
        elif operation == "REMOVE":
            current -= domains
        elif operation == "REPLACE":
            current.clear()
            current |= domains
        else:
            raise AdditionError("ValidationException", f"Operation {operation} is not ADD, REMOVE or REPLACE")
        item["DomainCount"] = len(current)
        item["ModificationTime"] = _now()
        return {"Id": ident, "Name": item["Name"], "Status": "COMPLETE", "StatusMessage": "Updated the domain list"}


@addition("route53resolver", "ListFirewallDomainLists", example={})
def list_firewall_domain_lists(ctx):
    with _lock:
        items = sorted(_DOMAIN_LISTS.get((ctx.account_id, ctx.region), {}).values(), key=lambda d: d["CreationTime"])
        meta = [{k: d[k] for k in ("Id", "Arn", "Name", "CreatorRequestId")} for d in items]
    return _page(ctx, meta, "FirewallDomainLists")


def _domain_list_example(name: str, domains=("a.example.",)):
    def example(client):
        resolver = client("route53resolver")
        created = resolver.create_firewall_domain_list(CreatorRequestId=f"example-{name}", Name=name)
        ident = created["FirewallDomainList"]["Id"]
        resolver.update_firewall_domains(FirewallDomainListId=ident, Operation="ADD", Domains=list(domains))
        return {"FirewallDomainListId": ident}

    return example


@addition("route53resolver", "ListFirewallDomains", example=_domain_list_example("example-domains"))
def list_firewall_domains(ctx):
    ident = ctx.require("FirewallDomainListId")
    with _lock:
        _domain_list(ctx, ident)
        domains = sorted(_DOMAINS.get(ident, set()))
    return _page(ctx, domains, "Domains")


@addition("route53resolver", "GetFirewallDomainList", example=_domain_list_example("example-get-list"))
def get_firewall_domain_list(ctx):
    with _lock:
        return {"FirewallDomainList": dict(_domain_list(ctx, ctx.require("FirewallDomainListId")))}


@addition("route53resolver", "DeleteFirewallDomainList", example=_domain_list_example("example-delete-list"))
def delete_firewall_domain_list(ctx):
    ident = ctx.require("FirewallDomainListId")
    with _lock:
        item = _domain_list(ctx, ident)
        used = [r for r in _RULES.get((ctx.account_id, ctx.region), []) if r.get("FirewallDomainListId") == ident]
        if used:
            raise AdditionError(
                "ConflictException",
                f"The domain list is used by rule '{used[0]['Name']}' in rule group {used[0]['FirewallRuleGroupId']}.",
            )
        _DOMAIN_LISTS[(ctx.account_id, ctx.region)].pop(ident, None)
        _DOMAINS.pop(ident, None)
        _TAGS.pop(item["Arn"], None)
    return {"FirewallDomainList": dict(item, Status="DELETING", StatusMessage="Deleting the domain list")}


# --- rules ---------------------------------------------------------------------------------------------------


def _example_rule(client):
    resolver = client("route53resolver")
    group = resolver.create_firewall_rule_group(CreatorRequestId="example-rule-g", Name="example")
    domains = resolver.create_firewall_domain_list(CreatorRequestId="example-rule-d", Name="example")
    return {
        "CreatorRequestId": "example-rule",
        "FirewallRuleGroupId": group["FirewallRuleGroup"]["Id"],
        "FirewallDomainListId": domains["FirewallDomainList"]["Id"],
        "Priority": 100,
        "Action": "BLOCK",
        "BlockResponse": "NXDOMAIN",
        "Name": "example",
    }


@addition("route53resolver", "CreateFirewallRule", example=_example_rule)
def create_firewall_rule(ctx):
    group_id = ctx.require("FirewallRuleGroupId")
    request = ctx.require("CreatorRequestId")
    with _lock:
        group = _group(ctx, group_id)
        domain_list = ctx.param("FirewallDomainListId")
        if domain_list:
            _domain_list(ctx, domain_list)
        rules = _RULES.setdefault((ctx.account_id, ctx.region), [])
        for rule in rules:
            if rule["CreatorRequestId"] == request:
                return {"FirewallRule": dict(rule)}
        now = _now()
        rule = {
            "FirewallRuleGroupId": group_id,
            "Name": ctx.require("Name"),
            "Priority": int(ctx.require("Priority")),
            "Action": ctx.require("Action"),
            "CreatorRequestId": request,
            "CreationTime": now,
            "ModificationTime": now,
        }
        if domain_list:
            rule["FirewallDomainListId"] = domain_list
        for field in ("BlockResponse", "BlockOverrideDomain", "BlockOverrideDnsType", "BlockOverrideTtl", "Qtype"):
            if ctx.param(field) is not None:
                rule[field] = ctx.param(field)
        rules.append(rule)
        group["RuleCount"] = sum(1 for r in rules if r["FirewallRuleGroupId"] == group_id)
        return {"FirewallRule": dict(rule)}


def _example_list_rules(client):
    params = _example_rule(client)
    params["CreatorRequestId"] = "example-list-rules"
    client("route53resolver").create_firewall_rule(**params)
    return {"FirewallRuleGroupId": params["FirewallRuleGroupId"]}


@addition("route53resolver", "ListFirewallRules", example=_example_list_rules)
def list_firewall_rules(ctx):
    group_id = ctx.require("FirewallRuleGroupId")
    with _lock:
        _group(ctx, group_id)
        rules = [dict(r) for r in _RULES.get((ctx.account_id, ctx.region), []) if r["FirewallRuleGroupId"] == group_id]
    rules.sort(key=lambda r: r["Priority"])
    return _page(ctx, rules, "FirewallRules")


def _find_rule(ctx, group_id: str, domain_list: str | None, qtype: str | None) -> dict:
    for rule in _RULES.get((ctx.account_id, ctx.region), []):
        if (
            rule["FirewallRuleGroupId"] == group_id
            and rule.get("FirewallDomainListId") == domain_list
            and (qtype is None or rule.get("Qtype") == qtype)
        ):
            return rule
    raise AdditionError("ResourceNotFoundException", f"Can't find the rule for domain list '{domain_list}'.")


def _rule_example(suffix: str, **changes):
    def example(client):
        resolver = client("route53resolver")
        group = resolver.create_firewall_rule_group(CreatorRequestId=f"example-{suffix}-g", Name=f"example-{suffix}")
        domains = resolver.create_firewall_domain_list(CreatorRequestId=f"example-{suffix}-d", Name=f"ex-{suffix}")
        params = {
            "FirewallRuleGroupId": group["FirewallRuleGroup"]["Id"],
            "FirewallDomainListId": domains["FirewallDomainList"]["Id"],
        }
        resolver.create_firewall_rule(
            CreatorRequestId=f"example-{suffix}-r", Priority=100, Action="ALERT", Name=f"example-{suffix}", **params
        )
        return dict(params, **changes)

    return example


_RULE_FIELDS = ("Priority", "Action", "BlockResponse", "BlockOverrideDomain", "BlockOverrideDnsType")
_RULE_FIELDS += ("BlockOverrideTtl", "Name", "Qtype")


@addition(
    "route53resolver",
    "UpdateFirewallRule",
    example=_rule_example("update-rule", Action="BLOCK", BlockResponse="NXDOMAIN", Priority=200),
)
def update_firewall_rule(ctx):
    group_id = ctx.require("FirewallRuleGroupId")
    with _lock:
        _group(ctx, group_id)
        rule = _find_rule(ctx, group_id, ctx.param("FirewallDomainListId"), None)
        for field in _RULE_FIELDS:
            if ctx.param(field) is not None:
                rule[field] = int(ctx.param(field)) if field in ("Priority", "BlockOverrideTtl") else ctx.param(field)
        if rule["Action"] != "BLOCK":
            for field in ("BlockResponse", "BlockOverrideDomain", "BlockOverrideDnsType", "BlockOverrideTtl"):
                rule.pop(field, None)
        rule["ModificationTime"] = _now()
        return {"FirewallRule": dict(rule)}


@addition("route53resolver", "DeleteFirewallRule", example=_rule_example("delete-rule"))
def delete_firewall_rule(ctx):
    group_id = ctx.require("FirewallRuleGroupId")
    with _lock:
        group = _group(ctx, group_id)
        rule = _find_rule(ctx, group_id, ctx.param("FirewallDomainListId"), ctx.param("Qtype"))
        rules = _RULES[(ctx.account_id, ctx.region)]
        rules.remove(rule)
        group["RuleCount"] = sum(1 for r in rules if r["FirewallRuleGroupId"] == group_id)
    return {"FirewallRule": dict(rule)}


# --- tags ----------------------------------------------------------------------------------------------------


def _all_arns(ctx) -> set:
    key = (ctx.account_id, ctx.region)
    arns = {g["Arn"] for g in _GROUPS.get(key, {}).values()}
    arns |= {d["Arn"] for d in _DOMAIN_LISTS.get(key, {}).values()}
    arns |= {a["Arn"] for a in _ASSOCIATIONS.get(key, {}).values()}
    return arns


def _check_arn(ctx, arn: str) -> None:
    if arn not in _all_arns(ctx):
        raise AdditionError("ResourceNotFoundException", f"Can't find the resource with ARN '{arn}'.")


def _tag_example(client):
    created = client("route53resolver").create_firewall_rule_group(CreatorRequestId="example-tag", Name="example")
    return {"ResourceArn": created["FirewallRuleGroup"]["Arn"], "Tags": [{"Key": "Project", "Value": "medcircle"}]}


@addition("route53resolver", "TagResource", example=_tag_example)
def tag_resource(ctx):
    arn = ctx.require("ResourceArn")
    tags = ctx.require("Tags")
    with _lock:
        _check_arn(ctx, arn)
        _TAGS.setdefault(arn, {}).update({t["Key"]: t["Value"] for t in tags})
    return {}


def _untag_example(client):
    params = _tag_example(client)
    client("route53resolver").tag_resource(**params)
    return {"ResourceArn": params["ResourceArn"], "TagKeys": ["Project"]}


@addition("route53resolver", "UntagResource", example=_untag_example)
def untag_resource(ctx):
    arn = ctx.require("ResourceArn")
    keys = ctx.require("TagKeys")
    with _lock:
        _check_arn(ctx, arn)
        for key in keys:
            _TAGS.get(arn, {}).pop(key, None)
    return {}


def _list_tags_example(client):
    params = _tag_example(client)
    client("route53resolver").tag_resource(**params)
    return {"ResourceArn": params["ResourceArn"]}


@addition("route53resolver", "ListTagsForResource", example=_list_tags_example)
def list_tags_for_resource(ctx):
    arn = ctx.require("ResourceArn")
    with _lock:
        _check_arn(ctx, arn)
        tags = [{"Key": k, "Value": v} for k, v in sorted(_TAGS.get(arn, {}).items())]
    return _page(ctx, tags, "Tags")
