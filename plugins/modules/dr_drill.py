#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: dr_drill
version_added: 0.1.0
short_description: Run a disaster-recovery drill in the DR region and measure RTO and RPO per system
description:
  - Restores every system of the DR plan (or a chosen subset) into the DR region from its newest
    cross-region copy, in the isolated drill network, tagged with the drill id; verifies each one;
    measures per system the recovery time (start to verified) and the recovery point (age of the
    data used) against the system's targets; then deletes every resource tagged with the drill id,
    also when a step failed, and proves it with a tag scan that must find nothing left.
  - Systems recover in parallel threads, so the drill's wall time follows the slowest system.
  - Sources, newest first per system kind. C(ec2) the newest AMI in the DR region tagged
    C(cloudops:source-instance) (the instance id or name) or C(cloudops:system) (the system name);
    C(ebs) the newest completed snapshot tagged C(cloudops:source-volume) or C(cloudops:system);
    C(rds) the newest available DB snapshot of the database in the DR region, else a drill snapshot
    of the cross-region read replica (the replica itself is never changed); C(s3) the replicated
    bucket (C(dr_resource) of the system) read back; C(dns) the PRIMARY/SECONDARY failover records checked.
  - The recovery point of an C(s3) system is the newest write of the source bucket that the replicated bucket
    holds (same key and size, same ETag or a copy written no earlier); its RPO is how far that lags the source's
    newest write (0 when the newest write is replicated). When the source bucket cannot be read, the RPO is the
    age of the replicated bucket's newest object at the drill start.
    With O(backup_vault_name), a newer AWS Backup recovery point in that DR vault wins.
  - Never makes a mutating call in the primary region and never changes or deletes a resource that
    does not carry the drill id. Closes the testing part of finding C(5.6).
  - Bad plan data (unknown kind, missing resource, RTO or RPO, a resource that does not exist in the
    primary region, no copy in the DR region, the DR region equal to the primary) fails before any change,
    naming the entry.
  - Before any change, checks that the principal running the module may use the KMS key of each encrypted
    copy it would restore (EC2 launches instances and creates volumes from encrypted snapshots, and RDS
    restores encrypted DB snapshots, with grants made under that principal's permissions), from the key policy
    and its grants. A key that does not allow it fails the run before any change, naming the system, the copy,
    the key, the principal and the missing permissions; in check mode it is the system's C(problem). A key
    or role that cannot be read, or a policy condition the check cannot judge, is returned in
    RV(drill.key_notes) and the drill goes on.
author:
  - MedCircle Cloud Operations (@medcircle)
options:
  systems:
    description:
      - The DR plan's systems (the inventory's C(cloudops_dr_systems)).
      - Each is a dictionary with C(name), C(kind) (V(ec2), V(ebs), V(rds), V(s3) or V(dns)),
        C(resource) (the Name tag or id of the instance or volume, the DB instance identifier,
        the bucket, the record name), C(tier) (1-4), C(rto_minutes), C(rpo_minutes), and optionally
        C(dr_resource) (for V(s3), the replicated bucket), C(health_check) (its C(type) is V(running) or V(ssm)
        for V(ec2), V(available) or V(tcp) for V(rds)), C(instance_type), C(instance_profile),
        C(instance_class), C(zone) (for V(dns), the hosted zone name).
      - "An V(rds) system's C(health_check: {type: tcp}) opens a TCP connection to the restored database's
        endpoint and port within C(timeout) seconds (1-300, default 10). With C(from: drill_instance) (the default)
        the connection is opened by an instance of the same drill, by SSM Run Command (C(AWS-RunShellScript)),
        inside the isolated drill network the database is restored into: the first V(ec2) system with
        C(health_check: {type: ssm}) whose agent comes online; a drill without one is refused before any change.
        With C(from: control_node) the host running the playbook opens it, which works only when that host
        reaches the drill network (for example from inside the DR VPC)."
      - Other keys (owner, description, recovery) are kept and ignored.
    type: list
    elements: dict
    required: true
  only:
    description:
      - Drill only the systems with these names. All systems when omitted.
    type: list
    elements: str
  primary_region:
    description:
      - The region that runs the estate. Only read, to match copies to their source.
    type: str
    required: true
  dr_region:
    description:
      - The DR region the systems are restored into. Must differ from O(primary_region).
    type: str
    required: true
  drill_id:
    description:
      - The drill id tagged on every drill resource (C(cloudops:drill-id)).
      - 3-40 lowercase letters, digits and C(-). Defaults to C(drill-<UTC yyyymmddhhmmss>).
    type: str
  network:
    description:
      - The isolated drill network in the DR region (from the C(dr_site) role).
    type: dict
    default: {}
    suboptions:
      subnet_id:
        description: The drill subnet instances are launched in, without a public address.
        type: str
      security_group_id:
        description: The drill security group (no inbound from outside the drill network).
        type: str
      db_subnet_group:
        description: The DB subnet group databases are restored into.
        type: str
      availability_zone:
        description: The zone drill volumes are created in (defaults to the DR region's zone C(a)).
        type: str
  backup_vault_name:
    description:
      - An AWS Backup vault in the DR region whose recovery points count as sources.
    type: str
  parallel:
    description:
      - How many systems recover at the same time.
    type: int
    default: 10
  poll_delay:
    description:
      - Seconds between two status reads while waiting for a resource (AWS waiters).
    type: int
    default: 5
  max_attempts:
    description:
      - Status reads before a wait gives up (with O(poll_delay), the longest wait per step).
    type: int
    default: 120
notes:
  - Supports C(check_mode) - only read calls are made and the sources each system would recover
    from are returned; a system without a copy is reported (RV(drill.ready) false) instead of failing.
    A real run always reports C(changed) (it creates and deletes drill resources).
  - The module does not fail when a system misses its targets or fails to recover. The drill record
    says so (RV(drill.result)) so that the report can be written; the calling role decides.
  - "IAM permissions in the DR region: C(ec2:DescribeImages), C(ec2:DescribeSnapshots), C(ec2:RunInstances),
    C(ec2:CreateTags), C(ec2:CreateVolume), C(ec2:TerminateInstances), C(ec2:DeleteVolume), C(ec2:DescribeInstances),
    C(ec2:DescribeVolumes), C(rds:DescribeDBSnapshots), C(rds:DescribeDBInstances), C(rds:CreateDBSnapshot),
    C(rds:RestoreDBInstanceFromDBSnapshot), C(rds:DeleteDBInstance), C(rds:DeleteDBSnapshot), C(rds:AddTagsToResource),
    C(ssm:DescribeInstanceInformation), C(s3:ListBucket), C(s3:GetObject), C(route53:ListHostedZones),
    C(route53:ListResourceRecordSets), C(backup:ListRecoveryPointsByBackupVault); in the primary region
    C(ec2:DescribeInstances), C(ec2:DescribeVolumes), C(rds:DescribeDBInstances), C(s3:ListBucket)."
seealso:
  - module: medcircle.cloudops.dr_cleanup
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
# Note: these examples do not set authentication details; the playbooks set them
# with module_defaults for group/medcircle.cloudops.aws.

- name: 5.6 | DRILL | Restore every system in the DR region, verify, measure and clean up
  medcircle.cloudops.dr_drill:
    systems: "{{ cloudops_dr_systems }}"
    primary_region: us-east-1
    dr_region: us-west-2
    network:
      subnet_id: subnet-0123456789abcdef0
      security_group_id: sg-0123456789abcdef0
      db_subnet_group: medcircle-dr-drill-db
  register: drill

- name: 5.6 | DRILL | Show which copies a drill of the database would use (read-only)
  medcircle.cloudops.dr_drill:
    systems: "{{ cloudops_dr_systems }}"
    only: [medcircledb]
    primary_region: us-east-1
    dr_region: us-west-2
  check_mode: true
"""

RETURN = r"""
drill:
  description: The drill record, as written to the drill report and the drill history.
  returned: always
  type: dict
  contains:
    drill_id:
      description: The drill id tagged on every drill resource.
      type: str
      sample: drill-20260105T101500
    result:
      description: V(pass) when every system recovered within its RTO and RPO and nothing was left;
        V(fail) otherwise; V(planned) in check mode.
      type: str
      sample: pass
    ready:
      description: In check mode, true when every system has a copy to recover from whose KMS key the
        principal running the module may use.
      type: bool
      sample: true
    key_notes:
      description: Per system, what the KMS key check could not tell (an unreadable key or role, a policy
        condition it cannot judge). Empty when every key was checked.
      type: dict
      sample: {"medcircledb": "the key alias/medcircle-rds could not be read (AccessDeniedException): not checked"}
    success:
      description: The same as a boolean (not in check mode).
      type: bool
      sample: true
    started_at:
      description: Start of the drill (UTC, ISO 8601).
      type: str
      sample: "2026-01-05T10:15:00Z"
    finished_at:
      description: End of the drill, clean-up included (UTC, ISO 8601).
      type: str
      sample: "2026-01-05T10:21:40Z"
    wall_seconds:
      description: Seconds from the start until the last system was verified or failed.
      type: float
      sample: 412.5
    slowest_system_seconds:
      description: The longest single system recovery time.
      type: float
      sample: 410.2
    systems:
      description: Per system the source, the restored resources, RTO and RPO against the targets,
        and the timeline of steps (seconds from the drill start).
      type: list
      elements: dict
      sample:
        - name: medcircledb
          kind: rds
          status: recovered
          rto_seconds: 395.1
          rto_target_seconds: 3600
          rto_met: true
          rpo_seconds: 5400.0
          rpo_target_seconds: 86400
          rpo_met: true
          source: {type: db_snapshot, id: medcircledb-dr-2026-01-05, created: "2026-01-05T08:45:00Z"}
          steps:
            - {step: restore database, start: 0.4, end: 1.1, seconds: 0.7, status: ok}
    cleanup:
      description: What the clean-up deleted, what it could not delete, and what the final tag scan
        still found (C(left), empty when clean).
      type: dict
      sample: {clean: true, deleted: [{type: db_instance, id: drill-20260105t101500-medcircledb}], errors: [], left: []}
"""

import datetime

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.medcircle.cloudops.plugins.module_utils.dr import client_factory, run_drill, validate_plan


def main():
    argument_spec = {
        "systems": {"type": "list", "elements": "dict", "required": True},
        "only": {"type": "list", "elements": "str"},
        "primary_region": {"type": "str", "required": True},
        "dr_region": {"type": "str", "required": True},
        "drill_id": {"type": "str"},
        "network": {
            "type": "dict",
            "default": {},
            "options": {
                "subnet_id": {"type": "str"},
                "security_group_id": {"type": "str"},
                "db_subnet_group": {"type": "str"},
                "availability_zone": {"type": "str"},
            },
        },
        "backup_vault_name": {"type": "str"},
        "parallel": {"type": "int", "default": 10},
        "poll_delay": {"type": "int", "default": 5},
        "max_attempts": {"type": "int", "default": 120},
    }
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    drill_id = params["drill_id"] or "drill-" + datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d%H%M%S")
    try:
        systems = validate_plan(params["systems"], params["primary_region"], params["dr_region"], params["only"])
        for option in ("parallel", "poll_delay", "max_attempts"):
            if params[option] < 1:
                module.fail_json(
                    msg="%s %s is below 1. Allowed: a whole number of 1 or more" % (option, params[option])
                )
        clients = client_factory(module, params["primary_region"], params["dr_region"])
        record = run_drill(
            systems,
            clients,
            params["primary_region"],
            params["dr_region"],
            drill_id,
            network={k: v for k, v in (params["network"] or {}).items() if v},
            backup_vault=params["backup_vault_name"],
            parallel=params["parallel"],
            poll=params["poll_delay"],
            attempts=params["max_attempts"],
            check_mode=module.check_mode,
        )
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    except Exception as e:  # botocore errors outside a system's own steps (sources, the final scan)
        module.fail_json_aws(e, msg="DR drill %s failed" % drill_id)
    module.exit_json(changed=True, drill=record)


if __name__ == "__main__":
    main()
