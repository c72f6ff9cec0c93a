"""AWS Network Firewall rule groups and policy updates, which moto lacks: CreateRuleGroup, DescribeRuleGroup,
ListRuleGroups, UpdateRuleGroup, DeleteRuleGroup and UpdateFirewallPolicy.

Rule groups are kept per account and region in a store here. Every change issues a new update token and an
update must present the current one (``InvalidTokenException`` otherwise), as AWS's optimistic locking does.
``NumberOfAssociations`` counts the firewall policies (sandbox.additions.networkfirewall_policies) that
reference the group, and a referenced group cannot be deleted. UpdateFirewallPolicy changes the policies kept by
that module.
"""

import datetime
import threading
import uuid

from sandbox.additions import AdditionError, addition, on_reset
from sandbox.additions import networkfirewall_policies as policies

_GROUPS: dict[tuple[str, str], dict[str, dict]] = {}
_lock = threading.Lock()

_EXAMPLE_STATEFUL = {
    "RulesSource": {
        "RulesSourceList": {
            "Targets": [".malware.example"],
            "TargetTypes": ["TLS_SNI", "HTTP_HOST"],
            "GeneratedRulesType": "DENYLIST",
        }
    },
    "StatefulRuleOptions": {"RuleOrder": "STRICT_ORDER"},
}


@on_reset
def _clear() -> None:
    with _lock:
        _GROUPS.clear()


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _referenced_by(ctx, arn: str) -> int:
    count = 0
    for item in policies._POLICIES.get((ctx.account_id, ctx.region), {}).values():
        policy = item["policy"] or {}
        refs = policy.get("StatelessRuleGroupReferences", []) + policy.get("StatefulRuleGroupReferences", [])
        if any(ref.get("ResourceArn") == arn for ref in refs):
            count += 1
    return count


def _find(ctx, name: str | None, arn: str | None, kind: str | None) -> dict:
    for item in _GROUPS.get((ctx.account_id, ctx.region), {}).values():
        response = item["response"]
        if arn and response["RuleGroupArn"] == arn:
            return item
        if name and response["RuleGroupName"] == name and (not kind or response["Type"] == kind):
            return item
    if not (name or arn):
        raise AdditionError("InvalidRequestException", "You must specify the ARN or the name, and type")
    raise AdditionError("ResourceNotFoundException", f"Rule group {name or arn} not found")


def _rule_group(ctx) -> dict | None:
    group = ctx.param("RuleGroup")
    rules = ctx.param("Rules")
    if group and rules:
        raise AdditionError("InvalidRequestException", "Specify either RuleGroup or Rules, not both")
    if rules:
        return {"RulesSource": {"RulesString": rules}}
    return group


def _response(ctx, item: dict) -> dict:
    response = dict(item["response"])
    response["NumberOfAssociations"] = _referenced_by(ctx, response["RuleGroupArn"])
    return response


@addition(
    "network-firewall",
    "CreateRuleGroup",
    example={"RuleGroupName": "example", "Type": "STATEFUL", "Capacity": 100, "RuleGroup": _EXAMPLE_STATEFUL},
)
def create_rule_group(ctx):
    name = ctx.require("RuleGroupName")
    kind = ctx.require("Type")
    capacity = int(ctx.require("Capacity"))
    if kind not in ("STATELESS", "STATEFUL"):
        raise AdditionError("InvalidRequestException", f"Type {kind} is not STATELESS or STATEFUL")
    group = _rule_group(ctx)
    key = (ctx.account_id, ctx.region)
    with _lock:
        for item in _GROUPS.get(key, {}).values():
            if item["response"]["RuleGroupName"] == name and item["response"]["Type"] == kind:
                raise AdditionError("InvalidRequestException", f"A resource with the name {name} already exists")
        ident = str(uuid.uuid4())
        prefix = "stateful-rulegroup" if kind == "STATEFUL" else "stateless-rulegroup"
        response = {
            "RuleGroupArn": f"arn:aws:network-firewall:{ctx.region}:{ctx.account_id}:{prefix}/{name}",
            "RuleGroupName": name,
            "RuleGroupId": ident,
            "Description": ctx.param("Description", ""),
            "Type": kind,
            "Capacity": capacity,
            "RuleGroupStatus": "ACTIVE",
            "ConsumedCapacity": 0,
            "LastModifiedTime": _now(),
        }
        if ctx.param("Tags"):
            response["Tags"] = ctx.param("Tags")
        item = {"response": response, "group": group, "token": str(uuid.uuid4())}
        if ctx.param("DryRun"):
            return {"UpdateToken": item["token"], "RuleGroupResponse": dict(response, NumberOfAssociations=0)}
        _GROUPS.setdefault(key, {})[ident] = item
        return {"UpdateToken": item["token"], "RuleGroupResponse": _response(ctx, item)}


def _example_named(suffix: str):
    def example(client):
        client("network-firewall").create_rule_group(
            RuleGroupName=f"example-{suffix}", Type="STATEFUL", Capacity=100, RuleGroup=_EXAMPLE_STATEFUL
        )
        return {"RuleGroupName": f"example-{suffix}", "Type": "STATEFUL"}

    return example


@addition("network-firewall", "DescribeRuleGroup", example=_example_named("describe"))
def describe_rule_group(ctx):
    with _lock:
        item = _find(ctx, ctx.param("RuleGroupName"), ctx.param("RuleGroupArn"), ctx.param("Type"))
        out = {"UpdateToken": item["token"], "RuleGroupResponse": _response(ctx, item)}
        if item["group"] is not None:
            out["RuleGroup"] = item["group"]
        return out


@addition("network-firewall", "ListRuleGroups", example={})
def list_rule_groups(ctx):
    kind = ctx.param("Type")
    if ctx.param("Scope") == "MANAGED":
        meta = []  # AWS managed rule groups are not modelled
    else:
        with _lock:
            items = sorted(
                _GROUPS.get((ctx.account_id, ctx.region), {}).values(), key=lambda i: i["response"]["LastModifiedTime"]
            )
            meta = [
                {"Name": i["response"]["RuleGroupName"], "Arn": i["response"]["RuleGroupArn"]}
                for i in items
                if not kind or i["response"]["Type"] == kind
            ]
    size = int(ctx.param("MaxResults", 100))
    start = int(ctx.param("NextToken", 0) or 0)
    out = {"RuleGroups": meta[start : start + size]}
    if start + size < len(meta):
        out["NextToken"] = str(start + size)
    return out


def _example_update(client):
    created = client("network-firewall").create_rule_group(
        RuleGroupName="example-update", Type="STATEFUL", Capacity=100, RuleGroup=_EXAMPLE_STATEFUL
    )
    return {
        "UpdateToken": created["UpdateToken"],
        "RuleGroupName": "example-update",
        "Type": "STATEFUL",
        "RuleGroup": _EXAMPLE_STATEFUL,
        "Description": "updated",
    }


@addition("network-firewall", "UpdateRuleGroup", example=_example_update)
def update_rule_group(ctx):
    token = ctx.require("UpdateToken")
    with _lock:
        item = _find(ctx, ctx.param("RuleGroupName"), ctx.param("RuleGroupArn"), ctx.param("Type"))
        if token != item["token"]:
            raise AdditionError(
                "InvalidTokenException", "Update token is not valid: the rule group changed since it was read"
            )
        group = _rule_group(ctx)
        if ctx.param("DryRun"):
            return {"UpdateToken": item["token"], "RuleGroupResponse": _response(ctx, item)}
        if group is not None:
            item["group"] = group
        if ctx.param("Description") is not None:
            item["response"]["Description"] = ctx.param("Description")
        item["response"]["LastModifiedTime"] = _now()
        item["token"] = str(uuid.uuid4())
        return {"UpdateToken": item["token"], "RuleGroupResponse": _response(ctx, item)}


@addition("network-firewall", "DeleteRuleGroup", example=_example_named("delete"))
def delete_rule_group(ctx):
    with _lock:
        item = _find(ctx, ctx.param("RuleGroupName"), ctx.param("RuleGroupArn"), ctx.param("Type"))
        if _referenced_by(ctx, item["response"]["RuleGroupArn"]):
            raise AdditionError("InvalidOperationException", "The rule group is referenced by a firewall policy")
        _GROUPS[(ctx.account_id, ctx.region)].pop(item["response"]["RuleGroupId"], None)
    return {"RuleGroupResponse": dict(item["response"], RuleGroupStatus="DELETING", NumberOfAssociations=0)}


def _example_update_policy(client):
    created = client("network-firewall").create_firewall_policy(
        FirewallPolicyName="example-update-policy", FirewallPolicy=policies._EXAMPLE_POLICY
    )
    return {
        "UpdateToken": created["UpdateToken"],
        "FirewallPolicyName": "example-update-policy",
        "FirewallPolicy": dict(policies._EXAMPLE_POLICY, StatelessDefaultActions=["aws:drop"]),
        "Description": "updated",
    }


@addition("network-firewall", "UpdateFirewallPolicy", example=_example_update_policy)
def update_firewall_policy(ctx):
    token = ctx.require("UpdateToken")
    policy = ctx.require("FirewallPolicy")
    with policies._lock:
        item = policies._find(ctx, ctx.param("FirewallPolicyName"), ctx.param("FirewallPolicyArn"))
        if token != item["token"]:
            raise AdditionError(
                "InvalidTokenException", "Update token is not valid: the firewall policy changed since it was read"
            )
        with _lock:
            known = {i["response"]["RuleGroupArn"] for i in _GROUPS.get((ctx.account_id, ctx.region), {}).values()}
        refs = policy.get("StatelessRuleGroupReferences", []) + policy.get("StatefulRuleGroupReferences", [])
        missing = [ref["ResourceArn"] for ref in refs if ref.get("ResourceArn") not in known]
        if missing and not all(":aws-managed:" in arn for arn in missing):
            raise AdditionError("InvalidRequestException", f"Rule group(s) not found: {', '.join(missing)}")
        if ctx.param("DryRun"):
            return {"UpdateToken": item["token"], "FirewallPolicyResponse": policies._response(ctx, item)}
        item["policy"] = policy
        if ctx.param("Description") is not None:
            item["response"]["Description"] = ctx.param("Description")
        item["response"]["LastModifiedTime"] = _now()
        item["token"] = str(uuid.uuid4())
        return {"UpdateToken": item["token"], "FirewallPolicyResponse": policies._response(ctx, item)}
