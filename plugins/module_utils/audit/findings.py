# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The 42 findings of the security assessment, as data.

Ids, titles, severities and assessments are those of the risk register
(a unit test keeps them identical). Each finding adds:

- ``categories``: the assessments, normalised to five names used in reports;
- ``prowler_checks``: Prowler 5 check ids that detect the same weakness;
- ``hipaa``: the 45 CFR Part 164 (HIPAA Security Rule) references;
- ``remediation``: the playbook and role of this collection that close it,
  or ``manual`` with what a person must do;
- ``next_step``: one plain sentence for IT support.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

SEVERITIES = ("critical", "high", "medium", "low", "informational")
STATUSES = ("pass", "fail", "manual", "not_applicable", "error")

CATEGORIES = (
    "Vulnerability Assessment",
    "Virtual Machine Vulnerability Assessment",
    "Data Security Assessment",
    "Network Security Assessment",
    "Disaster Recovery Assessment",
)

# HIPAA Security Rule references used below.
H_RISK = "164.308(a)(1)(ii)(B)"
H_MALWARE = "164.308(a)(5)(ii)(B)"
H_LOGIN = "164.308(a)(5)(ii)(C)"
H_PWMGMT = "164.308(a)(5)(ii)(D)"
H_BACKUP = "164.308(a)(7)(ii)(A)"
H_DR = "164.308(a)(7)(ii)(B)"
H_TESTING = "164.308(a)(7)(ii)(D)"
H_ACCESS = "164.312(a)(1)"
H_ENCRYPT = "164.312(a)(2)(iv)"
H_AUDIT = "164.312(b)"
H_INTEGRITY = "164.312(c)(1)"
H_AUTH = "164.312(d)"
H_TRANSMIT = "164.312(e)(1)"
H_TRANSMIT_ENC = "164.312(e)(2)(ii)"
H_DOCS = "164.316(b)(2)(i)"

REMEDIATE = "playbooks/remediate.yml"
REMEDIATE_FLEET = "playbooks/remediate/fleet.yml"
REMEDIATE_DR = "playbooks/remediate/dr.yml"


def _auto(role, playbook=REMEDIATE, module=None):
    """An automated remediation: the playbook to run and what in it does the work, a role of the
    collection or, where the playbook calls a module itself, that module."""
    return {"type": "automated", "playbook": playbook, "role": role, "module": module, "manual": None}


def _manual(text):
    return {"type": "manual", "playbook": None, "role": None, "module": None, "manual": text}


def describe_remediation(rem):
    """One line for a report: ``playbooks/x.yml (role y)``, ``(module z)`` or ``manual: ...``."""
    rem = rem or {}
    if rem.get("type") != "automated":
        return "manual: %s" % rem.get("manual")
    if rem.get("role"):
        return "%s (role %s)" % (rem.get("playbook"), rem["role"])
    return "%s (module %s)" % (rem.get("playbook"), rem.get("module"))


def normalise_category(name):
    """Map an assessment name as the register spells it to one of CATEGORIES."""
    low = name.lower()
    if "virtual machine" in low:
        return CATEGORIES[1]
    if "data security" in low:
        return CATEGORIES[2]
    if "network" in low:
        return CATEGORIES[3]
    if "disaster" in low:
        return CATEGORIES[4]
    return CATEGORIES[0]


_VA = "Vulnerability Assessment"
_VMVA = "Virtual Machine Vulnerability Assessment"
_DSA = "Data Security Assessment"
_NSA = "Network Security Assessment"
_DRA = "Disaster Recovery Assessment"

# 4.2's next step has a part for databases and one for servers; the audit names the part that applies.
SEGMENTATION_DATABASES = (
    "Databases: run playbooks/remediate.yml --tags rds (role rds_protection turns their public access off; "
    "clients inside the VPC keep the same endpoint)."
)
SEGMENTATION_SERVERS = (
    "Servers cannot change subnet: replace each listed one with the fleet's Auto Scaling group in private subnets "
    "behind the load balancer (playbooks/provision_fleet.yml, role ec2_fleet), reach it through Session Manager, "
    "then retire it."
)

# One entry per finding, in register order. "assessments" are spelled as in
# the risk register.
_FINDINGS = [
    {
        "id": "1.1",
        "title": "MFA: Not found for any users in the infrastructure",
        "severity": "critical",
        "assessments": [
            "Vulnerability Assessment",
            "Virtual Machine vulnerability Assessment",
            "Data security Assessment",
        ],
        "prowler_checks": ["iam_user_mfa_enabled_console_access", "iam_root_mfa_enabled"],
        "hipaa": [H_LOGIN, H_PWMGMT, H_AUTH],
        "remediation": _manual(
            "Each IAM user with a console password enrols an MFA device (IAM console > Users > Security "
            "credentials > Assign MFA device); privileged users first. The enforcement is automated: "
            "playbooks/remediate/identity.yml --tags mfa_enforcement (role mfa_enforcement) puts every console "
            "user in the group medcircle-mfa-required, whose policy MedCircleRequireMFA denies every action but "
            "setting up MFA without aws:MultiFactorAuthPresent; console users with an active access key are held "
            "back and listed until their automation moves to a role."
        ),
        "next_step": "Ask every listed user to set up MFA today, starting with administrators, then re-run the audit.",
    },
    {
        "id": "1.2",
        "title": "IAM roles: Envisaged with Overly Permissive policies",
        "severity": "critical",
        "assessments": ["Vulnerability Assessment", "Data Security Assessment"],
        "prowler_checks": [
            "iam_aws_attached_policy_no_administrative_privileges",
            "iam_customer_attached_policy_no_administrative_privileges",
            "iam_inline_policy_no_administrative_privileges",
        ],
        "hipaa": [H_ACCESS],
        "remediation": _manual(
            "Give each job its own least-privilege policy (admin, developer, finance read-only, application "
            "role); replace full-administrator grants; check them with the IAM Policy Simulator."
        ),
        "next_step": "Run playbooks/access_review.yml (read-only) for what each listed identity really used and a "
        "narrower policy per identity; send that report to the security lead to agree least-privilege policies "
        "per job; do not remove access before they confirm.",
    },
    {
        "id": "1.3",
        "title": "IAM roles: No role assigned to any EC2 instance",
        "severity": "high",
        "assessments": ["Vulnerability Assessment", "Network security Assessment"],
        "prowler_checks": ["ec2_instance_profile_attached"],
        "hipaa": [H_ACCESS],
        "remediation": _auto("instance_role"),
        "next_step": "Run playbooks/remediate.yml (role instance_role) to attach the least-privilege instance profile.",
    },
    {
        "id": "1.4",
        "title": "Root volume: Not encrypted",
        "severity": "critical",
        "assessments": ["Vulnerability Assessment", "Data security Assessment"],
        "prowler_checks": ["ec2_ebs_volume_encryption", "ec2_ebs_default_encryption"],
        "hipaa": [H_ENCRYPT],
        "remediation": _auto("ebs_encryption"),
        "next_step": "Schedule a short outage and run playbooks/remediate.yml (role ebs_encryption); the original "
        "volume is kept until the encrypted copy is verified.",
    },
    {
        "id": "1.5",
        "title": "RDS: Not encrypted",
        "severity": "medium",
        "assessments": ["Vulnerability Assessment", "Data security Assessment"],
        "prowler_checks": ["rds_instance_storage_encrypted"],
        "hipaa": [H_ENCRYPT],
        "remediation": _auto("rds_protection"),
        "next_step": "Plan a maintenance window and run playbooks/remediate.yml (role rds_protection), which moves "
        "the database to encrypted storage through an encrypted snapshot copy.",
    },
    {
        "id": "1.6",
        "title": "S3 bucket: KMS key encryption not enabled",
        "severity": "high",
        "assessments": ["Vulnerability Assessment", "Data security Assessment"],
        "prowler_checks": ["s3_bucket_kms_encryption"],
        "hipaa": [H_ENCRYPT],
        "remediation": _auto("s3_protection"),
        "next_step": "Run playbooks/remediate.yml to set SSE-KMS default encryption on the listed buckets.",
    },
    {
        "id": "1.7",
        "title": "IMDSv2: Is set as optional in the EC2 instance",
        "severity": "high",
        "assessments": ["Vulnerability Assessment", "Data security Assessment"],
        "prowler_checks": ["ec2_instance_imdsv2_enabled", "ec2_instance_account_imdsv2_enabled"],
        "hipaa": [H_AUTH],
        "remediation": _auto(None, REMEDIATE_FLEET, "ec2_instance_hardening"),
        "next_step": (
            "Run playbooks/remediate/fleet.yml (or all of playbooks/remediate.yml) to require IMDSv2 tokens "
            "on the running instances; no restart is needed. It also makes IMDSv2 the account default for "
            "new instances in the primary and DR regions."
        ),
    },
    {
        "id": "2.1",
        "title": "IAM policies: Overly permissive, include full read/write access",
        "severity": "critical",
        "assessments": ["Data Security Assessment", "Vulnerability Assessment"],
        "prowler_checks": [
            "iam_customer_attached_policy_no_administrative_privileges",
            "iam_inline_policy_no_administrative_privileges",
            "iam_policy_no_full_access_to_kms",
            "iam_policy_no_full_access_to_cloudtrail",
        ],
        "hipaa": [H_ACCESS],
        "remediation": _manual(
            'Replace wildcard actions ("*", "service:*") and wildcard resources with the actions and '
            "resources each job needs; review with the data owners."
        ),
        "next_step": "Run playbooks/access_review.yml (read-only) for the actions the listed policies' users really "
        "used and a narrower policy for each; give it with the listed statements to the security lead, who decides "
        "the narrower actions and resources before anyone edits the policies.",
    },
    {
        "id": "2.2",
        "title": "MedCircle Database: No Regular Backup arrangement",
        "severity": "high",
        "assessments": ["Data Security Assessment", "Vulnerability Assessment", "Disaster Recovery assessment"],
        "prowler_checks": ["rds_instance_backup_enabled", "backup_plans_exist"],
        "hipaa": [H_BACKUP],
        "remediation": _auto("backup"),
        "next_step": "Run playbooks/remediate.yml (role backup) to put the database under a scheduled AWS Backup plan.",
    },
    {
        "id": "2.3",
        "title": "Multi-region strategy: Not implemented",
        "severity": "critical",
        "assessments": ["Data Security Assessment", "Disaster Recovery Assessment"],
        "prowler_checks": ["s3_bucket_cross_region_replication"],
        "hipaa": [H_DR],
        "remediation": _auto("rds_protection"),
        "next_step": "Run playbooks/remediate.yml: role rds_protection makes an encrypted read replica of each listed "
        "database in the DR region, role backup copies its backups there and role s3_protection replicates the listed "
        "buckets (playbooks/remediate/rds.yml, backups.yml and storage.yml run one part each).",
    },
    {
        "id": "2.4",
        "title": "S3 Bucket versioning: Not turned on",
        "severity": "critical",
        "assessments": ["Data Security Assessment", "Disaster Recovery Assessment"],
        "prowler_checks": ["s3_bucket_object_versioning"],
        "hipaa": [H_BACKUP, H_INTEGRITY],
        "remediation": _auto("s3_protection"),
        "next_step": "Run playbooks/remediate.yml to turn on versioning for the listed buckets.",
    },
    {
        "id": "2.5",
        "title": "S3 Bucket: Only have default encryption",
        "severity": "high",
        "assessments": ["Data Security Assessment", "Vulnerability Assessment"],
        "prowler_checks": ["s3_bucket_kms_encryption", "s3_bucket_default_encryption"],
        "hipaa": [H_ENCRYPT],
        "remediation": _auto("s3_protection"),
        "next_step": "Run playbooks/remediate.yml (role kms_keys, then the bucket settings) so the buckets use the "
        "customer-managed KMS key.",
    },
    {
        "id": "2.6",
        "title": "S3 Bucket: Object lock not enabled",
        "severity": "medium",
        "assessments": ["Data Security Assessment"],
        "prowler_checks": ["s3_bucket_object_lock"],
        "hipaa": [H_INTEGRITY],
        "remediation": _auto("s3_protection"),
        "next_step": "Run playbooks/remediate.yml to enable Object Lock (governance mode) on the listed buckets.",
    },
    {
        "id": "2.7",
        "title": "S3 Bucket: Server access logging disabled",
        "severity": "medium",
        "assessments": ["Data Security Assessment"],
        "prowler_checks": ["s3_bucket_server_access_logging_enabled"],
        "hipaa": [H_AUDIT],
        "remediation": _auto("s3_protection"),
        "next_step": "Run playbooks/remediate.yml to send server access logs of the listed buckets to the log bucket.",
    },
    {
        "id": "2.8",
        "title": "S3 Bucket: Allows cleartext communication",
        "severity": "medium",
        "assessments": ["Data Security Assessment"],
        "prowler_checks": ["s3_bucket_secure_transport_policy"],
        "hipaa": [H_TRANSMIT, H_TRANSMIT_ENC],
        "remediation": _auto("s3_protection"),
        "next_step": "Run playbooks/remediate.yml to add the deny-without-TLS statement to the bucket policies "
        "(existing statements are kept).",
    },
    {
        "id": "2.9",
        "title": "S3 Bucket: Bucket access logging not enabled",
        "severity": "high",
        "assessments": ["Data Security Assessment"],
        "prowler_checks": ["cloudtrail_s3_dataevents_read_enabled", "cloudtrail_s3_dataevents_write_enabled"],
        "hipaa": [H_AUDIT],
        "remediation": _auto("monitoring"),
        "next_step": "Run playbooks/remediate.yml to record S3 object-level (data) events in CloudTrail for the "
        "listed buckets.",
    },
    {
        "id": "2.10",
        "title": "EC2 instances: No implementation of automatic snapshot creation at regular intervals",
        "severity": "high",
        "assessments": ["Data Security Assessment", "Disaster Recovery assessment"],
        "prowler_checks": ["dlm_ebs_snapshot_lifecycle_policy_exists"],
        "hipaa": [H_BACKUP],
        "remediation": _auto("dlm_snapshots"),
        "next_step": "Run playbooks/remediate.yml (role dlm_snapshots) to schedule snapshots of the listed "
        "instances' volumes.",
    },
    {
        "id": "2.11",
        "title": "Security events: No real-time monitoring mechanism in place",
        "severity": "high",
        "assessments": ["Data Security Assessment", "Network security assessment"],
        "prowler_checks": [
            "cloudtrail_multi_region_enabled",
            "guardduty_is_enabled",
            "cloudwatch_log_metric_filter_unauthorized_api_calls",
        ],
        "hipaa": [H_LOGIN, H_AUDIT],
        "remediation": _auto("monitoring"),
        "next_step": "Run playbooks/remediate.yml to turn on a multi-region CloudTrail, GuardDuty in every region "
        "and the security alarms.",
    },
    {
        "id": "2.12",
        "title": "RDS instance: No monitoring mechanism",
        "severity": "high",
        "assessments": ["Data Security Assessment", "vulnerability assessment"],
        "prowler_checks": ["rds_instance_enhanced_monitoring_enabled"],
        "hipaa": [H_AUDIT],
        "remediation": _auto("rds_protection"),
        "next_step": "Run playbooks/remediate.yml (role rds_protection) to turn on enhanced monitoring and the "
        "database alarms.",
    },
    {
        "id": "2.13",
        "title": "RDS database: No failover mechanism envisaged",
        "severity": "critical",
        "assessments": ["Data Security Assessment", "Disaster recovery assessment"],
        "prowler_checks": ["rds_instance_multi_az"],
        "hipaa": [H_DR],
        "remediation": _auto("rds_protection"),
        "next_step": "Run playbooks/remediate.yml (role rds_protection) to make the database Multi-AZ; the same "
        "role makes its encrypted read replica in the DR region.",
    },
    {
        "id": "2.14",
        "title": "RDS instance: Data encryption in transit and at rest not implemented",
        "severity": "high",
        "assessments": ["Data Security Assessment"],
        "prowler_checks": ["rds_instance_storage_encrypted", "rds_instance_transport_encrypted"],
        "hipaa": [H_ENCRYPT, H_TRANSMIT, H_TRANSMIT_ENC],
        "remediation": _auto("rds_protection"),
        "next_step": "Run playbooks/remediate.yml (role rds_protection) to encrypt the storage and require TLS in "
        "the parameter group.",
    },
    {
        "id": "3.1",
        "title": "VM: Weak authentication requirements",
        "severity": "high",
        "assessments": ["Virtual Machine Vulnerability Assessment", "Vulnerability Assessment"],
        "prowler_checks": [
            "iam_password_policy_minimum_length_14",
            "iam_password_policy_uppercase",
            "iam_password_policy_lowercase",
            "iam_password_policy_number",
            "iam_password_policy_symbol",
            "iam_password_policy_reuse_24",
        ],
        "hipaa": [H_PWMGMT, H_AUTH],
        "remediation": _auto(None, "playbooks/remediate/identity.yml", module="iam_password_policy"),
        "next_step": "Run playbooks/remediate.yml (or playbooks/remediate/identity.yml alone): it sets the strong "
        "account password policy; playbooks/host_baseline.yml (role host_baseline) turns off SSH password log-ins "
        "on the hosts.",
    },
    {
        "id": "3.2",
        "title": "VM: Database credentials too short",
        "severity": "high",
        "assessments": ["Virtual Machine Vulnerability Assessment"],
        "prowler_checks": [],
        "hipaa": [H_PWMGMT],
        "remediation": _auto("rds_protection"),
        "next_step": "Run playbooks/remediate.yml (role rds_protection) so Secrets Manager generates, keeps and "
        "rotates the database master password.",
    },
    {
        "id": "3.3",
        "title": "VM: Inbound and outbound rules source and destination is set to 0.0.0.0/0",
        "severity": "critical",
        "assessments": ["Virtual Machine Vulnerability Assessment"],
        "prowler_checks": [
            "ec2_securitygroup_allow_ingress_from_internet_to_all_ports",
            "ec2_securitygroup_allow_ingress_from_internet_to_any_port",
            "ec2_securitygroup_allow_wide_open_public_ipv4",
        ],
        "hipaa": [H_ACCESS],
        "remediation": _auto("security_groups"),
        "next_step": "Run playbooks/remediate.yml (role security_groups) to replace 0.0.0.0/0 and ::/0 rules with "
        "the allowed ranges.",
    },
    {
        "id": "3.4",
        "title": "VM: EBS volumes are not encrypted",
        "severity": "high",
        "assessments": ["Virtual Machine Vulnerability Assessment"],
        "prowler_checks": ["ec2_ebs_volume_encryption", "ec2_ebs_default_encryption"],
        "hipaa": [H_ENCRYPT],
        "remediation": _auto("ebs_encryption"),
        "next_step": "Run playbooks/remediate.yml (role ebs_encryption) to turn on EBS encryption by default and "
        "encrypt the listed volumes.",
    },
    {
        "id": "3.5",
        "title": "VM: Patch management not implemented",
        "severity": "high",
        "assessments": ["Virtual Machine Vulnerability Assessment"],
        "prowler_checks": ["ec2_instance_managed_by_ssm"],
        "hipaa": [H_MALWARE],
        "remediation": _auto("ssm_patching"),
        "next_step": "Run playbooks/remediate.yml (roles instance_role and ssm_patching) so every instance is "
        "managed by Systems Manager and has a patch window.",
    },
    {
        "id": "3.6",
        "title": "VM: Unused security group found",
        "severity": "high",
        "assessments": ["Virtual Machine Vulnerability Assessment"],
        "prowler_checks": ["ec2_securitygroup_not_used"],
        "hipaa": [H_RISK],
        "remediation": _auto("security_groups"),
        "next_step": "Confirm with the application owner that the listed groups are not needed, then run "
        "playbooks/remediate.yml (role security_groups) naming them for removal.",
    },
    {
        "id": "3.7",
        "title": "VM: Not using the latest linux version",
        "severity": "high",
        "assessments": ["Virtual Machine Vulnerability Assessment"],
        "prowler_checks": [],
        "hipaa": [H_MALWARE],
        "remediation": _auto("linux_upgrade", "playbooks/linux_upgrade.yml"),
        "next_step": "Run playbooks/linux_upgrade.yml -e linux_upgrade_mode=image to move the Auto Scaling group to "
        "the latest Amazon Linux 2023 image; move standalone instances under the group with "
        "playbooks/provision_fleet.yml (the end-of-life report lists them).",
    },
    {
        "id": "3.8",
        "title": "VM: Missing security patches",
        "severity": "high",
        "assessments": ["Virtual Machine Vulnerability Assessment"],
        "prowler_checks": ["ssm_managed_compliant_patching"],
        "hipaa": [H_MALWARE],
        "remediation": _auto("patch_window", "playbooks/patch_window.yml"),
        "next_step": "Run playbooks/patch_window.yml in the next patch window; it snapshots first and reports "
        "per instance.",
    },
    {
        "id": "4.1",
        "title": "VPCs: Multi-region strategy not implemented",
        "severity": "high",
        "assessments": ["Network security Assessment"],
        "prowler_checks": ["vpc_different_regions"],
        "hipaa": [H_DR],
        "remediation": _auto("dr_site", REMEDIATE_DR),
        "next_step": "Run playbooks/remediate/dr.yml (also part of playbooks/remediate.yml; role dr_site) to build the "
        "network of the alternate site in the DR region: VPC, subnets in two zones, private route tables and "
        "security groups.",
    },
    {
        "id": "4.2",
        "title": "Network segmentation : Poor",
        "severity": "high",
        "assessments": ["Network security Assessment"],
        "prowler_checks": [
            "ec2_instance_public_ip",
            "rds_instance_no_public_access",
            "vpc_subnet_separate_private_public",
        ],
        "hipaa": [H_ACCESS],
        "remediation": _auto("rds_protection"),
        "next_step": SEGMENTATION_DATABASES + " " + SEGMENTATION_SERVERS,
    },
    {
        "id": "4.3",
        "title": "Security Group Configuration: Poor",
        "severity": "high",
        "assessments": ["Network security Assessment"],
        "prowler_checks": [
            "ec2_securitygroup_allow_ingress_from_internet_to_tcp_port_22",
            "ec2_securitygroup_allow_ingress_from_internet_to_tcp_port_mysql_3306",
            "ec2_securitygroup_allow_ingress_from_internet_to_tcp_port_3389",
        ],
        "hipaa": [H_ACCESS],
        "remediation": _auto("security_groups"),
        "next_step": "Run playbooks/remediate.yml (role security_groups); use Session Manager instead of open SSH "
        "or RDP.",
    },
    {
        "id": "4.4",
        "title": "Web ACLs: Not found",
        "severity": "high",
        "assessments": ["Network security Assessment"],
        "prowler_checks": ["wafv2_webacl_logging_enabled"],
        "hipaa": [H_ACCESS],
        "remediation": _auto("network_protection"),
        "next_step": "Run playbooks/remediate.yml to create the AWS WAF web ACL for the application.",
    },
    {
        "id": "4.5",
        "title": "Firewall Policies: Not found",
        "severity": "high",
        "assessments": ["Network security Assessment"],
        "prowler_checks": ["networkfirewall_in_all_vpc"],
        "hipaa": [H_ACCESS],
        "remediation": _auto("network_protection"),
        "next_step": "Run playbooks/remediate.yml to deploy AWS Network Firewall with its policy in the listed VPCs.",
    },
    {
        "id": "4.6",
        "title": "Subnet flow logs: Not configured",
        "severity": "high",
        "assessments": ["Network security Assessment"],
        "prowler_checks": ["vpc_flow_logs_enabled"],
        "hipaa": [H_AUDIT],
        "remediation": _auto("network_protection"),
        "next_step": "Run playbooks/remediate.yml to turn on VPC flow logs for the listed VPCs.",
    },
    {
        "id": "4.7",
        "title": "Route 53 resolver DNS firewall rule groups not configured",
        "severity": "high",
        "assessments": ["Network security Assessment"],
        "prowler_checks": [],
        "hipaa": [H_ACCESS],
        "remediation": _auto("network_protection"),
        "next_step": "Run playbooks/remediate.yml to associate a Route 53 Resolver DNS Firewall rule group with the "
        "listed VPCs.",
    },
    {
        "id": "5.1",
        "title": "Back-up retention period not enough",
        "severity": "high",
        "assessments": ["Disaster Recovery Assessment"],
        "prowler_checks": ["rds_instance_backup_enabled"],
        "hipaa": [H_BACKUP],
        "remediation": _auto("backup"),
        "next_step": "Run playbooks/remediate.yml (roles rds_protection and backup) to raise the backup retention.",
    },
    {
        "id": "5.2",
        "title": "Cloud Formation Template: Termination protection not enabled",
        "severity": "medium",
        "assessments": ["Disaster Recovery Assessment"],
        "prowler_checks": ["cloudformation_stacks_termination_protection_enabled"],
        "hipaa": [H_INTEGRITY],
        "remediation": _auto("stack_protection"),
        "next_step": "Run playbooks/remediate.yml to turn on termination protection for the listed stacks.",
    },
    {
        "id": "5.3",
        "title": "RDS instance : Multiple availability zones not configured",
        "severity": "high",
        "assessments": ["Disaster Recovery Assessment"],
        "prowler_checks": ["rds_instance_multi_az"],
        "hipaa": [H_DR],
        "remediation": _auto("rds_protection"),
        "next_step": "Run playbooks/remediate.yml (role rds_protection) to turn on Multi-AZ in a maintenance window.",
    },
    {
        "id": "5.4",
        "title": "RDS instance: Deletion protection not enabled",
        "severity": "high",
        "assessments": ["Disaster Recovery Assessment"],
        "prowler_checks": ["rds_instance_deletion_protection"],
        "hipaa": [H_INTEGRITY],
        "remediation": _auto("rds_protection"),
        "next_step": "Run playbooks/remediate.yml (role rds_protection) to turn on deletion protection.",
    },
    {
        "id": "5.5",
        "title": "EC2 instance: Auto scaling and deletion protection not enabled",
        "severity": "medium",
        "assessments": ["Disaster Recovery Assessment"],
        "prowler_checks": [],
        "hipaa": [H_INTEGRITY],
        "remediation": _auto(None, REMEDIATE_FLEET, "ec2_instance_hardening"),
        "next_step": "Run playbooks/remediate/fleet.yml (or all of playbooks/remediate.yml) to turn on termination "
        "protection on instances outside Auto Scaling groups; new servers belong in the fleet's Auto Scaling "
        "group (playbooks/provision_fleet.yml).",
    },
    {
        "id": "5.6",
        "title": "Disaster Recovery plan: Not found",
        "severity": "high",
        "assessments": ["Disaster Recovery Assessment"],
        "prowler_checks": [],
        "hipaa": [H_DR, H_TESTING, H_DOCS],
        "remediation": _auto("dr_drill", "playbooks/dr_drill.yml"),
        "next_step": "Run playbooks/remediate/dr.yml (role dr_plan) to write the DR plan document from the inventory's "
        "plan, then playbooks/dr_drill.yml; the drill records its outcome for this check.",
    },
]

for _f in _FINDINGS:
    _f["categories"] = sorted({normalise_category(a) for a in _f["assessments"]}, key=CATEGORIES.index)

FINDING_IDS = tuple(f["id"] for f in _FINDINGS)
_BY_ID = {f["id"]: f for f in _FINDINGS}


def all_findings():
    """Every finding's metadata, in register order (copies)."""
    return copy.deepcopy(_FINDINGS)


def get_finding(finding_id):
    """One finding's metadata (a copy); KeyError for an unknown id."""
    return copy.deepcopy(_BY_ID[str(finding_id)])


def sort_key(finding_id):
    """Order ids numerically: 2.9 before 2.10."""
    return tuple(int(p) for p in str(finding_id).split("."))


def severity_rank(severity):
    """0 for critical, 1 for high, ... (unknown severities last)."""
    try:
        return SEVERITIES.index(severity)
    except ValueError:
        return len(SEVERITIES)
