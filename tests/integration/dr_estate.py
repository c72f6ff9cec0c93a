"""Test helpers: the cross-region copies a DR drill or failover recovers from, made with boto3 on the sandbox,
and the clients a runbook's steps use when a test runs them in its own process.

The backup, dlm_snapshots, rds_protection and ec2_fleet roles make these in a real estate; the DR tests make
their own so that they depend only on the seeded estate.
"""

import json
from pathlib import Path

from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry, RetryingBotoClientWrapper

REPO_ROOT = Path(__file__).resolve().parents[2]
PRIMARY = "us-east-1"
DR = "us-west-2"
INSTANCE_NAME = "medcircle-app"
DB_ID = "medcircledb"
REPLICA_ID = "medcircledb-dr"
DR_BUCKET_PREFIX = "medcircle-patient-records-dr"


def in_process_clients(sandbox):
    """``clients(service, region)`` as the DR modules make them (amazon.aws's retrying wrapper), on the sandbox:
    for tests that run a runbook's steps in this process."""
    made = {}

    def clients(service, region):
        if (service, region) not in made:
            retry = AWSRetry.jittered_backoff(retries=2, delay=0, max_delay=0)
            made[(service, region)] = RetryingBotoClientWrapper(sandbox.client(service, region), retry)
        return made[(service, region)]

    return clients


def instance(sandbox, name=INSTANCE_NAME):
    ec2 = sandbox.client("ec2", PRIMARY)
    found = ec2.describe_instances(
        Filters=[{"Name": "tag:Name", "Values": [name]}, {"Name": "instance-state-name", "Values": ["running"]}]
    )
    return found["Reservations"][0]["Instances"][0]


def copy_ami(sandbox, name=INSTANCE_NAME, system=None):
    """An AMI of the instance, copied to the DR region and tagged with its source."""
    ec2 = sandbox.client("ec2", PRIMARY)
    inst = instance(sandbox, name)
    image = ec2.create_image(InstanceId=inst["InstanceId"], Name=f"{name}-ami")["ImageId"]
    dr = sandbox.client("ec2", DR)
    copy = dr.copy_image(SourceImageId=image, SourceRegion=PRIMARY, Name=f"{name}-dr")["ImageId"]
    tags = [{"Key": "cloudops:source-instance", "Value": inst["InstanceId"]}]
    if system:
        tags.append({"Key": "cloudops:system", "Value": system})
    dr.create_tags(Resources=[copy], Tags=tags)
    return copy


def copy_volume_snapshot(sandbox, volume_id, system=None):
    ec2 = sandbox.client("ec2", PRIMARY)
    snap = ec2.create_snapshot(VolumeId=volume_id, Description="dr copy source")["SnapshotId"]
    dr = sandbox.client("ec2", DR)
    copy = dr.copy_snapshot(SourceSnapshotId=snap, SourceRegion=PRIMARY, Description="dr copy")["SnapshotId"]
    tags = [{"Key": "cloudops:source-volume", "Value": volume_id}]
    if system:
        tags.append({"Key": "cloudops:system", "Value": system})
    dr.create_tags(Resources=[copy], Tags=tags)
    return copy


def copy_db_snapshot(sandbox, db_id=DB_ID, name=None):
    rds = sandbox.client("rds", PRIMARY)
    name = name or f"{db_id}-dr-copy"
    snap = rds.create_db_snapshot(DBSnapshotIdentifier=f"{name}-src", DBInstanceIdentifier=db_id)["DBSnapshot"]
    dr = sandbox.client("rds", DR)
    dr.copy_db_snapshot(
        SourceDBSnapshotIdentifier=snap["DBSnapshotArn"],
        TargetDBSnapshotIdentifier=name,
        SourceRegion=PRIMARY,
        Tags=[{"Key": "cloudops:source-db", "Value": db_id}],
    )
    return name


def replica(sandbox, db_id=DB_ID, replica_id=REPLICA_ID):
    rds = sandbox.client("rds", PRIMARY)
    arn = rds.describe_db_instances(DBInstanceIdentifier=db_id)["DBInstances"][0]["DBInstanceArn"]
    dr = sandbox.client("rds", DR)
    group = rds.describe_db_instances(DBInstanceIdentifier=db_id)["DBInstances"][0]["DBParameterGroups"][0]
    if not dr.describe_db_parameter_groups()["DBParameterGroups"] or group["DBParameterGroupName"] not in [
        g["DBParameterGroupName"] for g in dr.describe_db_parameter_groups()["DBParameterGroups"]
    ]:
        dr.create_db_parameter_group(  # the replica gets its source's parameter group name (as rds_protection does)
            DBParameterGroupName=group["DBParameterGroupName"], DBParameterGroupFamily="mysql8.0", Description="DR"
        )
    dr.create_db_instance_read_replica(
        DBInstanceIdentifier=replica_id,
        SourceDBInstanceIdentifier=arn,
        DBInstanceClass="db.t3.micro",
        SourceRegion=PRIMARY,
        DBParameterGroupName=group["DBParameterGroupName"],
        Tags=[{"Key": "cloudops:replica-of", "Value": arn}],
    )
    return replica_id


def dr_bucket(sandbox):
    s3 = sandbox.client("s3", PRIMARY)
    source = next(b["Name"] for b in s3.list_buckets()["Buckets"] if b["Name"].startswith("medcircle-patient-records"))
    account = source.rsplit("-", 1)[-1]
    name = f"{DR_BUCKET_PREFIX}-{account}"
    dr = sandbox.client("s3", DR)
    dr.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": DR})
    for item in s3.list_objects_v2(Bucket=source).get("Contents", []):
        body = s3.get_object(Bucket=source, Key=item["Key"])["Body"].read()
        dr.put_object(Bucket=name, Key=item["Key"], Body=body)
    return name


def drill_network(sandbox):
    """A minimal isolated drill network in the DR region (what the dr_site role provisions)."""
    ec2 = sandbox.client("ec2", DR)
    vpc = ec2.create_vpc(CidrBlock="10.90.0.0/16")["Vpc"]["VpcId"]
    subnet_a = ec2.create_subnet(VpcId=vpc, CidrBlock="10.90.100.0/24", AvailabilityZone=DR + "a")["Subnet"]["SubnetId"]
    subnet_b = ec2.create_subnet(VpcId=vpc, CidrBlock="10.90.101.0/24", AvailabilityZone=DR + "b")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="drill-test", Description="drill", VpcId=vpc)["GroupId"]
    rds = sandbox.client("rds", DR)
    rds.create_db_subnet_group(
        DBSubnetGroupName="drill-test-db", DBSubnetGroupDescription="drill", SubnetIds=[subnet_a, subnet_b]
    )
    return {
        "subnet_id": subnet_a,
        "security_group_id": group,
        "db_subnet_group": "drill-test-db",
        "availability_zone": DR + "a",
    }


def ssm_profile(sandbox, name="medcircle-dr-drill"):
    """An instance profile whose role lets the SSM agent register (drill instances answer SSM)."""
    iam = sandbox.client("iam", PRIMARY)
    trust = json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        }
    )
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)
    iam.attach_role_policy(RoleName=name, PolicyArn="arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore")
    iam.create_instance_profile(InstanceProfileName=name)
    iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=name)
    return name


def failover_records(sandbox, zone_name="medcircle.example.", record="app.medcircle.example.", dr_value="10.20.1.10"):
    """Turn the plain A record into a PRIMARY/SECONDARY failover pair with a health check on the primary."""
    route53 = sandbox.client("route53", PRIMARY)
    zone = next(z for z in route53.list_hosted_zones()["HostedZones"] if z["Name"] == zone_name)
    records = route53.list_resource_record_sets(HostedZoneId=zone["Id"])["ResourceRecordSets"]
    plain = next(r for r in records if r["Name"] == record and r["Type"] == "A" and "SetIdentifier" not in r)
    primary_value = plain["ResourceRecords"][0]["Value"]
    check = route53.create_health_check(
        CallerReference="dr-test-primary",
        HealthCheckConfig={"IPAddress": primary_value, "Port": 443, "Type": "HTTPS", "ResourcePath": "/health"},
    )["HealthCheck"]["Id"]
    route53.change_resource_record_sets(
        HostedZoneId=zone["Id"],
        ChangeBatch={
            "Changes": [
                {"Action": "DELETE", "ResourceRecordSet": plain},
                {
                    "Action": "CREATE",
                    "ResourceRecordSet": {
                        "Name": record,
                        "Type": "A",
                        "TTL": 60,
                        "SetIdentifier": "primary",
                        "Failover": "PRIMARY",
                        "HealthCheckId": check,
                        "ResourceRecords": [{"Value": primary_value}],
                    },
                },
                {
                    "Action": "CREATE",
                    "ResourceRecordSet": {
                        "Name": record,
                        "Type": "A",
                        "TTL": 60,
                        "SetIdentifier": "dr",
                        "Failover": "SECONDARY",
                        "ResourceRecords": [{"Value": dr_value}],
                    },
                },
            ]
        },
    )
    return primary_value


def dr_ebs_key(sandbox, alias="alias/medcircle-ebs"):
    """The DR region's EBS key under its alias (what the kms_keys role makes in the DR region)."""
    kms = sandbox.client("kms", DR)
    for existing in kms.list_aliases()["Aliases"]:
        if existing["AliasName"] == alias and existing.get("TargetKeyId"):
            return kms.describe_key(KeyId=existing["TargetKeyId"])["KeyMetadata"]["Arn"]
    key = kms.create_key(Description="MedCircle EBS (DR)")["KeyMetadata"]
    kms.create_alias(AliasName=alias, TargetKeyId=key["KeyId"])
    return key["Arn"]


def launch_template(sandbox, network, name="medcircle-app-lt", profile="medcircle-dr-drill"):
    """The hardened DR launch template the dr_site role writes (no image: a failover adds the AMI copy)."""
    ec2 = sandbox.client("ec2", DR)
    template = ec2.create_launch_template(
        LaunchTemplateName=name,
        VersionDescription="standby",
        LaunchTemplateData={
            "InstanceType": "t3.micro",
            "IamInstanceProfile": {"Name": profile},
            "MetadataOptions": {"HttpTokens": "required", "HttpEndpoint": "enabled", "HttpPutResponseHopLimit": 1},
            "BlockDeviceMappings": [
                {
                    "DeviceName": "/dev/xvda",
                    "Ebs": {"VolumeType": "gp3", "Encrypted": True, "KmsKeyId": dr_ebs_key(sandbox)},
                }
            ],
            "SecurityGroupIds": [network["security_group_id"]],
        },
    )["LaunchTemplate"]
    return template["LaunchTemplateId"]
