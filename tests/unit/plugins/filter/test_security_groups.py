"""The security_group_allowlist_errors filter: every problem named with the variable, nothing for a good list."""

import pytest
from ansible_collections.medcircle.cloudops.plugins.filter.security_groups import (
    FilterModule,
    security_group_allowlist_errors,
    security_group_rule_changes,
)

GOOD = [
    {
        "name": "alb",
        "internet_facing": True,
        "ingress": [{"proto": "tcp", "ports": [443], "cidr_ip": "0.0.0.0/0"}, {"ports": 443, "cidr_ipv6": "::/0"}],
        "egress": [{"proto": "tcp", "ports": ["8000-8080"], "group_name": "app"}],
    },
    {
        "name": "app",
        "ingress": [{"proto": "tcp", "from_port": 8000, "to_port": 8080, "group_name": "alb"}],
        "egress": [
            {"proto": "tcp", "ports": [443], "ip_prefix": "pl-63a5400a"},
            {"proto": "all", "cidr_ip": ["10.0.0.0/16", "192.168.1.0/24"]},
            {"proto": "tcp", "ports": [3306], "group_id": "sg-0123456789abcdef0"},
        ],
    },
]


def test_good_allow_list_has_no_error():
    assert security_group_allowlist_errors(GOOD) == []
    assert FilterModule().filters()["security_group_allowlist_errors"] is security_group_allowlist_errors


@pytest.mark.parametrize(
    "definition, expected",
    [
        (
            {"name": "a", "ingress": [{"ports": [443], "cidr_ip": "10.0.0.300/16"}]},
            "security_groups_definitions[0] (a) ingress[0] cidr_ip 10.0.0.300/16 is not an IPv4 CIDR",
        ),
        (
            {"name": "a", "ingress": [{"ports": [443], "cidr_ip": "10.0.0.1"}]},
            "cidr_ip 10.0.0.1 is not an IPv4 CIDR",
        ),
        (
            {"name": "a", "ingress": [{"ports": [443], "cidr_ip": "2001:db8::/56"}]},
            "cidr_ip 2001:db8::/56 is not an IPv4 CIDR",
        ),
        (
            {"name": "a", "ingress": [{"ports": [22], "cidr_ip": "0.0.0.0/0"}]},
            "(a) ingress[0] opens the group to the whole internet (0.0.0.0/0)",
        ),
        (
            {"name": "a", "internet_facing": True, "ingress": [{"ports": [22], "cidr_ip": "0.0.0.0/0"}]},
            "opens the group to the whole internet (0.0.0.0/0)",
        ),
        (
            {"name": "a", "internet_facing": True, "ingress": [{"proto": "all", "cidr_ipv6": "::/0"}]},
            "opens every port to the whole internet (::/0)",
        ),
        (
            {"name": "a", "egress": [{"proto": "-1", "cidr_ip": "0.0.0.0/0"}]},
            "(a) egress[0] opens every port to the whole internet (0.0.0.0/0)",
        ),
        (
            {"name": "a", "internet_facing": True, "egress": [{"ports": [443], "cidr_ip": "0.0.0.0/0"}]},
            "(a) egress[0] opens the group to the whole internet",
        ),
        ({"name": "a", "ingress": [{"ports": [443]}]}, "(a) ingress[0] names no source"),
        ({"name": "a", "egress": [{"ports": [443]}]}, "(a) egress[0] names no destination"),
        (
            {"name": "a", "ingress": [{"ports": [70000], "cidr_ip": "10.0.0.0/8"}]},
            "port range 70000-70000 is out of range",
        ),
        ({"name": "a", "ingress": [{"ports": ["ssh"], "cidr_ip": "10.0.0.0/8"}]}, "ports ['ssh'] are not port numbers"),
        ({"name": "a", "ingress": [{"proto": "gre", "cidr_ip": "10.0.0.0/8"}]}, "proto gre is not a protocol"),
        ({"name": "a", "ingress": [{"ports": [1], "ip_prefix": "s3"}]}, "ip_prefix s3 is not a prefix list id"),
        ({"name": "a", "ingress": [{"ports": [1], "group_id": "app"}]}, "group_id app is not a security group id"),
        ({"name": "a", "ingress": [{"ports": [1], "cidr": "10.0.0.0/8"}]}, "has unknown key(s) cidr"),
        ({"name": "a", "rules": []}, "(a) has unknown key(s) rules"),
        ({"name": "a", "ingress": "tcp 443"}, "(a) ingress must be a list of rules"),
        ({"name": "a", "ingress": ["tcp 443"]}, "ingress[0] must be a dict"),
        ({"description": "no name"}, "security_groups_definitions[0] needs a name"),
    ],
)
def test_bad_definitions_are_named(definition, expected):
    errors = security_group_allowlist_errors([definition])
    assert any(expected in error for error in errors), errors
    assert all(error.startswith("security_groups_definitions[0]") for error in errors)


def test_duplicate_names_and_not_a_list():
    assert "defined twice" in security_group_allowlist_errors([{"name": "a"}, {"name": "a"}])[0]
    assert security_group_allowlist_errors({"name": "a"}) == [
        "security_groups_definitions must be a list of security group definitions, got {'name': 'a'}"
    ]


def test_public_ports_are_configurable():
    facing = [{"name": "a", "internet_facing": True, "ingress": [{"ports": [80], "cidr_ip": "0.0.0.0/0"}]}]
    assert security_group_allowlist_errors(facing) != []
    assert security_group_allowlist_errors(facing, [80, 443]) == []
    # a range that covers a public port is still refused
    ranged = [{"name": "a", "internet_facing": True, "ingress": [{"ports": ["80-443"], "cidr_ip": "0.0.0.0/0"}]}]
    assert security_group_allowlist_errors(ranged, [80, 443]) != []


# security_group_rule_changes: what a run changed in each group, from the module's results and the groups before.
WORLD_SSH = {"ip_protocol": "tcp", "from_port": 22, "to_port": 22, "ip_ranges": [{"cidr_ip": "0.0.0.0/0"}]}
ALL_OUT = {"ip_protocol": "-1", "ip_ranges": [{"cidr_ip": "0.0.0.0/0"}], "ipv6_ranges": [{"cidr_ipv6": "::/0"}]}
FROM_APP = {
    "ip_protocol": "tcp",
    "from_port": 5432,
    "to_port": 5432,
    "user_id_group_pairs": [{"group_id": "sg-0a", "user_id": "123456789012"}],
}
RANGE = {"ip_protocol": "udp", "from_port": 1000, "to_port": 2000, "prefix_list_ids": [{"prefix_list_id": "pl-1"}]}
PING = {"ip_protocol": "icmp", "from_port": 8, "to_port": -1, "ip_ranges": [{"cidr_ip": "10.0.0.0/16"}]}


def _group(group_id, name, ingress, egress, changed=True):
    return {
        "group_id": group_id,
        "group_name": name,
        "ip_permissions": ingress,
        "ip_permissions_egress": egress,
        "changed": changed,
    }


def test_a_real_run_names_every_rule_removed_and_added_with_group_names():
    before = [_group("sg-0a", "app", [], [ALL_OUT]), _group("sg-0b", "db", [WORLD_SSH], [ALL_OUT])]
    after = [_group("sg-0b", "db", [FROM_APP, RANGE, PING], [])]
    assert security_group_rule_changes(after, before) == [
        "db (sg-0b): removed inbound tcp 22 from 0.0.0.0/0, outbound all traffic to 0.0.0.0/0, outbound all"
        " traffic to ::/0; added inbound tcp 5432 from sg-0a (app), inbound udp 1000-2000 from pl-1, inbound icmp"
        " type 8 from 10.0.0.0/16."
    ]


def test_unchanged_created_and_tag_only_groups():
    before = [_group("sg-0a", "app", [WORLD_SSH], [])]
    results = [
        _group("sg-0a", "app", [WORLD_SSH], [], changed=False),
        _group("sg-0c", "new", [PING], []),
        _group("sg-0a", "app", [WORLD_SSH], []),
    ]
    assert security_group_rule_changes(results, before) == [
        "app (sg-0a): unchanged (1 rule(s)).",
        "new (sg-0c): created with inbound icmp type 8 from 10.0.0.0/16.",
        "app (sg-0a): tags or description updated, rules unchanged.",
    ]


def test_a_check_run_names_the_groups_that_would_change_and_their_rules_now():
    before = [_group("sg-0a", "app", [WORLD_SSH], [ALL_OUT])]
    results = [
        _group("sg-0a", "app", [WORLD_SSH], [ALL_OUT]),
        {"group_id": None, "changed": True, "item": {"name": "web"}},
    ]
    assert security_group_rule_changes(results, before, True) == [
        "app (sg-0a): would change to the allow-list; its rules now: inbound tcp 22 from 0.0.0.0/0, outbound all"
        " traffic to 0.0.0.0/0, outbound all traffic to ::/0.",
        "web: would be created with the allow-list's rules.",
    ]
    assert security_group_rule_changes(results[:1], before, True, remove_all=True) == [
        "app (sg-0a): would lose every rule: inbound tcp 22 from 0.0.0.0/0, outbound all traffic to 0.0.0.0/0,"
        " outbound all traffic to ::/0."
    ]


def test_a_long_list_is_cut_with_a_count():
    many = [dict(WORLD_SSH, from_port=port, to_port=port) for port in range(1, 16)]
    (line,) = security_group_rule_changes([_group("sg-0a", "app", [], [])], [_group("sg-0a", "app", many, [])])
    assert line.startswith("app (sg-0a): removed inbound tcp 1 from 0.0.0.0/0, ") and line.endswith(" and 3 more.")
    assert FilterModule().filters()["security_group_rule_changes"] is security_group_rule_changes
