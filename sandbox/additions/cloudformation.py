"""CloudFormation: termination protection (UpdateTerminationProtection, and DeleteStack honouring it).

moto stores ``enable_termination_protection`` on its stacks and reports it in DescribeStacks, but has
no UpdateTerminationProtection and deletes protected stacks.
"""

import json

from sandbox.additions import AdditionError, addition

_TEMPLATE = json.dumps({"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}})


def _live_stack(ctx, name_or_id: str):
    backend = ctx.backend("cloudformation")
    for stack in backend.stacks.values():
        if name_or_id in (stack.name, stack.stack_id) and stack.status != "DELETE_COMPLETE":
            return stack
    return None


def _example_update(client):
    cfn = client("cloudformation")
    cfn.create_stack(StackName="sandbox-example-protection", TemplateBody=_TEMPLATE)
    return {"StackName": "sandbox-example-protection", "EnableTerminationProtection": True}


def _example_delete(client):
    cfn = client("cloudformation")
    cfn.create_stack(StackName="sandbox-example-delete", TemplateBody=_TEMPLATE)
    return {"StackName": "sandbox-example-delete"}


@addition("cloudformation", "UpdateTerminationProtection", example=_example_update)
def update_termination_protection(ctx):
    name = ctx.require("StackName")
    enable = ctx.params.get("EnableTerminationProtection")
    if enable is None:
        raise AdditionError(
            "ValidationError",
            "1 validation error detected: Value null at 'enableTerminationProtection' failed to satisfy "
            "constraint: Member must not be null",
        )
    stack = _live_stack(ctx, name)
    if stack is None:
        raise AdditionError("ValidationError", f"Stack [{name}] does not exist")
    stack.enable_termination_protection = bool(enable)
    return {"StackId": stack.stack_id}


@addition("cloudformation", "DeleteStack", example=_example_delete)
def delete_stack(ctx):
    name = ctx.require("StackName")
    stack = _live_stack(ctx, name)
    if stack is None:
        return {}  # AWS answers success for a stack that does not exist
    if stack.enable_termination_protection:
        raise AdditionError(
            "ValidationError",
            f"Stack [{stack.name}] cannot be deleted while TerminationProtection is enabled",
        )
    ctx.backend("cloudformation").delete_stack(stack.stack_id)
    return {}
