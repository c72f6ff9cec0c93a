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
  1. re-establish replication towards the primary: the stale primary database is renamed (kept, never deleted),
     a read replica of the DR database is made in the primary region under the original name, synced and promoted;
  2. switch DNS back (the primary site's record PRIMARY again, with its health check);
  3. return the DR side to standby: the promoted DR database is set aside (renamed, deletion protection off), a
     read replica of the primary is made under its name, and only once it is available is the set-aside copy
     deleted after a final snapshot; the failover instances are terminated;
  4. verify.
A new cross-region replica is made in the subnet group and security groups of the database it replaces, with
deletion protection, and encrypted with the destination region's RDS key (the key alias is looked up there) when
its source is encrypted. A promoted database keeps at least RETENTION_FLOOR_DAYS days of automated backups.
A rerun after an interruption skips the steps already done.
"""

import datetime
import time

try:  # noqa: SIM105 - AnsibleAWSModule reports a missing botocore
    import botocore.exceptions
except ImportError:
    pass

from ansible_collections.medcircle.cloudops.plugins.module_utils.dr import (
    _ec2_source,
    _error_code,
    _paginate,
    _wait,
    failover_records,
)

FAILOVER_TAG = "cloudops:failover-of"
RDS_KEY_ALIAS = "alias/medcircle-rds"
RETENTION_FLOOR_DAYS = 35
PRIMARY_SET = "primary"
DR_SET = "dr"


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
                if name == DR_SET and dr_value:
                    new["ResourceRecords"] = [{"Value": dr_value}]
                wanted[name] = new
            if all(wanted[n] == sets[n] for n in sets):
                return False, "%s already answers with the %s site (PRIMARY)" % (system["resource"], active)
            if self.check_mode:
                return True, "would make the %s site PRIMARY for %s" % (active, system["resource"])
            zone = self._zone_id(route53, system)
            changes = [{"Action": "UPSERT", "ResourceRecordSet": wanted[n]} for n in sorted(wanted)]
            route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": changes}, aws_retry=True)
            value = wanted[active]["ResourceRecords"][0]["Value"] if wanted[active].get("ResourceRecords") else "-"
            return True, "%s PRIMARY is now the %s site (%s)" % (system["resource"], active, value)

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
            if record.get("Failover") == "PRIMARY" and record.get("ResourceRecords"):
                return record.get("SetIdentifier"), record["ResourceRecords"][0]["Value"]
        return None, None

    def prepare_dns(self, system, dns):
        """Turn the plain record into the failover pair: PRIMARY (health-checked primary site), SECONDARY (DR site)."""
        route53 = self.clients("route53", self.dr)

        def run():
            records = failover_records(route53, system["resource"], system.get("zone"))
            sets = {r.get("SetIdentifier") for r in records if r.get("Failover")}
            if sets == {PRIMARY_SET, DR_SET}:
                return False, "%s has its PRIMARY and SECONDARY failover records" % system["resource"]
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

    def resync_primary(self, system, suffix):
        """Rename the stale primary, replicate the DR database into the primary region, promote it there."""
        rds_primary = self.clients("rds", self.primary)
        name, replica = system["resource"], system["replica"]

        def dr_database():
            # once the DR side is being returned to standby, the promoted DR database is set aside under this name
            return self._db(self.dr, replica) or self._db(self.dr, replica + "-" + suffix)

        def rename():
            db = self._db(self.primary, name)
            dr_db = dr_database()
            if dr_db is None:
                raise RuntimeError("no database %s in %s to fail back from" % (replica, self.dr))
            if dr_db.get("ReadReplicaSourceDBInstanceIdentifier"):
                return False, "%s is a replica again: the primary is already back" % replica
            if db is None:
                return False, "no database %s in %s" % (name, self.primary)
            if (db.get("ReadReplicaSourceDBInstanceIdentifier") or "").endswith(":" + replica) or db.get(
                "ReadReplicaSourceDBInstanceIdentifier"
            ) == dr_db.get("DBInstanceArn"):
                return False, "%s is already a replica of %s" % (name, replica)
            if self._db(self.primary, name + "-" + suffix) is not None or any(
                t.get("Key") == "cloudops:failback" for t in db.get("TagList") or []
            ):
                return False, "%s was already set aside" % name
            if self.check_mode:
                return True, "would rename the stale %s to %s-%s" % (name, name, suffix)
            rds_primary.modify_db_instance(
                DBInstanceIdentifier=name,
                NewDBInstanceIdentifier=name + "-" + suffix,
                ApplyImmediately=True,
                aws_retry=True,
            )
            _wait(
                rds_primary, "db_instance_available", self.poll, self.attempts, DBInstanceIdentifier=name + "-" + suffix
            )
            return True, "renamed the stale %s to %s-%s (kept)" % (name, name, suffix)

        self.step(system["name"], "set the stale primary aside", rename)

        def replicate():
            dr_db = dr_database()
            if dr_db.get("ReadReplicaSourceDBInstanceIdentifier"):
                return False, "%s already replicates from the primary" % replica
            db = self._db(self.primary, name)
            stale = self._db(self.primary, name + "-" + suffix)
            if db is not None:
                tagged = any(t.get("Key") == "cloudops:failback" for t in db.get("TagList") or [])
                if not self.check_mode or tagged or db.get("ReadReplicaSourceDBInstanceIdentifier"):
                    return False, "%s exists in %s" % (name, self.primary)
                stale = db  # check mode: the stale primary is still under its name
            # the stale primary set aside by the step before: the new primary goes into its network
            settings = self._replica_settings(dr_db, stale, self.primary)
            if self.check_mode:
                return True, "would create %s in %s as a replica of %s%s" % (
                    name,
                    self.primary,
                    replica,
                    _describe(settings),
                )
            rds_primary.create_db_instance_read_replica(
                DBInstanceIdentifier=name,
                SourceDBInstanceIdentifier=dr_db["DBInstanceArn"],
                DBInstanceClass=dr_db.get("DBInstanceClass") or "db.t3.micro",
                SourceRegion=self.dr,
                Tags=[{"Key": "cloudops:failback", "Value": suffix}],
                aws_retry=True,
                **settings,
            )
            _wait(rds_primary, "db_instance_available", self.poll, self.attempts, DBInstanceIdentifier=name)
            return True, "replicated %s into %s as %s (synced)%s" % (replica, self.primary, name, _describe(settings))

        self.step(system["name"], "replicate towards the primary", replicate)

        def promote():
            db = self._db(self.primary, name)
            if db is None:
                return (True, "would promote %s in %s" % (name, self.primary)) if self.check_mode else (False, "-")
            if not db.get("ReadReplicaSourceDBInstanceIdentifier"):
                return False, "%s is the standalone primary" % name
            if self.check_mode:
                return True, "would promote %s in %s" % (name, self.primary)
            retention = self._retention(db, self._db(self.primary, name + "-" + suffix))
            rds_primary.promote_read_replica(DBInstanceIdentifier=name, BackupRetentionPeriod=retention, aws_retry=True)
            _wait(rds_primary, "db_instance_available", self.poll, self.attempts, DBInstanceIdentifier=name)
            return True, "promoted %s in %s (%d days of automated backups)" % (name, self.primary, retention)

        self.step(system["name"], "promote in the primary region", promote)

    def standby_replica(self, system, suffix):
        """The DR database becomes a read replica of the primary again: the promoted copy is set aside (renamed,
        deletion protection off), the replica is made under the original name, then the copy is deleted after a
        final snapshot. Until the new replica is available, the DR region keeps the promoted copy."""
        rds_dr = self.clients("rds", self.dr)
        name, replica = system["resource"], system["replica"]
        aside = replica + "-" + suffix
        final = aside + "-final"

        def is_replica(db):
            return db is not None and bool(db.get("ReadReplicaSourceDBInstanceIdentifier"))

        def set_aside():
            dr_db = self._db(self.dr, replica)
            if is_replica(dr_db):
                return False, "%s replicates from %s" % (replica, dr_db["ReadReplicaSourceDBInstanceIdentifier"])
            if dr_db is None:
                return False, "%s was already set aside" % replica
            if self._db(self.dr, aside) is not None:
                raise RuntimeError(
                    "both %s and %s exist in %s: the failback cannot tell which copy to keep. Delete or rename "
                    "the one that is not needed, then run the failback again" % (replica, aside, self.dr)
                )
            if self.check_mode:
                return True, "would rename the promoted %s to %s (deletion protection off)" % (replica, aside)
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
            if is_replica(dr_db):
                return False, "%s replicates from %s" % (replica, dr_db["ReadReplicaSourceDBInstanceIdentifier"])
            if dr_db is not None and not self.check_mode:
                raise RuntimeError("%s in %s is not a read replica and was not set aside" % (replica, self.dr))
            primary_db = self._db(self.primary, name)
            if primary_db is None:
                raise RuntimeError("no database %s in %s to replicate from" % (name, self.primary))
            # the promoted copy (set aside by the step before; still under its name in check mode)
            settings = self._replica_settings(primary_db, dr_db or self._db(self.dr, aside), self.dr)
            if self.check_mode:
                return True, "would create %s in %s as a replica of %s%s" % (
                    replica,
                    self.dr,
                    name,
                    _describe(settings),
                )
            rds_dr.create_db_instance_read_replica(
                DBInstanceIdentifier=replica,
                SourceDBInstanceIdentifier=primary_db["DBInstanceArn"],
                DBInstanceClass=primary_db.get("DBInstanceClass") or "db.t3.micro",
                SourceRegion=self.primary,
                Tags=[{"Key": "cloudops:replica-of", "Value": primary_db["DBInstanceArn"]}],
                aws_retry=True,
                **settings,
            )
            _wait(rds_dr, "db_instance_available", self.poll, self.attempts, DBInstanceIdentifier=replica)
            return True, "%s is a replica of %s again%s" % (replica, name, _describe(settings))

        self.step(system["name"], "return the DR database to standby", create)

        def delete():
            copy = self._db(self.dr, aside)
            if copy is None:
                if self.check_mode and not is_replica(self._db(self.dr, replica)):
                    return True, "would delete the set-aside %s after the final snapshot %s" % (aside, final)
                return False, "no set-aside copy %s in %s" % (aside, self.dr)
            if self.check_mode:
                return True, "would delete the set-aside %s after the final snapshot %s" % (aside, final)
            if not is_replica(self._db(self.dr, replica)):
                raise RuntimeError(
                    "%s is not a replica of %s yet: the set-aside copy %s is kept" % (replica, name, aside)
                )
            if copy.get("DBInstanceStatus") == "deleting":  # a run stopped while it was being deleted
                _wait(rds_dr, "db_instance_deleted", self.poll, self.attempts, DBInstanceIdentifier=aside)
                return True, "deleted the set-aside %s (final snapshot %s kept)" % (aside, final)
            if copy.get("DeletionProtection"):
                rds_dr.modify_db_instance(
                    DBInstanceIdentifier=aside, DeletionProtection=False, ApplyImmediately=True, aws_retry=True
                )
            rds_dr.delete_db_instance(
                DBInstanceIdentifier=aside,
                SkipFinalSnapshot=False,
                FinalDBSnapshotIdentifier=final,
                aws_retry=True,
            )
            _wait(rds_dr, "db_instance_deleted", self.poll, self.attempts, DBInstanceIdentifier=aside)
            return True, "deleted the set-aside %s (final snapshot %s kept)" % (aside, final)

        self.step(system["name"], "delete the set-aside DR database", delete)


def _describe(settings):
    """The replica settings for a step's detail."""
    parts = []
    if settings.get("KmsKeyId"):
        parts.append("encrypted with %s" % settings["KmsKeyId"])
    if settings.get("DBSubnetGroupName"):
        parts.append("subnet group %s" % settings["DBSubnetGroupName"])
    if settings.get("VpcSecurityGroupIds"):
        parts.append("security groups %s" % ", ".join(settings["VpcSecurityGroupIds"]))
    return " (%s)" % "; ".join(parts) if parts else ""


def _today():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%d")


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
    suffix = "pre-failback-" + _today()
    error = None
    try:
        for system in systems:
            if system["kind"] == "rds" and system.get("replica"):
                book.resync_primary(system, suffix)
        for system in systems:
            if system["kind"] == "dns":
                book.switch_dns(system, PRIMARY_SET)
        for system in systems:
            if system["kind"] == "rds" and system.get("replica"):
                book.standby_replica(system, suffix)
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
