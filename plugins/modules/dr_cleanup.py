#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: dr_cleanup
version_added: 0.1.0
short_description: Find and delete the resources left by DR drills (tag scan)
description:
  - Scans the DR region for instances, volumes, DB instances and DB snapshots tagged
    C(cloudops:drill-id) (one drill's, or every drill's), deletes them and scans again to
    prove that nothing is left.
  - Deletes only resources that carry the drill tag; nothing else is ever touched.
  - M(medcircle.cloudops.dr_drill) cleans up after itself; this module is for a drill that was
    interrupted (the control node lost, the play killed) and for the proof after a drill.
author:
  - MedCircle Cloud Operations (@medcircle)
options:
  region_name:
    description:
      - The DR region to scan. Defaults to the module's O(region).
    type: str
  drill_id:
    description:
      - Only this drill's resources. Every drill's when omitted.
    type: str
  state:
    description:
      - V(absent) deletes what the scan finds; V(scanned) only reports it (read-only).
    type: str
    choices: [absent, scanned]
    default: absent
  poll_delay:
    description: Seconds between two status reads while waiting for deletions.
    type: int
    default: 5
  max_attempts:
    description: Status reads before a wait for a deletion gives up.
    type: int
    default: 120
notes:
  - Supports C(check_mode) (only the scan runs) and C(diff_mode).
  - "IAM permissions: C(ec2:DescribeInstances), C(ec2:DescribeVolumes), C(ec2:TerminateInstances),
    C(ec2:DeleteVolume), C(rds:DescribeDBInstances), C(rds:DescribeDBSnapshots), C(rds:DeleteDBInstance),
    C(rds:DeleteDBSnapshot)."
seealso:
  - module: medcircle.cloudops.dr_drill
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: 5.6 | DRILL | Delete everything an interrupted drill left in the DR region
  medcircle.cloudops.dr_cleanup:
    region_name: us-west-2
    drill_id: drill-20260105101500

- name: 5.6 | AUDIT | Prove that no drill resource is left anywhere in the DR region
  medcircle.cloudops.dr_cleanup:
    region_name: us-west-2
    state: scanned
  register: leftovers
  failed_when: leftovers.left | length > 0
"""

RETURN = r"""
left:
  description: Drill resources still present after the run (empty when clean).
  returned: always
  type: list
  elements: dict
  sample: []
found:
  description: Drill resources the first scan found.
  returned: always
  type: list
  elements: dict
  sample: [{type: db_instance, id: drill-20260105101500-medcircledb, drill_id: drill-20260105101500}]
deleted:
  description: What was deleted (empty in check mode and with O(state=scanned)).
  returned: always
  type: list
  elements: dict
  sample: [{type: db_instance, id: drill-20260105101500-medcircledb, drill_id: drill-20260105101500}]
errors:
  description: Deletions that failed, each with its error.
  returned: always
  type: list
  elements: dict
  sample: []
"""

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.medcircle.cloudops.plugins.module_utils.common import ParameterError, validate_regions
from ansible_collections.medcircle.cloudops.plugins.module_utils.dr import scan, sweep, validate_drill_id


def main():
    argument_spec = {
        "region_name": {"type": "str"},
        "drill_id": {"type": "str"},
        "state": {"type": "str", "choices": ["absent", "scanned"], "default": "absent"},
        "poll_delay": {"type": "int", "default": 5},
        "max_attempts": {"type": "int", "default": 120},
    }
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    try:
        region = params["region_name"] or module.region
        if not region:
            raise ParameterError(
                "region_name", None, "is not set and no region was given", "a region such as us-west-2"
            )
        validate_regions([region], option="region_name")
        if params["drill_id"]:
            validate_drill_id(params["drill_id"])
        made = {s: module.client(s, region=region, retry_decorator=AWSRetry.jittered_backoff()) for s in ("ec2", "rds")}

        def clients(service, _region):
            return made[service]

        found = scan(clients, region, params["drill_id"])
        deleted, errors = [], []
        if found and params["state"] == "absent" and not module.check_mode:
            deleted, errors = sweep(clients, region, params["drill_id"], params["poll_delay"], params["max_attempts"])
            left = scan(clients, region, params["drill_id"])
        else:
            left = found
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    except Exception as e:
        module.fail_json_aws(e, msg="drill clean-up in %s failed" % params["region_name"])
    changed = bool(found) and params["state"] == "absent"
    result = {"changed": changed, "found": found, "deleted": deleted, "errors": errors, "left": left}
    if module._diff:
        result["diff"] = {
            "before": {"drill_resources": found},
            "after": {"drill_resources": left if changed else found},
        }
    if errors:
        module.fail_json(msg="could not delete %d drill resource(s); see errors" % len(errors), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
