"""Auto Scaling instance refresh in the sandbox (sandbox/additions/autoscaling_instance_refresh.py): the refresh
really happens, step by step, as AWS runs it: Pending, InProgress in batches that honour MinHealthyPercentage,
Successful; replacements launched from the launch template version; cancel, protected instances and failed
launches as AWS reports them."""

import json
import time

import pytest
from botocore.exceptions import ClientError

AL2023_PARAMETER = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
OLD_AMI_NAME = "amzn2-ami-hvm-2.0.20180810-x86_64-gp2"
GROUP = "pytest-refresh-asg"
TEMPLATE = "pytest-refresh-lt"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
DONE = ("Successful", "Failed", "Cancelled", "RollbackSuccessful", "RollbackFailed")


def _images(sb):
    ec2 = sb.client("ec2")
    old = ec2.describe_images(Owners=["amazon"], Filters=[{"Name": "name", "Values": [OLD_AMI_NAME]}])["Images"]
    old_id = old[0]["ImageId"] if old else ec2.register_image(Name=OLD_AMI_NAME, RootDeviceName="/dev/xvda")["ImageId"]
    new_id = sb.client("ssm").get_parameter(Name=AL2023_PARAMETER)["Parameter"]["Value"]
    return old_id, new_id


def _estate(sb, capacity, *, protect_new=False):
    """A launch template (v1 old image, v2 AL2023 with IMDSv2, profile, encrypted KMS root, a group, tags) and
    an Auto Scaling group of ``capacity`` instances on v1 over the default VPC's subnets."""
    iam, ec2, autoscaling = sb.client("iam"), sb.client("ec2"), sb.client("autoscaling")
    iam.create_role(RoleName="pytest-refresh-role", AssumeRolePolicyDocument=json.dumps(TRUST))
    iam.attach_role_policy(
        RoleName="pytest-refresh-role", PolicyArn="arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
    )
    iam.create_instance_profile(InstanceProfileName="pytest-refresh-profile")
    iam.add_role_to_instance_profile(InstanceProfileName="pytest-refresh-profile", RoleName="pytest-refresh-role")
    key = sb.client("kms").create_key()["KeyMetadata"]["Arn"]
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]
    subnets = sorted(subnets, key=lambda s: s["AvailabilityZone"])[:2]
    group_id = ec2.create_security_group(GroupName="pytest-refresh-sg", Description="app", VpcId=vpc)["GroupId"]
    old, new = _images(sb)
    ec2.create_launch_template(
        LaunchTemplateName=TEMPLATE, LaunchTemplateData={"ImageId": old, "InstanceType": "t3.micro"}
    )
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName=GROUP,
        LaunchTemplate={"LaunchTemplateName": TEMPLATE, "Version": "$Latest"},
        MinSize=capacity,
        MaxSize=capacity * 2,
        DesiredCapacity=capacity,
        VPCZoneIdentifier=",".join(s["SubnetId"] for s in subnets),
        NewInstancesProtectedFromScaleIn=protect_new,
        Tags=[{"Key": "Environment", "Value": "prod", "PropagateAtLaunch": True}],
    )
    ec2.create_launch_template_version(
        LaunchTemplateName=TEMPLATE,
        SourceVersion="1",
        LaunchTemplateData={
            "ImageId": new,
            "IamInstanceProfile": {"Name": "pytest-refresh-profile"},
            "MetadataOptions": {"HttpTokens": "required", "HttpEndpoint": "enabled"},
            "BlockDeviceMappings": [
                {
                    "DeviceName": "/dev/xvda",
                    "Ebs": {"VolumeSize": 20, "VolumeType": "gp3", "Encrypted": True, "KmsKeyId": key},
                }
            ],
            "NetworkInterfaces": [{"DeviceIndex": 0, "AssociatePublicIpAddress": False, "Groups": [group_id]}],
            "TagSpecifications": [{"ResourceType": "instance", "Tags": [{"Key": "Role", "Value": "app"}]}],
        },
    )
    return {"old": old, "new": new, "key": key, "group": group_id, "subnets": subnets}


def _members(sb):
    group = sb.client("autoscaling").describe_auto_scaling_groups(AutoScalingGroupNames=[GROUP])["AutoScalingGroups"]
    return group[0]["Instances"]


def _instances(sb, ids):
    reservations = sb.client("ec2").describe_instances(InstanceIds=list(ids))["Reservations"]
    return {i["InstanceId"]: i for r in reservations for i in r["Instances"]}


def _watch(sb, timeout=30.0):
    """Poll DescribeInstanceRefreshes until the newest refresh ends; every distinct state seen, in order."""
    autoscaling = sb.client("autoscaling")
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        refresh = autoscaling.describe_instance_refreshes(AutoScalingGroupName=GROUP)["InstanceRefreshes"][0]
        state = (refresh["Status"], refresh["PercentageComplete"], refresh["InstancesToUpdate"])
        if not seen or seen[-1][0] != state:
            seen.append((state, refresh))
        if refresh["Status"] in DONE:
            return [s for s, _ in seen], refresh
        time.sleep(0.1)
    raise AssertionError(f"the refresh did not end in {timeout} s: {seen[-1]}")


def _step(sb, seconds):
    sb.call("PUT", "autoscaling/instance-refresh", {"step_seconds": seconds})


def test_refresh_replaces_the_group_in_batches_from_the_template(clean_sandbox):
    sb = clean_sandbox
    estate = _estate(sb, 4)
    before = [m["InstanceId"] for m in _members(sb)]
    assert len(before) == 4
    # EC2 termination protection does not stop Auto Scaling from replacing an instance
    sb.client("ec2").modify_instance_attribute(InstanceId=before[0], DisableApiTermination={"Value": True})
    autoscaling = sb.client("autoscaling")
    refresh_id = autoscaling.start_instance_refresh(
        AutoScalingGroupName=GROUP, Preferences={"MinHealthyPercentage": 50, "SkipMatching": True}
    )["InstanceRefreshId"]
    states, final = _watch(sb)
    assert final["InstanceRefreshId"] == refresh_id
    assert states[0] == ("Pending", 0, 4)
    # 50 % of 4 must stay healthy: two at a time, so progress shows 0, then 50, then 100 %
    assert [s for s in states if s[0] == "InProgress"][-1] == ("InProgress", 50, 2)
    assert ("InProgress", 0, 4) in states
    assert states[-1] == ("Successful", 100, 0)
    assert final["ProgressDetails"]["LivePoolProgress"] == {"PercentageComplete": 100, "InstancesToUpdate": 0}
    assert final["EndTime"] >= final["StartTime"]

    members = _members(sb)
    after = [m["InstanceId"] for m in members]
    assert len(after) == 4 and not set(after) & set(before)
    assert {m["LifecycleState"] for m in members} == {"InService"}
    old = _instances(sb, before)
    assert {i["State"]["Name"] for i in old.values()} == {"terminated"}
    zones = {s["SubnetId"]: s["AvailabilityZone"] for s in estate["subnets"]}
    for instance in _instances(sb, after).values():
        assert instance["ImageId"] == estate["new"]
        assert instance["MetadataOptions"]["HttpTokens"] == "required"
        assert instance["IamInstanceProfile"]["Arn"].endswith("/pytest-refresh-profile")
        assert [g["GroupId"] for g in instance["SecurityGroups"]] == [estate["group"]]
        assert (
            instance["SubnetId"] in zones and instance["Placement"]["AvailabilityZone"] == zones[instance["SubnetId"]]
        )
        tags = {t["Key"]: t["Value"] for t in instance["Tags"]}
        assert tags["aws:autoscaling:groupName"] == GROUP
        assert tags["Environment"] == "prod" and tags["Role"] == "app"
        assert tags["aws:ec2launchtemplate:version"] == "2"
        volumes = [b["Ebs"]["VolumeId"] for b in instance["BlockDeviceMappings"]]
        described = sb.client("ec2").describe_volumes(VolumeIds=volumes)["Volumes"]
        assert [(v["Size"], v["Encrypted"], v["KmsKeyId"]) for v in described] == [(20, True, estate["key"])]
    # the replacements spread over both subnets of the group
    assert len({i["SubnetId"] for i in _instances(sb, after).values()}) == 2
    # they register with Systems Manager (their profile allows it) as Amazon Linux 2023
    info = sb.client("ssm").describe_instance_information()["InstanceInformationList"]
    platforms = {i["InstanceId"]: (i["PlatformName"], i["PlatformVersion"], i["PingStatus"]) for i in info}
    assert {platforms.get(i) for i in after} == {("Amazon Linux", "2023", "Online")}

    # a second refresh finds every instance on the desired version: nothing to replace
    autoscaling.start_instance_refresh(AutoScalingGroupName=GROUP, Preferences={"SkipMatching": True})
    states, final = _watch(sb)
    assert states[-1] == ("Successful", 100, 0)
    assert sorted(m["InstanceId"] for m in _members(sb)) == sorted(after)
    listed = autoscaling.describe_instance_refreshes(AutoScalingGroupName=GROUP)["InstanceRefreshes"]
    assert [r["InstanceRefreshId"] for r in listed][1] == refresh_id  # newest first


def test_min_healthy_100_replaces_one_at_a_time(clean_sandbox):
    sb = clean_sandbox
    _estate(sb, 3)
    sb.client("autoscaling").start_instance_refresh(
        AutoScalingGroupName=GROUP, Preferences={"MinHealthyPercentage": 100}
    )
    states, _final = _watch(sb)
    in_progress = [s for s in states if s[0] == "InProgress"]
    assert [s[2] for s in in_progress] == [3, 2, 1]
    assert states[-1] == ("Successful", 100, 0)


def test_refresh_advances_without_anyone_polling(clean_sandbox):
    sb = clean_sandbox
    estate = _estate(sb, 2)
    sb.client("autoscaling").start_instance_refresh(AutoScalingGroupName=GROUP)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        images = {i["ImageId"] for i in _instances(sb, [m["InstanceId"] for m in _members(sb)]).values()}
        if images == {estate["new"]}:
            break
        time.sleep(0.5)
    assert images == {estate["new"]}


def test_cancel_stops_the_refresh_and_keeps_what_was_replaced(clean_sandbox):
    sb = clean_sandbox
    _estate(sb, 4)
    _step(sb, 1.0)
    autoscaling = sb.client("autoscaling")
    autoscaling.start_instance_refresh(AutoScalingGroupName=GROUP, Preferences={"MinHealthyPercentage": 75})
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        refresh = autoscaling.describe_instance_refreshes(AutoScalingGroupName=GROUP)["InstanceRefreshes"][0]
        if refresh["Status"] == "InProgress" and refresh["PercentageComplete"] >= 25:
            break
        time.sleep(0.1)
    assert refresh["Status"] == "InProgress", refresh
    autoscaling.cancel_instance_refresh(AutoScalingGroupName=GROUP)
    refresh = autoscaling.describe_instance_refreshes(AutoScalingGroupName=GROUP)["InstanceRefreshes"][0]
    assert refresh["Status"] in ("Cancelling", "Cancelled")
    _states, final = _watch(sb)
    assert final["Status"] == "Cancelled"
    assert 0 < final["PercentageComplete"] < 100
    images = [i["ImageId"] for i in _instances(sb, [m["InstanceId"] for m in _members(sb)]).values()]
    assert len(images) == 4 and len(set(images)) == 2  # some replaced, the rest untouched
    with pytest.raises(ClientError, match="ActiveInstanceRefreshNotFound"):
        autoscaling.cancel_instance_refresh(AutoScalingGroupName=GROUP)


def test_scale_in_protection_is_waited_for_ignored_or_refreshed(clean_sandbox):
    sb = clean_sandbox
    estate = _estate(sb, 2)
    _step(sb, 0.05)
    autoscaling = sb.client("autoscaling")
    protected = _members(sb)[0]["InstanceId"]
    autoscaling.set_instance_protection(AutoScalingGroupName=GROUP, InstanceIds=[protected], ProtectedFromScaleIn=True)
    # Wait (the default): the unprotected one is replaced, then the refresh times out on the protected one
    autoscaling.start_instance_refresh(AutoScalingGroupName=GROUP, Preferences={"MinHealthyPercentage": 50})
    _states, final = _watch(sb)
    assert final["Status"] == "Failed"
    assert protected in final["StatusReason"] and "protected from scale in" in final["StatusReason"]
    assert final["PercentageComplete"] == 50
    # Ignore: the protected instance is left as it is and the refresh succeeds
    autoscaling.start_instance_refresh(
        AutoScalingGroupName=GROUP, Preferences={"ScaleInProtectedInstances": "Ignore", "SkipMatching": True}
    )
    _states, final = _watch(sb)
    assert final["Status"] == "Successful"
    assert protected in [m["InstanceId"] for m in _members(sb)]
    # Refresh: replaced like the others
    autoscaling.start_instance_refresh(
        AutoScalingGroupName=GROUP, Preferences={"ScaleInProtectedInstances": "Refresh", "SkipMatching": True}
    )
    _states, final = _watch(sb)
    assert final["Status"] == "Successful"
    members = [m["InstanceId"] for m in _members(sb)]
    assert protected not in members
    assert {i["ImageId"] for i in _instances(sb, members).values()} == {estate["new"]}


def test_a_launch_that_fails_fails_the_refresh_with_the_reason(clean_sandbox):
    sb = clean_sandbox
    estate = _estate(sb, 2)
    sb.client("ec2").create_launch_template_version(
        LaunchTemplateName=TEMPLATE, SourceVersion="2", LaunchTemplateData={"ImageId": "ami-0123456789abcdef0"}
    )
    sb.client("autoscaling").start_instance_refresh(AutoScalingGroupName=GROUP)
    _states, final = _watch(sb)
    assert final["Status"] == "Failed"
    assert "ami-0123456789abcdef0" in final["StatusReason"] and "Launching EC2 instance failed" in final["StatusReason"]
    # nothing was terminated for a replacement that never launched
    members = [m["InstanceId"] for m in _members(sb)]
    assert len(members) == 2
    assert {i["ImageId"] for i in _instances(sb, members).values()} == {estate["old"]}


def test_start_refuses_a_second_refresh_and_bad_preferences(clean_sandbox):
    sb = clean_sandbox
    _estate(sb, 1)
    _step(sb, 2.0)
    autoscaling = sb.client("autoscaling")
    with pytest.raises(ClientError, match="MaxHealthyPercentage"):
        autoscaling.start_instance_refresh(AutoScalingGroupName=GROUP, Preferences={"MaxHealthyPercentage": 150})
    with pytest.raises(ClientError, match="MinHealthyPercentage must be between 0 and 100"):
        autoscaling.start_instance_refresh(AutoScalingGroupName=GROUP, Preferences={"MinHealthyPercentage": 101})
    autoscaling.start_instance_refresh(AutoScalingGroupName=GROUP)
    with pytest.raises(ClientError, match="InstanceRefreshInProgress"):
        autoscaling.start_instance_refresh(AutoScalingGroupName=GROUP)
    # a cancel before the refresh leaves Pending ends it at once
    autoscaling.cancel_instance_refresh(AutoScalingGroupName=GROUP)
    refresh = autoscaling.describe_instance_refreshes(AutoScalingGroupName=GROUP)["InstanceRefreshes"][0]
    assert refresh["Status"] == "Cancelled" and refresh["PercentageComplete"] == 0


def test_the_al2023_parameter_names_an_image_of_every_region(sandbox):
    for region in ("us-east-1", "us-west-2", "eu-west-1", "eu-central-1", "ap-southeast-2"):
        image = sandbox.client("ssm", region).get_parameter(Name=AL2023_PARAMETER)["Parameter"]["Value"]
        found = sandbox.client("ec2", region).describe_images(ImageIds=[image])["Images"]
        assert [i["Name"].startswith("al2023-ami-") for i in found] == [True], (region, image)


def test_rollback_undoes_a_refresh_with_a_desired_configuration_only(clean_sandbox):
    sb = clean_sandbox
    estate = _estate(sb, 2)
    autoscaling = sb.client("autoscaling")
    # on $Latest (the group of the image path) AWS cannot roll back
    _step(sb, 2.0)
    autoscaling.start_instance_refresh(AutoScalingGroupName=GROUP)
    with pytest.raises(ClientError, match="IrreversibleInstanceRefresh"):
        autoscaling.rollback_instance_refresh(AutoScalingGroupName=GROUP)
    autoscaling.cancel_instance_refresh(AutoScalingGroupName=GROUP)
    _watch(sb)
    # on a pinned version with a desired configuration it can: the replacements are undone
    autoscaling.update_auto_scaling_group(
        AutoScalingGroupName=GROUP, LaunchTemplate={"LaunchTemplateName": TEMPLATE, "Version": "1"}
    )
    _step(sb, 0.5)
    autoscaling.start_instance_refresh(
        AutoScalingGroupName=GROUP,
        DesiredConfiguration={"LaunchTemplate": {"LaunchTemplateName": TEMPLATE, "Version": "2"}},
        Preferences={"MinHealthyPercentage": 50},
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        refresh = autoscaling.describe_instance_refreshes(AutoScalingGroupName=GROUP)["InstanceRefreshes"][0]
        if refresh["PercentageComplete"] >= 50:
            break
        time.sleep(0.05)
    assert refresh["Status"] == "InProgress", refresh
    autoscaling.rollback_instance_refresh(AutoScalingGroupName=GROUP)
    _states, final = _watch(sb)
    assert final["Status"] == "RollbackSuccessful", final
    assert final["RollbackDetails"]["PercentageCompleteOnRollback"] >= 50
    assert final["PercentageComplete"] == 0
    members = [m["InstanceId"] for m in _members(sb)]
    assert len(members) == 2
    assert {i["ImageId"] for i in _instances(sb, members).values()} == {estate["old"]}
    group = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[GROUP])["AutoScalingGroups"][0]
    assert group["LaunchTemplate"]["Version"] == "1"
