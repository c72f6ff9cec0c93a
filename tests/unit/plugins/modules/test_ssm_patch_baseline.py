"""ssm_patch_baseline (+ _info): validation, the change plan, and main(), with every AWS call stubbed.

botocore's Stubber checks every request against the SSM service model, and any call that was not stubbed
fails the test: "no mutating call" (check mode, idempotent runs, bad input) is asserted by not stubbing one.
"""

import json

import pytest
from ansible.module_utils.testing import patch_module_args
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.medcircle.cloudops.plugins.module_utils.common import ParameterError
from ansible_collections.medcircle.cloudops.plugins.module_utils.ssm import (
    comparable_baseline,
    ensure_patch_baseline,
    validate_patch_baseline,
)
from ansible_collections.medcircle.cloudops.plugins.modules import ssm_patch_baseline, ssm_patch_baseline_info
from botocore.stub import ANY

REGION = "us-east-1"
BASELINE_ID = "pb-0123456789abcdef0"
OTHER_ID = "pb-0fedcba9876543210"
AWS_DEFAULT = "arn:aws:ssm:us-east-1:075727635805:patchbaseline/pb-027cc0f2e94d2b9a0"

PARAMS = {
    "name": "medcircle-al2023",
    "state": "present",
    "operating_system": "AMAZON_LINUX_2023",
    "description": "Security after 7 days",
    "approval_rules": [
        {
            "patch_filters": [
                {"key": "SEVERITY", "values": ["Important", "Critical"]},
                {"key": "CLASSIFICATION", "values": ["Security"]},
            ],
            "approve_after_days": 7,
            "approve_until_date": None,
            "compliance_level": "CRITICAL",
            "enable_non_security": False,
        }
    ],
    "global_filters": None,
    "approved_patches": None,
    "approved_patches_compliance_level": "UNSPECIFIED",
    "approved_patches_enable_non_security": False,
    "rejected_patches": ["kernel-debug*"],
    "rejected_patches_action": "ALLOW_AS_DEPENDENCY",
    "default": False,
    "patch_groups": ["prod"],
    "purge_patch_groups": True,
    "tags": {"Finding": "3.5"},
    "purge_tags": True,
}


def params(**changes):
    out = json.loads(json.dumps(PARAMS))
    out.update(changes)
    return out


def rule(**changes):
    out = dict(PARAMS["approval_rules"][0])
    out.update(changes)
    return out


def aws_baseline(spec, baseline_id=BASELINE_ID, groups=("prod",)):
    """A GetPatchBaseline answer for a validated spec."""
    answer = dict(spec, BaselineId=baseline_id, PatchGroups=list(groups))
    return answer


def stub_read_existing(ssm, spec, groups=("prod",), tags=None, default_id=AWS_DEFAULT):
    ssm.add_response(
        "describe_patch_baselines",
        {
            "BaselineIdentities": [
                {"BaselineId": BASELINE_ID, "BaselineName": spec["Name"], "OperatingSystem": spec["OperatingSystem"]}
            ]
        },
        {"Filters": ANY},
    )
    ssm.add_response("get_patch_baseline", aws_baseline(spec, groups=groups), {"BaselineId": BASELINE_ID})
    ssm.add_response(
        "get_default_patch_baseline",
        {"BaselineId": default_id, "OperatingSystem": spec["OperatingSystem"]},
        {"OperatingSystem": spec["OperatingSystem"]},
    )
    tag_list = [{"Key": k, "Value": v} for k, v in (tags if tags is not None else {"Finding": "3.5"}).items()]
    ssm.add_response(
        "list_tags_for_resource", {"TagList": tag_list}, {"ResourceType": "PatchBaseline", "ResourceId": BASELINE_ID}
    )


def stub_not_found(ssm):
    ssm.add_response("describe_patch_baselines", {"BaselineIdentities": []}, {"Filters": ANY})


# --- validation (no AWS) -------------------------------------------------------------------------


def test_validate_returns_the_aws_form_sorted():
    spec = validate_patch_baseline(PARAMS)
    assert spec["ApprovalRules"] == {
        "PatchRules": [
            {
                "PatchFilterGroup": {
                    "PatchFilters": [
                        {"Key": "CLASSIFICATION", "Values": ["Security"]},
                        {"Key": "SEVERITY", "Values": ["Critical", "Important"]},
                    ]
                },
                "ApproveAfterDays": 7,
                "ComplianceLevel": "CRITICAL",
                "EnableNonSecurity": False,
            }
        ]
    }
    assert spec["GlobalFilters"] == {"PatchFilters": []}
    assert spec["RejectedPatches"] == ["kernel-debug*"]
    # What AWS answers for it compares equal (defaults filled in the same way).
    assert comparable_baseline(spec) == comparable_baseline(aws_baseline(spec))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": "ab"}, "name ab is not a valid name. Allowed: 3 to 128"),
        ({"name": "bad name!"}, "name 'bad name!' is not a valid name"),
        ({"operating_system": "BEOS"}, "operating_system BEOS is not allowed. Allowed: AMAZON_LINUX_2023"),
        (
            {"approval_rules": [rule(approve_after_days=361)]},
            "approval_rules[0].approve_after_days 361 is out of range. Allowed: 0 to 360 days",
        ),
        (
            {"approval_rules": [rule(approve_after_days=-1)]},
            "approval_rules[0].approve_after_days -1 is out of range",
        ),
        (
            {"approval_rules": [rule(approve_after_days=None)]},
            "approval_rules[0] must set exactly one of approve_after_days and approve_until_date",
        ),
        (
            {"approval_rules": [rule(approve_until_date="2026-02-30", approve_after_days=None)]},
            "approval_rules[0].approve_until_date 2026-02-30 is not a date. Allowed: YYYY-MM-DD",
        ),
        (
            {"approval_rules": [rule(approve_until_date="2026-01-01")]},
            "approval_rules[0] must set exactly one",
        ),
        (
            {"approval_rules": [rule(patch_filters=[{"key": "MSRC_SEVERITY", "values": ["Critical"]}])]},
            "approval_rules[0].patch_filters[0].key MSRC_SEVERITY is not a patch filter key for AMAZON_LINUX_2023",
        ),
        (
            {"operating_system": "DEBIAN"},
            "approval_rules[0].patch_filters[0].key SEVERITY is not a patch filter key for DEBIAN. "
            "Allowed: PRODUCT, SECTION, PRIORITY",
        ),
        (
            {"approval_rules": [rule(patch_filters=[{"key": "SEVERITY", "values": []}])]},
            "approval_rules[0].patch_filters[0].values [] is empty",
        ),
        (
            {
                "approval_rules": [
                    rule(patch_filters=[{"key": "SEVERITY", "values": ["a"]}, {"key": "severity", "values": ["b"]}])
                ]
            },
            "approval_rules[0].patch_filters[1].key SEVERITY is given twice",
        ),
        ({"approval_rules": [rule(patch_filters=[])]}, "approval_rules[0].patch_filters [] is empty"),
        (
            {
                "operating_system": "UBUNTU",
                "approval_rules": [rule(patch_filters=[{"key": "PRIORITY", "values": ["Required"]}])],
            },
            "approval_rules[0].approve_after_days 7 is not supported for UBUNTU: its repositories carry no release",
        ),
        (
            {"approval_rules": [rule(compliance_level="URGENT")]},
            "approval_rules[0].compliance_level URGENT is not allowed",
        ),
        (
            {"operating_system": "WINDOWS", "approval_rules": [], "approved_patches_enable_non_security": True},
            "approved_patches_enable_non_security True is not supported for WINDOWS",
        ),
        ({"rejected_patches": ["x" * 101]}, "rejected_patches"),
        ({"patch_groups": ["bad|group"]}, "patch_groups bad|group is not a valid patch group"),
        ({"rejected_patches_action": "DROP"}, "rejected_patches_action DROP is not allowed"),
    ],
)
def test_validate_names_the_option_value_and_what_is_allowed(changes, message):
    with pytest.raises(ParameterError) as error:
        validate_patch_baseline(params(**changes))
    assert str(error.value.message).startswith(message), error.value.message


def test_debian_rules_approve_without_delay():
    debian_rule = rule(
        patch_filters=[{"key": "PRIORITY", "values": ["Required", "Important"]}], approve_after_days=None
    )
    spec = validate_patch_baseline(params(operating_system="DEBIAN", approval_rules=[debian_rule]))
    assert spec["ApprovalRules"]["PatchRules"][0]["ApproveAfterDays"] == 0


# --- the change plan, with a stubbed client ------------------------------------------------------


def test_create_with_groups_tags_and_default(aws):
    ssm, client = aws.stub("ssm", REGION), aws.client("ssm", REGION)
    spec = validate_patch_baseline(params(default=True))
    stub_not_found(ssm)
    ssm.add_response("describe_patch_groups", {"Mappings": []}, {})
    expected = dict(spec, Tags=[{"Key": "Finding", "Value": "3.5"}])
    ssm.add_response("create_patch_baseline", {"BaselineId": BASELINE_ID}, expected)
    ssm.add_response(
        "register_patch_baseline_for_patch_group",
        {"BaselineId": BASELINE_ID, "PatchGroup": "prod"},
        {"BaselineId": BASELINE_ID, "PatchGroup": "prod"},
    )
    ssm.add_response("register_default_patch_baseline", {"BaselineId": BASELINE_ID}, {"BaselineId": BASELINE_ID})
    # The read-back after the change (GetPatchBaseline, default, tags).
    ssm.add_response("get_patch_baseline", aws_baseline(spec), {"BaselineId": BASELINE_ID})
    ssm.add_response(
        "get_default_patch_baseline",
        {"BaselineId": BASELINE_ID, "OperatingSystem": "AMAZON_LINUX_2023"},
        {"OperatingSystem": "AMAZON_LINUX_2023"},
    )
    ssm.add_response(
        "list_tags_for_resource",
        {"TagList": [{"Key": "Finding", "Value": "3.5"}]},
        {"ResourceType": "PatchBaseline", "ResourceId": BASELINE_ID},
    )
    result = ensure_patch_baseline(client, params(default=True), check_mode=False)
    ssm.assert_no_pending_responses()
    assert result["changed"] is True
    assert result["baseline"]["baseline_id"] == BASELINE_ID
    assert result["baseline"]["default_baseline"] is True
    assert result["baseline"]["patch_groups"] == ["prod"]
    assert result["diff"]["before"] == {}
    assert result["diff"]["after"]["approval_rules"]["patch_rules"][0]["approve_after_days"] == 7


def test_check_mode_create_makes_no_mutating_call(aws):
    ssm, client = aws.stub("ssm", REGION), aws.client("ssm", REGION)
    stub_not_found(ssm)
    ssm.add_response("describe_patch_groups", {"Mappings": []}, {})
    result = ensure_patch_baseline(client, PARAMS, check_mode=True)
    ssm.assert_no_pending_responses()
    assert result["changed"] is True
    assert "baseline_id" not in result["baseline"]
    assert result["baseline"]["name"] == "medcircle-al2023"
    assert result["baseline"]["patch_groups"] == ["prod"]


def test_unchanged_baseline_is_not_touched(aws):
    ssm, client = aws.stub("ssm", REGION), aws.client("ssm", REGION)
    stub_read_existing(ssm, validate_patch_baseline(PARAMS))
    result = ensure_patch_baseline(client, PARAMS, check_mode=False)
    ssm.assert_no_pending_responses()
    assert result["changed"] is False
    assert result["diff"]["before"] == result["diff"]["after"]


def test_update_replaces_body_moves_group_and_retags(aws):
    ssm, client = aws.stub("ssm", REGION), aws.client("ssm", REGION)
    old = validate_patch_baseline(params(approval_rules=[rule(approve_after_days=14)]))
    stub_read_existing(ssm, old, groups=("prod",), tags={"Finding": "3.5", "Old": "yes"})
    ssm.add_response(
        "describe_patch_groups",
        {
            "Mappings": [
                {
                    "PatchGroup": "staging",
                    "BaselineIdentity": {"BaselineId": OTHER_ID, "OperatingSystem": "AMAZON_LINUX_2023"},
                },
                {
                    "PatchGroup": "staging",
                    "BaselineIdentity": {"BaselineId": "pb-0aaaaaaaaaaaaaaaa", "OperatingSystem": "UBUNTU"},
                },
            ]
        },
        {},
    )
    new_params = params(patch_groups=["prod", "staging"])
    spec = validate_patch_baseline(new_params)
    writable = {k: v for k, v in spec.items() if k != "OperatingSystem"}
    ssm.add_response("update_patch_baseline", {}, dict(writable, BaselineId=BASELINE_ID, Replace=True))
    ssm.add_response(
        "remove_tags_from_resource",
        {},
        {"ResourceType": "PatchBaseline", "ResourceId": BASELINE_ID, "TagKeys": ["Old"]},
    )
    ssm.add_response(
        "deregister_patch_baseline_for_patch_group",
        {},
        {"BaselineId": OTHER_ID, "PatchGroup": "staging"},
    )
    ssm.add_response(
        "register_patch_baseline_for_patch_group", {}, {"BaselineId": BASELINE_ID, "PatchGroup": "staging"}
    )
    ssm.add_response("get_patch_baseline", aws_baseline(spec, groups=("prod", "staging")), {"BaselineId": BASELINE_ID})
    ssm.add_response(
        "get_default_patch_baseline",
        {"BaselineId": AWS_DEFAULT, "OperatingSystem": "AMAZON_LINUX_2023"},
        {"OperatingSystem": "AMAZON_LINUX_2023"},
    )
    ssm.add_response(
        "list_tags_for_resource",
        {"TagList": [{"Key": "Finding", "Value": "3.5"}]},
        {"ResourceType": "PatchBaseline", "ResourceId": BASELINE_ID},
    )
    result = ensure_patch_baseline(client, new_params, check_mode=False)
    ssm.assert_no_pending_responses()
    assert result["changed"] is True
    assert result["moved_patch_groups"] == [{"patch_group": "staging", "from_baseline_id": OTHER_ID}]
    assert result["diff"]["before"]["approval_rules"]["patch_rules"][0]["approve_after_days"] == 14
    assert result["diff"]["after"]["approval_rules"]["patch_rules"][0]["approve_after_days"] == 7
    assert result["diff"]["before"]["tags"] == {"Finding": "3.5", "Old": "yes"}
    assert result["baseline"]["patch_groups"] == ["prod", "staging"]


def test_patch_groups_omitted_are_left_alone(aws):
    ssm, client = aws.stub("ssm", REGION), aws.client("ssm", REGION)
    stub_read_existing(ssm, validate_patch_baseline(PARAMS), groups=("prod", "dev"))
    result = ensure_patch_baseline(client, params(patch_groups=None, tags=None), check_mode=False)
    ssm.assert_no_pending_responses()
    assert result["changed"] is False
    assert result["baseline"]["patch_groups"] == ["dev", "prod"]


def test_operating_system_cannot_change(aws):
    ssm, client = aws.stub("ssm", REGION), aws.client("ssm", REGION)
    stub_read_existing(ssm, validate_patch_baseline(PARAMS))
    changed = params(operating_system="AMAZON_LINUX_2", name="medcircle-al2023")
    with pytest.raises(ParameterError) as error:
        ensure_patch_baseline(client, changed, check_mode=False)
    assert "operating_system AMAZON_LINUX_2 differs from the existing baseline's AMAZON_LINUX_2023" in str(
        error.value.message
    )


def test_delete_deregisters_groups_first_and_refuses_the_default(aws):
    ssm, client = aws.stub("ssm", REGION), aws.client("ssm", REGION)
    spec = validate_patch_baseline(PARAMS)
    stub_read_existing(ssm, spec, groups=("prod",))
    ssm.add_response("deregister_patch_baseline_for_patch_group", {}, {"BaselineId": BASELINE_ID, "PatchGroup": "prod"})
    ssm.add_response("delete_patch_baseline", {"BaselineId": BASELINE_ID}, {"BaselineId": BASELINE_ID})
    result = ensure_patch_baseline(client, {"name": "medcircle-al2023", "state": "absent"}, check_mode=False)
    ssm.assert_no_pending_responses()
    assert result["changed"] is True
    assert result["diff"]["after"] == {}

    stub_read_existing(ssm, spec, default_id=BASELINE_ID)
    with pytest.raises(ParameterError) as error:
        ensure_patch_baseline(client, {"name": "medcircle-al2023", "state": "absent"}, check_mode=False)
    assert "is the default patch baseline for AMAZON_LINUX_2023" in str(error.value.message)
    ssm.assert_no_pending_responses()


def test_throttling_is_retried(aws):
    ssm, client = aws.stub("ssm", REGION), aws.client("ssm", REGION)
    ssm.add_client_error("describe_patch_baselines", "ThrottlingException", "Rate exceeded")
    stub_not_found(ssm)
    ssm.add_response("describe_patch_groups", {"Mappings": []}, {})
    assert ensure_patch_baseline(client, PARAMS, check_mode=True)["changed"] is True
    ssm.assert_no_pending_responses()


# --- main() ----------------------------------------------------------------------------------------


@pytest.fixture
def module_client(aws, monkeypatch):
    monkeypatch.setattr(
        AnsibleAWSModule, "client", lambda self, service, retry_decorator=None, **kw: aws.client(service, REGION)
    )
    return aws.stub("ssm", REGION)


def run(module, args, capsys, check=False):
    base = {"access_key": "AKIDEXAMPLE", "secret_key": "secret", "region": REGION, "_ansible_check_mode": check}
    base.update(args)
    with patch_module_args(base), pytest.raises(SystemExit) as exc:
        module.main()
    return exc.value.code, json.loads(capsys.readouterr().out)


def test_main_bad_input_fails_without_any_call(module_client, capsys):
    args = {k: v for k, v in params(approval_rules=[rule(approve_after_days=400)]).items() if v is not None}
    rc, result = run(ssm_patch_baseline, args, capsys)
    assert rc == 1
    assert result["failed"] is True
    assert result["msg"] == "approval_rules[0].approve_after_days 400 is out of range. Allowed: 0 to 360 days"
    module_client.assert_no_pending_responses()


def test_main_check_mode_returns_plan(module_client, capsys):
    stub_not_found(module_client)
    module_client.add_response("describe_patch_groups", {"Mappings": []}, {})
    args = {k: v for k, v in PARAMS.items() if v is not None}
    rc, result = run(ssm_patch_baseline, dict(args, _ansible_diff=True), capsys, check=True)
    assert rc == 0
    assert result["changed"] is True
    assert result["diff"]["after"]["patch_groups"] == ["prod"]
    module_client.assert_no_pending_responses()


def test_info_lists_baselines_and_groups(module_client, capsys):
    spec = validate_patch_baseline(PARAMS)
    module_client.add_response(
        "describe_patch_baselines",
        {
            "BaselineIdentities": [
                {"BaselineId": BASELINE_ID, "BaselineName": spec["Name"], "OperatingSystem": "AMAZON_LINUX_2023"}
            ]
        },
        {"Filters": [{"Key": "OWNER", "Values": ["Self"]}]},
    )
    module_client.add_response("get_patch_baseline", aws_baseline(spec), {"BaselineId": BASELINE_ID})
    module_client.add_response(
        "get_default_patch_baseline",
        {"BaselineId": AWS_DEFAULT, "OperatingSystem": "AMAZON_LINUX_2023"},
        {"OperatingSystem": "AMAZON_LINUX_2023"},
    )
    module_client.add_response(
        "list_tags_for_resource", {"TagList": []}, {"ResourceType": "PatchBaseline", "ResourceId": BASELINE_ID}
    )
    module_client.add_response(
        "describe_patch_groups",
        {
            "Mappings": [
                {
                    "PatchGroup": "prod",
                    "BaselineIdentity": {
                        "BaselineId": BASELINE_ID,
                        "BaselineName": spec["Name"],
                        "OperatingSystem": "AMAZON_LINUX_2023",
                    },
                }
            ]
        },
        {},
    )
    rc, result = run(ssm_patch_baseline_info, {}, capsys)
    assert rc == 0
    assert result["changed"] is False
    assert [(b["name"], b["patch_groups"], b["default_baseline"]) for b in result["baselines"]] == [
        ("medcircle-al2023", ["prod"], False)
    ]
    assert result["patch_groups"] == [
        {
            "patch_group": "prod",
            "baseline_id": BASELINE_ID,
            "baseline_name": "medcircle-al2023",
            "operating_system": "AMAZON_LINUX_2023",
        }
    ]
    module_client.assert_no_pending_responses()


def test_info_with_aws_baselines_for_one_os(module_client, capsys):
    module_client.add_response(
        "describe_patch_baselines",
        {"BaselineIdentities": []},
        {"Filters": [{"Key": "OPERATING_SYSTEM", "Values": ["DEBIAN"]}, {"Key": "OWNER", "Values": ["Self"]}]},
    )
    module_client.add_response(
        "describe_patch_baselines",
        {
            "BaselineIdentities": [
                {
                    "BaselineId": AWS_DEFAULT,
                    "BaselineName": "AWS-DebianDefaultPatchBaseline",
                    "OperatingSystem": "DEBIAN",
                    "DefaultBaseline": True,
                }
            ]
        },
        {"Filters": [{"Key": "OPERATING_SYSTEM", "Values": ["DEBIAN"]}, {"Key": "OWNER", "Values": ["AWS"]}]},
    )
    module_client.add_response(
        "describe_patch_groups",
        {
            "Mappings": [
                {
                    "PatchGroup": "prod",
                    "BaselineIdentity": {"BaselineId": BASELINE_ID, "OperatingSystem": "AMAZON_LINUX_2023"},
                }
            ]
        },
        {},
    )
    rc, result = run(ssm_patch_baseline_info, {"operating_system": "DEBIAN", "include_aws_baselines": True}, capsys)
    assert rc == 0
    assert result["baselines"] == []
    assert [(b["baseline_name"], b["default_baseline"]) for b in result["aws_baselines"]] == [
        ("AWS-DebianDefaultPatchBaseline", True)
    ]
    # Patch groups of other operating systems are left out.
    assert result["patch_groups"] == []
    module_client.assert_no_pending_responses()
