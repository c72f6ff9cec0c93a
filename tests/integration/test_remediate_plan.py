"""The plan of the whole remediation, `playbooks/remediate.yml --check`, on the as-assessed estate.

A check run changes nothing, so on an account without the collection's keys the steps that encrypt with
them stop: the message says to create the keys first (`--tags kms_keys`, which changes only the keys and
the service-linked role they name). After that, the check run goes through every area, shows what it would
change, and sends not one mutating call.
"""

import pytest
from playbook import run_playbook
from sandbox_client import SandboxClient

PLAYBOOK = "playbooks/remediate.yml"
KEY_CALLS = {"CreateKey", "CreateAlias", "EnableKeyRotation", "PutKeyPolicy", "TagResource", "CreateServiceLinkedRole"}


@pytest.fixture(scope="module")
def estate():
    instance = SandboxClient.start(seed="as-assessed")
    try:
        yield instance
    finally:
        instance.stop()


def changed(run):
    return [name for name, outcome in run.tasks() if outcome.get("changed")]


def test_areas_chosen_with_tags_are_not_stopped_by_keys_or_vpcs_of_other_areas(estate):
    """--tags identity on an account without the keys: the EBS keys (encryption, DR site) and the VPC of the
    security groups belong to areas not chosen; none is looked up, and the chosen area runs."""
    estate.clear_requests()
    run = run_playbook(estate, PLAYBOOK, "--tags", "identity", check=True, timeout=1800)
    assert run.returncode == 0, run.stdout[-4000:]
    names = [name for name, _outcome in run.tasks()]
    for other in ("EBS key", "Find the VPC", "Exactly one VPC matches"):
        assert not any(other in name for name in names), (other, names)
    assert run.task("3.1 | PATCH | Set the strong account password policy").get("changed")
    assert estate.requests(mutating=True) == []


def test_a_check_run_without_the_keys_says_how_to_get_the_whole_plan(estate):
    estate.clear_requests()
    run = run_playbook(estate, PLAYBOOK, check=True, timeout=1800)
    assert run.returncode != 0
    failed = [(name, outcome.get("msg", "")) for name, outcome in run.tasks() if outcome.get("failed")]
    assert len(failed) == 1, failed
    name, message = failed[0]
    assert "Check that the EBS key exists" in name
    assert "does not exist in us-east-1, us-west-2. Nothing was changed." in message
    assert "In a --check run the kms_keys step does not create the keys" in message
    assert "ansible-playbook playbooks/remediate.yml --tags kms_keys" in message
    assert estate.requests(mutating=True) == []


def test_with_the_keys_made_first_the_check_run_plans_every_area_without_one_change(estate):
    keys = run_playbook(estate, PLAYBOOK, "--tags", "kms_keys", timeout=1800)
    assert keys.returncode == 0, keys.stdout[-4000:]
    made = {r["operation"] for r in estate.requests(mutating=True)}
    assert "CreateKey" in made and made <= KEY_CALLS, made

    estate.clear_requests()
    plan = run_playbook(estate, PLAYBOOK, check=True, timeout=1800)
    assert plan.returncode == 0, plan.stdout[-4000:] + plan.stderr[-2000:]
    assert estate.requests(mutating=True) == []
    planned = changed(plan)
    for step in (
        "Encrypt",  # volumes (ebs_encryption)
        "Create the KMS-encrypted vaults in both regions",  # backups
        "Turn on versioning, SSE-KMS, TLS only",  # storage
    ):
        assert any(step in name for name in planned), (step, planned)
    # the backup role's IAM role does not exist before the real run: its key access is checked then
    shown = plan.task("Show that the role is checked once it exists, AWS Backup's role medcircle-backup-role")
    assert "does not exist yet (check mode)" in shown["msg"]
