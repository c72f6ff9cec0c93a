"""S3 Object Lock on an existing bucket (PutObjectLockConfiguration).

Since November 2023 AWS lets Object Lock be turned on for an existing bucket that has versioning
enabled, objects already present or not. moto 5.2 still refuses a bucket that holds objects
("Bucket needs to be empty"). This addition answers as AWS does: versioning must be Enabled
(``InvalidBucketState``, 409), ``ObjectLockEnabled`` must be ``Enabled``, a default retention needs
a mode and exactly one of Days or Years, and Object Lock cannot be turned off once on. The state
stays on moto's bucket (``object_lock_enabled``, ``default_lock_*``), so moto's
GetObjectLockConfiguration and its PutObject retention defaults read it.
"""

from sandbox.additions import AdditionError, addition


def _bucket(ctx, name: str):
    backend = ctx.backend("s3", "aws")
    bucket = backend.buckets.get(name)
    if bucket is None:
        raise AdditionError("NoSuchBucket", "The specified bucket does not exist", 404)
    return bucket


def _example(client):
    s3 = client("s3")
    s3.create_bucket(Bucket="sandbox-example-object-lock")
    s3.put_bucket_versioning(Bucket="sandbox-example-object-lock", VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket="sandbox-example-object-lock", Key="already-here.txt", Body=b"x")
    return {
        "Bucket": "sandbox-example-object-lock",
        "ObjectLockConfiguration": {
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}},
        },
    }


@addition("s3", "PutObjectLockConfiguration", example=_example)
def put_object_lock_configuration(ctx):
    bucket = _bucket(ctx, ctx.require("Bucket"))
    conf = ctx.params.get("ObjectLockConfiguration") or {}
    enabled = conf.get("ObjectLockEnabled")
    if enabled != "Enabled":
        if bucket.object_lock_enabled:
            raise AdditionError("InvalidRequest", "Object Lock cannot be disabled once it is enabled")
        raise AdditionError("MalformedXML", "The XML you provided was not well-formed or did not validate")
    if bucket.versioning_status != "Enabled":
        raise AdditionError(
            "InvalidBucketState",
            "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration",
            409,
        )
    retention = (conf.get("Rule") or {}).get("DefaultRetention")
    mode = days = years = None
    if retention:
        mode = retention.get("Mode")
        days = retention.get("Days")
        years = retention.get("Years")
        if mode not in ("GOVERNANCE", "COMPLIANCE"):
            raise AdditionError("MalformedXML", "The XML you provided was not well-formed or did not validate")
        if (days is None) == (years is None):
            raise AdditionError("MalformedXML", "The XML you provided was not well-formed or did not validate")
        if (days is not None and days <= 0) or (years is not None and years <= 0):
            raise AdditionError("InvalidArgument", "Default retention period must be a positive integer value")
    bucket.object_lock_enabled = True
    bucket.default_lock_mode = mode
    # moto adds both to the retain-until date of new objects: the one not given counts as 0
    bucket.default_lock_days = days or 0
    bucket.default_lock_years = years or 0
    return {}


def _example_get(client):
    params = _example(client)
    client("s3").put_object_lock_configuration(**params)
    return {"Bucket": params["Bucket"]}


@addition("s3", "GetObjectLockConfiguration", example=_example_get)
def get_object_lock_configuration(ctx):
    """As AWS answers: the default retention names the one period it was given (moto adds the other as 0)."""
    bucket = _bucket(ctx, ctx.require("Bucket"))
    if not bucket.object_lock_enabled:
        raise AdditionError(
            "ObjectLockConfigurationNotFoundError", "Object Lock configuration does not exist for this bucket", 404
        )
    conf = {"ObjectLockEnabled": "Enabled"}
    if bucket.default_lock_mode:
        retention = {"Mode": bucket.default_lock_mode}
        if bucket.default_lock_days:
            retention["Days"] = bucket.default_lock_days
        if bucket.default_lock_years:
            retention["Years"] = bucket.default_lock_years
        conf["Rule"] = {"DefaultRetention": retention}
    return {"ObjectLockConfiguration": conf}


# moto asks every PUT on an object of a bucket with a default retention for Content-MD5 or an SDK checksum
# header, CopyObject and the tagging/ACL/retention/legal-hold subresources included. AWS asks it only of
# uploads that carry data (PutObject, UploadPart): CopyObject copies data S3 already holds. For those
# requests the check is skipped; a copy still gets the bucket's default retention, as in AWS.
_SUBRESOURCES = ("tagging", "acl", "retention", "legal-hold")
_PATCHED = False


def _install() -> None:
    global _PATCHED
    if _PATCHED:
        return
    from moto.s3.responses import S3Response

    original = S3Response._key_response_put

    def key_response_put(self, query, key_name):
        is_copy = "x-amz-copy-source" in self.headers and not query.get("uploadId")
        exempt = is_copy or any(name in query for name in _SUBRESOURCES)
        has_checksum = self.headers.get("Content-Md5") or self.headers.get("x-amz-sdk-checksum-algorithm")
        bucket = self.backend.buckets.get(self.bucket_name)
        if not exempt or has_checksum or bucket is None or not bucket.has_default_lock:
            return original(self, query, key_name)
        mode = bucket.default_lock_mode
        bucket.default_lock_mode = None
        try:
            response = original(self, query, key_name)
        finally:
            bucket.default_lock_mode = mode
        if is_copy and not self.headers.get("x-amz-object-lock-mode"):
            key = self.backend.get_object(self.bucket_name, key_name)
            if key is not None and not key.lock_mode:
                key.lock_mode = mode
                key.lock_until = bucket.default_retention()
        return response

    S3Response._key_response_put = key_response_put
    _PATCHED = True


_install()
