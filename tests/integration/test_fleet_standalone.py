"""playbooks/provision_fleet.yml with ec2_fleet_mode: standalone, in the sandbox.

The standalone instances run from the fleet's launch template and are placed in the first configured subnet
(medcircle-public-a or -b, in medcircle-vpc, never the default VPC) with the configured security group
(medcircle-app-sg). A subnet that gives every instance a public IP is refused before anything is made (the launch's
own interface cannot turn it off); with it turned off, the instances have no public IP.
A second run changes nothing; check mode launches nothing. Security groups that do not exist are
named, in the order given, and a subnet name that does not exist is named, before anything is made (the
instance role and keys included).
"""

import pytest
from playbook import run_playbook
from sandbox_client import SandboxClient

REGION = "us-east-1"
FLEET = "medcircle-app"
SUBNETS = ["medcircle-public-a", "medcircle-public-b"]
GROUP = "medcircle-app-sg"
STANDALONE = {"ec2_fleet_mode": "standalone", "ec2_fleet_standalone_count": 2}


@pytest.fixture(scope="module")
def estate():
    instance = SandboxClient.start(seed="as-assessed")
    try:
        yield instance
    finally:
        instance.stop()


def fleet_instances(sandbox):
    ec2 = sandbox.client("ec2", REGION)
    found = ec2.describe_instances(
        Filters=[
            {"Name": "tag:Fleet", "Values": [FLEET]},
            {"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]},
        ]
    )
    return [i for r in found["Reservations"] for i in r["Instances"]]


def network(sandbox):
    ec2 = sandbox.client("ec2", REGION)
    subnets = ec2.describe_subnets(Filters=[{"Name": "tag:Name", "Values": SUBNETS}])["Subnets"]
    vpc_ids = {s["VpcId"] for s in subnets}
    assert len(vpc_ids) == 1, subnets
    (vpc_id,) = vpc_ids
    groups = ec2.describe_security_groups(
        Filters=[{"Name": "group-name", "Values": [GROUP]}, {"Name": "vpc-id", "Values": [vpc_id]}]
    )["SecurityGroups"]
    assert len(groups) == 1, groups
    # The role places the standalone instances in the first subnet by availability zone.
    first = sorted(subnets, key=lambda s: s["AvailabilityZone"])[0]["SubnetId"]
    return vpc_id, first, groups[0]["GroupId"]


def changed_tasks(run):
    return [name for name, result in run.tasks() if result.get("changed")]


def test_a_subnet_that_gives_public_ips_is_refused_before_any_launch(estate):
    sandbox = estate
    _, subnet_id, _ = network(sandbox)
    ec2 = sandbox.client("ec2", REGION)
    ec2.modify_subnet_attribute(SubnetId=subnet_id, MapPublicIpOnLaunch={"Value": True})
    sandbox.clear_requests()
    run = run_playbook(sandbox, "playbooks/provision_fleet.yml", extra_vars=STANDALONE)
    assert run.returncode != 0
    message = run.task("Check that the standalone instances' subnet gives them no public IP")["msg"]
    assert f"({subnet_id}), which gives every instance a public IP (MapPublicIpOnLaunch)" in message
    assert message.endswith("Nothing was changed.")
    # checked before the instance role and the keys are made: nothing at all was changed
    assert sandbox.requests(mutating=True) == []


def test_standalone_instances_run_in_the_configured_subnet_and_groups(estate):
    sandbox = estate
    vpc_id, subnet_id, group_id = network(sandbox)
    # a private subnet, as a hardened network has it
    sandbox.client("ec2", REGION).modify_subnet_attribute(SubnetId=subnet_id, MapPublicIpOnLaunch={"Value": False})
    default_vpcs = {
        v["VpcId"]
        for v in sandbox.client("ec2", REGION).describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])[
            "Vpcs"
        ]
    }
    assert vpc_id not in default_vpcs
    before = {i["InstanceId"] for i in fleet_instances(sandbox)}

    run = run_playbook(sandbox, "playbooks/provision_fleet.yml", extra_vars=STANDALONE)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    launched = [i for i in fleet_instances(sandbox) if i["InstanceId"] not in before]
    assert len(launched) >= 1, fleet_instances(sandbox)
    assert len(fleet_instances(sandbox)) == STANDALONE["ec2_fleet_standalone_count"]
    placement = [
        (
            i["VpcId"],
            i["SubnetId"],
            sorted(g["GroupId"] for g in i["SecurityGroups"]),
            [(n["SubnetId"], n["Attachment"]["DeviceIndex"]) for n in i["NetworkInterfaces"]],
        )
        for i in launched
    ]
    assert placement == [(vpc_id, subnet_id, [group_id], [(subnet_id, 0)])] * len(launched), placement
    assert [i.get("PublicIpAddress") for i in launched] == [None] * len(launched)

    # Again: nothing to launch or change.
    sandbox.clear_requests()
    again = run_playbook(sandbox, "playbooks/provision_fleet.yml", extra_vars=STANDALONE)
    assert again.returncode == 0, again.stdout[-4000:] + again.stderr[-2000:]
    assert changed_tasks(again) == []
    assert "RunInstances" not in [r["operation"] for r in sandbox.requests(mutating=True)]

    # One more instance, planned: check mode launches nothing.
    plan = run_playbook(
        sandbox,
        "playbooks/provision_fleet.yml",
        check=True,
        extra_vars={**STANDALONE, "ec2_fleet_standalone_count": STANDALONE["ec2_fleet_standalone_count"] + 1},
    )
    assert plan.returncode == 0, plan.stdout[-4000:] + plan.stderr[-2000:]
    assert plan.task("Run the standalone instances from the launch template")["changed"] is True
    assert "RunInstances" not in [r["operation"] for r in sandbox.requests(mutating=True)]


def test_a_template_version_made_by_hand_is_replaced_once_by_the_fleet_settings(estate):
    """A version added by hand with a key pair and user data: the next run writes the fleet's settings alone (a
    new default version, the hand-made one kept) and the run after it changes nothing."""
    sandbox = estate
    ec2 = sandbox.client("ec2", REGION)
    name = f"{FLEET}-lt"
    before = ec2.describe_launch_template_versions(LaunchTemplateName=name, Versions=["$Latest"])[
        "LaunchTemplateVersions"
    ][0]
    by_hand = ec2.create_launch_template_version(
        LaunchTemplateName=name,
        SourceVersion=str(before["VersionNumber"]),
        LaunchTemplateData={"KeyName": "someones-key", "UserData": "IyEvYmluL3NoCmVjaG8gaGkK"},
    )["LaunchTemplateVersion"]["VersionNumber"]
    fixed = run_playbook(sandbox, "playbooks/provision_fleet.yml", extra_vars=STANDALONE)
    assert fixed.returncode == 0, fixed.stdout[-4000:] + fixed.stderr[-2000:]
    assert fixed.task("Write the hardened launch template")["changed"] is True
    (template,) = ec2.describe_launch_templates(LaunchTemplateNames=[name])["LaunchTemplates"]
    assert template["LatestVersionNumber"] == template["DefaultVersionNumber"] == by_hand + 1
    latest = ec2.describe_launch_template_versions(LaunchTemplateName=name, Versions=[str(by_hand + 1)])
    assert latest["LaunchTemplateVersions"][0]["LaunchTemplateData"] == before["LaunchTemplateData"]
    sandbox.clear_requests()
    again = run_playbook(sandbox, "playbooks/provision_fleet.yml", extra_vars=STANDALONE)
    assert again.returncode == 0, again.stdout[-4000:] + again.stderr[-2000:]
    assert changed_tasks(again) == []
    assert sandbox.requests(operation="CreateLaunchTemplateVersion") == []


def test_security_groups_that_do_not_exist_are_named_in_the_order_given_before_any_change(estate):
    sandbox = estate
    vpc_id, subnet_id, _ = network(sandbox)
    sandbox.client("ec2", REGION).modify_subnet_attribute(SubnetId=subnet_id, MapPublicIpOnLaunch={"Value": False})
    sandbox.clear_requests()
    run = run_playbook(
        sandbox,
        "playbooks/provision_fleet.yml",
        extra_vars={**STANDALONE, "ec2_fleet_security_groups": ["medcircle-zz-sg", GROUP, "medcircle-aa-sg"]},
    )
    assert run.returncode != 0
    assert run.task("Check that every security group exists")["msg"] == (
        f'ec2_fleet_security_groups: ["medcircle-zz-sg", "medcircle-aa-sg"] not found in VPC {vpc_id}; allowed:'
        " names of security groups in the subnets' VPC. Nothing was changed."
    )
    # checked before the instance role and the keys are made: nothing at all was changed
    assert sandbox.requests(mutating=True) == []


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            {"ec2_fleet_subnet_names": [SUBNETS[0], "medcircle-privte-b"]},
            f'ec2_fleet_subnet_names: no subnet is named ["medcircle-privte-b"] in {REGION}.',
        ),
        (
            {"ec2_fleet_image_name": "no-such-image-*"},
            'ec2_fleet_image_id/ec2_fleet_image_name "no-such-image-*" matches no available image.',
        ),
    ],
    ids=["subnet typo", "no image"],
)
def test_the_image_and_the_subnets_are_checked_before_any_change(estate, extra, message):
    sandbox = estate
    sandbox.clear_requests()
    run = run_playbook(sandbox, "playbooks/provision_fleet.yml", extra_vars={**STANDALONE, **extra})
    assert run.returncode != 0
    assert run.task("Check that the image and the subnets exist")["msg"] == message + " Nothing was changed."
    assert sandbox.requests(mutating=True) == []
