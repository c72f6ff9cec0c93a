"""Every IAM role the collection's tasks make with amazon.aws.iam_role is made without an EC2 instance profile.

amazon.aws.iam_role makes an instance profile of the role's name unless ``create_instance_profile: false`` is
given. The collection's roles for AWS services (CloudTrail, flow logs, AWS Backup, DLM, RDS monitoring, S3
replication) must not become instance profiles; the ones EC2 uses get theirs from
amazon.aws.iam_instance_profile, explicitly.
"""

from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
SOURCES = sorted(
    path
    for pattern in ("roles/*/tasks/*.yml", "roles/*/molecule/*/*.yml", "playbooks/*.yml", "playbooks/*/*.yml")
    for path in REPO.glob(pattern)
)


def _tasks(node):
    """Every task of a task file or playbook, blocks and plays opened."""
    if isinstance(node, list):
        for item in node:
            yield from _tasks(item)
    elif isinstance(node, dict):
        if "hosts" in node or "import_playbook" in node:
            for key in ("pre_tasks", "tasks", "post_tasks", "handlers"):
                yield from _tasks(node.get(key))
            return
        yield node
        for key in ("block", "rescue", "always"):
            yield from _tasks(node.get(key))


def _iam_role_tasks():
    for path in SOURCES:
        for task in _tasks(yaml.safe_load(path.read_text())):
            args = task.get("amazon.aws.iam_role")
            if args is not None:
                yield path.relative_to(REPO), task.get("name"), args


def test_the_sources_are_read():
    found = list(_iam_role_tasks())
    # the roles that make service roles, the DR drill's and the fleet's roles, patch_now and a molecule scenario
    assert len(found) >= 9, found
    assert {"roles/rds_protection/tasks/monitoring.yml", "playbooks/remediate/patch_now.yml"} <= {
        str(path) for path, _name, _args in found
    }


@pytest.mark.parametrize("path,name,args", list(_iam_role_tasks()), ids=lambda value: str(value)[:60])
def test_no_instance_profile_is_made_by_iam_role(path, name, args):
    assert isinstance(args, dict), f"{path}: {name}: give amazon.aws.iam_role its options as a mapping"
    if args.get("state", "present") == "absent":
        return
    assert args.get("create_instance_profile") is False, (
        f"{path}: {name}: set create_instance_profile: false (amazon.aws.iam_role makes an instance profile "
        "otherwise); an EC2 role gets its profile from amazon.aws.iam_instance_profile"
    )
