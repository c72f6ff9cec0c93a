#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: risk_audit_report
version_added: 0.1.0
short_description: Write the reports of a risk audit (JSON, Markdown, HTML, ASFF, JUnit)
description:
  - Takes the result of M(medcircle.cloudops.risk_audit) and writes a run folder
    C(<dest>/<UTC timestamp>-audit/) with C(audit.json) (the full result), C(audit.md),
    a self-contained C(audit.html) (inline CSS and SVG charts, no JavaScript, readable on a phone),
    C(audit.asff.json) (AWS Security Finding Format, ready for Security Hub C(BatchImportFindings))
    and C(audit.junit.xml) (one test case per finding).
  - With O(previous), also compares the two audits per finding (closed, still open, newly open) in
    every format and in C(compare.json), C(compare.md) and C(compare.junit.xml).
  - Points C(<dest>/latest) at the new run folder.
  - Pure Python, no AWS calls; run it on the controller (C(localhost)).
author:
  - MedCircle Cloud Operations (@medcircle)
options:
  audit:
    description:
      - The registered result of M(medcircle.cloudops.risk_audit) (a dict with C(findings)).
    type: dict
    required: true
  previous:
    description:
      - An earlier audit to compare with, as registered or as read from an earlier C(audit.json).
    type: dict
  previous_path:
    description:
      - Path of an earlier C(audit.json) to compare with. Ignored when O(previous) is given. A missing
        file is not an error (the first run); the comparison is then left out.
    type: path
  dest:
    description:
      - The reports folder; the run folder and the C(latest) link are made inside it.
    type: path
    required: true
  formats:
    description:
      - The report formats to write.
    type: list
    elements: str
    choices: [json, md, html, asff, junit]
    default: [json, md, html, asff, junit]
  run_id:
    description:
      - Name of the run folder before C(-audit). Default is the UTC time of the run, C(YYYYMMDDTHHMMSSZ).
      - A run folder that already exists is written over.
    type: str
  link_latest:
    description:
      - Point C(<dest>/latest) at the new run folder.
    type: bool
    default: true
  asff_region:
    description:
      - The Security Hub region of the ASFF C(ProductArn). Default is the audit's primary region.
    type: str
  playbooks_dir:
    description:
      - The collection's C(playbooks/) folder. When given, a finding whose next step names a playbook
        that is not there says so, and tells IT support to make the change by hand until it is.
    type: path
notes:
  - Supports C(check_mode); in check mode nothing is written and the module returns the files it would write.
"""

EXAMPLES = r"""
- name: Audit the estate
  medcircle.cloudops.risk_audit:
    regions: [us-east-1, us-west-2]
  register: audit

- name: Write the reports, compared with the last run
  medcircle.cloudops.risk_audit_report:
    audit: "{{ audit }}"
    dest: "{{ playbook_dir }}/../reports"
    previous_path: "{{ playbook_dir }}/../reports/latest/audit.json"
  register: audit_report

- name: Show where the HTML report is
  ansible.builtin.debug:
    msg: "Open {{ audit_report.run_dir }}/audit.html"
"""

RETURN = r"""
run_dir:
  description: The run folder (written, or that would be written in check mode).
  returned: always
  type: str
  sample: /srv/cloudops/reports/20261128T194000Z-audit
files:
  description: The files written (or that would be written in check mode).
  returned: always
  type: list
  elements: str
  sample: ["/srv/cloudops/reports/20261128T194000Z-audit/audit.html"]
latest:
  description: The C(latest) link, when O(link_latest) is true.
  returned: always
  type: str
  sample: /srv/cloudops/reports/latest
summary:
  description: The audit's counts by status, severity and category.
  returned: always
  type: dict
  sample: {"total": 42, "by_status": {"fail": 37, "pass": 3, "error": 2, "manual": 0, "not_applicable": 0}}
comparison:
  description: Counts of the comparison with the previous audit (closed, still_open, newly_open, still_passing).
  returned: when a previous audit was given
  type: dict
  sample: {"closed": 30, "still_open": 7, "newly_open": 0, "still_passing": 3, "other": 2}
failing:
  description: One line per failing (or erroring) finding, for people to read in the playbook output.
  returned: always
  type: list
  elements: str
  sample: ["1.7 | FAIL | high | IMDSv2: Is set as optional in the EC2 instance | 1 resource(s): i-0abc | next: ..."]
"""

import json
import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.medcircle.cloudops.plugins.module_utils.audit import report


def main():
    module = AnsibleModule(
        argument_spec={
            "audit": {"type": "dict", "required": True},
            "previous": {"type": "dict"},
            "previous_path": {"type": "path"},
            "dest": {"type": "path", "required": True},
            "formats": {
                "type": "list",
                "elements": "str",
                "choices": list(report.FORMATS),
                "default": list(report.FORMATS),
            },
            "run_id": {"type": "str"},
            "link_latest": {"type": "bool", "default": True},
            "asff_region": {"type": "str"},
            "playbooks_dir": {"type": "path"},
        },
        supports_check_mode=True,
    )
    params = module.params
    audit = params["audit"]
    if not isinstance(audit.get("findings"), list):
        module.fail_json(
            msg="audit has no findings list: pass the registered result of medcircle.cloudops.risk_audit",
            keys=sorted(audit),
        )
    previous = params["previous"]
    if previous is None and params["previous_path"] and os.path.isfile(params["previous_path"]):
        try:
            with open(params["previous_path"]) as handle:
                previous = json.load(handle)
        except ValueError as e:
            module.fail_json(msg="previous_path %s is not JSON: %s" % (params["previous_path"], e))
    if previous is not None and not isinstance(previous.get("findings"), list):
        module.fail_json(msg="previous has no findings list: pass an earlier audit result or audit.json")

    dest = params["dest"]
    doc = report.build_document(audit, previous, playbooks_dir=params["playbooks_dir"])
    if params["run_id"] and ("/" in params["run_id"] or params["run_id"] in (".", "..")):
        module.fail_json(msg="run_id %s is not a folder name: use letters, digits, dots, dashes" % params["run_id"])
    run_dir, files = report.plan_run(
        doc, dest, formats=params["formats"], asff_region=params["asff_region"], run_id=params["run_id"]
    )
    latest = os.path.join(dest, "latest")
    if module.check_mode:
        written = [os.path.join(run_dir, name) for name in sorted(files)]
    else:
        try:
            os.makedirs(dest, exist_ok=True)
            written = report.write_run(run_dir, files, dest, link_latest=params["link_latest"])
        except OSError as e:
            module.fail_json(msg="cannot write the reports into %s: %s" % (dest, e))
    module.exit_json(
        changed=True,
        run_dir=run_dir,
        files=written,
        latest=latest if params["link_latest"] else None,
        summary=doc["summary"],
        comparison=(doc["comparison"] or {}).get("counts"),
        failing=[report.one_line(f) for f in report.open_findings(doc)],
    )


if __name__ == "__main__":
    main()
