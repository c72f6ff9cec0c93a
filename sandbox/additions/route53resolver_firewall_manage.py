"""Route 53 Resolver DNS Firewall: the reads, updates, deletes and tags that sandbox.additions.route53resolver_firewall
(creates and lists) leaves out, so that a DNS Firewall can be managed and not only created.

ListFirewallDomains, GetFirewallDomainList, DeleteFirewallDomainList, UpdateFirewallRule, DeleteFirewallRule,
DeleteFirewallRuleGroup, GetFirewallRuleGroupAssociation, UpdateFirewallRuleGroupAssociation, TagResource,
UntagResource and ListTagsForResource work on that module's store. The ``Tags`` a create request carries are
kept too (the create handlers are wrapped here), so ListTagsForResource answers what AWS would. AWS's rules are
kept: a domain list used by a rule, or a rule group associated with a VPC, cannot be deleted; an association with
mutation protection cannot be removed; a rule is found by its group and domain list.
"""

import datetime
import functools

from sandbox.additions import AdditionError, addition, on_reset
from sandbox.additions import route53resolver_firewall as store

_TAGS: dict[str, dict[str, str]] = {}


@on_reset
def _clear() -> None:
    with store._lock:
        _TAGS.clear()


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _remember_tags(handler, result_key):
    """Wrap a create handler of the store module so that the Tags of its request are kept."""

    @functools.wraps(handler)
    def wrapper(ctx):
        out = handler(ctx)
        tags = ctx.param("Tags") or []
        arn = (out.get(result_key) or {}).get("Arn")
        if arn and tags:
            with store._lock:
                _TAGS.setdefault(arn, {}).update({t["Key"]: t["Value"] for t in tags})
        return out

    return wrapper


def _wrap_creates() -> None:
    from sandbox.additions import _REGISTRY

    for operation, key in (
        ("CreateFirewallDomainList", "FirewallDomainList"),
        ("CreateFirewallRuleGroup", "FirewallRuleGroup"),
        ("AssociateFirewallRuleGroup", "FirewallRuleGroupAssociation"),
    ):
        item = _REGISTRY.get(("route53resolver", operation))
        if item is not None and not getattr(item.handler, "_keeps_tags", False):
            item.handler = _remember_tags(item.handler, key)
            item.handler._keeps_tags = True


_wrap_creates()


def _not_found(ident: str) -> AdditionError:
    return AdditionError("ResourceNotFoundException", f"Can't find the resource with ID '{ident}'.")


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
    with store._lock:
        store._domain_list(ctx, ident)
        domains = sorted(store._DOMAINS.get(ident, set()))
    return store._page(ctx, domains, "Domains")


@addition("route53resolver", "GetFirewallDomainList", example=_domain_list_example("example-get-list"))
def get_firewall_domain_list(ctx):
    with store._lock:
        return {"FirewallDomainList": dict(store._domain_list(ctx, ctx.require("FirewallDomainListId")))}


@addition("route53resolver", "DeleteFirewallDomainList", example=_domain_list_example("example-delete-list"))
def delete_firewall_domain_list(ctx):
    ident = ctx.require("FirewallDomainListId")
    with store._lock:
        item = store._domain_list(ctx, ident)
        used = [r for r in store._RULES.get((ctx.account_id, ctx.region), []) if r.get("FirewallDomainListId") == ident]
        if used:
            raise AdditionError(
                "ConflictException",
                f"The domain list is used by rule '{used[0]['Name']}' in rule group {used[0]['FirewallRuleGroupId']}.",
            )
        store._DOMAIN_LISTS[(ctx.account_id, ctx.region)].pop(ident, None)
        store._DOMAINS.pop(ident, None)
        _TAGS.pop(item["Arn"], None)
    return {"FirewallDomainList": dict(item, Status="DELETING", StatusMessage="Deleting the domain list")}


def _find_rule(ctx, group_id: str, domain_list: str | None, qtype: str | None) -> dict:
    for rule in store._RULES.get((ctx.account_id, ctx.region), []):
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
    with store._lock:
        store._group(ctx, group_id)
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
    with store._lock:
        group = store._group(ctx, group_id)
        rule = _find_rule(ctx, group_id, ctx.param("FirewallDomainListId"), ctx.param("Qtype"))
        rules = store._RULES[(ctx.account_id, ctx.region)]
        rules.remove(rule)
        group["RuleCount"] = sum(1 for r in rules if r["FirewallRuleGroupId"] == group_id)
    return {"FirewallRule": dict(rule)}


def _group_example(client):
    created = client("route53resolver").create_firewall_rule_group(CreatorRequestId="example-del-g", Name="example")
    return {"FirewallRuleGroupId": created["FirewallRuleGroup"]["Id"]}


@addition("route53resolver", "DeleteFirewallRuleGroup", example=_group_example)
def delete_firewall_rule_group(ctx):
    ident = ctx.require("FirewallRuleGroupId")
    key = (ctx.account_id, ctx.region)
    with store._lock:
        group = store._group(ctx, ident)
        if any(a["FirewallRuleGroupId"] == ident for a in store._ASSOCIATIONS.get(key, {}).values()):
            raise AdditionError("ConflictException", "The rule group is associated with a VPC; disassociate it first.")
        store._GROUPS[key].pop(ident, None)
        store._RULES[key] = [r for r in store._RULES.get(key, []) if r["FirewallRuleGroupId"] != ident]
        _TAGS.pop(group["Arn"], None)
    return {"FirewallRuleGroup": dict(group, Status="DELETING", StatusMessage="Deleting the rule group")}


def _association(ctx, ident: str) -> dict:
    assoc = store._ASSOCIATIONS.get((ctx.account_id, ctx.region), {}).get(ident)
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
    with store._lock:
        return {"FirewallRuleGroupAssociation": dict(_association(ctx, ctx.require("FirewallRuleGroupAssociationId")))}


@addition(
    "route53resolver",
    "UpdateFirewallRuleGroupAssociation",
    example=_association_example("update-assoc", Priority=102, MutationProtection="ENABLED"),
)
def update_firewall_rule_group_association(ctx):
    ident = ctx.require("FirewallRuleGroupAssociationId")
    with store._lock:
        assoc = _association(ctx, ident)
        priority = ctx.param("Priority")
        if priority is not None:
            priority = int(priority)
            for other in store._ASSOCIATIONS[(ctx.account_id, ctx.region)].values():
                if other is not assoc and other["VpcId"] == assoc["VpcId"] and other["Priority"] == priority:
                    raise AdditionError("ConflictException", f"Priority {priority} is already used in the VPC.")
            assoc["Priority"] = priority
        for field in ("MutationProtection", "Name"):
            if ctx.param(field) is not None:
                assoc[field] = ctx.param(field)
        assoc["ModificationTime"] = _now()
        return {"FirewallRuleGroupAssociation": dict(assoc)}


def _all_arns(ctx) -> set:
    key = (ctx.account_id, ctx.region)
    arns = {g["Arn"] for g in store._GROUPS.get(key, {}).values()}
    arns |= {d["Arn"] for d in store._DOMAIN_LISTS.get(key, {}).values()}
    arns |= {a["Arn"] for a in store._ASSOCIATIONS.get(key, {}).values()}
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
    with store._lock:
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
    with store._lock:
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
    with store._lock:
        _check_arn(ctx, arn)
        tags = [{"Key": k, "Value": v} for k, v in sorted(_TAGS.get(arn, {}).items())]
    return store._page(ctx, tags, "Tags")


# DisassociateFirewallRuleGroup of the store module ignores mutation protection; AWS refuses.
def _guard_disassociate() -> None:
    from sandbox.additions import _REGISTRY

    item = _REGISTRY.get(("route53resolver", "DisassociateFirewallRuleGroup"))
    if item is None or getattr(item.handler, "_guarded", False):
        return
    original = item.handler

    @functools.wraps(original)
    def guarded(ctx):
        ident = ctx.require("FirewallRuleGroupAssociationId")
        with store._lock:
            assoc = store._ASSOCIATIONS.get((ctx.account_id, ctx.region), {}).get(ident)
            if assoc is not None and assoc.get("MutationProtection") == "ENABLED":
                raise AdditionError(
                    "ValidationException", "The association has mutation protection enabled; disable it first."
                )
        out = original(ctx)
        arn = (out.get("FirewallRuleGroupAssociation") or {}).get("Arn")
        with store._lock:
            _TAGS.pop(arn, None)
        return out

    guarded._guarded = True
    item.handler = guarded


_guard_disassociate()
