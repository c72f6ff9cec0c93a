# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""S3 bucket protection for the s3_bucket_protection module.

One bucket at a time, in three steps that never mix: read its settings (read_bucket), work out what
differs from the wanted protection (plan_bucket: a list of steps, each a description and the call
that makes it so), then, outside check mode, make the calls (apply_steps). Settings the caller did
not ask for are not touched; the bucket policy and the lifecycle configuration are merged: the
statements and rules of others are kept, ours are identified by their Sid and ID.

Default encryption with ``keep_customer_managed_key``: a bucket whose default encryption is already
SSE-KMS (or DSSE-KMS) with a customer-managed key other than the one asked for keeps it. Its owner
chose that key (the CloudTrail bucket is on the logs key, which the monitoring role gives it), and
the risk audit passes such a bucket on findings 1.6 and 2.5, so replacing the key would change
nothing the audit measures, would flip against the key's owner on every run, and could lock out
the writers that may use only that key. A bucket with no default encryption, SSE-S3 or an AWS
managed key (aws/s3) gets the key asked for, as before. Whether a key is customer-managed is
KMS DescribeKey's KeyManager; a key KMS does not describe (deleted, another account's, access
denied) is kept, as the audit keeps it, and reported.
"""

import copy
import json

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.medcircle.cloudops.plugins.module_utils.common import ParameterError

TLS_SID = "CloudopsDenyInsecureTransport"
LOG_DELIVERY_SID = "CloudopsS3ServerAccessLogDelivery"
LIFECYCLE_ID = "cloudops-retention"
PAB_ALL = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}
NOT_FOUND = {
    "encryption": "ServerSideEncryptionConfigurationNotFoundError",
    "policy": "NoSuchBucketPolicy",
    "public_access_block": "NoSuchPublicAccessBlockConfiguration",
    "object_lock": "ObjectLockConfigurationNotFoundError",
    "lifecycle": "NoSuchLifecycleConfiguration",
    "tags": "NoSuchTagSet",
    "replication": "ReplicationConfigurationNotFoundError",
}
SSE_ALGORITHMS = ("aws:kms", "AES256")
# Default encryption with a KMS key: SSE-KMS and dual-layer DSSE-KMS (both pass the audit's 1.6 and 2.5).
KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")
LOCK_MODES = ("GOVERNANCE", "COMPLIANCE")


def _read(client, what, call, **kwargs):
    try:
        return call(aws_retry=True, **kwargs)
    except is_boto3_error_code(NOT_FOUND[what]):
        return None


def bucket_region(client, name):
    """The bucket's region (GetBucketLocation answers None for us-east-1 and EU for eu-west-1), or None if missing."""
    try:
        loc = client.get_bucket_location(Bucket=name, aws_retry=True).get("LocationConstraint")
    except is_boto3_error_code(["NoSuchBucket", "404"]):
        return None
    return {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}.get(loc, loc)


def list_buckets(client):
    """Every bucket of the account: [{Name, BucketRegion?}] (ListBuckets, paginated where supported)."""
    if client.can_paginate("list_buckets"):
        buckets = []
        for page in client.get_paginator("list_buckets").paginate():
            buckets.extend(page.get("Buckets", []))
        return buckets
    return client.list_buckets(aws_retry=True).get("Buckets", [])


def bucket_tags(client, name):
    tagging = _read(client, "tags", client.get_bucket_tagging, Bucket=name)
    return {t["Key"]: t["Value"] for t in (tagging or {}).get("TagSet", [])}


def read_bucket(client, name, want):
    """The settings of ``name`` that ``want`` (a set of setting names) asks about."""
    state = {}
    if "versioning" in want:
        ver = client.get_bucket_versioning(Bucket=name, aws_retry=True)
        state["versioning"] = ver.get("Status") or "Disabled"
    if "encryption" in want:
        enc = _read(client, "encryption", client.get_bucket_encryption, Bucket=name)
        rules = ((enc or {}).get("ServerSideEncryptionConfiguration") or {}).get("Rules", [])
        rule = rules[0] if rules else {}
        default = rule.get("ApplyServerSideEncryptionByDefault") or {}
        state["encryption"] = {
            "sse_algorithm": default.get("SSEAlgorithm"),
            "kms_key_id": default.get("KMSMasterKeyID"),
            "bucket_key_enabled": bool(rule.get("BucketKeyEnabled")),
        }
    if "policy" in want:
        pol = _read(client, "policy", client.get_bucket_policy, Bucket=name)
        state["policy"] = json.loads(pol["Policy"]) if pol and pol.get("Policy") else None
    if "logging" in want:
        log = client.get_bucket_logging(Bucket=name, aws_retry=True).get("LoggingEnabled") or {}
        state["logging"] = (
            {"target_bucket": log.get("TargetBucket"), "target_prefix": log.get("TargetPrefix", "")} if log else None
        )
    if "public_access_block" in want:
        pab = _read(client, "public_access_block", client.get_public_access_block, Bucket=name)
        state["public_access_block"] = (pab or {}).get("PublicAccessBlockConfiguration") or {}
    if "object_lock" in want:
        lock = _read(client, "object_lock", client.get_object_lock_configuration, Bucket=name)
        conf = (lock or {}).get("ObjectLockConfiguration") or {}
        retention = (conf.get("Rule") or {}).get("DefaultRetention")
        state["object_lock"] = {
            "enabled": conf.get("ObjectLockEnabled") == "Enabled",
            "retention": {k.lower(): v for k, v in retention.items()} if retention else None,
        }
    if "lifecycle" in want:
        life = _read(client, "lifecycle", client.get_bucket_lifecycle_configuration, Bucket=name)
        state["lifecycle"] = (life or {}).get("Rules", [])
    if "tags" in want:
        state["tags"] = bucket_tags(client, name)
    return state


def describe_bucket_kms_key(client, key_id):
    """What KMS says of a bucket's default key: {arn, key_manager (CUSTOMER/AWS), key_state, error}.

    ``client`` is a KMS client of the bucket's region. A key that KMS does not describe (deleted, in
    another account that does not let this one describe it) gives ``error``, the error code, and None
    elsewhere.
    """
    if key_id.startswith("alias/aws/") or ":alias/aws/" in key_id:
        return {"arn": None, "key_manager": "AWS", "key_state": None, "error": None}
    try:
        meta = client.describe_key(KeyId=key_id, aws_retry=True)["KeyMetadata"]
    except is_boto3_error_code(["NotFoundException", "AccessDeniedException", "InvalidArnException"]) as e:
        return {"arn": None, "key_manager": None, "key_state": None, "error": e.response["Error"]["Code"]}
    return {
        "arn": meta.get("Arn"),
        "key_manager": meta.get("KeyManager"),
        "key_state": meta.get("KeyState"),
        "error": None,
    }


def other_kms_key(state, params, kms_key_arn=None):
    """The KMS key id of the bucket's SSE-KMS default encryption when it is not the key asked for, else None.

    Only with keep_customer_managed_key and encryption aws:kms: the key that plan_bucket keeps when it is
    customer-managed (what the caller then asks KMS with describe_bucket_kms_key).
    """
    if params.get("encryption") != "aws:kms" or not params.get("keep_customer_managed_key"):
        return None
    current = state.get("encryption") or {}
    key = current.get("kms_key_id")
    if current.get("sse_algorithm") not in KMS_ALGORITHMS or not key:
        return None  # SSE-S3, no default encryption, or SSE-KMS with the AWS managed aws/s3 key
    if key in (kms_key_arn, params.get("kms_key_id")):
        return None
    return key


def keeps_own_kms_key(state, params, kms_key_arn=None, current_key=None):
    """Whether the bucket keeps its own customer-managed key (see this file's docstring).

    ``current_key`` is describe_bucket_kms_key()'s answer for other_kms_key(). The key asked for, named
    another way (its key id, an alias ARN), is not another key: the plan then sets it by ARN.
    """
    if other_kms_key(state, params, kms_key_arn) is None:
        return False
    current_key = current_key or {}
    if kms_key_arn and current_key.get("arn") == kms_key_arn:
        return False
    return current_key.get("key_manager") != "AWS"


# --- wanted settings --------------------------------------------------------------------------------------


def check_options(params):
    """Raise ParameterError for options that cannot work, before any call to AWS."""
    enc = params.get("encryption")
    if enc is not None and enc not in SSE_ALGORITHMS:
        raise ParameterError("encryption", enc, "is not an encryption AWS S3 offers here", ", ".join(SSE_ALGORITHMS))
    if enc == "aws:kms" and not params.get("kms_key_id"):
        raise ParameterError(
            "kms_key_id", None, "is required when encryption is aws:kms", "a KMS key id, alias name or ARN"
        )
    if enc == "AES256" and params.get("kms_key_id"):
        raise ParameterError(
            "kms_key_id",
            params["kms_key_id"],
            "cannot be used with encryption AES256",
            "no kms_key_id, or encryption aws:kms",
        )
    if params.get("accept_access_logs") and enc == "aws:kms":
        raise ParameterError(
            "encryption",
            enc,
            "cannot be used on a bucket that receives server access logs (accept_access_logs true): S3 delivers "
            "them only to buckets encrypted with SSE-S3",
            "AES256",
        )
    days = params.get("lifecycle_expiration_days")
    if days is not None and days < 1:
        raise ParameterError("lifecycle_expiration_days", days, "must be at least 1", "1 or more days")
    ret = params.get("object_lock_retention")
    if ret:
        if not params.get("object_lock"):
            raise ParameterError(
                "object_lock_retention", ret, "needs object_lock: true", "object_lock: true, or no retention"
            )
        if ret.get("mode") not in LOCK_MODES:
            raise ParameterError("object_lock_retention.mode", ret.get("mode"), "is not valid", ", ".join(LOCK_MODES))
        if (ret.get("days") is None) == (ret.get("years") is None):
            raise ParameterError(
                "object_lock_retention", ret, "must give exactly one of days and years", "days: N or years: N"
            )
        for unit in ("days", "years"):
            if ret.get(unit) is not None and ret[unit] < 1:
                raise ParameterError("object_lock_retention.%s" % unit, ret[unit], "must be at least 1", "1 or more")
    if params.get("object_lock") and params.get("versioning") is False:
        raise ParameterError(
            "versioning", False, "cannot be false with object_lock: true (Object Lock needs versioning)", "true"
        )
    prefix = params.get("log_target_prefix") or ""
    if prefix.startswith("/"):
        raise ParameterError("log_target_prefix", prefix, "must not start with /", "a prefix such as {bucket}/")


def tls_statement(name, partition="aws"):
    arn = "arn:%s:s3:::%s" % (partition, name)
    return {
        "Sid": TLS_SID,
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": "s3:*",
        "Resource": [arn, arn + "/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def log_delivery_statement(name, account_id, partition="aws"):
    return {
        "Sid": LOG_DELIVERY_SID,
        "Effect": "Allow",
        "Principal": {"Service": "logging.s3.amazonaws.com"},
        "Action": "s3:PutObject",
        "Resource": "arn:%s:s3:::%s/*" % (partition, name),
        "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
    }


def merged_policy(current, ours):
    """``current`` (a policy dict or None) with each statement of ``ours`` set by its Sid; others kept."""
    policy = copy.deepcopy(current) if current else {"Version": "2012-10-17", "Statement": []}
    statements = policy.get("Statement") or []
    if isinstance(statements, dict):
        statements = [statements]
    by_sid = {s["Sid"]: s for s in ours}
    kept = []
    for stmt in statements:
        sid = stmt.get("Sid") if isinstance(stmt, dict) else None
        if sid in by_sid:
            kept.append(by_sid.pop(sid))
        else:
            kept.append(stmt)
    kept.extend(by_sid[s["Sid"]] for s in ours if s["Sid"] in by_sid)
    policy["Statement"] = kept
    policy.setdefault("Version", "2012-10-17")
    return policy


def _norm(value):
    """Compare policies as AWS stores them: a one-element list and its element are the same."""
    if isinstance(value, dict):
        return {k: _norm(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [_norm(v) for v in value]
        if len(items) == 1 and not isinstance(items[0], dict):
            return items[0]
        if all(isinstance(v, str) for v in items):
            return sorted(items)
        return items
    return value


def lifecycle_rule(days, noncurrent_days):
    rule = {
        "ID": LIFECYCLE_ID,
        "Status": "Enabled",
        "Filter": {"Prefix": ""},
        "Expiration": {"Days": days},
        "NoncurrentVersionExpiration": {"NoncurrentDays": noncurrent_days or days},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
    }
    return rule


def _lifecycle_same(current, wanted):
    keys = ("Status", "Filter", "Expiration", "NoncurrentVersionExpiration", "AbortIncompleteMultipartUpload")
    for key in keys:
        a = current.get(key)
        b = wanted.get(key)
        if key == "Filter" and (a or {}).get("Prefix", "") == "" and not set(a or {}) - {"Prefix"}:
            a = {"Prefix": ""}
        if key == "NoncurrentVersionExpiration" and a:
            a = {"NoncurrentDays": a.get("NoncurrentDays")}
        if a != b:
            return False
    return True


def wanted_settings(params):
    """The names of the settings the caller manages (what read_bucket needs to read)."""
    want = set()
    if params.get("versioning") is not None or params.get("object_lock"):
        want.add("versioning")
    if params.get("encryption"):
        want.add("encryption")
    if params.get("tls_only") or params.get("accept_access_logs"):
        want.add("policy")
    if params.get("log_target_buckets"):
        want.add("logging")
    if params.get("block_public_access"):
        want.add("public_access_block")
    if params.get("object_lock"):
        want.add("object_lock")
    if params.get("lifecycle_expiration_days"):
        want.add("lifecycle")
    if params.get("tags"):
        want.add("tags")
    return want


def plan_bucket(
    name, region, state, params, kms_key_arn=None, account_id=None, partition="aws", exists=True, current_key=None
):
    """Steps that give ``name`` the wanted protection: [(description, operation, kwargs)] in the order to run.

    ``state`` is read_bucket()'s answer ({} for a bucket that does not exist yet). ``kms_key_arn`` is the
    key ARN kms_key_id resolves to in the bucket's region (None if unknown: the key is then compared as given).
    ``current_key`` is what KMS says of the bucket's own key (describe_bucket_kms_key), with
    keep_customer_managed_key: a customer-managed key is kept.
    """
    steps = []
    after = copy.deepcopy(state)
    if not exists:
        kwargs = {"Bucket": name}
        if region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
        if params.get("object_lock"):
            kwargs["ObjectLockEnabledForBucket"] = True
        steps.append(("create the bucket in %s" % region, "create_bucket", kwargs))
        state = {
            "versioning": "Enabled" if params.get("object_lock") else "Disabled",
            # what a new bucket has depends on the account's defaults: set every managed setting explicitly
            "encryption": {},
            "policy": None,
            "logging": None,
            "public_access_block": {},
            "object_lock": {"enabled": bool(params.get("object_lock")), "retention": None},
            "lifecycle": [],
            "tags": {},
        }
        after = copy.deepcopy(state)

    # tags first: they are what a tag selector finds the bucket by
    tags = params.get("tags") or {}
    if tags:
        current = state.get("tags") or {}
        merged = dict(current)
        merged.update({k: str(v) for k, v in tags.items()})
        if merged != current:
            missing = sorted(k for k in merged if current.get(k) != merged[k])
            steps.append(
                (
                    "tag it with %s" % ", ".join("%s=%s" % (k, merged[k]) for k in missing),
                    "put_bucket_tagging",
                    {
                        "Bucket": name,
                        "Tagging": {"TagSet": [{"Key": k, "Value": v} for k, v in sorted(merged.items())]},
                    },
                )
            )
        after["tags"] = merged

    pab = params.get("block_public_access")
    if pab:
        current = state.get("public_access_block") or {}
        if any(not current.get(k) for k in PAB_ALL):
            steps.append(
                (
                    "block all public access",
                    "put_public_access_block",
                    {"Bucket": name, "PublicAccessBlockConfiguration": dict(PAB_ALL)},
                )
            )
        after["public_access_block"] = dict(PAB_ALL)

    versioning = params.get("versioning")
    if versioning or params.get("object_lock"):
        if state.get("versioning") != "Enabled":
            steps.append(
                (
                    "turn on versioning (was %s)"
                    % ("never enabled" if state.get("versioning") in (None, "Disabled") else state["versioning"]),
                    "put_bucket_versioning",
                    {"Bucket": name, "VersioningConfiguration": {"Status": "Enabled"}},
                )
            )
        after["versioning"] = "Enabled"
    elif versioning is False and state.get("versioning") == "Enabled":
        steps.append(
            (
                "suspend versioning",
                "put_bucket_versioning",
                {"Bucket": name, "VersioningConfiguration": {"Status": "Suspended"}},
            )
        )
        after["versioning"] = "Suspended"

    enc = params.get("encryption")
    if enc and not keeps_own_kms_key(state, params, kms_key_arn, current_key):
        current = state.get("encryption") or {}
        bucket_key = bool(params.get("bucket_key_enabled", True)) if enc == "aws:kms" else False
        key_wanted = (kms_key_arn or params.get("kms_key_id")) if enc == "aws:kms" else None
        same_key = enc != "aws:kms" or current.get("kms_key_id") in (
            kms_key_arn,
            params.get("kms_key_id"),
        )
        if (
            current.get("sse_algorithm") != enc
            or not same_key
            or (enc == "aws:kms" and current.get("bucket_key_enabled") != bucket_key)
        ):
            default = {"SSEAlgorithm": enc}
            if key_wanted:
                default["KMSMasterKeyID"] = key_wanted
            rule = {"ApplyServerSideEncryptionByDefault": default}
            if enc == "aws:kms":
                rule["BucketKeyEnabled"] = bucket_key
            steps.append(
                (
                    "encrypt new objects with %s%s%s (was %s%s)"
                    % (
                        "SSE-KMS" if enc == "aws:kms" else "SSE-S3",
                        " key %s" % key_wanted if key_wanted else "",
                        " and an S3 bucket key" if bucket_key else "",
                        current.get("sse_algorithm") or "none",
                        " key %s" % current["kms_key_id"] if current.get("kms_key_id") else "",
                    ),
                    "put_bucket_encryption",
                    {"Bucket": name, "ServerSideEncryptionConfiguration": {"Rules": [rule]}},
                )
            )
            after["encryption"] = {"sse_algorithm": enc, "kms_key_id": key_wanted, "bucket_key_enabled": bucket_key}

    if params.get("object_lock"):
        current = state.get("object_lock") or {}
        ret = params.get("object_lock_retention")
        wanted_ret = {k: v for k, v in (ret or {}).items() if v is not None} or None
        if not current.get("enabled") or (ret is not None and current.get("retention") != wanted_ret):
            conf = {"ObjectLockEnabled": "Enabled"}
            if wanted_ret:
                conf["Rule"] = {"DefaultRetention": {k.capitalize(): v for k, v in wanted_ret.items()}}
            elif current.get("retention"):
                conf["Rule"] = {"DefaultRetention": {k.capitalize(): v for k, v in current["retention"].items()}}
            desc = "turn on Object Lock" if not current.get("enabled") else "set the Object Lock default retention"
            if wanted_ret:
                desc += " (default retention %s %s %s)" % (
                    wanted_ret["mode"],
                    wanted_ret.get("days") or wanted_ret.get("years"),
                    "days" if wanted_ret.get("days") else "years",
                )
            steps.append((desc, "put_object_lock_configuration", {"Bucket": name, "ObjectLockConfiguration": conf}))
            after["object_lock"] = {"enabled": True, "retention": wanted_ret or current.get("retention")}

    ours = []
    if params.get("tls_only"):
        ours.append(tls_statement(name, partition))
    if params.get("accept_access_logs"):
        ours.append(log_delivery_statement(name, account_id or "", partition))
    if ours:
        current = state.get("policy")
        merged = merged_policy(current, ours)
        if _norm(merged) != _norm(current):
            present = {s.get("Sid") for s in ((current or {}).get("Statement") or []) if isinstance(s, dict)}
            what = []
            for stmt in ours:
                verb = "update" if stmt["Sid"] in present else "add"
                what.append(
                    "%s statement %s (%s)"
                    % (
                        verb,
                        stmt["Sid"],
                        "deny every request not made over TLS"
                        if stmt["Sid"] == TLS_SID
                        else "let S3 deliver server access logs",
                    )
                )
            others = len(merged["Statement"]) - len(ours)
            steps.append(
                (
                    "%s in the bucket policy, %s"
                    % (
                        "; ".join(what),
                        "keeping its %d other statement(s)" % others if others else "which has no other statement",
                    ),
                    "put_bucket_policy",
                    {"Bucket": name, "Policy": json.dumps(merged, sort_keys=True)},
                )
            )
        after["policy"] = merged

    days = params.get("lifecycle_expiration_days")
    if days:
        current = state.get("lifecycle") or []
        wanted = lifecycle_rule(days, params.get("lifecycle_noncurrent_days"))
        mine = [r for r in current if r.get("ID") == LIFECYCLE_ID]
        if not mine or not _lifecycle_same(mine[0], wanted):
            rules = [r for r in current if r.get("ID") != LIFECYCLE_ID] + [wanted]
            steps.append(
                (
                    "keep objects %d days (older versions %d days) with lifecycle rule %s, keeping %d other rule(s)"
                    % (days, wanted["NoncurrentVersionExpiration"]["NoncurrentDays"], LIFECYCLE_ID, len(rules) - 1),
                    "put_bucket_lifecycle_configuration",
                    {"Bucket": name, "LifecycleConfiguration": {"Rules": rules}},
                )
            )
            after["lifecycle"] = rules

    targets = params.get("log_target_buckets") or {}
    if targets and region in targets and targets[region] != name:
        target = targets[region]
        prefix = (params.get("log_target_prefix") or "").replace("{bucket}", name)
        current = state.get("logging")
        wanted = {"target_bucket": target, "target_prefix": prefix}
        if current != wanted:
            steps.append(
                (
                    "send server access logs to s3://%s/%s (was %s)"
                    % (
                        target,
                        prefix,
                        "s3://%s/%s" % (current["target_bucket"], current["target_prefix"]) if current else "off",
                    ),
                    "put_bucket_logging",
                    {
                        "Bucket": name,
                        "BucketLoggingStatus": {"LoggingEnabled": {"TargetBucket": target, "TargetPrefix": prefix}},
                    },
                )
            )
        after["logging"] = wanted
    return steps, state, after


def apply_steps(client, steps):
    for _desc, operation, kwargs in steps:
        getattr(client, operation)(aws_retry=True, **kwargs)
