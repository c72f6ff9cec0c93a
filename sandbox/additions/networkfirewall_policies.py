"""AWS Network Firewall policies, which moto lacks: CreateFirewallPolicy, DescribeFirewallPolicy,
ListFirewallPolicies, DeleteFirewallPolicy.

Kept per account and region in a store here. ``NumberOfAssociations`` counts moto's firewalls that name the
policy, so moto's state stays the source of truth for which firewalls use it.
"""

import datetime
import threading
import uuid

from sandbox.additions import AdditionError, addition, on_reset

_POLICIES: dict[tuple[str, str], dict[str, dict]] = {}
_lock = threading.Lock()

_EXAMPLE_POLICY = {
    "StatelessDefaultActions": ["aws:forward_to_sfe"],
    "StatelessFragmentDefaultActions": ["aws:forward_to_sfe"],
}


@on_reset
def _clear() -> None:
    with _lock:
        _POLICIES.clear()


def _associations(ctx, arn: str) -> int:
    try:
        backend = ctx.backend("network-firewall")
    except Exception:  # moto without the service in this region
        return 0
    firewalls = getattr(backend, "firewalls", {}) or {}
    return sum(1 for fw in firewalls.values() if getattr(fw, "firewall_policy_arn", None) == arn)


def _find(ctx, name: str | None, arn: str | None) -> dict:
    for item in _POLICIES.get((ctx.account_id, ctx.region), {}).values():
        if (arn and item["response"]["FirewallPolicyArn"] == arn) or (
            name and item["response"]["FirewallPolicyName"] == name
        ):
            return item
    raise AdditionError("ResourceNotFoundException", f"Firewall policy {name or arn} not found")


def _response(ctx, item: dict) -> dict:
    response = dict(item["response"])
    response["NumberOfAssociations"] = _associations(ctx, response["FirewallPolicyArn"])
    return response


@addition(
    "network-firewall",
    "CreateFirewallPolicy",
    example={"FirewallPolicyName": "example", "FirewallPolicy": _EXAMPLE_POLICY},
)
def create_firewall_policy(ctx):
    name = ctx.require("FirewallPolicyName")
    policy = ctx.require("FirewallPolicy")
    key = (ctx.account_id, ctx.region)
    with _lock:
        for item in _POLICIES.get(key, {}).values():
            if item["response"]["FirewallPolicyName"] == name:
                raise AdditionError("InvalidRequestException", f"A resource with the name {name} already exists")
        ident = str(uuid.uuid4())
        arn = f"arn:aws:network-firewall:{ctx.region}:{ctx.account_id}:firewall-policy/{name}"
        response = {
            "FirewallPolicyName": name,
            "FirewallPolicyArn": arn,
            "FirewallPolicyId": ident,
            "Description": ctx.param("Description", ""),
            "FirewallPolicyStatus": "ACTIVE",
            "ConsumedStatelessRuleCapacity": 0,
            "ConsumedStatefulRuleCapacity": 0,
            "LastModifiedTime": datetime.datetime.now(datetime.UTC),
        }
        if ctx.param("Tags"):
            response["Tags"] = ctx.param("Tags")
        item = {"response": response, "policy": policy, "token": str(uuid.uuid4())}
        if ctx.param("DryRun"):
            return {"UpdateToken": item["token"], "FirewallPolicyResponse": dict(response, NumberOfAssociations=0)}
        _POLICIES.setdefault(key, {})[ident] = item
    return {"UpdateToken": item["token"], "FirewallPolicyResponse": _response(ctx, item)}


def _example_named(client):
    client("network-firewall").create_firewall_policy(FirewallPolicyName="example-d", FirewallPolicy=_EXAMPLE_POLICY)
    return {"FirewallPolicyName": "example-d"}


@addition("network-firewall", "DescribeFirewallPolicy", example=_example_named)
def describe_firewall_policy(ctx):
    with _lock:
        item = _find(ctx, ctx.param("FirewallPolicyName"), ctx.param("FirewallPolicyArn"))
    return {
        "UpdateToken": item["token"],
        "FirewallPolicyResponse": _response(ctx, item),
        "FirewallPolicy": item["policy"],
    }


@addition("network-firewall", "ListFirewallPolicies", example={})
def list_firewall_policies(ctx):
    with _lock:
        items = sorted(
            _POLICIES.get((ctx.account_id, ctx.region), {}).values(), key=lambda i: i["response"]["LastModifiedTime"]
        )
        meta = [{"Name": i["response"]["FirewallPolicyName"], "Arn": i["response"]["FirewallPolicyArn"]} for i in items]
    size = int(ctx.param("MaxResults", 100))
    start = int(ctx.param("NextToken", 0) or 0)
    out = {"FirewallPolicies": meta[start : start + size]}
    if start + size < len(meta):
        out["NextToken"] = str(start + size)
    return out


def _example_delete(client):
    client("network-firewall").create_firewall_policy(FirewallPolicyName="example-del", FirewallPolicy=_EXAMPLE_POLICY)
    return {"FirewallPolicyName": "example-del"}


@addition("network-firewall", "DeleteFirewallPolicy", example=_example_delete)
def delete_firewall_policy(ctx):
    with _lock:
        item = _find(ctx, ctx.param("FirewallPolicyName"), ctx.param("FirewallPolicyArn"))
        if _associations(ctx, item["response"]["FirewallPolicyArn"]):
            raise AdditionError("InvalidOperationException", "The firewall policy is in use by a firewall")
        _POLICIES[(ctx.account_id, ctx.region)].pop(item["response"]["FirewallPolicyId"], None)
    return {"FirewallPolicyResponse": dict(item["response"], FirewallPolicyStatus="DELETING", NumberOfAssociations=0)}
