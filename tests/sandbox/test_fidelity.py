"""moto answers that the sandbox corrects so that real clients work (sandbox/fidelity.py, sandbox/amis.py)."""

import json

import pytest
from botocore.exceptions import ClientError


def test_volumes_always_carry_a_snapshot_id(clean_sandbox):
    ec2 = clean_sandbox.client("ec2")
    image = ec2.describe_images(Filters=[{"Name": "name", "Values": ["amzn2-ami-hvm-2.0.20180810-x86_64-gp2"]}])
    image_id = image["Images"][0]["ImageId"]
    ec2.run_instances(ImageId=image_id, MinCount=1, MaxCount=1, InstanceType="t3.micro")
    ec2.create_volume(AvailabilityZone="us-east-1a", Size=10)
    volumes = ec2.describe_volumes()["Volumes"]
    assert len(volumes) == 2  # the instance's root volume and the blank one
    assert all(volume["SnapshotId"] == "" for volume in volumes)


def test_the_caller_is_an_iam_user_as_aws_names_one(clean_sandbox):
    identity = clean_sandbox.client("sts").get_caller_identity()
    assert identity["Arn"] == "arn:aws:iam::123456789012:user/moto"
    assert identity["UserId"].startswith("AIDA")
    assert identity["Account"] == "123456789012"
    # a role's session keeps the form AWS gives it
    iam = clean_sandbox.client("iam")
    statement = {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}
    trust = json.dumps({"Version": "2012-10-17", "Statement": [statement]})
    role = iam.create_role(RoleName="caller-check", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    creds = clean_sandbox.client("sts").assume_role(RoleArn=role, RoleSessionName="s1")["Credentials"]
    assumed = clean_sandbox.client(
        "sts",
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    ).get_caller_identity()
    assert assumed["Arn"] == "arn:aws:sts::123456789012:assumed-role/caller-check/s1"


def test_each_region_offers_current_amazon_linux_images(clean_sandbox):
    for region in ("us-east-1", "us-west-2"):
        ec2 = clean_sandbox.client("ec2", region)
        names = [
            image["Name"]
            for image in ec2.describe_images(
                Owners=["amazon"], Filters=[{"Name": "name", "Values": ["al2023-ami-2023*"]}]
            )["Images"]
        ]
        assert any(name.endswith("-kernel-6.1-x86_64") for name in names), names


def test_a_bucket_can_be_created_again_after_a_reset(clean_sandbox):
    clean_sandbox.client("s3").create_bucket(Bucket="medcircle-reset-check")
    clean_sandbox.reset("empty")
    s3 = clean_sandbox.client("s3")
    assert s3.list_buckets()["Buckets"] == []
    s3.create_bucket(Bucket="medcircle-reset-check")
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["medcircle-reset-check"]


def test_a_cross_region_read_replica_starts_as_aws_makes_it(clean_sandbox):
    """AWS (CreateDBInstanceReadReplica): backups disabled; Multi-AZ, monitoring, deletion protection, copy of
    tags, IAM authentication off unless asked; the engine's default parameter group for a cross-Region replica
    unless one is named; the request's tags and log exports; no master secret of its own (moto copied the source,
    sharing its lists and secret: deleting the promoted replica deleted the source's secret)."""
    primary, dr = clean_sandbox.client("rds", "us-east-1"), clean_sandbox.client("rds", "us-west-2")
    for rds in (primary, dr):
        rds.create_db_parameter_group(
            DBParameterGroupName="tls-mysql80", DBParameterGroupFamily="mysql8.0", Description="TLS"
        )
    source = primary.create_db_instance(
        DBInstanceIdentifier="fidelity-src",
        Engine="mysql",
        EngineVersion="8.0.35",
        DBInstanceClass="db.t3.micro",
        MasterUsername="admin",
        MasterUserPassword="fidelity-only-1",
        AllocatedStorage=20,
        DBParameterGroupName="tls-mysql80",
        MultiAZ=True,
        MonitoringInterval=60,
        MonitoringRoleArn="arn:aws:iam::123456789012:role/rds-monitoring",
        EnableCloudwatchLogsExports=["error"],
        EnableIAMDatabaseAuthentication=True,
        DeletionProtection=True,
        CopyTagsToSnapshot=True,
        BackupRetentionPeriod=35,
        Tags=[{"Key": "Owner", "Value": "medcircle"}],
    )["DBInstance"]

    dr.create_db_instance_read_replica(
        DBInstanceIdentifier="fidelity-replica",
        SourceDBInstanceIdentifier=source["DBInstanceArn"],
        SourceRegion="us-east-1",
    )
    replica = dr.describe_db_instances(DBInstanceIdentifier="fidelity-replica")["DBInstances"][0]
    assert replica["DBParameterGroups"][0]["DBParameterGroupName"] == "default.mysql8.0"
    assert replica["BackupRetentionPeriod"] == 0
    assert not replica["MultiAZ"] and replica["MonitoringInterval"] == 0 and "MonitoringRoleArn" not in replica
    assert not replica["DeletionProtection"] and not replica["CopyTagsToSnapshot"]
    assert not replica["IAMDatabaseAuthenticationEnabled"]
    assert replica["TagList"] == [] and replica.get("EnabledCloudwatchLogsExports", []) == []
    assert "MasterUserSecret" not in replica
    assert source["AvailabilityZone"].startswith("us-east-1") and replica["AvailabilityZone"] == "us-west-2a"

    given = dr.create_db_instance_read_replica(
        DBInstanceIdentifier="fidelity-replica-2",
        SourceDBInstanceIdentifier=source["DBInstanceArn"],
        SourceRegion="us-east-1",
        DBParameterGroupName="tls-mysql80",
        MultiAZ=True,
        EnableCloudwatchLogsExports=["general"],
        Tags=[{"Key": "Role", "Value": "dr-replica"}],
        AvailabilityZone="us-west-2b",
    )["DBInstance"]
    assert given["DBParameterGroups"][0]["DBParameterGroupName"] == "tls-mysql80" and given["MultiAZ"]
    assert given["AvailabilityZone"] == "us-west-2b"
    assert given["EnabledCloudwatchLogsExports"] == ["general"]
    assert given["TagList"] == [{"Key": "Role", "Value": "dr-replica"}]
    # the replica's settings are its own: a log type enabled on it does not show on the source
    dr.modify_db_instance(
        DBInstanceIdentifier="fidelity-replica-2",
        CloudwatchLogsExportConfiguration={"EnableLogTypes": ["slowquery"]},
        ApplyImmediately=True,
    )
    assert primary.describe_db_instances(DBInstanceIdentifier="fidelity-src")["DBInstances"][0][
        "EnabledCloudwatchLogsExports"
    ] == ["error"]
    # the source's password handed to Secrets Manager once its replicas exist (AWS allows that); a new replica
    # of it is then refused, as AWS refuses it for every engine but SQL Server
    primary.modify_db_instance(
        DBInstanceIdentifier="fidelity-src", ManageMasterUserPassword=True, ApplyImmediately=True
    )
    with pytest.raises(ClientError, match="where ManageMasterUserPassword is enabled is not supported"):
        dr.create_db_instance_read_replica(
            DBInstanceIdentifier="fidelity-replica-3",
            SourceDBInstanceIdentifier=source["DBInstanceArn"],
            SourceRegion="us-east-1",
        )
    # deleting the promoted replica leaves the source's managed master secret alone
    dr.promote_read_replica(DBInstanceIdentifier="fidelity-replica")
    dr.delete_db_instance(DBInstanceIdentifier="fidelity-replica", SkipFinalSnapshot=True)
    secret = primary.describe_db_instances(DBInstanceIdentifier="fidelity-src")["DBInstances"][0]["MasterUserSecret"]
    clean_sandbox.client("secretsmanager", "us-east-1").describe_secret(SecretId=secret["SecretArn"])


def test_instance_pages_count_instances_and_split_a_launch(clean_sandbox):
    ec2 = clean_sandbox.client("ec2")
    image = ec2.describe_images(Filters=[{"Name": "name", "Values": ["amzn2-ami-hvm-2.0.20180810-x86_64-gp2"]}])
    image_id = image["Images"][0]["ImageId"]
    seven = ec2.run_instances(ImageId=image_id, MinCount=7, MaxCount=7, InstanceType="t3.micro")
    three = ec2.run_instances(ImageId=image_id, MinCount=3, MaxCount=3, InstanceType="t3.micro")
    stopped = three["Instances"][0]["InstanceId"]
    ec2.stop_instances(InstanceIds=[stopped])
    running = [{"Name": "instance-state-name", "Values": ["running"]}]

    first = ec2.describe_instances(Filters=running, MaxResults=5)
    assert [len(r["Instances"]) for r in first["Reservations"]] == [5]
    assert first["Reservations"][0]["ReservationId"] == seven["ReservationId"]
    second = ec2.describe_instances(Filters=running, MaxResults=5, NextToken=first["NextToken"])
    # the launch of seven goes on with its last two, then the other launch without its stopped instance
    assert [(r["ReservationId"], len(r["Instances"])) for r in second["Reservations"]] == [
        (seven["ReservationId"], 2),
        (three["ReservationId"], 2),
    ]
    assert "NextToken" not in second
    paged = ec2.get_paginator("describe_instances").paginate(PaginationConfig={"PageSize": 5})
    ids = [i["InstanceId"] for page in paged for r in page["Reservations"] for i in r["Instances"]]
    assert sorted(ids) == sorted(i["InstanceId"] for i in seven["Instances"] + three["Instances"])
    # without MaxResults every instance comes in one answer, as before
    assert sum(len(r["Instances"]) for r in ec2.describe_instances()["Reservations"]) == 10
    with pytest.raises(ClientError, match="InvalidNextToken"):
        ec2.describe_instances(MaxResults=5, NextToken="i-0notaninstance")


def test_snapshots_and_images_of_an_encrypted_volume_keep_its_key(clean_sandbox):
    ec2 = clean_sandbox.client("ec2", "us-west-2")
    key = clean_sandbox.client("kms", "us-west-2").create_key()["KeyMetadata"]["Arn"]
    plain = ec2.create_volume(AvailabilityZone="us-west-2a", Size=8)["VolumeId"]
    sealed = ec2.create_volume(AvailabilityZone="us-west-2a", Size=8, Encrypted=True, KmsKeyId=key)["VolumeId"]
    snapshots = ec2.describe_snapshots(
        SnapshotIds=[ec2.create_snapshot(VolumeId=v)["SnapshotId"] for v in (plain, sealed)]
    )["Snapshots"]
    by_volume = {s["VolumeId"]: s for s in snapshots}
    assert by_volume[plain]["Encrypted"] is False and "KmsKeyId" not in by_volume[plain]
    assert by_volume[sealed]["Encrypted"] is True and by_volume[sealed]["KmsKeyId"] == key

    # an image of an instance is made from the instance's root volume: its size, encryption and key
    image_id = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    instance = ec2.run_instances(
        ImageId=image_id,
        MinCount=1,
        MaxCount=1,
        BlockDeviceMappings=[{"DeviceName": "/dev/sda1", "Ebs": {"VolumeSize": 9, "Encrypted": True, "KmsKeyId": key}}],
    )["Instances"][0]["InstanceId"]
    image = ec2.describe_images(ImageIds=[ec2.create_image(InstanceId=instance, Name="app-image")["ImageId"]])
    (mapping,) = image["Images"][0]["BlockDeviceMappings"]
    (snapshot,) = ec2.describe_snapshots(SnapshotIds=[mapping["Ebs"]["SnapshotId"]])["Snapshots"]
    assert (snapshot["VolumeSize"], snapshot["Encrypted"], snapshot["KmsKeyId"]) == (9, True, key)
    made = [s for s in ec2.describe_snapshots()["Snapshots"] if instance in s.get("Description", "")]
    assert [s["SnapshotId"] for s in made] == [snapshot["SnapshotId"]]  # no blank snapshot left behind


def test_copies_are_encrypted_as_aws_encrypts_them(clean_sandbox):
    """CopySnapshot and CopyImage: a copy of an encrypted source stays encrypted; ``Encrypted`` encrypts a copy of
    an unencrypted one; the key is ``KmsKeyId`` (named by its ARN), else the source's in the same region, else the
    destination region's default EBS key; ``KmsKeyId`` without ``Encrypted`` is refused."""
    east, west = clean_sandbox.client("ec2", "us-east-1"), clean_sandbox.client("ec2", "us-west-2")
    east_key = clean_sandbox.client("kms", "us-east-1").create_key()["KeyMetadata"]["Arn"]
    kms_west = clean_sandbox.client("kms", "us-west-2")
    west_key = kms_west.create_key()["KeyMetadata"]["Arn"]
    kms_west.create_alias(AliasName="alias/fidelity-dr", TargetKeyId=west_key)
    plain = east.create_snapshot(VolumeId=east.create_volume(AvailabilityZone="us-east-1a", Size=8)["VolumeId"])
    sealed = east.create_snapshot(
        VolumeId=east.create_volume(AvailabilityZone="us-east-1a", Size=8, Encrypted=True, KmsKeyId=east_key)[
            "VolumeId"
        ]
    )

    def copied(client, snapshot, **params):
        copy = client.copy_snapshot(SourceSnapshotId=snapshot["SnapshotId"], SourceRegion="us-east-1", **params)
        (found,) = client.describe_snapshots(SnapshotIds=[copy["SnapshotId"]])["Snapshots"]
        return found["Encrypted"], found.get("KmsKeyId")

    assert copied(west, plain) == (False, None)
    assert copied(west, plain, Encrypted=True, KmsKeyId="alias/fidelity-dr") == (True, west_key)
    # the region's default key for EBS (AWS names it by its alias ARN; a snapshot names the key's ARN)
    assert west.get_ebs_default_kms_key_id()["KmsKeyId"].endswith(":alias/aws/ebs")
    default_west = kms_west.describe_key(KeyId="alias/aws/ebs")["KeyMetadata"]["Arn"]
    assert copied(west, plain, Encrypted=True) == (True, default_west)
    assert copied(west, sealed) == (True, default_west)  # another region: the source's key is not there
    assert copied(east, sealed) == (True, east_key)  # the same region: the source's key
    with pytest.raises(ClientError) as refused:
        west.copy_snapshot(SourceSnapshotId=plain["SnapshotId"], SourceRegion="us-east-1", KmsKeyId=west_key)
    assert refused.value.response["Error"]["Code"] == "InvalidParameterDependency"
    west.enable_ebs_encryption_by_default()
    assert copied(west, plain) == (True, default_west)
    west.disable_ebs_encryption_by_default()

    # an image's copy: its snapshot is encrypted the same way, and has the source's size
    base = east.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    instance = east.run_instances(
        ImageId=base,
        MinCount=1,
        MaxCount=1,
        BlockDeviceMappings=[{"DeviceName": "/dev/sda1", "Ebs": {"VolumeSize": 9}}],
    )["Instances"][0]["InstanceId"]
    image = east.create_image(InstanceId=instance, Name="fidelity-plain-image")["ImageId"]

    def image_copy(**params):
        copy = west.copy_image(SourceImageId=image, SourceRegion="us-east-1", Name="fidelity-copy", **params)
        (found,) = west.describe_images(ImageIds=[copy["ImageId"]])["Images"]
        ebs = found["BlockDeviceMappings"][0]["Ebs"]
        (snapshot,) = west.describe_snapshots(SnapshotIds=[ebs["SnapshotId"]])["Snapshots"]
        return snapshot["Encrypted"], snapshot.get("KmsKeyId"), snapshot["VolumeSize"]

    assert image_copy() == (False, None, 9)
    assert image_copy(Encrypted=True, KmsKeyId=west_key) == (True, west_key, 9)


def test_volumes_are_encrypted_as_aws_encrypts_them(clean_sandbox):
    """A volume's key is named by its ARN whatever the request named it by; a volume made from an encrypted
    snapshot has the snapshot's key unless another is given; encryption by default encrypts every new volume
    (those RunInstances makes too) with the region's default key for EBS."""
    ec2, kms = clean_sandbox.client("ec2", "us-west-2"), clean_sandbox.client("kms", "us-west-2")
    key = kms.create_key()["KeyMetadata"]["Arn"]
    other = kms.create_key()["KeyMetadata"]["Arn"]
    kms.create_alias(AliasName="alias/fidelity-volumes", TargetKeyId=key)

    def described(volume_id):
        (volume,) = ec2.describe_volumes(VolumeIds=[volume_id])["Volumes"]
        return volume["Encrypted"], volume.get("KmsKeyId")

    zone = "us-west-2a"
    sealed = ec2.create_volume(AvailabilityZone=zone, Size=8, Encrypted=True, KmsKeyId="alias/fidelity-volumes")
    assert described(sealed["VolumeId"]) == (True, key)
    snapshot = ec2.create_snapshot(VolumeId=sealed["VolumeId"])["SnapshotId"]
    assert described(ec2.create_volume(AvailabilityZone=zone, SnapshotId=snapshot)["VolumeId"]) == (True, key)
    again = ec2.create_volume(AvailabilityZone=zone, SnapshotId=snapshot, Encrypted=True, KmsKeyId=other)
    assert described(again["VolumeId"]) == (True, other)
    assert described(ec2.create_volume(AvailabilityZone=zone, Size=8)["VolumeId"]) == (False, None)

    ec2.enable_ebs_encryption_by_default()
    try:
        default = kms.describe_key(KeyId="alias/aws/ebs")["KeyMetadata"]["Arn"]
        assert described(ec2.create_volume(AvailabilityZone=zone, Size=8)["VolumeId"]) == (True, default)
        image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
        instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]
        (root,) = ec2.describe_volumes(
            Filters=[{"Name": "attachment.instance-id", "Values": [instance["InstanceId"]]}]
        )["Volumes"]
        assert (root["Encrypted"], root["KmsKeyId"]) == (True, default)
    finally:
        ec2.disable_ebs_encryption_by_default()


def test_gp3_databases_name_their_iops_and_throughput(clean_sandbox):
    """AWS answers Iops and StorageThroughput for every gp3 database, the baseline when none was asked (3,000 IOPS
    and 125 MiBps below 400 GiB for MySQL and PostgreSQL, 12,000 and 500 from there); moto left both out and
    amazon.aws.rds_instance failed with KeyError: 'StorageThroughput' on any change to such a database."""
    rds = clean_sandbox.client("rds", "us-east-1")

    def create(name, engine, storage_type, size, **extra):
        rds.create_db_instance(
            DBInstanceIdentifier=name,
            Engine=engine,
            DBInstanceClass="db.t3.micro",
            MasterUsername="admin",
            MasterUserPassword="fidelity-only-1",
            AllocatedStorage=size,
            StorageType=storage_type,
            **extra,
        )
        return rds.describe_db_instances(DBInstanceIdentifier=name)["DBInstances"][0]

    small = create("gp3-small", "mysql", "gp3", 20)
    assert (small["StorageType"], small["Iops"], small["StorageThroughput"]) == ("gp3", 3000, 125)
    large = create("gp3-large", "postgres", "gp3", 500)
    assert (large["Iops"], large["StorageThroughput"]) == (12000, 500)
    asked = create("gp3-asked", "postgres", "gp3", 500, Iops=15000, StorageThroughput=750)
    assert (asked["Iops"], asked["StorageThroughput"]) == (15000, 750)
    # below the engine's threshold the baseline is fixed: AWS refuses a request that names it
    with pytest.raises(ClientError) as refused:
        create("gp3-small-asked", "mysql", "gp3", 20, Iops=3000)
    assert refused.value.response["Error"]["Code"] == "InvalidParameterCombination"
    assert "storage size less than 400" in refused.value.response["Error"]["Message"]
    gp2 = create("gp2-db", "mysql", "gp2", 20)
    assert "StorageThroughput" not in gp2 and "Iops" not in gp2
    # a restore keeps the storage and its performance
    rds.create_db_snapshot(DBInstanceIdentifier="gp3-small", DBSnapshotIdentifier="gp3-small-snap")
    rds.restore_db_instance_from_db_snapshot(DBInstanceIdentifier="gp3-restored", DBSnapshotIdentifier="gp3-small-snap")
    restored = rds.describe_db_instances(DBInstanceIdentifier="gp3-restored")["DBInstances"][0]
    assert (restored["StorageType"], restored["Iops"], restored["StorageThroughput"]) == ("gp3", 3000, 125)
    with pytest.raises(ClientError) as refused:
        rds.restore_db_instance_from_db_snapshot(
            DBInstanceIdentifier="gp3-restored-asked", DBSnapshotIdentifier="gp3-small-snap", Iops=3000
        )
    assert refused.value.response["Error"]["Code"] == "InvalidParameterCombination"


def test_a_rule_description_update_answers_return(clean_sandbox):
    """AWS answers Return: true; moto answered nothing and amazon.aws.ec2_security_group failed on 'Return'."""
    ec2 = clean_sandbox.client("ec2", "us-east-1")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    group = ec2.create_security_group(GroupName="fidelity-sg", Description="fidelity", VpcId=vpc)["GroupId"]
    rule = {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.9.0.0/16"}]}
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[rule])
    described = dict(rule, IpRanges=[{"CidrIp": "10.9.0.0/16", "Description": "HTTPS inside"}])
    assert ec2.update_security_group_rule_descriptions_ingress(GroupId=group, IpPermissions=[described])["Return"]
    (permission,) = ec2.describe_security_groups(GroupIds=[group])["SecurityGroups"][0]["IpPermissions"]
    assert permission["IpRanges"] == [{"CidrIp": "10.9.0.0/16", "Description": "HTTPS inside"}]
    egress = {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "all out"}]}
    assert ec2.update_security_group_rule_descriptions_egress(GroupId=group, IpPermissions=[egress])["Return"]


def test_a_rule_to_a_group_takes_its_new_description(clean_sandbox):
    """AWS changes the description of a rule whose source (or destination) is a security group; moto looked for
    the rule with its old description and changed nothing."""
    ec2 = clean_sandbox.client("ec2", "us-east-1")
    vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    app = ec2.create_security_group(GroupName="fidelity-app", Description="app", VpcId=vpc)["GroupId"]
    db = ec2.create_security_group(GroupName="fidelity-db", Description="db", VpcId=vpc)["GroupId"]

    def pair(group, description, port=3306):
        return {
            "IpProtocol": "tcp",
            "FromPort": port,
            "ToPort": port,
            "UserIdGroupPairs": [{"GroupId": group, "Description": description}],
        }

    ec2.authorize_security_group_ingress(GroupId=db, IpPermissions=[pair(app, "old")])
    ec2.authorize_security_group_egress(GroupId=app, IpPermissions=[pair(db, "old")])
    ec2.authorize_security_group_ingress(GroupId=db, IpPermissions=[pair(app, "ssh", port=22)])
    assert ec2.update_security_group_rule_descriptions_ingress(
        GroupId=db, IpPermissions=[pair(app, "MySQL from the application servers")]
    )["Return"]
    assert ec2.update_security_group_rule_descriptions_egress(
        GroupId=app, IpPermissions=[pair(db, "MySQL to the database")]
    )["Return"]
    groups = {g["GroupId"]: g for g in ec2.describe_security_groups(GroupIds=[app, db])["SecurityGroups"]}
    ingress = {p["FromPort"]: [g["Description"] for g in p["UserIdGroupPairs"]] for p in groups[db]["IpPermissions"]}
    # the rule the request names takes the new description; the other rule from the same group keeps its own
    assert ingress == {3306: ["MySQL from the application servers"], 22: ["ssh"]}, ingress
    egress = [p for p in groups[app]["IpPermissionsEgress"] if p.get("UserIdGroupPairs")]
    assert [g["Description"] for g in egress[0]["UserIdGroupPairs"]] == ["MySQL to the database"]


def test_a_metric_filter_put_again_is_updated_not_added(clean_sandbox):
    """AWS updates the log group's filter of that name; moto added a second one."""
    logs = clean_sandbox.client("logs", "us-east-1")
    for group in ("/fidelity/trail", "/fidelity/other"):
        logs.create_log_group(logGroupName=group)

    def put(group, pattern):
        logs.put_metric_filter(
            logGroupName=group,
            filterName="fidelity-root-usage",
            filterPattern=pattern,
            metricTransformations=[{"metricName": "root", "metricNamespace": "Fidelity", "metricValue": "1"}],
        )

    put("/fidelity/trail", '{ $.userIdentity.type = "Root" }')
    put("/fidelity/other", '{ $.userIdentity.type = "Root" }')
    put("/fidelity/trail", '{ $.userIdentity.type = "Root" && $.eventType != "AwsServiceEvent" }')
    trail = logs.describe_metric_filters(logGroupName="/fidelity/trail", filterNamePrefix="fidelity-root")
    assert [f["filterPattern"] for f in trail["metricFilters"]] == [
        '{ $.userIdentity.type = "Root" && $.eventType != "AwsServiceEvent" }'
    ]
    # the filter of the same name in another log group is another filter, left as it was
    other = logs.describe_metric_filters(logGroupName="/fidelity/other")["metricFilters"]
    assert [f["filterPattern"] for f in other] == ['{ $.userIdentity.type = "Root" }']
