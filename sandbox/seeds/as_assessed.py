"""The estate as the security assessment found it: one region, every weakness of the 42 findings in place.

Only us-east-1 is touched. Nothing here is hardened: no KMS customer keys, no CloudTrail, GuardDuty, alarms,
WAF, firewall policies, DNS firewall, backups, snapshot policies, patch baselines or flow logs.
"""

import json

from sandbox.seeds._aws import (
    ACCOUNT_ID,
    APP_RECORD,
    APP_SG,
    BASE_TAGS,
    DATA_BUCKET,
    DB_ID,
    DB_PARAMETER_GROUP,
    DB_SG,
    DB_SUBNET_GROUP,
    HOSTED_ZONE,
    INSTANCE_NAME,
    LEGACY_SG,
    PRIMARY_REGION,
    STACK_NAME,
    VPC_NAME,
    Aws,
    Summary,
    find_image,
    policy_document,
    tag_list,
    tags_with_name,
    trust_policy,
)

REGION = PRIMARY_REGION
# The Amazon Linux 2 image moto ships as an Amazon-owned public AMI; registered by the seed when the sandbox
# runs without moto's default images. Its name carries its age (2018-08-10).
# The sandbox backs the app server with a real Debian root filesystem (sandbox.additions.ssm_run_command)
ROOTFS_TAG = "sandbox:rootfs"
ROOTFS_RELEASE = "bookworm"
OLD_AMI_NAME = "amzn2-ami-hvm-2.0.20180810-x86_64-gp2"
OLD_AMI_DESCRIPTION = "Amazon Linux 2 AMI 2.0.20180810 x86_64 HVM gp2"
DB_MASTER_PASSWORD = "medc1rcl"  # noqa: S105 - the weak sandbox credential of finding 3.2 (8 characters)
USER_PASSWORD = "Welcome1"  # noqa: S105 - weak sandbox console password (finding 3.1)
ALL_ACTIONS_POLICY = policy_document({"Effect": "Allow", "Action": "*", "Resource": "*"})


def apply(endpoint_url: str) -> dict:
    aws = Aws(endpoint_url)
    summary = Summary("as-assessed")
    _stack(aws, summary)
    network = _network(aws, summary)
    groups = _security_groups(aws, summary, network["vpc"])
    instance = _instance(aws, summary, network, groups)
    _database(aws, summary, network, groups)
    _bucket(aws, summary)
    _iam(aws, summary)
    _dns(aws, summary, instance)
    return summary.as_dict()


def _stack(aws: Aws, summary: Summary) -> None:
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "MedCircle healthcare application stack",
        "Resources": {
            "EnvironmentParameter": {
                "Type": "AWS::SSM::Parameter",
                "Properties": {"Name": "/medcircle/stack/environment", "Type": "String", "Value": "prod"},
            }
        },
    }
    stack = aws.client("cloudformation", REGION).create_stack(
        StackName=STACK_NAME, TemplateBody=json.dumps(template), Tags=tag_list(BASE_TAGS)
    )
    summary.add("cloudformation_stacks", f"{REGION}/{STACK_NAME}", stack["StackId"])


def _network(aws: Aws, summary: Summary) -> dict:
    """One VPC, two public subnets holding everything (app and database): findings 4.2, 4.6."""
    ec2 = aws.client("ec2", REGION)
    vpc = ec2.create_vpc(
        CidrBlock="10.0.0.0/16", TagSpecifications=[{"ResourceType": "vpc", "Tags": tags_with_name(VPC_NAME)}]
    )["Vpc"]["VpcId"]
    summary.add("vpcs", f"{REGION}/{VPC_NAME}", vpc)
    igw = ec2.create_internet_gateway(
        TagSpecifications=[{"ResourceType": "internet-gateway", "Tags": tags_with_name("medcircle-igw")}]
    )["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    summary.add("internet_gateways", f"{REGION}/medcircle-igw", igw)
    table = ec2.create_route_table(
        VpcId=vpc, TagSpecifications=[{"ResourceType": "route-table", "Tags": tags_with_name("medcircle-public-rt")}]
    )["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    summary.add("route_tables", f"{REGION}/medcircle-public-rt", table)
    subnets = {}
    for name, cidr, zone in (
        ("medcircle-public-a", "10.0.1.0/24", f"{REGION}a"),
        ("medcircle-public-b", "10.0.2.0/24", f"{REGION}b"),
    ):
        subnet = ec2.create_subnet(
            VpcId=vpc,
            CidrBlock=cidr,
            AvailabilityZone=zone,
            TagSpecifications=[{"ResourceType": "subnet", "Tags": tags_with_name(name, {"Tier": "public"})}],
        )["Subnet"]["SubnetId"]
        ec2.modify_subnet_attribute(SubnetId=subnet, MapPublicIpOnLaunch={"Value": True})
        ec2.associate_route_table(RouteTableId=table, SubnetId=subnet)
        subnets[name] = subnet
        summary.add("subnets", f"{REGION}/{name}", subnet)
    return {"vpc": vpc, "subnets": subnets}


def _security_groups(aws: Aws, summary: Summary, vpc: str) -> dict:
    """Wide-open groups (3.3, 4.3) and one nobody uses (3.6); the VPC's default group is left as AWS made it."""
    ec2 = aws.client("ec2", REGION)
    anywhere = [{"CidrIp": "0.0.0.0/0"}]
    rules = {
        APP_SG: (
            "MedCircle application servers",
            [
                {"IpProtocol": "-1", "IpRanges": anywhere, "Ipv6Ranges": [{"CidrIpv6": "::/0"}]},
                {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": anywhere},
                {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": anywhere},
                {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": anywhere},
                {"IpProtocol": "tcp", "FromPort": 3306, "ToPort": 3306, "IpRanges": anywhere},
            ],
        ),
        DB_SG: ("MedCircle database", [{"IpProtocol": "tcp", "FromPort": 3306, "ToPort": 3306, "IpRanges": anywhere}]),
        LEGACY_SG: (
            "MedCircle legacy admin access",
            [{"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "IpRanges": anywhere}],
        ),
    }
    groups = {}
    for name, (description, permissions) in rules.items():
        group = ec2.create_security_group(
            GroupName=name,
            Description=description,
            VpcId=vpc,
            TagSpecifications=[{"ResourceType": "security-group", "Tags": tags_with_name(name)}],
        )["GroupId"]
        ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=permissions)
        groups[name] = group
        summary.add("security_groups", f"{REGION}/{name}", group)
    default = ec2.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "group-name", "Values": ["default"]}]
    )["SecurityGroups"][0]["GroupId"]
    # AWS's default group lets its members reach each other; moto creates it without that rule, so the seed
    # adds it and the group looks as AWS leaves it.
    ec2.authorize_security_group_ingress(
        GroupId=default, IpPermissions=[{"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": default}]}]
    )
    summary.add("security_groups", f"{REGION}/default", default)
    return groups


def _old_image(aws: Aws) -> str:
    ec2 = aws.client("ec2", REGION)
    image = find_image(ec2, OLD_AMI_NAME)
    if image is None:
        return ec2.register_image(
            Name=OLD_AMI_NAME, Description=OLD_AMI_DESCRIPTION, RootDeviceName="/dev/xvda", Architecture="x86_64"
        )["ImageId"]
    return image["ImageId"]


def _instance(aws: Aws, summary: Summary, network: dict, groups: dict) -> dict:
    """The single app server: findings 1.3, 1.4, 1.7, 3.4, 3.7, 5.5 (and 2.10: nothing snapshots it)."""
    ec2 = aws.client("ec2", REGION)
    image = _old_image(aws)
    summary.add("images", f"{REGION}/{OLD_AMI_NAME}", image)
    tags = {"Name": INSTANCE_NAME, "Environment": "prod", "Role": "app", "Project": "medcircle"}
    reservation = ec2.run_instances(
        ImageId=image,
        InstanceType="t3.medium",
        MinCount=1,
        MaxCount=1,
        SubnetId=network["subnets"]["medcircle-public-a"],
        SecurityGroupIds=[groups[APP_SG]],
        MetadataOptions={"HttpTokens": "optional", "HttpEndpoint": "enabled", "HttpPutResponseHopLimit": 2},
        BlockDeviceMappings=[
            {
                "DeviceName": "/dev/xvda",
                "Ebs": {"VolumeSize": 8, "VolumeType": "gp2", "Encrypted": False, "DeleteOnTermination": True},
            },
            {
                "DeviceName": "/dev/sdf",
                "Ebs": {"VolumeSize": 100, "VolumeType": "gp2", "Encrypted": False, "DeleteOnTermination": False},
            },
        ],
        TagSpecifications=[
            # the sandbox backs this instance with a real Debian root filesystem (Run Command, patching)
            {"ResourceType": "instance", "Tags": tag_list({**tags, ROOTFS_TAG: ROOTFS_RELEASE})},
            {"ResourceType": "volume", "Tags": tag_list(tags)},
        ],
    )
    instance = reservation["Instances"][0]
    summary.add("instances", f"{REGION}/{INSTANCE_NAME}", instance["InstanceId"])
    volumes = ec2.describe_volumes(Filters=[{"Name": "attachment.instance-id", "Values": [instance["InstanceId"]]}])
    for volume in volumes["Volumes"]:
        summary.add("volumes", f"{REGION}/{volume['Attachments'][0]['Device']}", volume["VolumeId"])
    described = ec2.describe_instances(InstanceIds=[instance["InstanceId"]])["Reservations"][0]["Instances"][0]
    return described


def _database(aws: Aws, summary: Summary, network: dict, groups: dict) -> None:
    """The MySQL database: findings 1.5, 2.2, 2.12, 2.13, 2.14, 3.2, 5.1, 5.3, 5.4."""
    rds = aws.client("rds", REGION)
    rds.create_db_parameter_group(
        DBParameterGroupName=DB_PARAMETER_GROUP,
        DBParameterGroupFamily="mysql8.0",
        Description="MedCircle MySQL 8.0 settings",
        Tags=tag_list(BASE_TAGS),
    )
    summary.add("db_parameter_groups", f"{REGION}/{DB_PARAMETER_GROUP}", DB_PARAMETER_GROUP)
    rds.create_db_subnet_group(
        DBSubnetGroupName=DB_SUBNET_GROUP,
        DBSubnetGroupDescription="MedCircle database subnets (public)",
        SubnetIds=list(network["subnets"].values()),
        Tags=tag_list(BASE_TAGS),
    )
    summary.add("db_subnet_groups", f"{REGION}/{DB_SUBNET_GROUP}", DB_SUBNET_GROUP)
    db = rds.create_db_instance(
        DBInstanceIdentifier=DB_ID,
        DBName="MedCircleDB",
        DBInstanceClass="db.t3.micro",
        Engine="mysql",
        EngineVersion="8.0.35",
        AllocatedStorage=20,
        StorageType="gp2",
        MasterUsername="admin",
        MasterUserPassword=DB_MASTER_PASSWORD,
        DBSubnetGroupName=DB_SUBNET_GROUP,
        DBParameterGroupName=DB_PARAMETER_GROUP,
        VpcSecurityGroupIds=[groups[DB_SG]],
        PubliclyAccessible=True,
        StorageEncrypted=False,
        MultiAZ=False,
        BackupRetentionPeriod=0,
        DeletionProtection=False,
        MonitoringInterval=0,
        Tags=tag_list(BASE_TAGS),
    )["DBInstance"]
    summary.add("db_instances", f"{REGION}/{DB_ID}", db["DBInstanceArn"])


def _bucket(aws: Aws, summary: Summary) -> None:
    """Patient records: SSE-S3 only, no versioning, lock, logging or TLS-only policy (1.6, 2.4-2.9)."""
    s3 = aws.client("s3", REGION)
    s3.create_bucket(Bucket=DATA_BUCKET)
    s3.put_bucket_encryption(
        Bucket=DATA_BUCKET,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    s3.put_bucket_tagging(Bucket=DATA_BUCKET, Tagging={"TagSet": tag_list({**BASE_TAGS, "DataClass": "phi"})})
    s3.put_object(
        Bucket=DATA_BUCKET,
        Key="records/patient-0001.json",
        Body=json.dumps({"patient_id": "0001", "name": "Test Patient", "note": "synthetic record"}).encode(),
        ContentType="application/json",
    )
    summary.add("buckets", f"{REGION}/{DATA_BUCKET}", DATA_BUCKET)


def _iam(aws: Aws, summary: Summary) -> None:
    """Console users without MFA, a weak password policy, `*:*` policies (1.1, 1.2, 2.1, 3.1)."""
    iam = aws.client("iam", REGION)
    iam.update_account_password_policy(
        MinimumPasswordLength=6,
        RequireSymbols=False,
        RequireNumbers=False,
        RequireUppercaseCharacters=False,
        RequireLowercaseCharacters=False,
        AllowUsersToChangePassword=True,
    )
    policies = {}
    for name, document, description in (
        ("MedCircleAdminPolicy", ALL_ACTIONS_POLICY, "MedCircle administrators"),
        ("MedCircleDeveloperPolicy", ALL_ACTIONS_POLICY, "MedCircle developers"),
        (
            "MedCircleS3FullAccess",
            policy_document({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}),
            "MedCircle S3 users",
        ),
    ):
        arn = iam.create_policy(PolicyName=name, PolicyDocument=document, Description=description)["Policy"]["Arn"]
        policies[name] = arn
        summary.add("iam_policies", name, arn)
    attachments = {
        "admin": "MedCircleAdminPolicy",
        "developer": "MedCircleDeveloperPolicy",
        "s3user": "MedCircleS3FullAccess",
    }
    for user in ("admin", "developer", "s3user", "finance"):
        iam.create_user(UserName=user, Tags=tag_list({"Project": "medcircle"}))
        iam.create_login_profile(UserName=user, Password=USER_PASSWORD, PasswordResetRequired=False)
        if user in attachments:
            iam.attach_user_policy(UserName=user, PolicyArn=policies[attachments[user]])
        summary.add("iam_users", user, f"arn:aws:iam::{ACCOUNT_ID}:user/{user}")
    iam.put_user_policy(
        UserName="finance",
        PolicyName="MedCircleFinanceAccess",
        PolicyDocument=policy_document(
            {
                "Effect": "Allow",
                "Action": ["s3:Get*", "s3:List*", "s3:Put*", "s3:Delete*", "rds:*", "ce:*", "aws-portal:*"],
                "Resource": "*",
            }
        ),
    )
    # A role with the developer policy, attached to no instance (1.2 for roles, 1.3: nothing uses it).
    role = iam.create_role(
        RoleName="medcircle-ec2-role",
        AssumeRolePolicyDocument=trust_policy("ec2.amazonaws.com"),
        Description="MedCircle EC2 role (attached to no instance)",
        Tags=tag_list({"Project": "medcircle"}),
    )["Role"]["Arn"]
    iam.attach_role_policy(RoleName="medcircle-ec2-role", PolicyArn=policies["MedCircleDeveloperPolicy"])
    summary.add("iam_roles", "medcircle-ec2-role", role)


def _dns(aws: Aws, summary: Summary, instance: dict) -> None:
    """A plain A record at the one instance: no health check, no failover (4.1)."""
    route53 = aws.client("route53", REGION)
    zone = route53.create_hosted_zone(Name=HOSTED_ZONE, CallerReference="medcircle-as-assessed")["HostedZone"]["Id"]
    summary.add("hosted_zones", HOSTED_ZONE, zone)
    route53.change_resource_record_sets(
        HostedZoneId=zone,
        ChangeBatch={
            "Changes": [
                {
                    "Action": "CREATE",
                    "ResourceRecordSet": {
                        "Name": APP_RECORD,
                        "Type": "A",
                        "TTL": 300,
                        "ResourceRecords": [{"Value": instance["PublicIpAddress"]}],
                    },
                }
            ]
        },
    )
