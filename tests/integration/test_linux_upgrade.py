"""playbooks/linux_upgrade.yml run as IT support runs it, against the as-assessed sandbox.

- The end-of-life report reads the estate through the EC2 API and finds the app server's Amazon Linux 2 image
  (2018) past its end of life (2026-06-30): finding 3.7.
- The host upgrade runs on a real Debian root filesystem (sandbox/rootfs.py) reached with chroot, mapped to the
  as-assessed app instance: --check changes nothing; the real run snapshots both of the instance's volumes
  through the sandbox's EC2 API, installs the two security updates and leaves the ordinary one, reports the
  reboot instead of rebooting (a chroot), and a second run changes nothing and takes no snapshot.
"""

import datetime
import json
import os

import pytest
from playbook import run_playbook

from sandbox import rootfs

PLAYBOOK = "playbooks/linux_upgrade.yml"
CLONE = "pytest-linux-upgrade-app"
SHIMS = ("medcircle-openssl-shim", "medcircle-kernel-shim", "medcircle-tools")
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="chroot and the Debian root filesystem need root")


def _app_instance(sandbox):
    ec2 = sandbox.client("ec2")
    reservations = ec2.describe_instances(Filters=[{"Name": "tag:Name", "Values": ["medcircle-app"]}])["Reservations"]
    instances = [inst for res in reservations for inst in res["Instances"] if inst["State"]["Name"] != "terminated"]
    assert len(instances) == 1, instances
    return instances[0]


def _pre_upgrade_snapshots(sandbox, instance_id):
    ec2 = sandbox.client("ec2")
    return ec2.describe_snapshots(
        OwnerIds=["self"],
        Filters=[
            {"Name": "tag:Purpose", "Values": ["pre-upgrade"]},
            {"Name": "tag:InstanceId", "Values": [instance_id]},
        ],
    )["Snapshots"]


def _failed(run):
    return f"rc={run.returncode}\n{run.stdout[-6000:]}\n{run.stderr[-3000:]}"


def test_eol_report_finds_amazon_linux_2_past_end_of_life(assessed_sandbox, tmp_path):
    app = _app_instance(assessed_sandbox)
    run = run_playbook(
        assessed_sandbox,
        PLAYBOOK,
        extra_vars={"linux_upgrade_mode": "eol", "linux_upgrade_reports_dir": str(tmp_path)},
    )
    assert run.returncode == 0, _failed(run)
    report = json.loads((tmp_path / "linux-eol.json").read_text())
    rows = {row["instance_id"]: row for row in report["instances"]}
    assert app["InstanceId"] in rows
    row = rows[app["InstanceId"]]
    assert (row["os_id"], row["version"], row["eol"]) == ("amzn2", "2", "2026-06-30")
    expected = "end_of_life" if datetime.date.today() >= datetime.date(2026, 6, 30) else "supported"
    assert row["status"] == expected
    assert row["image_name"] == "amzn2-ami-hvm-2.0.20180810-x86_64-gp2"
    assert report["summary"]["instances"] == len(rows)
    markdown = (tmp_path / "linux-eol.md").read_text()
    assert app["InstanceId"] in markdown
    shown = run.task("Show the operating systems past end of life")["msg"]
    assert any(app["InstanceId"] in line for line in shown[1:]), shown


@pytest.fixture
def app_root(tmp_path):
    root = rootfs.clone(CLONE, fresh=True)
    yield root
    rootfs.remove(CLONE)


def _inventory(tmp_path, root, instance_id):
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(
        json.dumps(
            {
                "linux": {
                    "hosts": {
                        "medcircle-app": {
                            "ansible_connection": "community.general.chroot",
                            "ansible_host": str(root),
                            "ansible_python_interpreter": "/usr/bin/python3",
                            "instance_id": instance_id,
                            "ec2_region": "us-east-1",
                        }
                    }
                }
            }
        )
    )
    return str(inventory)


def _shim_versions(root):
    installed = rootfs.installed_packages(root)
    return {name: installed.get(name) for name in SHIMS}


@needs_root
def test_host_upgrade_snapshots_then_installs_security_updates_once(assessed_sandbox, app_root, tmp_path):
    app = _app_instance(assessed_sandbox)
    iid = app["InstanceId"]
    inventory = _inventory(tmp_path, app_root, iid)
    extra = {"linux_upgrade_hosts": "linux", "linux_upgrade_health_command": "dpkg --audit"}
    before = _shim_versions(app_root)
    assert before == {"medcircle-openssl-shim": "1.0", "medcircle-kernel-shim": "1.0", "medcircle-tools": "1.0"}
    assert _pre_upgrade_snapshots(assessed_sandbox, iid) == []

    # --check: the plan, and nothing changes on the host or in AWS
    check = run_playbook(assessed_sandbox, PLAYBOOK, "-i", inventory, extra_vars=extra, check=True)
    assert check.returncode == 0, _failed(check)
    plan = check.task("Choose the upgrades to install", host="medcircle-app")["ansible_facts"]
    chosen = plan["linux_upgrade_selected"]
    assert sorted(item["package"] for item in chosen) == ["medcircle-kernel-shim", "medcircle-openssl-shim"]
    assert _shim_versions(app_root) == before
    assert _pre_upgrade_snapshots(assessed_sandbox, iid) == []

    # the real run: snapshots of both volumes first, then the security updates only
    run = run_playbook(assessed_sandbox, PLAYBOOK, "-i", inventory, extra_vars=extra)
    assert run.returncode == 0, _failed(run)
    snapshots = _pre_upgrade_snapshots(assessed_sandbox, iid)
    volumes = {m["Ebs"]["VolumeId"] for m in app["BlockDeviceMappings"]}
    assert {snap["VolumeId"] for snap in snapshots} == volumes
    assert len(snapshots) == 2
    assert all({"Key": "Finding", "Value": "3.8"} in snap["Tags"] for snap in snapshots)
    assert _shim_versions(app_root) == {
        "medcircle-openssl-shim": "1.1",
        "medcircle-kernel-shim": "1.1",
        "medcircle-tools": "1.0",
    }
    result = run.task("Record the result", host="medcircle-app")["ansible_facts"]["linux_upgrade_result"]
    assert result["reboot_required"] is True
    assert result["rebooted"] is False
    assert sorted(result["snapshots"]) == sorted(snap["SnapshotId"] for snap in snapshots)
    assert [item["package"] for item in result["still_pending"]] == ["medcircle-tools"]
    assert (app_root / "run" / "reboot-required").exists()  # /var/run links to /run inside the root
    reboot_note = run.task("Say that a reboot is still required", host="medcircle-app")["msg"]
    assert "REBOOT REQUIRED" in reboot_note and "medcircle-kernel-shim" in reboot_note
    assert "\n" not in reboot_note and reboot_note.endswith(". Reboot it in the next maintenance window."), reboot_note
    # one summary line, then one line per upgraded package
    shown = run.task("Show the upgrade", host="medcircle-app")["msg"]
    assert shown[0].startswith("3.8 | medcircle-app | ") and "| upgraded 2 package(s) | still pending: 1" in shown[0]
    assert sorted(shown[1:]) == ["medcircle-kernel-shim 1.0 -> 1.1", "medcircle-openssl-shim 1.0 -> 1.1"], shown

    # again: nothing to do, nothing changed, no new snapshot
    again = run_playbook(assessed_sandbox, PLAYBOOK, "-i", inventory, extra_vars=extra)
    assert again.returncode == 0, _failed(again)
    assert again.stats["medcircle-app"]["changed"] == 0
    assert len(_pre_upgrade_snapshots(assessed_sandbox, iid)) == 2


def test_bad_scope_stops_before_any_change(assessed_sandbox, tmp_path):
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(json.dumps({"linux": {"hosts": {"somewhere": {"ansible_connection": "local"}}}}))
    run = run_playbook(
        assessed_sandbox,
        PLAYBOOK,
        "-i",
        str(inventory),
        extra_vars={"linux_upgrade_hosts": "linux", "linux_upgrade_scope": "everything"},
    )
    assert run.returncode != 0
    failure = run.task("Validating arguments", host="somewhere")
    assert failure.get("failed")
    assert "linux_upgrade_scope" in json.dumps(failure)


# The image path on the hardened estate (already on Amazon Linux 2023, an older build): the sandbox runs the
# instance refresh as AWS does (sandbox/additions/autoscaling_instance_refresh.py) and the role waits for it.
# The as-assessed path (Amazon Linux 2 -> 2023, audit 3.7 before and after) is test_linux_upgrade_image.py.
IMAGE_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"


@pytest.fixture(scope="module")
def hardened_sandbox():
    from sandbox_client import SandboxClient

    instance = SandboxClient.start(seed="hardened")
    try:
        yield instance
    finally:
        instance.stop()


def _template(sandbox):
    ec2 = sandbox.client("ec2")
    template = ec2.describe_launch_templates(LaunchTemplateNames=["medcircle-app-lt"])["LaunchTemplates"][0]
    versions = ec2.describe_launch_template_versions(LaunchTemplateName="medcircle-app-lt")["LaunchTemplateVersions"]
    by_number = {v["VersionNumber"]: v["LaunchTemplateData"] for v in versions}
    return template, by_number


def _refreshes(sandbox):
    autoscaling = sandbox.client("autoscaling")
    return autoscaling.describe_instance_refreshes(AutoScalingGroupName="medcircle-app-asg")["InstanceRefreshes"]


def test_image_path_adds_the_latest_image_and_starts_one_refresh(hardened_sandbox, tmp_path):
    latest = hardened_sandbox.client("ssm").get_parameter(Name=IMAGE_PARAMETER)["Parameter"]["Value"]
    template, versions = _template(hardened_sandbox)
    before_version = template["LatestVersionNumber"]
    old_image = versions[before_version]["ImageId"]
    assert old_image != latest, "the hardened seed should start on an older Amazon Linux 2023 image"
    extra = {
        "linux_upgrade_mode": "image",
        "linux_upgrade_reports_dir": str(tmp_path),
        "linux_upgrade_image_poll_interval": 1,
    }

    check = run_playbook(hardened_sandbox, PLAYBOOK, extra_vars=extra, check=True)
    assert check.returncode == 0, _failed(check)
    assert check.task("Add a launch template version with the latest image").get("changed") is True
    assert check.task("Start a rolling instance refresh onto the new image").get("changed") is True
    assert _template(hardened_sandbox)[0]["LatestVersionNumber"] == before_version
    assert _refreshes(hardened_sandbox) == []

    run = run_playbook(hardened_sandbox, PLAYBOOK, extra_vars=extra)
    assert run.returncode == 0, _failed(run)
    template, versions = _template(hardened_sandbox)
    assert template["LatestVersionNumber"] == before_version + 1
    assert template["DefaultVersionNumber"] == before_version + 1
    new_data = versions[before_version + 1]
    assert new_data["ImageId"] == latest
    # everything else of the hardened template is kept (IMDSv2, instance profile, encrypted volumes)
    for key in ("MetadataOptions", "IamInstanceProfile", "BlockDeviceMappings", "InstanceType"):
        assert new_data.get(key) == versions[before_version].get(key), key
    shown = "\n".join(run.task("Show the image path")["msg"])
    refreshes = _refreshes(hardened_sandbox)
    assert len(refreshes) == 1
    assert refreshes[0]["Status"] == "Successful"
    assert refreshes[0]["Preferences"]["MinHealthyPercentage"] == 90
    assert refreshes[0]["Preferences"]["SkipMatching"] is True
    assert latest in shown and refreshes[0]["InstanceRefreshId"] in shown
    assert f"refresh {refreshes[0]['InstanceRefreshId']}: Successful" in shown
    # the group's instances were replaced and run the latest image
    ec2 = hardened_sandbox.client("ec2")
    reservations = ec2.describe_instances(
        Filters=[
            {"Name": "tag:aws:autoscaling:groupName", "Values": ["medcircle-app-asg"]},
            {"Name": "instance-state-name", "Values": ["running"]},
        ]
    )["Reservations"]
    assert {i["ImageId"] for r in reservations for i in r["Instances"]} == {latest}
    report = json.loads((tmp_path / "linux-eol.json").read_text())
    assert report["summary"]["end_of_life"] == 0

    again = run_playbook(hardened_sandbox, PLAYBOOK, extra_vars=extra)
    assert again.returncode == 0, _failed(again)
    assert again.task("Add a launch template version with the latest image").get("skipped") is True
    assert again.task("Start a rolling instance refresh onto the new image").get("skipped") is True
    assert "no refresh needed" in "\n".join(again.task("Show the image path")["msg"])
    assert again.stats["localhost"]["changed"] == 0, again.stats
    assert _template(hardened_sandbox)[0]["LatestVersionNumber"] == before_version + 1
    assert len(_refreshes(hardened_sandbox)) == 1
