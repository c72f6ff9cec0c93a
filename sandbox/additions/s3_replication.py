"""S3 replication: the full replication configuration, and objects that really replicate.

moto 5.2 stores a replication configuration but answers GetBucketReplication with every rule's
Filter, DeleteMarkerReplication and SourceSelectionCriteria replaced or dropped, and never copies an
object. Here:

- PutBucketReplication / GetBucketReplication / DeleteBucketReplication keep the configuration as
  the request gave it (botocore's shape), with the checks AWS makes: the source bucket's versioning
  Enabled, each destination bucket existing with versioning Enabled, a role, a rule that selects
  SSE-KMS objects naming a replica key, a rule with a Filter stating DeleteMarkerReplication, and
  unique priorities when there are several rules with a Filter.
- A new object in a bucket with an enabled rule that selects it (PutObject, CopyObject,
  CompleteMultipartUpload) is replicated when the request that wrote it ends: the replica is
  written to the destination bucket with the same key, version id, metadata and tags, encrypted
  with the rule's replica KMS key (SSE-KMS objects are replicated only when the rule selects them,
  as in AWS), storage class from the rule. HeadObject/GetObject then answer ReplicationStatus
  COMPLETED on the source version and REPLICA on the copy; FAILED when the destination is gone or
  no longer versioned, or when a key policy does not let the configuration's role decrypt an SSE-KMS
  object or encrypt its replica (sandbox/additions/kms_policies.py). Replicas are not replicated again.
- DeleteObject without a version id on a source whose rule has DeleteMarkerReplication Enabled
  adds a delete marker to the destination too.

The state lives on moto's bucket and key objects, so a sandbox reset forgets it with moto's state.
"""

import threading

from sandbox.additions import AdditionError, addition, kms_policies

_ATTR = "sandbox_replication"
_local = threading.local()
_PATCHED = False


def _backend(ctx):
    return ctx.backend("s3", "aws")


def _bucket(ctx, name: str):
    bucket = _backend(ctx).buckets.get(name)
    if bucket is None:
        raise AdditionError("NoSuchBucket", "The specified bucket does not exist", 404)
    return bucket


def _dest_name(arn: str) -> str:
    return str(arn or "").split(":::")[-1].split("/")[0]


def _invalid(message: str, code: str = "InvalidRequest"):
    return AdditionError(code, message, 400)


def _validate(ctx, bucket, conf: dict) -> None:
    if bucket.versioning_status != "Enabled":
        raise _invalid("Versioning must be 'Enabled' on the bucket to apply a replication configuration")
    if not conf.get("Role"):
        raise AdditionError("MalformedXML", "The XML you provided was not well-formed or did not validate")
    rules = conf.get("Rules") or []
    if not rules:
        raise AdditionError("MalformedXML", "The XML you provided was not well-formed or did not validate")
    backend = _backend(ctx)
    filtered = [rule for rule in rules if "Filter" in rule]
    priorities = [rule.get("Priority") for rule in filtered]
    if len(filtered) > 1 and len(set(priorities)) != len(priorities):
        raise _invalid(f"Found duplicate priority {priorities}", "InvalidArgument")
    ids = [rule.get("ID") for rule in rules if rule.get("ID")]
    if len(set(ids)) != len(ids):
        raise _invalid("Rule Id must be unique", "InvalidArgument")
    for rule in rules:
        if rule.get("Status") not in ("Enabled", "Disabled"):
            raise AdditionError("MalformedXML", "The XML you provided was not well-formed or did not validate")
        if "Filter" in rule and not rule.get("DeleteMarkerReplication"):
            raise _invalid(
                "DeleteMarkerReplication must be specified for this version of Cross Region Replication "
                "configuration schema.",
                "InvalidArgument",
            )
        dest = rule.get("Destination") or {}
        dest_bucket = backend.buckets.get(_dest_name(dest.get("Bucket")))
        if dest_bucket is None:
            raise _invalid("Destination bucket must exist.")
        if dest_bucket.versioning_status != "Enabled":
            raise _invalid("Destination bucket must have versioning enabled.")
        sse = ((rule.get("SourceSelectionCriteria") or {}).get("SseKmsEncryptedObjects") or {}).get("Status")
        replica_key = (dest.get("EncryptionConfiguration") or {}).get("ReplicaKmsKeyID")
        if sse == "Enabled" and not replica_key:
            raise _invalid(
                "ReplicaKmsKeyID must be specified if SseKmsEncryptedObjects tag is present.", "InvalidArgument"
            )
        if replica_key and sse != "Enabled":
            raise _invalid(
                "SseKmsEncryptedObjects must be specified if EncryptionConfiguration is present.", "InvalidArgument"
            )
        rtc = dest.get("ReplicationTime")
        if rtc and (rtc.get("Status") == "Enabled") != ((dest.get("Metrics") or {}).get("Status") == "Enabled"):
            raise _invalid("Replication Time Control needs Metrics enabled, and Metrics Replication Time Control.")


def _example_put(client):
    s3 = client("s3")
    for name in ("sandbox-example-repl-src", "sandbox-example-repl-dst"):
        s3.create_bucket(Bucket=name)
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return {
        "Bucket": "sandbox-example-repl-src",
        "ReplicationConfiguration": {
            "Role": "arn:aws:iam::123456789012:role/sandbox-replication",
            "Rules": [
                {
                    "ID": "all",
                    "Priority": 1,
                    "Status": "Enabled",
                    "Filter": {"Prefix": ""},
                    "DeleteMarkerReplication": {"Status": "Enabled"},
                    "Destination": {"Bucket": "arn:aws:s3:::sandbox-example-repl-dst"},
                }
            ],
        },
    }


def _example_get(client):
    params = _example_put(client)
    client("s3").put_bucket_replication(**params)
    return {"Bucket": params["Bucket"]}


@addition("s3", "PutBucketReplication", example=_example_put)
def put_bucket_replication(ctx):
    _install()
    bucket = _bucket(ctx, ctx.require("Bucket"))
    conf = ctx.params.get("ReplicationConfiguration") or {}
    _validate(ctx, bucket, conf)
    stored = {"Role": conf["Role"], "Rules": []}
    for rule in conf["Rules"]:
        rule = dict(rule)
        if not rule.get("ID"):
            import uuid

            rule["ID"] = uuid.uuid4().hex
        stored["Rules"].append(rule)
    setattr(bucket, _ATTR, stored)
    return {}


@addition("s3", "GetBucketReplication", example=_example_get)
def get_bucket_replication(ctx):
    name = ctx.require("Bucket")
    conf = getattr(_bucket(ctx, name), _ATTR, None)
    if not conf:
        raise AdditionError("ReplicationConfigurationNotFoundError", "The replication configuration was not found", 404)
    return {"ReplicationConfiguration": conf}


@addition("s3", "DeleteBucketReplication", example=_example_get)
def delete_bucket_replication(ctx):
    bucket = _bucket(ctx, ctx.require("Bucket"))
    setattr(bucket, _ATTR, None)
    bucket.replication = None
    return {}


# ---------------------------------------------------------------------------
# objects that replicate


def _tags_of(backend, key) -> dict:
    return backend.tagger.get_tag_dict_for_resource(key.arn)


def _rule_selects(rule: dict, key, tags: dict) -> bool:
    if rule.get("Status") != "Enabled":
        return False
    if "Filter" in rule:
        flt = rule.get("Filter") or {}
        conds = flt.get("And") or flt
        prefix = conds.get("Prefix") or ""
        wanted = list(conds.get("Tags") or []) + ([conds["Tag"]] if conds.get("Tag") else [])
    else:
        prefix = rule.get("Prefix") or ""
        wanted = []
    if not key.name.startswith(prefix):
        return False
    return all(tags.get(tag.get("Key")) == tag.get("Value") for tag in wanted)


def _selecting_rule(backend, bucket, key):
    conf = getattr(bucket, _ATTR, None)
    if not conf:
        return None
    tags = _tags_of(backend, key)
    rules = sorted(conf.get("Rules") or [], key=lambda rule: -(rule.get("Priority") or 0))
    for rule in rules:
        if not _rule_selects(rule, key, tags):
            continue
        if key.encryption in ("aws:kms", "aws:kms:dsse"):
            sse = ((rule.get("SourceSelectionCriteria") or {}).get("SseKmsEncryptedObjects") or {}).get("Status")
            if sse != "Enabled":
                continue  # AWS leaves SSE-KMS objects out unless the rule opts in
        return rule
    return None


def _pending() -> list:
    if not hasattr(_local, "pending"):
        _local.pending = []
    return _local.pending


def _replicate(backend, bucket_name: str, key_name: str, version_id: str, rule: dict) -> None:
    bucket = backend.buckets.get(bucket_name)
    key = None
    if bucket is not None:
        for candidate in bucket.keys.getlist(key_name, []):
            if candidate.version_id == version_id:
                key = candidate
    if key is None:
        return
    dest = rule.get("Destination") or {}
    dest_bucket = backend.buckets.get(_dest_name(dest.get("Bucket")))
    if dest_bucket is None or dest_bucket.versioning_status != "Enabled":
        key.sandbox_replication_status = "FAILED"
        return
    replica_key_id = (dest.get("EncryptionConfiguration") or {}).get("ReplicaKmsKeyID")
    if key.encryption in ("aws:kms", "aws:kms:dsse"):
        encryption, kms_key_id = key.encryption, replica_key_id
        # S3 replicates with the configuration's role: it must decrypt with the object's key and encrypt with
        # the replica key, which only the key policies can allow (sandbox/additions/kms_policies.py)
        role = (getattr(bucket, _ATTR, None) or {}).get("Role")
        arn = str(replica_key_id)
        dest_region = arn.split(":")[3] if arn.startswith("arn:") else dest_bucket.region_name
        refused = kms_policies.refusal(
            backend.account_id,
            role,
            [
                (bucket.region_name, key.kms_key_id, ("kms:Decrypt",)),
                (dest_region, replica_key_id, ("kms:Encrypt", "kms:GenerateDataKey")),
            ],
            "s3",
        )
        if refused:
            key.sandbox_replication_status = "FAILED"
            return
    else:
        encryption, kms_key_id = key.encryption, None
    _local.replicating = True
    try:
        replica = backend.put_object(
            dest_bucket.name,
            key.name,
            key.value,
            storage=dest.get("StorageClass") or key.storage_class,
            encryption=encryption,
            kms_key_id=kms_key_id,
            disable_notification=True,
        )
    finally:
        _local.replicating = False
    replica.set_metadata(key.metadata)
    replica._version_id = key.version_id
    replica.sandbox_replication_status = "REPLICA"
    backend.tagger.copy_tags(key.arn, replica.arn)
    key.sandbox_replication_status = "COMPLETED"


def _flush(backend) -> None:
    pending = _pending()
    while pending:
        bucket_name, key_name, version_id, rule = pending.pop(0)
        try:
            _replicate(backend, bucket_name, key_name, version_id, rule)
        except Exception:  # a replica that cannot be written is FAILED, as in AWS; the write itself stands
            bucket = backend.buckets.get(bucket_name)
            for candidate in bucket.keys.getlist(key_name, []) if bucket else []:
                if candidate.version_id == version_id:
                    candidate.sandbox_replication_status = "FAILED"


def _install() -> None:
    """Hook moto's S3 model: mark new objects a rule selects, replicate them when their request ends."""
    global _PATCHED
    if _PATCHED:
        return
    from moto.s3.models import FakeKey, S3Backend
    from moto.s3.responses import S3Response

    original_put = S3Backend.put_object
    original_key_response = S3Response._key_response
    original_response_dict = FakeKey.response_dict
    original_delete = S3Backend.delete_object

    def put_object(self, bucket_name, key_name, value, *args, **kwargs):
        key = original_put(self, bucket_name, key_name, value, *args, **kwargs)
        if not getattr(_local, "replicating", False):
            bucket = self.buckets.get(bucket_name)
            if bucket is not None and getattr(bucket, _ATTR, None):
                _pending().append((bucket_name, key_name, key.version_id, None))
        return key

    def key_response(self, request, full_url):
        try:
            return original_key_response(self, request, full_url)
        finally:
            pending = _pending()
            # the rule is chosen once the request has set the object's tags
            resolved = []
            for bucket_name, key_name, version_id, _rule in pending:
                bucket = self.backend.buckets.get(bucket_name)
                key = next(
                    (k for k in (bucket.keys.getlist(key_name, []) if bucket else []) if k.version_id == version_id),
                    None,
                )
                rule = _selecting_rule(self.backend, bucket, key) if key is not None else None
                if rule is not None:
                    key.sandbox_replication_status = "PENDING"
                    resolved.append((bucket_name, key_name, version_id, rule))
            pending[:] = resolved
            _flush(self.backend)

    def response_dict(self):
        res = original_response_dict.fget(self)
        status = getattr(self, "sandbox_replication_status", None)
        if status:
            res["x-amz-replication-status"] = status
        return res

    def delete_object(self, bucket_name, key_name, version_id=None, *args, **kwargs):
        result = original_delete(self, bucket_name, key_name, version_id, *args, **kwargs)
        if version_id is None and not getattr(_local, "replicating", False):
            bucket = self.buckets.get(bucket_name)
            conf = getattr(bucket, _ATTR, None) if bucket is not None else None
            for rule in sorted((conf or {}).get("Rules") or [], key=lambda r: -(r.get("Priority") or 0)):
                if rule.get("Status") != "Enabled":
                    continue
                if ((rule.get("DeleteMarkerReplication") or {}).get("Status")) != "Enabled":
                    continue
                flt = rule.get("Filter") or {}
                if (flt.get("Tag") or (flt.get("And") or {}).get("Tags")) or not key_name.startswith(
                    (flt.get("And") or flt).get("Prefix") or ""
                ):
                    continue  # AWS does not replicate delete markers for tag-based rules
                dest = backend_bucket = self.buckets.get(_dest_name((rule.get("Destination") or {}).get("Bucket")))
                if dest is not None and backend_bucket.keys.getlist(key_name, []):
                    _local.replicating = True
                    try:
                        original_delete(self, dest.name, key_name, None, *args, **kwargs)
                    finally:
                        _local.replicating = False
                break
        return result

    S3Backend.put_object = put_object
    S3Backend.delete_object = delete_object
    S3Response._key_response = key_response
    FakeKey.response_dict = property(response_dict)
    _PATCHED = True


_install()
