# -*- coding: utf-8 -*-

# Copyright: (c) 2026, MedCircle Cloud Operations
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Filters for the Linux host roles: pending upgrades from apt and dnf output, and the
end-of-life status of operating systems (finding 3.7, the same table the audit uses)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import fnmatch
import re

from ansible.errors import AnsibleFilterError
from ansible_collections.medcircle.cloudops.plugins.module_utils.audit import eol as eol_mod

# apt-get -s upgrade / dist-upgrade:
#   Inst libssl3 [3.0.15-1~deb12u1] (3.0.16-1~deb12u1 Debian-Security:12/stable-security [amd64])
_APT_INST = re.compile(
    r"^Inst (?P<package>\S+) \[(?P<installed>[^\]]+)\] \((?P<candidate>\S+) (?P<origins>.*?)(?: \[[^\]]+\])?\)"
)
# dnf check-update: "openssl-libs.x86_64    1:3.0.8-1.amzn2023.0.12    amazonlinux"
_DNF_LINE = re.compile(r"^(?P<package>[^\s.]\S*)\.(?P<arch>[A-Za-z0-9_]+)\s+(?P<candidate>\S+)\s+(?P<repo>\S+)\s*$")


def _lines(text):
    if isinstance(text, (list, tuple)):
        return [str(line) for line in text]
    if text is None:
        return []
    return str(text).splitlines()


def apt_upgrades(text):
    """Upgrades of installed packages from ``apt-get -s`` output: a list of dicts with package,
    installed, candidate, origins (apt's ``Label:Version/Suite`` list) and security (an origin names
    a security source, such as ``Debian-Security:12/stable-security``)."""
    found = []
    for line in _lines(text):
        match = _APT_INST.match(line)
        if not match:
            continue
        origins = [o.strip() for o in match.group("origins").split(",") if o.strip()]
        found.append(
            {
                "package": match.group("package"),
                "installed": match.group("installed"),
                "candidate": match.group("candidate"),
                "origins": origins,
                "security": any("security" in origin.lower() for origin in origins),
            }
        )
    return found


def dnf_upgrades(text, security=False):
    """Upgrades from ``dnf check-update`` output: a list of dicts with package (name.arch),
    candidate, origins ([repository]) and security (the value of ``security``, because dnf is asked
    with ``--security`` for security-only lists)."""
    found = []
    for line in _lines(text):
        if line.startswith(("Obsoleting", "Last metadata", "Security:")) or not line.strip():
            if line.startswith("Obsoleting"):
                break
            continue
        match = _DNF_LINE.match(line)
        if not match:
            continue
        found.append(
            {
                "package": "%s.%s" % (match.group("package"), match.group("arch")),
                "installed": "",
                "candidate": match.group("candidate"),
                "origins": [match.group("repo")],
                "security": bool(security),
            }
        )
    return found


def os_eol(value, today=None, overrides=None):
    """End-of-life status of an operating system.

    ``value`` is a dict with any of ``os_id``/``os_version`` (Ansible's distribution facts or the
    audit's ids), ``platform_name``/``platform_version`` (Systems Manager), ``image_name``,
    ``image_description``, ``platform_details`` (EC2). Returns a dict with os_id, version, eol
    (ISO date or None), status (supported, end_of_life or unknown), days_left and source.
    """
    if not isinstance(value, dict):
        raise AnsibleFilterError("os_eol expects a dict, got %s" % type(value).__name__)
    if today is None:
        today = datetime.date.today()
    elif not isinstance(today, datetime.date):
        today = datetime.date.fromisoformat(str(today)[:10])
    table = eol_mod.eol_table(overrides)
    os_id, version, source = None, None, None
    distribution = str(value.get("os_id") or "").lower()
    if distribution:
        os_id, version = _from_distribution(distribution, str(value.get("os_version") or ""))
        source = "host facts"
    if not os_id and value.get("platform_name"):
        os_id, version = eol_mod.from_ssm_platform(value.get("platform_name"), value.get("platform_version"))
        source = "Systems Manager"
    if not os_id:
        os_id, version = eol_mod.detect_release(
            value.get("image_name"), value.get("image_description"), value.get("platform_details")
        )
        source = "image"
    end = eol_mod.end_of_life(os_id, version, table)
    if end is None:
        status, days_left = "unknown", None
    elif end <= today:
        status, days_left = "end_of_life", (end - today).days
    else:
        status, days_left = "supported", (end - today).days
    return {
        "os_id": os_id,
        "version": version,
        "eol": end.isoformat() if end else None,
        "status": status,
        "days_left": days_left,
        "source": source,
    }


def select_upgrades(pending, scope="security", exclude=None):
    """The upgrades a run installs: all of ``pending`` for scope ``full``, the security ones for
    ``security``; minus the packages matching ``exclude`` (shell-style patterns on the name,
    without the ``.arch`` dnf adds)."""
    if scope not in ("security", "full"):
        raise AnsibleFilterError("select_upgrades: scope must be security or full, got %r" % (scope,))
    patterns = [str(p) for p in (exclude or [])]
    chosen = []
    for item in pending or []:
        if scope == "security" and not item.get("security"):
            continue
        name = str(item.get("package", ""))
        bare = name.rsplit(".", 1)[0] if "." in name and item.get("installed") == "" else name
        if any(fnmatch.fnmatchcase(bare, p) or fnmatch.fnmatchcase(name, p) for p in patterns):
            continue
        chosen.append(item)
    return chosen


def eol_fleet(instance_results, image_results, today=None, overrides=None):
    """One row per instance with its operating system's end-of-life status, from the looped results
    of amazon.aws.ec2_instance_info (``item`` is the region) and amazon.aws.ec2_ami_info (``item`` is
    the region, or the instance result of that region). Rows
    past end of life come first, then unknown ones, then the rest, each by days left."""
    images = {}
    for result in image_results or []:
        region = result.get("item")
        if isinstance(region, dict):  # looped over the instance results: item is that result
            region = region.get("item")
        for image in result.get("images") or []:
            images[(region, image.get("image_id"))] = image
    rows = []
    for result in instance_results or []:
        region = result.get("item")
        if result.get("failed"):
            raise AnsibleFilterError("eol_fleet: reading instances in %s failed: %s" % (region, result.get("msg")))
        for inst in result.get("instances") or []:
            state = (inst.get("state") or {}).get("name")
            if state in ("terminated", "shutting-down"):
                continue
            image = images.get((region, inst.get("image_id"))) or {}
            status = os_eol(
                {
                    "image_name": image.get("name"),
                    "image_description": image.get("description"),
                    "platform_details": inst.get("platform_details"),
                },
                today=today,
                overrides=overrides,
            )
            tags = inst.get("tags") or {}
            rows.append(
                dict(
                    status,
                    instance_id=inst.get("instance_id"),
                    name=tags.get("Name", ""),
                    region=region,
                    state=state,
                    image_id=inst.get("image_id"),
                    image_name=image.get("name") or "",
                    asg=tags.get("aws:autoscaling:groupName", ""),
                )
            )
    order = {"end_of_life": 0, "unknown": 1, "supported": 2}
    return sorted(
        rows,
        key=lambda r: (order[r["status"]], r["days_left"] if r["days_left"] is not None else 0, r["instance_id"]),
    )


def eol_line(row):
    """One line for people: ``i-0abc medcircle-app us-east-1 | amzn2 2 | END OF LIFE 2026-06-30 | image ...``."""
    status = {"end_of_life": "END OF LIFE", "unknown": "UNKNOWN RELEASE", "supported": "supported"}[row["status"]]
    release = "%s %s" % (row.get("os_id") or "?", row.get("version") or "")
    when = " %s" % row["eol"] if row.get("eol") else ""
    return "%s %s %s | %s | %s%s | image %s %s" % (
        row.get("instance_id"),
        row.get("name") or "-",
        row.get("region"),
        release.strip(),
        status,
        when,
        row.get("image_id"),
        row.get("image_name") or "(name unknown)",
    )


def _from_distribution(distribution, version):
    """Map Ansible's distribution facts (or the audit's os ids) to the EOL table's keys."""
    if distribution in ("amazon", "amzn", "amzn2", "al2023"):
        if distribution == "al2023" or version.startswith("2023"):
            return "al2023", "2023"
        if distribution == "amzn2" or (version.startswith("2") and not version.startswith("2018")):
            return "amzn2", "2"
        return "amzn", "2018.03"
    if distribution in ("redhat", "rhel"):
        return "rhel", version.split(".", maxsplit=1)[0]
    if distribution == "ubuntu":
        return "ubuntu", ".".join(version.split(".")[:2])
    if distribution == "debian":
        return "debian", version.split(".", maxsplit=1)[0]
    return distribution, version


class FilterModule(object):
    def filters(self):
        return {
            "apt_upgrades": apt_upgrades,
            "dnf_upgrades": dnf_upgrades,
            "os_eol": os_eol,
            "eol_fleet": eol_fleet,
            "eol_line": eol_line,
            "select_upgrades": select_upgrades,
        }
