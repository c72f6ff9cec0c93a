"""AWS Network Firewall TagResource, UntagResource and ListTagsForResource, which moto lacks.

Firewall policies (sandbox.additions.networkfirewall_policies) and rule groups
(sandbox.additions.networkfirewall_rule_groups) keep their tags in their own ``Tags``, as their Describe answers
show them; firewalls keep theirs in moto's network-firewall backend (its tagger and the firewall's ``tags``).
"""

from sandbox.additions import AdditionError, addition
from sandbox.additions import networkfirewall_policies as policies
from sandbox.additions import networkfirewall_rule_groups as rule_groups


def _stores(ctx):
    key = (ctx.account_id, ctx.region)
    for item in policies._POLICIES.get(key, {}).values():
        yield item["response"]["FirewallPolicyArn"], item["response"]
    for item in rule_groups._GROUPS.get(key, {}).values():
        yield item["response"]["RuleGroupArn"], item["response"]


def _firewall(ctx, arn):
    backend = ctx.backend("network-firewall")
    for firewall in (getattr(backend, "firewalls", {}) or {}).values():
        if getattr(firewall, "arn", None) == arn:
            return backend, firewall
    return backend, None


def _merge(current, tags):
    merged = {t["Key"]: t["Value"] for t in current or []}
    merged.update({t["Key"]: t["Value"] for t in tags})
    return [{"Key": k, "Value": v} for k, v in merged.items()]


def _tag(ctx, arn, tags=None, remove=None):
    """Change the tags of the resource ``arn``; return its tags (a list)."""
    for resource_arn, response in _stores(ctx):
        if resource_arn == arn:
            current = response.get("Tags") or []
            if tags:
                current = _merge(current, tags)
            if remove:
                current = [t for t in current if t["Key"] not in remove]
            if tags or remove:
                response["Tags"] = current
            return current
    backend, firewall = _firewall(ctx, arn)
    if firewall is None:
        raise AdditionError("ResourceNotFoundException", f"Resource {arn} not found")
    if tags:
        backend.tagger.tag_resource(arn, tags)
    if remove:
        backend.tagger.untag_resource_using_names(arn, remove)
    current = backend.tagger.list_tags_for_resource(arn).get("Tags", [])
    firewall.tags = current
    return current


def _example_policy(client):
    created = client("network-firewall").create_firewall_policy(
        FirewallPolicyName="example-tags", FirewallPolicy=policies._EXAMPLE_POLICY
    )
    return created["FirewallPolicyResponse"]["FirewallPolicyArn"]


def _example_tag(client):
    return {"ResourceArn": _example_policy(client), "Tags": [{"Key": "Project", "Value": "medcircle"}]}


@addition("network-firewall", "TagResource", example=_example_tag)
def tag_resource(ctx):
    arn = ctx.require("ResourceArn")
    tags = ctx.require("Tags")
    with policies._lock, rule_groups._lock:
        _tag(ctx, arn, tags=tags)
    return {}


def _example_untag(client):
    arn = _example_policy(client)
    client("network-firewall").tag_resource(ResourceArn=arn, Tags=[{"Key": "Old", "Value": "x"}])
    return {"ResourceArn": arn, "TagKeys": ["Old"]}


@addition("network-firewall", "UntagResource", example=_example_untag)
def untag_resource(ctx):
    arn = ctx.require("ResourceArn")
    keys = ctx.require("TagKeys")
    with policies._lock, rule_groups._lock:
        _tag(ctx, arn, remove=keys)
    return {}


def _example_list(client):
    return {"ResourceArn": _example_policy(client)}


@addition("network-firewall", "ListTagsForResource", example=_example_list)
def list_tags_for_resource(ctx):
    arn = ctx.require("ResourceArn")
    with policies._lock, rule_groups._lock:
        tags = _tag(ctx, arn)
    size = int(ctx.param("MaxResults", 100))
    start = int(ctx.param("NextToken", 0) or 0)
    out = {"Tags": tags[start : start + size]}
    if start + size < len(tags):
        out["NextToken"] = str(start + size)
    return out
