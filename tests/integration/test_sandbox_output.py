"""What a person reads from a playbook run against inventories/sandbox is not masked by the sandbox's dummy secret.

Ansible replaces a secret key's value with ``********`` wherever it appears in a module's output. The sandbox
inventory's secret used to be ``testing``, so a restore testing plan's ARN printed as ``restore-********-plan``.
The inventory's dummy credentials are now words no real output contains; the access key still lands in moto's
default account, 123456789012.
"""

from pathlib import Path

import yaml
from playbook import run_playbook
from sandbox_client import ANSIBLE_ACCESS_KEY, ANSIBLE_SECRET_KEY

REPO_ROOT = Path(__file__).resolve().parents[2]
PLAN = "medcircle_restore_testing_output"

PLAYBOOK = """
- name: SANDBOX OUTPUT | Print words that a dummy secret of "testing" used to hide
  hosts: localhost
  gather_facts: false
  module_defaults:
    group/medcircle.cloudops.aws:
      endpoint_url: "{{ cloudops_aws_endpoint_url }}"
      access_key: "{{ cloudops_aws_access_key }}"
      secret_key: "{{ cloudops_aws_secret_key }}"
      region: us-east-1
  tasks:
    - name: Read the account the sandbox credentials are in
      amazon.aws.aws_caller_info:
      register: sandbox_output_caller

    - name: Create a restore testing plan
      medcircle.cloudops.backup_restore_testing_plan:
        name: PLAN_NAME
        schedule_expression: cron(0 6 ? * SUN *)
      register: sandbox_output_plan

    - name: Print what the run did
      ansible.builtin.debug:
        msg:
          - "account {{ sandbox_output_caller.account }}"
          - "restore testing plan {{ sandbox_output_plan.plan.restore_testing_plan_arn }}"
          - "testing the restore, words: {{ sandbox_output_plan.actions | join(', ') }}"
""".replace("PLAN_NAME", PLAN)


def test_inventory_credentials_are_the_ones_tests_give_ansible():
    aws = yaml.safe_load((REPO_ROOT / "inventories/sandbox/group_vars/all/aws.yml").read_text())
    assert aws["cloudops_aws_access_key"] == ANSIBLE_ACCESS_KEY
    assert aws["cloudops_aws_secret_key"] == ANSIBLE_SECRET_KEY
    # an access key shape (AKIA + 16), and a secret that is no word of real output
    assert ANSIBLE_ACCESS_KEY.startswith("AKIA") and len(ANSIBLE_ACCESS_KEY) == 20
    assert ANSIBLE_SECRET_KEY not in ("testing", "test", "secret")


def test_words_like_testing_are_printed_unmasked(clean_sandbox, tmp_path):
    playbook = tmp_path / "sandbox_output.yml"
    playbook.write_text(PLAYBOOK)
    # The output a person reads at the terminal: the default callback, no colour.
    run = run_playbook(
        clean_sandbox,
        str(playbook),
        env={
            "ANSIBLE_STDOUT_CALLBACK": "default",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
        },
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]

    arn = clean_sandbox.client("backup").get_restore_testing_plan(RestoreTestingPlanName=PLAN)["RestoreTestingPlan"][
        "RestoreTestingPlanArn"
    ]
    assert ":restore-testing-plan:" in arn
    # (the default callback's banners are lines of stars: look at every other line)
    masked = [line for line in run.stdout.splitlines() if "********" in line and not line.startswith(("PLAY", "TASK"))]
    assert masked == [], run.stdout[-4000:]
    assert f"restore testing plan {arn}" in run.stdout, run.stdout[-4000:]
    assert f"testing the restore, words: create restore test plan {PLAN}" in run.stdout, run.stdout[-4000:]
    # the inventory's access key is moto's default account, as "testing" was
    assert "account 123456789012" in run.stdout, run.stdout[-4000:]
