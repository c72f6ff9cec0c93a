"""ec2_patch_snapshot through main() with botocore's Stubber: snapshots, idempotency, check mode, rollback."""

import datetime
import json

import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.medcircle.cloudops.plugins.modules import ec2_patch_snapshot
from botocore.stub import ANY

INSTANCE = "i-0123456789abcdef0"
ROOT = "vol-0000000000000000a"
DATA = "vol-0000000000000000b"
NOW = datetime.datetime(2026, 3, 1, tzinfo=datetime.UTC)
RUN_FILTER = {"OwnerIds": ["self"], "Filters": [{"Name": "tag:cloudops:patch-run", "Values": ["r1"]}]}


@pytest.fixture
def ec2(aws, monkeypatch):
    monkeypatch.setattr(AnsibleAWSModule, "client", lambda self, service, **kw: aws.client(service, "us-east-1"))
    return aws.stub("ec2", "us-east-1")


def run(args, capsys, check=False):
    base = {"access_key": "AKIDEXAMPLE", "secret_key": "secret", "region": "us-east-1", "_ansible_check_mode": check}
    base.update(args)
    with patch_module_args(base), pytest.raises(SystemExit) as exc:
        ec2_patch_snapshot.main()
    return exc.value.code, json.loads(capsys.readouterr().out)


def instance(state="running", volumes=((ROOT, "/dev/xvda"), (DATA, "/dev/xvdf"))):
    return {
        "Reservations": [
            {
                "Instances": [
                    {
                        "InstanceId": INSTANCE,
                        "State": {"Name": state, "Code": 16},
                        "Placement": {"AvailabilityZone": "us-east-1a"},
                        "BlockDeviceMappings": [
                            {"DeviceName": device, "Ebs": {"VolumeId": volume, "Status": "attached"}}
                            for volume, device in volumes
                        ],
                    }
                ]
            }
        ]
    }


def snapshot(snapshot_id, volume, state="completed"):
    return {
        "SnapshotId": snapshot_id,
        "VolumeId": volume,
        "State": state,
        "StartTime": NOW,
        "Tags": [{"Key": "cloudops:patch-run", "Value": "r1"}, {"Key": "cloudops:instance-id", "Value": INSTANCE}],
    }


def test_snapshots_every_volume_with_run_and_expiry_tags(ec2, capsys):
    ec2.add_response("describe_instances", instance(), {"InstanceIds": [INSTANCE]})
    ec2.add_response("describe_snapshots", {"Snapshots": []}, RUN_FILTER)
    ec2.add_response(
        "create_snapshots",
        {"Snapshots": [{"SnapshotId": "snap-1", "VolumeId": ROOT}, {"SnapshotId": "snap-2", "VolumeId": DATA}]},
        {
            "InstanceSpecification": {"InstanceId": INSTANCE, "ExcludeBootVolume": False},
            "Description": ANY,
            "TagSpecifications": ANY,
        },
    )
    ec2.add_response(
        "describe_snapshots",
        {"Snapshots": [snapshot("snap-1", ROOT), snapshot("snap-2", DATA)]},
        {"SnapshotIds": ["snap-1", "snap-2"]},
    )
    week_from = [datetime.datetime.now(datetime.UTC)]
    rc, result = run({"instance_ids": [INSTANCE], "run_id": "r1", "expire_after_days": 7}, capsys)
    week_from.append(datetime.datetime.now(datetime.UTC))
    assert rc == 0 and result["changed"] is True
    (entry,) = result["instances"]
    assert entry["action"] == "snapshotted"
    assert [(s["snapshot_id"], s["device"], s["state"]) for s in entry["snapshots"]] == [
        ("snap-1", "/dev/xvda", "completed"),
        ("snap-2", "/dev/xvdf", "completed"),
    ]
    # seven days from the run, whichever side of midnight it ended on
    assert result["expires"] in {(t + datetime.timedelta(days=7)).strftime("%Y-%m-%d") for t in week_from}


def test_a_second_run_and_check_mode_change_nothing(ec2, capsys):
    for _ in range(2):
        ec2.add_response("describe_instances", instance(), {"InstanceIds": [INSTANCE]})
        ec2.add_response("describe_snapshots", {"Snapshots": [snapshot("snap-1", ROOT)]}, RUN_FILTER)
    rc, result = run({"instance_ids": [INSTANCE], "run_id": "r1"}, capsys)
    assert rc == 0 and result["changed"] is False and result["instances"][0]["action"] == "already_snapshotted"
    ec2.add_response("describe_volumes", {"Volumes": []}, {"VolumeIds": [ROOT, DATA]})
    rc, result = run({"instance_ids": [INSTANCE], "run_id": "r1", "state": "restored"}, capsys, check=True)
    # check mode of a rollback: the instance's volumes are not restored ones, so it would restore; nothing is called
    assert rc == 0 and result["changed"] is True and result["instances"][0]["action"] == "would_restore"


def test_check_mode_plans_snapshots_without_taking_them(ec2, capsys):
    ec2.add_response("describe_instances", instance(), {"InstanceIds": [INSTANCE]})
    ec2.add_response("describe_snapshots", {"Snapshots": []}, RUN_FILTER)
    rc, result = run({"instance_ids": [INSTANCE], "run_id": "r1"}, capsys, check=True)
    assert rc == 0 and result["changed"] is True and result["instances"][0]["action"] == "would_snapshot"


def test_rollback_swaps_the_volume_and_keeps_the_old_one(ec2, capsys):
    ec2.add_response("describe_instances", instance(volumes=((ROOT, "/dev/xvda"),)), {"InstanceIds": [INSTANCE]})
    ec2.add_response("describe_snapshots", {"Snapshots": [snapshot("snap-1", ROOT)]}, RUN_FILTER)
    ec2.add_response(
        "describe_volumes",
        {"Volumes": [{"VolumeId": ROOT, "VolumeType": "gp3", "State": "in-use", "Tags": []}]},
        {"VolumeIds": [ROOT]},
    )
    ec2.add_response("stop_instances", {"StoppingInstances": []}, {"InstanceIds": [INSTANCE]})
    ec2.add_response("describe_instances", instance("stopped"), {"InstanceIds": [INSTANCE]})
    ec2.add_response(
        "create_volume",
        {"VolumeId": "vol-new"},
        {"SnapshotId": "snap-1", "AvailabilityZone": "us-east-1a", "TagSpecifications": ANY, "VolumeType": "gp3"},
    )
    ec2.add_response("describe_volumes", {"Volumes": [{"VolumeId": "vol-new", "State": "available"}]}, None)
    ec2.add_response("detach_volume", {}, {"VolumeId": ROOT, "InstanceId": INSTANCE})
    ec2.add_response("describe_volumes", {"Volumes": [{"VolumeId": ROOT, "State": "available"}]}, None)
    ec2.add_response(
        "create_tags", {}, {"Resources": [ROOT], "Tags": [{"Key": "cloudops:rolled-back-by", "Value": "r1"}]}
    )
    ec2.add_response("attach_volume", {}, {"VolumeId": "vol-new", "InstanceId": INSTANCE, "Device": "/dev/xvda"})
    ec2.add_response("start_instances", {"StartingInstances": []}, {"InstanceIds": [INSTANCE]})
    ec2.add_response("describe_instances", instance(), {"InstanceIds": [INSTANCE]})
    rc, result = run({"instance_ids": [INSTANCE], "run_id": "r1", "state": "restored"}, capsys)
    assert rc == 0 and result["changed"] is True
    (entry,) = result["instances"]
    assert entry["action"] == "restored"
    assert entry["restored_volumes"] == [
        {"device": "/dev/xvda", "volume_id": "vol-new", "replaced_volume_id": ROOT, "snapshot_id": "snap-1"}
    ]


def test_rollback_without_snapshots_fails_naming_the_instance(ec2, capsys):
    ec2.add_response("describe_instances", instance(), {"InstanceIds": [INSTANCE]})
    ec2.add_response("describe_snapshots", {"Snapshots": []}, RUN_FILTER)
    ec2.add_response("describe_volumes", {"Volumes": []}, None)
    rc, result = run({"instance_ids": [INSTANCE], "run_id": "r1", "state": "restored"}, capsys)
    assert rc == 1 and INSTANCE in result["msg"] and "no pre-patch snapshot of run r1" in result["msg"]


def test_bad_run_id_fails_before_any_call(ec2, capsys):
    rc, result = run({"instance_ids": [INSTANCE], "run_id": "run 1"}, capsys)
    assert rc == 1 and result["msg"].startswith("run_id 'run 1' is not valid")
