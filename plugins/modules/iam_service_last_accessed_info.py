#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: iam_service_last_accessed_info
version_added: 0.1.0
short_description: Report which AWS services IAM identities are allowed and which they really use
description:
  - For each IAM user, group, role or managed policy given, reports every AWS service its policies
    allow and when it was last used (by that identity, or for a group or policy by any identity it
    applies to), from IAM's service last accessed data.
  - With O(granularity=action), also the actions last used, for the services whose actions IAM
    tracks (Amazon EC2, IAM, AWS Lambda and Amazon S3 management actions, and the others IAM adds).
  - Proposes, per identity, a narrower policy that allows only what was used within O(days);
    the tracked actions used, and C(service:*) for services used whose actions IAM does not track,
    except for services where that would be dangerous (IAM, STS, KMS, Organizations, Secrets Manager),
    which are listed for the owner to name the actions.
    The proposal is evidence for the person who decides (findings 1.2 and 2.1 of the risk register);
    the module changes nothing.
  - IAM computes the data in a job per identity (C(iam:GenerateServiceLastAccessedDetails)); the
    module starts every job first, then collects the answers (C(iam:GetServiceLastAccessedDetails),
    paginated), so the jobs run side by side.
author:
  - MedCircle Cloud Operations (@medcircle)
options:
  arns:
    description:
      - ARNs of the IAM users, groups, roles and managed policies to report on, for example
        V(arn:aws:iam::123456789012:role/app-server).
      - Listing the same ARN twice reports it once.
    type: list
    elements: str
    required: true
  granularity:
    description:
      - V(action) also reports the actions used of the services whose actions IAM tracks, and the
        proposal names those actions; V(service) reports services only.
    type: str
    choices: [action, service]
    default: action
  days:
    description:
      - A service or action counts as used when it was last used within this many days.
      - IAM keeps the data for 400 days at most; choose a period that covers the identity's rarest
        regular job (a quarterly report needs at least 92).
    type: int
    default: 90
  wait_timeout:
    description:
      - Seconds to wait for IAM to finish all the jobs. The module fails, naming the identities still
        waited for, when they are not done by then.
    type: int
    default: 300
notes:
  - "IAM permissions: C(iam:GenerateServiceLastAccessedDetails), C(iam:GetServiceLastAccessedDetails)."
  - IAM records a use with a delay of up to a few hours. A job is a read; it changes nothing in the
    account, so the module runs in check mode too.
  - The proposal keeps C(Resource) V(*); which buckets, instances or keys a job needs is for the owner
    to name.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
# Note: these examples do not set authentication details; the playbooks set them
# with module_defaults for group/medcircle.cloudops.aws.

- name: 1.2 | 2.1 | AUDIT | Read what the application role is allowed and what it used in 90 days
  medcircle.cloudops.iam_service_last_accessed_info:
    arns:
      - arn:aws:iam::123456789012:role/app-server
    days: 90
  register: access

- name: 1.2 | 2.1 | AUDIT | Show the services the role is allowed but did not use
  ansible.builtin.debug:
    msg: "{{ access.identities[0].unused_services }}"
"""

RETURN = r"""
identities:
  description: One entry per ARN, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    arn:
      description: The identity's ARN.
      returned: always
      type: str
      sample: arn:aws:iam::123456789012:role/app-server
    kind:
      description: V(user), V(group), V(role) or V(policy).
      returned: always
      type: str
      sample: role
    name:
      description: The identity's name (the last part of its ARN).
      returned: always
      type: str
      sample: app-server
    job_id:
      description: IAM's job id for this report.
      returned: always
      type: str
      sample: 4fae3ce1-5c2b-4e4f-9f0a-1f3c6a3c2f15
    services:
      description: Every service the identity's policies allow, by namespace.
      returned: always
      type: list
      elements: dict
      contains:
        namespace:
          description: The service's IAM prefix, for example V(s3).
          type: str
        name:
          description: The service's name.
          type: str
        last_used:
          description: When it was last used, ISO 8601 (UTC); V(null) when IAM has no record of a use.
          type: str
        region:
          description: Where it was last used; V(null) without a use.
          type: str
        used_by:
          description: The identity that used it last (for a group or policy, one of its members).
          type: str
        used_by_count:
          description: How many identities used it.
          type: int
        used_recently:
          description: Whether it was used within O(days).
          type: bool
        actions:
          description:
            - With O(granularity=action), the tracked actions used (C(action), C(last_used), C(region),
              C(used_recently)); an empty list for services whose actions IAM does not track.
          type: list
          elements: dict
      sample:
        - {namespace: s3, name: Amazon S3, last_used: "2026-11-30T08:15:00+00:00", region: us-east-1,
           used_by: "arn:aws:iam::123456789012:role/app-server", used_by_count: 1, used_recently: true,
           actions: [{action: GetObject, last_used: "2026-11-30T08:15:00+00:00", region: us-east-1,
           used_recently: true}]}
    used_services:
      description: Namespaces of the services used within O(days).
      returned: always
      type: list
      elements: str
      sample: [s3, ssm]
    unused_services:
      description: Namespaces of the services allowed but not used within O(days).
      returned: always
      type: list
      elements: str
      sample: [dynamodb, iam, kms]
    proposed_policy:
      description:
        - A policy document that allows what was used within O(days) and nothing else; V(null) when
          nothing was used (the identity may not need any of its permissions; ask its owner).
      returned: always
      type: dict
      sample: {"Version": "2012-10-17", "Statement": [{"Sid": "UsedActions", "Effect": "Allow",
               "Action": ["s3:GetObject"], "Resource": "*"}]}
    proposed_actions:
      description: The actions of the proposal, for example V(s3:GetObject) or V(ssm:*).
      returned: always
      type: list
      elements: str
      sample: ["s3:GetObject", "ssm:*"]
    name_actions_by_hand:
      description:
        - Services used in the period that the proposal leaves out, because allowing the whole service would
          be dangerous (V(iam), V(sts), V(kms), V(organizations), V(secretsmanager)) and IAM did not report
          which of their actions were used. The owner names the actions (and resources) to add.
      returned: always
      type: list
      elements: dict
      contains:
        namespace:
          description: The service's IAM prefix.
          type: str
        reason:
          description: Why, and what to name.
          type: str
      sample: [{"namespace": "sts", "reason": "sts:* lets the identity assume any role that trusts the account
               (GetCallerIdentity needs no permission): allow sts:AssumeRole on the ARNs of the roles the job
               assumes, if any"}]
days:
  description: The period, in days, used to judge "used recently".
  returned: always
  type: int
  sample: 90
"""

import datetime
import re
import time

try:
    import botocore
except ImportError:
    botocore = None  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

IAM_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}|aws):(user|group|role|policy)/(?:[\w+=,.@/-]+/)?([\w+=,.@-]+)$")
GRANULARITY = {"action": "ACTION_LEVEL", "service": "SERVICE_LEVEL"}
MAX_DAYS = 400  # how long IAM keeps last accessed data
POLL_SECONDS = 2.0
# Services used whose actions IAM does not report (or granularity service), where the whole service would be a
# dangerous proposal: they are left out of it and listed for the owner to name the actions.
NAME_ACTIONS_BY_HAND = {
    "iam": "iam:* lets the identity grant itself anything: name the IAM actions the job needs "
    "(granularity action lists those it used)",
    "sts": "sts:* lets the identity assume any role that trusts the account (GetCallerIdentity needs no "
    "permission): allow sts:AssumeRole on the ARNs of the roles the job assumes, if any",
    "kms": "kms:* includes changing key policies and scheduling key deletion: name the actions (Decrypt, "
    "GenerateDataKey, ...) and the key ARNs",
    "organizations": "organizations:* controls every account of the organization: name the actions",
    "secretsmanager": "secretsmanager:* reads every secret: name the actions and the secret ARNs",
}


def iso(value):
    if value is None:
        return None
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _aware(value):
    if isinstance(value, datetime.datetime) and value.tzinfo is None:
        return value.replace(tzinfo=datetime.timezone.utc)
    return value


def recent(value, cutoff):
    value = _aware(value)
    return isinstance(value, datetime.datetime) and value >= cutoff


def summarise(arn, job_id, services, days, now):
    """The module's entry for one identity, from IAM's ServicesLastAccessed list."""
    match = IAM_ARN.match(arn)
    cutoff = now - datetime.timedelta(days=days)
    entries = []
    proposal_actions, proposal_services, by_hand = [], [], []
    for svc in sorted(services, key=lambda s: s.get("ServiceNamespace", "")):
        namespace = svc.get("ServiceNamespace")
        last = svc.get("LastAuthenticated")
        used = recent(last, cutoff)
        tracked = svc.get("TrackedActionsLastAccessed")
        actions = []
        for action in sorted(tracked or [], key=lambda a: a.get("ActionName", "")):
            when = action.get("LastAccessedTime")
            actions.append(
                {
                    "action": action.get("ActionName"),
                    "last_used": iso(when),
                    "region": action.get("LastAccessedRegion"),
                    "used_recently": recent(when, cutoff),
                }
            )
        entries.append(
            {
                "namespace": namespace,
                "name": svc.get("ServiceName"),
                "last_used": iso(last),
                "region": svc.get("LastAuthenticatedRegion"),
                "used_by": svc.get("LastAuthenticatedEntity"),
                "used_by_count": svc.get("TotalAuthenticatedEntities") or 0,
                "used_recently": used,
                "actions": actions,
            }
        )
        if not used:
            continue
        recent_actions = [a["action"] for a in actions if a["used_recently"] and a["action"]]
        if recent_actions:
            proposal_actions += ["%s:%s" % (namespace, a) for a in recent_actions]
        elif namespace in NAME_ACTIONS_BY_HAND:
            by_hand.append({"namespace": namespace, "reason": NAME_ACTIONS_BY_HAND[namespace]})
        else:  # used, but IAM does not track this service's actions (or granularity is service)
            proposal_services.append("%s:*" % namespace)
    statements = []
    if proposal_actions:
        statements.append({"Sid": "UsedActions", "Effect": "Allow", "Action": proposal_actions, "Resource": "*"})
    if proposal_services:
        statements.append({"Sid": "UsedServices", "Effect": "Allow", "Action": proposal_services, "Resource": "*"})
    return {
        "arn": arn,
        "kind": match.group(2),
        "name": match.group(3),
        "job_id": job_id,
        "services": entries,
        "used_services": [e["namespace"] for e in entries if e["used_recently"]],
        "unused_services": [e["namespace"] for e in entries if not e["used_recently"]],
        "proposed_policy": {"Version": "2012-10-17", "Statement": statements} if statements else None,
        "proposed_actions": proposal_actions + proposal_services,
        "name_actions_by_hand": by_hand,
    }


def collect(client, job_id):
    """(status, services, error message) of one job; services read across every page."""
    services, marker, status, error = [], None, None, None
    while True:
        params = {"JobId": job_id, "MaxItems": 1000}
        if marker:
            params["Marker"] = marker
        answer = client.get_service_last_accessed_details(aws_retry=True, **params)
        status = answer.get("JobStatus")
        if status != "COMPLETED":
            error = (answer.get("Error") or {}).get("Message")
            return status, [], error
        services += answer.get("ServicesLastAccessed") or []
        if not answer.get("IsTruncated"):
            return status, services, None
        marker = answer.get("Marker")


def main():
    argument_spec = {
        "arns": {"type": "list", "elements": "str", "required": True},
        "granularity": {"type": "str", "choices": list(GRANULARITY), "default": "action"},
        "days": {"type": "int", "default": 90},
        "wait_timeout": {"type": "int", "default": 300},
    }
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    arns = list(dict.fromkeys(params["arns"]))
    bad = [a for a in arns if not IAM_ARN.match(a or "")]
    if bad:
        module.fail_json(
            msg="arns must be ARNs of IAM users, groups, roles or managed policies (such as "
            "arn:aws:iam::123456789012:role/app-server); not: %s. Nothing was read." % ", ".join(repr(a) for a in bad)
        )
    if not 1 <= params["days"] <= MAX_DAYS:
        module.fail_json(
            msg="days must be from 1 to %d (IAM keeps last accessed data for %d days); got %s. Nothing was read."
            % (MAX_DAYS, MAX_DAYS, params["days"])
        )
    if params["wait_timeout"] < 1:
        module.fail_json(
            msg="wait_timeout must be at least 1 second; got %s. Nothing was read." % params["wait_timeout"]
        )

    client = module.client("iam", retry_decorator=AWSRetry.jittered_backoff())
    jobs = {}
    for arn in arns:
        try:
            answer = client.generate_service_last_accessed_details(
                Arn=arn, Granularity=GRANULARITY[params["granularity"]], aws_retry=True
            )
        except is_boto3_error_code(["NoSuchEntity", "NoSuchEntityException"]):
            module.fail_json(
                msg="IAM has no %s in this account (deleted or renamed since it was listed?); list the "
                "identities again and run once more." % arn
            )
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
            module.fail_json_aws(e, msg="Could not start the last accessed report of %s" % arn)
        jobs[arn] = answer["JobId"]

    # The jobs were started in order and IAM finishes them about in that order: wait on the oldest one
    # still running, so a job is asked for again only while it is the one waited for (one call per job
    # once they are done, not one per job per round: IAM's request rate is the account's).
    deadline = time.monotonic() + params["wait_timeout"]
    done = {}
    for arn in arns:
        while arn not in done:
            try:
                status, services, error = collect(client, jobs[arn])
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
                module.fail_json_aws(e, msg="Could not read the last accessed report of %s" % arn)
            if status == "FAILED":
                module.fail_json(msg="IAM could not compute the last accessed report of %s: %s" % (arn, error))
            if status == "COMPLETED":
                done[arn] = services
            elif time.monotonic() >= deadline:
                waiting = [a for a in arns if a not in done]
                module.fail_json(
                    msg="IAM had not finished the last accessed reports of %s after wait_timeout=%ss; run again "
                    "with a longer wait_timeout." % (", ".join(waiting), params["wait_timeout"])
                )
            else:
                time.sleep(POLL_SECONDS)

    now = datetime.datetime.now(datetime.timezone.utc)
    identities = [summarise(arn, jobs[arn], done[arn], params["days"], now) for arn in arns]
    module.exit_json(changed=False, identities=identities, days=params["days"])


if __name__ == "__main__":
    main()
