"""CloudFormation termination protection: the UpdateTerminationProtection and DeleteStack additions."""

import json

import pytest
from botocore.exceptions import ClientError

TEMPLATE = json.dumps({"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}})


def _stack(cfn, name):
    return cfn.describe_stacks(StackName=name)["Stacks"][0]


def test_update_termination_protection(clean_sandbox):
    cfn = clean_sandbox.client("cloudformation")
    stack_id = cfn.create_stack(StackName="medcircle", TemplateBody=TEMPLATE)["StackId"]
    assert _stack(cfn, "medcircle")["EnableTerminationProtection"] is False

    answer = cfn.update_termination_protection(StackName="medcircle", EnableTerminationProtection=True)
    assert answer["StackId"] == stack_id
    assert _stack(cfn, "medcircle")["EnableTerminationProtection"] is True

    with pytest.raises(ClientError) as raised:
        cfn.delete_stack(StackName="medcircle")
    assert raised.value.response["Error"]["Code"] == "ValidationError"
    assert "cannot be deleted while TerminationProtection is enabled" in raised.value.response["Error"]["Message"]
    assert _stack(cfn, "medcircle")["StackStatus"] == "CREATE_COMPLETE"

    # by stack id this time
    assert (
        cfn.update_termination_protection(StackName=stack_id, EnableTerminationProtection=False)["StackId"] == stack_id
    )
    assert _stack(cfn, stack_id)["EnableTerminationProtection"] is False
    cfn.delete_stack(StackName="medcircle")
    assert [s["StackName"] for s in cfn.describe_stacks()["Stacks"]] == []
    cfn.delete_stack(StackName="medcircle")  # AWS answers success for a stack that is gone

    entries = clean_sandbox.requests(operation="UpdateTerminationProtection")
    assert [(e["service"], e["mutating"], e["status"]) for e in entries] == [("cloudformation", True, 200)] * 2


def test_update_termination_protection_of_a_missing_stack(clean_sandbox):
    cfn = clean_sandbox.client("cloudformation", region="eu-west-1")
    with pytest.raises(ClientError) as raised:
        cfn.update_termination_protection(StackName="ghost", EnableTerminationProtection=True)
    assert raised.value.response["Error"]["Code"] == "ValidationError"
    assert raised.value.response["Error"]["Message"] == "Stack [ghost] does not exist"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_protection_is_per_region(clean_sandbox):
    east = clean_sandbox.client("cloudformation")
    west = clean_sandbox.client("cloudformation", region="us-west-2")
    east.create_stack(StackName="twin", TemplateBody=TEMPLATE)
    west.create_stack(StackName="twin", TemplateBody=TEMPLATE)
    west.update_termination_protection(StackName="twin", EnableTerminationProtection=True)
    assert _stack(east, "twin")["EnableTerminationProtection"] is False
    east.delete_stack(StackName="twin")
    with pytest.raises(ClientError, match="TerminationProtection"):
        west.delete_stack(StackName="twin")


def test_create_stack_with_protection_is_honoured(clean_sandbox):
    cfn = clean_sandbox.client("cloudformation")
    cfn.create_stack(StackName="born-protected", TemplateBody=TEMPLATE, EnableTerminationProtection=True)
    with pytest.raises(ClientError, match="TerminationProtection"):
        cfn.delete_stack(StackName="born-protected")
