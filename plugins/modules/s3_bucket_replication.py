#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: s3_bucket_replication
version_added: 0.1.0
short_description: Replicate an S3 bucket to a bucket in another region, and copy what is already there
description:
  - Sets the replication rules of a source bucket (the bucket of the O(region) option's region) that copy
    new objects to a destination bucket in another region (finding C(2.3), the S3 half), with rules by prefix
    and/or tags, objects encrypted with SSE-KMS included and re-encrypted with a key of the destination
    region, delete markers replicated, S3 Replication Time Control on request.
  - The rules are merged. A rule is identified by its O(rules[].id); rules of the bucket with other ids are
    kept. The role of the configuration is set to O(role_arn).
  - Replication covers objects written after it is set up. With O(replicate_existing=true) the objects
    already in the source that a rule selects and that the destination does not hold are copied too, at most
    O(replicate_existing_batch_size) per run; a run that stops part way is resumed by the next run, which
    skips what is already there. Counts are returned.
  - A destination in the source region, or a replica key ARN of another region than the destination's, is
    refused before any call, naming the option. The source and destination buckets' regions and versioning,
    and the replica keys, are checked before any change.
author:
  - MedCircle Cloud Operations (@medcircle)
options:
  bucket:
    description:
      - The source bucket. It must be in the region of the O(region) option and have versioning enabled.
    type: str
    required: true
  role_arn:
    description:
      - The IAM role S3 assumes to replicate (trusting C(s3.amazonaws.com), allowed to read the source and
        write the destination, and to use the KMS keys).
    type: str
    required: true
  rules:
    description:
      - The replication rules this module manages.
    type: list
    elements: dict
    required: true
    suboptions:
      id:
        description: The rule's id; what identifies it on later runs.
        type: str
        required: true
      priority:
        description:
          - When rules overlap, the rule with the higher priority wins. Unique among the bucket's rules.
          - Defaults to the rule's position after the highest priority of the bucket's other rules (rules
            this task does not name by O(rules[].id)), so 1, 2, ... on a bucket without other rules.
          - A priority that another rule of the bucket has already fails the task before any change.
        type: int
      enabled:
        description: Whether the rule replicates.
        type: bool
        default: true
      prefix:
        description: Only keys that start with this prefix. Empty means every key.
        type: str
        default: ""
      tags:
        description: Only objects that carry all these tags.
        type: dict
      destination_bucket:
        description: The destination bucket's name (or ARN). It must exist and have versioning enabled.
        type: str
        required: true
      destination_region:
        description: The destination bucket's region. It must not be the source region.
        type: str
        required: true
      replica_kms_key_id:
        description:
          - The KMS key of the destination region that replicas of SSE-KMS objects are encrypted with, and
            that O(replicate_existing) copies are encrypted with. An alias name or key id is looked up in the
            destination region; an ARN must be of that region.
        type: str
      replicate_kms_encrypted:
        description: Replicate objects encrypted with SSE-KMS (needs O(rules[].replica_kms_key_id)).
        type: bool
        default: true
      delete_marker_replication:
        description: Replicate delete markers (not with a tag filter, which S3 does not allow).
        type: bool
        default: true
      storage_class:
        description: The storage class of the replicas. Omitted keeps the source object's.
        type: str
      replication_time_control:
        description: S3 Replication Time Control (replicas within 15 minutes, with metrics). Extra cost.
        type: bool
        default: false
  replicate_existing:
    description:
      - Copy the objects already in the source that a rule selects and the destination lacks.
    type: bool
    default: false
  replicate_existing_batch_size:
    description:
      - At most this many objects are copied per run. The rest are counted as C(remaining).
    type: int
    default: 1000
notes:
  - Supports C(check_mode) (read calls only; the configuration it would set and the objects it would copy are
    returned) and C(diff_mode).
  - "IAM permissions: s3:GetBucketLocation, s3:GetBucketVersioning, s3:GetReplicationConfiguration,
    s3:PutReplicationConfiguration, iam:PassRole on the role, kms:DescribeKey; with O(replicate_existing)
    s3:ListBucket on both buckets, s3:GetObject (and s3:GetObjectTagging) on the source, s3:PutObject on the
    destination, kms:Decrypt and kms:GenerateDataKey on the keys."
seealso:
  - module: medcircle.cloudops.s3_bucket_protection
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: "2.3 | PATCH | Replicate the patient records to the DR region, and copy what is already there"
  medcircle.cloudops.s3_bucket_replication:
    region: us-east-1
    bucket: medcircle-patient-records-123456789012
    role_arn: arn:aws:iam::123456789012:role/medcircle-s3-replication
    rules:
      - id: cloudops-dr
        destination_bucket: medcircle-patient-records-dr-123456789012
        destination_region: us-west-2
        replica_kms_key_id: alias/medcircle-s3
    replicate_existing: true
  register: s3_replication

- name: "2.3 | PATCH | Only the records/ prefix, with Replication Time Control"
  medcircle.cloudops.s3_bucket_replication:
    region: us-east-1
    bucket: medcircle-patient-records-123456789012
    role_arn: arn:aws:iam::123456789012:role/medcircle-s3-replication
    rules:
      - id: records
        prefix: records/
        destination_bucket: medcircle-patient-records-dr-123456789012
        destination_region: us-west-2
        replica_kms_key_id: arn:aws:kms:us-west-2:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab
        replication_time_control: true
"""

RETURN = r"""
changed:
  description: Whether the configuration was changed or objects were copied (in check mode, would be).
  returned: always
  type: bool
  sample: true
replication:
  description:
    - The replication configuration after the task (in check mode, the one it would set), snake_case.
  returned: always
  type: dict
  sample: {role: "arn:aws:iam::123456789012:role/medcircle-s3-replication", rules: [{id: cloudops-dr, status: Enabled}]}
configuration_changed:
  description: Whether the configuration was (would be) changed.
  returned: always
  type: bool
  sample: true
existing:
  description: The copy of objects already present (O(replicate_existing)).
  returned: when replicate_existing is true
  type: dict
  contains:
    source_objects:
      description: Objects in the source that a rule selects.
      returned: always
      type: int
      sample: 12
    already_in_destination:
      description: Of those, how many the destination already held.
      returned: always
      type: int
      sample: 11
    copied:
      description: Objects copied by this run (in check mode, that would be).
      returned: always
      type: int
      sample: 1
    remaining:
      description: Objects left for the next run (over the batch size).
      returned: always
      type: int
      sample: 0
    failed:
      description: Objects whose copy failed (retried by the next run).
      returned: always
      type: int
      sample: 0
    copied_keys:
      description: The keys copied (at most the first 100).
      returned: always
      type: list
      elements: dict
      sample: [{key: records/patient-0001.json, destination_bucket: medcircle-patient-records-dr-123456789012}]
    failures:
      description: The keys whose copy failed, with the error.
      returned: always
      type: list
      elements: dict
      sample: []
diff:
  description: The replication configuration before and after.
  returned: when diff mode is on
  type: dict
  sample: {before: {}, after: {Role: "arn:aws:iam::123456789012:role/medcircle-s3-replication"}}
"""

import contextlib

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    from botocore.exceptions import BotoCoreError, ClientError

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.medcircle.cloudops.plugins.module_utils.common import ParameterError, validate_regions
from ansible_collections.medcircle.cloudops.plugins.module_utils.kms import describe_kms_key
from ansible_collections.medcircle.cloudops.plugins.module_utils.s3_protection import bucket_region
from ansible_collections.medcircle.cloudops.plugins.module_utils.s3_replication import (
    aws_rule,
    check_rules,
    copy_existing,
    dest_name,
    merge_config,
    place_priorities,
    read_config,
    same_config,
)


def main():
    rule_spec = {
        "id": {"type": "str", "required": True},
        "priority": {"type": "int"},
        "enabled": {"type": "bool", "default": True},
        "prefix": {"type": "str", "default": ""},
        "tags": {"type": "dict"},
        "destination_bucket": {"type": "str", "required": True},
        "destination_region": {"type": "str", "required": True},
        "replica_kms_key_id": {"type": "str"},
        "replicate_kms_encrypted": {"type": "bool", "default": True},
        "delete_marker_replication": {"type": "bool", "default": True},
        "storage_class": {"type": "str"},
        "replication_time_control": {"type": "bool", "default": False},
    }
    argument_spec = {
        "bucket": {"type": "str", "required": True},
        "role_arn": {"type": "str", "required": True},
        "rules": {"type": "list", "elements": "dict", "required": True, "options": rule_spec},
        "replicate_existing": {"type": "bool", "default": False},
        "replicate_existing_batch_size": {"type": "int", "default": 1000},
    }
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    bucket = params["bucket"]
    rules = [dict(rule) for rule in params["rules"]]
    defaulted = [index for index, rule in enumerate(rules) if rule.get("priority") is None]
    for index in defaulted:
        rules[index]["priority"] = index + 1
    warnings = []
    result = {}
    try:
        source_region = module.region
        if not source_region:
            raise ParameterError("region", None, "is not set", "the source bucket's region, such as us-east-1")
        check_rules(params["role_arn"], rules, source_region)
        for index, rule in enumerate(rules):
            validate_regions([rule["destination_region"]], service="s3", option="rules[%d].destination_region" % index)
        if params["replicate_existing_batch_size"] < 1:
            raise ParameterError(
                "replicate_existing_batch_size", params["replicate_existing_batch_size"], "must be at least 1"
            )

        def client(service, region):
            return module.client(service, region=region, retry_decorator=AWSRetry.jittered_backoff())

        s3 = client("s3", source_region)
        # where things really are, read before any change
        found = bucket_region(s3, bucket)
        if found is None:
            raise ParameterError("bucket", bucket, "does not exist", "an existing bucket in %s" % source_region)
        if found != source_region:
            raise ParameterError(
                "region", source_region, "is not the region of bucket %s (%s)" % (bucket, found), found
            )
        versioning = s3.get_bucket_versioning(Bucket=bucket, aws_retry=True).get("Status")
        if versioning != "Enabled":
            problem = "has versioning %s; replication needs it Enabled" % (versioning or "never enabled")
            if not module.check_mode:
                raise ParameterError("bucket", bucket, problem, "turn versioning on first (s3_bucket_protection)")
            warnings.append("bucket %s %s (an earlier step of a real run may turn it on)" % (bucket, problem))
        replica_keys = {}
        dest_ok = {}
        for index, rule in enumerate(rules):
            where = "rules[%d]" % index
            dregion = rule["destination_region"]
            dclient = client("s3", dregion)
            dname = dest_name(rule)
            dfound = bucket_region(dclient, dname)
            if dfound is None:
                if not module.check_mode:
                    raise ParameterError(
                        where + ".destination_bucket", dname, "does not exist", "an existing bucket in %s" % dregion
                    )
                warnings.append("%s.destination_bucket %s does not exist yet" % (where, dname))
            elif dfound != dregion:
                raise ParameterError(
                    where + ".destination_region",
                    dregion,
                    "is not the region of bucket %s (%s)" % (dname, dfound),
                    dfound,
                )
            elif dclient.get_bucket_versioning(Bucket=dname, aws_retry=True).get("Status") != "Enabled":
                if not module.check_mode:
                    raise ParameterError(
                        where + ".destination_bucket",
                        dname,
                        "does not have versioning enabled",
                        "a versioned bucket (s3_bucket_protection versioning: true)",
                    )
                warnings.append("%s.destination_bucket %s is not versioned yet" % (where, dname))
            dest_ok[rule["id"]] = dfound is not None
            if rule.get("replica_kms_key_id"):
                meta = describe_kms_key(client("kms", dregion), rule["replica_kms_key_id"])
                if meta is None:
                    if not module.check_mode:
                        raise ParameterError(
                            where + ".replica_kms_key_id",
                            rule["replica_kms_key_id"],
                            "was not found in %s" % dregion,
                            "an existing key of the destination region",
                        )
                    warnings.append(
                        "%s.replica_kms_key_id %s was not found in %s" % (where, rule["replica_kms_key_id"], dregion)
                    )
                elif meta.get("KeyState") != "Enabled":
                    raise ParameterError(
                        where + ".replica_kms_key_id",
                        rule["replica_kms_key_id"],
                        "is %s in %s" % (meta.get("KeyState"), dregion),
                        "an enabled key",
                    )
                else:
                    replica_keys[rule["id"]] = meta["Arn"]
        partition = params["role_arn"].split(":")[1]
        current = read_config(s3, bucket)
        place_priorities(rules, defaulted, current)
        ours = [aws_rule(rule, replica_keys.get(rule["id"]), partition) for rule in rules]
        wanted = merge_config(current, params["role_arn"], ours)
        config_changed = not same_config(current, wanted)
        if config_changed and not module.check_mode:
            s3.put_bucket_replication(Bucket=bucket, ReplicationConfiguration=wanted, aws_retry=True)
        result = {
            "configuration_changed": config_changed,
            "replication": camel_dict_to_snake_dict(wanted),
        }
        changed = config_changed
        if params["replicate_existing"]:
            counts = {"source_objects": 0, "already_in_destination": 0, "copied": 0, "remaining": 0, "failed": 0}
            copied, failures = [], []
            by_region = {}
            for rule in rules:
                if dest_ok.get(rule["id"]):
                    by_region.setdefault(rule["destination_region"], []).append(rule)
            for dregion, group in sorted(by_region.items()):
                part, keys, fails = copy_existing(
                    s3,
                    client("s3", dregion),
                    bucket,
                    group,
                    replica_keys,
                    params["replicate_existing_batch_size"] - counts["copied"],
                    module.check_mode,
                )
                for name in counts:
                    counts[name] += part[name]
                copied.extend(keys)
                failures.extend(fails)
            result["existing"] = dict(counts, copied_keys=copied[:100], failures=failures)
            changed = changed or counts["copied"] > 0
        result["changed"] = changed
        if module._diff:
            result["diff"] = {"before": current or {}, "after": wanted}
    except AnsibleAWSError as e:
        module.fail_json_aws_error(e)
    except (BotoCoreError, ClientError) as e:
        module.fail_json_aws(e, msg="Could not set the replication of bucket %s" % bucket)
    for warning in warnings:
        module.warn(warning)
    if result.get("existing", {}).get("failed"):
        module.fail_json(
            msg="%d object(s) could not be copied to the destination; run again to retry them"
            % result["existing"]["failed"],
            **result,
        )
    module.exit_json(**result)


if __name__ == "__main__":
    main()
