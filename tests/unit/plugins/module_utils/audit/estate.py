"""Synthetic estates for the audit's unit tests: a weak one (as assessed) and a strong one (hardened).

Both span two regions (us-east-1 primary, us-west-2 DR) and are shaped like the
botocore answers the collector stores. ``weak()`` / ``strong()`` return the data
dict for ``StaticSnapshot``; tests change copies to probe edge cases.
"""

import copy
import datetime
import json

ACCOUNT = "123456789012"
P, DR = "us-east-1", "us-west-2"
NOW = datetime.datetime(2026, 11, 28, 12, 0, tzinfo=datetime.UTC)

ADMIN_DOC = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
APP_DOC = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "arn:aws:s3:::records/*"}
    ],
}
READ_DOC = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": "*"}]}
TLS_DENY = {
    "Sid": "DenyInsecureTransport",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": ["arn:aws:s3:::records", "arn:aws:s3:::records/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}
OTHER_STMT = {
    "Sid": "AllowApp",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::123456789012:role/app"},
    "Action": "s3:GetObject",
    "Resource": "arn:aws:s3:::records/*",
}


def _policy(name, doc, count=1):
    return {
        "PolicyName": name,
        "Arn": f"arn:aws:iam::{ACCOUNT}:policy/{name}",
        "AttachmentCount": count,
        "PolicyVersionList": [{"Document": doc, "IsDefaultVersion": True, "VersionId": "v1"}],
    }


def _user(name, policies):
    return {
        "UserName": name,
        "Arn": f"arn:aws:iam::{ACCOUNT}:user/{name}",
        "UserPolicyList": [],
        "AttachedManagedPolicies": [
            {"PolicyName": p, "PolicyArn": p if p.startswith("arn:") else f"arn:aws:iam::{ACCOUNT}:policy/{p}"}
            for p in policies
        ],
    }


def _instance(iid, region, **kw):
    inst = {
        "InstanceId": iid,
        "ImageId": "ami-" + iid[2:],
        "State": {"Name": "running"},
        "VpcId": "vpc-" + region[-1],
        "SubnetId": "subnet-app-" + region[-1],
        "RootDeviceName": "/dev/xvda",
        "RootDeviceType": "ebs",
        "BlockDeviceMappings": [{"DeviceName": "/dev/xvda", "Ebs": {"VolumeId": "vol-root-" + iid}}],
        "MetadataOptions": {"HttpTokens": "optional", "HttpEndpoint": "enabled"},
        "SecurityGroups": [{"GroupId": "sg-app-" + region[-1], "GroupName": "medcircle-app-sg"}],
        "Tags": [{"Key": "Name", "Value": "medcircle-app"}, {"Key": "Backup", "Value": "daily"}],
        "PublicIpAddress": "54.1.2.3",
    }
    inst.update(kw)
    return inst


def _sg(gid, name, ingress, egress=None):
    return {
        "GroupId": gid,
        "GroupName": name,
        "VpcId": "vpc-1",
        "IpPermissions": ingress,
        "IpPermissionsEgress": egress if egress is not None else [],
    }


OPEN_ALL = [
    {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}], "Ipv6Ranges": [{"CidrIpv6": "::/0"}]},
]
OPEN_EGRESS = [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}], "Ipv6Ranges": []}]
VPC_ONLY = [
    {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.0.0.0/16"}], "Ipv6Ranges": []}
]


def _db(ident, region, **kw):
    db = {
        "DBInstanceIdentifier": ident,
        "DBInstanceArn": f"arn:aws:rds:{region}:{ACCOUNT}:db:{ident}",
        "Engine": "postgres",
        "StorageEncrypted": False,
        "MultiAZ": False,
        "BackupRetentionPeriod": 1,
        "DeletionProtection": False,
        "PubliclyAccessible": True,
        "MonitoringInterval": 0,
        "MasterUsername": "admin",
        "AvailabilityZone": region + "a",
        "DBParameterGroups": [{"DBParameterGroupName": "default.postgres16"}],
        "DBSubnetGroup": {"VpcId": "vpc-1", "Subnets": [{"SubnetIdentifier": "subnet-app-1"}]},
        "TagList": [{"Key": "Backup", "Value": "daily"}],
        "ReadReplicaDBInstanceIdentifiers": [],
    }
    db.update(kw)
    return db


def _region_common(region, instances, volumes, sgs, dbs, extra=None):
    suffix = region[-1]
    data = {
        ("ec2_instances", region): instances,
        ("ec2_volumes", region): volumes,
        ("ec2_security_groups", region): sgs,
        ("ec2_network_interfaces", region): [
            {"NetworkInterfaceId": "eni-" + i["InstanceId"], "Groups": i.get("SecurityGroups", [])} for i in instances
        ],
        ("ec2_vpcs", region): [{"VpcId": "vpc-default-" + suffix, "IsDefault": True}],
        ("ec2_subnets", region): [],
        ("ec2_route_tables", region): [],
        ("ec2_flow_logs", region): [],
        ("ec2_images", region): {},
        ("ec2_ebs_default", region): {"enabled": False, "kms_key_id": None},
        ("ec2_imds_defaults", region): {},
        ("ec2_termination_protection", region): {i["InstanceId"]: False for i in instances},
        ("kms_aliases", region): [{"AliasName": "alias/aws/ebs", "TargetKeyId": "aws-ebs-key"}],
        ("autoscaling_instances", region): [],
        ("rds_instances", region): dbs,
        ("rds_automated_backups", region): [],
        ("rds_parameters", region): {},
        ("cloudtrail_trails", region): [],
        ("guardduty", region): [],
        ("cloudwatch_alarms", region): [],
        ("wafv2_web_acls", region): [],
        ("network_firewalls", region): [],
        ("elbv2_load_balancers", region): [],
        ("ec2_vpc_endpoints", region): [],
        ("network_firewall_policies", region): [],
        ("dns_firewall_associations", region): [],
        ("dlm_policies", region): [],
        ("backup_plans", region): [],
        ("ssm_instance_information", region): [],
        ("ssm_patch_states", region): {},
        ("ssm_patch_groups", region): {},
        ("ssm_maintenance_windows", region): [],
        ("cloudformation_stacks", region): [],
    }
    data.update(extra or {})
    return data


def weak():
    """The estate as assessed: one app instance in the primary region, DR region empty."""
    inst = _instance("i-0app", P)
    data = {
        "iam_credential_report": [
            {
                "user": "<root_account>",
                "arn": f"arn:aws:iam::{ACCOUNT}:root",
                "password_enabled": "not_supported",
                "mfa_active": "false",
            },
            {
                "user": "admin",
                "arn": "arn:aws:iam::123456789012:user/admin",
                "password_enabled": "true",
                "mfa_active": "false",
            },
            {
                "user": "developer",
                "arn": "arn:aws:iam::123456789012:user/developer",
                "password_enabled": "true",
                "mfa_active": "false",
            },
        ],
        "iam_authorization": {
            "users": [_user("admin", ["admin-policy"]), _user("developer", ["developer-policy"])],
            "groups": [],
            "roles": [],
            "policies": [_policy("admin-policy", ADMIN_DOC), _policy("developer-policy", ADMIN_DOC)],
        },
        "iam_password_policy": {"MinimumPasswordLength": 6, "RequireSymbols": False},
        "s3_buckets": [{"Name": "records", "BucketRegion": P}],
        ("s3_bucket", "global", ("versioning", "records")): {},
        ("s3_bucket", "global", ("encryption", "records")): {
            "ServerSideEncryptionConfiguration": {
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            }
        },
        ("s3_bucket", "global", ("object_lock", "records")): None,
        ("s3_bucket", "global", ("logging", "records")): {},
        ("s3_bucket", "global", ("policy", "records")): None,
        ("s3_bucket", "global", ("replication", "records")): None,
        ("s3_bucket", "global", ("tagging", "records")): None,
    }
    data.update(
        _region_common(
            P,
            [inst],
            [
                {
                    "VolumeId": "vol-root-i-0app",
                    "Encrypted": False,
                    "State": "in-use",
                    "Attachments": [{"InstanceId": "i-0app", "Device": "/dev/xvda"}],
                }
            ],
            [_sg("sg-app-1", "medcircle-app-sg", OPEN_ALL, OPEN_EGRESS), _sg("sg-legacy-1", "medcircle-legacy-sg", [])],
            [_db("medcircledb", P)],
            {
                ("ec2_images", P): {
                    "ami-0app": {
                        "ImageId": "ami-0app",
                        "Name": "amzn2-ami-hvm-2.0.20200101-x86_64-gp2",
                        "CreationDate": "2020-01-01T00:00:00.000Z",
                    }
                },
                ("ec2_vpcs", P): [{"VpcId": "vpc-1", "IsDefault": False}],
                ("ec2_subnets", P): [{"SubnetId": "subnet-app-1", "VpcId": "vpc-1"}],
                ("ec2_route_tables", P): [
                    {
                        "VpcId": "vpc-1",
                        "Associations": [{"Main": True}],
                        "Routes": [{"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": "igw-1"}],
                    }
                ],
                ("cloudformation_stacks", P): [
                    {
                        "StackName": "medcircle-stack",
                        "StackId": "arn:stack",
                        "StackStatus": "CREATE_COMPLETE",
                        "EnableTerminationProtection": False,
                    }
                ],
            },
        )
    )
    data.update(_region_common(DR, [], [], [], []))
    return data


def strong():
    """The hardened estate: everything fixed, DR region with a replica, a bucket copy and a network."""
    inst = _instance(
        "i-0app",
        P,
        MetadataOptions={"HttpTokens": "required", "HttpEndpoint": "enabled"},
        IamInstanceProfile={"Arn": f"arn:aws:iam::{ACCOUNT}:instance-profile/app"},
        PublicIpAddress=None,
        SubnetId="subnet-priv-1",
    )
    trail = {
        "Name": "org-trail",
        "TrailARN": f"arn:aws:cloudtrail:{P}:{ACCOUNT}:trail/org-trail",
        "HomeRegion": P,
        "IsMultiRegionTrail": True,
        "Status": {"IsLogging": True},
        "Selectors": {
            "EventSelectors": [
                {"ReadWriteType": "All", "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}]}
            ],
            "AdvancedEventSelectors": [],
        },
    }
    plan = {
        "BackupPlanName": "medcircle",
        "Rules": [
            {
                "RuleName": "daily",
                "ScheduleExpression": "cron(0 5 * * ? *)",
                "Lifecycle": {"DeleteAfterDays": 35},
                "CopyActions": [{"DestinationBackupVaultArn": f"arn:aws:backup:{DR}:{ACCOUNT}:backup-vault:dr"}],
            }
        ],
        "Selections": [
            {
                "SelectionName": "tagged",
                "Resources": [],
                "ListOfTags": [{"ConditionType": "STRINGEQUALS", "ConditionKey": "Backup", "ConditionValue": "daily"}],
            }
        ],
    }
    dlm = {
        "PolicyId": "policy-1",
        "State": "ENABLED",
        "PolicyDetails": {
            "ResourceTypes": ["INSTANCE"],
            "TargetTags": [{"Key": "Backup", "Value": "daily"}],
            "Schedules": [{"CreateRule": {"Interval": 24, "IntervalUnit": "HOURS"}}],
        },
    }
    strong_sg = _sg(
        "sg-app-1",
        "medcircle-app-sg",
        VPC_ONLY,
        [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}],
    )
    db = _db(
        "medcircledb",
        P,
        StorageEncrypted=True,
        KmsKeyId=f"arn:aws:kms:{P}:{ACCOUNT}:key/cmk-1",
        MultiAZ=True,
        BackupRetentionPeriod=35,
        DeletionProtection=True,
        PubliclyAccessible=False,
        MonitoringInterval=60,
        MasterUserSecret={"SecretArn": f"arn:aws:secretsmanager:{P}:{ACCOUNT}:secret:rds-db", "SecretStatus": "active"},
        DBParameterGroups=[{"DBParameterGroupName": "medcircle-pg"}],
        DBSubnetGroup={"VpcId": "vpc-1", "Subnets": [{"SubnetIdentifier": "subnet-priv-1"}]},
    )
    replica = _db(
        "medcircledb-dr",
        DR,
        StorageEncrypted=True,
        DeletionProtection=True,
        PubliclyAccessible=False,
        MonitoringInterval=60,
        BackupRetentionPeriod=0,
        ReadReplicaSourceDBInstanceIdentifier=db["DBInstanceArn"],
        DBParameterGroups=[{"DBParameterGroupName": "medcircle-pg"}],
        DBSubnetGroup={"VpcId": "vpc-dr", "Subnets": []},
    )
    tls_policy = json.dumps({"Version": "2012-10-17", "Statement": [OTHER_STMT, TLS_DENY]})
    data = {
        "iam_credential_report": [
            {
                "user": "<root_account>",
                "arn": f"arn:aws:iam::{ACCOUNT}:root",
                "password_enabled": "not_supported",
                "mfa_active": "true",
            },
            {
                "user": "admin",
                "arn": "arn:aws:iam::123456789012:user/admin",
                "password_enabled": "true",
                "mfa_active": "true",
            },
            {
                "user": "svc",
                "arn": "arn:aws:iam::123456789012:user/svc",
                "password_enabled": "false",
                "mfa_active": "false",
            },
        ],
        "iam_authorization": {
            "users": [_user("admin", ["admin-read"]), _user("developer", ["developer-app"])],
            "groups": [],
            "roles": [
                {
                    "RoleName": "app",
                    "Arn": f"arn:aws:iam::{ACCOUNT}:role/app",
                    "RolePolicyList": [],
                    "AttachedManagedPolicies": [
                        {
                            "PolicyName": "AmazonSSMManagedInstanceCore",
                            "PolicyArn": "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
                        }
                    ],
                }
            ],
            "policies": [_policy("admin-read", READ_DOC), _policy("developer-app", APP_DOC)],
        },
        "iam_password_policy": {
            "MinimumPasswordLength": 14,
            "RequireSymbols": True,
            "RequireNumbers": True,
            "RequireUppercaseCharacters": True,
            "RequireLowercaseCharacters": True,
            "PasswordReusePrevention": 24,
            "MaxPasswordAge": 90,
        },
        "s3_buckets": [{"Name": "records", "BucketRegion": P}, {"Name": "records-dr", "BucketRegion": DR}],
    }
    for bucket in ("records", "records-dr"):
        data.update(
            {
                ("s3_bucket", "global", ("versioning", bucket)): {"Status": "Enabled"},
                ("s3_bucket", "global", ("encryption", bucket)): {
                    "ServerSideEncryptionConfiguration": {
                        "Rules": [
                            {
                                "ApplyServerSideEncryptionByDefault": {
                                    "SSEAlgorithm": "aws:kms",
                                    "KMSMasterKeyID": f"arn:aws:kms:{P}:{ACCOUNT}:key/cmk-1",
                                },
                                "BucketKeyEnabled": True,
                            }
                        ]
                    }
                },
                ("s3_bucket", "global", ("object_lock", bucket)): {
                    "ObjectLockConfiguration": {"ObjectLockEnabled": "Enabled"}
                },
                ("s3_bucket", "global", ("logging", bucket)): {
                    "LoggingEnabled": {"TargetBucket": "logs", "TargetPrefix": bucket + "/"}
                },
                ("s3_bucket", "global", ("policy", bucket)): {"Policy": tls_policy},
                ("s3_bucket", "global", ("tagging", bucket)): {"TagSet": [{"Key": "DataClass", "Value": "phi"}]},
                ("s3_bucket", "global", ("replication", bucket)): {
                    "ReplicationConfiguration": {
                        "Rules": [{"Status": "Enabled", "Destination": {"Bucket": "arn:aws:s3:::records-dr"}}]
                    }
                },
            }
        )
    common = {
        ("ec2_ebs_default", P): {"enabled": True, "kms_key_id": "alias/aws/ebs"},
        ("ec2_imds_defaults", P): {"HttpTokens": "required", "HttpPutResponseHopLimit": 2, "ManagedBy": "account"},
        ("ec2_images", P): {
            "ami-0app": {
                "ImageId": "ami-0app",
                "Name": "al2023-ami-2023.9.20261101.0-kernel-6.1-x86_64",
                "CreationDate": "2026-11-01T00:00:00.000Z",
            }
        },
        ("ec2_vpcs", P): [{"VpcId": "vpc-1", "IsDefault": False}],
        ("ec2_subnets", P): [
            {"SubnetId": "subnet-priv-1", "VpcId": "vpc-1"},
            {"SubnetId": "subnet-pub-1", "VpcId": "vpc-1"},
        ],
        ("ec2_route_tables", P): [
            {
                "VpcId": "vpc-1",
                "Associations": [{"Main": True}],
                "Routes": [{"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local"}],
            },
            {
                "VpcId": "vpc-1",
                "Associations": [{"SubnetId": "subnet-pub-1"}],
                "Routes": [{"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": "igw-1"}],
            },
        ],
        ("ec2_flow_logs", P): [
            {"FlowLogId": "fl-1", "ResourceId": "vpc-1", "FlowLogStatus": "ACTIVE", "TrafficType": "ALL"}
        ],
        ("ec2_termination_protection", P): {"i-0app": True},
        ("kms_aliases", P): [
            {"AliasName": "alias/aws/ebs", "TargetKeyId": "aws-ebs-key"},
            {"AliasName": "alias/medcircle", "TargetKeyId": "cmk-1"},
        ],
        ("rds_parameters", P): {"rds.force_ssl": "1"},
        ("cloudtrail_trails", P): [trail],
        ("guardduty", P): [{"DetectorId": "d1", "Status": "ENABLED"}],
        ("cloudwatch_alarms", P): [
            {"AlarmName": "unauthorized-api-calls", "Namespace": "CloudTrailMetrics", "Dimensions": []},
            {
                "AlarmName": "rds-cpu",
                "Namespace": "AWS/RDS",
                "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": "medcircledb"}],
            },
        ],
        ("wafv2_web_acls", P): [{"Name": "medcircle-web", "Id": "1"}],
        ("network_firewalls", P): [
            {"FirewallName": "medcircle-fw", "VpcId": "vpc-1", "FirewallPolicyArn": "arn:policy/medcircle"}
        ],
        ("dns_firewall_associations", P): [
            {"VpcId": "vpc-1", "FirewallRuleGroupId": "rslvr-frg-1", "Status": "COMPLETE"}
        ],
        ("dlm_policies", P): [dlm],
        ("backup_plans", P): [plan],
        ("ssm_instance_information", P): [
            {"InstanceId": "i-0app", "PingStatus": "Online", "PlatformName": "Amazon Linux", "PlatformVersion": "2023"}
        ],
        ("ssm_maintenance_windows", P): [
            {
                "WindowId": "mw-1",
                "Name": "medcircle-prod-patch",
                "Enabled": True,
                "Targets": [
                    {"WindowTargetId": "t-1", "Targets": [{"Key": "InstanceIds", "Values": ["i-0app"]}]},
                ],
                "Tasks": [
                    {"TaskArn": "AWS-RunPatchBaseline", "Targets": [{"Key": "WindowTargetIds", "Values": ["t-1"]}]},
                ],
            }
        ],
        ("ssm_patch_states", P): {
            "i-0app": {
                "InstanceId": "i-0app",
                "MissingCount": 0,
                "FailedCount": 0,
                "Operation": "Install",
                "OperationEndTime": "2026-11-20T03:00:00+00:00",
            }
        },
        ("cloudformation_stacks", P): [
            {
                "StackName": "medcircle-stack",
                "StackId": "arn:stack",
                "StackStatus": "CREATE_COMPLETE",
                "EnableTerminationProtection": True,
            }
        ],
    }
    data.update(
        _region_common(
            P,
            [inst],
            [
                {
                    "VolumeId": "vol-root-i-0app",
                    "Encrypted": True,
                    "KmsKeyId": f"arn:aws:kms:{P}:{ACCOUNT}:key/cmk-1",
                    "State": "in-use",
                    "Attachments": [{"InstanceId": "i-0app", "Device": "/dev/xvda"}],
                }
            ],
            [strong_sg],
            [db],
            common,
        )
    )
    data.update(
        _region_common(
            DR,
            [],
            [],
            [],
            [replica],
            {
                ("ec2_ebs_default", DR): {"enabled": True, "kms_key_id": None},
                ("ec2_imds_defaults", DR): {"HttpTokens": "required", "ManagedBy": "account"},
                ("ec2_vpcs", DR): [{"VpcId": "vpc-dr", "IsDefault": False}],
                ("ec2_subnets", DR): [{"SubnetId": "subnet-dr", "VpcId": "vpc-dr"}],
                ("cloudtrail_trails", DR): [trail],
                ("guardduty", DR): [{"DetectorId": "d2", "Status": "ENABLED"}],
                ("rds_parameters", DR): {"rds.force_ssl": "1"},
                ("cloudwatch_alarms", DR): [
                    {
                        "AlarmName": "rds-dr-cpu",
                        "Namespace": "AWS/RDS",
                        "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": "medcircledb-dr"}],
                    }
                ],
            },
        )
    )
    return data


def clone(data):
    return copy.deepcopy(data)
