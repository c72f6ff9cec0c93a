#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: dr_failover
version_added: 0.1.0
short_description: Fail the estate over to the DR region, or back to the primary region
description:
  - O(state=failover) promotes each database's cross-region read replica in the DR region, launches each EC2
    system in the DR region from its newest AMI copy through the system's launch template there (written by the
    C(dr_site) role - IMDSv2, encrypted volumes, the instance profile; the failover adds a template version with the
    copy's image id and launches that version, tagged C(cloudops:failover-of)), makes the DR site's
    Route 53 failover record PRIMARY (the primary site's record, with its health check, becomes SECONDARY),
    and verifies. It calls only the DR region and Route 53, so it works when the primary region does not answer.
  - O(state=failback) needs the primary region back. It marks the promoted DR database with the failback's id,
    sets the stale primary database aside (renamed, kept), replicates the DR database into the primary region
    under the original name, promotes it there and gives it the stale primary's protection, makes the primary
    site's record PRIMARY again, returns the DR database to a read replica of the primary (the promoted copy is
    renamed, the replica made under the original name, then the copy deleted after a final snapshot), terminates
    the failover instances, and verifies.
  - A failback's id is C(pre-failback-<UTC start as YYYYMMDD-HHMMSS>), the value of the tag C(cloudops:failback) on
    the DR database it fails back from, on the new primary and on what it sets aside. A set-aside database is also
    tagged C(cloudops:set-aside-from) with the identifier it had, and renamed C(<identifier>-<id>) (shortened, with
    a digest of the identifier, where that would pass the 63 characters of a DB identifier). A rerun finds them by
    these tags on any day; a later failover and failback get an id of their own.
  - Each read replica a failback makes goes into the subnet group and security groups of the database it replaces,
    with deletion protection, encrypted with O(rds_kms_key) of its own region when its source is encrypted, and with
    the protection of the database it replaces - its parameter group (MySQL, Oracle and Db2 take one at creation),
    Multi-AZ (the new primary), enhanced monitoring, CloudWatch log exports, Performance Insights where the class
    has it, IAM authentication, copy of tags to snapshots, automatic minor upgrades, no public access, its tags.
    After the promotion, the step C(copy the stale primary's protection) reads the new primary and sets with
    ModifyDBInstance and AddTagsToResource what still differs (also the parameter group of other engines, the
    backup and maintenance windows), never weakening a setting; what cannot be copied (a master password managed
    by Secrets Manager, Performance Insights on a class without it, a parameter group that waits for a reboot) is
    named in the step's detail with the playbook to run, C(playbooks/remediate/rds.yml).
  - A promoted database keeps the automated backups of the database it replaces, at least 35 days.
  - Every step reads the state first and acts only when needed, so a rerun after an interruption continues
    where the last run stopped, and a rerun after success changes nothing.
  - The Route 53 record needs two failover record sets with the set identifiers C(primary) and C(dr).
author:
  - MedCircle Cloud Operations (@medcircle)
options:
  state:
    description:
      - V(failover) to run in the DR region, V(failback) to return to the primary region.
      - V(standby) prepares the standby while the primary runs - it turns each V(dns) system's plain record into
        the failover pair (set identifier C(primary) as PRIMARY with a health check on its address, C(dr) as
        SECONDARY answering with O(dns.standby_value)), in one change.
    type: str
    choices: [standby, failover, failback]
    required: true
  systems:
    description:
      - The DR plan's systems (the inventory's C(cloudops_dr_systems)), as for M(medcircle.cloudops.dr_drill).
      - V(rds) systems with C(replica) (the read replica in the DR region) are promoted; V(ec2) systems are launched
        (C(resource) is the Name tag, C(launch_template) the launch template in the DR region, default
        C(<resource>-lt)); V(dns) systems are switched
        (C(resource) the record name, C(zone) the hosted zone). V(s3) and V(ebs) systems need no action.
    type: list
    elements: dict
    required: true
  only:
    description:
      - Act only on the systems with these names. All systems when omitted.
    type: list
    elements: str
  primary_region:
    description:
      - The region that ran the estate.
    type: str
    required: true
  dr_region:
    description:
      - The DR region. Must differ from O(primary_region).
    type: str
    required: true
  network:
    description:
      - Where the fleet is launched in the DR region (from the C(dr_site) role).
    type: dict
    default: {}
    suboptions:
      subnet_id:
        description: An app subnet of the DR VPC.
        type: str
      security_group_id:
        description: The DR app security group.
        type: str
  dns:
    description:
      - The failover record's settings for O(state=standby).
    type: dict
    default: {}
    suboptions:
      standby_value:
        description: The address the SECONDARY (DR site) record answers with until a failover sets the DR fleet's.
        type: str
      ttl:
        description: TTL of the failover records.
        type: int
        default: 60
      health_check_port:
        description: Port of the primary site's health check.
        type: int
        default: 443
      health_check_path:
        description: Path of the primary site's health check.
        type: str
        default: /
  rds_kms_key:
    description:
      - The RDS KMS key (an alias, as the C(kms_keys) role makes in both regions) a failback encrypts each new
        cross-region read replica with. It is looked up in the replica's region, as RDS requires a key of the
        destination region for an encrypted source. A key ARN is refused (it names the key of one region).
    type: str
    default: alias/medcircle-rds
  poll_delay:
    description:
      - Seconds between two status reads while waiting.
    type: int
    default: 10
  max_attempts:
    description:
      - Status reads before a wait gives up.
    type: int
    default: 180
notes:
  - Supports C(check_mode) - only read calls are made; the steps say what would change.
  - Ask for an explicit confirmation before calling this module for real (the dr_failover role does).
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: DR | FAILOVER | Promote the replica, launch the fleet and switch DNS to the DR region
  medcircle.cloudops.dr_failover:
    state: failover
    systems: "{{ cloudops_dr_systems }}"
    primary_region: us-east-1
    dr_region: us-west-2
    network:
      subnet_id: subnet-0123456789abcdef0
      security_group_id: sg-0123456789abcdef0

- name: DR | FAILBACK | Return to the primary region
  medcircle.cloudops.dr_failover:
    state: failback
    systems: "{{ cloudops_dr_systems }}"
    primary_region: us-east-1
    dr_region: us-west-2
    rds_kms_key: alias/medcircle-rds
"""

RETURN = r"""
failover:
  description: What the run did, step by step.
  returned: always
  type: dict
  contains:
    action:
      description: V(failover) or V(failback).
      type: str
      sample: failover
    result:
      description: V(pass), V(fail), or V(planned) in check mode.
      type: str
      sample: pass
    success:
      description: True when every step succeeded.
      type: bool
      sample: true
    error:
      description: The step's error when one failed.
      type: str
      sample: null
    seconds:
      description: Duration of the run.
      type: float
      sample: 512.4
    steps:
      description: Every step with its system, status (V(ok) nothing to do, V(changed), V(failed)), detail and
        times (seconds from the start).
      type: list
      elements: dict
      sample:
        - system: medcircledb
          step: promote replica
          status: changed
          detail: promoted medcircledb-dr
          start: 0.2
          end: 1.0
        - system: medcircledb
          step: copy the stale primary's protection
          status: changed
          detail: set on medcircledb what medcircledb-pre-failback-20310504-235930 has (Multi-AZ; tags Backup)
          start: 41.3
          end: 52.8
"""

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.medcircle.cloudops.plugins.module_utils.common import ParameterError
from ansible_collections.medcircle.cloudops.plugins.module_utils.dr import DR_SERVICES, client_factory, validate_plan
from ansible_collections.medcircle.cloudops.plugins.module_utils.dr_failover import failback, failover, standby


def main():
    argument_spec = {
        "state": {"type": "str", "choices": ["standby", "failover", "failback"], "required": True},
        "systems": {"type": "list", "elements": "dict", "required": True},
        "only": {"type": "list", "elements": "str"},
        "primary_region": {"type": "str", "required": True},
        "dr_region": {"type": "str", "required": True},
        "network": {
            "type": "dict",
            "default": {},
            "options": {"subnet_id": {"type": "str"}, "security_group_id": {"type": "str"}},
        },
        "dns": {
            "type": "dict",
            "default": {},
            "options": {
                "standby_value": {"type": "str"},
                "ttl": {"type": "int", "default": 60},
                "health_check_port": {"type": "int", "default": 443},
                "health_check_path": {"type": "str", "default": "/"},
            },
        },
        "rds_kms_key": {"type": "str", "default": "alias/medcircle-rds", "no_log": False},
        "poll_delay": {"type": "int", "default": 10},
        "max_attempts": {"type": "int", "default": 180},
    }
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    try:
        systems = validate_plan(params["systems"], params["primary_region"], params["dr_region"], params["only"])
        for index, system in enumerate(systems):
            if system["kind"] == "rds" and not system.get("replica"):
                raise ParameterError(
                    "systems[%d] (%s).replica" % (index, system["name"]),
                    None,
                    "is missing",
                    "the read replica's identifier in %s" % params["dr_region"],
                )
        for option in ("poll_delay", "max_attempts"):
            if params[option] < 1:
                raise ParameterError(option, params[option], "is below 1", "a whole number of 1 or more")
        key = (params["rds_kms_key"] or "").strip()
        if not key or key.startswith("arn:"):
            raise ParameterError(
                "rds_kms_key",
                params["rds_kms_key"],
                "is empty" if not key else "is a key ARN, which names the key of one region only",
                "the RDS key alias that exists in both regions, e.g. alias/medcircle-rds",
            )
    except ParameterError as e:
        module.fail_json(msg=str(e))
    failing_back = params["state"] == "failback"
    clients = client_factory(
        module,
        params["primary_region"],
        params["dr_region"],
        dr_services=(*DR_SERVICES, "kms") if failing_back else DR_SERVICES,
        primary_services=("rds", "kms") if failing_back else (),
    )
    run = {"standby": standby, "failover": failover, "failback": failback}[params["state"]]
    kwargs = {}
    if params["state"] == "failover":
        kwargs["network"] = {k: v for k, v in params["network"].items() if v}
    elif params["state"] == "standby":
        kwargs["dns"] = params["dns"]
    else:
        kwargs["rds_kms_key"] = params["rds_kms_key"].strip()
    record = run(
        systems,
        clients,
        params["primary_region"],
        params["dr_region"],
        check_mode=module.check_mode,
        poll=params["poll_delay"],
        attempts=params["max_attempts"],
        **kwargs,
    )
    changed = record.pop("changed")
    if not record["success"]:
        module.fail_json(msg="DR %s stopped: %s" % (params["state"], record["error"]), changed=changed, failover=record)
    module.exit_json(changed=changed, failover=record)


if __name__ == "__main__":
    main()
