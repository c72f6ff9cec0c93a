"""The linux filters (pending upgrades from apt and dnf output, upgrade selection, end of life) on real
command output shapes and on results shaped as amazon.aws's info modules return them."""

import datetime

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.medcircle.cloudops.plugins.filter.linux import (
    FilterModule,
    apt_upgrades,
    dnf_upgrades,
    eol_fleet,
    eol_line,
    os_eol,
    select_upgrades,
)

# What apt-get --simulate dist-upgrade prints on a sandbox root (sandbox/rootfs.py) and on Debian itself.
APT_SIMULATE = """\
NOTE: This is only a simulation!
      apt-get needs root privileges for real execution.
Reading package lists...
Building dependency tree...
Calculating upgrade...
The following packages will be upgraded:
  libssl3 medcircle-kernel-shim medcircle-openssl-shim medcircle-tools
4 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.
Inst libssl3 [3.0.15-1~deb12u1] (3.0.16-1~deb12u1 Debian-Security:12/stable-security [amd64])
Inst medcircle-kernel-shim [1.0] (1.1 MedCircle-Security:bookworm-security [all])
Inst medcircle-openssl-shim [1.0] (1.1 MedCircle-Security:bookworm-security [all])
Inst medcircle-tools [1.0] (1.1 MedCircle-Updates:bookworm-updates [all])
Inst tzdata [2024a-0+deb12u1] (2025b-0+deb12u1 Debian:12.11/stable, Debian-Security:12/stable-security [all])
Conf libssl3 (3.0.16-1~deb12u1 Debian-Security:12/stable-security [amd64])
Conf medcircle-tools (1.1 MedCircle-Updates:bookworm-updates [all])
"""

DNF_CHECK_UPDATE = """\
Last metadata expiration check: 0:01:02 ago on Tue 01 Dec 2026 10:00:00 AM UTC.

openssl-libs.x86_64                    1:3.0.8-1.amzn2023.0.12                amazonlinux
kernel.x86_64                          6.1.112-124.190.amzn2023               amazonlinux
python3-pip.noarch                     21.3.1-2.amzn2023.0.9                  amazonlinux
Obsoleting Packages
kernel-headers.x86_64                  6.1.112-124.190.amzn2023               amazonlinux
"""


def test_apt_upgrades_parses_every_inst_line_and_tells_security_apart():
    found = apt_upgrades(APT_SIMULATE)
    assert [item["package"] for item in found] == [
        "libssl3",
        "medcircle-kernel-shim",
        "medcircle-openssl-shim",
        "medcircle-tools",
        "tzdata",
    ]
    by_name = {item["package"]: item for item in found}
    assert by_name["libssl3"]["installed"] == "3.0.15-1~deb12u1"
    assert by_name["libssl3"]["candidate"] == "3.0.16-1~deb12u1"
    assert by_name["libssl3"]["origins"] == ["Debian-Security:12/stable-security"]
    assert by_name["medcircle-tools"]["security"] is False
    assert by_name["medcircle-kernel-shim"]["security"] is True
    # a package offered by both the stable and the security suite counts as a security update
    assert by_name["tzdata"]["origins"] == ["Debian:12.11/stable", "Debian-Security:12/stable-security"]
    assert by_name["tzdata"]["security"] is True


def test_apt_upgrades_takes_lines_and_nothing():
    assert apt_upgrades(APT_SIMULATE.splitlines()) == apt_upgrades(APT_SIMULATE)
    assert apt_upgrades("") == []
    assert apt_upgrades(None) == []
    assert apt_upgrades("0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n") == []


def test_dnf_upgrades_stops_at_obsoletes_and_marks_security_as_asked():
    found = dnf_upgrades(DNF_CHECK_UPDATE, security=True)
    assert [item["package"] for item in found] == ["openssl-libs.x86_64", "kernel.x86_64", "python3-pip.noarch"]
    assert found[0]["candidate"] == "1:3.0.8-1.amzn2023.0.12"
    assert found[0]["origins"] == ["amazonlinux"]
    assert all(item["security"] for item in found)
    assert not any(item["security"] for item in dnf_upgrades(DNF_CHECK_UPDATE))


@pytest.mark.parametrize(
    ("scope", "exclude", "expected"),
    [
        ("security", [], ["libssl3", "medcircle-kernel-shim", "medcircle-openssl-shim", "tzdata"]),
        ("full", [], ["libssl3", "medcircle-kernel-shim", "medcircle-openssl-shim", "medcircle-tools", "tzdata"]),
        ("security", ["medcircle-*"], ["libssl3", "tzdata"]),
        ("full", ["tzdata", "libssl?"], ["medcircle-kernel-shim", "medcircle-openssl-shim", "medcircle-tools"]),
    ],
)
def test_select_upgrades_by_scope_and_exclude(scope, exclude, expected):
    chosen = select_upgrades(apt_upgrades(APT_SIMULATE), scope, exclude)
    assert [item["package"] for item in chosen] == expected


def test_select_upgrades_matches_dnf_names_without_the_arch():
    chosen = select_upgrades(dnf_upgrades(DNF_CHECK_UPDATE, security=True), "security", ["kernel"])
    assert [item["package"] for item in chosen] == ["openssl-libs.x86_64", "python3-pip.noarch"]


def test_select_upgrades_refuses_an_unknown_scope():
    with pytest.raises(AnsibleFilterError, match="scope must be security or full"):
        select_upgrades([], "everything")


TODAY = datetime.date(2026, 12, 1)


@pytest.mark.parametrize(
    ("value", "os_id", "version", "status"),
    [
        ({"os_id": "Debian", "os_version": "12"}, "debian", "12", "supported"),
        ({"os_id": "Amazon", "os_version": "2"}, "amzn2", "2", "end_of_life"),
        ({"os_id": "Amazon", "os_version": "2023"}, "al2023", "2023", "supported"),
        ({"os_id": "Ubuntu", "os_version": "20.04"}, "ubuntu", "20.04", "end_of_life"),
        ({"os_id": "RedHat", "os_version": "9.4"}, "rhel", "9", "supported"),
        ({"platform_name": "Amazon Linux", "platform_version": "2"}, "amzn2", "2", "end_of_life"),
        ({"image_name": "amzn2-ami-hvm-2.0.20180810-x86_64-gp2"}, "amzn2", "2", "end_of_life"),
        ({"image_name": "al2023-ami-2023.12.20260930.0-kernel-6.1-x86_64"}, "al2023", "2023", "supported"),
        ({"image_name": "my-golden-image"}, None, None, "unknown"),
    ],
)
def test_os_eol(value, os_id, version, status):
    result = os_eol(value, today=TODAY)
    assert (result["os_id"], result["version"], result["status"]) == (os_id, version, status)
    if status == "unknown":
        assert result["eol"] is None and result["days_left"] is None
    else:
        eol = datetime.date.fromisoformat(result["eol"])
        assert result["days_left"] == (eol - TODAY).days


def test_os_eol_amazon_linux_2_ends_on_2026_06_30_and_overrides_apply():
    assert os_eol({"os_id": "amazon", "os_version": "2"}, today="2026-06-29")["status"] == "supported"
    assert os_eol({"os_id": "amazon", "os_version": "2"}, today="2026-06-30")["status"] == "end_of_life"
    extended = os_eol({"os_id": "amazon", "os_version": "2"}, today=TODAY, overrides={"amzn2:2": "2027-06-30"})
    assert extended["status"] == "supported"
    assert extended["eol"] == "2027-06-30"


def test_os_eol_prefers_host_facts_over_the_image():
    result = os_eol({"os_id": "debian", "os_version": "12", "image_name": "amzn2-ami-hvm-2.0"}, today=TODAY)
    assert (result["os_id"], result["source"]) == ("debian", "host facts")


def test_os_eol_refuses_a_non_dict():
    with pytest.raises(AnsibleFilterError, match="expects a dict"):
        os_eol("amzn2")


def _instance(iid, image, state="running", **tags):
    return {"instance_id": iid, "image_id": image, "state": {"name": state}, "tags": tags}


def test_eol_fleet_rows_ordered_worst_first_with_image_names():
    instances = [
        {
            "item": "us-east-1",
            "instances": [
                _instance("i-new", "ami-al2023", Name="app-1", **{"aws:autoscaling:groupName": "medcircle-app-asg"}),
                _instance("i-old", "ami-amzn2", Name="medcircle-app"),
                _instance("i-gone", "ami-amzn2", state="terminated"),
                _instance("i-custom", "ami-custom"),
            ],
        },
        {"item": "us-west-2", "instances": []},
    ]
    images = [
        {
            "item": instances[0],
            "images": [
                {"image_id": "ami-al2023", "name": "al2023-ami-2023.12.20260930.0-kernel-6.1-x86_64"},
                {"image_id": "ami-amzn2", "name": "amzn2-ami-hvm-2.0.20180810-x86_64-gp2"},
                {"image_id": "ami-custom", "name": "golden", "description": "built in house"},
            ],
        },
        {"item": instances[1], "skipped": True},
    ]
    rows = eol_fleet(instances, images, today=TODAY)
    assert [(row["instance_id"], row["status"]) for row in rows] == [
        ("i-old", "end_of_life"),
        ("i-custom", "unknown"),
        ("i-new", "supported"),
    ]
    assert rows[0]["eol"] == "2026-06-30"
    assert rows[0]["image_name"] == "amzn2-ami-hvm-2.0.20180810-x86_64-gp2"
    assert rows[2]["asg"] == "medcircle-app-asg"
    assert eol_line(rows[0]) == (
        "i-old medcircle-app us-east-1 | amzn2 2 | END OF LIFE 2026-06-30 | image ami-amzn2 "
        "amzn2-ami-hvm-2.0.20180810-x86_64-gp2"
    )
    assert "UNKNOWN RELEASE" in eol_line(rows[1])


def test_eol_fleet_reports_a_failed_region():
    with pytest.raises(AnsibleFilterError, match="us-east-1"):
        eol_fleet([{"item": "us-east-1", "failed": True, "msg": "AccessDenied"}], [])


def test_filter_module_exports_every_filter():
    assert set(FilterModule().filters()) == {
        "apt_upgrades",
        "dnf_upgrades",
        "os_eol",
        "eol_fleet",
        "eol_line",
        "select_upgrades",
    }
