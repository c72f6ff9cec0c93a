#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: guardduty_detector
version_added: 0.1.0
short_description: Turn on the GuardDuty detector of one or more regions
description:
  - Makes sure each region has an enabled Amazon GuardDuty detector, with the finding publishing frequency
    asked for. Part of closing finding C(2.11) of the risk register (no real-time monitoring of security events).
  - A region holds at most one detector per account. When there is none, one is created; when it is
    suspended or publishes at another frequency, it is updated. Missing tags are added; other tags are kept.
  - Every region is read and every input checked before anything is changed.
  - A detector is never deleted. O(state=disabled) suspends it, which keeps its findings.
author:
  - MedCircle Cloud Operations (@medcircle)
options:
  state:
    description:
      - V(enabled) creates or enables the detector, V(disabled) suspends an existing one.
    type: str
    choices: [enabled, disabled]
    default: enabled
  finding_publishing_frequency:
    description:
      - How often updated findings are published to EventBridge (and from there to alerts).
      - When omitted, a new detector gets the AWS default (V(SIX_HOURS)) and an existing one keeps its setting.
    type: str
    choices: [FIFTEEN_MINUTES, ONE_HOUR, SIX_HOURS]
  tags:
    description:
      - Tags the detector must carry. Tags not listed here are left as they are.
    type: dict
    default: {}
  regions:
    description:
      - The regions to manage, for example V([us-east-1, us-west-2]).
      - When omitted, the region of the O(region) option (or C(AWS_REGION)) is used.
    type: list
    elements: str
notes:
  - Supports C(check_mode) and C(diff_mode). In check mode only C(ListDetectors) and C(GetDetector) are called.
  - "IAM permissions: C(guardduty:ListDetectors), C(guardduty:GetDetector), C(guardduty:CreateDetector),
    C(guardduty:UpdateDetector), C(guardduty:TagResource), C(sts:GetCallerIdentity) (to tag an existing
    detector) and C(iam:CreateServiceLinkedRole) (GuardDuty's service-linked role, on the first detector)."
seealso:
  - module: medcircle.cloudops.risk_audit
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
# Note: these examples do not set authentication details; the playbooks set them
# with module_defaults for group/medcircle.cloudops.aws.

- name: 2.11 | PATCH | Turn on GuardDuty in the primary and the DR region
  medcircle.cloudops.guardduty_detector:
    regions:
      - us-east-1
      - us-west-2
    finding_publishing_frequency: FIFTEEN_MINUTES
    tags:
      Project: medcircle
  register: guardduty

- name: 2.11 | AUDIT | Show what would change, changing nothing
  medcircle.cloudops.guardduty_detector:
    regions: [us-east-1, us-west-2]
  check_mode: true
  diff: true

- name: Suspend GuardDuty in a region that is no longer used (findings are kept)
  medcircle.cloudops.guardduty_detector:
    regions: [eu-west-1]
    state: disabled
"""

RETURN = r"""
changed:
  description: Whether any region was changed (or, in check mode, would be).
  returned: always
  type: bool
  sample: true
detectors:
  description: The detector of each region after the task (in check mode, what it would be).
  returned: always
  type: list
  elements: dict
  contains:
    region:
      description: The region.
      returned: always
      type: str
      sample: us-east-1
    detector_id:
      description: The detector id; null when none exists (or, in check mode, before it is created).
      returned: always
      type: str
      sample: 12abc34d567e8fa901bc2d34e56789f0
    status:
      description: V(ENABLED), V(DISABLED), or V(NONE) when the region has no detector.
      returned: always
      type: str
      sample: ENABLED
    finding_publishing_frequency:
      description: How often updated findings are published.
      returned: always
      type: str
      sample: FIFTEEN_MINUTES
    tags:
      description: The detector's tags.
      returned: always
      type: dict
      sample: {Project: medcircle}
    action:
      description: What was done (or would be) - V(create), V(update), V(tag) or V(none).
      returned: always
      type: str
      sample: create
    changed:
      description: Whether this region was changed (or would be).
      returned: always
      type: bool
      sample: true
diff:
  description: Each region's detector before and after (null when there is none).
  returned: when diff mode is on
  type: dict
  sample:
    before:
      us-east-1: null
    after:
      us-east-1: {detector_id: null, status: ENABLED, finding_publishing_frequency: FIFTEEN_MINUTES, tags: {}}
"""

import contextlib

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    import botocore.exceptions

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.medcircle.cloudops.plugins.module_utils.common import (
    exit_with_diff,
    regional_clients,
    target_regions,
)
from ansible_collections.medcircle.cloudops.plugins.module_utils.guardduty import ensure_detectors


def main():
    argument_spec = {
        "state": {"type": "str", "choices": ["enabled", "disabled"], "default": "enabled"},
        "finding_publishing_frequency": {"type": "str", "choices": ["FIFTEEN_MINUTES", "ONE_HOUR", "SIX_HOURS"]},
        "tags": {"type": "dict", "default": {}},
        "regions": {"type": "list", "elements": "str"},
    }
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    identity = {}

    def arn_prefix(region):
        if "account" not in identity:
            sts = module.client("sts", retry_decorator=AWSRetry.jittered_backoff())
            try:
                arn = sts.get_caller_identity(aws_retry=True)["Arn"]
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
                module.fail_json_aws(e, msg="Failed to read the account id (sts:GetCallerIdentity) to tag a detector")
            identity["account"] = arn.split(":")[4]
            identity["partition"] = arn.split(":")[1]
        return "arn:%s:guardduty:%s:%s" % (identity["partition"], region, identity["account"])

    try:
        regions = target_regions(module, service="guardduty")
        clients = regional_clients(module, "guardduty", regions)
        result = ensure_detectors(
            clients,
            regions,
            state=module.params["state"],
            frequency=module.params["finding_publishing_frequency"],
            tags={str(k): str(v) for k, v in module.params["tags"].items()},
            check_mode=module.check_mode,
            arn_prefix=arn_prefix,
        )
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    exit_with_diff(module, result)


if __name__ == "__main__":
    main()
