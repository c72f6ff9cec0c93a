"""Route 53 Resolver DNS Firewall rule groups and their VPC associations, which moto lacks entirely.

CreateFirewallRuleGroup, GetFirewallRuleGroup, ListFirewallRuleGroups, AssociateFirewallRuleGroup,
DisassociateFirewallRuleGroup and ListFirewallRuleGroupAssociations, kept per account and region in a
store here. An association must name a VPC that exists in moto's EC2, as AWS requires.
"""

import datetime
import threading
import uuid

from sandbox.additions import AdditionError, addition, on_reset

_GROUPS: dict[tuple[str, str], dict[str, dict]] = {}
_ASSOCIATIONS: dict[tuple[str, str], dict[str, dict]] = {}
_lock = threading.Lock()


@on_reset
def _clear() -> None:
    with _lock:
        _GROUPS.clear()
        _ASSOCIATIONS.clear()


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


@addition("route53resolver", "CreateFirewallRuleGroup", example={"CreatorRequestId": "example-1", "Name": "example"})
def create_firewall_rule_group(ctx):
    name = ctx.require("Name")
    request = ctx.require("CreatorRequestId")
    key = (ctx.account_id, ctx.region)
    with _lock:
        groups = _GROUPS.setdefault(key, {})
        for group in groups.values():
            if group["CreatorRequestId"] == request:
                return {"FirewallRuleGroup": dict(group)}
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
        return {"FirewallRuleGroup": dict(group)}


def _group(ctx, ident: str) -> dict:
    group = _GROUPS.get((ctx.account_id, ctx.region), {}).get(ident)
    if group is None:
        raise AdditionError("ResourceNotFoundException", f"Can't find the resource with ID '{ident}'.")
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
                return {"FirewallRuleGroupAssociation": dict(assoc)}
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
        assoc = _ASSOCIATIONS.get((ctx.account_id, ctx.region), {}).pop(ident, None)
    if assoc is None:
        raise AdditionError("ResourceNotFoundException", f"Can't find the resource with ID '{ident}'.")
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


# --- domain lists and rules ------------------------------------------------------------------------------

_DOMAIN_LISTS: dict[tuple[str, str], dict[str, dict]] = {}
_DOMAINS: dict[str, set] = {}
_RULES: dict[tuple[str, str], list[dict]] = {}


@on_reset
def _clear_lists() -> None:
    with _lock:
        _DOMAIN_LISTS.clear()
        _DOMAINS.clear()
        _RULES.clear()


@addition("route53resolver", "CreateFirewallDomainList", example={"CreatorRequestId": "example-dl", "Name": "example"})
def create_firewall_domain_list(ctx):
    name = ctx.require("Name")
    request = ctx.require("CreatorRequestId")
    with _lock:
        lists = _DOMAIN_LISTS.setdefault((ctx.account_id, ctx.region), {})
        for item in lists.values():
            if item["CreatorRequestId"] == request:
                return {"FirewallDomainList": dict(item)}
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
        return {"FirewallDomainList": dict(item)}


def _domain_list(ctx, ident: str) -> dict:
    item = _DOMAIN_LISTS.get((ctx.account_id, ctx.region), {}).get(ident)
    if item is None:
        raise AdditionError("ResourceNotFoundException", f"Can't find the resource with ID '{ident}'.")
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
