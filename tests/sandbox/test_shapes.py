"""The shape validator that holds the additions to the botocore models."""

import datetime

import botocore.session
import pytest

from sandbox import shapes

SESSION = botocore.session.get_session()


def output(service, operation):
    return SESSION.get_service_model(service).operation_model(operation).output_shape


def test_valid_nested_output():
    shape = output("cloudformation", "DescribeStacks")
    value = {
        "Stacks": [
            {
                "StackName": "s",
                "StackId": "arn:aws:cloudformation:us-east-1:123456789012:stack/s/1",
                "CreationTime": datetime.datetime.now(datetime.UTC),
                "StackStatus": "CREATE_COMPLETE",
                "EnableTerminationProtection": True,
                "Tags": [{"Key": "a", "Value": "b"}],
                "Parameters": [{"ParameterKey": "k", "ParameterValue": "v"}],
            }
        ]
    }
    assert shapes.validate(shape, value) == []
    value["Stacks"][0]["CreationTime"] = "2024-01-01T00:00:00Z"
    assert shapes.validate(shape, value) == []


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ({"Stacks": [{"StackName": "s", "StackStatus": "CREATE_COMPLETE"}]}, "required member 'CreationTime'"),
        (
            {"Stacks": [{"StackName": "s", "CreationTime": 0, "StackStatus": "SMILING"}]},
            "Stacks[0].StackStatus: 'SMILING' is not one of",
        ),
        (
            {"Stacks": [{"StackName": "s", "CreationTime": 0, "StackStatus": "CREATE_COMPLETE", "Colour": 1}]},
            "unknown member 'Colour'",
        ),
        ({"Stacks": {"StackName": "s"}}, "Stacks: expected a list"),
        ({"Stacks": [{"StackName": 5, "CreationTime": 0, "StackStatus": "CREATE_COMPLETE"}]}, "expected a string"),
        (
            {"Stacks": [{"StackName": "s", "CreationTime": "yesterday", "StackStatus": "CREATE_COMPLETE"}]},
            "expected a timestamp",
        ),
        (
            {
                "Stacks": [
                    {"StackName": "s", "CreationTime": 0, "StackStatus": "CREATE_COMPLETE", "DisableRollback": "no"}
                ]
            },
            "expected a boolean",
        ),
    ],
)
def test_problems_name_the_path(value, problem):
    problems = shapes.validate(output("cloudformation", "DescribeStacks"), value)
    assert any(problem in text for text in problems), problems


def test_maps_integers_and_empty_outputs():
    tags = output("backup", "ListTags")
    assert shapes.validate(tags, {"Tags": {"env": "prod"}, "NextToken": "t"}) == []
    assert any("expected a string" in p for p in shapes.validate(tags, {"Tags": {"env": 1}}))
    volumes = output("ec2", "DescribeVolumes")
    assert any("expected an integer" in p for p in shapes.validate(volumes, {"Volumes": [{"Size": "8"}]}))
    assert any("expected an integer" in p for p in shapes.validate(volumes, {"Volumes": [{"Size": True}]}))
    assert shapes.validate(None, {}) == []
    assert shapes.validate(None, {"Anything": 1}) != []
