"""The security_group_allowlist_errors filter: every problem named with the variable, nothing for a good list."""

import pytest
from ansible_collections.medcircle.cloudops.plugins.filter.security_groups import (
    FilterModule,
    security_group_allowlist_errors,
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
