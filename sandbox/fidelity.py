"""Where moto's answers differ from AWS's in a way that breaks real clients, in one place.

Each fix changes moto's model objects (for DescribeInstances' pages, which objects its handler
hands to the serialiser; for a refusal AWS makes or a member AWS always answers, what moto's response
handler raises or hands on) so that its own serialisers answer as AWS does; nothing here rewrites
responses on the wire.

- DescribeVolumes: AWS always returns ``SnapshotId`` (an empty string for a volume
  that was not created from a snapshot); moto leaves it out, and clients that read
  the key (amazon.aws.ec2_vol_info among them) fail.
- CreateVpcEndpoint (Interface): AWS puts the endpoint's security groups on the network interfaces it
  makes; moto gives them the VPC's default group, which then looks in use (and fails the audit's 3.3).
- ListBuckets: AWS names each bucket's region (``BucketRegion``); moto leaves it out, and clients
  (the risk audit among them) then ask GetBucketLocation once per bucket.
- WAFv2 CreateWebACL, UpdateWebACL, CreateRuleGroup, UpdateRuleGroup: a rate-based statement sent without
  ``EvaluationWindowSec`` is stored, and returned by GetWebACL/GetRuleGroup, with ``EvaluationWindowSec: 300``
  ("Default: 300 (5 minutes)", API reference of RateBasedStatement); moto stored the statement as sent, so a
  client that compares what it sent with what AWS returns looked idempotent here and not on AWS.
- CreateDBInstanceReadReplica: moto makes the replica a shallow copy of its source, so it inherits everything
  and shares the source's lists and managed master secret (deleting the replica, once promoted, deleted the
  source's secret; a log type enabled on one showed on both). AWS (API reference of the operation): "RDS creates
  read replicas with backups disabled"; MultiAZ, MonitoringInterval ("The default is 0"), DeletionProtection,
  CopyTagsToSnapshot ("By default, tags aren't copied") and EnableIAMDatabaseAuthentication are the request's
  or off; a cross-Region replica gets "the default DBParameterGroup for the specified DB engine" unless one is
  named. The replica has the tags and CloudWatch Logs exports of the request (moto dropped the request's
  EnableCloudwatchLogsExports) and no master secret of its own. A cross-Region replica is in an Availability Zone
  of its own Region (the one asked for, or one of its DB subnet group's); moto kept the source's zone.
- GetCallerIdentity: for an IAM user AWS answers ``arn:aws:iam::<account>:user/<name>`` with a user id that
  starts ``AIDA``; moto's default caller (credentials it did not issue, as the sandbox's are) answered
  ``arn:aws:sts::<account>:user/moto`` with the access key as the user id, an ARN no key or IAM policy can name.
- DescribeInstances with ``MaxResults``: AWS counts instances ("the maximum number of items to return"), so a
  reservation of many instances is split over pages, each page naming the reservation with its instances on
  that page; moto counted reservations, so a page held any number of instances (a launch of 500 was one item).
  Without ``MaxResults`` (every instance in one answer) or with instance ids, moto answers as before.
- CreateSnapshot (and CreateSnapshots) of an encrypted volume: AWS encrypts the snapshot with the volume's KMS
  key ("Snapshots that you create from an encrypted volume are automatically encrypted" with its key) and
  DescribeSnapshots names it (``KmsKeyId``); moto left the snapshot without a key, so a client could not tell
  which key a restore from it would use.
- CreateImage: AWS makes the image's root snapshot from the instance's root volume (its encryption and key);
  moto snapshots a new blank, unencrypted volume, so an image of an encrypted instance looked unencrypted.
- CopySnapshot and CopyImage: AWS encrypts the copy when the source is encrypted, when ``Encrypted`` is true or
  when encryption by default is on in the destination region ("You can encrypt a copy of an unencrypted snapshot,
  but you cannot create an unencrypted copy of an encrypted snapshot"), with ``KmsKeyId`` (which needs
  ``Encrypted``) or else the region's default KMS key for EBS, and DescribeSnapshots names the key by its ARN.
  moto ignored ``Encrypted``: an unencrypted snapshot copied with ``Encrypted`` and a key stayed unencrypted, an
  encrypted one copied without a key had none, and an image's copy got a new unencrypted snapshot.
- CreateVolume (and the volumes RunInstances makes): AWS names a volume's key by its ARN whatever the request named
  it by (an alias), encrypts a volume made from an encrypted snapshot with the snapshot's key unless another is
  given, and encrypts every new volume when encryption by default is on in the region; moto kept the request's
  alias, gave a volume restored from an encrypted snapshot no key, and ignored encryption by default.
- RDS gp3 storage: AWS answers ``Iops`` and ``StorageThroughput`` for every gp3 database, the baseline it gives
  when the request names none (RDS User Guide, "gp3 storage": 3,000 IOPS and 125 MiBps below 400 GiB for MySQL,
  MariaDB, PostgreSQL and Db2, below 200 GiB for Oracle, at any size for SQL Server; 12,000 IOPS and 500 MiBps
  from there). moto left both out, and clients that read them for a gp3 database (amazon.aws.rds_instance, on any
  change to the database) failed with a KeyError. Below that size the baseline is fixed: AWS refuses a
  CreateDBInstance or RestoreDBInstanceFromDBSnapshot naming ``Iops`` or ``StorageThroughput`` for gp3
  (InvalidParameterCombination); moto took them.
- UpdateSecurityGroupRuleDescriptionsIngress and ...Egress: AWS answers ``Return: true`` ("Returns true if the
  request succeeds"); moto answered nothing, and amazon.aws.ec2_security_group, which reads ``Return`` after it
  updates a rule's description, failed with KeyError: 'Return'. moto also found the rule to update by comparing
  the security group pair of the request with the stored one description included, so a rule whose source or
  destination is a security group never took a new description (AWS changes it): amazon.aws.ec2_security_group
  then asked for the change again on every run. (moto keeps no description at all for a rule to a prefix list;
  the collection's allow-lists in the sandbox name none.)
- PutMetricFilter: AWS creates the filter or, when the log group has one of that name, updates it. moto added a
  second filter of the same name, and amazon.aws.cloudwatchlogs_log_group_metric_filter, which takes a filter as
  absent unless exactly one matches its name, put the filter again on every run.
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


# CreateDBInstanceReadReplica settings (moto's parameter names) that AWS leaves off unless the request sets them.
_REPLICA_OFF_UNLESS_GIVEN = {
    "multi_az": False,
    "deletion_protection": False,
    "copy_tags_to_snapshot": False,
    "enable_iam_database_authentication": False,
}


def _replica_zone(replica, asked):
    """The Availability Zone of a cross-Region replica: the one asked for, else one of its DB subnet group's (in its
    own Region), else the Region's first. moto kept the source's zone, in the source's Region."""
    if asked:
        return asked
    group = getattr(replica, "db_subnet_group", None)
    zones = sorted(
        {subnet.availability_zone for subnet in getattr(group, "_subnets", None) or []}
        if getattr(group, "region", replica.region) == replica.region
        else set()
    )
    zones = [zone for zone in zones if zone.startswith(replica.region)]
    return zones[0] if zones else f"{replica.region}a"


def _read_replicas_start_as_aws_makes_them() -> None:
    from moto.rds.models import RDSBackend

    original = RDSBackend.create_db_instance_read_replica

    def create_db_instance_read_replica(self, db_kwargs):
        from moto.rds.exceptions import InvalidParameterValue

        source = self.find_db_from_id(db_kwargs["source_db_instance_identifier"])
        # AWS makes no read replica of a database whose master password Secrets Manager manages (every engine
        # but SQL Server; RDS User Guide, "Limitations for Secrets Manager integration with Amazon RDS")
        managed = getattr(source, "manage_master_user_password", False) or "master_user_secret" in vars(source)
        if managed and not str(source.engine).startswith("sqlserver"):
            raise InvalidParameterValue(
                f"Creating read replicas for source instance with engine {source.engine} where "
                "ManageMasterUserPassword is enabled is not supported."
            )
        replica = original(self, db_kwargs)
        for name, default in _REPLICA_OFF_UNLESS_GIVEN.items():
            if db_kwargs.get(name) is None:
                setattr(replica, name, default)
        if db_kwargs.get("monitoring_interval") is None:
            replica.monitoring_interval = 0
            replica.monitoring_role_arn = db_kwargs.get("monitoring_role_arn")
        replica.backup_retention_period = 0
        replica.tags = list(db_kwargs.get("tags") or [])
        replica.enabled_cloudwatch_logs_exports = list(db_kwargs.get("enable_cloudwatch_logs_exports") or [])
        replica.vpc_security_group_ids = list(replica.vpc_security_group_ids or [])
        replica._associated_roles = []
        if source.region != replica.region and not db_kwargs.get("db_parameter_group_name"):
            replica.db_parameter_group_name = None  # moto answers the engine's default group of the replica's region
        if source.region != replica.region:
            replica.availability_zone = _replica_zone(replica, db_kwargs.get("availability_zone"))
        if "master_user_secret" in vars(replica):
            del replica.master_user_secret
        replica.manage_master_user_password = False
        return replica

    RDSBackend.create_db_instance_read_replica = create_db_instance_read_replica


# What AWS stores for a RateBasedStatement member the request left out (WAFv2 API reference).
_RATE_BASED_DEFAULTS = {"EvaluationWindowSec": 300}


def _rate_based_statements_keep_aws_defaults() -> None:
    from moto.wafv2.models import FakeRule

    original = FakeRule.__init__

    def __init__(self, *args, **kwargs):
        original(self, *args, **kwargs)
        # a rate-based statement is only ever a rule's own statement (WAF nests no rate-based statement)
        rate = (self.statement or {}).get("RateBasedStatement")
        if isinstance(rate, dict):
            for name, value in _RATE_BASED_DEFAULTS.items():
                rate.setdefault(name, value)

    FakeRule.__init__ = __init__


def _the_default_caller_is_an_iam_user() -> None:
    from moto.sts.models import STSBackend

    original = STSBackend.get_caller_identity

    def get_caller_identity(self, access_key_id, region):
        user_id, arn, account_id = original(self, access_key_id, region)
        parts = arn.split(":", 5)
        if len(parts) == 6 and parts[2] == "sts" and parts[5].startswith("user/"):
            arn = ":".join([parts[0], parts[1], "iam", "", parts[4], parts[5]])
            if user_id.startswith("AKIA"):
                user_id = "AIDA" + user_id[4:]
        return user_id, arn, account_id

    STSBackend.get_caller_identity = get_caller_identity


def _instance_pages_count_instances() -> None:
    import copy

    from moto.core.responses import ActionResult
    from moto.ec2.exceptions import InvalidNextToken
    from moto.ec2.responses.instances import InstanceResponse

    original = InstanceResponse.describe_instances

    def describe_instances(self):
        if "MaxResults" not in self.data or "InstanceId.1" in self.data:
            return original(self)
        self.error_on_dryrun()
        reservations = self.ec2_backend.describe_instances(filters=self._filters_from_querystring())
        listed = [(reservation, instance) for reservation in reservations for instance in reservation.instances]
        token = self._get_param("NextToken")
        start = 0
        if token:  # the id of the last instance of the page before
            ids = [instance.id for _reservation, instance in listed]
            if token not in ids:
                raise InvalidNextToken(token)
            start = ids.index(token) + 1
        size = int(self._get_param("MaxResults"))
        page = listed[start : start + size]
        parts = []
        for reservation, instance in page:
            if not parts or parts[-1].id != reservation.id:
                part = copy.copy(reservation)  # moto's answer is already a copy per reservation
                part.instances = []
                parts.append(part)
            parts[-1].instances.append(instance)
        next_token = page[-1][1].id if page and start + size < len(listed) else None
        return ActionResult({"Reservations": parts, "NextToken": next_token})

    InstanceResponse.describe_instances = describe_instances


def _snapshots_keep_their_volumes_key() -> None:
    from moto.ec2.models.elastic_block_store import EBSBackend

    original = EBSBackend.create_snapshot

    def create_snapshot(self, volume_id, *args, **kwargs):
        snapshot = original(self, volume_id, *args, **kwargs)
        volume = self.get_volume(volume_id)
        if volume.encrypted and not snapshot.kms_key_id:
            snapshot.kms_key_id = volume.kms_key_id
        return snapshot

    EBSBackend.create_snapshot = create_snapshot


def _images_snapshot_the_instances_root_volume() -> None:
    from moto.ec2.models.amis import Ami

    original = Ami.__init__

    def __init__(self, ec2_backend, ami_id, instance=None, *args, **kwargs):
        original(self, ec2_backend, ami_id, instance, *args, **kwargs)
        if instance is None:
            return
        mapping = instance.block_device_mapping.get(instance.root_device_name)
        volume_id = getattr(mapping, "volume_id", None)
        if not volume_id or volume_id not in ec2_backend.volumes:
            return
        blank = self.ebs_snapshot
        self.ebs_snapshot = ec2_backend.create_snapshot(volume_id, blank.description, self.owner_id, from_ami=ami_id)
        ec2_backend.snapshots.pop(blank.id, None)

    Ami.__init__ = __init__


def _copy_encryption(response, source_snapshot, source_region):
    """(encrypted, key ARN or None) of a copy into the response's region, as AWS makes it; raises AWS's error for
    a KmsKeyId without Encrypted."""
    from moto.ec2.exceptions import InvalidParameterDependency

    backend = response.ec2_backend
    asked = str(response._get_param("Encrypted") or "").lower() == "true"
    key = response._get_param("KmsKeyId")
    if key and not asked:
        raise InvalidParameterDependency("KmsKeyId", "Encrypted")
    encrypted = bool(source_snapshot.encrypted) or asked or bool(getattr(backend, "ebs_encryption_by_default", False))
    if not encrypted:
        return False, None
    if key:
        return True, _key_arn(backend, key)
    if source_snapshot.encrypted and source_region == backend.region_name and source_snapshot.kms_key_id:
        return True, source_snapshot.kms_key_id  # a copy in the same region keeps the source's key
    if not backend.default_kms_key_id:
        backend._create_default_encryption_key()
    return True, backend.default_kms_key_id


def _key_arn(backend, key_id):
    """The ARN of ``key_id`` (an id, ARN, alias or alias ARN) in the backend's region; as given when the sandbox does
    not know it (another account's key)."""
    from moto.kms import kms_backends

    try:
        return kms_backends[backend.account_id][backend.region_name].describe_key(key_id).arn
    except Exception:
        return key_id


def _volumes_are_encrypted_as_aws_encrypts_them() -> None:
    from moto.ec2.models.elastic_block_store import EBSBackend

    original = EBSBackend.create_volume

    def create_volume(self, size, zone_name, snapshot_id=None, encrypted=False, kms_key_id=None, **kwargs):
        if kms_key_id:
            kms_key_id = _key_arn(self, kms_key_id)
        elif snapshot_id and snapshot_id in self.snapshots:
            snapshot = self.snapshots[snapshot_id]
            if snapshot.encrypted and snapshot.kms_key_id:
                encrypted, kms_key_id = True, _key_arn(self, snapshot.kms_key_id)
        if not encrypted and getattr(self, "ebs_encryption_by_default", False):
            encrypted = True  # moto gives it the region's default key for EBS
        return original(self, size, zone_name, snapshot_id, encrypted, kms_key_id, **kwargs)

    EBSBackend.create_volume = create_volume


def _copies_are_encrypted_as_asked() -> None:
    from moto.ec2.responses.amis import AmisResponse
    from moto.ec2.responses.elastic_block_store import ElasticBlockStore

    copy_snapshot, copy_image = ElasticBlockStore.copy_snapshot, AmisResponse.copy_image

    def source_backend(self):
        from moto.ec2.models import ec2_backends

        return ec2_backends[self.ec2_backend.account_id][self._get_param("SourceRegion")]

    def copy_snapshot_encrypted(self):
        source_region = self._get_param("SourceRegion")
        source = source_backend(self).get_snapshot(self._get_param("SourceSnapshotId"))
        encrypted, key = _copy_encryption(self, source, source_region)
        result = copy_snapshot(self)
        snapshot = self.ec2_backend.get_snapshot(result.result["SnapshotId"])
        snapshot.encrypted, snapshot.kms_key_id = encrypted, key
        return result

    def copy_image_encrypted(self):
        source_region = self._get_param("SourceRegion")
        source = source_backend(self).amis.get(self._get_param("SourceImageId"))
        encrypted, key = (False, None)
        if source is not None:
            encrypted, key = _copy_encryption(self, source.ebs_snapshot, source_region)
        result = copy_image(self)
        snapshot = self.ec2_backend.amis[result.result["ImageId"]].ebs_snapshot
        snapshot.encrypted, snapshot.kms_key_id = encrypted, key
        if source is not None:
            snapshot.volume = source.ebs_snapshot.volume  # the copy has the source's size
        return result

    ElasticBlockStore.copy_snapshot = copy_snapshot_encrypted
    AmisResponse.copy_image = copy_image_encrypted


def _gp3_baseline(engine: str, allocated_storage) -> tuple[int, int]:
    """(IOPS, MiBps) AWS gives a gp3 database whose request named none."""
    engine = str(engine or "")
    if engine.startswith("sqlserver"):
        return 3000, 125
    threshold = 200 if engine.startswith("oracle") else 400
    return (3000, 125) if int(allocated_storage or 0) < threshold else (12000, 500)


def _gp3_refuse_fixed_performance(engine, storage_type, allocated_storage, request) -> None:
    if storage_type != "gp3" or (request.get("iops") is None and request.get("storage_throughput") is None):
        return
    engine = str(engine or "")
    if engine.startswith("sqlserver"):
        return
    threshold = 200 if engine.startswith("oracle") else 400
    if int(allocated_storage or 0) < threshold:
        from moto.rds.exceptions import InvalidParameterCombination

        raise InvalidParameterCombination(
            f"You can't specify IOPS or storage throughput for engine {engine}"
            f" and a storage size less than {threshold}."
        )


def _gp3_databases_name_their_performance() -> None:
    from moto.rds.models import DBInstance
    from moto.rds.responses import RDSResponse

    # the requests are checked as they arrive: moto's restore makes the new database with the source's values
    create, restore = RDSResponse.create_db_instance, RDSResponse.restore_db_instance_from_db_snapshot

    def create_db_instance(self):
        params = self.params
        _gp3_refuse_fixed_performance(
            params.get("engine"), params.get("storage_type"), params.get("allocated_storage"), params
        )
        return create(self)

    def restore_db_instance_from_db_snapshot(self):
        params = self.params
        snapshot_id = params.get("db_snapshot_identifier") or ""
        if snapshot_id.startswith("arn:aws:rds:"):
            snapshot_id = self.backend.extract_snapshot_name_from_arn(snapshot_id)
        try:
            source = self.backend.describe_db_snapshots(
                db_instance_identifier=None, db_snapshot_identifier=snapshot_id
            )[0].database
        except Exception:  # no such snapshot: moto answers its own error
            source = None
        if source is not None:
            _gp3_refuse_fixed_performance(
                source.engine,
                params.get("storage_type") or source.storage_type,
                params.get("allocated_storage") or source.allocated_storage,
                params,
            )
        return restore(self)

    RDSResponse.create_db_instance = create_db_instance
    RDSResponse.restore_db_instance_from_db_snapshot = restore_db_instance_from_db_snapshot

    original = DBInstance.__init__

    def __init__(self, *args, **kwargs):
        original(self, *args, **kwargs)
        if getattr(self, "storage_type", None) == "gp3":
            iops, throughput = _gp3_baseline(self.engine, getattr(self, "allocated_storage", 0))
            if not self.iops:
                self.iops = iops
            if not self.storage_throughput:
                self.storage_throughput = throughput

    DBInstance.__init__ = __init__


def _rule_description_updates_answer_return() -> None:
    from moto.core.responses import ActionResult
    from moto.ec2.responses.security_groups import SecurityGroups

    for name in ("update_security_group_rule_descriptions_ingress", "update_security_group_rule_descriptions_egress"):
        original = getattr(SecurityGroups, name)

        def update(self, _original=original):
            _original(self)  # moto updates the descriptions (or raises AWS's error) and answers nothing
            return ActionResult({"Return": True})

        setattr(SecurityGroups, name, update)


def _group_pair_descriptions_are_updated() -> None:
    from moto.ec2.models.security_groups import SecurityGroupBackend

    def same_rule(asked, stored) -> bool:
        if asked.ip_protocol != stored.ip_protocol:
            return False
        if asked.ip_protocol != "-1" and (str(asked.from_port), str(asked.to_port)) != (
            str(stored.from_port),
            str(stored.to_port),
        ):
            return False
        return bool(asked.source_group) and asked.source_group.get("GroupId") == stored.source_group.get("GroupId")

    for name, rules, egress in (
        ("update_security_group_rule_descriptions_ingress", "ingress_rules", False),
        ("update_security_group_rule_descriptions_egress", "egress_rules", True),
    ):
        original = getattr(SecurityGroupBackend, name)

        def update(
            self,
            group_name_or_id,
            ip_protocol,
            from_port,
            to_port,
            ip_ranges,
            source_groups=None,
            prefix_list_ids=None,
            security_rule_ids=None,
            vpc_id=None,
            _original=original,
            _rules=rules,
            _egress=egress,
        ):
            # moto checks the request, updates the descriptions of address ranges and answers the group
            group = _original(
                self,
                group_name_or_id,
                ip_protocol,
                from_port,
                to_port,
                ip_ranges,
                source_groups=source_groups,
                prefix_list_ids=prefix_list_ids,
                security_rule_ids=security_rule_ids,
                vpc_id=vpc_id,
            )
            asked = self._iterate_security_rules(
                ip_protocol,
                group.group_id,
                from_port,
                to_port,
                [],
                self._add_source_group(source_groups, vpc_id),
                prefix_list_ids or [],
                is_egress=_egress,
            )
            for rule in asked:
                for stored in getattr(group, _rules):
                    if not same_rule(rule, stored):
                        continue
                    if "Description" in rule.source_group:
                        stored.source_group["Description"] = rule.source_group["Description"]
            return group

        setattr(SecurityGroupBackend, name, update)


def _metric_filters_are_updated_in_place() -> None:
    from moto.logs.metric_filters import MetricFilters

    original = MetricFilters.add_filter

    def add_filter(self, filter_name, filter_pattern, log_group_name, metric_transformations):
        for index, existing in enumerate(self.metric_filters):
            if existing["filterName"] == filter_name and existing["logGroupName"] == log_group_name:
                self.metric_filters[index] = dict(
                    existing, filterPattern=filter_pattern, metricTransformations=metric_transformations
                )
                return
        original(self, filter_name, filter_pattern, log_group_name, metric_transformations)

    MetricFilters.add_filter = add_filter


def apply() -> None:
    global _APPLIED
    if _APPLIED:
        return
    _volume_snapshot_id_is_never_missing()
    _endpoint_interfaces_carry_the_endpoint_groups()
    _list_buckets_names_regions()
    _rate_based_statements_keep_aws_defaults()
    _read_replicas_start_as_aws_makes_them()
    _the_default_caller_is_an_iam_user()
    _instance_pages_count_instances()
    _snapshots_keep_their_volumes_key()
    _images_snapshot_the_instances_root_volume()
    _copies_are_encrypted_as_asked()
    _volumes_are_encrypted_as_aws_encrypts_them()
    _gp3_databases_name_their_performance()
    _rule_description_updates_answer_return()
    _group_pair_descriptions_are_updated()
    _metric_filters_are_updated_in_place()
    _APPLIED = True
