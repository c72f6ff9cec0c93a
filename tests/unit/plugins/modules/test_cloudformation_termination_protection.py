"""The cloudformation_termination_protection module, driven through main() with stubbed CloudFormation clients.

No mutating call is stubbed unless the test expects it, so an unexpected UpdateTerminationProtection fails.
"""

import pytest
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.medcircle.cloudops.plugins.modules import cloudformation_termination_protection as module
from module_run import run_module

ACCOUNT = "123456789012"


def stack(name, region="us-east-1", protected=False, status="CREATE_COMPLETE", parent=None, tags=None):
    stack_id = f"arn:aws:cloudformation:{region}:{ACCOUNT}:stack/{name}/0000-{name}"
    result = {
        "StackName": name,
        "StackId": stack_id,
        "CreationTime": "2026-01-01T00:00:00Z",
        "StackStatus": status,
        "EnableTerminationProtection": protected,
        "Tags": [{"Key": k, "Value": v} for k, v in (tags or {}).items()],
    }
    if parent:
        result["ParentId"] = parent
        result["RootId"] = parent
    return result


@pytest.fixture
def clients(aws, monkeypatch):
    requested = []

    def client(self, service, retry_decorator=None, **extra_params):
        requested.append((service, extra_params.get("region"), retry_decorator is not None))
        return aws.client(service, extra_params.get("region") or self.region)

    monkeypatch.setattr(AnsibleAWSModule, "client", client)
    return requested


def run(args, capsys):
    return run_module(module.main, args, capsys)


def describe(aws, region, stacks, pages=1):
    cfn = aws.stub("cloudformation", region)
    size = max(1, -(-len(stacks) // pages))
    chunks = [stacks[i : i + size] for i in range(0, len(stacks), size)] or [[]]
    for index, chunk in enumerate(chunks):
        response = {"Stacks": chunk}
        request = {}
        if index + 1 < len(chunks):
            response["NextToken"] = f"t{index + 1}"
        if index:
            request["NextToken"] = f"t{index}"
        cfn.add_response("describe_stacks", response, request)


def test_sweep_protects_only_unprotected_top_level_stacks_in_two_regions(aws, clients, capsys):
    app = stack("medcircle-app")
    parent = app["StackId"]
    describe(
        aws,
        "us-east-1",
        [app, stack("medcircle-net", protected=True), stack("medcircle-app-db", parent=parent)],
        pages=2,
    )
    describe(
        aws,
        "us-west-2",
        [stack("medcircle-dr", region="us-west-2"), stack("gone", "us-west-2", status="DELETE_IN_PROGRESS")],
    )
    aws.stub("cloudformation", "us-east-1").add_response(
        "update_termination_protection",
        {"StackId": app["StackId"]},
        {"StackName": app["StackId"], "EnableTerminationProtection": True},
    )
    dr_id = f"arn:aws:cloudformation:us-west-2:{ACCOUNT}:stack/medcircle-dr/0000-medcircle-dr"
    aws.stub("cloudformation", "us-west-2").add_response(
        "update_termination_protection", {"StackId": dr_id}, {"StackName": dr_id, "EnableTerminationProtection": True}
    )

    rc, result = run({"regions": ["us-east-1", "us-west-2"], "_ansible_diff": True}, capsys)

    assert rc == 0, result
    assert result["changed"] is True
    assert result["summary"] == {"selected": 5, "changed": 2, "already": 1, "skipped": 2}
    by_name = {s["stack_name"]: s for s in result["stacks"]}
    assert by_name["medcircle-app"]["termination_protection"] is True
    assert by_name["medcircle-app-db"]["skipped"].startswith("nested stack")
    assert by_name["gone"]["skipped"] == "stack status DELETE_IN_PROGRESS"
    assert result["diff"]["before"]["us-east-1/medcircle-app"] is False
    assert result["diff"]["after"]["us-west-2/medcircle-dr"] is True
    assert [(s, r, retry) for s, r, retry in clients] == [
        ("cloudformation", "us-east-1", True),
        ("cloudformation", "us-west-2", True),
    ]
    for region in ("us-east-1", "us-west-2"):
        aws.stub("cloudformation", region).assert_no_pending_responses()


def test_check_mode_lists_the_plan_and_makes_no_change(aws, clients, capsys):
    describe(aws, "us-east-1", [stack("medcircle-app"), stack("medcircle-net", protected=True)])
    rc, result = run({"_ansible_check_mode": True}, capsys)
    assert rc == 0, result
    assert result["changed"] is True
    assert [(s["stack_name"], s["changed"]) for s in result["stacks"]] == [
        ("medcircle-app", True),
        ("medcircle-net", False),
    ]


def test_all_protected_is_unchanged(aws, clients, capsys):
    describe(aws, "us-east-1", [stack("medcircle-app", protected=True)])
    rc, result = run({}, capsys)
    assert rc == 0 and result["changed"] is False
    assert result["summary"]["already"] == 1


def test_filters_by_name_exclusion_and_tags(aws, clients, capsys):
    describe(
        aws,
        "us-east-1",
        [
            stack("medcircle-app", tags={"Project": "medcircle"}),
            stack("medcircle-scratch", tags={"Project": "medcircle"}),
            stack("medcircle-other"),
            stack("vendor-stack", tags={"Project": "medcircle"}),
        ],
    )
    rc, result = run(
        {
            "stack_names": ["medcircle-*"],
            "exclude_stack_names": ["*-scratch"],
            "tags": {"Project": "medcircle"},
            "_ansible_check_mode": True,
        },
        capsys,
    )
    assert rc == 0, result
    assert [s["stack_name"] for s in result["stacks"]] == ["medcircle-app"]


def test_disabled_needs_exact_names_and_fails_before_any_call(aws, clients, capsys):
    rc, result = run({"state": "disabled", "stack_names": ["medcircle-*"]}, capsys)
    assert rc == 1
    assert "stack_names" in result["msg"] and "without wildcards" in result["msg"]


def test_disabled_on_a_missing_stack_fails_without_change(aws, clients, capsys):
    describe(aws, "us-east-1", [stack("medcircle-app", protected=True)])
    rc, result = run({"state": "disabled", "stack_names": ["medcircle-gone"]}, capsys)
    assert rc == 1
    assert "medcircle-gone" in result["msg"] and "not found" in result["msg"]


def test_bad_region_names_the_option(aws, clients, capsys):
    rc, result = run({"regions": ["us-east-1", "mars-1"]}, capsys)
    assert rc == 1 and "regions mars-1" in result["msg"]
    assert clients == []


def test_access_denied_is_reported(aws, clients, capsys):
    aws.stub("cloudformation", "us-east-1").add_client_error(
        "describe_stacks", service_error_code="AccessDenied", service_message="not allowed", http_status_code=403
    )
    rc, result = run({}, capsys)
    assert rc == 1 and "describe CloudFormation stacks" in result["msg"]
