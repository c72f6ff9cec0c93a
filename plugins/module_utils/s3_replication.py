# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""S3 cross-region replication for the s3_bucket_replication module.

- check_rules(): the rules as the module takes them, checked without calling AWS (a destination in the
  source region, a replica key ARN from another region, a tag filter with delete marker replication are
  refused, naming the option).
- aws_rule(): one rule in the shape of PutBucketReplication; merge_config(): ours set by ID, the bucket's
  other rules kept; same_config(): compares as AWS answers.
- copy_existing(): the objects already in the source that a rule selects and the destination lacks, copied
  in batches; a run that stops part way is resumed by the next (what is present is skipped).
"""

import contextlib
import copy
import re

with contextlib.suppress(ImportError):  # AnsibleAWSModule reports a missing botocore
    from botocore.exceptions import BotoCoreError, ClientError

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.medcircle.cloudops.plugins.module_utils.common import ParameterError
from ansible_collections.medcircle.cloudops.plugins.module_utils.kms import parse_kms_key_id

ROLE_ARN = re.compile(r"^arn:aws(-[a-z]{1,3}){0,2}:iam::\d{12}:role/[\w+=,.@/-]+$")
STORAGE_CLASSES = (
    "STANDARD",
    "REDUCED_REDUNDANCY",
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "GLACIER",
    "DEEP_ARCHIVE",
    "GLACIER_IR",
)
MULTIPART_COPY_BYTES = 5 * 1024**3


def check_rules(role_arn, rules, source_region):
    """Raise ParameterError for the first rule that cannot work; answer nothing."""
    if not role_arn or not ROLE_ARN.match(role_arn):
        raise ParameterError("role_arn", role_arn, "is not an IAM role ARN", "arn:aws:iam::ACCOUNT:role/NAME")
    if not rules:
        raise ParameterError("rules", rules, "is empty", "at least one rule")
    ids = set()
    priorities = set()
    for index, rule in enumerate(rules):
        where = "rules[%d]" % index
        rid = rule.get("id")
        if not rid or len(rid) > 255:
            raise ParameterError(where + ".id", rid, "must be 1 to 255 characters", "a unique rule id")
        if rid in ids:
            raise ParameterError(where + ".id", rid, "is used by another rule", "a unique rule id")
        ids.add(rid)
        prio = rule.get("priority")
        if prio in priorities:
            raise ParameterError(where + ".priority", prio, "is used by another rule", "a unique priority")
        priorities.add(prio)
        dest_region = rule.get("destination_region")
        if dest_region == source_region:
            raise ParameterError(
                where + ".destination_region",
                dest_region,
                "is the source bucket's region (%s): a copy there does not survive the loss of the region"
                % source_region,
                "another region, such as the DR region",
            )
        dest = rule.get("destination_bucket") or ""
        if dest.startswith("arn:"):
            dest = dest.split(":::")[-1]
        if not 3 <= len(dest) <= 63:
            raise ParameterError(where + ".destination_bucket", rule.get("destination_bucket"), "is not a bucket name")
        key = rule.get("replica_kms_key_id")
        if key:
            ref = parse_kms_key_id(key, option=where + ".replica_kms_key_id")
            if ref.region is not None and ref.region != dest_region:
                raise ParameterError(
                    where + ".replica_kms_key_id",
                    key,
                    "is a key in %s, but the destination bucket is in %s" % (ref.region, dest_region),
                    "a key of the destination region %s (its ARN, or an alias name looked up there)" % dest_region,
                )
        if rule.get("replicate_kms_encrypted") and not key:
            raise ParameterError(
                where + ".replica_kms_key_id",
                None,
                "is required when replicate_kms_encrypted is true",
                "a KMS key in %s" % dest_region,
            )
        if rule.get("tags") and rule.get("delete_marker_replication"):
            raise ParameterError(
                where + ".delete_marker_replication",
                True,
                "cannot be used with a tag filter (S3 does not replicate delete markers for tag-based rules)",
                "false, or a rule without tags",
            )
        storage = rule.get("storage_class")
        if storage and storage not in STORAGE_CLASSES:
            raise ParameterError(
                where + ".storage_class", storage, "is not an S3 storage class", ", ".join(STORAGE_CLASSES)
            )


def dest_name(rule):
    dest = rule["destination_bucket"]
    return dest.split(":::")[-1] if dest.startswith("arn:") else dest


def aws_rule(rule, replica_key_arn=None, partition="aws"):
    """One module rule in the shape of PutBucketReplication's Rules[]."""
    tags = [{"Key": k, "Value": str(v)} for k, v in sorted((rule.get("tags") or {}).items())]
    prefix = rule.get("prefix") or ""
    if tags and (prefix or len(tags) > 1):
        flt = {"And": {"Prefix": prefix, "Tags": tags} if prefix else {"Tags": tags}}
    elif tags:
        flt = {"Tag": tags[0]}
    else:
        flt = {"Prefix": prefix}
    dest = {"Bucket": "arn:%s:s3:::%s" % (partition, dest_name(rule))}
    key = replica_key_arn or rule.get("replica_kms_key_id")
    if key and rule.get("replicate_kms_encrypted"):
        dest["EncryptionConfiguration"] = {"ReplicaKmsKeyID": key}
    if rule.get("storage_class"):
        dest["StorageClass"] = rule["storage_class"]
    if rule.get("replication_time_control"):
        dest["ReplicationTime"] = {"Status": "Enabled", "Time": {"Minutes": 15}}
        dest["Metrics"] = {"Status": "Enabled", "EventThreshold": {"Minutes": 15}}
    out = {
        "ID": rule["id"],
        "Priority": rule["priority"],
        "Status": "Enabled" if rule.get("enabled", True) else "Disabled",
        "Filter": flt,
        "DeleteMarkerReplication": {"Status": "Enabled" if rule.get("delete_marker_replication") else "Disabled"},
        "Destination": dest,
    }
    if rule.get("replicate_kms_encrypted"):
        out["SourceSelectionCriteria"] = {"SseKmsEncryptedObjects": {"Status": "Enabled"}}
    return out


def read_config(client, bucket):
    try:
        return client.get_bucket_replication(Bucket=bucket, aws_retry=True).get("ReplicationConfiguration")
    except is_boto3_error_code("ReplicationConfigurationNotFoundError"):
        return None


def place_priorities(rules, defaulted, current):
    """Make the priorities of ``rules`` unique beside the bucket's other rules (S3 refuses a duplicate priority).

    ``defaulted`` are the indexes of the rules given without a priority: they follow the other rules' highest
    priority, in the order given (1, 2, ... on a bucket without other rules), so they win where they overlap one of
    them. A priority given that another rule already has is refused, naming that rule.
    """
    ids = {rule["id"] for rule in rules}
    others = {r.get("Priority"): r.get("ID") for r in ((current or {}).get("Rules") or []) if r.get("ID") not in ids}
    others.pop(None, None)
    taken = set(others) | {rule["priority"] for index, rule in enumerate(rules) if index not in defaulted}
    candidate = max(others, default=0)
    for index in defaulted:
        candidate += 1
        while candidate in taken:  # a priority given to another of these rules
            candidate += 1
        rules[index]["priority"] = candidate
    for index, rule in enumerate(rules):
        if index not in defaulted and rule["priority"] in others:
            raise ParameterError(
                "rules[%d].priority" % index,
                rule["priority"],
                "is the priority of rule %s already on the bucket" % others[rule["priority"]],
                "another priority, or none (then it follows the bucket's other rules)",
            )


def merge_config(current, role_arn, ours):
    """The configuration to put: our rules set by ID, the other rules of ``current`` kept, our role."""
    ids = {r["ID"] for r in ours}
    kept = [copy.deepcopy(r) for r in ((current or {}).get("Rules") or []) if r.get("ID") not in ids]
    return {"Role": role_arn, "Rules": kept + list(ours)}


def _norm_rule(rule):
    rule = copy.deepcopy(rule)
    flt = rule.get("Filter")
    if flt == {}:
        rule["Filter"] = {"Prefix": ""}
    sel = rule.get("SourceSelectionCriteria") or {}
    sel = {k: v for k, v in sel.items() if not (k == "ReplicaModifications" and v.get("Status") == "Disabled")}
    if sel:
        rule["SourceSelectionCriteria"] = sel
    else:
        rule.pop("SourceSelectionCriteria", None)
    return rule


def same_config(current, wanted):
    if not current:
        return False
    if current.get("Role") != wanted.get("Role"):
        return False
    a = sorted((_norm_rule(r) for r in current.get("Rules") or []), key=lambda r: r.get("ID") or "")
    b = sorted((_norm_rule(r) for r in wanted.get("Rules") or []), key=lambda r: r.get("ID") or "")
    return a == b


def _list(client, bucket, prefix):
    objects = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []) or []:
            objects[obj["Key"]] = obj
    return objects


def _selected(client, bucket, key, tags):
    if not tags:
        return True
    have = client.get_object_tagging(Bucket=bucket, Key=key, aws_retry=True).get("TagSet", [])
    have = {t["Key"]: t["Value"] for t in have}
    return all(have.get(k) == str(v) for k, v in tags.items())


def copy_existing(src_client, dest_client, bucket, rules, replica_keys, batch_size, check_mode):
    """Copy what each enabled rule selects and its destination lacks; answer the counts and the keys copied."""
    counts = {"source_objects": 0, "already_in_destination": 0, "copied": 0, "remaining": 0, "failed": 0}
    copied, failures = [], []
    budget = batch_size
    seen = set()
    for rule in sorted(rules, key=lambda r: -r["priority"]):
        if not rule.get("enabled", True):
            continue
        dest = dest_name(rule)
        source = _list(src_client, bucket, rule.get("prefix") or "")
        present = _list(dest_client, dest, rule.get("prefix") or "")
        for key in sorted(source):
            if key in seen:
                continue  # the rule with the higher priority has it
            obj = source[key]
            if not _selected(src_client, bucket, key, rule.get("tags")):
                continue
            seen.add(key)
            counts["source_objects"] += 1
            if key in present and present[key].get("Size") == obj.get("Size"):
                counts["already_in_destination"] += 1
                continue
            if budget <= 0:
                counts["remaining"] += 1
                continue
            budget -= 1
            if check_mode:
                counts["copied"] += 1
                copied.append({"key": key, "destination_bucket": dest})
                continue
            extra = {"MetadataDirective": "COPY", "TaggingDirective": "COPY"}
            key_arn = replica_keys.get(rule["id"]) or rule.get("replica_kms_key_id")
            if key_arn:
                extra.update({"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": key_arn})
            if rule.get("storage_class"):
                extra["StorageClass"] = rule["storage_class"]
            try:
                if obj.get("Size", 0) >= MULTIPART_COPY_BYTES:
                    dest_client.copy(
                        {"Bucket": bucket, "Key": key}, dest, key, ExtraArgs=extra, SourceClient=src_client
                    )
                else:
                    dest_client.copy_object(
                        Bucket=dest, Key=key, CopySource={"Bucket": bucket, "Key": key}, aws_retry=True, **extra
                    )
            except (
                BotoCoreError,
                ClientError,
            ) as error:  # one object that fails does not stop the others; the next run retries it
                counts["failed"] += 1
                failures.append({"key": key, "error": str(error)})
                continue
            counts["copied"] += 1
            copied.append({"key": key, "destination_bucket": dest})
    return counts, copied, failures
