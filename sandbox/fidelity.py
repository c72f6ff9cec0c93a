"""Where moto's answers differ from AWS's in a way that breaks real clients, in one place.

Each fix changes moto's model objects so that its own serialisers answer as AWS does;
nothing here rewrites responses on the wire.

- DescribeVolumes: AWS always returns ``SnapshotId`` (an empty string for a volume
  that was not created from a snapshot); moto leaves it out, and clients that read
  the key (amazon.aws.ec2_vol_info among them) fail.
- ListBuckets: AWS names each bucket's region (``BucketRegion``); moto leaves it out, and clients
  (the risk audit among them) then ask GetBucketLocation once per bucket.
"""

_APPLIED = False


def _volume_snapshot_id_is_never_missing() -> None:
    from moto.ec2.models.elastic_block_store import Volume

    original = Volume.__init__

    def __init__(self, *args, **kwargs):
        original(self, *args, **kwargs)
        if self.snapshot_id is None:
            self.snapshot_id = ""

    Volume.__init__ = __init__


def _list_buckets_names_regions() -> None:
    from moto.core.responses import ActionResult
    from moto.s3.responses import S3Response

    def all_buckets(self):
        # moto's S3Response.all_buckets, with each bucket's region as AWS gives it
        self.data["Action"] = "ListAllMyBuckets"
        self._authenticate_and_authorize_s3_action()
        listed = self.backend.list_buckets(
            prefix=self._get_param("prefix"),
            bucket_region=self._get_param("bucket-region"),
            max_buckets=self._get_param("max-buckets"),
        )
        buckets = [
            {"Name": b.name, "CreationDate": b.creation_date_ISO8601, "BucketRegion": b.region_name} for b in listed
        ]
        self.data["Action"] = "ListBuckets"
        owner = {"ID": "bcaf1ffd86f41161ca5fb16fd081034f", "DisplayName": "webfile"}
        return self.serialized(ActionResult({"Owner": owner, "Buckets": buckets}))

    S3Response.all_buckets = all_buckets


def apply() -> None:
    global _APPLIED
    if _APPLIED:
        return
    _volume_snapshot_id_is_never_missing()
    _list_buckets_names_regions()
    _APPLIED = True
