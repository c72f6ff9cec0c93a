"""`module_defaults: group/medcircle.cloudops.aws` reaches this collection's modules and amazon.aws's alike."""

import os
import subprocess
import sys
from pathlib import Path

from sandbox_client import ANSIBLE_ACCESS_KEY, ANSIBLE_SECRET_KEY

REPO_ROOT = Path(__file__).resolve().parents[2]

PLAYBOOK = """
- name: One block of defaults for every AWS module
  hosts: localhost
  connection: local
  gather_facts: false
  vars:
    ansible_python_interpreter: "{{{{ ansible_playbook_python }}}}"
  module_defaults:
    group/medcircle.cloudops.aws:
      endpoint_url: "{endpoint}"
      access_key: {access_key}
      secret_key: {secret_key}
      region: us-west-2
  tasks:
    - name: This collection's module
      medcircle.cloudops.ec2_ebs_encryption_default_info:
    - name: An amazon.aws module
      amazon.aws.ec2_vpc_net_info:
"""


def test_group_defaults_reach_our_modules_and_amazon_aws(clean_sandbox, tmp_path):
    playbook = tmp_path / "group.yml"
    playbook.write_text(
        PLAYBOOK.format(endpoint=clean_sandbox.endpoint, access_key=ANSIBLE_ACCESS_KEY, secret_key=ANSIBLE_SECRET_KEY)
    )
    # No AWS_* variables at all: endpoint, region and credentials can only come from the group defaults.
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(ANSIBLE_CONFIG=str(REPO_ROOT / "ansible.cfg"), PATH=f"{Path(sys.executable).parent}:{env['PATH']}")
    done = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", str(playbook)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    calls = {(r["operation"], r["region"]) for r in clean_sandbox.requests(service="ec2")}
    assert ("GetEbsEncryptionByDefault", "us-west-2") in calls
    assert ("DescribeVpcs", "us-west-2") in calls
