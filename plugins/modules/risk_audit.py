#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: risk_audit
version_added: 0.1.0
short_description: Audit the AWS estate against the 42 findings of the security assessment
description:
  - Evaluates the findings of the risk register (all 42 by default) in one run over one or more
    regions, the first being the primary region and the others DR regions.
  - Reads the estate once, with paginated and batched describe and list calls per service and
    region, and only what the selected findings need; then runs one check per finding over that
    snapshot.
  - Read-only. It never changes anything, in check mode or not, and always reports C(changed=false).
  - Each finding reports V(pass), V(fail), V(manual) (no API can tell; the evidence says what a
    person must confirm), V(not_applicable) (no such resource in the audited regions) or V(error)
    (the audit could not read what the check needs, for example C(AccessDenied) or a service that
    is not available in a region). An error in one finding never hides the others.
  - Every finding carries its evidence per resource (id, ARN, region, what was observed, what was
    expected), the Prowler check ids and HIPAA Security Rule references that map to it, and the
    playbook and role of this collection that remediate it.
author:
  - MedCircle Cloud Operations (@medcircle)
options:
  regions:
    description:
      - The regions to audit. The first is the primary region; the others are DR regions.
      - Account-wide findings (multi-region strategy, monitoring) are judged across all of them.
      - When omitted, the region of the O(region) option (or C(AWS_REGION)) is the only region.
    type: list
    elements: str
  findings:
    description:
      - The finding ids to evaluate, for example V(["1.7", "3.4"]). Default is all 42.
      - Only the data those findings need is read.
    type: list
    elements: str
  host_facts:
    description:
      - Facts gathered on the hosts, keyed by inventory host name. Each value is a dict that may hold
        C(instance_id), C(region), C(sshd_password_authentication) (bool or yes/no, finding 3.1),
        C(os_id) and C(os_version) (as in C(/etc/os-release), finding 3.7) and
        C(pending_security_updates) (int, finding 3.8).
    type: dict
    default: {}
  dr_plan_path:
    description:
      - Path, on the host that runs the module, of the disaster recovery plan document (finding 5.6).
    type: path
  dr_drill_history_path:
    description:
      - Path of the DR drill history, a JSON list (or JSON lines) of records with C(finished_at) and
        C(result) (finding 5.6).
    type: path
  dr_drill_max_age_days:
    description:
      - The newest successful DR drill must be at most this many days old (finding 5.6).
    type: int
    default: 90
  eol_overrides:
    description:
      - End-of-life dates that replace or add to the built-in table, keyed C(<os id>:<version>)
        with an ISO date as value, for example key C(amzn2:2) with value C(2026-06-30) (finding 3.7).
    type: dict
    default: {}
  backup_min_retention_days:
    description:
      - Minimum backup retention, in days, of databases and AWS Backup rules (finding 5.1).
    type: int
    default: 7
  patch_max_age_days:
    description:
      - An instance's last patch scan or install must be at most this many days old (finding 3.8).
    type: int
    default: 35
  ami_max_age_days:
    description:
      - When set, instances running from an AMI older than this many days fail finding 3.7.
    type: int
  public_ingress_ports:
    description:
      - TCP ports that may be open to 0.0.0.0/0 and ::/0 without failing finding 3.3, on security
        groups tagged C(Exposure=internet) only (a load balancer in front of the application).
        Every other group, and every other port, still fails. Administration and database ports
        also fail 4.3.
    type: list
    elements: int
    default: [443]
  buckets:
    description:
      - Shell-style patterns of the S3 bucket names to audit. Default is every bucket of the account.
    type: list
    elements: str
    default: []
  workers:
    description:
      - How many AWS requests the audit may have in flight at once. Independent reads (services and
        regions, per-bucket S3 settings, termination protection per instance, ...) and the checks of
        the findings run side by side on up to this many threads, each service and region with one
        client. Once AWS throttles a service in a region, that client slows down to the rate AWS
        allows (botocore's adaptive retry mode) and throttled reads are retried with jittered backoff.
      - V(1) reads one request after the other. The findings and their evidence are the same for any
        value; only the time taken differs.
    type: int
    default: 16
notes:
  - Supports C(check_mode); the module makes the same read calls in check mode.
  - Reads through paginated calls; per-bucket S3 settings, CloudTrail trail status, GuardDuty
    detectors, Backup plans and DLM policies are read one by one because AWS has no batched call.
  - "IAM permissions: the AWS managed policy C(SecurityAudit) plus C(ssm:DescribeInstanceInformation),
    C(ssm:DescribeInstancePatchStates), C(iam:GenerateCredentialReport), C(iam:GetCredentialReport),
    C(dlm:GetLifecyclePolicies), C(dlm:GetLifecyclePolicy), C(backup:List*), C(backup:Get*)."
seealso:
  - module: medcircle.cloudops.risk_audit_report
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
# Note: these examples do not set authentication details; the playbooks set them
# with module_defaults for group/medcircle.cloudops.aws.

- name: Audit the primary and the DR region against all 42 findings
  medcircle.cloudops.risk_audit:
    regions:
      - us-east-1
      - us-west-2
    dr_plan_path: /srv/cloudops/dr/plan.md
    dr_drill_history_path: /srv/cloudops/dr/drills.json
  register: audit

- name: 1.7 | AUDIT | Check IMDSv2 and EBS encryption only
  medcircle.cloudops.risk_audit:
    region: us-east-1
    findings:
      - "1.7"
      - "3.4"
  register: audit

- name: Write the reports of the audit
  medcircle.cloudops.risk_audit_report:
    audit: "{{ audit }}"
    dest: reports
"""

RETURN = r"""
findings:
  description: One entry per evaluated finding, in register order.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The finding id of the risk register.
      type: str
      sample: "1.7"
    title:
      description: The finding's title as the assessment words it.
      type: str
      sample: "IMDSv2: Is set as optional in the EC2 instance"
    severity:
      description: critical, high, medium or low, from the register.
      type: str
      sample: high
    assessments:
      description: The assessments the finding falls under, as the register spells them.
      type: list
      elements: str
      sample: ["Vulnerability Assessment", "Data security Assessment"]
    categories:
      description: The assessments normalised to five category names.
      type: list
      elements: str
      sample: ["Vulnerability Assessment", "Data Security Assessment"]
    status:
      description: pass, fail, manual, not_applicable or error.
      type: str
      sample: fail
    message:
      description: Why the finding is in error, when it is.
      type: str
      sample: "dlm_policies in us-east-1: AccessDeniedException: not authorized"
    resources:
      description: Evidence per resource.
      type: list
      elements: dict
      sample:
        - resource_id: i-0123456789abcdef0
          resource_type: AwsEc2Instance
          resource_arn: arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0
          region: us-east-1
          status: fail
          observed: "HttpTokens: optional, HttpEndpoint: enabled"
          expected: "HttpTokens: required"
          name: medcircle-app
    failing_resources:
      description: How many resources fail or need a person's check.
      type: int
      sample: 1
    prowler_checks:
      description: Prowler check ids that detect the same weakness.
      type: list
      elements: str
      sample: ["ec2_instance_imdsv2_enabled"]
    hipaa:
      description: HIPAA Security Rule references (45 CFR Part 164).
      type: list
      elements: str
      sample: ["164.312(d)"]
    remediation:
      description:
        - How to close the finding. C(type) is V(automated) (with C(playbook), and C(role) when a role of the
          collection does the work or C(module) when the playbook calls a module itself) or V(manual) (with
          C(manual), what a person must do).
      type: dict
      sample: {"type": "automated", "playbook": "playbooks/remediate/fleet.yml", "role": null,
               "module": "ec2_instance_hardening", "manual": null}
    next_step:
      description:
        - What IT support should do next, in plain words, for what fails now (for example 4.2 names the part for
          databases or servers; a database kept as the unencrypted original of an encryption swap is told to be
          deleted once the application is verified).
      type: str
      sample: "Run playbooks/remediate/fleet.yml to require IMDSv2 tokens; no restart is needed."
    regions:
      description: For account-wide findings, the regions looked at.
      type: list
      elements: str
      sample: ["us-east-1", "us-west-2"]
summary:
  description: Counts of findings by status, and by status within each severity and category.
  returned: always
  type: dict
  sample:
    total: 42
    by_status: {"pass": 3, "fail": 37, "manual": 0, "not_applicable": 0, "error": 2}
    by_severity: {"critical": {"pass": 0, "fail": 8, "manual": 0, "not_applicable": 0, "error": 0}}
    by_category: {"Network Security Assessment": {"pass": 0, "fail": 9, "manual": 0, "not_applicable": 0, "error": 0}}
regions:
  description: The regions audited, primary first.
  returned: always
  type: list
  elements: str
  sample: ["us-east-1", "us-west-2"]
account_id:
  description: The AWS account audited.
  returned: always
  type: str
  sample: "123456789012"
collected_at:
  description: When the audit started (UTC, ISO 8601).
  returned: always
  type: str
  sample: "2026-11-28T19:40:00Z"
duration_seconds:
  description: How long the audit took.
  returned: always
  type: float
  sample: 3.2
api_calls:
  description: AWS API requests sent, by C(service:Operation).
  returned: always
  type: dict
  sample: {"ec2:DescribeInstances": 2, "s3:GetBucketVersioning": 1}
source_errors:
  description: The data that could not be read, and why.
  returned: always
  type: dict
  sample: {"dlm_policies us-east-1": "InternalError: not implemented (HTTP 500)"}
"""

import datetime
import time

try:
    import botocore.config
except ImportError:
    botocore = None  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import get_aws_connection_info
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry, RetryingBotoClientWrapper
from ansible_collections.medcircle.cloudops.plugins.module_utils.audit import checks
from ansible_collections.medcircle.cloudops.plugins.module_utils.audit.collect import AwsSnapshot, SourceError
from ansible_collections.medcircle.cloudops.plugins.module_utils.audit.sdk import audit_session
from ansible_collections.medcircle.cloudops.plugins.module_utils.common import ParameterError, target_regions


class ThrottlingRetry(AWSRetry):
    """AWSRetry for throttling only.

    Server errors (InternalError, 500) are tried again once by botocore itself; retrying them for
    minutes would stall the whole audit on one broken service, where the finding should simply
    report ``error``.
    """

    @staticmethod
    def found(response_code, catch_extra_error_codes=None):
        retry_on = ["RequestLimitExceeded", "Throttling", "ThrottlingException", "TooManyRequestsException"]
        return response_code in retry_on + list(catch_extra_error_codes or [])


MAX_WORKERS = 64


def client_factory(module):
    """Clients per (service, region) from one boto3 session, retrying throttling with AWSRetry.

    The connection settings (endpoint, credentials, profile, aws_config) are the module's usual AWS
    options, read as AnsibleAWSModule.client() reads them. One session for all the clients loads
    each service model once, where a session per client would load it again for every region.
    Server errors (500) are tried twice only, by botocore.

    botocore's adaptive retry mode paces each client once it is throttled: the per-resource reads
    (DescribeInstanceAttribute per instance, S3 settings per bucket) then settle at the rate AWS
    allows instead of retrying in bursts. EC2 refills 20 tokens a second per API after a burst of
    100, so 1,000 instances outside Auto Scaling groups take about 45 s to read on AWS.
    aws_config can choose another mode. Timestamps are read with audit.sdk.fast_timestamp.
    """
    _region, endpoint, params = get_aws_connection_info(module)
    params = dict(params)
    profile = params.pop("profile_name", None)
    config = botocore.config.Config(
        user_agent="medcircle.cloudops/risk_audit",
        retries={"mode": "adaptive", "total_max_attempts": 2},
        # one connection per worker, so that parallel reads of one service and region reuse them
        max_pool_connections=max(10, module.params["workers"]),
    )
    for key in ("config", "aws_config"):
        extra = params.pop(key, None)
        if extra:
            config = config.merge(
                extra if isinstance(extra, botocore.config.Config) else botocore.config.Config(**extra)
            )
    session = audit_session(profile_name=profile)

    def factory(service, region):
        client = session.client(service, region_name=region, endpoint_url=endpoint, config=config, **params)
        return RetryingBotoClientWrapper(client, ThrottlingRetry.jittered_backoff())

    return factory


def audit_context(params, now):
    return checks.AuditContext(
        now=now,
        eol_overrides=params["eol_overrides"],
        host_facts=params["host_facts"],
        dr_plan_path=params["dr_plan_path"],
        dr_drill_history_path=params["dr_drill_history_path"],
        dr_drill_max_age_days=params["dr_drill_max_age_days"],
        backup_min_retention_days=params["backup_min_retention_days"],
        patch_max_age_days=params["patch_max_age_days"],
        ami_max_age_days=params["ami_max_age_days"],
        public_ingress_ports=params["public_ingress_ports"],
        buckets=params["buckets"],
    )


def validate(params):
    for option in ("dr_drill_max_age_days", "backup_min_retention_days", "patch_max_age_days", "ami_max_age_days"):
        value = params.get(option)
        if value is not None and value < 0:
            raise ParameterError(option, value, "is negative", "0 or more days")
    if not 1 <= params["workers"] <= MAX_WORKERS:
        raise ParameterError("workers", params["workers"], "is out of range", "1 to %d" % MAX_WORKERS)
    for port in params["public_ingress_ports"]:
        if not 0 <= port <= 65535:
            raise ParameterError("public_ingress_ports", port, "is not a TCP port", "0 to 65535")
    for key, value in params["eol_overrides"].items():
        try:
            datetime.date.fromisoformat(str(value)[:10])
        except ValueError:
            raise ParameterError("eol_overrides", "%s: %s" % (key, value), "is not a date", "YYYY-MM-DD") from None
        if ":" not in str(key):
            raise ParameterError("eol_overrides", key, "is not an <os id>:<version> key", "for example amzn2:2")
    try:
        return checks.select_findings(params["findings"])
    except ValueError as e:
        raise ParameterError("findings", params["findings"], str(e)) from None


def source_errors(snap):
    """The data that could not be read, keyed 'source region [key]'."""
    out = {}
    for (source, region, key), msg in snap.errors().items():
        label = "%s %s" % (source, region)
        if key is not None:
            label += " " + ("/".join(map(str, key)) if isinstance(key, tuple) else str(key))
        out[label] = msg
    return out


def main():
    argument_spec = {
        "regions": {"type": "list", "elements": "str"},
        "findings": {"type": "list", "elements": "str"},
        "host_facts": {"type": "dict", "default": {}},
        "dr_plan_path": {"type": "path"},
        "dr_drill_history_path": {"type": "path"},
        "dr_drill_max_age_days": {"type": "int", "default": 90},
        "eol_overrides": {"type": "dict", "default": {}},
        "backup_min_retention_days": {"type": "int", "default": 7},
        "patch_max_age_days": {"type": "int", "default": 35},
        "ami_max_age_days": {"type": "int"},
        "public_ingress_ports": {"type": "list", "elements": "int", "default": [443]},
        "buckets": {"type": "list", "elements": "str", "default": []},
        "workers": {"type": "int", "default": 16},
    }
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)

    started = datetime.datetime.now(datetime.timezone.utc)
    clock = time.monotonic()
    try:
        finding_ids = validate(module.params)
        regions = target_regions(module)
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)

    snap = AwsSnapshot(
        client_factory(module),
        regions,
        retry=ThrottlingRetry.jittered_backoff(),
        aws_retry=True,
        max_workers=module.params["workers"],
    )
    with checks.cycle_collector_paused():
        try:
            account = snap.get("account")
        except SourceError as e:
            module.fail_json(msg="Cannot identify the AWS account (sts:GetCallerIdentity): %s" % e, regions=regions)
        ctx = audit_context(module.params, started)
        results, summary = checks.run_audit(snap, ctx, finding_ids)

    module.exit_json(
        changed=False,
        findings=results,
        summary=summary,
        regions=regions,
        account_id=account["account_id"],
        collected_at=started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        duration_seconds=round(time.monotonic() - clock, 3),
        api_calls=dict(sorted(snap.api_calls.items())),
        source_errors=source_errors(snap),
    )


if __name__ == "__main__":
    main()
