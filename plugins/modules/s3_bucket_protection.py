#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: s3_bucket_protection
version_added: 0.1.0
short_description: Protect S3 buckets (versioning, SSE-KMS, TLS only, access logging, public access block, Object Lock)
description:
  - Gives one or more S3 buckets, named or selected by tags, the protection settings asked for, and
    changes only what differs. Settings whose option is not given are left as they are.
  - Versioning on (finding C(2.4)); default encryption with SSE-KMS and a customer-managed key, with an
    S3 bucket key (C(1.6), C(2.5)); a statement that denies every request not made over TLS, merged into
    the existing bucket policy (C(2.8)); server access logging to a log bucket in the bucket's region
    (C(2.7), C(2.9)); Block Public Access; Object Lock with an optional default retention on an existing
    bucket (C(2.6)); tags, added to the bucket's tags.
  - For a log bucket, O(accept_access_logs) adds the statement that lets the S3 logging service write,
    and O(lifecycle_expiration_days) a lifecycle rule that keeps the logs for a given time.
  - The bucket policy and the lifecycle configuration are merged, never replaced. The statements this module
    manages are identified by their Sid (C(CloudopsDenyInsecureTransport), C(CloudopsS3ServerAccessLogDelivery)),
    its lifecycle rule by its ID (C(cloudops-retention)); every other statement and rule is kept as it is.
  - Every bucket is read and every option checked before any change; bad input fails without changing anything.
author:
  - MedCircle Cloud Operations (@medcircle)
options:
  buckets:
    description:
      - Names of the buckets to protect. A name with C(*), C(?) or C([) is a pattern matched against every
        bucket of the account (V(*) selects them all).
      - Together with O(bucket_tags), the buckets named here and the buckets that carry the tags are protected.
    type: list
    elements: str
    default: []
  exclude_buckets:
    description:
      - Names or patterns of buckets never selected (for example the log buckets, protected by a task of their own).
    type: list
    elements: str
    default: []
  bucket_tags:
    description:
      - Protect every bucket of the account that carries all these tags, for example C(DataClass=phi).
    type: dict
    default: {}
  create:
    description:
      - Create a bucket of O(buckets) that does not exist, in the region of the O(region) option.
      - With O(object_lock=true) the bucket is created with Object Lock on.
      - When false, a named bucket that does not exist is an error.
    type: bool
    default: false
  versioning:
    description:
      - V(true) turns versioning on; V(false) suspends it; omitted leaves it as it is.
      - Object Lock needs versioning, so O(object_lock=true) turns it on too.
    type: bool
  encryption:
    description:
      - Default encryption of new objects. V(aws:kms) is SSE-KMS with O(kms_key_id); V(AES256) is SSE-S3.
      - S3 delivers server access logs only to buckets encrypted with SSE-S3, so a log bucket uses V(AES256).
      - Omitted leaves default encryption as it is.
    type: str
    choices: [aws:kms, AES256]
  kms_key_id:
    description:
      - The KMS key for O(encryption=aws:kms). A key id, alias name, key ARN or alias ARN.
      - An alias name or key id is looked up in each bucket's region; an ARN can only be used for buckets in its region.
    type: str
  keep_customer_managed_key:
    description:
      - With O(encryption=aws:kms), a bucket whose default encryption is already SSE-KMS or DSSE-KMS with another
        B(customer-managed) key keeps its default encryption as it is (the key, and its bucket key setting).
        Only buckets with no default encryption, SSE-S3 or an AWS managed key (C(aws/s3)) get O(kms_key_id).
      - Use it for a sweep over buckets that other owners encrypt with keys of their own (the CloudTrail bucket
        is on the logs key). Such a bucket already passes findings C(1.6) and C(2.5), and replacing its key would
        undo its owner's choice on every run. Each bucket kept is named in RV(buckets[].notes).
      - Whether a key is customer-managed is KMS C(DescribeKey)'s C(KeyManager). A key that KMS does not describe
        (deleted, in another account, access denied) is kept too, with a warning; so is a key that is not
        enabled (new uploads to the bucket fail until its owner acts).
      - V(false) gives every selected bucket O(kms_key_id).
    type: bool
    default: false
  bucket_key_enabled:
    description:
      - Use an S3 bucket key with SSE-KMS (fewer KMS requests, lower cost).
    type: bool
    default: true
  tls_only:
    description:
      - Merge into the bucket policy a statement (Sid C(CloudopsDenyInsecureTransport)) that denies C(s3:*) when
        C(aws:SecureTransport) is false. Other statements are kept.
    type: bool
    default: false
  block_public_access:
    description:
      - Turn on all four Block Public Access settings of the bucket.
    type: bool
    default: false
  log_target_buckets:
    description:
      - Region -> log bucket. Each protected bucket sends its server access logs to the log bucket of its
        region (S3 delivers logs only within a region). A log bucket is not set to log to itself.
      - A bucket whose region has no entry is left as it is.
    type: dict
    default: {}
  log_target_prefix:
    description:
      - The key prefix of the logs in the log bucket. C({bucket}) is replaced by the bucket's name.
    type: str
    default: "{bucket}/"
  accept_access_logs:
    description:
      - This is a log bucket. Merge into its policy a statement (Sid C(CloudopsS3ServerAccessLogDelivery)) that
        lets C(logging.s3.amazonaws.com) write objects, for requests from this account only.
    type: bool
    default: false
  lifecycle_expiration_days:
    description:
      - Keep objects this many days (a lifecycle rule with ID C(cloudops-retention), merged with the bucket's
        other rules). Omitted leaves the lifecycle configuration as it is.
    type: int
  lifecycle_noncurrent_days:
    description:
      - Keep older versions this many days after they are replaced. Defaults to O(lifecycle_expiration_days).
    type: int
  object_lock:
    description:
      - Turn on Object Lock (on an existing bucket, versioning is turned on first). It cannot be turned off again.
      - V(false) leaves Object Lock as it is.
    type: bool
    default: false
  object_lock_retention:
    description:
      - The default retention of new object versions. Omitted keeps the bucket's current default retention.
    type: dict
    suboptions:
      mode:
        description:
          - V(GOVERNANCE) lets users with special permission delete or shorten; V(COMPLIANCE) lets nobody.
        type: str
        choices: [GOVERNANCE, COMPLIANCE]
        required: true
      days:
        description: Retention in days. Exactly one of O(object_lock_retention.days) and O(object_lock_retention.years).
        type: int
      years:
        description: Retention in years.
        type: int
  tags:
    description:
      - Tags to set on the buckets. Tags already on a bucket that are not listed here are kept.
    type: dict
    default: {}
notes:
  - Supports C(check_mode) (only read calls are made, the plan is returned) and C(diff_mode).
  - Object Lock on an existing bucket uses C(PutObjectLockConfiguration), which AWS accepts on any bucket
    with versioning enabled. See U(https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock-configure.html).
  - "IAM permissions: s3:ListAllMyBuckets, s3:GetBucketLocation, s3:GetBucketTagging and s3:Get/Put of each setting
    managed (BucketVersioning, EncryptionConfiguration, BucketPolicy, BucketLogging, BucketPublicAccessBlock,
    BucketObjectLockConfiguration, LifecycleConfiguration), s3:CreateBucket with O(create), kms:DescribeKey
    (of O(kms_key_id), and with O(keep_customer_managed_key) of the buckets' own keys), sts:GetCallerIdentity with
    O(accept_access_logs)."
seealso:
  - module: medcircle.cloudops.s3_bucket_replication
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: "1.6 | 2.4 | 2.5 | 2.8 | PATCH | Protect the patient-records bucket"
  medcircle.cloudops.s3_bucket_protection:
    buckets: [medcircle-patient-records-123456789012]
    versioning: true
    encryption: aws:kms
    kms_key_id: alias/medcircle-s3
    tls_only: true
    block_public_access: true
    log_target_buckets:
      us-east-1: medcircle-s3-access-logs-123456789012

- name: "1.6 | 2.5 | PATCH | The S3 key on every bucket that has no customer-managed key of its own"
  medcircle.cloudops.s3_bucket_protection:
    buckets: ["*"]
    encryption: aws:kms
    kms_key_id: alias/medcircle-s3
    keep_customer_managed_key: true

- name: "2.6 | PATCH | Object Lock on every bucket tagged DataClass=phi, 30 days in governance mode"
  medcircle.cloudops.s3_bucket_protection:
    bucket_tags: {DataClass: phi}
    object_lock: true
    object_lock_retention: {mode: GOVERNANCE, days: 30}

- name: "2.7 | PATCH | Create the log bucket: SSE-S3, versioned, 365 days of logs"
  medcircle.cloudops.s3_bucket_protection:
    region: us-east-1
    buckets: [medcircle-s3-access-logs-123456789012]
    create: true
    versioning: true
    encryption: AES256
    tls_only: true
    block_public_access: true
    accept_access_logs: true
    lifecycle_expiration_days: 365

- name: "2.4 | AUDIT | What would change, nothing changed"
  medcircle.cloudops.s3_bucket_protection:
    buckets: [medcircle-patient-records-123456789012]
    versioning: true
    tls_only: true
  check_mode: true
  diff: true
  register: s3_plan
"""

RETURN = r"""
changed:
  description: Whether any bucket was changed (in check mode, would be).
  returned: always
  type: bool
  sample: true
buckets:
  description: Each selected bucket, what was (or would be) changed.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The bucket.
      returned: always
      type: str
      sample: medcircle-patient-records-123456789012
    region:
      description: Its region.
      returned: always
      type: str
      sample: us-east-1
    created:
      description: Whether the bucket was (would be) created.
      returned: always
      type: bool
      sample: false
    changed:
      description: Whether the bucket was (would be) changed.
      returned: always
      type: bool
      sample: true
    changes:
      description: What was (would be) done, one sentence per setting.
      returned: always
      type: list
      elements: str
      sample: ["turn on versioning (was never enabled)"]
    notes:
      description: What was left as it is on purpose, one sentence each (a customer-managed key kept).
      returned: always
      type: list
      elements: str
      sample:
        - >-
          keeps its own customer-managed key arn:aws:kms:us-east-1:123456789012:key/0987dcba-09fe-87dc-65ba-ab0987654321
          (not alias/medcircle-s3): its default encryption is left as it is
summary:
  description: Counts over all selected buckets.
  returned: always
  type: dict
  contains:
    matched:
      description: Buckets selected.
      returned: always
      type: int
      sample: 3
    changed:
      description: Buckets changed (in check mode, that would change).
      returned: always
      type: int
      sample: 1
  sample: {matched: 3, changed: 1}
diff:
  description: The managed settings of each bucket before and after, keyed by bucket name.
  returned: when diff mode is on
  type: dict
  contains:
    before:
      description: Before the task.
      returned: when diff mode is on
      type: dict
      sample: {medcircle-patient-records-123456789012: {versioning: Disabled}}
    after:
      description: After the task (in check mode, what it would be).
      returned: when diff mode is on
      type: dict
      sample: {medcircle-patient-records-123456789012: {versioning: Enabled}}
"""

import contextlib
import fnmatch

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    from botocore.exceptions import BotoCoreError, ClientError

from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.medcircle.cloudops.plugins.module_utils.common import ParameterError, validate_regions
from ansible_collections.medcircle.cloudops.plugins.module_utils.kms import (
    check_kms_key_region,
    describe_kms_key,
    parse_kms_key_id,
)
from ansible_collections.medcircle.cloudops.plugins.module_utils.s3_protection import (
    apply_steps,
    bucket_region,
    bucket_tags,
    check_options,
    describe_bucket_kms_key,
    keeps_own_kms_key,
    list_buckets,
    other_kms_key,
    plan_bucket,
    read_bucket,
    wanted_settings,
)

BUCKET_NAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789.-")


class Clients:
    """One client per service and region, made when first needed, each with jittered retries."""

    def __init__(self, module):
        self.module = module
        self._clients = {}

    def __call__(self, service, region):
        key = (service, region)
        if key not in self._clients:
            self._clients[key] = self.module.client(
                service, region=region, retry_decorator=AWSRetry.jittered_backoff(catch_extra_error_codes=["SlowDown"])
            )
        return self._clients[key]


def _is_pattern(name):
    return any(c in name for c in "*?[")


def _check_names(names):
    for name in names:
        if isinstance(name, str) and _is_pattern(name):
            continue
        if not isinstance(name, str) or not 3 <= len(name) <= 63 or set(name) - BUCKET_NAME_CHARS:
            raise ParameterError(
                "buckets",
                name,
                "is not a valid S3 bucket name",
                "3 to 63 lowercase letters, digits, dots and hyphens",
            )


def select_buckets(clients, home, params):
    """[(name, region or None when missing)] of the named buckets and those that carry bucket_tags."""
    s3 = clients("s3", home)
    selected = {}
    listed = {}
    if params["bucket_tags"] or params["buckets"]:
        for bucket in list_buckets(s3):
            listed[bucket["Name"]] = bucket.get("BucketRegion")
    for name in params["buckets"]:
        if _is_pattern(name):
            for found in sorted(listed):
                if fnmatch.fnmatchcase(found, name):
                    selected[found] = listed[found] or bucket_region(s3, found)
        elif name in listed:
            selected[name] = listed[name] or bucket_region(s3, name)
        else:
            selected[name] = None
    if params["bucket_tags"]:
        wanted = {k: str(v) for k, v in params["bucket_tags"].items()}
        for name in sorted(listed):
            if name in selected:
                continue
            region = listed[name] or bucket_region(s3, name)
            tags = bucket_tags(clients("s3", region), name)
            if all(tags.get(k) == v for k, v in wanted.items()):
                selected[name] = region
    excluded = params["exclude_buckets"]
    return {n: r for n, r in selected.items() if not any(fnmatch.fnmatchcase(n, pat) for pat in excluded)}


def main():
    argument_spec = {
        "buckets": {"type": "list", "elements": "str", "default": []},
        "exclude_buckets": {"type": "list", "elements": "str", "default": []},
        "bucket_tags": {"type": "dict", "default": {}},
        "create": {"type": "bool", "default": False},
        "versioning": {"type": "bool"},
        "encryption": {"type": "str", "choices": ["aws:kms", "AES256"]},
        "kms_key_id": {"type": "str"},
        "keep_customer_managed_key": {"type": "bool", "default": False},
        "bucket_key_enabled": {"type": "bool", "default": True},
        "tls_only": {"type": "bool", "default": False},
        "block_public_access": {"type": "bool", "default": False},
        "log_target_buckets": {"type": "dict", "default": {}},
        "log_target_prefix": {"type": "str", "default": "{bucket}/"},
        "accept_access_logs": {"type": "bool", "default": False},
        "lifecycle_expiration_days": {"type": "int"},
        "lifecycle_noncurrent_days": {"type": "int"},
        "object_lock": {"type": "bool", "default": False},
        "object_lock_retention": {
            "type": "dict",
            "options": {
                "mode": {"type": "str", "choices": ["GOVERNANCE", "COMPLIANCE"], "required": True},
                "days": {"type": "int"},
                "years": {"type": "int"},
            },
        },
        "tags": {"type": "dict", "default": {}},
    }
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        required_one_of=[("buckets", "bucket_tags")],
    )
    params = module.params
    try:
        check_options(params)
        _check_names(params["buckets"])
        if params["log_target_buckets"]:
            validate_regions(list(params["log_target_buckets"]), service="s3", option="log_target_buckets")
            _check_names(list(params["log_target_buckets"].values()))
        home = module.region or "us-east-1"
        clients = Clients(module)
        selected = select_buckets(clients, home, params)
        for name, region in selected.items():
            if region is None and not params["create"]:
                raise ParameterError(
                    "buckets", name, "does not exist in this account", "an existing bucket, or create: true"
                )
        # the log buckets must exist (or be created by this same task) in the region they serve
        for log_region, log_bucket in params["log_target_buckets"].items():
            if selected.get(log_bucket, "") == log_region or (
                log_bucket in selected and selected[log_bucket] is None and home == log_region
            ):
                continue
            region = bucket_region(clients("s3", log_region), log_bucket)
            if region is None and not module.check_mode:
                raise ParameterError(
                    "log_target_buckets",
                    log_bucket,
                    "does not exist",
                    "an existing bucket in %s (create the log bucket first)" % log_region,
                )
            if region is not None and region != log_region:
                raise ParameterError(
                    "log_target_buckets",
                    log_bucket,
                    "is in %s, not in %s" % (region, log_region),
                    "a log bucket in the same region as the buckets it serves",
                )
        # the KMS key of each region, resolved before any change
        key_arns = {}
        warnings = []
        if params["encryption"] == "aws:kms":
            ref = parse_kms_key_id(params["kms_key_id"])
            for region in sorted({r or home for r in selected.values()}):
                check_kms_key_region(ref, region)
                meta = describe_kms_key(clients("kms", region), ref.value)
                if meta is None:
                    if module.check_mode:
                        warnings.append(
                            "kms_key_id %s was not found in %s; the plan names it as given (an earlier step of a "
                            "real run may create it)" % (ref.value, region)
                        )
                        key_arns[region] = None
                        continue
                    raise ParameterError("kms_key_id", ref.value, "was not found in %s" % region, "an existing key")
                if meta.get("KeyState") != "Enabled":
                    raise ParameterError(
                        "kms_key_id", ref.value, "is %s in %s" % (meta.get("KeyState"), region), "an enabled key"
                    )
                key_arns[region] = meta["Arn"]
        account_id = None
        partition = "aws"
        if params["accept_access_logs"]:
            ident = clients("sts", home).get_caller_identity(aws_retry=True)
            account_id = ident["Account"]
            partition = ident["Arn"].split(":")[1]
        want = wanted_settings(params)
        plans = []
        described = {}
        for name in sorted(selected):
            region = selected[name]
            exists = region is not None
            region = region or home
            state = read_bucket(clients("s3", region), name, want) if exists else {}
            notes = []
            current_key = None
            own_key = other_kms_key(state, params, key_arns.get(region))
            if own_key is not None:
                if (region, own_key) not in described:
                    described[region, own_key] = describe_bucket_kms_key(clients("kms", region), own_key)
                current_key = described[region, own_key]
                if keeps_own_kms_key(state, params, key_arns.get(region), current_key):
                    notes.append(
                        "keeps its own customer-managed key %s (not %s): its default encryption is left as it is"
                        % (current_key.get("arn") or own_key, params["kms_key_id"])
                    )
                    if current_key.get("error"):
                        warnings.append(
                            "Bucket %s keeps its default KMS key %s, which KMS does not describe (%s): if the key "
                            "was deleted, new uploads to the bucket fail; ask the key's owner or give the bucket "
                            "another key." % (name, own_key, current_key["error"])
                        )
                    elif current_key.get("key_state") not in (None, "Enabled"):
                        warnings.append(
                            "Bucket %s keeps its default KMS key %s, which is %s: new uploads to the bucket fail "
                            "until the key is enabled again or the bucket gets another key."
                            % (name, current_key.get("arn") or own_key, current_key["key_state"])
                        )
            steps, before, after = plan_bucket(
                name,
                region,
                state,
                params,
                key_arns.get(region),
                account_id,
                partition,
                exists=exists,
                current_key=current_key,
            )
            plans.append((name, region, exists, steps, before, after, notes))
        results = []
        for name, region, exists, steps, _before, _after, notes in plans:
            if steps and not module.check_mode:
                apply_steps(clients("s3", region), steps)
            results.append(
                {
                    "name": name,
                    "region": region,
                    "created": not exists,
                    "changed": bool(steps),
                    "changes": [desc for desc, _op, _kw in steps],
                    "notes": notes,
                }
            )
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg="Could not protect the S3 buckets")
    for warning in warnings:
        module.warn(warning)
    result = {
        "changed": any(r["changed"] for r in results),
        "buckets": results,
        "summary": {"matched": len(results), "changed": sum(1 for r in results if r["changed"])},
    }
    if module._diff:
        result["diff"] = {
            "before": {name: before for name, _r, _e, _s, before, _a, _n in plans},
            "after": {name: after for name, _r, _e, _s, _b, after, _n in plans},
        }
    module.exit_json(**result)


if __name__ == "__main__":
    main()
