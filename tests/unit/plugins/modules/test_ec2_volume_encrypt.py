"""The ec2_volume_encrypt module, driven through main() against botocore's Stubber.

Every AWS call is checked against the service model; a call that was not stubbed
fails the test, so "no mutating call" is asserted by not stubbing one.
"""

import datetime
import json

import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.medcircle.cloudops.plugins.module_utils import volume_encrypt as ve
from ansible_collections.medcircle.cloudops.plugins.modules import ec2_volume_encrypt

REGION = "us-east-1"
KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
VOL = "vol-0123456789abcdef0"
NEW = "vol-0fedcba9876543210"
SNAP = "snap-0123456789abcdef0"
COPY = "snap-0fedcba9876543210"
INSTANCE = "i-0123456789abcdef0"
NOW = datetime.datetime(2026, 11, 28, 12, 0, tzinfo=datetime.UTC)


@pytest.fixture
def clients(aws, monkeypatch):
    def client(self, service, retry_decorator=None, **extra_params):
        assert retry_decorator is not None
        return aws.client(service, extra_params.get("region") or self.region)

    monkeypatch.setattr(AnsibleAWSModule, "client", client)


def run(args, capsys, check=False):
    base = {"access_key": "AKIDEXAMPLE", "secret_key": "secret", "region": REGION, "wait_delay": 1}
    base.update(args)
    if check:
        base["_ansible_check_mode"] = True
    with patch_module_args(base), pytest.raises(SystemExit) as exc:
        ec2_volume_encrypt.main()
    return exc.value.code, json.loads(capsys.readouterr().out)


def volume(vid=VOL, encrypted=False, instance=None, device="/dev/xvda", tags=None, state=None, **extra):
    vol = {
        "VolumeId": vid,
        "Size": 8,
        "AvailabilityZone": "us-east-1a",
        "State": state or ("in-use" if instance else "available"),
        "VolumeType": "gp3",
        "Iops": 3000,
        "Throughput": 125,
        "Encrypted": encrypted,
        "Tags": [{"Key": k, "Value": v} for k, v in (tags or {"Name": "app"}).items()],
        "Attachments": [{"VolumeId": vid, "InstanceId": instance, "Device": device, "State": "attached"}]
        if instance
        else [],
    }
    vol.update(extra)
    return vol


def instance(state="running", tags=None, root_type="ebs", volume_id=VOL):
    return {
        "InstanceId": INSTANCE,
        "State": {"Code": 16 if state == "running" else 80, "Name": state},
        "RootDeviceName": "/dev/xvda",
        "RootDeviceType": root_type,
        "Tags": [{"Key": k, "Value": v} for k, v in (tags or {}).items()],
        "BlockDeviceMappings": [
            {
                "DeviceName": "/dev/xvda",
                "Ebs": {"VolumeId": volume_id, "DeleteOnTermination": True, "Status": "attached"},
            }
        ],
    }


def snapshot(sid, role, state="completed", encrypted=False):
    return {
        "SnapshotId": sid,
        "VolumeId": VOL,
        "State": state,
        "Encrypted": encrypted,
        "Tags": [{"Key": ve.TAG_SOURCE, "Value": VOL}, {"Key": ve.TAG_ROLE, "Value": role}],
    }


def stub_discovery(aws, volumes, instances=None, snapshots=(), replacements=(), by_id=True):
    ec2 = aws.stub("ec2", REGION)
    if by_id:
        ec2.add_response(
            "describe_volumes",
            {"Volumes": volumes},
            {"Filters": [{"Name": "volume-id", "Values": [v["VolumeId"] for v in volumes]}]},
        )
    return ec2


def stub_gather(aws, instances=None, snapshots=(), replacements=()):
    ec2 = aws.stub("ec2", REGION)
    if instances is not None:
        ec2.add_response("describe_instances", {"Reservations": [{"Instances": instances}]})
    ec2.add_response("describe_snapshots", {"Snapshots": list(snapshots)})
    ec2.add_response("describe_volumes", {"Volumes": list(replacements)})


def test_check_mode_plans_the_swap_of_a_running_root_volume_without_changing_anything(aws, clients, capsys):
    stub_discovery(aws, [volume(instance=INSTANCE)])
    aws.describe_key(REGION, "alias/medcircle-ebs", KEY_ARN)
    stub_gather(aws, instances=[instance()])

    rc, result = run(
        {"volume_ids": [VOL], "kms_key_id": "alias/medcircle-ebs", "allow_stop": True, "_ansible_diff": True},
        capsys,
        check=True,
    )

    assert rc == 0, result
    assert result["changed"] is True
    [item] = result["volumes"]
    assert item["status"] == "planned"
    assert item["root"] is True
    assert item["steps"] == list(ve.STEPS)
    assert item["steps_done"] == []
    assert result["diff"]["before"][VOL]["attached_at"] == f"{INSTANCE} /dev/xvda"
    assert result["diff"]["after"][VOL]["replacement_attached_at"] == f"{INSTANCE} /dev/xvda"


def test_running_instance_without_allow_stop_fails_before_any_change(aws, clients, capsys):
    stub_discovery(aws, [volume(instance=INSTANCE)])
    stub_gather(aws, instances=[instance()])

    rc, result = run({"volume_ids": [VOL]}, capsys)

    assert rc == 1
    assert result["failed"] is True
    assert result["msg"].startswith("allow_stop is false")
    assert VOL in result["msg"] and INSTANCE in result["msg"]
    assert "allow_stop: true" in result["msg"]


def test_auto_scaling_group_member_is_refused(aws, clients, capsys):
    stub_discovery(aws, [volume(instance=INSTANCE)])
    stub_gather(aws, instances=[instance(tags={"aws:autoscaling:groupName": "web-asg"})])

    rc, result = run({"volume_ids": [VOL], "allow_stop": True}, capsys)

    assert rc == 1
    assert "Auto Scaling group web-asg" in result["msg"]
    assert "instance refresh" in result["msg"]
    assert "Nothing was changed" in result["msg"]


def test_multi_attach_volume_is_refused_and_skipped_when_asked(aws, clients, capsys):
    stub_discovery(aws, [volume(instance=INSTANCE, MultiAttachEnabled=True)])
    stub_gather(aws, instances=[instance()])

    rc, result = run({"volume_ids": [VOL], "allow_stop": True, "skip_refused": True}, capsys)

    assert rc == 0
    assert result["changed"] is False
    assert result["volumes"][0]["status"] == "refused"
    assert "Multi-Attach" in result["refused"][0]["message"]


@pytest.mark.parametrize(
    "args, message",
    [
        ({"volume_ids": ["vol-1"]}, "volume_ids vol-1 is not a well-formed id"),
        ({"instance_ids": ["web01"]}, "instance_ids web01 is not a well-formed id"),
        ({}, "volume_ids is not set, and neither are instance_ids nor filters"),
        ({"volume_ids": [VOL], "kms_key_id": "my key"}, "is not a well-formed KMS key reference"),
        ({"volume_ids": [VOL], "original_retention_days": -1}, "original_retention_days -1 must not be negative"),
    ],
)
def test_bad_input_fails_before_any_call(aws, clients, capsys, args, message):
    rc, result = run(args, capsys)
    assert rc == 1
    assert message in result["msg"]


def test_missing_volume_is_named(aws, clients, capsys):
    aws.stub("ec2", REGION).add_response("describe_volumes", {"Volumes": []})
    rc, result = run({"volume_ids": [VOL]}, capsys)
    assert rc == 1
    assert f"volume_ids ['{VOL}'] were not found in the region" in result["msg"]


def stub_detached_run(ec2, throttle_snapshot=False):
    ec2.add_response(
        "create_tags",
        {},
        {
            "Resources": [VOL],
            "Tags": [
                {"Key": ve.TAG_STATUS, "Value": ve.STATUS_IN_PROGRESS},
                {"Key": ve.TAG_KMS_KEY, "Value": KEY_ARN},
            ],
        },
    )
    if throttle_snapshot:
        ec2.add_client_error("create_snapshot", service_error_code="RequestLimitExceeded", http_status_code=400)
    ec2.add_response("create_snapshot", {"SnapshotId": SNAP, "VolumeId": VOL, "State": "pending"})
    ec2.add_response("describe_snapshots", {"Snapshots": [snapshot(SNAP, ve.ROLE_SNAPSHOT)]})
    stub_copy_onwards(ec2)


def stub_copy_onwards(ec2):
    ec2.add_response("copy_snapshot", {"SnapshotId": COPY})
    ec2.add_response("describe_snapshots", {"Snapshots": [snapshot(COPY, ve.ROLE_COPY, encrypted=True)]})
    stub_create_onwards(ec2)


def stub_create_onwards(ec2):
    ec2.add_response("create_volume", {"VolumeId": NEW, "State": "creating", "Encrypted": True})
    ec2.add_response("describe_volumes", {"Volumes": [volume(NEW, encrypted=True)]})  # waiter
    ec2.add_response("describe_volumes", {"Volumes": [volume(NEW, encrypted=True)]})  # verify
    ec2.add_response("create_tags", {})
    ec2.add_response("create_tags", {}, {"Resources": [NEW], "Tags": [{"Key": ve.TAG_STATUS, "Value": "verified"}]})


def test_detached_volume_is_copied_encrypted_and_the_original_kept(aws, clients, capsys):
    ec2 = stub_discovery(aws, [volume(tags={"Name": "data", "Owner": "ops"})])
    aws.describe_key(REGION, "alias/medcircle-ebs", KEY_ARN)
    stub_gather(aws)
    stub_detached_run(ec2, throttle_snapshot=True)

    rc, result = run({"volume_ids": [VOL], "kms_key_id": "alias/medcircle-ebs"}, capsys)

    assert rc == 0, result
    assert result["changed"] is True
    [item] = result["volumes"]
    assert item["status"] == "encrypted"
    assert item["steps_done"] == ["record", "snapshot", "copy", "create_volume", "verify"]
    assert (item["snapshot_id"], item["encrypted_snapshot_id"], item["replacement_volume_id"]) == (SNAP, COPY, NEW)
    assert item["retain_until"] > "2026"
    assert result["instances_stopped"] == [] and result["deleted"] == []


def test_create_volume_request_keeps_type_iops_throughput_tags_and_key(aws, clients, capsys):
    ec2 = stub_discovery(aws, [volume(tags={"Name": "data"})])
    aws.describe_key(REGION, "alias/medcircle-ebs", KEY_ARN)
    stub_gather(aws, snapshots=[snapshot(SNAP, ve.ROLE_SNAPSHOT), snapshot(COPY, ve.ROLE_COPY, encrypted=True)])
    ec2.add_response("create_tags", {})
    ec2.add_response(
        "create_volume",
        {"VolumeId": NEW},
        {
            "AvailabilityZone": "us-east-1a",
            "SnapshotId": COPY,
            "VolumeType": "gp3",
            "Size": 8,
            "Iops": 3000,
            "Throughput": 125,
            "Encrypted": True,
            # The key ARN that the alias resolved to, so the volume names the key whatever the alias does later.
            "KmsKeyId": KEY_ARN,
            "TagSpecifications": [
                {
                    "ResourceType": "volume",
                    "Tags": [
                        {"Key": "Name", "Value": "data"},
                        {"Key": ve.TAG_SOURCE, "Value": VOL},
                        {"Key": ve.TAG_ROLE, "Value": ve.ROLE_REPLACEMENT},
                    ],
                }
            ],
            "ClientToken": f"cloudops-encrypt-{VOL}-{COPY}",
        },
    )
    ec2.add_response("describe_volumes", {"Volumes": [volume(NEW, encrypted=True)]})
    ec2.add_response("describe_volumes", {"Volumes": [volume(NEW, encrypted=True)]})
    ec2.add_response("create_tags", {})
    ec2.add_response("create_tags", {})

    rc, result = run({"volume_ids": [VOL], "kms_key_id": "alias/medcircle-ebs"}, capsys)

    # Resumed: the snapshot and its encrypted copy from an earlier run are reused, not made again.
    assert rc == 0, result
    assert result["volumes"][0]["steps_done"] == ["record", "create_volume", "verify"]


def test_failed_step_reports_progress_and_says_how_to_resume(aws, clients, capsys):
    ec2 = stub_discovery(aws, [volume()])
    stub_gather(aws)
    ec2.add_response("create_tags", {})
    ec2.add_response("create_snapshot", {"SnapshotId": SNAP})
    ec2.add_response("describe_snapshots", {"Snapshots": [snapshot(SNAP, ve.ROLE_SNAPSHOT)]})
    ec2.add_client_error("copy_snapshot", service_error_code="InvalidParameterValue", http_status_code=400)

    rc, result = run({"volume_ids": [VOL]}, capsys)

    assert rc == 1
    assert result["msg"].startswith(f"Step copy failed for {VOL}")
    assert "rerun the same task to resume" in result["msg"]
    assert result["volumes"][0]["steps_done"] == ["record", "snapshot"]


def test_verified_original_is_no_change(aws, clients, capsys):
    tags = {ve.TAG_STATUS: "verified", ve.TAG_REPLACED_BY: NEW, ve.TAG_RETAIN_UNTIL: "2026-12-05T00:00:00Z"}
    stub_discovery(aws, [volume(tags=tags)])
    stub_gather(aws)

    rc, result = run({"volume_ids": [VOL]}, capsys)

    assert rc == 0
    assert result["changed"] is False
    assert result["volumes"][0]["status"] == "verified"


def test_plan_resumes_after_detach_without_stopping_again():
    tags = {
        ve.TAG_STATUS: ve.STATUS_IN_PROGRESS,
        ve.TAG_INSTANCE: INSTANCE,
        ve.TAG_DEVICE: "/dev/xvda",
        ve.TAG_WAS_RUNNING: "true",
        ve.TAG_DELETE_ON_TERMINATION: "true",
    }
    original = volume(tags=tags)  # detached by the earlier run
    stopped = instance(state="stopped")
    stopped["BlockDeviceMappings"] = []
    new = volume(NEW, encrypted=True, tags={ve.TAG_SOURCE: VOL, ve.TAG_ROLE: ve.ROLE_REPLACEMENT})
    snaps = {VOL: [snapshot(SNAP, ve.ROLE_SNAPSHOT), snapshot(COPY, ve.ROLE_COPY, encrypted=True)]}

    item = ve.plan_volume(original, {INSTANCE: stopped}, snaps, {VOL: [new]}, None, REGION)

    assert item["steps"] == ["attach", "delete_on_termination", "start", "verify"]
    assert item["was_running"] is True
    assert item["replacement_volume_id"] == NEW


def test_cleanup_deletes_only_expired_verified_originals_with_their_replacement_in_place(aws):
    client = aws.client("ec2", REGION)
    ec2 = aws.stub("ec2", REGION)
    expired = {
        "volume_id": VOL,
        "status": "verified",
        "retain_until": "2026-11-01T00:00:00Z",
        "replacement_volume_id": NEW,
        "instance_id": INSTANCE,
        "attached": False,
    }
    later = dict(
        expired,
        volume_id="vol-0aaaaaaaaaaaaaaaa",
        retain_until="2026-12-30T00:00:00Z",
        replacement_volume_id="vol-0bbbbbbbbbbbbbbbb",
    )
    ec2.add_response("describe_volumes", {"Volumes": [volume(NEW, encrypted=True, instance=INSTANCE)]})
    ec2.add_response("describe_instances", {"Reservations": [{"Instances": [instance(volume_id=NEW)]}]})

    deletable, kept = ve.plan_cleanup(client, [expired, later], moment=NOW)

    assert [i["volume_id"] for i, _ in deletable] == [VOL]
    assert [(i["volume_id"], r) for i, r in kept] == [("vol-0aaaaaaaaaaaaaaaa", "kept until 2026-12-30T00:00:00Z")]

    ec2.add_response("delete_snapshot", {}, {"SnapshotId": SNAP})
    ec2.add_response("delete_volume", {}, {"VolumeId": VOL})
    deleted = ve.cleanup_originals(client, deletable, {VOL: [snapshot(SNAP, ve.ROLE_SNAPSHOT)]})
    assert deleted == [SNAP, VOL]


def test_cleanup_keeps_an_original_whose_replacement_was_detached(aws):
    client = aws.client("ec2", REGION)
    ec2 = aws.stub("ec2", REGION)
    item = {
        "volume_id": VOL,
        "status": "verified",
        "retain_until": "2026-11-01T00:00:00Z",
        "replacement_volume_id": NEW,
        "instance_id": INSTANCE,
        "attached": False,
    }
    ec2.add_response("describe_volumes", {"Volumes": [volume(NEW, encrypted=True)]})
    ec2.add_response("describe_instances", {"Reservations": [{"Instances": [instance()]}]})

    deletable, kept = ve.plan_cleanup(client, [item], moment=NOW)

    assert deletable == []
    assert "no longer attached" in kept[0][1]
