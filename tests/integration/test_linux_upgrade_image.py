"""Finding 3.7 closed by the image path, on the as-assessed estate.

An Auto Scaling group of two instances on the as-assessed seed's Amazon Linux 2 image of 2018 (past its end of
life, 2026-06-30) launches from a launch template that already asks for IMDSv2 and the instance profile. The audit
fails 3.7 for both instances; playbooks/linux_upgrade.yml with the image path adds a launch template version with
the latest Amazon Linux 2023 image (the public SSM parameter), runs the instance refresh (the sandbox replaces the
instances as AWS does) and waits for it; the audit then passes 3.7 for the group's new instances, which run the
new image with IMDSv2 and the profile, and are managed by Systems Manager as Amazon Linux 2023. A second run
changes nothing. The end-of-life report lists the as-assessed standalone app server with its next step.
"""

import json

import pytest
from playbook import run_module, run_playbook

from sandbox.seeds.as_assessed import OLD_AMI_NAME

PLAYBOOK = "playbooks/linux_upgrade.yml"
GROUP = "medcircle-app-asg"
TEMPLATE = "medcircle-app-lt"
PROFILE = "pytest-image-path-profile"
AL2023_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
EXTRA = {"linux_upgrade_mode": "image", "linux_upgrade_image_poll_interval": 1, "linux_upgrade_image_wait_timeout": 120}


@pytest.fixture(scope="module")
def estate(assessed_sandbox):
    """The as-assessed seed plus a launch template (old image, IMDSv2, profile, encrypted root) and a group of 2."""
    sb = assessed_sandbox
    iam, ec2 = sb.client("iam"), sb.client("ec2")
    iam.create_role(RoleName=PROFILE, AssumeRolePolicyDocument=json.dumps(TRUST))
    iam.attach_role_policy(RoleName=PROFILE, PolicyArn="arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore")
    iam.create_instance_profile(InstanceProfileName=PROFILE)
    iam.add_role_to_instance_profile(InstanceProfileName=PROFILE, RoleName=PROFILE)
    old = ec2.describe_images(Filters=[{"Name": "name", "Values": [OLD_AMI_NAME]}])["Images"][0]["ImageId"]
    subnets = ec2.describe_subnets(
        Filters=[{"Name": "tag:Name", "Values": ["medcircle-public-a", "medcircle-public-b"]}]
    )
    group_id = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["medcircle-app-sg"]}])[
        "SecurityGroups"
    ][0]["GroupId"]
    ec2.create_launch_template(
        LaunchTemplateName=TEMPLATE,
        LaunchTemplateData={
            "ImageId": old,
            "InstanceType": "t3.micro",
            "IamInstanceProfile": {"Name": PROFILE},
            "MetadataOptions": {"HttpTokens": "required", "HttpPutResponseHopLimit": 1, "HttpEndpoint": "enabled"},
            "BlockDeviceMappings": [
                {"DeviceName": "/dev/xvda", "Ebs": {"VolumeSize": 20, "VolumeType": "gp3", "Encrypted": True}}
            ],
            "SecurityGroupIds": [group_id],
            "TagSpecifications": [{"ResourceType": "instance", "Tags": [{"Key": "Role", "Value": "app"}]}],
        },
    )
    sb.client("autoscaling").create_auto_scaling_group(
        AutoScalingGroupName=GROUP,
        LaunchTemplate={"LaunchTemplateName": TEMPLATE, "Version": "$Latest"},
        MinSize=2,
        MaxSize=4,
        DesiredCapacity=2,
        VPCZoneIdentifier=",".join(s["SubnetId"] for s in subnets["Subnets"]),
        Tags=[{"Key": "Name", "Value": "medcircle-app-asg", "PropagateAtLaunch": True}],
    )
    latest = sb.client("ssm").get_parameter(Name=AL2023_PARAMETER)["Parameter"]["Value"]
    return {"old": old, "latest": latest}


def _group_instances(sb):
    ids = [
        i["InstanceId"]
        for i in sb.client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=[GROUP])[
            "AutoScalingGroups"
        ][0]["Instances"]
    ]
    reservations = sb.client("ec2").describe_instances(InstanceIds=ids)["Reservations"]
    return {i["InstanceId"]: i for r in reservations for i in r["Instances"]}


def _audit_3_7(sb):
    result = run_module(sb, "medcircle.cloudops.risk_audit", {"findings": ["3.7"], "regions": ["us-east-1"]})
    assert not result["failed"], result
    finding = result["findings"][0]
    assert finding["id"] == "3.7"
    return {r["resource_id"]: r for r in finding["resources"]}


def _failed(run):
    return f"rc={run.returncode}\n{run.stdout[-6000:]}\n{run.stderr[-3000:]}"


def test_image_path_closes_3_7_for_the_group(assessed_sandbox, estate, tmp_path):
    sb = assessed_sandbox
    before = _group_instances(sb)
    assert len(before) == 2 and {i["ImageId"] for i in before.values()} == {estate["old"]}
    audit = _audit_3_7(sb)
    for instance_id in before:
        assert audit[instance_id]["status"] == "fail", audit[instance_id]
        assert "amzn2" in audit[instance_id]["observed"]

    # check mode plans and changes nothing
    check = run_playbook(sb, PLAYBOOK, extra_vars={**EXTRA, "linux_upgrade_reports_dir": str(tmp_path)}, check=True)
    assert check.returncode == 0, _failed(check)
    assert check.task("Start a rolling instance refresh onto the new image").get("changed") is True
    assert check.task("Wait for the instance refresh").get("skipped") is True
    assert set(_group_instances(sb)) == set(before)
    assert sb.client("autoscaling").describe_instance_refreshes(AutoScalingGroupName=GROUP)["InstanceRefreshes"] == []

    run = run_playbook(sb, PLAYBOOK, extra_vars={**EXTRA, "linux_upgrade_reports_dir": str(tmp_path)})
    assert run.returncode == 0, _failed(run)
    refreshes = sb.client("autoscaling").describe_instance_refreshes(AutoScalingGroupName=GROUP)["InstanceRefreshes"]
    assert [r["Status"] for r in refreshes] == ["Successful"]
    shown = "\n".join(run.task("Show the image path")["msg"])
    assert f"refresh {refreshes[0]['InstanceRefreshId']}: Successful (100% complete)" in shown
    assert "replaced 2 instance(s)" in shown and estate["old"] in shown

    after = _group_instances(sb)
    assert len(after) == 2 and not set(after) & set(before)
    for instance in after.values():
        assert instance["ImageId"] == estate["latest"]
        assert instance["MetadataOptions"]["HttpTokens"] == "required"
        assert instance["IamInstanceProfile"]["Arn"].endswith(f"/{PROFILE}")
        assert instance["State"]["Name"] == "running"
    gone = sb.client("ec2").describe_instances(InstanceIds=list(before))["Reservations"]
    assert {i["State"]["Name"] for r in gone for i in r["Instances"]} == {"terminated"}
    info = sb.client("ssm").describe_instance_information()["InstanceInformationList"]
    platforms = {i["InstanceId"]: (i["PlatformName"], i["PlatformVersion"]) for i in info}
    assert {platforms.get(i) for i in after} == {("Amazon Linux", "2023")}

    audit = _audit_3_7(sb)
    for instance_id in after:
        assert audit[instance_id]["status"] == "pass", audit[instance_id]
        assert "al2023" in audit[instance_id]["observed"] and "Systems Manager" in audit[instance_id]["observed"]

    # the end-of-life report: the group's instances told from Systems Manager, supported; the standalone
    # as-assessed app server past end of life with its next step
    report = json.loads((tmp_path / "linux-eol.json").read_text())
    rows = {row["instance_id"]: row for row in report["instances"]}
    for instance_id in after:
        assert rows[instance_id]["status"] == "supported"
        assert rows[instance_id]["source"] == "Systems Manager" and rows[instance_id]["managed"] is True
        assert rows[instance_id]["asg"] == GROUP and rows[instance_id]["standalone"] is False
    standalone = [row for row in rows.values() if row["standalone"]]
    assert standalone and all(row["status"] == "end_of_life" for row in standalone)
    assert all("provision_fleet.yml" in row["next_step"] for row in standalone)
    assert report["summary"]["standalone"] == len(standalone)
    eol_shown = "\n".join(run.task("Show the operating systems past end of life")["msg"])
    assert all(f"{row['instance_id']} | next step: standalone" in eol_shown for row in standalone)
    assert "Standalone instances" in (tmp_path / "linux-eol.md").read_text()

    again = run_playbook(sb, PLAYBOOK, extra_vars={**EXTRA, "linux_upgrade_reports_dir": str(tmp_path)})
    assert again.returncode == 0, _failed(again)
    assert again.stats["localhost"]["changed"] == 0, again.stats
    assert "no refresh needed" in "\n".join(again.task("Show the image path")["msg"])
    assert set(_group_instances(sb)) == set(after)
    assert (
        len(sb.client("autoscaling").describe_instance_refreshes(AutoScalingGroupName=GROUP)["InstanceRefreshes"]) == 1
    )


def test_a_failed_refresh_stops_the_run_with_what_to_do(assessed_sandbox, estate, tmp_path):
    """A group whose instances are protected from scale in: the refresh waits for them (ScaleInProtectedInstances
    Wait, AWS's default) and fails; the run stops naming the cause, how to run again and how to roll back."""
    sb = assessed_sandbox
    ec2, autoscaling = sb.client("ec2"), sb.client("autoscaling")
    ec2.create_launch_template(
        LaunchTemplateName="pytest-protected-lt",
        LaunchTemplateData={"ImageId": estate["old"], "InstanceType": "t3.micro"},
    )
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName="pytest-protected-asg",
        LaunchTemplate={"LaunchTemplateName": "pytest-protected-lt", "Version": "$Latest"},
        MinSize=1,
        MaxSize=2,
        DesiredCapacity=1,
        AvailabilityZones=["us-east-1a"],
        NewInstancesProtectedFromScaleIn=True,
    )
    sb.call("PUT", "autoscaling/instance-refresh", {"step_seconds": 0.1})
    run = run_playbook(
        sb,
        PLAYBOOK,
        extra_vars={
            **EXTRA,
            "linux_upgrade_mode": "image",
            "linux_upgrade_image_asg": "pytest-protected-asg",
            "linux_upgrade_image_launch_template": "pytest-protected-lt",
            "linux_upgrade_reports_dir": str(tmp_path),
        },
    )
    assert run.returncode != 0
    failure = run.task("Stop when the refresh did not finish successfully")
    assert failure.get("failed") is True
    message = failure["msg"]
    assert message.startswith("3.7 | The instance refresh ") and message == message.strip(), message[:200]
    assert "ended Failed" in message and "protected from scale in" in message
    assert "describe-scaling-activities --auto-scaling-group-name pytest-protected-asg" in message
    assert f"linux_upgrade_image_pinned_id={estate['old']}" in message


def test_a_refresh_that_outlasts_the_wait_stops_the_run_and_goes_on(assessed_sandbox, estate, tmp_path):
    """A refresh slower than linux_upgrade_image_wait_timeout: the run stops saying it goes on in AWS and how to
    wait for it again or stop it; the refresh is left running."""
    sb = assessed_sandbox
    ec2, autoscaling = sb.client("ec2"), sb.client("autoscaling")
    ec2.create_launch_template(
        LaunchTemplateName="pytest-slow-lt",
        LaunchTemplateData={"ImageId": estate["old"], "InstanceType": "t3.micro"},
    )
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName="pytest-slow-asg",
        LaunchTemplate={"LaunchTemplateName": "pytest-slow-lt", "Version": "$Latest"},
        MinSize=1,
        MaxSize=2,
        DesiredCapacity=1,
        AvailabilityZones=["us-east-1a"],
    )
    sb.call("PUT", "autoscaling/instance-refresh", {"step_seconds": 60})
    extra = {
        **EXTRA,
        "linux_upgrade_image_asg": "pytest-slow-asg",
        "linux_upgrade_image_launch_template": "pytest-slow-lt",
        "linux_upgrade_image_wait_timeout": 2,
        "linux_upgrade_reports_dir": str(tmp_path),
    }
    try:
        run = run_playbook(sb, PLAYBOOK, extra_vars=extra)
        assert run.returncode != 0
        message = run.task("Stop when the refresh did not finish successfully")["msg"]
        assert "is still Pending" in message or "is still InProgress" in message, message
        assert "after 2 s (linux_upgrade_image_wait_timeout)" in message and "goes on in AWS" in message
        assert "cancel-instance-refresh --auto-scaling-group-name pytest-slow-asg" in message
        refreshes = autoscaling.describe_instance_refreshes(AutoScalingGroupName="pytest-slow-asg")["InstanceRefreshes"]
        assert [r["Status"] for r in refreshes] in (["Pending"], ["InProgress"])
    finally:
        sb.call("PUT", "autoscaling/instance-refresh", {"step_seconds": 0.5})
