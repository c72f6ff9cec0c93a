# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The estate collector of the risk audit.

One ``Snapshot`` holds the estate as the AWS APIs describe it. It collects
lazily and once: a check asks for a *source* (``ec2_instances`` in
``us-east-1``, ``iam_authorization``, ``s3_bucket`` attribute ``policy`` of one
bucket, ...); the first request makes the calls (paginated, batched), later
ones reuse the answer. So the findings selected decide what is read, and no
source is read twice.

Only read calls are made (Describe*, List*, Get*, GenerateCredentialReport,
which builds a read-only report). A source that fails (AccessDenied, a service
missing from a region, an operation the endpoint does not implement) records
its error; every check that needs it reports ``error`` with that message and
the other checks go on.

``client_factory(service, region)`` returns a boto3 client (or amazon.aws's
retrying wrapper); ``retry`` (optional) decorates paginated reads, and
``aws_retry=True`` is passed to single calls when the clients are retrying
wrappers. ``api_calls`` counts every request sent, by ``service:Operation``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import csv
import io
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

GLOBAL = "global"

# Sources that are account-wide; they are read once through the primary region.
GLOBAL_SOURCES = (
    "account",
    "iam_authorization",
    "iam_credential_report",
    "iam_password_policy",
    "s3_buckets",
    "s3_bucket",
)

# The largest page each paginated read may ask for (the API's maximum), so that a read of N
# items costs ceil(N / page) calls. Reads not listed take the service's default page.
PAGE_SIZES = {
    ("ec2", "describe_instances"): 1000,
    ("ec2", "describe_volumes"): 500,
    ("ec2", "describe_security_groups"): 1000,
    ("ec2", "describe_network_interfaces"): 1000,
    ("ec2", "describe_vpcs"): 1000,
    ("ec2", "describe_subnets"): 1000,
    ("ec2", "describe_route_tables"): 100,
    ("ec2", "describe_flow_logs"): 1000,
    ("ec2", "describe_vpc_endpoints"): 1000,
    ("rds", "describe_db_instances"): 100,
    ("rds", "describe_db_parameters"): 100,
    ("rds", "describe_db_instance_automated_backups"): 100,
    ("iam", "get_account_authorization_details"): 1000,
    ("s3", "list_buckets"): 10000,
    ("cloudwatch", "describe_alarms"): 100,
    ("autoscaling", "describe_auto_scaling_instances"): 50,
    ("elbv2", "describe_load_balancers"): 400,
    ("kms", "list_aliases"): 100,
    ("guardduty", "list_detectors"): 50,
    ("network-firewall", "list_firewalls"): 100,
    ("network-firewall", "list_firewall_policies"): 100,
    ("route53resolver", "list_firewall_rule_group_associations"): 100,
    ("backup", "list_backup_plans"): 1000,
    ("backup", "list_backup_selections"): 1000,
    ("ssm", "describe_instance_information"): 50,
}

# DescribeInstances is read in pages that grow: a first page of INSTANCE_FIRST_PAGE instances, each next
# page twice the last, up to the largest (PAGE_SIZES). Termination protection (one call per instance)
# starts on the first page's instances while the next pages are read, instead of waiting for them all.
INSTANCE_FIRST_PAGE = 100

# Largest batch DescribeImages / DescribeInstancePatchStates take per call.
IMAGE_BATCH = 200
PATCH_STATE_BATCH = 50


class SourceError(Exception):
    """A source could not be read; the message says which call failed and why."""


class _Pages:
    """The items of a paginated read as its pages arrive, for a reader that can start on the first ones."""

    def __init__(self):
        self._arrived = threading.Condition()
        self._items = []
        self._ended = False

    def add(self, items):
        with self._arrived:
            self._items.extend(items)
            self._arrived.notify_all()

    def end(self):
        with self._arrived:
            self._ended = True
            self._arrived.notify_all()

    def batches(self):
        """Yield the items in order, each batch as soon as it has arrived, until the read ends (whether it
        succeeded or not: the caller asks the source itself for the outcome)."""
        seen = 0
        while True:
            with self._arrived:
                while len(self._items) == seen and not self._ended:
                    self._arrived.wait()
                batch = self._items[seen:]
            if not batch:
                return
            seen += len(batch)
            yield batch


def _error_text(exc):
    response = getattr(exc, "response", None)
    if isinstance(response, dict) and response.get("Error"):
        err = response["Error"]
        code = err.get("Code") or "Error"
        msg = err.get("Message") or str(exc)
        status = (response.get("ResponseMetadata") or {}).get("HTTPStatusCode")
        text = "%s: %s" % (code, msg)
        if status:
            text += " (HTTP %s)" % status
        return text
    return "%s: %s" % (type(exc).__name__, exc)


def error_code(exc):
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return (response.get("Error") or {}).get("Code")
    return None


class Snapshot:
    """Lazily collected, memoised view of the estate.

    ``get(source, region=None, key=None)`` returns the source's data or
    raises ``SourceError``. Subclasses (or ``StaticSnapshot``) may supply
    data without AWS.
    """

    def __init__(self, regions, account_id=None, partition="aws"):
        self.regions = list(regions)
        self.primary_region = self.regions[0] if self.regions else None
        self.dr_regions = self.regions[1:]
        self.account_id = account_id
        self.partition = partition
        self._data = {}
        self._errors = {}
        self._reading = {}  # cache key -> Event set when the thread reading it is done
        self._state_lock = threading.Lock()

    def _collect(self, source, region, key):  # pragma: no cover - overridden
        raise SourceError("no data for %s" % source)

    def get(self, source, region=None, key=None):
        """The source's data, read once: a thread asking for a source another thread is reading waits
        for that read instead of making the same calls again."""
        if source in GLOBAL_SOURCES:
            region = GLOBAL
        cache_key = (source, region, key)
        while True:
            if cache_key in self._data:
                return self._data[cache_key]
            if cache_key in self._errors:
                raise SourceError(self._errors[cache_key])
            with self._state_lock:
                if cache_key in self._data or cache_key in self._errors:
                    continue
                done = self._reading.get(cache_key)
                if done is None:
                    done = self._reading[cache_key] = threading.Event()
                    break
            done.wait()
        try:
            value = self._collect(source, region, key)
        except SourceError as exc:
            self._errors[cache_key] = str(exc)
            raise
        else:
            self._data[cache_key] = value
            return value
        finally:
            with self._state_lock:
                self._reading.pop(cache_key, None)
            done.set()

    def map(self, fn, items):
        """[fn(item) for item in items]; AwsSnapshot runs them side by side."""
        return [fn(item) for item in items]

    def errors(self):
        return dict(self._errors)

    def read_ahead(self, sources):
        """Start reading ``sources`` ((source, region) pairs) before any check asks; here, nothing to start."""

    def prefetch(self, source, keys, region=None):
        """Read many keys of a per-resource source ahead of the checks (errors stay recorded per key)."""
        for key in keys:
            with contextlib.suppress(SourceError):
                self.get(source, region, key)


class StaticSnapshot(Snapshot):
    """A snapshot from plain data, for tests: ``data[(source, region, key)]``.

    ``data`` may also use ``(source, region)`` or ``source`` keys. A value that
    is an Exception instance is raised as SourceError.
    """

    def __init__(self, regions, data, account_id="123456789012", partition="aws"):
        super().__init__(regions, account_id=account_id, partition=partition)
        self._static = data

    def _collect(self, source, region, key):
        for candidate in ((source, region, key), (source, region), source):
            if candidate in self._static:
                value = self._static[candidate]
                if isinstance(value, Exception):
                    raise SourceError(str(value))
                if callable(value):
                    return value(region, key)
                return value
        if region == GLOBAL and (source, None) in self._static:
            return self._static[(source, None)]
        raise SourceError("no data for %s in %s" % (source, region))


class AwsSnapshot(Snapshot):
    """A snapshot read from the AWS APIs through ``client_factory``."""

    def __init__(self, client_factory, regions, retry=None, aws_retry=False, sleep=time.sleep, max_workers=16):
        super().__init__(regions)
        self.max_workers = max(1, int(max_workers))
        self._lock = threading.RLock()
        self._count_lock = threading.Lock()
        # At most max_workers requests in flight, however many threads wait for data.
        self._slots = threading.BoundedSemaphore(self.max_workers)
        self._factory = client_factory
        self._retry = retry
        self._aws_retry = aws_retry
        self._clients = {}
        self._pages = {}  # (source, region) -> _Pages of a read that streams its pages
        self._sleep = sleep
        self.api_calls = Counter()
        self.bucket_location_lookups = 0
        self.s3_answered_by_versioning = set()  # (attribute, bucket) known absent without a call

    # ---- plumbing ---------------------------------------------------------

    def client(self, service, region):
        region = self.primary_region if region in (None, GLOBAL) else region
        key = (service, region)
        with self._lock:
            if key not in self._clients:
                client = self._factory(service, region)
                raw = getattr(client, "client", client)
                raw.meta.events.register("before-parameter-build", self._count)
                self._clients[key] = client
            return self._clients[key]

    def _count(self, model=None, **kwargs):
        if model is not None:
            with self._count_lock:
                self.api_calls["%s:%s" % (model.service_model.service_name, model.name)] += 1

    def _parallel(self, fn, items):
        """[fn(item) for item in items], in that order, on up to max_workers threads."""
        items = list(items)
        if self.max_workers == 1 or len(items) < 2:
            return [fn(item) for item in items]
        with ThreadPoolExecutor(max_workers=min(self.max_workers, len(items))) as pool:
            return list(pool.map(fn, items))

    def map(self, fn, items):
        """Independent work (the checks of the findings) side by side; results in the order of ``items``.
        Each reads the sources it needs through ``get``, so a source is still read once."""
        return self._parallel(fn, items)

    def read_ahead(self, sources):
        """Start reading ``sources`` ((source, region) pairs) in the background, in that order; a check
        that asks for one waits for that read (``get``). Errors are recorded as for any read."""

        def one(source, region):
            with contextlib.suppress(SourceError):
                self.get(source, region)

        for source, region in sources:
            threading.Thread(target=one, args=(source, region), daemon=True).start()

    def prefetch(self, source, keys, region=None):
        scope = GLOBAL if source in GLOBAL_SOURCES else region
        todo = [k for k in keys if (source, scope, k) not in self._data and (source, scope, k) not in self._errors]
        with self._state_lock:
            # keys no other thread is reading yet are read here, in parallel
            fresh = [k for k in todo if (source, scope, k) not in self._reading]

        def one(key):
            with contextlib.suppress(SourceError):
                self.get(source, region, key)

        self._parallel(one, fresh)
        started = set(fresh)
        for key in todo:  # the others: wait for the threads reading them
            if key not in started:
                one(key)

    def call(self, service, region, operation, **params):
        client = self.client(service, region)
        method = getattr(client, operation)
        with self._slots:
            if self._aws_retry:
                return method(aws_retry=True, **params)
            return method(**params)

    def paginate(self, service, region, operation, **params):
        client = self.client(service, region)
        raw = getattr(client, "client", client)
        page = PAGE_SIZES.get((service, operation))
        if page:
            params = dict(params, PaginationConfig={"PageSize": page})
        build = raw.get_paginator(operation).paginate(**params).build_full_result
        if self._retry is not None:
            build = self._retry(build)
        with self._slots:
            return build()

    def pages_of(self, source, region):
        """The pages of ``source`` in ``region`` as they arrive (the source's reader fills them)."""
        with self._lock:
            if (source, region) not in self._pages:
                self._pages[(source, region)] = _Pages()
            return self._pages[(source, region)]

    def _read_quietly(self, source, region):
        with contextlib.suppress(SourceError):
            self.get(source, region)

    def _collect(self, source, region, key):
        reader = getattr(self, "_read_" + source, None)
        if reader is None:
            raise SourceError("unknown source %s" % source)
        try:
            return reader(region, key)
        except SourceError:
            raise
        except Exception as exc:  # botocore ClientError, BotoCoreError, endpoint errors
            where = "" if region in (None, GLOBAL) else " in %s" % region
            raise SourceError("%s%s: %s" % (source, where, _error_text(exc))) from exc

    # ---- account and IAM ----------------------------------------------------

    def _read_account(self, region, key):
        ident = self.call("sts", None, "get_caller_identity")
        self.account_id = ident["Account"]
        self.partition = ident["Arn"].split(":")[1]
        return {"account_id": ident["Account"], "arn": ident["Arn"], "partition": self.partition}

    def _read_iam_authorization(self, region, key):
        result = self.paginate(
            "iam",
            None,
            "get_account_authorization_details",
            Filter=["User", "Role", "Group", "LocalManagedPolicy"],
        )
        return {
            "users": result.get("UserDetailList", []),
            "groups": result.get("GroupDetailList", []),
            "roles": result.get("RoleDetailList", []),
            "policies": result.get("Policies", []),
        }

    def _read_iam_credential_report(self, region, key):
        for _attempt in range(15):
            state = self.call("iam", None, "generate_credential_report").get("State")
            if state == "COMPLETE":
                break
            self._sleep(2)
        report = self.call("iam", None, "get_credential_report")
        content = report["Content"]
        if isinstance(content, bytes):
            content = content.decode("utf-8")
        return list(csv.DictReader(io.StringIO(content)))

    def _read_iam_password_policy(self, region, key):
        try:
            return self.call("iam", None, "get_account_password_policy")["PasswordPolicy"]
        except Exception as exc:
            if error_code(exc) == "NoSuchEntity":
                return None
            raise

    # ---- EC2 ----------------------------------------------------------------

    def _read_ec2_instances(self, region, key):
        """The instances not terminated, in pages that grow (INSTANCE_FIRST_PAGE, then twice the last up
        to the largest page), each handed to ``pages_of`` readers as it arrives."""
        pages = self.pages_of("ec2_instances", region)
        params = {
            "Filters": [
                {
                    "Name": "instance-state-name",
                    "Values": ["pending", "running", "stopping", "stopped", "shutting-down"],
                }
            ]
        }
        largest = PAGE_SIZES[("ec2", "describe_instances")]
        size = min(INSTANCE_FIRST_PAGE, largest)
        instances = []
        try:
            while True:
                page = self.call("ec2", region, "describe_instances", MaxResults=size, **params)
                batch = [i for r in page.get("Reservations", []) for i in r.get("Instances", [])]
                instances.extend(batch)
                pages.add(batch)
                if not page.get("NextToken"):
                    return instances
                params["NextToken"] = page["NextToken"]
                size = min(size * 2, largest)
        finally:
            pages.end()

    def _read_ec2_volumes(self, region, key):
        return self.paginate("ec2", region, "describe_volumes").get("Volumes", [])

    def _read_ec2_security_groups(self, region, key):
        return self.paginate("ec2", region, "describe_security_groups").get("SecurityGroups", [])

    def _read_ec2_network_interfaces(self, region, key):
        return self.paginate("ec2", region, "describe_network_interfaces").get("NetworkInterfaces", [])

    def _read_ec2_vpcs(self, region, key):
        return self.paginate("ec2", region, "describe_vpcs").get("Vpcs", [])

    def _read_ec2_subnets(self, region, key):
        return self.paginate("ec2", region, "describe_subnets").get("Subnets", [])

    def _read_ec2_route_tables(self, region, key):
        return self.paginate("ec2", region, "describe_route_tables").get("RouteTables", [])

    def _read_ec2_flow_logs(self, region, key):
        return self.paginate("ec2", region, "describe_flow_logs").get("FlowLogs", [])

    def _read_ec2_images(self, region, key):
        ids = sorted({i["ImageId"] for i in self.get("ec2_instances", region) if i.get("ImageId")})
        images = []
        for start in range(0, len(ids), IMAGE_BATCH):
            batch = ids[start : start + IMAGE_BATCH]
            result = self.paginate(
                "ec2",
                region,
                "describe_images",
                Filters=[{"Name": "image-id", "Values": batch}],
                IncludeDeprecated=True,
            )
            images.extend(result.get("Images", []))
        return {img["ImageId"]: img for img in images}

    def _read_ec2_ebs_default(self, region, key):
        enabled = self.call("ec2", region, "get_ebs_encryption_by_default").get("EbsEncryptionByDefault", False)
        key_id = None
        if enabled:
            try:
                key_id = self.call("ec2", region, "get_ebs_default_kms_key_id").get("KmsKeyId")
            except Exception as exc:  # the key is evidence only; encryption by default is the setting
                key_id = "unknown (%s)" % _error_text(exc)
        return {"enabled": bool(enabled), "kms_key_id": key_id}

    def _read_ec2_imds_defaults(self, region, key):
        """The account's instance metadata defaults for new instances in the region (only the fields set)."""
        return self.call("ec2", region, "get_instance_metadata_defaults").get("AccountLevel") or {}

    def _read_ec2_termination_protection(self, region, key):
        """DisableApiTermination per instance that no Auto Scaling group replaces.

        DescribeInstances does not return the attribute; DescribeInstanceAttribute
        is the only read, one call per instance, so only instances outside an
        Auto Scaling group are asked. With parallel reads, the instances of each
        page of DescribeInstances are asked as soon as the page has arrived.
        """
        in_asg = {a["InstanceId"] for a in self.get("autoscaling_instances", region)}

        def one(iid):
            attr = self.call(
                "ec2", region, "describe_instance_attribute", InstanceId=iid, Attribute="disableApiTermination"
            )
            return iid, bool((attr.get("DisableApiTermination") or {}).get("Value"))

        if self.max_workers == 1:
            ids = [i["InstanceId"] for i in self.get("ec2_instances", region)]
            return dict(one(iid) for iid in ids if iid not in in_asg)
        pages = self.pages_of("ec2_instances", region)
        # the instance read, unless a thread reads them already (or has): this one waits for it then
        threading.Thread(target=self._read_quietly, args=("ec2_instances", region), daemon=True).start()
        with ThreadPoolExecutor(max_workers=self.max_workers) as pool:
            asked = [
                pool.submit(one, i["InstanceId"])
                for batch in pages.batches()
                for i in batch
                if i["InstanceId"] not in in_asg
            ]
            self.get("ec2_instances", region)  # a failed instance read fails this one with its message
            return dict(future.result() for future in asked)

    def _read_elbv2_load_balancers(self, region, key):
        return self.paginate("elbv2", region, "describe_load_balancers").get("LoadBalancers", [])

    def _read_ec2_vpc_endpoints(self, region, key):
        return self.paginate("ec2", region, "describe_vpc_endpoints").get("VpcEndpoints", [])

    def _read_kms_aliases(self, region, key):
        return self.paginate("kms", region, "list_aliases").get("Aliases", [])

    def _read_autoscaling_instances(self, region, key):
        return self.paginate("autoscaling", region, "describe_auto_scaling_instances").get("AutoScalingInstances", [])

    # ---- RDS ------------------------------------------------------------------

    def _read_rds_instances(self, region, key):
        return self.paginate("rds", region, "describe_db_instances").get("DBInstances", [])

    def _read_rds_automated_backups(self, region, key):
        return self.paginate("rds", region, "describe_db_instance_automated_backups").get(
            "DBInstanceAutomatedBackups", []
        )

    def _read_rds_parameters(self, region, key):
        """Parameters of one DB parameter group (key = group name) that concern transport security."""
        params = self.paginate("rds", region, "describe_db_parameters", DBParameterGroupName=key).get("Parameters", [])
        wanted = ("rds.force_ssl", "require_secure_transport")
        return {p["ParameterName"]: p.get("ParameterValue") for p in params if p.get("ParameterName") in wanted}

    # ---- S3 -------------------------------------------------------------------

    def _read_s3_buckets(self, region, key):
        client = self.client("s3", None)
        raw = getattr(client, "client", client)
        if raw.can_paginate("list_buckets"):
            buckets = self.paginate("s3", None, "list_buckets").get("Buckets", [])
        else:  # pragma: no cover - old botocore
            buckets = self.call("s3", None, "list_buckets").get("Buckets", [])
        # ListBuckets names each bucket's region on AWS; an endpoint that does not is asked per bucket.
        unnamed = [bucket for bucket in buckets if not bucket.get("BucketRegion")]

        def locate(bucket):
            return self.call("s3", None, "get_bucket_location", Bucket=bucket["Name"]).get("LocationConstraint")

        locations = self._parallel(locate, unnamed)
        for index, bucket in enumerate(unnamed):
            bucket["BucketRegion"] = locations[index] or "us-east-1"
        self.bucket_location_lookups += len(unnamed)
        return buckets

    def _bucket_region(self, bucket):
        for b in self.get("s3_buckets"):
            if b["Name"] == bucket:
                region = b.get("BucketRegion")
                return region if region in self.regions else None
        return None

    _S3_ATTRS = {
        "versioning": ("get_bucket_versioning", None),
        "encryption": ("get_bucket_encryption", ("ServerSideEncryptionConfigurationNotFoundError",)),
        "object_lock": ("get_object_lock_configuration", ("ObjectLockConfigurationNotFoundError",)),
        "logging": ("get_bucket_logging", None),
        "policy": ("get_bucket_policy", ("NoSuchBucketPolicy",)),
        "replication": ("get_bucket_replication", ("ReplicationConfigurationNotFoundError",)),
        "tagging": ("get_bucket_tagging", ("NoSuchTagSet", "NoSuchTagSetError")),
    }

    # Settings S3 accepts only on a bucket whose versioning is (or was) enabled: a replication
    # configuration (PutBucketReplication needs versioning enabled) and Object Lock (it enables
    # versioning, which then cannot be suspended). Versioning never goes back to "never enabled".
    _NEED_VERSIONING = ("replication", "object_lock")

    def _read_s3_bucket(self, region, key):
        """One attribute of one bucket: key = (attribute, bucket name). Missing configuration -> None.

        A bucket whose versioning was never enabled has neither replication nor Object Lock: those two
        are answered from its versioning read, without asking S3 again.
        """
        attr, bucket = key
        if attr in self._NEED_VERSIONING:
            try:
                versioning = self.get("s3_bucket", key=("versioning", bucket))
            except SourceError:
                versioning = {"Status": "unknown"}  # not read: ask for the setting itself
            if not (versioning or {}).get("Status"):
                self.s3_answered_by_versioning.add(key)
                return None
        operation, absent_codes = self._S3_ATTRS[attr]
        try:
            result = self.call("s3", self._bucket_region(bucket), operation, Bucket=bucket)
        except Exception as exc:
            if absent_codes and error_code(exc) in absent_codes:
                return None
            raise
        result.pop("ResponseMetadata", None)
        return result

    # ---- logging and monitoring ---------------------------------------------

    def _read_cloudtrail_trails(self, region, key):
        """Trails visible in a region, each with its status and event selectors (read once per trail)."""
        trails = self.call("cloudtrail", region, "describe_trails", includeShadowTrails=True).get("trailList", [])
        for trail in trails:
            home = trail.get("HomeRegion") or region
            trail["Status"] = self.get("cloudtrail_trail_status", home, trail["TrailARN"])
            trail["Selectors"] = self.get("cloudtrail_event_selectors", home, trail["TrailARN"])
        return trails

    def _read_cloudtrail_trail_status(self, region, key):
        status = self.call("cloudtrail", region, "get_trail_status", Name=key)
        return {"IsLogging": bool(status.get("IsLogging"))}

    def _read_cloudtrail_event_selectors(self, region, key):
        result = self.call("cloudtrail", region, "get_event_selectors", TrailName=key)
        return {
            "EventSelectors": result.get("EventSelectors") or [],
            "AdvancedEventSelectors": result.get("AdvancedEventSelectors") or [],
        }

    def _read_guardduty(self, region, key):
        detectors = self.paginate("guardduty", region, "list_detectors").get("DetectorIds", [])
        result = []
        for detector_id in detectors:
            detail = self.call("guardduty", region, "get_detector", DetectorId=detector_id)
            result.append({"DetectorId": detector_id, "Status": detail.get("Status")})
        return result

    def _read_cloudwatch_alarms(self, region, key):
        return self.paginate("cloudwatch", region, "describe_alarms", AlarmTypes=["MetricAlarm"]).get(
            "MetricAlarms", []
        )

    # ---- network protection ---------------------------------------------------

    def _read_wafv2_web_acls(self, region, key):
        acls = []
        params = {"Scope": "REGIONAL", "Limit": 100}
        while True:
            result = self.call("wafv2", region, "list_web_acls", **params)
            acls.extend(result.get("WebACLs", []))
            marker = result.get("NextMarker")
            if not marker or not result.get("WebACLs"):
                break
            params["NextMarker"] = marker
        return acls

    def _read_network_firewalls(self, region, key):
        listed = self.paginate("network-firewall", region, "list_firewalls").get("Firewalls", [])
        result = []
        for fw in listed:
            detail = self.call("network-firewall", region, "describe_firewall", FirewallArn=fw["FirewallArn"])
            result.append(detail.get("Firewall", {}))
        return result

    def _read_network_firewall_policies(self, region, key):
        return self.paginate("network-firewall", region, "list_firewall_policies").get("FirewallPolicies", [])

    def _read_dns_firewall_associations(self, region, key):
        return self.paginate("route53resolver", region, "list_firewall_rule_group_associations").get(
            "FirewallRuleGroupAssociations", []
        )

    # ---- backups, snapshots ---------------------------------------------------

    def _read_dlm_policies(self, region, key):
        summaries = self.call("dlm", region, "get_lifecycle_policies").get("Policies", [])
        result = []
        for summary in summaries:
            detail = self.call("dlm", region, "get_lifecycle_policy", PolicyId=summary["PolicyId"]).get("Policy", {})
            result.append(detail or summary)
        return result

    def _read_backup_plans(self, region, key):
        plans = self.paginate("backup", region, "list_backup_plans").get("BackupPlansList", [])
        result = []
        for plan in plans:
            plan_id = plan["BackupPlanId"]
            detail = self.call("backup", region, "get_backup_plan", BackupPlanId=plan_id)
            selections = self.paginate("backup", region, "list_backup_selections", BackupPlanId=plan_id).get(
                "BackupSelectionsList", []
            )
            full = []
            for sel in selections:
                got = self.call(
                    "backup", region, "get_backup_selection", BackupPlanId=plan_id, SelectionId=sel["SelectionId"]
                )
                full.append(got.get("BackupSelection", {}))
            result.append(
                {
                    "BackupPlanId": plan_id,
                    "BackupPlanArn": plan.get("BackupPlanArn"),
                    "BackupPlanName": plan.get("BackupPlanName"),
                    "Rules": (detail.get("BackupPlan") or {}).get("Rules", []),
                    "Selections": full,
                }
            )
        return result

    # ---- systems manager ------------------------------------------------------

    def _read_ssm_instance_information(self, region, key):
        return self.paginate("ssm", region, "describe_instance_information").get("InstanceInformationList", [])

    def _read_ssm_patch_states(self, region, key):
        ids = sorted(i["InstanceId"] for i in self.get("ssm_instance_information", region) if i.get("InstanceId"))
        states = []
        for start in range(0, len(ids), PATCH_STATE_BATCH):
            batch = ids[start : start + PATCH_STATE_BATCH]
            result = self.paginate("ssm", region, "describe_instance_patch_states", InstanceIds=batch)
            states.extend(result.get("InstancePatchStates", []))
        return {s["InstanceId"]: s for s in states}

    def _read_ssm_patch_groups(self, region, key):
        """Patch group -> the baseline registered for it (name, id, operating system)."""
        groups = self.paginate("ssm", region, "describe_patch_groups").get("Mappings", [])
        return {g["PatchGroup"]: g.get("BaselineIdentity", {}) for g in groups if g.get("PatchGroup")}

    def _read_ssm_maintenance_windows(self, region, key):
        """Maintenance windows with their targets and tasks (one targets and one tasks read per window)."""
        windows = self.paginate("ssm", region, "describe_maintenance_windows").get("WindowIdentities", [])
        result = []
        for window in windows:
            wid = window["WindowId"]
            targets = self.paginate("ssm", region, "describe_maintenance_window_targets", WindowId=wid).get(
                "Targets", []
            )
            tasks = self.paginate("ssm", region, "describe_maintenance_window_tasks", WindowId=wid).get("Tasks", [])
            result.append(dict(window, Targets=targets, Tasks=tasks))
        return result

    # ---- CloudFormation -------------------------------------------------------

    def _read_cloudformation_stacks(self, region, key):
        stacks = self.paginate("cloudformation", region, "describe_stacks").get("Stacks", [])
        return [s for s in stacks if s.get("StackStatus") != "DELETE_COMPLETE"]
