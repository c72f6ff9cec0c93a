"""The same estate with every weakness of the 42 findings fixed, seeded directly (not by the collection's roles).

Primary region us-east-1, DR region us-west-2 (warm standby: VPC, one app instance, RDS read replica, backup
copies, replicated patient records). Decisions worth knowing, for the audit:

- The only internet-facing rule is TCP 443 from 0.0.0.0/0 on the load balancer group ``medcircle-alb-sg``
  (tagged ``Exposure=internet``), fronted by the WAF web ACL. No other group allows or sends to 0.0.0.0/0:
  app servers reach AWS APIs through VPC endpoints (443 to the VPC CIDR, 443 to the S3 prefix list).
- Object lock on the patient-records bucket is GOVERNANCE, 365 days: privileged, audited corrections (a
  patient's right to amend a record) stay possible; COMPLIANCE would forbid even those.
- Access-log buckets receive S3 server access logs and are not themselves logged (that would loop).
"""

import datetime
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
    DR_REGION,
    HOSTED_ZONE,
    INSTANCE_NAME,
    PRIMARY_REGION,
    STACK_NAME,
    VPC_NAME,
    Aws,
    Summary,
    optional,
    policy_document,
    tag_list,
    tags_with_name,
    trust_policy,
)

REGIONS = (PRIMARY_REGION, DR_REGION)
CIDR_PREFIX = {PRIMARY_REGION: "10.0", DR_REGION: "10.1"}
KEY_PURPOSES = ("ebs", "rds", "s3", "backup", "logs")
APP_TAGS = {"Name": INSTANCE_NAME, "Environment": "prod", "Role": "app", "PatchGroup": "prod", "Backup": "daily"}
APP_CAPACITY = {PRIMARY_REGION: 2, DR_REGION: 1}
ALB_SG = "medcircle-alb-sg"
ENDPOINTS_SG = "medcircle-endpoints-sg"
LAUNCH_TEMPLATE = "medcircle-app-lt"
ASG_NAME = "medcircle-app-asg"
ALB_NAME = "medcircle-alb"
TARGET_GROUP = "medcircle-app-tg"
WEB_ACL = "medcircle-web-acl"
REPLICA_ID = "medcircledb-dr"
DR_BUCKET = f"medcircle-patient-records-dr-{ACCOUNT_ID}"
LOG_BUCKET = {
    PRIMARY_REGION: f"medcircle-s3-access-logs-{ACCOUNT_ID}",
    DR_REGION: f"medcircle-s3-access-logs-dr-{ACCOUNT_ID}",
}
TRAIL_BUCKET = f"medcircle-cloudtrail-{ACCOUNT_ID}"
TRAIL_NAME = "medcircle-trail"
FLOW_LOG_GROUP = "/medcircle/vpc-flow-logs"
TRAIL_LOG_GROUP = "/medcircle/cloudtrail"
ALERTS_TOPIC = "medcircle-alerts"
BACKUP_VAULT = {PRIMARY_REGION: "medcircle-backup-vault", DR_REGION: "medcircle-backup-vault-dr"}
BACKUP_PLAN = "medcircle-backup-plan"
PATCH_BASELINE = "medcircle-al2023-baseline"
PATCH_WINDOW = "medcircle-patch-window"
DLM_POLICY = "medcircle-daily-snapshots"
BACKUP_SELECTION = "medcircle-tagged-daily"
# Amazon Linux 2023, as moto ships it; registered by the seed when moto's default images are off.
AL2023_PATTERN = "al2023-ami-2023.*-kernel-6.1-x86_64"
AL2023_FALLBACK = "al2023-ami-2023.9.20261015.0-kernel-6.1-x86_64"
USER_PASSWORD = "Medc1rcle-Sandbox-Passphrase-2026!"  # noqa: S105 - sandbox-only, reset at first sign-in
MFA_CODES = ("123456", "654321")
AWS_POLICY = "arn:aws:iam::aws:policy/"
TLS_ONLY_SID = "DenyInsecureTransport"
ALL_EGRESS = {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
SAMPLE_RECORD = json.dumps({"patient_id": "0001", "name": "Test Patient", "note": "synthetic record"}).encode()


def apply(endpoint_url: str) -> dict:
    aws = Aws(endpoint_url)
    summary = Summary("hardened")
    keys = {region: _kms_keys(aws, summary, region) for region in REGIONS}
    for region in REGIONS:
        _ebs_defaults(aws, region, keys[region])
    _stack(aws, summary)
    roles = _roles(aws, summary)
    networks = {region: _network(aws, summary, region, keys[region], roles) for region in REGIONS}
    albs = {region: _app_tier(aws, summary, region, networks[region], keys[region]) for region in REGIONS}
    for region in REGIONS:
        _network_firewall(aws, summary, region, networks[region])
    _database(aws, summary, networks, keys, roles)
    _buckets(aws, summary, keys, roles)
    _iam_users(aws, summary, keys)
    _monitoring(aws, summary, keys, roles)
    _backup(aws, summary, keys, roles)
    _patching(aws, summary)
    _dns(aws, summary, albs)
    return summary.as_dict()


# --- keys and account settings -------------------------------------------------------------------------------


def _kms_keys(aws: Aws, summary: Summary, region: str) -> dict:
    """Customer-managed keys with rotation, one per purpose (1.4, 1.5, 1.6, 2.5, 2.14, 3.4)."""
    kms = aws.client("kms", region)
    keys = {}
    for purpose in KEY_PURPOSES:
        key = kms.create_key(
            Description=f"MedCircle {purpose} encryption key",
            Policy=_key_policy(region, purpose),
            Tags=[{"TagKey": k, "TagValue": v} for k, v in {**BASE_TAGS, "Purpose": purpose}.items()],
        )["KeyMetadata"]
        kms.enable_key_rotation(KeyId=key["KeyId"])
        kms.create_alias(AliasName=f"alias/medcircle-{purpose}", TargetKeyId=key["KeyId"])
        keys[purpose] = key["Arn"]
        summary.add("kms_keys", f"{region}/alias/medcircle-{purpose}", key["Arn"])
    return keys


def _key_policy(region: str, purpose: str) -> str:
    statements = [
        {
            "Sid": "AccountAdministration",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"},
            "Action": "kms:*",
            "Resource": "*",
        }
    ]
    if purpose == "logs":
        statements.append(
            {
                "Sid": "LogServices",
                "Effect": "Allow",
                "Principal": {"Service": [f"logs.{region}.amazonaws.com", "cloudtrail.amazonaws.com"]},
                "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
                "Resource": "*",
            }
        )
    return policy_document(*statements)


def _ebs_defaults(aws: Aws, region: str, keys: dict) -> None:
    """EBS encryption by default with the EBS key (1.4, 3.4); IMDSv2 as the account default for new instances
    (1.7), hop limit 2 as playbooks/remediate/fleet.yml sets it."""
    ec2 = aws.client("ec2", region)
    ec2.enable_ebs_encryption_by_default()
    ec2.modify_ebs_default_kms_key_id(KmsKeyId=keys["ebs"])
    ec2.modify_instance_metadata_defaults(HttpTokens="required", HttpPutResponseHopLimit=2)


def _stack(aws: Aws, summary: Summary) -> None:
    """The application stack, protected against deletion (5.2)."""
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
    stack = aws.client("cloudformation", PRIMARY_REGION).create_stack(
        StackName=STACK_NAME,
        TemplateBody=json.dumps(template),
        EnableTerminationProtection=True,
        Tags=tag_list(BASE_TAGS),
    )
    summary.add("cloudformation_stacks", f"{PRIMARY_REGION}/{STACK_NAME}", stack["StackId"])


def _attach_aws_policy(iam, role: str, policy: str) -> None:
    try:
        iam.attach_role_policy(RoleName=role, PolicyArn=policy)
    except iam.exceptions.NoSuchEntityException as error:
        raise RuntimeError(
            f"the sandbox has no AWS managed policy {policy}: start moto with MOTO_IAM_LOAD_MANAGED_POLICIES=true"
        ) from error


def _roles(aws: Aws, summary: Summary) -> dict:
    """Service roles with AWS-managed or narrow inline policies; the app servers' instance profile (1.3)."""
    iam = aws.client("iam", PRIMARY_REGION)
    roles = {}
    definitions = {
        "medcircle-app-role": (
            "ec2.amazonaws.com",
            [f"{AWS_POLICY}AmazonSSMManagedInstanceCore", f"{AWS_POLICY}CloudWatchAgentServerPolicy"],
        ),
        "medcircle-rds-monitoring-role": (
            "monitoring.rds.amazonaws.com",
            [f"{AWS_POLICY}service-role/AmazonRDSEnhancedMonitoringRole"],
        ),
        "medcircle-backup-role": (
            "backup.amazonaws.com",
            [
                f"{AWS_POLICY}service-role/AWSBackupServiceRolePolicyForBackup",
                f"{AWS_POLICY}service-role/AWSBackupServiceRolePolicyForRestores",
            ],
        ),
        "medcircle-dlm-role": ("dlm.amazonaws.com", [f"{AWS_POLICY}service-role/AWSDataLifecycleManagerServiceRole"]),
        "medcircle-flow-logs-role": ("vpc-flow-logs.amazonaws.com", []),
        "medcircle-cloudtrail-logs-role": ("cloudtrail.amazonaws.com", []),
        "medcircle-s3-replication-role": ("s3.amazonaws.com", []),
    }
    for name, (service, managed) in definitions.items():
        arn = iam.create_role(
            RoleName=name,
            AssumeRolePolicyDocument=trust_policy(service),
            Description=f"MedCircle role for {service}",
            Tags=tag_list(BASE_TAGS),
        )["Role"]["Arn"]
        for policy in managed:
            _attach_aws_policy(iam, name, policy)
        roles[name] = arn
        summary.add("iam_roles", name, arn)
    log_groups = [
        f"arn:aws:logs:*:{ACCOUNT_ID}:log-group:{FLOW_LOG_GROUP}:*",
        f"arn:aws:logs:*:{ACCOUNT_ID}:log-group:{TRAIL_LOG_GROUP}:*",
    ]
    for role in ("medcircle-flow-logs-role", "medcircle-cloudtrail-logs-role"):
        iam.put_role_policy(
            RoleName=role,
            PolicyName="MedCircleWriteLogs",
            PolicyDocument=policy_document(
                {
                    "Effect": "Allow",
                    "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                    "Resource": log_groups,
                }
            ),
        )
    iam.put_role_policy(
        RoleName="medcircle-s3-replication-role",
        PolicyName="MedCircleReplicatePatientRecords",
        PolicyDocument=policy_document(
            {
                "Effect": "Allow",
                "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"],
                "Resource": f"arn:aws:s3:::{DATA_BUCKET}",
            },
            {
                "Effect": "Allow",
                "Action": ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"],
                "Resource": f"arn:aws:s3:::{DATA_BUCKET}/*",
            },
            {
                "Effect": "Allow",
                "Action": ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
                "Resource": f"arn:aws:s3:::{DR_BUCKET}/*",
            },
        ),
    )
    profile = iam.create_instance_profile(InstanceProfileName="medcircle-app-profile", Tags=tag_list(BASE_TAGS))
    iam.add_role_to_instance_profile(InstanceProfileName="medcircle-app-profile", RoleName="medcircle-app-role")
    roles["medcircle-app-profile"] = profile["InstanceProfile"]["Arn"]
    summary.add("iam_instance_profiles", "medcircle-app-profile", profile["InstanceProfile"]["Arn"])
    return roles


# --- network -----------------------------------------------------------------------------------------------


def _network(aws: Aws, summary: Summary, region: str, keys: dict, roles: dict) -> dict:
    """Tiered VPC: public subnets for the load balancer only, private app and db subnets (4.1, 4.2, 4.6)."""
    ec2 = aws.client("ec2", region)
    prefix = CIDR_PREFIX[region]
    cidr = f"{prefix}.0.0/16"
    vpc = ec2.create_vpc(CidrBlock=cidr, TagSpecifications=[{"ResourceType": "vpc", "Tags": tags_with_name(VPC_NAME)}])[
        "Vpc"
    ]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    summary.add("vpcs", f"{region}/{VPC_NAME}", vpc)
    igw = ec2.create_internet_gateway(
        TagSpecifications=[{"ResourceType": "internet-gateway", "Tags": tags_with_name("medcircle-igw")}]
    )["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    summary.add("internet_gateways", f"{region}/medcircle-igw", igw)
    tables = {}
    for tier in ("public", "app", "db"):
        name = f"medcircle-{tier}-rt"
        tables[tier] = ec2.create_route_table(
            VpcId=vpc, TagSpecifications=[{"ResourceType": "route-table", "Tags": tags_with_name(name)}]
        )["RouteTable"]["RouteTableId"]
        summary.add("route_tables", f"{region}/{name}", tables[tier])
    ec2.create_route(RouteTableId=tables["public"], DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    subnets = {}
    for tier, offset in (("public", 1), ("app", 11), ("db", 21)):
        for index, zone in enumerate("ab"):
            name = f"medcircle-{tier}-{zone}"
            subnet = ec2.create_subnet(
                VpcId=vpc,
                CidrBlock=f"{prefix}.{offset + index}.0/24",
                AvailabilityZone=f"{region}{zone}",
                TagSpecifications=[{"ResourceType": "subnet", "Tags": tags_with_name(name, {"Tier": tier})}],
            )["Subnet"]["SubnetId"]
            ec2.associate_route_table(RouteTableId=tables[tier], SubnetId=subnet)
            subnets[name] = subnet
            summary.add("subnets", f"{region}/{name}", subnet)
    network = {"region": region, "vpc": vpc, "cidr": cidr, "subnets": subnets, "tables": tables}
    network["groups"] = _security_groups(aws, summary, network)
    _endpoints(aws, summary, network)
    _flow_logs(aws, summary, network, keys, roles)
    _dns_firewall(aws, summary, network)
    return network


def _security_groups(aws: Aws, summary: Summary, network: dict) -> dict:
    """Least-privilege groups chained by reference (3.3, 4.3); the default group emptied; none unused (3.6)."""
    ec2 = aws.client("ec2", network["region"])
    vpc, cidr = network["vpc"], network["cidr"]
    groups = {}
    for name, description, extra in (
        (ALB_SG, "MedCircle load balancer: HTTPS from the internet", {"Exposure": "internet"}),
        (APP_SG, "MedCircle application servers: HTTPS from the load balancer", {}),
        (DB_SG, "MedCircle database: MySQL from the application servers", {}),
        (ENDPOINTS_SG, "MedCircle VPC interface endpoints: HTTPS from the VPC", {}),
    ):
        groups[name] = ec2.create_security_group(
            GroupName=name,
            Description=description,
            VpcId=vpc,
            TagSpecifications=[{"ResourceType": "security-group", "Tags": tags_with_name(name, extra)}],
        )["GroupId"]
        summary.add("security_groups", f"{network['region']}/{name}", groups[name])
    default = ec2.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "group-name", "Values": ["default"]}]
    )["SecurityGroups"][0]
    summary.add("security_groups", f"{network['region']}/default", default["GroupId"])
    # New groups carry only AWS's default "all traffic to 0.0.0.0/0" egress rule; the default group may also
    # let its members reach each other, so its rules are read first.
    for group in groups.values():
        ec2.revoke_security_group_egress(GroupId=group, IpPermissions=[ALL_EGRESS])
    _revoke_all(ec2, default)
    s3_prefix_list = _s3_prefix_list(ec2, network["region"])

    def https(**target):
        return {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, **target}

    def mysql(**target):
        return {"IpProtocol": "tcp", "FromPort": 3306, "ToPort": 3306, **target}

    ingress = {
        ALB_SG: [https(IpRanges=[{"CidrIp": "0.0.0.0/0", "Description": "patients and care providers"}])],
        APP_SG: [https(UserIdGroupPairs=[{"GroupId": groups[ALB_SG], "Description": "load balancer"}])],
        DB_SG: [mysql(UserIdGroupPairs=[{"GroupId": groups[APP_SG], "Description": "application servers"}])],
        ENDPOINTS_SG: [https(IpRanges=[{"CidrIp": cidr, "Description": "the VPC"}])],
    }
    app_egress = [
        https(IpRanges=[{"CidrIp": cidr, "Description": "VPC interface endpoints"}]),
        mysql(UserIdGroupPairs=[{"GroupId": groups[DB_SG], "Description": "database"}]),
    ]
    if s3_prefix_list:
        app_egress.append(https(PrefixListIds=[{"PrefixListId": s3_prefix_list, "Description": "S3 gateway endpoint"}]))
    egress = {
        ALB_SG: [https(UserIdGroupPairs=[{"GroupId": groups[APP_SG], "Description": "application servers"}])],
        APP_SG: app_egress,
    }
    for name, permissions in ingress.items():
        ec2.authorize_security_group_ingress(GroupId=groups[name], IpPermissions=permissions)
    for name, permissions in egress.items():
        ec2.authorize_security_group_egress(GroupId=groups[name], IpPermissions=permissions)
    return groups


def _revoke_all(ec2, described: dict) -> None:
    group = described["GroupId"]
    keep = ("IpProtocol", "FromPort", "ToPort", "IpRanges", "Ipv6Ranges", "PrefixListIds", "UserIdGroupPairs")

    def clean(permissions):
        return [
            {k: v for k, v in permission.items() if k in keep and v not in ([], None)} for permission in permissions
        ]

    if described.get("IpPermissions"):
        ec2.revoke_security_group_ingress(GroupId=group, IpPermissions=clean(described["IpPermissions"]))
    if described.get("IpPermissionsEgress"):
        ec2.revoke_security_group_egress(GroupId=group, IpPermissions=clean(described["IpPermissionsEgress"]))


def _s3_prefix_list(ec2, region: str) -> str | None:
    lists = ec2.describe_prefix_lists(Filters=[{"Name": "prefix-list-name", "Values": [f"com.amazonaws.{region}.s3"]}])
    return lists["PrefixLists"][0]["PrefixListId"] if lists.get("PrefixLists") else None


def _endpoints(aws: Aws, summary: Summary, network: dict) -> None:
    """Private access to AWS APIs for the app tier: S3 gateway and SSM/logs/monitoring interface endpoints."""
    ec2 = aws.client("ec2", network["region"])
    region = network["region"]
    gateway = ec2.create_vpc_endpoint(
        VpcId=network["vpc"],
        VpcEndpointType="Gateway",
        ServiceName=f"com.amazonaws.{region}.s3",
        RouteTableIds=[network["tables"]["app"]],
    )["VpcEndpoint"]["VpcEndpointId"]
    summary.add("vpc_endpoints", f"{region}/s3", gateway)
    app_subnets = [network["subnets"]["medcircle-app-a"], network["subnets"]["medcircle-app-b"]]
    for service in ("ssm", "ssmmessages", "ec2messages", "logs"):
        endpoint = ec2.create_vpc_endpoint(
            VpcId=network["vpc"],
            VpcEndpointType="Interface",
            ServiceName=f"com.amazonaws.{region}.{service}",
            SubnetIds=app_subnets,
            SecurityGroupIds=[network["groups"][ENDPOINTS_SG]],
            PrivateDnsEnabled=True,
        )["VpcEndpoint"]["VpcEndpointId"]
        summary.add("vpc_endpoints", f"{region}/{service}", endpoint)


def _flow_logs(aws: Aws, summary: Summary, network: dict, keys: dict, roles: dict) -> None:
    """VPC flow logs to an encrypted CloudWatch Logs group kept a year (4.6)."""
    region = network["region"]
    logs = aws.client("logs", region)
    logs.create_log_group(logGroupName=FLOW_LOG_GROUP, kmsKeyId=keys["logs"], tags=BASE_TAGS)
    logs.put_retention_policy(logGroupName=FLOW_LOG_GROUP, retentionInDays=365)
    flow = aws.client("ec2", region).create_flow_logs(
        ResourceIds=[network["vpc"]],
        ResourceType="VPC",
        TrafficType="ALL",
        LogDestinationType="cloud-watch-logs",
        LogGroupName=FLOW_LOG_GROUP,
        DeliverLogsPermissionArn=roles["medcircle-flow-logs-role"],
        TagSpecifications=[{"ResourceType": "vpc-flow-log", "Tags": tags_with_name("medcircle-vpc-flow-logs")}],
    )["FlowLogIds"][0]
    summary.add("flow_logs", f"{region}/{VPC_NAME}", flow)


def _dns_firewall(aws: Aws, summary: Summary, network: dict) -> None:
    """Route 53 Resolver DNS Firewall rule group blocking known-bad domains, associated with the VPC (4.7)."""
    region = network["region"]
    resolver = aws.client("route53resolver", region)
    domains = optional(
        summary,
        f"{region}: Route 53 Resolver DNS Firewall domain list, rule group and VPC association",
        resolver.create_firewall_domain_list,
        CreatorRequestId=f"medcircle-blocked-{region}",
        Name="medcircle-blocked-domains",
        Tags=[{"Key": k, "Value": v} for k, v in BASE_TAGS.items()],
    )
    if domains is None:
        return
    domain_list = domains["FirewallDomainList"]["Id"]
    resolver.update_firewall_domains(
        FirewallDomainListId=domain_list, Operation="ADD", Domains=["malware.example.", "*.phishing.example."]
    )
    group = resolver.create_firewall_rule_group(
        CreatorRequestId=f"medcircle-dns-fw-{region}",
        Name="medcircle-dns-firewall",
        Tags=[{"Key": k, "Value": v} for k, v in BASE_TAGS.items()],
    )["FirewallRuleGroup"]["Id"]
    resolver.create_firewall_rule(
        CreatorRequestId=f"medcircle-dns-rule-{region}",
        FirewallRuleGroupId=group,
        FirewallDomainListId=domain_list,
        Priority=100,
        Action="BLOCK",
        BlockResponse="NXDOMAIN",
        Name="block-known-bad",
    )
    association = resolver.associate_firewall_rule_group(
        CreatorRequestId=f"medcircle-dns-assoc-{region}",
        FirewallRuleGroupId=group,
        VpcId=network["vpc"],
        Priority=101,
        Name="medcircle-vpc",
    )["FirewallRuleGroupAssociation"]["Id"]
    summary.add("dns_firewall_rule_groups", f"{region}/medcircle-dns-firewall", group)
    summary.add("dns_firewall_associations", f"{region}/{VPC_NAME}", association)


def _network_firewall(aws: Aws, summary: Summary, region: str, network: dict) -> None:
    """AWS Network Firewall policy: stateless traffic goes to the stateful engine, which drops by default (4.5)."""
    policy = optional(
        summary,
        f"{region}: Network Firewall policy",
        aws.client("network-firewall", region).create_firewall_policy,
        FirewallPolicyName="medcircle-firewall-policy",
        FirewallPolicy={
            "StatelessDefaultActions": ["aws:forward_to_sfe"],
            "StatelessFragmentDefaultActions": ["aws:forward_to_sfe"],
            "StatefulEngineOptions": {"RuleOrder": "STRICT_ORDER"},
            "StatefulDefaultActions": ["aws:drop_established", "aws:alert_established"],
        },
        Description="MedCircle inspection policy",
        Tags=[{"Key": k, "Value": v} for k, v in BASE_TAGS.items()],
    )
    if policy is None:
        return
    policy_arn = policy["FirewallPolicyResponse"]["FirewallPolicyArn"]
    summary.add("firewall_policies", f"{region}/medcircle-firewall-policy", policy_arn)
    # The firewall that enforces the policy in the VPC, one endpoint per public-subnet AZ.
    firewall = optional(
        summary,
        f"{region}: Network Firewall",
        aws.client("network-firewall", region).create_firewall,
        FirewallName="medcircle-firewall",
        FirewallPolicyArn=policy_arn,
        VpcId=network["vpc"],
        SubnetMappings=[
            {"SubnetId": subnet}
            for name, subnet in sorted(network["subnets"].items())
            if name.startswith("medcircle-public-")
        ],
        DeleteProtection=True,
        Description="MedCircle inspection firewall",
        Tags=[{"Key": k, "Value": v} for k, v in BASE_TAGS.items()],
    )
    if firewall is not None:
        summary.add("network_firewalls", f"{region}/medcircle-firewall", firewall["Firewall"]["FirewallArn"])


# --- application tier --------------------------------------------------------------------------------------


def _al2023_image(aws: Aws, region: str) -> dict:
    ec2 = aws.client("ec2", region)
    images = ec2.describe_images(Owners=["amazon"], Filters=[{"Name": "name", "Values": [AL2023_PATTERN]}])["Images"]
    if images:
        return max(images, key=lambda image: image["Name"])
    image = ec2.register_image(
        Name=AL2023_FALLBACK, Description="Amazon Linux 2023 AMI", RootDeviceName="/dev/xvda", Architecture="x86_64"
    )
    return ec2.describe_images(ImageIds=[image["ImageId"]])["Images"][0]


def _app_tier(aws: Aws, summary: Summary, region: str, network: dict, keys: dict) -> dict:
    """Launch template, load balancer with WAF, Auto Scaling group across two AZs (1.3, 1.4, 1.7, 3.4, 3.7, 5.5)."""
    ec2 = aws.client("ec2", region)
    image = _al2023_image(aws, region)
    summary.add("images", f"{region}/{image['Name']}", image["ImageId"])
    root_device = image.get("RootDeviceName") or "/dev/xvda"
    template_data = {
        "ImageId": image["ImageId"],
        "InstanceType": "t3.medium",
        "IamInstanceProfile": {"Name": "medcircle-app-profile"},
        "MetadataOptions": {"HttpTokens": "required", "HttpPutResponseHopLimit": 1, "HttpEndpoint": "enabled"},
        "BlockDeviceMappings": [
            {
                "DeviceName": root_device,
                "Ebs": {
                    "VolumeSize": 20,
                    "VolumeType": "gp3",
                    "Encrypted": True,
                    "KmsKeyId": keys["ebs"],
                    "DeleteOnTermination": True,
                },
            }
        ],
        "NetworkInterfaces": [
            {"DeviceIndex": 0, "AssociatePublicIpAddress": False, "Groups": [network["groups"][APP_SG]]}
        ],
        "Monitoring": {"Enabled": True},
        "TagSpecifications": [
            {"ResourceType": "instance", "Tags": tag_list({**BASE_TAGS, **APP_TAGS})},
            {"ResourceType": "volume", "Tags": tag_list({**BASE_TAGS, **APP_TAGS})},
        ],
    }
    template = ec2.create_launch_template(
        LaunchTemplateName=LAUNCH_TEMPLATE,
        LaunchTemplateData=template_data,
        TagSpecifications=[{"ResourceType": "launch-template", "Tags": tags_with_name(LAUNCH_TEMPLATE)}],
    )["LaunchTemplate"]["LaunchTemplateId"]
    summary.add("launch_templates", f"{region}/{LAUNCH_TEMPLATE}", template)

    elb = aws.client("elbv2", region)
    public = [network["subnets"]["medcircle-public-a"], network["subnets"]["medcircle-public-b"]]
    alb = elb.create_load_balancer(
        Name=ALB_NAME,
        Subnets=public,
        SecurityGroups=[network["groups"][ALB_SG]],
        Scheme="internet-facing",
        Type="application",
        Tags=tag_list(BASE_TAGS),
    )["LoadBalancers"][0]
    summary.add("load_balancers", f"{region}/{ALB_NAME}", alb["LoadBalancerArn"])
    target_group = elb.create_target_group(
        Name=TARGET_GROUP,
        Protocol="HTTPS",
        Port=443,
        VpcId=network["vpc"],
        TargetType="instance",
        HealthCheckProtocol="HTTPS",
        HealthCheckPath="/health",
    )["TargetGroups"][0]["TargetGroupArn"]
    certificate = aws.client("acm", region).request_certificate(
        DomainName=APP_RECORD.rstrip("."), ValidationMethod="DNS", Tags=tag_list(BASE_TAGS)
    )["CertificateArn"]
    elb.create_listener(
        LoadBalancerArn=alb["LoadBalancerArn"],
        Protocol="HTTPS",
        Port=443,
        SslPolicy="ELBSecurityPolicy-TLS13-1-2-2021-06",
        Certificates=[{"CertificateArn": certificate}],
        DefaultActions=[{"Type": "forward", "TargetGroupArn": target_group}],
    )
    _web_acl(aws, summary, region, alb["LoadBalancerArn"])

    autoscaling = aws.client("autoscaling", region)
    app_subnets = [network["subnets"]["medcircle-app-a"], network["subnets"]["medcircle-app-b"]]
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName=ASG_NAME,
        LaunchTemplate={"LaunchTemplateId": template, "Version": "$Latest"},
        MinSize=0,
        MaxSize=4,
        DesiredCapacity=0,
        VPCZoneIdentifier=",".join(app_subnets),
        TargetGroupARNs=[target_group],
        HealthCheckType="ELB",
        HealthCheckGracePeriod=300,
        Tags=[
            {
                "Key": k,
                "Value": v,
                "PropagateAtLaunch": True,
                "ResourceId": ASG_NAME,
                "ResourceType": "auto-scaling-group",
            }
            for k, v in {**BASE_TAGS, **APP_TAGS}.items()
        ],
    )
    # moto's Auto Scaling launches every instance in the first subnet and ignores the template's metadata
    # options and instance profile, so the instances are launched from the template here, one per AZ, with
    # the template's settings spelled out, and attached to the group.
    instances = []
    for index in range(APP_CAPACITY[region]):
        subnet = app_subnets[index % len(app_subnets)]
        launched = ec2.run_instances(
            LaunchTemplate={"LaunchTemplateId": template, "Version": "$Latest"},
            ImageId=image["ImageId"],
            InstanceType=template_data["InstanceType"],
            MinCount=1,
            MaxCount=1,
            IamInstanceProfile=template_data["IamInstanceProfile"],
            MetadataOptions=template_data["MetadataOptions"],
            BlockDeviceMappings=template_data["BlockDeviceMappings"],
            NetworkInterfaces=[{**template_data["NetworkInterfaces"][0], "SubnetId": subnet}],
            Monitoring=template_data["Monitoring"],
            TagSpecifications=template_data["TagSpecifications"],
        )["Instances"][0]["InstanceId"]
        instances.append(launched)
        summary.add("instances", f"{region}/{INSTANCE_NAME}-{index + 1}", launched)
    autoscaling.attach_instances(AutoScalingGroupName=ASG_NAME, InstanceIds=instances)
    autoscaling.update_auto_scaling_group(
        AutoScalingGroupName=ASG_NAME, MinSize=APP_CAPACITY[region], DesiredCapacity=APP_CAPACITY[region]
    )
    summary.add("auto_scaling_groups", f"{region}/{ASG_NAME}", ASG_NAME)
    return alb


def _web_acl(aws: Aws, summary: Summary, region: str, alb_arn: str) -> None:
    """WAF web ACL with AWS managed rule groups on the load balancer (4.4)."""
    wafv2 = aws.client("wafv2", region)

    def visibility(metric):
        return {"SampledRequestsEnabled": True, "CloudWatchMetricsEnabled": True, "MetricName": metric}

    rules = [
        {
            "Name": group,
            "Priority": priority,
            "Statement": {"ManagedRuleGroupStatement": {"VendorName": "AWS", "Name": group}},
            "OverrideAction": {"None": {}},
            "VisibilityConfig": visibility(group),
        }
        for priority, group in enumerate(
            ("AWSManagedRulesCommonRuleSet", "AWSManagedRulesSQLiRuleSet", "AWSManagedRulesKnownBadInputsRuleSet")
        )
    ]
    acl = wafv2.create_web_acl(
        Name=WEB_ACL,
        Scope="REGIONAL",
        DefaultAction={"Allow": {}},
        Rules=rules,
        VisibilityConfig=visibility(WEB_ACL),
        Description="MedCircle application firewall",
        Tags=tag_list(BASE_TAGS),
    )["Summary"]["ARN"]
    wafv2.associate_web_acl(WebACLArn=acl, ResourceArn=alb_arn)
    summary.add("web_acls", f"{region}/{WEB_ACL}", acl)


# --- database ----------------------------------------------------------------------------------------------


def _database(aws: Aws, summary: Summary, networks: dict, keys: dict, roles: dict) -> None:
    """Encrypted Multi-AZ MySQL with TLS, managed password, monitoring, alarms and a DR replica (1.5, 2.2, 2.3,
    2.12, 2.13, 2.14, 3.2, 5.1, 5.3, 5.4)."""
    for region in REGIONS:
        rds = aws.client("rds", region)
        rds.create_db_parameter_group(
            DBParameterGroupName=DB_PARAMETER_GROUP,
            DBParameterGroupFamily="mysql8.0",
            Description="MedCircle MySQL 8.0 settings: TLS required",
            Tags=tag_list(BASE_TAGS),
        )
        rds.modify_db_parameter_group(
            DBParameterGroupName=DB_PARAMETER_GROUP,
            Parameters=[
                {"ParameterName": "require_secure_transport", "ParameterValue": "1", "ApplyMethod": "immediate"}
            ],
        )
        summary.add("db_parameter_groups", f"{region}/{DB_PARAMETER_GROUP}", DB_PARAMETER_GROUP)
        subnets = networks[region]["subnets"]
        rds.create_db_subnet_group(
            DBSubnetGroupName=DB_SUBNET_GROUP,
            DBSubnetGroupDescription="MedCircle database subnets (private)",
            SubnetIds=[subnets["medcircle-db-a"], subnets["medcircle-db-b"]],
            Tags=tag_list(BASE_TAGS),
        )
        summary.add("db_subnet_groups", f"{region}/{DB_SUBNET_GROUP}", DB_SUBNET_GROUP)

    primary = aws.client("rds", PRIMARY_REGION)
    protected = {
        "StorageEncrypted": True,
        "DeletionProtection": True,
        "PubliclyAccessible": False,
        "MonitoringInterval": 60,
        "MonitoringRoleArn": roles["medcircle-rds-monitoring-role"],
        "EnableCloudwatchLogsExports": ["error", "general", "slowquery"],
        "EnableIAMDatabaseAuthentication": True,
        "AutoMinorVersionUpgrade": True,
        "CopyTagsToSnapshot": True,
    }
    db = primary.create_db_instance(
        DBInstanceIdentifier=DB_ID,
        DBName="MedCircleDB",
        DBInstanceClass="db.t3.micro",
        Engine="mysql",
        EngineVersion="8.0.35",
        AllocatedStorage=20,
        StorageType="gp3",
        MasterUsername="medcircle_admin",
        MasterUserPassword="seed-only-" + DB_ID,  # handed to Secrets Manager once the DR replica exists (below)
        KmsKeyId=keys[PRIMARY_REGION]["rds"],
        DBSubnetGroupName=DB_SUBNET_GROUP,
        DBParameterGroupName=DB_PARAMETER_GROUP,
        VpcSecurityGroupIds=[networks[PRIMARY_REGION]["groups"][DB_SG]],
        MultiAZ=True,
        BackupRetentionPeriod=35,
        PreferredBackupWindow="03:00-04:00",
        PreferredMaintenanceWindow="sun:05:00-sun:06:00",
        Tags=tag_list({**BASE_TAGS, "Backup": "daily"}),
        **protected,
    )["DBInstance"]
    summary.add("db_instances", f"{PRIMARY_REGION}/{DB_ID}", db["DBInstanceArn"])

    dr = aws.client("rds", DR_REGION)
    replica = dr.create_db_instance_read_replica(
        DBInstanceIdentifier=REPLICA_ID,
        SourceDBInstanceIdentifier=db["DBInstanceArn"],
        SourceRegion=PRIMARY_REGION,
        DBInstanceClass="db.t3.micro",
        KmsKeyId=keys[DR_REGION]["rds"],
        Tags=tag_list({**BASE_TAGS, "Role": "dr-replica"}),
    )["DBInstance"]
    # moto resolves a replica's subnet group in the source region, so the DR subnet group, security group
    # and protections are set on the replica after it exists.
    dr.modify_db_instance(
        DBInstanceIdentifier=REPLICA_ID,
        DBSubnetGroupName=DB_SUBNET_GROUP,
        VpcSecurityGroupIds=[networks[DR_REGION]["groups"][DB_SG]],
        DBParameterGroupName=DB_PARAMETER_GROUP,
        DeletionProtection=True,
        MonitoringInterval=60,
        MonitoringRoleArn=roles["medcircle-rds-monitoring-role"],
        BackupRetentionPeriod=35,
        ApplyImmediately=True,
    )
    summary.add("db_instances", f"{DR_REGION}/{REPLICA_ID}", replica["DBInstanceArn"])
    # AWS makes no read replica of a database whose master password Secrets Manager manages: the replica first,
    # then the password, as role rds_protection does it
    primary.modify_db_instance(
        DBInstanceIdentifier=DB_ID,
        ManageMasterUserPassword=True,
        MasterUserSecretKmsKeyId=keys[PRIMARY_REGION]["rds"],
        ApplyImmediately=True,
    )
    replication = optional(
        summary,
        f"{DR_REGION}: RDS automated backups replication of {DB_ID}",
        dr.start_db_instance_automated_backups_replication,
        SourceDBInstanceArn=db["DBInstanceArn"],
        BackupRetentionPeriod=35,
        KmsKeyId=keys[DR_REGION]["rds"],
        SourceRegion=PRIMARY_REGION,
    )
    if replication is not None:
        summary.add("db_automated_backups_replications", f"{DR_REGION}/{DB_ID}", db["DBInstanceArn"])


# --- storage -----------------------------------------------------------------------------------------------


def _tls_only(bucket: str) -> dict:
    return {
        "Sid": TLS_ONLY_SID,
        "Effect": "Deny",
        # {"AWS": "*"} means the same as "*"; moto's logging-permission check only reads the mapping form.
        "Principal": {"AWS": "*"},
        "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def _bucket(
    aws: Aws,
    summary: Summary,
    region: str,
    name: str,
    *,
    kms_key: str | None,
    log_bucket: str | None,
    object_lock: bool = False,
    extra_statements: tuple = (),
    tags: dict | None = None,
    objects: dict | None = None,
) -> None:
    """A bucket with versioning, encryption, public access block, TLS-only policy and (unless it is itself a
    log bucket) server access logging (1.6, 2.4-2.9)."""
    s3 = aws.client("s3", region)
    create = {"Bucket": name}
    if region != "us-east-1":
        create["CreateBucketConfiguration"] = {"LocationConstraint": region}
    if object_lock:
        create["ObjectLockEnabledForBucket"] = True
    s3.create_bucket(**create)
    s3.put_public_access_block(
        Bucket=name,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    # S3 server access logs can only be delivered to SSE-S3 buckets, so log buckets get AES256.
    default = {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": kms_key} if kms_key else {"SSEAlgorithm": "AES256"}
    s3.put_bucket_encryption(
        Bucket=name,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": default, "BucketKeyEnabled": bool(kms_key)}]
        },
    )
    if object_lock:  # before any object: moto accepts the configuration only on an empty bucket
        s3.put_object_lock_configuration(
            Bucket=name,
            ObjectLockConfiguration={
                "ObjectLockEnabled": "Enabled",
                "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 365}},
            },
        )
    if log_bucket:
        s3.put_bucket_logging(
            Bucket=name,
            BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": log_bucket, "TargetPrefix": f"{name}/"}},
        )
    s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": tag_list({**BASE_TAGS, **(tags or {})})})
    # Objects go in before the TLS-only policy: the sandbox endpoint is plain HTTP, and moto enforces
    # aws:SecureTransport on object writes.
    for key, body in (objects or {}).items():
        s3.put_object(Bucket=name, Key=key, Body=body, ContentType="application/json")
    s3.put_bucket_policy(Bucket=name, Policy=policy_document(_tls_only(name), *extra_statements))
    summary.add("buckets", f"{region}/{name}", name)


def _buckets(aws: Aws, summary: Summary, keys: dict, roles: dict) -> None:
    for region in REGIONS:
        log_bucket = LOG_BUCKET[region]
        _bucket(
            aws,
            summary,
            region,
            log_bucket,
            kms_key=None,
            log_bucket=None,
            extra_statements=(
                {
                    "Sid": "S3ServerAccessLogs",
                    "Effect": "Allow",
                    "Principal": {"Service": "logging.s3.amazonaws.com"},
                    "Action": "s3:PutObject",
                    "Resource": f"arn:aws:s3:::{log_bucket}/*",
                    "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT_ID}},
                },
            ),
            tags={"Purpose": "access-logs"},
        )
    _bucket(
        aws,
        summary,
        DR_REGION,
        DR_BUCKET,
        kms_key=keys[DR_REGION]["s3"],
        log_bucket=LOG_BUCKET[DR_REGION],
        # S3 replicates from a lock-enabled source only to a lock-enabled destination; the replicas are
        # patient records too, so they keep the same retention.
        object_lock=True,
        tags={"DataClass": "phi", "Role": "dr-replica"},
    )
    _bucket(
        aws,
        summary,
        PRIMARY_REGION,
        DATA_BUCKET,
        kms_key=keys[PRIMARY_REGION]["s3"],
        log_bucket=LOG_BUCKET[PRIMARY_REGION],
        object_lock=True,
        tags={"DataClass": "phi"},
        objects={"records/patient-0001.json": SAMPLE_RECORD},
    )
    s3 = aws.client("s3", PRIMARY_REGION)
    s3.put_bucket_replication(
        Bucket=DATA_BUCKET,
        ReplicationConfiguration={
            "Role": roles["medcircle-s3-replication-role"],
            "Rules": [
                {
                    "ID": "patient-records-to-dr",
                    "Priority": 1,
                    "Status": "Enabled",
                    "Filter": {},
                    "DeleteMarkerReplication": {"Status": "Disabled"},
                    "SourceSelectionCriteria": {"SseKmsEncryptedObjects": {"Status": "Enabled"}},
                    "Destination": {
                        "Bucket": f"arn:aws:s3:::{DR_BUCKET}",
                        "EncryptionConfiguration": {"ReplicaKmsKeyID": keys[DR_REGION]["s3"]},
                    },
                }
            ],
        },
    )
    # Replication covers new writes only: the record written before the rule is copied to the replica, as the
    # collection's replication (replicate_existing) does, so the replica holds everything the source holds and
    # a DR drill of patient-records has the data to read.
    s3_dr = aws.client("s3", DR_REGION)
    for obj in s3.list_objects_v2(Bucket=DATA_BUCKET).get("Contents", []):
        s3_dr.copy_object(
            Bucket=DR_BUCKET,
            Key=obj["Key"],
            CopySource={"Bucket": DATA_BUCKET, "Key": obj["Key"]},
            MetadataDirective="COPY",
            ServerSideEncryption="aws:kms",
            SSEKMSKeyId=keys[DR_REGION]["s3"],
        )
    _bucket(
        aws,
        summary,
        PRIMARY_REGION,
        TRAIL_BUCKET,
        kms_key=keys[PRIMARY_REGION]["logs"],
        log_bucket=LOG_BUCKET[PRIMARY_REGION],
        extra_statements=(
            {
                "Sid": "CloudTrailAclCheck",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "s3:GetBucketAcl",
                "Resource": f"arn:aws:s3:::{TRAIL_BUCKET}",
            },
            {
                "Sid": "CloudTrailWrite",
                "Effect": "Allow",
                "Principal": {"Service": "cloudtrail.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": f"arn:aws:s3:::{TRAIL_BUCKET}/AWSLogs/{ACCOUNT_ID}/*",
                "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}},
            },
        ),
        tags={"Purpose": "cloudtrail"},
    )


# --- identity ----------------------------------------------------------------------------------------------


def _iam_users(aws: Aws, summary: Summary, keys: dict) -> None:
    """Strong password policy, MFA for every console user, least-privilege policies (1.1, 1.2, 2.1, 3.1)."""
    iam = aws.client("iam", PRIMARY_REGION)
    iam.update_account_password_policy(
        MinimumPasswordLength=14,
        RequireSymbols=True,
        RequireNumbers=True,
        RequireUppercaseCharacters=True,
        RequireLowercaseCharacters=True,
        AllowUsersToChangePassword=True,
        MaxPasswordAge=90,
        PasswordReusePrevention=24,
        HardExpiry=False,
    )
    mfa = {"Bool": {"aws:MultiFactorAuthPresent": "true"}}
    data = f"arn:aws:s3:::{DATA_BUCKET}"
    documents = {
        "MedCircleAdminPolicy": (
            "MedCircle operations administrators (MFA required)",
            policy_document(
                {
                    "Sid": "ReadEstate",
                    "Effect": "Allow",
                    "Action": [
                        "ec2:Describe*",
                        "rds:Describe*",
                        "autoscaling:Describe*",
                        "elasticloadbalancing:Describe*",
                        "cloudwatch:Describe*",
                        "cloudwatch:Get*",
                        "cloudwatch:List*",
                        "logs:Describe*",
                        "logs:FilterLogEvents",
                        "iam:Get*",
                        "iam:List*",
                        "backup:Describe*",
                        "backup:List*",
                        "ssm:Describe*",
                        "ssm:List*",
                    ],
                    "Resource": "*",
                    "Condition": mfa,
                },
                {
                    "Sid": "OperateEstate",
                    "Effect": "Allow",
                    "Action": [
                        "ec2:StartInstances",
                        "ec2:StopInstances",
                        "ec2:RebootInstances",
                        "ec2:CreateSnapshot",
                        "ec2:CreateTags",
                        "rds:CreateDBSnapshot",
                        "rds:RebootDBInstance",
                        "autoscaling:UpdateAutoScalingGroup",
                        "autoscaling:StartInstanceRefresh",
                        "ssm:SendCommand",
                        "ssm:StartSession",
                        "backup:StartBackupJob",
                    ],
                    "Resource": "*",
                    "Condition": {**mfa, "StringEquals": {"aws:ResourceTag/Project": "medcircle"}},
                },
            ),
        ),
        "MedCircleDeveloperPolicy": (
            "MedCircle developers: read-only view of the estate and its logs",
            policy_document(
                {
                    "Sid": "ReadOnly",
                    "Effect": "Allow",
                    "Action": [
                        "ec2:DescribeInstances",
                        "ec2:DescribeImages",
                        "rds:DescribeDBInstances",
                        "logs:DescribeLogGroups",
                        "logs:FilterLogEvents",
                        "cloudwatch:GetMetricData",
                        "cloudwatch:ListMetrics",
                    ],
                    "Resource": "*",
                },
            ),
        ),
        "MedCircleS3PatientRecordsRW": (
            "MedCircle records service: read and write patient records only",
            policy_document(
                {"Sid": "ListRecords", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": data},
                {
                    "Sid": "ReadWriteRecords",
                    "Effect": "Allow",
                    "Action": ["s3:GetObject", "s3:PutObject"],
                    "Resource": f"{data}/records/*",
                },
                {
                    "Sid": "UseRecordsKey",
                    "Effect": "Allow",
                    "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                    "Resource": keys[PRIMARY_REGION]["s3"],
                },
            ),
        ),
        "MedCircleRequireMFA": (
            "Deny everything but MFA self-service until the user signs in with MFA",
            policy_document(
                {
                    "Sid": "DenyWithoutMFA",
                    "Effect": "Deny",
                    "NotAction": [
                        "iam:CreateVirtualMFADevice",
                        "iam:EnableMFADevice",
                        "iam:GetUser",
                        "iam:ListMFADevices",
                        "iam:ListVirtualMFADevices",
                        "iam:ResyncMFADevice",
                        "iam:ChangePassword",
                        "sts:GetSessionToken",
                    ],
                    "Resource": "*",
                    "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
                }
            ),
        ),
    }
    policies = {}
    for name, (description, document) in documents.items():
        policies[name] = iam.create_policy(PolicyName=name, PolicyDocument=document, Description=description)["Policy"][
            "Arn"
        ]
        summary.add("iam_policies", name, policies[name])
    attachments = {
        "admin": "MedCircleAdminPolicy",
        "developer": "MedCircleDeveloperPolicy",
        "s3user": "MedCircleS3PatientRecordsRW",
    }
    for user in ("admin", "developer", "s3user", "finance"):
        iam.create_user(UserName=user, Tags=tag_list({"Project": "medcircle"}))
        iam.create_login_profile(UserName=user, Password=USER_PASSWORD, PasswordResetRequired=True)
        device = iam.create_virtual_mfa_device(VirtualMFADeviceName=user)["VirtualMFADevice"]["SerialNumber"]
        iam.enable_mfa_device(
            UserName=user, SerialNumber=device, AuthenticationCode1=MFA_CODES[0], AuthenticationCode2=MFA_CODES[1]
        )
        iam.attach_user_policy(UserName=user, PolicyArn=policies["MedCircleRequireMFA"])
        if user in attachments:
            iam.attach_user_policy(UserName=user, PolicyArn=policies[attachments[user]])
        summary.add("iam_users", user, f"arn:aws:iam::{ACCOUNT_ID}:user/{user}")
        summary.add("mfa_devices", user, device)
    iam.put_user_policy(
        UserName="finance",
        PolicyName="MedCircleFinanceBillingReadOnly",
        PolicyDocument=policy_document(
            {
                "Sid": "BillingReadOnly",
                "Effect": "Allow",
                "Action": [
                    "aws-portal:ViewBilling",
                    "aws-portal:ViewUsage",
                    "ce:GetCostAndUsage",
                    "ce:GetCostForecast",
                    "budgets:ViewBudget",
                ],
                "Resource": "*",
            }
        ),
    )


# --- monitoring --------------------------------------------------------------------------------------------


def _alarm(
    cloudwatch, topic: str, name: str, namespace: str, metric: str, dimensions: dict, comparison: str, threshold
):
    cloudwatch.put_metric_alarm(
        AlarmName=name,
        Namespace=namespace,
        MetricName=metric,
        Dimensions=[{"Name": k, "Value": v} for k, v in dimensions.items()],
        Statistic="Average" if namespace == "AWS/RDS" else "Sum",
        Period=300,
        EvaluationPeriods=3 if namespace == "AWS/RDS" else 1,
        Threshold=threshold,
        ComparisonOperator=comparison,
        TreatMissingData="breaching" if namespace == "AWS/RDS" else "notBreaching",
        AlarmActions=[topic],
        OKActions=[topic],
        Tags=tag_list(BASE_TAGS),
    )


def _monitoring(aws: Aws, summary: Summary, keys: dict, roles: dict) -> None:
    """CloudTrail, GuardDuty, security-event routing and alarms (2.9, 2.11, 2.12)."""
    topics = {}
    for region in REGIONS:
        topics[region] = aws.client("sns", region).create_topic(
            Name=ALERTS_TOPIC, Attributes={"KmsMasterKeyId": "alias/medcircle-logs"}, Tags=tag_list(BASE_TAGS)
        )["TopicArn"]
        summary.add("sns_topics", f"{region}/{ALERTS_TOPIC}", topics[region])
        detector = aws.client("guardduty", region).create_detector(
            Enable=True, FindingPublishingFrequency="FIFTEEN_MINUTES", Tags=BASE_TAGS
        )["DetectorId"]
        summary.add("guardduty_detectors", region, detector)
        events = aws.client("events", region)
        events.put_rule(
            Name="medcircle-security-findings",
            EventPattern=json.dumps({"source": ["aws.guardduty", "aws.securityhub"]}),
            State="ENABLED",
            Description="Route security findings to the on-call topic",
        )
        events.put_targets(Rule="medcircle-security-findings", Targets=[{"Id": "alerts", "Arn": topics[region]}])
        summary.add("event_rules", f"{region}/medcircle-security-findings", "medcircle-security-findings")

    logs = aws.client("logs", PRIMARY_REGION)
    logs.create_log_group(logGroupName=TRAIL_LOG_GROUP, kmsKeyId=keys[PRIMARY_REGION]["logs"], tags=BASE_TAGS)
    logs.put_retention_policy(logGroupName=TRAIL_LOG_GROUP, retentionInDays=365)
    trail_log_group = f"arn:aws:logs:{PRIMARY_REGION}:{ACCOUNT_ID}:log-group:{TRAIL_LOG_GROUP}:*"
    cloudtrail = aws.client("cloudtrail", PRIMARY_REGION)
    trail = cloudtrail.create_trail(
        Name=TRAIL_NAME,
        S3BucketName=TRAIL_BUCKET,
        IsMultiRegionTrail=True,
        IncludeGlobalServiceEvents=True,
        EnableLogFileValidation=True,
        KmsKeyId=keys[PRIMARY_REGION]["logs"],
        CloudWatchLogsLogGroupArn=trail_log_group,
        CloudWatchLogsRoleArn=roles["medcircle-cloudtrail-logs-role"],
        TagsList=tag_list(BASE_TAGS),
    )["TrailARN"]
    cloudtrail.start_logging(Name=TRAIL_NAME)
    summary.add("trails", TRAIL_NAME, trail)

    security_metrics = {
        "medcircle-unauthorized-api-calls": (
            '{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }'
        ),
        "medcircle-root-account-usage": '{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS }',
        "medcircle-console-signin-without-mfa": (
            '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }'
        ),
    }
    primary_cw = aws.client("cloudwatch", PRIMARY_REGION)
    for name, pattern in security_metrics.items():
        logs.put_metric_filter(
            logGroupName=TRAIL_LOG_GROUP,
            filterName=name,
            filterPattern=pattern,
            metricTransformations=[{"metricName": name, "metricNamespace": "MedCircle/Security", "metricValue": "1"}],
        )
        _alarm(
            primary_cw, topics[PRIMARY_REGION], name, "MedCircle/Security", name, {}, "GreaterThanOrEqualToThreshold", 1
        )
        summary.add("alarms", f"{PRIMARY_REGION}/{name}", name)

    db = {"DBInstanceIdentifier": DB_ID}
    for name, metric, comparison, threshold in (
        (f"{DB_ID}-cpu-high", "CPUUtilization", "GreaterThanThreshold", 80),
        (f"{DB_ID}-free-storage-low", "FreeStorageSpace", "LessThanThreshold", 2 * 1024**3),
        (f"{DB_ID}-connections-high", "DatabaseConnections", "GreaterThanThreshold", 100),
    ):
        _alarm(primary_cw, topics[PRIMARY_REGION], name, "AWS/RDS", metric, db, comparison, threshold)
        summary.add("alarms", f"{PRIMARY_REGION}/{name}", name)
    _alarm(
        aws.client("cloudwatch", DR_REGION),
        topics[DR_REGION],
        f"{REPLICA_ID}-replica-lag-high",
        "AWS/RDS",
        "ReplicaLag",
        {"DBInstanceIdentifier": REPLICA_ID},
        "GreaterThanThreshold",
        300,
    )
    summary.add("alarms", f"{DR_REGION}/{REPLICA_ID}-replica-lag-high", f"{REPLICA_ID}-replica-lag-high")


# --- backup and patching -----------------------------------------------------------------------------------


def _backup(aws: Aws, summary: Summary, keys: dict, roles: dict) -> None:
    """AWS Backup vaults in both regions, a daily/weekly/monthly plan copying to DR, EBS snapshot policy
    (2.2, 2.3, 2.10, 5.1)."""
    vault_arns = {}
    for region in REGIONS:
        backup = aws.client("backup", region)
        vault_arns[region] = backup.create_backup_vault(
            BackupVaultName=BACKUP_VAULT[region], EncryptionKeyArn=keys[region]["backup"], BackupVaultTags=BASE_TAGS
        )["BackupVaultArn"]
        backup.put_backup_vault_lock_configuration(
            BackupVaultName=BACKUP_VAULT[region], MinRetentionDays=7, MaxRetentionDays=400
        )
        summary.add("backup_vaults", f"{region}/{BACKUP_VAULT[region]}", vault_arns[region])

    def rule(name, schedule, lifecycle):
        return {
            "RuleName": name,
            "TargetBackupVaultName": BACKUP_VAULT[PRIMARY_REGION],
            "ScheduleExpression": schedule,
            "StartWindowMinutes": 60,
            "CompletionWindowMinutes": 480,
            "Lifecycle": lifecycle,
            "RecoveryPointTags": {"Project": "medcircle", "BackupRule": name},
            "CopyActions": [{"DestinationBackupVaultArn": vault_arns[DR_REGION], "Lifecycle": lifecycle}],
        }

    backup = aws.client("backup", PRIMARY_REGION)
    plan = backup.create_backup_plan(
        BackupPlan={
            "BackupPlanName": BACKUP_PLAN,
            "Rules": [
                rule("daily", "cron(0 5 * * ? *)", {"DeleteAfterDays": 35}),
                rule("weekly", "cron(0 5 ? * SUN *)", {"DeleteAfterDays": 90}),
                rule("monthly", "cron(0 5 1 * ? *)", {"MoveToColdStorageAfterDays": 30, "DeleteAfterDays": 365}),
            ],
        },
        BackupPlanTags=BASE_TAGS,
    )["BackupPlanId"]
    summary.add("backup_plans", f"{PRIMARY_REGION}/{BACKUP_PLAN}", plan)
    selection = optional(
        summary,
        f"{PRIMARY_REGION}: Backup selection of resources tagged Backup=daily",
        backup.create_backup_selection,
        BackupPlanId=plan,
        BackupSelection={
            "SelectionName": BACKUP_SELECTION,
            "IamRoleArn": roles["medcircle-backup-role"],
            "ListOfTags": [{"ConditionType": "STRINGEQUALS", "ConditionKey": "Backup", "ConditionValue": "daily"}],
        },
    )
    if selection is not None:
        summary.add("backup_selections", f"{PRIMARY_REGION}/{BACKUP_SELECTION}", selection["SelectionId"])

    for region in REGIONS:
        _snapshot_policy(aws, summary, region, keys, roles)


def _snapshot_policy(aws: Aws, summary: Summary, region: str, keys: dict, roles: dict) -> None:
    """A DLM policy snapshotting the app instances (tagged Backup=daily) daily, each snapshot copied
    encrypted to the other region (2.10, 2.3)."""
    other = DR_REGION if region == PRIMARY_REGION else PRIMARY_REGION
    policy = optional(
        summary,
        f"{region}: Data Lifecycle Manager EBS snapshot policy",
        aws.client("dlm", region).create_lifecycle_policy,
        ExecutionRoleArn=roles["medcircle-dlm-role"],
        Description=f"MedCircle daily EBS snapshots with copy to {other}",
        State="ENABLED",
        PolicyDetails={
            "PolicyType": "EBS_SNAPSHOT_MANAGEMENT",
            "ResourceTypes": ["INSTANCE"],
            "TargetTags": [{"Key": "Backup", "Value": "daily"}],
            "Schedules": [
                {
                    "Name": "daily",
                    "CopyTags": True,
                    "CreateRule": {"Interval": 24, "IntervalUnit": "HOURS", "Times": ["03:00"]},
                    "RetainRule": {"Count": 14},
                    "CrossRegionCopyRules": [
                        {
                            "TargetRegion": other,
                            "Encrypted": True,
                            "CmkArn": keys[other]["ebs"],
                            "CopyTags": True,
                            "RetainRule": {"Interval": 14, "IntervalUnit": "DAYS"},
                        }
                    ],
                }
            ],
        },
        Tags={**BASE_TAGS, "Name": DLM_POLICY},
    )
    if policy is not None:
        summary.add("dlm_policies", f"{region}/{DLM_POLICY}", policy["PolicyId"])


def _patching(aws: Aws, summary: Summary) -> None:
    """SSM patch baseline for the PatchGroup=prod fleet and a weekly maintenance window in each region, and
    the fleet's last patch run: every app instance compliant (3.5, 3.8)."""
    for region in REGIONS:
        baseline = _patch_baseline_and_window(aws, summary, region)
        _patch_states(summary, region, baseline)


def _patch_baseline_and_window(aws: Aws, summary: Summary, region: str) -> str:
    # the primary region's ids keep their plain names in the summary; the DR region's carry the region
    prefix = "" if region == PRIMARY_REGION else f"{region}/"
    ssm = aws.client("ssm", region)
    baseline = ssm.create_patch_baseline(
        Name=PATCH_BASELINE,
        OperatingSystem="AMAZON_LINUX_2023",
        Description="MedCircle Amazon Linux 2023: security and bugfix patches after 7 days",
        ApprovalRules={
            "PatchRules": [
                {
                    "PatchFilterGroup": {
                        "PatchFilters": [
                            {"Key": "CLASSIFICATION", "Values": ["Security", "Bugfix"]},
                            {"Key": "SEVERITY", "Values": ["Critical", "Important"]},
                        ]
                    },
                    "ApproveAfterDays": 7,
                    "ComplianceLevel": "CRITICAL",
                }
            ]
        },
    )["BaselineId"]
    ssm.register_patch_baseline_for_patch_group(BaselineId=baseline, PatchGroup="prod")
    summary.add("patch_baselines", f"{prefix}{PATCH_BASELINE}", baseline)
    window = ssm.create_maintenance_window(
        Name=PATCH_WINDOW,
        Schedule="cron(0 3 ? * SUN *)",
        Duration=4,
        Cutoff=1,
        AllowUnassociatedTargets=False,
        Tags=tag_list(BASE_TAGS),
    )["WindowId"]
    target = ssm.register_target_with_maintenance_window(
        WindowId=window,
        ResourceType="INSTANCE",
        Targets=[{"Key": "tag:PatchGroup", "Values": ["prod"]}],
        Name="medcircle-prod-fleet",
    )["WindowTargetId"]
    ssm.register_task_with_maintenance_window(
        WindowId=window,
        Targets=[{"Key": "WindowTargetIds", "Values": [target]}],
        TaskArn="AWS-RunPatchBaseline",
        TaskType="RUN_COMMAND",
        Priority=1,
        MaxConcurrency="50%",
        MaxErrors="10%",
        Name="medcircle-run-patch-baseline",
        TaskInvocationParameters={
            "RunCommand": {"Parameters": {"Operation": ["Install"], "RebootOption": ["RebootIfNeeded"]}}
        },
    )
    summary.add("maintenance_windows", f"{prefix}{PATCH_WINDOW}", window)
    return baseline


def _patch_states(summary: Summary, region: str, baseline: str) -> None:
    """What AWS-RunPatchBaseline's last Install run in the maintenance window reported for each app instance:
    nothing missing or failed. Patch states live in the sandbox's Systems Manager inventory (the seed runs in
    the sandbox's process); AWS has no API that writes them."""
    from sandbox.additions.ssm_inventory import record_patch_state

    ended = datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=2)
    started = ended - datetime.timedelta(minutes=12)
    for key, instance_id in summary.kinds["instances"].items():
        if not key.startswith(f"{region}/"):
            continue
        record_patch_state(
            ACCOUNT_ID,
            region,
            instance_id,
            PatchGroup="prod",
            BaselineId=baseline,
            InstalledCount=412,
            InstalledOtherCount=3,
            InstalledPendingRebootCount=0,
            InstalledRejectedCount=0,
            MissingCount=0,
            FailedCount=0,
            NotApplicableCount=1187,
            OperationStartTime=started,
            OperationEndTime=ended,
            Operation="Install",
            RebootOption="RebootIfNeeded",
            LastNoRebootInstallOperationTime=ended,
            CriticalNonCompliantCount=0,
            SecurityNonCompliantCount=0,
            OtherNonCompliantCount=0,
        )


# --- DNS failover ------------------------------------------------------------------------------------------


def _dns(aws: Aws, summary: Summary, albs: dict) -> None:
    """Failover records: primary load balancer with a health check, DR load balancer as secondary (4.1, 2.3)."""
    route53 = aws.client("route53", PRIMARY_REGION)
    zone = route53.create_hosted_zone(Name=HOSTED_ZONE, CallerReference="medcircle-hardened")["HostedZone"]["Id"]
    summary.add("hosted_zones", HOSTED_ZONE, zone)
    check = route53.create_health_check(
        CallerReference="medcircle-primary-health",
        HealthCheckConfig={
            "Type": "HTTPS",
            "FullyQualifiedDomainName": albs[PRIMARY_REGION]["DNSName"],
            "Port": 443,
            "ResourcePath": "/health",
            "RequestInterval": 30,
            "FailureThreshold": 3,
            "EnableSNI": True,
        },
    )["HealthCheck"]["Id"]
    route53.change_tags_for_resource(
        ResourceType="healthcheck", ResourceId=check, AddTags=[{"Key": "Name", "Value": "medcircle-primary-health"}]
    )
    summary.add("health_checks", "medcircle-primary-health", check)

    def record(region, role, health_check=None):
        alb = albs[region]
        record_set = {
            "Name": APP_RECORD,
            "Type": "A",
            # the set identifiers the DR runbooks switch (the primary site's set and the DR site's)
            "SetIdentifier": "primary" if region == PRIMARY_REGION else "dr",
            "Failover": role,
            "AliasTarget": {
                "HostedZoneId": alb["CanonicalHostedZoneId"],
                "DNSName": alb["DNSName"],
                "EvaluateTargetHealth": True,
            },
        }
        if health_check:
            record_set["HealthCheckId"] = health_check
        return {"Action": "CREATE", "ResourceRecordSet": record_set}

    route53.change_resource_record_sets(
        HostedZoneId=zone,
        ChangeBatch={"Changes": [record(PRIMARY_REGION, "PRIMARY", check), record(DR_REGION, "SECONDARY")]},
    )
