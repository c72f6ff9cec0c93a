"""The end-of-life report's filters (plugins/filter/linux_eol.py): the release of a managed instance comes from
Systems Manager, the others' from their image, with the audit's dates; every instance has its next step."""

import datetime

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.medcircle.cloudops.plugins.filter.linux import eol_fleet
from ansible_collections.medcircle.cloudops.plugins.filter.linux_eol import FilterModule, eol_with_platform

TODAY = datetime.date(2026, 12, 1)


def _instance(instance_id, image_id, **tags):
    return {"instance_id": instance_id, "image_id": image_id, "state": {"name": "running"}, "tags": tags}


def _rows():
    instances = [
        {
            "item": "us-east-1",
            "instances": [
                # a custom image whose name tells nothing, but the agent reports Amazon Linux 2023
                _instance("i-golden", "ami-golden", **{"aws:autoscaling:groupName": "medcircle-app-asg"}),
                # an Amazon Linux 2 image whose agent is not registered: told from the image
                _instance("i-old", "ami-amzn2", Name="medcircle-app"),
                # named Amazon Linux 2023 by its image, but the agent reports Amazon Linux 2: the agent wins
                _instance("i-liar", "ami-al2023", **{"aws:autoscaling:groupName": "medcircle-app-asg"}),
            ],
        }
    ]
    images = [
        {
            "item": instances[0],
            "images": [
                {"image_id": "ami-golden", "name": "golden-2026-11", "description": "built in house"},
                {"image_id": "ami-amzn2", "name": "amzn2-ami-hvm-2.0.20180810-x86_64-gp2"},
                {"image_id": "ami-al2023", "name": "al2023-ami-2023.12.20260930.0-kernel-6.1-x86_64"},
            ],
        }
    ]
    return instances, eol_fleet(instances, images, today=TODAY)


def test_managed_instances_take_the_platform_systems_manager_reports():
    instances, rows = _rows()
    ssm = [
        {
            "item": instances[0],
            "instances": [
                {
                    "instance_id": "i-golden",
                    "managed": True,
                    "platform_name": "Amazon Linux",
                    "platform_version": "2023",
                },
                {"instance_id": "i-liar", "managed": True, "platform_name": "Amazon Linux", "platform_version": "2"},
            ],
        }
    ]
    out = {row["instance_id"]: row for row in eol_with_platform(rows, ssm, today=TODAY)}
    assert (out["i-golden"]["os_id"], out["i-golden"]["status"], out["i-golden"]["source"]) == (
        "al2023",
        "supported",
        "Systems Manager",
    )
    assert out["i-golden"]["managed"] is True and out["i-golden"]["platform"] == "Amazon Linux 2023"
    assert (out["i-liar"]["os_id"], out["i-liar"]["status"], out["i-liar"]["eol"]) == (
        "amzn2",
        "end_of_life",
        "2026-06-30",
    )
    assert (out["i-old"]["source"], out["i-old"]["managed"], out["i-old"]["status"]) == ("image", False, "end_of_life")
    # in a group and past end of life: the image path is the next step
    assert (
        "linux_upgrade_mode=image" in out["i-liar"]["next_step"] and "medcircle-app-asg" in out["i-liar"]["next_step"]
    )
    # worst first, as eol_fleet orders them
    assert [row["instance_id"] for row in eol_with_platform(rows, ssm, today=TODAY)][-1] == "i-golden"


def test_every_instance_has_its_next_step_and_standalone_ones_go_to_the_fleet_group():
    _instances, rows = _rows()
    out = {row["instance_id"]: row for row in eol_with_platform(rows, [], today=TODAY)}
    assert out["i-old"]["standalone"] is True
    assert "provision_fleet.yml" in out["i-old"]["next_step"] and "image path cannot" in out["i-old"]["next_step"]
    assert out["i-liar"]["standalone"] is False
    assert out["i-liar"]["next_step"].startswith("none: the image path keeps group medcircle-app-asg")


def test_a_region_without_systems_manager_access_keeps_the_image_release():
    instances, rows = _rows()
    failed = [{"item": instances[0], "failed": True, "msg": "AccessDeniedException"}]
    out = {row["instance_id"]: row for row in eol_with_platform(rows, failed, today=TODAY)}
    assert out["i-golden"]["status"] == "unknown" and out["i-golden"]["managed"] is False


def test_refuses_what_is_not_rows():
    with pytest.raises(AnsibleFilterError, match="eol_with_platform"):
        eol_with_platform({"i-1": {}}, [])
    assert set(FilterModule().filters()) == {"eol_with_platform", "eol_next_step"}
