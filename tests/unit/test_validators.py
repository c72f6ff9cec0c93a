"""Every check of a role's input (roles/*/tasks/validate.yml) tells IT support that the run stopped before any
change: its message ends "Nothing was changed." ("Nothing was read." for the read-only audit, access review and
estate overview). A check that collects its problems (``vars: problems``) names only the values that are wrong
and joins them into one message.
"""

from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
VALIDATORS = sorted(REPO.glob("roles/*/tasks/validate.yml"))
READ_ONLY = {"risk_audit", "access_review", "estate_overview"}


def _asserts():
    for path in VALIDATORS:
        for task in yaml.safe_load(path.read_text()) or []:
            args = task.get("ansible.builtin.assert")
            if args is not None:
                yield pytest.param(path.parts[-3], task, args, id=f"{path.parts[-3]}: {task['name']}")


def test_every_role_with_input_has_a_validator():
    assert len(VALIDATORS) >= 20


@pytest.mark.parametrize(("role", "task", "args"), list(_asserts()))
def test_the_message_says_nothing_was_changed(role, task, args):
    message = " ".join(str(args.get("fail_msg", "")).split())
    ending = "nothing was read." if role in READ_ONLY else "nothing was changed."
    assert ending in message.lower(), message
    assert args.get("quiet") is True, task["name"]


@pytest.mark.parametrize(
    ("role", "task", "args"), [case for case in _asserts() if "problems" in (case.values[1].get("vars") or {})]
)
def test_a_list_of_problems_is_checked_and_joined(role, task, args):
    assert args["that"] == ["problems | length == 0"], task["name"]
    assert "problems | join('; ')" in str(args["fail_msg"]), task["name"]
