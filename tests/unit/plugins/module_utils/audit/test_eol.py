"""End-of-life table and release detection (finding 3.7)."""

import datetime

import pytest
from ansible_collections.medcircle.cloudops.plugins.module_utils.audit import eol


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("amzn2-ami-hvm-2.0.20180810-x86_64-gp2", ("amzn2", "2")),
        ("al2023-ami-2023.9.20261101.0-kernel-6.1-x86_64", ("al2023", "2023")),
        ("ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20240101", ("ubuntu", "22.04")),
        ("debian-12-amd64-20241201-1948", ("debian", "12")),
        ("debian-bookworm-backports", ("debian", "12")),
        ("RHEL-9.4.0_HVM-20240605-x86_64", ("rhel", "9")),
        ("golden-image", (None, None)),
    ],
)
def test_detect_release(text, expected):
    assert eol.detect_release(text) == expected


def test_ssm_platform():
    assert eol.from_ssm_platform("Amazon Linux", "2") == ("amzn2", "2")
    assert eol.from_ssm_platform("Amazon Linux", "2023") == ("al2023", "2023")
    assert eol.from_ssm_platform("Ubuntu", "22.04") == ("ubuntu", "22.04")
    assert eol.from_ssm_platform("Debian GNU/Linux", "12") == ("debian", "12")
    assert eol.from_ssm_platform(None, None) == (None, None)


def test_table_and_overrides():
    assert eol.end_of_life("amzn2", "2") == datetime.date(2026, 6, 30)
    table = eol.eol_table({"amzn2:2": "2027-01-01", "custom:1": "2030-01-01"})
    assert eol.end_of_life("amzn2", "2", table) == datetime.date(2027, 1, 1)
    assert eol.end_of_life("custom", "1", table) == datetime.date(2030, 1, 1)
    assert eol.end_of_life("unknown", "1") is None
    for os_id in ("amzn2", "al2023", "ubuntu", "debian", "rhel"):
        assert any(key.startswith(os_id + ":") for key in eol.EOL_DATES)
