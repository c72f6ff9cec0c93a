"""Every check of the risk audit, both ways, on synthetic two-region snapshots, plus edge cases."""

import json

import pytest
from ansible_collections.medcircle.cloudops.plugins.module_utils.audit import checks
from ansible_collections.medcircle.cloudops.plugins.module_utils.audit import findings as fmeta
from ansible_collections.medcircle.cloudops.plugins.module_utils.audit.collect import StaticSnapshot
from ansible_collections.medcircle.cloudops.plugins.module_utils.audit.findings import FINDING_IDS

from . import estate
from .estate import DR, NOW, P

REGIONS = [P, DR]

# What the weak estate must show per finding (all but the DR plan come from the API data).
WEAK_EXPECTED = dict.fromkeys(FINDING_IDS, "fail")
WEAK_EXPECTED["5.6"] = "fail"


def _ctx(tmp_path=None, **kw):
    options = {"now": NOW}
    if tmp_path is not None:
        plan = tmp_path / "dr-plan.md"
        plan.write_text(
            "Alternate site: DR region us-west-2. RTO 4h and RPO 1h per system. Roles and responsibilities. "
            "Communication plan with contacts. Backup schedules. Testing: quarterly drill."
        )
        drills = tmp_path / "drills.json"
        drills.write_text(json.dumps([{"finished_at": "2026-11-01T10:00:00Z", "result": "passed"}]))
        options.update(dr_plan_path=str(plan), dr_drill_history_path=str(drills))
    options.update(kw)
    return checks.AuditContext(**options)


def _snap(data, regions=None):
    return StaticSnapshot(regions or REGIONS, data)


def _run(fid, data, ctx=None, regions=None):
    return checks.run_check(fid, _snap(data, regions), ctx or _ctx())


@pytest.mark.parametrize("fid", FINDING_IDS)
def test_weak_estate_fails(fid):
    result = _run(fid, estate.weak())
    assert result["status"] == WEAK_EXPECTED[fid], result
    assert any(r["status"] == "fail" for r in result["resources"]), result
    for item in result["resources"]:
        assert item["observed"] and item["expected"] and item["region"]


@pytest.mark.parametrize("fid", FINDING_IDS)
def test_strong_estate_passes(fid, tmp_path):
    result = _run(fid, estate.strong(), _ctx(tmp_path))
    assert result["status"] == "pass", json.dumps(result, indent=1, default=str)
    assert result["next_step"] == "Nothing to do; keep it so."


def test_result_carries_metadata():
    result = _run("1.7", estate.weak())
    assert result["prowler_checks"] == ["ec2_instance_imdsv2_enabled", "ec2_instance_account_imdsv2_enabled"]
    assert result["hipaa"] == ["164.312(d)"]
    assert result["remediation"]["module"] == "ec2_instance_hardening"
    assert result["remediation"]["playbook"] == "playbooks/remediate/fleet.yml"
    res = next(r for r in result["resources"] if r["resource_id"] == "i-0app")
    assert res["observed"] == "HttpTokens: optional, HttpEndpoint: enabled"
    assert res["expected"] == "HttpTokens: required"
    assert res["resource_arn"] == "arn:aws:ec2:us-east-1:123456789012:instance/i-0app"


def test_account_imds_default_is_judged_per_region():
    """1.7 in depth: the account default for new instances, per region, beside the instances."""
    data = estate.strong()
    data[("ec2_imds_defaults", DR)] = {"HttpTokens": "optional", "HttpPutResponseHopLimit": 1}
    result = _run("1.7", data)
    by_id = {r["resource_id"]: r for r in result["resources"]}
    primary, dr = by_id[f"instance-metadata-defaults/{P}"], by_id[f"instance-metadata-defaults/{DR}"]
    assert primary["status"] == "pass" and primary["resource_type"] == "AwsAccount"
    assert primary["observed"] == "account default HttpTokens: required, HttpPutResponseHopLimit: 2"
    assert dr["status"] == "fail" and dr["observed"].startswith("account default HttpTokens: optional")
    assert result["status"] == "fail"
    # No default set (an account that never chose one) fails; a declarative policy is named.
    data[("ec2_imds_defaults", DR)] = {}
    dr = {r["resource_id"]: r for r in _run("1.7", data)["resources"]}[f"instance-metadata-defaults/{DR}"]
    assert dr["status"] == "fail" and "HttpTokens: no-preference" in dr["observed"]
    data[("ec2_imds_defaults", DR)] = {"HttpTokens": "required", "ManagedBy": "declarative-policy"}
    dr = {r["resource_id"]: r for r in _run("1.7", data)["resources"]}[f"instance-metadata-defaults/{DR}"]
    assert dr["status"] == "pass" and dr["observed"].endswith("managed by declarative-policy")


def test_instances_in_two_regions_each_reported():
    data = estate.weak()
    data[("ec2_instances", DR)] = [estate._instance("i-0dr", DR, MetadataOptions={"HttpTokens": "required"})]
    result = _run("1.7", data)
    by_id = {r["resource_id"]: r for r in result["resources"]}
    assert by_id["i-0app"]["region"] == P and by_id["i-0app"]["status"] == "fail"
    assert by_id["i-0dr"]["region"] == DR and by_id["i-0dr"]["status"] == "pass"
    assert result["status"] == "fail"


def test_ipv6_only_open_rule_fails_3_3_and_4_3():
    data = estate.strong()
    data[("ec2_security_groups", P)] = [
        estate._sg(
            "sg-app-1",
            "medcircle-app-sg",
            [{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [], "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}],
        )
    ]
    for fid in ("3.3", "4.3"):
        result = _run(fid, data)
        assert result["status"] == "fail"
        assert "::/0" in result["resources"][0]["observed"]


def test_public_https_only_on_internet_facing_group():
    data = estate.strong()
    https = [{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
    sg = estate._sg("sg-app-1", "medcircle-app-sg", https)
    data[("ec2_security_groups", P)] = [sg]
    assert _run("3.3", data)["status"] == "fail"  # not tagged as internet-facing
    sg["Tags"] = [{"Key": "Exposure", "Value": "internet"}]
    result = _run("3.3", data)
    assert result["status"] == "pass" and "internet-facing" in result["resources"][0]["observed"]
    assert _run("3.3", data, _ctx(public_ingress_ports=[]))["status"] == "fail"
    assert _run("4.3", data)["status"] == "pass"  # 443 is neither administration nor database


def test_log_bucket_is_not_judged_for_kms_or_its_own_logging():
    data = estate.strong()
    data["s3_buckets"].append({"Name": "logs", "BucketRegion": P})
    data.update(
        {
            ("s3_bucket", "global", ("encryption", "logs")): {
                "ServerSideEncryptionConfiguration": {
                    "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
                }
            },
            ("s3_bucket", "global", ("logging", "logs")): {},
            ("s3_bucket", "global", ("tagging", "logs")): None,
            ("s3_bucket", "global", ("policy", "logs")): {
                "Policy": json.dumps(
                    {
                        "Statement": [
                            estate.TLS_DENY,
                            {
                                "Effect": "Allow",
                                "Principal": {"Service": "logging.s3.amazonaws.com"},
                                "Action": "s3:PutObject",
                                "Resource": "arn:aws:s3:::logs/*",
                            },
                        ]
                    }
                )
            },
        }
    )
    for fid in ("1.6", "2.5", "2.7"):
        result = _run(fid, data)
        logs = next(r for r in result["resources"] if r["resource_id"] == "logs")
        assert logs["status"] == "not_applicable", fid
        assert result["status"] == "pass", fid
    # 2.9 by server access logs alone: delivered to a bucket that accepts log delivery
    data[("cloudtrail_trails", P)][0]["Selectors"] = {"EventSelectors": [], "AdvancedEventSelectors": []}
    result = _run("2.9", data)
    records = next(r for r in result["resources"] if r["resource_id"] == "records")
    assert records["status"] == "pass" and "delivered to s3://logs/" in records["observed"]
    data[("s3_bucket", "global", ("policy", "logs"))] = {"Policy": json.dumps({"Statement": [estate.TLS_DENY]})}
    assert _run("2.9", data)["status"] == "fail"


def test_object_lock_scoped_to_patient_data():
    data = estate.strong()
    data[("s3_bucket", "global", ("tagging", "records-dr"))] = None
    data[("s3_bucket", "global", ("object_lock", "records-dr"))] = None
    result = _run("2.6", data)
    assert result["status"] == "pass"
    assert next(r for r in result["resources"] if r["resource_id"] == "records-dr")["status"] == "not_applicable"
    data[("s3_bucket", "global", ("object_lock", "records"))] = None
    assert _run("2.6", data)["status"] == "fail"


def test_groups_used_by_load_balancers_are_in_use():
    data = estate.strong()
    data[("ec2_security_groups", P)].append(estate._sg("sg-alb", "alb-sg", []))
    assert _run("3.6", data)["status"] == "fail"
    data[("elbv2_load_balancers", P)] = [{"LoadBalancerName": "alb", "SecurityGroups": ["sg-alb"]}]
    assert _run("3.6", data)["status"] == "pass"


def test_tag_scoped_write_on_every_resource_is_accepted():
    data = estate.strong()
    stmt = {"Effect": "Allow", "Action": ["ec2:StopInstances"], "Resource": "*"}
    data["iam_authorization"]["policies"][0]["PolicyVersionList"][0]["Document"] = {"Statement": [stmt]}
    assert _run("2.1", data)["status"] == "fail"
    stmt["Condition"] = {"StringEquals": {"aws:ResourceTag/Project": "medcircle"}}
    assert _run("2.1", data)["status"] == "pass"


def test_aws_managed_key_vs_customer_key():
    data = estate.strong()
    data[("ec2_volumes", P)][0]["KmsKeyId"] = "arn:aws:kms:us-east-1:123456789012:key/aws-ebs-key"
    result = _run("3.4", data)
    vol = next(r for r in result["resources"] if r["resource_id"].startswith("vol-"))
    assert vol["status"] == "pass" and "aws-managed" in vol["observed"]
    data = estate.strong()
    vol = next(r for r in _run("1.4", data)["resources"])
    assert "customer-managed" in vol["observed"]
    # S3: aws/s3 (AWS managed) passes 1.6 but not 2.5
    data = estate.strong()
    data[("s3_bucket", "global", ("encryption", "records"))] = {
        "ServerSideEncryptionConfiguration": {
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]
        }
    }
    assert _run("1.6", data)["status"] == "pass"
    assert _run("2.5", data)["status"] == "fail"


def test_bucket_policy_with_other_statements():
    data = estate.strong()
    only_other = json.dumps({"Version": "2012-10-17", "Statement": [estate.OTHER_STMT]})
    data[("s3_bucket", "global", ("policy", "records"))] = {"Policy": only_other}
    result = _run("2.8", data)
    assert result["status"] == "fail"
    assert "1 statement(s)" in next(r for r in result["resources"] if r["resource_id"] == "records")["observed"]
    # with the deny statement added beside the others: pass (strong estate)
    assert _run("2.8", estate.strong())["status"] == "pass"


def test_stopped_instance():
    data = estate.strong()
    data[("ec2_instances", P)][0]["State"] = {"Name": "stopped"}
    data[("ssm_instance_information", P)] = []
    data[("ssm_patch_states", P)] = {}
    assert _run("3.5", data)["status"] == "not_applicable"
    assert _run("3.8", data)["status"] == "not_applicable"
    # encryption and IMDS still apply to a stopped instance
    data[("ec2_instances", P)][0]["MetadataOptions"] = {"HttpTokens": "optional"}
    assert _run("1.7", data)["status"] == "fail"


def test_read_replica_is_not_judged_for_backups_or_multi_az(tmp_path):
    data = estate.strong()
    for fid in ("2.2", "5.1", "5.3", "2.13", "3.2"):
        result = _run(fid, data, _ctx(tmp_path))
        replica = next(r for r in result["resources"] if r["resource_id"] == "medcircledb-dr")
        assert replica["status"] == "not_applicable", fid
    # deletion protection applies to replicas too
    data[("rds_instances", DR)][0]["DeletionProtection"] = False
    assert _run("5.4", data)["status"] == "fail"
    # the replica in the DR region is the multi-region copy of the database
    data = estate.strong()
    data[("backup_plans", P)][0]["Rules"][0]["CopyActions"] = []
    assert _run("2.3", data)["status"] == "pass"
    data[("rds_instances", DR)] = []
    assert _run("2.3", data)["status"] == "fail"


def test_2_3_and_4_1_need_a_second_region():
    result = _run("2.3", estate.strong(), regions=[P])
    assert result["status"] == "fail"
    assert "no DR region" in result["resources"][0]["observed"]
    result = _run("4.1", estate.strong())
    assert result["status"] == "pass" and result["regions"] == REGIONS
    assert _run("4.1", estate.strong(), regions=[P])["status"] == "fail"


def test_1_1_ignores_api_only_users_and_checks_root():
    data = estate.strong()
    result = _run("1.1", data)
    svc = next(r for r in result["resources"] if r["resource_id"] == "svc")
    assert svc["status"] == "not_applicable"
    data["iam_credential_report"][0]["mfa_active"] = "false"
    assert _run("1.1", data)["status"] == "fail"


MFA_DENY_DOC = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "DenyAllExceptListedIfNoMFA",
            "Effect": "Deny",
            "NotAction": ["iam:EnableMFADevice", "sts:GetSessionToken"],
            "Resource": "*",
            "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
        }
    ],
}


def test_1_1_says_whether_mfa_is_enforced():
    data = estate.weak()
    auth = data["iam_authorization"]
    auth["policies"].append(estate._policy("MedCircleRequireMFA", MFA_DENY_DOC))
    # A deny that does not depend on MFA enforces nothing.
    other_deny = {"Statement": [{"Effect": "Deny", "NotAction": "s3:*", "Resource": "*"}]}
    auth["policies"].append(estate._policy("DenyNonS3", other_deny))
    auth["groups"].append(
        {
            "GroupName": "medcircle-mfa-required",
            "Arn": "arn:aws:iam::123456789012:group/medcircle-mfa-required",
            "GroupPolicyList": [],
            "AttachedManagedPolicies": [
                {
                    "PolicyName": "MedCircleRequireMFA",
                    "PolicyArn": "arn:aws:iam::123456789012:policy/MedCircleRequireMFA",
                }
            ],
        }
    )
    data["iam_credential_report"].append(
        {
            "user": "nurse",
            "arn": "arn:aws:iam::123456789012:user/nurse",
            "password_enabled": "true",
            "mfa_active": "false",
        }
    )
    console = [r["user"] for r in data["iam_credential_report"] if r.get("password_enabled") == "true"]
    assert len(console) >= 3, console
    by_group, direct, inline = console[:3]
    users = {u["UserName"]: u for u in auth["users"]}
    for name in console:
        users.setdefault(name, estate._user(name, []))
    users[by_group]["GroupList"] = ["medcircle-mfa-required"]
    users[direct]["AttachedManagedPolicies"].append(
        {"PolicyName": "DenyNonS3", "PolicyArn": "arn:aws:iam::123456789012:policy/DenyNonS3"}
    )
    users[inline]["UserPolicyList"] = [{"PolicyName": "require-mfa", "PolicyDocument": json.dumps(MFA_DENY_DOC)}]
    auth["users"] = list(users.values())
    result = _run("1.1", data)
    observed = {r["resource_id"]: r["observed"] for r in result["resources"]}
    assert observed[by_group] == (
        "console password enabled, mfa_active: false; MFA enforced by MedCircleRequireMFA via group "
        "medcircle-mfa-required: the user can do nothing but set up MFA"
    )
    assert "MFA not enforced" in observed[direct]
    assert "MFA enforced by inline policy require-mfa attached to the user" in observed[inline]
    # Enforcement does not enrol anyone: every console user without MFA still fails.
    assert result["status"] == "fail"
    assert all(r["status"] == "fail" for r in result["resources"] if r["resource_id"] in console)
    # Authorization details that cannot be read leave the MFA judgement alone and say so.
    data["iam_authorization"] = RuntimeError("AccessDenied")
    result = _run("1.1", data)
    assert result["status"] == "fail"
    assert all("MFA enforcement not known" in r["observed"] for r in result["resources"] if r["resource_id"] in console)


def test_1_2_identical_policies_of_two_jobs():
    data = estate.strong()
    auth = data["iam_authorization"]
    auth["policies"].append(estate._policy("developer-copy", estate.READ_DOC))
    auth["users"][1]["AttachedManagedPolicies"] = [
        {"PolicyName": "developer-copy", "PolicyArn": "arn:aws:iam::123456789012:policy/developer-copy"}
    ]
    result = _run("1.2", data)
    assert result["status"] == "fail"
    assert any("identical policy documents" in r["observed"] for r in result["resources"])


def test_2_1_flags_service_wildcards_and_aws_full_access():
    data = estate.strong()
    data["iam_authorization"]["policies"][1]["PolicyVersionList"][0]["Document"] = {
        "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::records/*"}]
    }
    result = _run("2.1", data)
    assert result["status"] == "fail"
    assert "s3:*" in next(r for r in result["resources"] if r["status"] == "fail")["observed"]
    data = estate.strong()
    data["iam_authorization"]["users"][0]["AttachedManagedPolicies"].append(
        {"PolicyName": "AmazonS3FullAccess", "PolicyArn": "arn:aws:iam::aws:policy/AmazonS3FullAccess"}
    )
    assert _run("2.1", data)["status"] == "fail"


def test_3_1_password_policy_and_host_facts():
    data = estate.strong()
    facts = {"app1": {"instance_id": "i-0app", "sshd_password_authentication": "yes"}}
    result = _run("3.1", data, _ctx(host_facts=facts))
    assert result["status"] == "fail"
    assert any(r.get("name") == "app1" and r["status"] == "fail" for r in result["resources"])
    facts["app1"]["sshd_password_authentication"] = False
    assert _run("3.1", data, _ctx(host_facts=facts))["status"] == "pass"
    facts["app1"]["sshd_password_authentication"] = "unknown"
    host = next(r for r in _run("3.1", data, _ctx(host_facts=facts))["resources"] if r.get("name") == "app1")
    assert host["status"] == "manual"
    assert "unknown (confirm with sshd -T)" in host["observed"]
    data["iam_password_policy"] = None
    assert _run("3.1", data)["status"] == "fail"


def test_3_7_eol_dates_and_overrides():
    data = estate.weak()
    result = _run("3.7", data)
    assert "amzn2 2 reached end of life 2026-06-30" in result["resources"][0]["observed"]
    ctx = _ctx(eol_overrides={"amzn2:2": "2027-06-30"})
    assert _run("3.7", data, ctx)["status"] == "pass"
    data[("ec2_images", P)]["ami-0app"]["Name"] = "my-golden-image"
    assert _run("3.7", data)["status"] == "manual"


def test_3_8_missing_patches_and_stale_scan():
    data = estate.strong()
    data[("ssm_patch_states", P)]["i-0app"]["MissingCount"] = 3
    assert _run("3.8", data)["status"] == "fail"
    data = estate.strong()
    data[("ssm_patch_states", P)]["i-0app"]["OperationEndTime"] = "2026-01-01T00:00:00Z"
    assert _run("3.8", data)["status"] == "fail"
    data = estate.strong()
    data[("ssm_patch_states", P)] = {}
    result = _run("3.8", data)
    assert "never scanned" in result["resources"][0]["observed"]


def test_4_2_private_instance_with_public_subnet_elsewhere_passes():
    data = estate.strong()
    data[("ec2_instances", P)][0]["SubnetId"] = "subnet-pub-1"
    assert _run("4.2", data)["status"] == "pass"  # in a public subnet but no public address
    data[("ec2_instances", P)][0]["PublicIpAddress"] = "3.3.3.3"
    result = _run("4.2", data)
    assert result["status"] == "fail"
    # the next step is the servers' part alone: no database fails
    assert result["next_step"].startswith("Servers cannot change subnet")
    assert "rds_protection" not in result["next_step"]


def test_4_2_next_step_names_the_part_for_what_fails():
    data = estate.strong()
    data[("rds_instances", P)][0]["PubliclyAccessible"] = True
    result = _run("4.2", data)
    assert result["status"] == "fail"
    assert result["next_step"].startswith("Databases: run playbooks/remediate.yml --tags rds")
    assert "Servers" not in result["next_step"]
    data[("ec2_instances", P)][0]["SubnetId"] = "subnet-pub-1"
    data[("ec2_instances", P)][0]["PublicIpAddress"] = "3.3.3.3"
    both = _run("4.2", data)["next_step"]
    assert both.startswith("Databases:") and "Servers cannot change subnet" in both
    assert _run("4.2", estate.strong())["next_step"] == "Nothing to do; keep it so."


def test_2_14_a_tls_group_waiting_for_a_reboot_is_not_in_force():
    data = estate.strong()
    (db,) = [d for d in data[("rds_instances", P)] if not d.get("ReadReplicaSourceDBInstanceIdentifier")][:1]
    group = db["DBParameterGroups"][0]["DBParameterGroupName"]
    db["DBParameterGroups"][0]["ParameterApplyStatus"] = "pending-reboot"
    result = _run("2.14", data)
    (resource,) = [r for r in result["resources"] if r["resource_id"] == db["DBInstanceIdentifier"]]
    assert resource["status"] == "fail", resource
    wanted = f"TLS required: not yet: rds.force_ssl=1 in {group}, which applies only after a reboot"
    assert wanted in resource["observed"]
    db["DBParameterGroups"][0]["ParameterApplyStatus"] = "in-sync"
    assert _run("2.14", data)["status"] == "pass"


def test_5_5_asg_member_passes_without_termination_protection():
    data = estate.strong()
    data[("ec2_termination_protection", P)] = {}
    data[("autoscaling_instances", P)] = [{"InstanceId": "i-0app", "AutoScalingGroupName": "app-asg"}]
    result = _run("5.5", data)
    assert result["status"] == "pass" and "app-asg" in result["resources"][0]["observed"]


def test_5_6_old_drill_fails(tmp_path):
    ctx = _ctx(tmp_path)
    (tmp_path / "drills.json").write_text(json.dumps([{"finished_at": "2026-01-01T00:00:00Z", "result": "passed"}]))
    result = _run("5.6", estate.strong(), ctx)
    assert result["status"] == "fail"
    assert "days ago" in result["resources"][1]["observed"]


def _drills(tmp_path, *records):
    (tmp_path / "drills.json").write_text(json.dumps({"drills": list(records)}))


def test_5_6_newest_drill_not_clean_fails_even_after_a_successful_one(tmp_path):
    ctx = _ctx(tmp_path)
    _drills(
        tmp_path,
        {
            "drill_id": "drill-ok",
            "finished_at": "2026-11-01T10:00:00Z",
            "result": "pass",
            "success": True,
            "clean": True,
        },
        {
            "drill_id": "drill-left",
            "finished_at": "2026-11-10T10:00:00Z",
            "result": "fail",
            "success": False,
            "clean": False,
        },
    )
    result = _run("5.6", estate.strong(), ctx)
    assert result["status"] == "fail"
    observed = result["resources"][1]["observed"]
    assert "drill-left left resources behind" in observed and "dr_drill_cleanup_only=true" in observed
    assert "last successful drill drill-ok" in observed


def test_5_6_successful_drill_that_was_not_clean_does_not_count(tmp_path):
    ctx = _ctx(tmp_path)
    _drills(tmp_path, {"drill_id": "drill-x", "finished_at": "2026-11-10T10:00:00Z", "result": "pass", "clean": False})
    result = _run("5.6", estate.strong(), ctx)
    assert result["status"] == "fail"
    assert "none successful" in result["resources"][1]["observed"]


def test_5_6_failed_newest_drill_that_cleaned_up_keeps_the_older_success(tmp_path):
    ctx = _ctx(tmp_path)
    _drills(
        tmp_path,
        {"drill_id": "drill-ok", "finished_at": "2026-11-01T10:00:00Z", "success": True, "clean": True},
        {"drill_id": "drill-miss", "finished_at": "2026-11-10T10:00:00Z", "success": False, "clean": True},
    )
    result = _run("5.6", estate.strong(), ctx)
    assert result["status"] == "pass", result
    assert "drill-miss left nothing behind" in result["resources"][1]["observed"]


def test_error_in_one_source_marks_only_its_findings():
    data = estate.weak()
    data[("dlm_policies", P)] = RuntimeError("dlm_policies in us-east-1: InternalError: not implemented (HTTP 500)")
    snap = _snap(data)
    results, summary = checks.run_audit(snap, _ctx())
    by_id = {r["id"]: r for r in results}
    assert by_id["2.10"]["status"] == "error"
    assert "not implemented" in by_id["2.10"]["message"]
    assert summary["by_status"]["error"] == 1
    assert all(r["status"] != "error" for r in results if r["id"] != "2.10")


def test_empty_regions_are_not_applicable_for_resource_checks():
    data = estate.weak()
    for key in list(data):
        if isinstance(key, tuple) and key[0] in (
            "ec2_instances",
            "ec2_volumes",
            "rds_instances",
            "ec2_security_groups",
        ):
            data[key] = []
    data["s3_buckets"] = []
    for fid in ("1.3", "1.5", "2.4", "5.3"):
        assert _run(fid, data)["status"] == "not_applicable", fid
    # 1.7 still judges the account default for the instances launched from now on, in each region.
    result = _run("1.7", data)
    assert result["status"] == "fail"
    assert {r["resource_type"] for r in result["resources"]} == {"AwsAccount"}


def test_summary_counts():
    results, summary = checks.run_audit(_snap(estate.weak()), _ctx(), ["1.7", "5.2"])
    assert [r["id"] for r in results] == ["1.7", "5.2"]
    assert summary["by_status"]["fail"] == 2
    assert summary["by_severity"]["high"]["fail"] == 1
    assert summary["by_severity"]["medium"]["fail"] == 1
    assert summary["by_category"]["Disaster Recovery Assessment"]["fail"] == 1


def test_the_cycle_collector_is_off_for_the_audit_and_back_after(monkeypatch):
    import gc

    seen = []
    original = checks.run_check

    def run_check(fid, snap, ctx):
        seen.append(gc.isenabled())
        return original(fid, snap, ctx)

    monkeypatch.setattr(checks, "run_check", run_check)
    assert gc.isenabled()
    checks.run_audit(_snap(estate.weak()), _ctx(), ["1.7", "5.2"])
    assert seen == [False, False]
    assert gc.isenabled()
    with pytest.raises(RuntimeError), checks.cycle_collector_paused():
        with checks.cycle_collector_paused():  # nested: the outer one puts it back
            assert not gc.isenabled()
        assert not gc.isenabled()
        raise RuntimeError("a check failed")
    assert gc.isenabled()
    gc.disable()
    try:
        with checks.cycle_collector_paused():
            pass
        assert not gc.isenabled()  # a caller that had it off keeps it off
    finally:
        gc.enable()


def test_unknown_finding_id_is_refused():
    with pytest.raises(ValueError, match=r"9\.9"):
        checks.select_findings(["1.1", "9.9"])


def test_managed_instance_without_a_patch_window_fails_3_5():
    data = estate.strong()
    assert "patched by window medcircle-prod-patch" in _run("3.5", data)["resources"][0]["observed"]
    # a disabled window, or a window whose patch task targets another instance, does not patch it
    data[("ssm_maintenance_windows", P)][0]["Enabled"] = False
    result = _run("3.5", data)
    assert result["status"] == "fail"
    assert "no enabled maintenance window runs AWS-RunPatchBaseline" in result["resources"][0]["observed"]
    data[("ssm_maintenance_windows", P)][0]["Enabled"] = True
    data[("ssm_maintenance_windows", P)][0]["Targets"][0]["Targets"] = [{"Key": "tag:PatchGroup", "Values": ["prod"]}]
    assert _run("3.5", data)["status"] == "fail"
    data[("ec2_instances", P)][0]["Tags"] = [{"Key": "PatchGroup", "Value": "prod"}]
    data[("ssm_patch_groups", P)] = {"prod": {"BaselineName": "medcircle-al2023"}}
    result = _run("3.5", data)
    assert result["status"] == "pass"
    assert "patch group prod -> baseline medcircle-al2023" in result["resources"][0]["observed"]


def test_a_kept_unencrypted_original_is_told_to_be_deleted_not_encrypted_again():
    """After the encryption swap the unencrypted original is kept (its encrypted copy, named like it was, carries
    cloudops:replaces); the findings it fails tell IT support to delete it once the application is verified."""
    data = estate.strong()
    dbs = data[("rds_instances", P)]
    original = estate._db("appdb-unencrypted-20261205", P, PubliclyAccessible=False)
    replaces = {"Key": "cloudops:replaces", "Value": original["DBInstanceIdentifier"]}
    dbs[0]["TagList"] = [*dbs[0].get("TagList", []), replaces]
    dbs.append(original)
    result = _run("1.5", data)
    assert result["status"] == "fail"
    assert result["next_step"].startswith("appdb-unencrypted-20261205: the unencrypted original kept"), result
    assert "rds_protection_encrypt_delete_original=true" in result["next_step"]
    # another unencrypted database fails too: the finding's own next step first, then the original's
    dbs.append(estate._db("reporting", P, PubliclyAccessible=False))
    mixed = _run("1.5", data)["next_step"]
    assert mixed.startswith(fmeta.get_finding("1.5")["next_step"]) and "appdb-unencrypted-20261205: the" in mixed
    # without the tag it is just an unencrypted database
    dbs[0]["TagList"] = [t for t in dbs[0]["TagList"] if t["Key"] != "cloudops:replaces"]
    assert _run("1.5", data)["next_step"] == fmeta.get_finding("1.5")["next_step"]
