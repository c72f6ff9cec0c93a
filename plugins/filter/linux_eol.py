# -*- coding: utf-8 -*-

# Copyright: (c) 2026, MedCircle Cloud Operations
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Filters for the end-of-life report of linux_upgrade (finding 3.7): the release of a managed instance
comes from Systems Manager (the platform its agent reports), the release of the others from their image,
with the same end-of-life dates as the audit; and every instance gets the next step that moves it to a
supported release (the image path for instances of an Auto Scaling group, the fleet's group for
standalone ones)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError
from ansible_collections.medcircle.cloudops.plugins.filter.linux import os_eol

_ORDER = {"end_of_life": 0, "unknown": 1, "supported": 2}


def _platforms(ssm_results):
    """{(region, instance id): (platform name, platform version)} from looped
    medcircle.cloudops.ssm_patch_compliance_info results (``item`` is the region, or the
    ec2_instance_info result of that region). A failed or skipped region contributes nothing: its
    instances keep the release their image names."""
    found = {}
    for result in ssm_results or []:
        if result.get("failed") or result.get("skipped"):
            continue
        region = result.get("item")
        if isinstance(region, dict):  # looped over the instance results: item is that result
            region = region.get("item")
        for inst in result.get("instances") or []:
            if inst.get("managed") and inst.get("platform_name"):
                found[(region, inst.get("instance_id"))] = (inst["platform_name"], inst.get("platform_version") or "")
    return found


def next_step(row):
    """What moves an instance to a supported release (or keeps it there)."""
    group = row.get("asg") or ""
    if not group:
        return (
            "standalone: the image path cannot replace it; move it under the fleet's Auto Scaling group "
            "(ansible-playbook playbooks/provision_fleet.yml), then retire this instance"
        )
    if row.get("status") == "supported":
        return "none: the image path keeps group %s on the latest image" % group
    return (
        "run the image path for group %s (ansible-playbook playbooks/linux_upgrade.yml -e linux_upgrade_mode=image)"
        % (group)
    )


def eol_with_platform(rows, ssm_results, today=None, overrides=None):
    """The rows of ``eol_fleet`` with the release of every managed instance told from Systems Manager
    (PlatformName/PlatformVersion of DescribeInstanceInformation), the others' from their image as before.
    Each row gains ``managed``, ``platform`` (the agent's report, or empty), ``standalone`` (in no Auto
    Scaling group) and ``next_step``. Rows keep the order of ``eol_fleet``: past end of life first."""
    if not isinstance(rows, list):
        raise AnsibleFilterError(
            "eol_with_platform expects the list of rows of eol_fleet, got %s" % type(rows).__name__
        )
    platforms = _platforms(ssm_results)
    out = []
    for row in rows:
        row = dict(row)
        platform = platforms.get((row.get("region"), row.get("instance_id")))
        row["managed"] = platform is not None
        row["platform"] = " ".join(platform).strip() if platform else ""
        if platform:
            status = os_eol(
                {"platform_name": platform[0], "platform_version": platform[1], "image_name": row.get("image_name")},
                today=today,
                overrides=overrides,
            )
            if status["os_id"]:
                row.update(status)
        row["standalone"] = not row.get("asg")
        row["next_step"] = next_step(row)
        out.append(row)
    return sorted(
        out,
        key=lambda r: (
            _ORDER.get(r.get("status"), 1),
            r["days_left"] if r.get("days_left") is not None else 0,
            r.get("instance_id") or "",
        ),
    )


class FilterModule(object):
    def filters(self):
        return {"eol_with_platform": eol_with_platform, "eol_next_step": next_step}
