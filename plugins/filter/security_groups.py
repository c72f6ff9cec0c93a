# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Check a security group allow-list before anything is changed, and say what a run changed in the groups."""

import ipaddress
import re

RULE_KEYS = (
    "proto",
    "ports",
    "from_port",
    "to_port",
    "cidr_ip",
    "cidr_ipv6",
    "ip_prefix",
    "group_id",
    "group_name",
    "rule_desc",
)
SOURCES = ("cidr_ip", "cidr_ipv6", "ip_prefix", "group_id", "group_name")
PROTOCOLS = ("tcp", "udp", "icmp", "icmpv6", "all", "-1")
PREFIX_LIST = re.compile(r"^pl-[0-9a-f]{8,17}$")
GROUP_ID = re.compile(r"^sg-[0-9a-f]{8,17}$")


def _as_list(value):
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _ports(rule):
    """The ports a rule opens as (low, high) ranges; None means every port."""
    if str(rule.get("proto", "tcp")) in ("all", "-1"):
        return None
    ranges = []
    for item in _as_list(rule.get("ports")):
        text = str(item)
        low, _sep, high = text.partition("-")
        ranges.append((int(low), int(high or low)))
    if rule.get("from_port") is not None:
        ranges.append((int(rule["from_port"]), int(rule.get("to_port", rule["from_port"]))))
    return ranges or None


def _rule_errors(where, rule, direction, internet_facing, public_ports):
    errors = []
    if not isinstance(rule, dict):
        return ["%s must be a dict such as {proto: tcp, ports: [443], cidr_ip: 10.0.0.0/16}, got %r" % (where, rule)]
    unknown = sorted(set(rule) - set(RULE_KEYS))
    if unknown:
        errors.append("%s has unknown key(s) %s. Allowed: %s" % (where, ", ".join(unknown), ", ".join(RULE_KEYS)))
    proto = str(rule.get("proto", "tcp"))
    if proto not in PROTOCOLS and not proto.isdigit():
        errors.append(
            "%s proto %s is not a protocol. Allowed: %s or a protocol number" % (where, proto, ", ".join(PROTOCOLS))
        )
    try:
        ports = _ports(rule)
    except (TypeError, ValueError):
        errors.append(
            "%s ports %r are not port numbers or ranges such as 443 or 8000-8080" % (where, rule.get("ports"))
        )
        ports = []
    for low, high in ports or []:
        if not (-1 <= low <= 65535 and -1 <= high <= 65535 and low <= high):
            errors.append("%s port range %s-%s is out of range. Allowed: 0 to 65535" % (where, low, high))
    if not any(rule.get(key) for key in SOURCES):
        errors.append(
            "%s names no %s. Allowed: one of %s"
            % (where, "source" if direction == "ingress" else "destination", ", ".join(SOURCES))
        )
    world = []
    for key, version in (("cidr_ip", 4), ("cidr_ipv6", 6)):
        for cidr in _as_list(rule.get(key)):
            try:
                network = ipaddress.ip_network(str(cidr), strict=False)
                if "/" not in str(cidr) or network.version != version:
                    raise ValueError(cidr)
            except ValueError:
                errors.append(
                    "%s %s %s is not an IPv%d CIDR. Allowed: a range such as %s"
                    % (where, key, cidr, version, "10.0.0.0/16" if version == 4 else "2001:db8::/56")
                )
                continue
            if network.prefixlen == 0:
                world.append(str(cidr))
    for prefix in _as_list(rule.get("ip_prefix")):
        if not PREFIX_LIST.match(str(prefix)):
            errors.append(
                "%s ip_prefix %s is not a prefix list id. Allowed: ids such as pl-0123456789abcdef0" % (where, prefix)
            )
    for group in _as_list(rule.get("group_id")):
        if not GROUP_ID.match(str(group)):
            errors.append(
                "%s group_id %s is not a security group id. Allowed: ids such as sg-0123456789abcdef0" % (where, group)
            )
    if world:
        public = (
            direction == "ingress"
            and internet_facing
            and proto == "tcp"
            and ports is not None
            and all(low == high and low in public_ports for low, high in ports)
        )
        if not public:
            errors.append(
                "%s opens %s to the whole internet (%s). Allowed: known ranges, prefix lists or security groups; "
                "only an internet_facing group may take ingress from anywhere, on tcp port(s) %s"
                % (
                    where,
                    "every port" if ports is None else "the group",
                    ", ".join(world),
                    ", ".join(str(p) for p in sorted(public_ports)),
                )
            )
    return errors


def security_group_allowlist_errors(definitions, public_ports=(443,), variable="security_groups_definitions"):
    """Every problem of an allow-list, as messages naming the variable, the bad value and what is allowed."""
    public_ports = {int(p) for p in _as_list(public_ports)}
    if not isinstance(definitions, list):
        return ["%s must be a list of security group definitions, got %r" % (variable, definitions)]
    errors = []
    names = set()
    for index, definition in enumerate(definitions):
        where = "%s[%d]" % (variable, index)
        if not isinstance(definition, dict) or not definition.get("name"):
            errors.append("%s needs a name (and ingress/egress rule lists), got %r" % (where, definition))
            continue
        where = "%s[%d] (%s)" % (variable, index, definition["name"])
        if definition["name"] in names:
            errors.append("%s is defined twice. Allowed: one definition per group name" % where)
        names.add(definition["name"])
        unknown = sorted(set(definition) - {"name", "description", "internet_facing", "ingress", "egress", "tags"})
        if unknown:
            errors.append(
                "%s has unknown key(s) %s. Allowed: name, description, internet_facing, ingress, egress, tags"
                % (where, ", ".join(unknown))
            )
        for direction in ("ingress", "egress"):
            rules = definition.get(direction, [])
            if not isinstance(rules, list):
                errors.append("%s %s must be a list of rules, got %r" % (where, direction, rules))
                continue
            for number, rule in enumerate(rules):
                errors.extend(
                    _rule_errors(
                        "%s %s[%d]" % (where, direction, number),
                        rule,
                        direction,
                        bool(definition.get("internet_facing")),
                        public_ports,
                    )
                )
    return errors


PROTOCOL_NAMES = {"-1": "all traffic", "6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6"}
MAX_LISTED = 12


def _rule_lines(permissions, direction, names):
    """One readable line per source of each permission, in the order the group lists them."""
    lines = []
    joiner = "from" if direction == "inbound" else "to"
    for perm in permissions or []:
        proto = str(perm.get("ip_protocol", "-1"))
        proto = PROTOCOL_NAMES.get(proto, proto)
        low, high = perm.get("from_port"), perm.get("to_port")
        if proto == "all traffic" or low in (None, -1):
            ports = ""
        elif proto in ("icmp", "icmpv6"):
            ports = " type %s" % low
        else:
            ports = " %s" % low if low == high else " %s-%s" % (low, high)
        sources = (
            [r.get("cidr_ip") for r in perm.get("ip_ranges") or []]
            + [r.get("cidr_ipv6") for r in perm.get("ipv6_ranges") or []]
            + [r.get("prefix_list_id") for r in perm.get("prefix_list_ids") or []]
            + [
                "%s (%s)" % (pair.get("group_id"), names[pair.get("group_id")])
                if pair.get("group_id") in names
                else str(pair.get("group_id"))
                for pair in perm.get("user_id_group_pairs") or []
            ]
        )
        for source in sources:
            line = "%s %s%s %s %s" % (direction, proto, ports, joiner, source)
            if line not in lines:
                lines.append(line)
    return lines


def _group_rules(group, names):
    return _rule_lines(group.get("ip_permissions"), "inbound", names) + _rule_lines(
        group.get("ip_permissions_egress"), "outbound", names
    )


def _listed(lines):
    shown = ", ".join(lines[:MAX_LISTED])
    return shown + (" and %d more" % (len(lines) - MAX_LISTED) if len(lines) > MAX_LISTED else "")


def security_group_rule_changes(results, before_groups, check_mode=False, remove_all=False):
    """What the run changed (or, under --check, would change) in each group, one line per group.

    ``results`` are the registered results of amazon.aws.ec2_security_group (one per group: the group after the
    run; under --check, the group as it is), ``before_groups`` what amazon.aws.ec2_security_group_info read before
    any change. A real run names every rule removed and added; a check run names the groups that would change and
    the rules they have now, which the allow-list replaces (``remove_all``: which the run removes, as for the VPC's
    default group)."""
    before = {g.get("group_id"): g for g in before_groups or []}
    names = {g.get("group_id"): g.get("group_name") for g in list(before_groups or []) + list(results or [])}
    lines = []
    for result in results or []:
        group_id, name = result.get("group_id"), result.get("group_name") or (result.get("item") or {}).get("name")
        label = "%s (%s)" % (name, group_id) if group_id else str(name)
        old = before.get(group_id)
        now = _group_rules(result, names)
        if not result.get("changed"):
            lines.append("%s: unchanged (%d rule(s))." % (label, len(now)))
        elif check_mode and old is None:
            lines.append("%s: would be created with the allow-list's rules." % label)
        elif check_mode and remove_all:
            lines.append("%s: would lose every rule: %s." % (label, _listed(now) or "none"))
        elif check_mode:
            lines.append("%s: would change to the allow-list; its rules now: %s." % (label, _listed(now) or "none"))
        elif old is None:
            lines.append("%s: created with %s." % (label, _listed(now) or "no rule"))
        else:
            was = _group_rules(old, names)
            removed = [line for line in was if line not in now]
            added = [line for line in now if line not in was]
            parts = (["removed " + _listed(removed)] if removed else []) + (
                ["added " + _listed(added)] if added else []
            )
            lines.append(
                "%s: %s." % (label, "; ".join(parts) if parts else "tags or description updated, rules unchanged")
            )
    return lines


class FilterModule(object):
    def filters(self):
        return {
            "security_group_allowlist_errors": security_group_allowlist_errors,
            "security_group_rule_changes": security_group_rule_changes,
        }
