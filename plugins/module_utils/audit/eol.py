# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""End-of-life dates of Linux releases (finding 3.7), and how to tell the
release of an instance from its AMI name or from Systems Manager.

The dates are the end of standard/maintenance support that the vendors
publish. ``eol_overrides`` (module option) adds or replaces entries, keyed
``<os id>:<version>`` like the table.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import re

# os id:version -> end of (standard) support, ISO date.
EOL_DATES = {
    "amzn:2018.03": "2023-12-31",
    "amzn2:2": "2026-06-30",
    "al2023:2023": "2029-06-30",
    "ubuntu:18.04": "2023-05-31",
    "ubuntu:20.04": "2025-05-31",
    "ubuntu:22.04": "2027-04-30",
    "ubuntu:24.04": "2029-04-30",
    "debian:10": "2024-06-30",
    "debian:11": "2026-08-31",
    "debian:12": "2028-06-30",
    "debian:13": "2030-06-30",
    "rhel:7": "2024-06-30",
    "rhel:8": "2029-05-31",
    "rhel:9": "2032-05-31",
    "rhel:10": "2035-05-31",
}

DEBIAN_CODENAMES = {"buster": "10", "bullseye": "11", "bookworm": "12", "trixie": "13"}
UBUNTU_CODENAMES = {"bionic": "18.04", "focal": "20.04", "jammy": "22.04", "noble": "24.04"}

_PATTERNS = [
    (re.compile(r"\bal2023\b|amazon linux 2023|\bamzn2023\b", re.I), lambda m: ("al2023", "2023")),
    (re.compile(r"\bamzn2\b|amazon linux 2\b|\bal2\b", re.I), lambda m: ("amzn2", "2")),
    (re.compile(r"\bamzn-ami\b|amazon linux ami|amazon linux 2018", re.I), lambda m: ("amzn", "2018.03")),
    (re.compile(r"ubuntu[^0-9]*(\d{2}\.\d{2})", re.I), lambda m: ("ubuntu", m.group(1))),
    (re.compile(r"\b(bionic|focal|jammy|noble)\b", re.I), lambda m: ("ubuntu", UBUNTU_CODENAMES[m.group(1).lower()])),
    (re.compile(r"debian[^0-9a-z]*(\d{1,2})\b", re.I), lambda m: ("debian", m.group(1))),
    (
        re.compile(r"\b(buster|bullseye|bookworm|trixie)\b", re.I),
        lambda m: ("debian", DEBIAN_CODENAMES[m.group(1).lower()]),
    ),
    (re.compile(r"\b(?:rhel|red ?hat[a-z ]*?)[-_ ]?(\d{1,2})(?:\.\d+)?\b", re.I), lambda m: ("rhel", m.group(1))),
]


def eol_table(overrides=None):
    """The EOL table with ``overrides`` ({'os:version': 'YYYY-MM-DD'}) applied."""
    table = dict(EOL_DATES)
    for key, value in (overrides or {}).items():
        table[str(key)] = str(value)
    return table


def detect_release(*texts):
    """(os_id, version) from the first text (AMI name, description, platform) that names a release.

    Returns (None, None) when none does.
    """
    for text in texts:
        if not text:
            continue
        for pattern, build in _PATTERNS:
            match = pattern.search(str(text))
            if match:
                return build(match)
    return None, None


def from_ssm_platform(name, version):
    """(os_id, version) from Systems Manager's PlatformName / PlatformVersion."""
    if not name:
        return None, None
    low = name.lower()
    version = str(version or "")
    if "amazon linux" in low:
        if version.startswith("2023"):
            return "al2023", "2023"
        if version.startswith("2") and not version.startswith("2018"):
            return "amzn2", "2"
        return "amzn", "2018.03"
    if "ubuntu" in low:
        return "ubuntu", ".".join(version.split(".")[:2])
    if "debian" in low:
        return "debian", version.split(".", maxsplit=1)[0]
    if "red hat" in low or "rhel" in low:
        return "rhel", version.split(".", maxsplit=1)[0]
    return detect_release(name + " " + version)


def end_of_life(os_id, version, table=None):
    """The EOL date (datetime.date) of a release, or None when the table does not know it."""
    if not os_id:
        return None
    table = table if table is not None else EOL_DATES
    value = table.get("%s:%s" % (os_id, version))
    if value is None:
        return None
    return datetime.date.fromisoformat(str(value)[:10])
