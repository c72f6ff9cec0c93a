# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""DR failover and failback: every step reads the state first and acts only when it is not reached yet.

failover (the primary region may not answer at all; only the DR region and Route 53 are called):
  1. promote each database's cross-region read replica in the DR region;
  2. launch each EC2 system in the DR region from its newest AMI copy through the system's launch template there
     (role dr_site writes it; a new version carries the copy's image id), tagged ``cloudops:failover-of``;
  3. switch the Route 53 failover records: the DR site's record becomes PRIMARY, the primary site's SECONDARY;
  4. verify (databases available and standalone, instances running, the PRIMARY record points at the DR site).
failback (the primary region answers again):
  1. re-establish replication towards the primary: the promoted DR database is marked with the failback's id
     (tag ``cloudops:failback``), the stale primary database is set aside (tagged, renamed, kept, never deleted),
     a read replica of the DR database is made in the primary region under the original name, synced and
     promoted, then given what the stale primary had of its protection and tags;
  2. switch DNS back (the primary site's record PRIMARY again, with its health check);
  3. return the DR side to standby: the promoted DR database is set aside (tagged, renamed, deletion protection
     off), a read replica of the primary is made under its name, and only once it is available is the set-aside
     copy deleted after a final snapshot; the failover instances are terminated;
  4. verify.
A new cross-region replica is made in the subnet group and security groups of the database it replaces, with
deletion protection, and encrypted with the destination region's RDS key (the key alias is looked up there) when
its source is encrypted; it is also made with the protection of the database it replaces (parameter group where
the engine allows one at creation, Multi-AZ, enhanced monitoring, log exports, Performance Insights, IAM
authentication, copy of tags to snapshots, its tags). A promoted database keeps at least RETENTION_FLOOR_DAYS days
of automated backups.
Markers: a failback's id (``pre-failback-<UTC start, YYYYMMDD-HHMMSS>``) is the value of the ``cloudops:failback``
tag on the DR database it fails back from, on the new primary it makes and on the databases it sets aside; a
set-aside database also carries ``cloudops:set-aside-from`` (the identifier it had) and is renamed
``<identifier>-<id>`` (within the 63 characters of a DB identifier). A rerun finds them by these tags, whatever
day it runs; a later failover and failback get an id of their own.
A rerun after an interruption skips the steps already done.
"""

import datetime
import hashlib
import re
import time

try:  # noqa: SIM105 - AnsibleAWSModule reports a missing botocore
    import botocore.exceptions
except ImportError:
    pass

from ansible_collections.medcircle.cloudops.plugins.module_utils.dr import (
    DNS_SETS,
    _ec2_source,
    _error_code,
    _paginate,
    _tags,
    _wait,
    failover_records,
)

FAILOVER_TAG = "cloudops:failover-of"
RDS_KEY_ALIAS = "alias/medcircle-rds"
RETENTION_FLOOR_DAYS = 35
PRIMARY_SET, DR_SET = DNS_SETS
# A failback's id is the value of FAILBACK_TAG on the DR database it fails back from, on the new primary it makes
# and on what it sets aside; a set-aside database also names the identifier it had in SET_ASIDE_TAG.
FAILBACK_TAG = "cloudops:failback"
SET_ASIDE_TAG = "cloudops:set-aside-from"
FAILBACK_ID_PREFIX = "pre-failback-"
DB_IDENTIFIER_MAX = 63
REMEDIATE_RDS = "playbooks/remediate/rds.yml"
# MySQL and MariaDB on these classes have no Performance Insights (as role rds_protection decides).
_NO_PERFORMANCE_INSIGHTS = re.compile(r"^db\.(t2\.|t3\.(micro|small)$|t4g\.(micro|small)$)")


class Runbook:
    """Runs named steps in order and keeps the timeline (seconds from the start) and what changed."""

    def __init__(
        self, clients, primary_region, dr_region, check_mode=False, poll=5, attempts=120, rds_kms_key=RDS_KEY_ALIAS
    ):
        self.clients = clients
        self.rds_kms_key = rds_kms_key
        self._keys = {}
        self.primary = primary_region
        self.dr = dr_region
        self.check_mode = check_mode
        self.poll = poll
        self.attempts = attempts
        self.t0 = time.monotonic()
        self.steps = []
        self.changed = False
        self.failbacks = {}  # system name -> the id of its failback (found or made by the step "mark the failback")

    def step(self, system, name, func):
        """func() returns (changed, detail). Failures are recorded, then raised."""
        begin = time.monotonic()
        entry = {"system": system, "step": name, "start": round(begin - self.t0, 3)}
        try:
            changed, detail = func()
            entry.update(status="changed" if changed else "ok", detail=detail)
            self.changed = self.changed or bool(changed)
            return detail
        except Exception as error:
            entry.update(status="failed", detail="%s: %s" % (type(error).__name__, error))
            raise
        finally:
            entry["end"] = round(time.monotonic() - self.t0, 3)
            self.steps.append(entry)

    # --- databases ------------------------------------------------------------------------------------

    def _db(self, region, identifier):
        rds = self.clients("rds", region)
        try:
            return rds.describe_db_instances(DBInstanceIdentifier=identifier, aws_retry=True)["DBInstances"][0]
        except botocore.exceptions.ClientError as error:
            if _error_code(error) == "DBInstanceNotFound":
                return None
            raise

    @staticmethod
    def _retention(*dbs):
        """Days of automated backups for a promoted database: the longest of the databases it replaces, at least
        RETENTION_FLOOR_DAYS."""
        known = [int(db.get("BackupRetentionPeriod") or 0) for db in dbs if db]
        return max([*known, RETENTION_FLOOR_DAYS])

    def _rds_key(self, region):
        """The ARN of the RDS key in ``region`` (the key alias looked up there)."""
        if region not in self._keys:
            try:
                found = self.clients("kms", region).describe_key(KeyId=self.rds_kms_key, aws_retry=True)
            except botocore.exceptions.ClientError as error:
                if _error_code(error) != "NotFoundException":
                    raise
                raise RuntimeError(
                    "no KMS key %s in %s to encrypt the new read replica with: create the region's RDS key "
                    "(role kms_keys) or set dr_failover_rds_kms_key to the RDS key alias used in both regions"
                    % (self.rds_kms_key, region)
                ) from None
            self._keys[region] = found["KeyMetadata"]["Arn"]
        return self._keys[region]

    def _replica_settings(self, source, replaced, region):
        """Settings of a new cross-region read replica of ``source`` in ``region``: the subnet group and security
        groups of ``replaced`` (the database it takes the place of), and the region's RDS key when ``source`` is
        encrypted (RDS refuses an encrypted cross-region replica without a key of the destination region)."""
        settings = {"DeletionProtection": True}
        group = ((replaced or {}).get("DBSubnetGroup") or {}).get("DBSubnetGroupName")
        if group:
            settings["DBSubnetGroupName"] = group
        security_groups = [
            g["VpcSecurityGroupId"]
            for g in (replaced or {}).get("VpcSecurityGroups") or []
            if g.get("VpcSecurityGroupId")
        ]
        if security_groups:
            settings["VpcSecurityGroupIds"] = security_groups
        if source.get("StorageEncrypted"):
            settings["KmsKeyId"] = self._rds_key(region)
        return settings

    def promote(self, system):
        replica = system.get("replica")
        rds = self.clients("rds", self.dr)

        def run():
            db = self._db(self.dr, replica)
            if db is None:
                raise RuntimeError(
                    "no database %s in %s to promote (systems entry %s, key replica)"
                    % (replica, self.dr, system["name"])
                )
            if not db.get("ReadReplicaSourceDBInstanceIdentifier"):
                return False, "%s is already a standalone database" % replica
            if self.check_mode:
                return True, "would promote %s" % replica
            retention = self._retention(db)
            rds.promote_read_replica(DBInstanceIdentifier=replica, BackupRetentionPeriod=retention, aws_retry=True)
            return True, "promoted %s (was a replica of %s; %d days of automated backups)" % (
                replica,
                db["ReadReplicaSourceDBInstanceIdentifier"],
                retention,
            )

        self.step(system["name"], "promote replica", run)
        if not self.check_mode:
            self.step(system["name"], "wait available", lambda: self._wait_db(self.dr, replica))

    def _wait_db(self, region, identifier):
        _wait(
            self.clients("rds", region),
            "db_instance_available",
            self.poll,
            self.attempts,
            DBInstanceIdentifier=identifier,
        )
        db = self._db(region, identifier)
        if db.get("ReadReplicaSourceDBInstanceIdentifier") and region == self.dr:
            return False, "%s is available (still a replica)" % identifier
        return False, "%s available at %s" % (identifier, (db.get("Endpoint") or {}).get("Address"))

    # --- the fleet ------------------------------------------------------------------------------------

    def fleet(self, system, states=("pending", "running")):
        ec2 = self.clients("ec2", self.dr)
        found = _paginate(
            ec2,
            "describe_instances",
            "Reservations",
            Filters=[
                {"Name": "tag:" + FAILOVER_TAG, "Values": [system["name"]]},
                {"Name": "instance-state-name", "Values": list(states)},
            ],
        )
        return [i for r in found for i in r.get("Instances", [])]

    def _template(self, system):
        """The system's launch template in the DR region (role dr_site writes it) and its latest version."""
        ec2 = self.clients("ec2", self.dr)
        name = system.get("launch_template") or system["resource"] + "-lt"
        try:
            found = ec2.describe_launch_template_versions(
                LaunchTemplateName=name, Versions=["$Latest"], aws_retry=True
            ).get("LaunchTemplateVersions", [])
        except botocore.exceptions.ClientError as error:
            if "NotFound" not in _error_code(error):
                raise
            found = []
        if not found:
            raise RuntimeError(
                "no launch template %s in %s to launch %s through (systems entry %s, key launch_template): "
                "provision the DR site first (playbooks/remediate/dr.yml, role dr_site)"
                % (name, self.dr, system["resource"], system["name"])
            )
        return name, found[0]

    def _template_version(self, system, name, latest, source):
        """The template version that launches the newest AMI copy: the latest one when it already has it, else a
        new version made from the latest (hardening kept) with the copy's image id and root device name."""
        ec2 = self.clients("ec2", self.dr)
        data = latest.get("LaunchTemplateData") or {}
        if data.get("ImageId") == source["id"]:
            return latest["VersionNumber"], False
        changes = {"ImageId": source["id"]}
        image = ec2.describe_images(ImageIds=[source["id"]], aws_retry=True)["Images"][0]
        mappings = data.get("BlockDeviceMappings") or []
        root = image.get("RootDeviceName")
        if root and mappings and mappings[0].get("Ebs"):
            # the template's first volume is the copy's root volume: its device name, and its size when the
            # template leaves it to the image (the size of the copy's root snapshot)
            first = dict(mappings[0], DeviceName=root, Ebs=dict(mappings[0]["Ebs"]))
            image_root = next((m for m in image.get("BlockDeviceMappings", []) if m.get("DeviceName") == root), {})
            size = (image_root.get("Ebs") or {}).get("VolumeSize")
            if size and not first["Ebs"].get("VolumeSize"):
                first["Ebs"]["VolumeSize"] = size
            if first != mappings[0]:
                changes["BlockDeviceMappings"] = [first, *mappings[1:]]
        created = ec2.create_launch_template_version(
            LaunchTemplateName=name,
            SourceVersion=str(latest["VersionNumber"]),
            VersionDescription="medcircle.cloudops failover of %s: %s" % (system["name"], source["id"]),
            LaunchTemplateData=changes,
            ClientToken=("failover-%s-%s" % (name, source["id"]))[:64],
            aws_retry=True,
        )
        return created["LaunchTemplateVersion"]["VersionNumber"], True

    def launch(self, system, network):
        ec2 = self.clients("ec2", self.dr)

        def run():
            running = self.fleet(system)
            if running:
                return False, "%s already runs in %s" % (", ".join(i["InstanceId"] for i in running), self.dr)
            source = _ec2_source(system, {system["resource"]}, self.clients, self.dr)
            if not source:
                raise RuntimeError("no AMI copy of %s in %s to launch from" % (system["name"], self.dr))
            name, latest = self._template(system)
            data = latest.get("LaunchTemplateData") or {}
            if self.check_mode:
                how = (
                    "version %s" % latest["VersionNumber"]
                    if data.get("ImageId") == source["id"]
                    else "a new version with it"
                )
                return True, "would launch %s from %s through the launch template %s (%s)" % (
                    system["resource"],
                    source["id"],
                    name,
                    how,
                )
            version, added = self._template_version(system, name, latest, source)
            tags = [
                {"Key": "Name", "Value": system["resource"]},
                {"Key": FAILOVER_TAG, "Value": system["name"]},
                {"Key": "cloudops:system", "Value": system["name"]},
            ]
            params = {
                "LaunchTemplate": {"LaunchTemplateName": name, "Version": str(version)},
                "MinCount": 1,
                "MaxCount": 1,
                "TagSpecifications": [
                    {"ResourceType": "instance", "Tags": tags},
                    {"ResourceType": "volume", "Tags": tags},
                ],
                "ClientToken": "failover-%s-%s" % (system["name"], source["id"]),
            }
            if network.get("subnet_id"):
                params["SubnetId"] = network["subnet_id"]
            if network.get("security_group_id") and not data.get("SecurityGroupIds"):
                params["SecurityGroupIds"] = [network["security_group_id"]]
            # The template's hardening, repeated on the request: the instance gets IMDSv2 and its profile even if
            # the template were edited to drop them, and the launch fails when the profile does not exist.
            options = data.get("MetadataOptions") or {}
            hardening = {
                k: options[k] for k in ("HttpTokens", "HttpEndpoint", "HttpPutResponseHopLimit") if k in options
            }
            params["MetadataOptions"] = dict({"HttpTokens": "required", "HttpEndpoint": "enabled"}, **hardening)
            profile = data.get("IamInstanceProfile") or {}
            if profile.get("Arn") or profile.get("Name"):
                params["IamInstanceProfile"] = (
                    {"Arn": profile["Arn"]} if profile.get("Arn") else {"Name": profile["Name"]}
                )
            instance = ec2.run_instances(aws_retry=True, **params)["Instances"][0]
            return True, "launched %s from %s through the launch template %s version %s%s" % (
                instance["InstanceId"],
                source["id"],
                name,
                version,
                " (new version)" if added else "",
            )

        self.step(system["name"], "launch in DR region", run)
        if not self.check_mode:

            def running():
                ids = [i["InstanceId"] for i in self.fleet(system)]
                _wait(ec2, "instance_running", self.poll, self.attempts, InstanceIds=ids)
                return False, "%s running" % ", ".join(ids)

            self.step(system["name"], "wait running", running)

    def dr_address(self, systems):
        for system in systems:
            if system["kind"] == "ec2":
                for instance in self.fleet(system, ("running",)):
                    address = instance.get("PublicIpAddress") or instance.get("PrivateIpAddress")
                    if address:
                        return address
        return None

    def terminate(self, system):
        ec2 = self.clients("ec2", self.dr)

        def run():
            instances = [i["InstanceId"] for i in self.fleet(system, ("pending", "running", "stopping", "stopped"))]
            if not instances:
                return False, "no failover instance of %s in %s" % (system["name"], self.dr)
            if self.check_mode:
                return True, "would terminate %s" % ", ".join(instances)
            ec2.terminate_instances(InstanceIds=instances, aws_retry=True)
            _wait(ec2, "instance_terminated", self.poll, self.attempts, InstanceIds=instances)
            return True, "terminated %s" % ", ".join(instances)

        self.step(system["name"], "return fleet to standby", run)

    # --- DNS --------------------------------------------------------------------------------------------

    def switch_dns(self, system, active, dr_value=None):
        """Make the record set ``active`` (PRIMARY_SET or DR_SET) the PRIMARY one; the other becomes SECONDARY."""
        route53 = self.clients("route53", self.dr)

        def run():
            records = [
                r for r in failover_records(route53, system["resource"], system.get("zone")) if r.get("Failover")
            ]
            sets = {r.get("SetIdentifier"): r for r in records}
            if set(sets) != {PRIMARY_SET, DR_SET}:
                raise RuntimeError(
                    "record %s needs two failover record sets with set identifiers %s and %s; found %s"
                    % (system["resource"], PRIMARY_SET, DR_SET, ", ".join(sorted(map(str, sets))) or "none")
                )
            wanted = {}
            for name, record in sets.items():
                new = dict(record)
                new["Failover"] = "PRIMARY" if name == active else "SECONDARY"
                # an alias record (a load balancer of the DR site) already names its target: only its role changes
                if name == DR_SET and dr_value and not record.get("AliasTarget"):
                    new["ResourceRecords"] = [{"Value": dr_value}]
                wanted[name] = new
            if all(wanted[n] == sets[n] for n in sets):
                return False, "%s already answers with the %s site (PRIMARY)" % (system["resource"], active)
            if self.check_mode:
                return True, "would make the %s site PRIMARY for %s" % (active, system["resource"])
            zone = self._zone_id(route53, system)
            changes = [{"Action": "UPSERT", "ResourceRecordSet": wanted[n]} for n in sorted(wanted)]
            route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": changes}, aws_retry=True)
            return True, "%s PRIMARY is now the %s site (%s)" % (
                system["resource"],
                active,
                _record_target(wanted[active]),
            )

        self.step(system["name"], "switch DNS to the %s site" % active, run)

    @staticmethod
    def _zone_id(route53, system):
        name = system["resource"].rstrip(".") + "."
        zones = _paginate(route53, "list_hosted_zones", "HostedZones")
        for zone in zones:
            if (system.get("zone") and zone["Name"] == system["zone"].rstrip(".") + ".") or name.endswith(
                "." + zone["Name"]
            ):
                return zone["Id"]
        raise RuntimeError("no hosted zone holds %s" % name)

    def primary_value(self, system):
        route53 = self.clients("route53", self.dr)
        for record in failover_records(route53, system["resource"], system.get("zone")):
            if record.get("Failover") == "PRIMARY" and (record.get("ResourceRecords") or record.get("AliasTarget")):
                return record.get("SetIdentifier"), _record_target(record)
        return None, None

    def prepare_dns(self, system, dns):
        """Turn the plain record into the failover pair: PRIMARY (health-checked primary site), SECONDARY (DR site)."""
        route53 = self.clients("route53", self.dr)

        def run():
            records = failover_records(route53, system["resource"], system.get("zone"))
            pair = {r.get("SetIdentifier"): r for r in records if r.get("Failover")}
            if set(pair) == {PRIMARY_SET, DR_SET}:
                return False, "%s has its PRIMARY and SECONDARY failover records (%s)" % (
                    system["resource"],
                    ", ".join("%s: %s %s" % (n, pair[n]["Failover"], _record_target(pair[n])) for n in sorted(pair)),
                )
            if pair:
                # failover records made another way: the runbooks switch a pair by its set identifiers
                raise RuntimeError(
                    "record %s already has failover records, with set identifiers %s; the DR runbooks switch the pair"
                    " whose set identifiers are %s (the primary site) and %s (the DR site). Rename the sets in Route 53"
                    " (the same records under those identifiers) and run again; nothing was changed"
                    % (
                        system["resource"],
                        ", ".join("%s (%s)" % (n, pair[n]["Failover"]) for n in sorted(pair, key=str)),
                        PRIMARY_SET,
                        DR_SET,
                    )
                )
            plain = [r for r in records if not r.get("SetIdentifier") and r["Type"] in ("A", "AAAA", "CNAME")]
            if len(plain) != 1 or not plain[0].get("ResourceRecords"):
                raise RuntimeError(
                    "record %s: expected one plain A/AAAA/CNAME record to turn into a failover pair, found %d"
                    % (system["resource"], len(plain))
                )
            if not dns.get("standby_value"):
                raise RuntimeError("dns.standby_value is missing: the address the SECONDARY record answers with")
            plain = plain[0]
            value = plain["ResourceRecords"][0]["Value"]
            if self.check_mode:
                return True, "would make %s a failover pair (PRIMARY %s, SECONDARY %s)" % (
                    system["resource"],
                    value,
                    dns["standby_value"],
                )
            check_id = self._health_check(route53, system, dns, value)
            base = {"Name": plain["Name"], "Type": plain["Type"], "TTL": int(dns.get("ttl") or plain.get("TTL") or 60)}
            primary = dict(base, SetIdentifier=PRIMARY_SET, Failover="PRIMARY", HealthCheckId=check_id)
            primary["ResourceRecords"] = plain["ResourceRecords"]
            secondary = dict(base, SetIdentifier=DR_SET, Failover="SECONDARY")
            secondary["ResourceRecords"] = [{"Value": dns["standby_value"]}]
            changes = [
                {"Action": "DELETE", "ResourceRecordSet": plain},
                {"Action": "CREATE", "ResourceRecordSet": primary},
                {"Action": "CREATE", "ResourceRecordSet": secondary},
            ]
            route53.change_resource_record_sets(
                HostedZoneId=self._zone_id(route53, system), ChangeBatch={"Changes": changes}, aws_retry=True
            )
            return True, "%s is a failover pair: PRIMARY %s (health check %s), SECONDARY %s" % (
                system["resource"],
                value,
                check_id,
                dns["standby_value"],
            )

        self.step(system["name"], "set up the failover records", run)

    @staticmethod
    def _health_check(route53, system, dns, value):
        port = int(dns.get("health_check_port") or 443)
        path = dns.get("health_check_path") or "/"
        for check in _paginate(route53, "list_health_checks", "HealthChecks"):
            config = check.get("HealthCheckConfig", {})
            if config.get("IPAddress") == value and config.get("Port") == port and config.get("ResourcePath") == path:
                return check["Id"]
        config = {
            "Port": port,
            "Type": "HTTPS" if port == 443 else "HTTP",
            "ResourcePath": path,
            "RequestInterval": 30,
            "FailureThreshold": 3,
        }
        if value.replace(".", "").isdigit():
            config["IPAddress"] = value
        else:
            config["FullyQualifiedDomainName"] = value
        reference = ("medcircle-dr-%s-%s-%s" % (system["name"], value, port))[:64]
        return route53.create_health_check(CallerReference=reference, HealthCheckConfig=config, aws_retry=True)[
            "HealthCheck"
        ]["Id"]

    # --- failback of a database -------------------------------------------------------------------------

    def _set_aside(self, region, identifier, failback):
        """The database that failback ``failback`` set aside from ``identifier`` in ``region``, or None: found by
        its tags whatever its name (it is tagged before it is renamed), or under its set-aside name (a failback of
        an earlier version of the collection only renamed it)."""
        if not failback:
            return None
        by_name = set_aside_name(identifier, failback)
        named = None
        for db in _paginate(self.clients("rds", region), "describe_db_instances", "DBInstances"):
            tags = _tags(db.get("TagList"))
            if (tags.get(SET_ASIDE_TAG) or "").lower() == identifier.lower() and tags.get(FAILBACK_TAG) == failback:
                return db
            if db["DBInstanceIdentifier"] == by_name:
                named = db
        return named

    def _failback(self, system):
        """The failback of ``system`` in progress: its id (None before the first run marks it), the DR database it
        fails back from (the promoted DR database, or its set-aside copy) and the database now under the replica's
        name in the DR region. Once the DR side replicates again, the id is the one the new primary carries."""
        name, replica = system["resource"], system["replica"]
        live = self._db(self.dr, replica)
        if live is not None and not _is_replica(live):
            return {"id": _tag(live, FAILBACK_TAG), "source": live, "live": live}
        primary = self._db(self.primary, name)
        failback = _tag(primary, FAILBACK_TAG) if primary and not _tag(primary, SET_ASIDE_TAG) else None
        return {"id": failback, "source": self._set_aside(self.dr, replica, failback), "live": live}

    def resync_primary(self, system):
        """Mark the failback, set the stale primary aside, replicate the DR database into the primary region,
        promote it there, and give it the stale primary's protection."""
        rds_primary = self.clients("rds", self.primary)
        rds_dr = self.clients("rds", self.dr)
        name, replica = system["resource"], system["replica"]

        def mark():
            found = self._failback(system)
            live, failback = found["live"], found["id"]
            if _is_replica(live):
                self.failbacks[system["name"]] = failback
                return False, "%s replicates from %s: no failback to start%s" % (
                    replica,
                    live["ReadReplicaSourceDBInstanceIdentifier"],
                    " (the last one was %s)" % failback if failback else "",
                )
            if found["source"] is None:
                raise RuntimeError("no database %s in %s to fail back from" % (replica, self.dr))
            if failback:
                self.failbacks[system["name"]] = failback
                return False, "failback %s continues (marked on %s)" % (
                    failback,
                    found["source"]["DBInstanceIdentifier"],
                )
            failback = failback_id(_now())
            self.failbacks[system["name"]] = failback
            if self.check_mode:
                return True, "would mark %s with %s=%s (the failback's id: a rerun finds what it set aside by it)" % (
                    replica,
                    FAILBACK_TAG,
                    failback,
                )
            rds_dr.add_tags_to_resource(
                ResourceName=live["DBInstanceArn"], Tags=[{"Key": FAILBACK_TAG, "Value": failback}], aws_retry=True
            )
            return True, "marked %s with %s=%s (the failback's id: a rerun finds what it set aside by it)" % (
                replica,
                FAILBACK_TAG,
                failback,
            )

        self.step(system["name"], "mark the failback", mark)
        failback = self.failbacks.get(system["name"])

        def rename():
            live = self._db(self.dr, replica)
            if _is_replica(live):
                return False, "%s is a replica again: the primary is already back" % replica
            aside = set_aside_name(name, failback)
            stale = self._set_aside(self.primary, name, failback)
            if stale is not None and stale["DBInstanceIdentifier"] != name.lower():
                return False, "the stale %s was already set aside as %s (kept)" % (name, stale["DBInstanceIdentifier"])
            db = self._db(self.primary, name)
            if db is None:
                return False, "no database %s in %s" % (name, self.primary)
            if _made_by(db, failback):
                return False, "%s is the new primary made by failback %s" % (name, failback)
            if self.check_mode:
                return True, "would rename the stale %s to %s (kept; tagged %s=%s)" % (name, aside, SET_ASIDE_TAG, name)
            if stale is None:  # tagged first: a run stopped before the rename still knows it for the stale primary
                rds_primary.add_tags_to_resource(
                    ResourceName=db["DBInstanceArn"], Tags=_marker_tags(name, failback), aws_retry=True
                )
            rds_primary.modify_db_instance(
                DBInstanceIdentifier=name,
                NewDBInstanceIdentifier=aside,
                ApplyImmediately=True,
                aws_retry=True,
            )
            _wait(rds_primary, "db_instance_available", self.poll, self.attempts, DBInstanceIdentifier=aside)
            return True, "renamed the stale %s to %s (kept; tagged %s=%s)" % (name, aside, SET_ASIDE_TAG, name)

        self.step(system["name"], "set the stale primary aside", rename)

        def replicate():
            live = self._db(self.dr, replica)
            if _is_replica(live):
                return False, "%s already replicates from the primary" % replica
            dr_db = live or self._set_aside(self.dr, replica, failback)
            if dr_db is None:
                raise RuntimeError("no database %s in %s to fail back from" % (replica, self.dr))
            db = self._db(self.primary, name)
            stale = self._set_aside(self.primary, name, failback)
            if db is not None:
                if _made_by(db, failback) or _replicates_from(db, dr_db):
                    return False, "%s exists in %s (made by failback %s)" % (name, self.primary, failback)
                if not self.check_mode:
                    raise RuntimeError(
                        "%s in %s was not made by failback %s and was not set aside: rename or delete it (it is "
                        "not the stale primary %s), then run the failback again"
                        % (name, self.primary, failback, (stale or {}).get("DBInstanceIdentifier") or "-")
                    )
                stale = db  # check mode: the stale primary is still under its name
            # the stale primary set aside by the step before: the new primary goes into its network, with its protection
            instance_class = dr_db.get("DBInstanceClass") or "db.t3.micro"
            settings = self._replica_settings(dr_db, stale, self.primary)
            protection, notes = protection_settings(stale, dr_db.get("Engine"), instance_class)
            tags = protection.pop("Tags", [])
            settings.update(protection)
            if self.check_mode:
                return True, "would create %s in %s as a replica of %s%s%s" % (
                    name,
                    self.primary,
                    replica,
                    _describe(settings, tags),
                    _notes(notes),
                )
            rds_primary.create_db_instance_read_replica(
                DBInstanceIdentifier=name,
                SourceDBInstanceIdentifier=dr_db["DBInstanceArn"],
                DBInstanceClass=instance_class,
                SourceRegion=self.dr,
                Tags=[*tags, {"Key": FAILBACK_TAG, "Value": failback}],
                aws_retry=True,
                **settings,
            )
            _wait(rds_primary, "db_instance_available", self.poll, self.attempts, DBInstanceIdentifier=name)
            return True, "replicated %s into %s as %s (synced)%s%s" % (
                replica,
                self.primary,
                name,
                _describe(settings, tags),
                _notes(notes),
            )

        self.step(system["name"], "replicate towards the primary", replicate)

        def promote():
            db = self._db(self.primary, name)
            if db is None or (self.check_mode and not _made_by(db, failback) and not _is_replica(db)):
                if self.check_mode:
                    return True, "would promote %s in %s" % (name, self.primary)
                return False, "-"
            if not _is_replica(db):
                return False, "%s is the standalone primary" % name
            if self.check_mode:
                return True, "would promote %s in %s" % (name, self.primary)
            retention = self._retention(db, self._set_aside(self.primary, name, failback))
            rds_primary.promote_read_replica(DBInstanceIdentifier=name, BackupRetentionPeriod=retention, aws_retry=True)
            _wait(rds_primary, "db_instance_available", self.poll, self.attempts, DBInstanceIdentifier=name)
            return True, "promoted %s in %s (%d days of automated backups)" % (name, self.primary, retention)

        self.step(system["name"], "promote in the primary region", promote)

        def protect():
            db = self._db(self.primary, name)
            stale = self._set_aside(self.primary, name, failback)
            if db is not None and (_tag(db, SET_ASIDE_TAG) or (stale is None and not _made_by(db, failback))):
                if not self.check_mode and failback and _tag(db, SET_ASIDE_TAG):
                    raise RuntimeError("the stale %s is not renamed yet: run the failback again" % name)
                if self.check_mode and not _is_replica(self._db(self.dr, replica)):
                    stale, db = stale or db, None  # check mode: the stale primary is still under its name
            if stale is None:
                return False, "no stale %s set aside by failback %s: nothing to copy" % (name, failback or "-")
            source = stale["DBInstanceIdentifier"]
            if db is None or _is_replica(db):
                if not self.check_mode:
                    raise RuntimeError("%s in %s is not the promoted primary yet" % (name, self.primary))
                dr_db = self._failback(system)["source"] or {}
                notes = protection_settings(stale, dr_db.get("Engine"), dr_db.get("DBInstanceClass"))[1]
                # check mode: the stale primary still has the name the new primary will take
                stale_name = "the stale %s" % source if source == name else source
                return False, "the new %s is made with the protection of %s (step replicate towards the primary) " % (
                    name,
                    stale_name,
                ) + "and checked here once promoted%s" % _notes(notes)
            changes, tags, notes = protection_changes(stale, db)
            if not changes and not tags:
                pending = _pending(db, _custom_group(stale))
                return False, "%s has the protection of %s%s%s%s" % (
                    name,
                    source,
                    _describe(_protected(db)),
                    _notes(notes),
                    "".join("; " + p for p in pending),
                )
            what = _describe(changes, tags)
            if self.check_mode:
                return True, "would set on %s what %s has%s%s" % (name, source, what, _notes(notes))
            arn = db["DBInstanceArn"]
            if tags:
                rds_primary.add_tags_to_resource(ResourceName=arn, Tags=tags, aws_retry=True)
            pending = []
            if changes:
                rds_primary.modify_db_instance(
                    DBInstanceIdentifier=name, ApplyImmediately=True, aws_retry=True, **changes
                )
                _wait(rds_primary, "db_instance_available", self.poll, self.attempts, DBInstanceIdentifier=name)
                pending = _pending(self._db(self.primary, name), _custom_group(stale))
            return True, "set on %s what %s has%s%s%s" % (
                name,
                source,
                what,
                _notes(notes),
                "".join("; " + p for p in pending),
            )

        self.step(system["name"], "copy the stale primary's protection", protect)

    def standby_replica(self, system):
        """The DR database becomes a read replica of the primary again: the promoted copy is set aside (tagged,
        renamed, deletion protection off), the replica is made under the original name, then the copy is deleted
        after a final snapshot. Until the new replica is available, the DR region keeps the promoted copy."""
        rds_dr = self.clients("rds", self.dr)
        name, replica = system["resource"], system["replica"]
        failback = self.failbacks.get(system["name"])
        aside = set_aside_name(replica, failback) if failback else None

        def set_aside():
            dr_db = self._db(self.dr, replica)
            if _is_replica(dr_db):
                return False, "%s replicates from %s" % (replica, dr_db["ReadReplicaSourceDBInstanceIdentifier"])
            copy = self._set_aside(self.dr, replica, failback)
            if dr_db is None:
                return False, "%s was already set aside%s" % (
                    replica,
                    " as %s" % copy["DBInstanceIdentifier"] if copy else "",
                )
            if copy is not None and copy["DBInstanceIdentifier"] != dr_db["DBInstanceIdentifier"]:
                raise RuntimeError(
                    "both %s and %s (set aside by failback %s) exist in %s: the failback cannot tell which copy to "
                    "keep. Delete or rename the one that is not needed, then run the failback again"
                    % (replica, copy["DBInstanceIdentifier"], failback, self.dr)
                )
            if self.check_mode:
                return True, "would rename the promoted %s to %s (deletion protection off)" % (replica, aside)
            if copy is None:  # tagged first: a run stopped before the rename still knows it for the set-aside copy
                rds_dr.add_tags_to_resource(
                    ResourceName=dr_db["DBInstanceArn"], Tags=_marker_tags(replica, failback), aws_retry=True
                )
            rds_dr.modify_db_instance(
                DBInstanceIdentifier=replica,
                NewDBInstanceIdentifier=aside,
                DeletionProtection=False,
                ApplyImmediately=True,
                aws_retry=True,
            )
            _wait(rds_dr, "db_instance_available", self.poll, self.attempts, DBInstanceIdentifier=aside)
            return True, "renamed the promoted %s to %s (deletion protection off, kept until the replica is up)" % (
                replica,
                aside,
            )

        self.step(system["name"], "set the promoted DR database aside", set_aside)

        def create():
            dr_db = self._db(self.dr, replica)
            if _is_replica(dr_db):
                return False, "%s replicates from %s" % (replica, dr_db["ReadReplicaSourceDBInstanceIdentifier"])
            if dr_db is not None and not self.check_mode:
                raise RuntimeError("%s in %s is not a read replica and was not set aside" % (replica, self.dr))
            primary_db = self._db(self.primary, name)
            if primary_db is None:
                raise RuntimeError("no database %s in %s to replicate from" % (name, self.primary))
            # the promoted copy (set aside by the step before; still under its name in check mode)
            replaced = dr_db or self._set_aside(self.dr, replica, failback)
            instance_class = primary_db.get("DBInstanceClass") or "db.t3.micro"
            settings = self._replica_settings(primary_db, replaced, self.dr)
            protection, notes = protection_settings(replaced, primary_db.get("Engine"), instance_class)
            tags = [*protection.pop("Tags", []), {"Key": "cloudops:replica-of", "Value": primary_db["DBInstanceArn"]}]
            tags = list({t["Key"]: t for t in tags}.values())
            protection.pop("MultiAZ", None)  # the DR replica's standby in a second AZ is a choice of rds_protection
            settings.update(protection)
            if self.check_mode:
                return True, "would create %s in %s as a replica of %s%s%s" % (
                    replica,
                    self.dr,
                    name,
                    _describe(settings, tags),
                    _notes(notes),
                )
            rds_dr.create_db_instance_read_replica(
                DBInstanceIdentifier=replica,
                SourceDBInstanceIdentifier=primary_db["DBInstanceArn"],
                DBInstanceClass=instance_class,
                SourceRegion=self.primary,
                Tags=tags,
                aws_retry=True,
                **settings,
            )
            _wait(rds_dr, "db_instance_available", self.poll, self.attempts, DBInstanceIdentifier=replica)
            return True, "%s is a replica of %s again%s%s" % (replica, name, _describe(settings, tags), _notes(notes))

        self.step(system["name"], "return the DR database to standby", create)

        def delete():
            copy = self._set_aside(self.dr, replica, failback)
            if copy is None:
                if self.check_mode and not _is_replica(self._db(self.dr, replica)):
                    return True, "would delete the set-aside %s after the final snapshot %s-final" % (aside, aside)
                return False, "no set-aside copy of %s in %s" % (replica, self.dr)
            identifier = copy["DBInstanceIdentifier"]
            final = identifier + "-final"
            if self.check_mode:
                return True, "would delete the set-aside %s after the final snapshot %s" % (identifier, final)
            if not _is_replica(self._db(self.dr, replica)):
                raise RuntimeError(
                    "%s is not a replica of %s yet: the set-aside copy %s is kept" % (replica, name, identifier)
                )
            if copy.get("DBInstanceStatus") == "deleting":  # a run stopped while it was being deleted
                _wait(rds_dr, "db_instance_deleted", self.poll, self.attempts, DBInstanceIdentifier=identifier)
                return True, "deleted the set-aside %s (final snapshot %s kept)" % (identifier, final)
            if copy.get("DeletionProtection"):
                rds_dr.modify_db_instance(
                    DBInstanceIdentifier=identifier, DeletionProtection=False, ApplyImmediately=True, aws_retry=True
                )
            rds_dr.delete_db_instance(
                DBInstanceIdentifier=identifier,
                SkipFinalSnapshot=False,
                FinalDBSnapshotIdentifier=final,
                aws_retry=True,
            )
            _wait(rds_dr, "db_instance_deleted", self.poll, self.attempts, DBInstanceIdentifier=identifier)
            return True, "deleted the set-aside %s (final snapshot %s kept)" % (identifier, final)

        self.step(system["name"], "delete the set-aside DR database", delete)


# --- pure helpers of the failback -----------------------------------------------------------------------


def _now():
    return datetime.datetime.now(datetime.timezone.utc)


def failback_id(now):
    """The id of a failback started at ``now``: ``pre-failback-YYYYMMDD-HHMMSS`` (UTC), the suffix of what it sets
    aside."""
    return FAILBACK_ID_PREFIX + now.astimezone(datetime.timezone.utc).strftime("%Y%m%d-%H%M%S")


def set_aside_name(identifier, failback):
    """``<identifier>-<failback id>`` in lower case (as RDS stores identifiers), within the 63 characters of a DB
    identifier: a longer one keeps the start of ``identifier`` and a digest of all of it, so that two databases
    never share a set-aside name and a rerun computes the same one."""
    identifier = identifier.lower()
    name = "%s-%s" % (identifier, failback)
    if len(name) <= DB_IDENTIFIER_MAX:
        return name
    digest = hashlib.sha256(identifier.encode("utf-8")).hexdigest()[:6]
    keep = DB_IDENTIFIER_MAX - len(failback) - len(digest) - 2
    return "%s-%s-%s" % (identifier[:keep].rstrip("-"), digest, failback)


def _tag(db, key):
    return _tags((db or {}).get("TagList")).get(key)


def _is_replica(db):
    return db is not None and bool(db.get("ReadReplicaSourceDBInstanceIdentifier"))


def _made_by(db, failback):
    """Whether ``db`` is the new primary that failback ``failback`` made (and not something it set aside)."""
    return bool(failback) and _tag(db, FAILBACK_TAG) == failback and not _tag(db, SET_ASIDE_TAG)


def _replicates_from(db, source):
    found = (db or {}).get("ReadReplicaSourceDBInstanceIdentifier") or ""
    return bool(found) and bool(source) and found in (source.get("DBInstanceArn"), source.get("DBInstanceIdentifier"))


def _marker_tags(identifier, failback):
    return [{"Key": SET_ASIDE_TAG, "Value": identifier}, {"Key": FAILBACK_TAG, "Value": failback}]


def _own_tags(db):
    """The tags of ``db`` a database taking its place gets: not AWS's (``aws:`` cannot be set) nor the markers."""
    return [
        {"Key": key, "Value": value}
        for key, value in _tags((db or {}).get("TagList")).items()
        if key and not key.startswith("aws:") and key not in (FAILBACK_TAG, SET_ASIDE_TAG)
    ]


def _parameter_group(db):
    groups = (db or {}).get("DBParameterGroups") or []
    return groups[0].get("DBParameterGroupName") if groups else None


def _custom_group(db):
    group = _parameter_group(db)
    return group if group and not group.startswith("default.") else None


def _group_at_creation(engine):
    """Whether CreateDBInstanceReadReplica takes a parameter group for a cross-Region replica of ``engine``: the
    API reference allows it for MySQL, Oracle and Db2 only (others get the engine's default group)."""
    engine = (engine or "").lower()
    return engine == "mysql" or engine.startswith(("oracle", "db2"))


def performance_insights_supported(engine, instance_class):
    return not ((engine or "").lower() in ("mysql", "mariadb") and _NO_PERFORMANCE_INSIGHTS.match(instance_class or ""))


def _secret_note(replaced):
    if ((replaced or {}).get("MasterUserSecret") or {}).get("SecretArn"):
        return [
            "the master password managed by Secrets Manager (finding 3.2): RDS makes no read replica of a "
            "database whose master password it manages, and the new database has the DR database's password"
        ]
    return []


def protection_settings(replaced, engine, instance_class):
    """(settings, notes): what of the protection of ``replaced`` (the database a new cross-region read replica takes
    the place of) CreateDBInstanceReadReplica can give the replica, as request parameters (``Tags`` among them),
    and what it cannot (messages). ``engine`` and ``instance_class`` are the new replica's."""
    settings, notes = {}, []
    if not replaced:
        return settings, notes
    group = _custom_group(replaced)
    if group and _group_at_creation(engine):
        settings["DBParameterGroupName"] = group
    if replaced.get("MultiAZ"):
        settings["MultiAZ"] = True
    interval = int(replaced.get("MonitoringInterval") or 0)
    if interval and replaced.get("MonitoringRoleArn"):
        settings["MonitoringInterval"] = interval
        settings["MonitoringRoleArn"] = replaced["MonitoringRoleArn"]
    if replaced.get("EnabledCloudwatchLogsExports"):
        settings["EnableCloudwatchLogsExports"] = list(replaced["EnabledCloudwatchLogsExports"])
    if replaced.get("IAMDatabaseAuthenticationEnabled"):
        settings["EnableIAMDatabaseAuthentication"] = True
    for key in ("CopyTagsToSnapshot", "AutoMinorVersionUpgrade"):
        if replaced.get(key):
            settings[key] = True
    if replaced.get("PubliclyAccessible") is False:
        settings["PubliclyAccessible"] = False
    if replaced.get("PerformanceInsightsEnabled"):
        if performance_insights_supported(engine, instance_class):
            settings.update(_performance_insights(replaced))
        else:
            notes.append("Performance Insights (%s on %s has none)" % (engine, instance_class))
    tags = _own_tags(replaced)
    if tags:
        settings["Tags"] = tags
    notes.extend(_secret_note(replaced))
    return settings, notes


def _performance_insights(db):
    found = {"EnablePerformanceInsights": True}
    if db.get("PerformanceInsightsKMSKeyId"):
        found["PerformanceInsightsKMSKeyId"] = db["PerformanceInsightsKMSKeyId"]
    if db.get("PerformanceInsightsRetentionPeriod"):
        found["PerformanceInsightsRetentionPeriod"] = int(db["PerformanceInsightsRetentionPeriod"])
    return found


def protection_changes(stale, db):
    """(changes, tags, notes): the ModifyDBInstance parameters that give ``db`` (the promoted new primary) the
    protection ``stale`` (the primary it replaces) has, the tags of ``stale`` that ``db`` lacks, and what cannot be
    copied (messages). Nothing of ``db`` is weakened: settings are only turned on, monitoring made only more
    frequent, log exports only added, tags only added or updated."""
    changes, notes = {}, []
    group = _custom_group(stale)
    if group and group != _parameter_group(db):
        changes["DBParameterGroupName"] = group
    if stale.get("MultiAZ") and not db.get("MultiAZ"):
        changes["MultiAZ"] = True
    interval, current = int(stale.get("MonitoringInterval") or 0), int(db.get("MonitoringInterval") or 0)
    if interval and stale.get("MonitoringRoleArn") and (not current or current > interval):
        changes["MonitoringInterval"] = interval
        changes["MonitoringRoleArn"] = stale["MonitoringRoleArn"]
    missing = [
        t
        for t in stale.get("EnabledCloudwatchLogsExports") or []
        if t not in (db.get("EnabledCloudwatchLogsExports") or [])
    ]
    if missing:
        changes["CloudwatchLogsExportConfiguration"] = {"EnableLogTypes": missing}
    for key in ("DeletionProtection", "CopyTagsToSnapshot", "AutoMinorVersionUpgrade"):
        if stale.get(key) and not db.get(key):
            changes[key] = True
    if stale.get("IAMDatabaseAuthenticationEnabled") and not db.get("IAMDatabaseAuthenticationEnabled"):
        changes["EnableIAMDatabaseAuthentication"] = True
    if stale.get("PubliclyAccessible") is False and db.get("PubliclyAccessible"):
        changes["PubliclyAccessible"] = False
    if stale.get("PerformanceInsightsEnabled") and not db.get("PerformanceInsightsEnabled"):
        if performance_insights_supported(db.get("Engine"), db.get("DBInstanceClass")):
            changes.update(_performance_insights(stale))
        else:
            notes.append("Performance Insights (%s on %s has none)" % (db.get("Engine"), db.get("DBInstanceClass")))
    retention = Runbook._retention(stale, db)
    if int(db.get("BackupRetentionPeriod") or 0) < retention:
        changes["BackupRetentionPeriod"] = retention
    windows = ("PreferredBackupWindow", "PreferredMaintenanceWindow")
    if all(stale.get(w) for w in windows) and any(
        (stale[w] or "").lower() != (db.get(w) or "").lower() for w in windows
    ):
        changes.update({w: stale[w] for w in windows})
    have = _tags(db.get("TagList"))
    tags = [t for t in _own_tags(stale) if have.get(t["Key"]) != t["Value"]]
    if not _secret_of(db):
        notes.extend(_secret_note(stale))
    return changes, tags, notes


def _secret_of(db):
    return ((db or {}).get("MasterUserSecret") or {}).get("SecretArn")


def _protected(db):
    """The protection ``db`` has, as the parameters that set it (for a step's detail)."""
    found = protection_settings(db, db.get("Engine"), db.get("DBInstanceClass"))[0]
    found.pop("Tags", None)
    group = _custom_group(db)
    if group:
        found["DBParameterGroupName"] = group
    if db.get("DeletionProtection"):
        found["DeletionProtection"] = True
    if db.get("BackupRetentionPeriod"):
        found["BackupRetentionPeriod"] = int(db["BackupRetentionPeriod"])
    return found


def _pending(db, group):
    """What is left to do on ``db`` (messages): parameter group ``group`` attached but applied only at a reboot."""
    for entry in (db or {}).get("DBParameterGroups") or []:
        if (
            group
            and entry.get("DBParameterGroupName") == group
            and entry.get("ParameterApplyStatus") == "pending-reboot"
        ):
            return [
                "parameter group %s applies only at the next reboot of %s: reboot it in the maintenance window, or "
                "run %s -e rds_protection_tls_reboot=true" % (group, db["DBInstanceIdentifier"], REMEDIATE_RDS)
            ]
    return []


def _notes(notes):
    """What could not be copied, for a step's detail, with what IT support runs for it."""
    if not notes:
        return ""
    return "; not copied: %s - run %s (role rds_protection) to restore it" % ("; ".join(notes), REMEDIATE_RDS)


def _describe(settings, tags=None):
    """The settings of a new replica, or the changes made to a database, for a step's detail."""
    parts = []
    if settings.get("KmsKeyId"):
        parts.append("encrypted with %s" % settings["KmsKeyId"])
    if settings.get("DBSubnetGroupName"):
        parts.append("subnet group %s" % settings["DBSubnetGroupName"])
    if settings.get("VpcSecurityGroupIds"):
        parts.append("security groups %s" % ", ".join(settings["VpcSecurityGroupIds"]))
    if settings.get("DBParameterGroupName"):
        parts.append("parameter group %s" % settings["DBParameterGroupName"])
    if settings.get("MultiAZ"):
        parts.append("Multi-AZ")
    if settings.get("MonitoringInterval"):
        parts.append("enhanced monitoring every %s s" % settings["MonitoringInterval"])
    logs = settings.get("EnableCloudwatchLogsExports") or (settings.get("CloudwatchLogsExportConfiguration") or {}).get(
        "EnableLogTypes"
    )
    if logs:
        parts.append("log exports %s" % ", ".join(logs))
    if settings.get("EnablePerformanceInsights"):
        parts.append("Performance Insights")
    if settings.get("EnableIAMDatabaseAuthentication"):
        parts.append("IAM authentication")
    if settings.get("DeletionProtection"):
        parts.append("deletion protection")
    if settings.get("CopyTagsToSnapshot"):
        parts.append("tags copied to snapshots")
    if settings.get("AutoMinorVersionUpgrade"):
        parts.append("automatic minor upgrades")
    if settings.get("PubliclyAccessible") is False:
        parts.append("not publicly accessible")
    if settings.get("BackupRetentionPeriod"):
        parts.append("%s days of automated backups" % settings["BackupRetentionPeriod"])
    if settings.get("PreferredBackupWindow"):
        parts.append("backup window %s" % settings["PreferredBackupWindow"])
    if settings.get("PreferredMaintenanceWindow"):
        parts.append("maintenance window %s" % settings["PreferredMaintenanceWindow"])
    if tags:
        parts.append("tags %s" % ", ".join(t["Key"] for t in tags))
    return " (%s)" % "; ".join(parts) if parts else ""


def _record_target(record):
    """What a record answers with: its first value, or the DNS name of its alias target."""
    if record.get("ResourceRecords"):
        return record["ResourceRecords"][0]["Value"]
    alias = record.get("AliasTarget") or {}
    return ("alias %s" % alias["DNSName"].rstrip(".")) if alias.get("DNSName") else "-"


def failover(systems, clients, primary_region, dr_region, network=None, check_mode=False, poll=5, attempts=120):
    book = Runbook(clients, primary_region, dr_region, check_mode, poll, attempts)
    error = None
    try:
        for system in systems:
            if system["kind"] == "rds" and system.get("replica"):
                book.promote(system)
        for system in systems:
            if system["kind"] == "ec2":
                book.launch(system, network or {})
        address = None if check_mode else book.dr_address(systems)
        for system in systems:
            if system["kind"] == "dns":
                book.switch_dns(system, DR_SET, address)
        if not check_mode:
            verify(book, systems, DR_SET)
    except Exception as exc:  # recorded in the steps; the caller reports
        error = "%s: %s" % (type(exc).__name__, exc)
    return _record(book, "failover", error)


def failback(
    systems,
    clients,
    primary_region,
    dr_region,
    check_mode=False,
    poll=5,
    attempts=120,
    rds_kms_key=RDS_KEY_ALIAS,
):
    book = Runbook(clients, primary_region, dr_region, check_mode, poll, attempts, rds_kms_key)
    error = None
    try:
        for system in systems:
            if system["kind"] == "rds" and system.get("replica"):
                book.resync_primary(system)
        for system in systems:
            if system["kind"] == "dns":
                book.switch_dns(system, PRIMARY_SET)
        for system in systems:
            if system["kind"] == "rds" and system.get("replica"):
                book.standby_replica(system)
        for system in systems:
            if system["kind"] == "ec2":
                book.terminate(system)
        if not check_mode:
            verify(book, systems, PRIMARY_SET)
    except Exception as exc:
        error = "%s: %s" % (type(exc).__name__, exc)
    return _record(book, "failback", error)


def verify(book, systems, active):
    for system in systems:
        kind = system["kind"]
        if kind == "rds" and system.get("replica"):
            if active == DR_SET:

                def check(system=system):
                    db = book._db(book.dr, system["replica"])
                    if (
                        db is None
                        or db.get("ReadReplicaSourceDBInstanceIdentifier")
                        or db["DBInstanceStatus"] != "available"
                    ):
                        raise RuntimeError("%s is not a standalone available database" % system["replica"])
                    return False, "%s standalone and available" % system["replica"]
            else:

                def check(system=system):
                    db = book._db(book.primary, system["resource"])
                    replica = book._db(book.dr, system["replica"])
                    if db is None or db.get("ReadReplicaSourceDBInstanceIdentifier"):
                        raise RuntimeError("%s is not the standalone primary" % system["resource"])
                    if replica is None or not replica.get("ReadReplicaSourceDBInstanceIdentifier"):
                        raise RuntimeError("%s does not replicate from the primary" % system["replica"])
                    return False, "%s primary, %s its replica" % (system["resource"], system["replica"])

            book.step(system["name"], "verify", check)
        elif kind == "ec2":

            def check(system=system):
                running = book.fleet(system, ("running",))
                if active == DR_SET and not running:
                    raise RuntimeError("no running instance of %s in %s" % (system["name"], book.dr))
                if active == PRIMARY_SET and running:
                    raise RuntimeError("failover instances of %s still run in %s" % (system["name"], book.dr))
                return False, "%d failover instance(s) running" % len(running)

            book.step(system["name"], "verify", check)
        elif kind == "dns":

            def check(system=system):
                set_id, value = book.primary_value(system)
                if set_id != active:
                    raise RuntimeError("%s PRIMARY is the %s site, expected %s" % (system["resource"], set_id, active))
                return False, "%s answers with the %s site (%s)" % (system["resource"], active, value)

            book.step(system["name"], "verify", check)


def standby(systems, clients, primary_region, dr_region, dns=None, check_mode=False, poll=5, attempts=120):
    """Prepare the standby: the Route 53 failover pair of every dns system."""
    book = Runbook(clients, primary_region, dr_region, check_mode, poll, attempts)
    error = None
    try:
        for system in systems:
            if system["kind"] == "dns":
                book.prepare_dns(system, dns or {})
    except Exception as exc:
        error = "%s: %s" % (type(exc).__name__, exc)
    return _record(book, "standby", error)


def _record(book, action, error):
    return {
        "action": action,
        "primary_region": book.primary,
        "dr_region": book.dr,
        "check_mode": book.check_mode,
        "result": "fail" if error else ("planned" if book.check_mode else "pass"),
        "success": error is None,
        "error": error,
        "seconds": round(time.monotonic() - book.t0, 3),
        "steps": book.steps,
        "changed": book.changed,
    }
