"""Bad input to network protection, monitoring, the DR drill and plan, backup, patching, EBS encryption and the
audit is refused before any call, and the message names only the values that are wrong, each with its value and
what is allowed, ending "Nothing was changed." ("Nothing was read." for the audit). IT support reads it to fix
the inventory: it must not have to find the one wrong value among every rule. Each case runs the real playbook;
the sandbox's request log proves nothing was sent.
"""

import pytest
from playbook import run_playbook

NETWORK = "playbooks/remediate/network_protection.yml"
MONITORING = "playbooks/remediate/monitoring.yml"
DRILL = "playbooks/dr_drill.yml"
BACKUPS = "playbooks/backups.yml"
PATCHING = "playbooks/remediate/patching.yml"
ENCRYPTION = "playbooks/remediate/encryption.yml"
AUDIT = "playbooks/audit.yml"
DR_PLAN = "playbooks/dr_plan.yml"
DONE = ". Nothing was changed."

CASES = {
    "network: a region typo and a subnet given as a VPC": (
        NETWORK,
        {
            "network_protection_regions": ["us-east-1", "useast2"],
            "network_protection_vpc_ids": {"us-east-1": ["subnet-1"]},
        },
        "network_protection_regions: useast2 is not an AWS region name such as us-east-1;"
        " network_protection_vpc_ids: subnet-1 is not a VPC id (vpc-...)" + DONE,
    ),
    "network: regions given as text": (
        NETWORK,
        {"network_protection_regions": "us-east-1"},
        'network_protection_regions "us-east-1" must be a non-empty list of region names such as'
        ' ["us-east-1", "us-west-2"]' + DONE,
    ),
    "network: a rule group twice, one unknown, a rate limit too low": (
        NETWORK,
        {
            "network_protection_waf_managed_rule_groups": [
                "AWSManagedRulesCommonRuleSet",
                "CommonRuleSet",
                "AWSManagedRulesCommonRuleSet",
            ],
            "network_protection_waf_rate_limit": 5,
        },
        "network_protection_waf_managed_rule_groups: CommonRuleSet is not an AWS managed rule group name"
        " (AWSManagedRules..., at most 100 characters); network_protection_waf_managed_rule_groups lists"
        " AWSManagedRulesCommonRuleSet more than once; network_protection_waf_rate_limit 5 must be 10 to 2000000000"
        " (requests in 5 minutes from one IP address)" + DONE,
    ),
    "network: firewall capacity and subnet tags": (
        NETWORK,
        {
            "network_protection_network_firewall_enabled": True,
            "network_protection_network_firewall_rule_group_capacity": 0,
            "network_protection_network_firewall_subnet_tags": "Tier=firewall",
        },
        "network_protection_network_firewall_rule_group_capacity 0 must be 1 to 30000;"
        ' network_protection_network_firewall_subnet_tags "Tier=firewall" must be a mapping of tag name to value,'
        ' such as {"Tier": "firewall"}' + DONE,
    ),
    "network: DNS firewall priority and response": (
        NETWORK,
        {
            "network_protection_dns_firewall_association_priority": 100,
            "network_protection_dns_firewall_block_response": "DROP",
        },
        'network_protection_dns_firewall_block_response "DROP" must be NXDOMAIN or NODATA;'
        " network_protection_dns_firewall_association_priority 100 must be 101 to 9900" + DONE,
    ),
    "monitoring: GuardDuty frequency, an address and an alarm without pattern": (
        MONITORING,
        {
            "monitoring_guardduty_frequency": "DAILY",
            "monitoring_alarm_emails": ["oncall@example.com", "oncall"],
            "monitoring_alarms": [{"name": "root-login"}],
        },
        'monitoring_guardduty_frequency "DAILY" must be FIFTEEN_MINUTES, ONE_HOUR or SIX_HOURS;'
        " monitoring_alarm_emails: oncall is not an e-mail address; monitoring_alarms: root-login needs both name and"
        " pattern (description is optional)" + DONE,
    ),
    "monitoring: an AWS-managed key": (
        MONITORING,
        {"monitoring_kms_key_alias": "alias/aws/s3"},
        'monitoring_kms_key_alias "alias/aws/s3" must be a customer-managed key alias such as alias/medcircle-logs'
        " (not alias/aws/...)" + DONE,
    ),
    "drill: parallel 0 and an id with capitals": (
        DRILL,
        {"dr_drill_parallel": 0, "dr_drill_id": "Drill-1"},
        'dr_drill_id "Drill-1" must be empty (the drill names itself) or 3-40 lowercase letters, digits and -,'
        " starting with a letter or digit; dr_drill_parallel 0 must be 1 or more" + DONE,
    ),
    "backup: vault lock changeable for 2 days": (
        BACKUPS,
        {"backup_vault_lock_changeable_for_days": 2},
        "backup_vault_lock_changeable_for_days 2 must be 0 (governance mode) or 3 or more (compliance mode, permanent"
        " after that many days)" + DONE,
    ),
    "backup: a database restore test without its test instance": (
        BACKUPS,
        {"backup_restore_test_resources": [{"resource_arn": "arn:aws:rds:us-east-1:123456789012:db:medcircledb"}]},
        "backup_restore_test_resources: arn:aws:rds:us-east-1:123456789012:db:medcircledb needs restore_name (the test"
        " instance the restore makes; the original is never touched)" + DONE,
    ),
    "backup: restore testing selections": (
        BACKUPS,
        {
            "backup_restore_testing_enabled": True,
            "backup_restore_testing_selections": [
                {"name": "volumes", "protected_resource_type": "EBS"},
                {"name": "data bases"},
            ],
        },
        'backup_restore_testing_selections entry 2: its name "data bases" must be 1-50 letters, digits or _ and it'
        " needs protected_resource_type (EBS, RDS, ...)" + DONE,
    ),
    "backup: a rule below the floor, with cold storage too soon": (
        BACKUPS,
        {
            "backup_vault_lock_enabled": False,
            "backup_rules": [
                {"name": "daily", "schedule": "cron(0 5 ? * * *)", "delete_after_days": 35},
                {
                    "name": "archive",
                    "schedule": "cron(0 5 ? * * *)",
                    "delete_after_days": 30,
                    "cold_storage_after_days": 7,
                },
            ],
        },
        "backup_rules: rule archive is refused: delete_after_days 30 must be at least backup_retention_floor_days (35);"
        " delete_after_days 30 must be at least 90 days more than cold_storage_after_days (7), as AWS requires" + DONE,
    ),
    "patching: a window for an unknown patch group and two for one group": (
        PATCHING,
        {
            "ssm_patching_windows": [
                {
                    "patch_group": "web",
                    "schedule": "cron(0 3 ? * SUN *)",
                    "duration": 3,
                    "max_concurrency": 1,
                    "max_errors": 1,
                },
                {
                    "patch_group": "dev",
                    "schedule": "cron(0 3 ? * SUN *)",
                    "duration": 3,
                    "max_concurrency": 1,
                    "max_errors": 1,
                },
                {
                    "patch_group": "dev",
                    "schedule": "cron(0 4 ? * SUN *)",
                    "duration": 3,
                    "max_concurrency": 1,
                    "max_errors": 1,
                },
            ]
        },
        'ssm_patching_windows has a window for "web", which is not in ssm_patching_patch_groups (dev, staging, prod);'
        " ssm_patching_windows has more than one window for dev (one window per patch group)" + DONE,
    ),
    "patching: windows for two unknown patch groups": (
        PATCHING,
        {
            "ssm_patching_windows": [
                {
                    "patch_group": group,
                    "schedule": "cron(0 3 ? * SUN *)",
                    "duration": 3,
                    "max_concurrency": 1,
                    "max_errors": 1,
                }
                for group in ("web", "api", "dev")
            ]
        },
        'ssm_patching_windows has windows for "web" and "api", which are not in ssm_patching_patch_groups'
        " (dev, staging, prod)" + DONE,
    ),
    "encryption: a volume id among the instance ids": (
        ENCRYPTION,
        {"ebs_encryption_instance_ids": ["i-0123456789abcdef0", "vol-0123456789abcdef0"]},
        "ebs_encryption_instance_ids: vol-0123456789abcdef0 is not an instance id (i-0123456789abcdef0)" + DONE,
    ),
    "audit: a negative day count": (
        AUDIT,
        {"risk_audit_patch_max_age_days": -1},
        "risk_audit_patch_max_age_days -1 must be a whole number of days, 0 or more. Nothing was read.",
    ),
    "DR plan: a DR region that is no region name": (
        DR_PLAN,
        {"dr_plan_dr_region": "west"},
        'cloudops_dr_region (dr_plan_dr_region) "west" is not an AWS region name such as us-west-2' + DONE,
    ),
}


def messages(run):
    """The message of every failed task, or of every failed item of a looped one."""
    return [
        str(result.get("msg", ""))
        for _name, outcome in run.tasks()
        if outcome.get("failed")
        for result in outcome.get("results") or [outcome]
        if result.get("failed")
    ]


@pytest.mark.parametrize("case", sorted(CASES))
def test_only_the_wrong_values_are_named_before_any_call(quiet_sandbox, case):
    playbook, extra, expected = CASES[case]
    quiet_sandbox.clear_requests()
    run = run_playbook(quiet_sandbox, playbook, extra_vars=extra)
    assert run.returncode != 0, run.stdout[-2000:]
    assert messages(run) == [expected]
    assert quiet_sandbox.requests() == []
