"""Where moto's answers differ from AWS's in a way that breaks real clients, in one place.

Each fix changes moto's model objects so that its own serialisers answer as AWS does;
nothing here rewrites responses on the wire.

- DescribeVolumes: AWS always returns ``SnapshotId`` (an empty string for a volume
  that was not created from a snapshot); moto leaves it out, and clients that read
  the key (amazon.aws.ec2_vol_info among them) fail.
- CreateVpcEndpoint (Interface): AWS puts the endpoint's security groups on the network interfaces it
  makes; moto gives them the VPC's default group, which then looks in use (and fails the audit's 3.3).
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


def _endpoint_interfaces_carry_the_endpoint_groups() -> None:
    from moto.ec2.models.vpcs import VPCBackend

    original = VPCBackend.create_vpc_endpoint

    def create_vpc_endpoint(self, *args, **kwargs):
        endpoint = original(self, *args, **kwargs)
        groups = [self.get_security_group_from_id(g) for g in getattr(endpoint, "security_group_ids", None) or []]
        groups = [g for g in groups if g is not None]
        if groups:
            for eni_id in getattr(endpoint, "network_interface_ids", None) or []:
                self.get_network_interface(eni_id)._group_set = list(groups)
        return endpoint

    VPCBackend.create_vpc_endpoint = create_vpc_endpoint


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
    _endpoint_interfaces_carry_the_endpoint_groups()
    _list_buckets_names_regions()
    _APPLIED = True
