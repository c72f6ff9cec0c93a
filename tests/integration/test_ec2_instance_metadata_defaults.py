"""medcircle.cloudops.ec2_instance_metadata_defaults through real `ansible` runs on the sandbox.

Each run is `ansible localhost -m <module> -a <json>` with the sandbox's environment (AWS_ENDPOINT_URL,
dummy credentials): the module gets no endpoint option. The sandbox's request log shows which AWS calls
a run made; boto3 reads the defaults back independently of the module.
"""

import pytest
from playbook import run_module

MODULE = "medcircle.cloudops.ec2_instance_metadata_defaults"
REGIONS = ["us-east-1", "us-west-2"]
UNSET = {
    "http_tokens": "no-preference",
    "http_put_response_hop_limit": -1,
    "http_endpoint": "no-preference",
    "instance_metadata_tags": "no-preference",
}


def mutating(sandbox):
    return [(r["operation"], r["region"]) for r in sandbox.requests(mutating=True)]


def account_level(sandbox, region):
    level = sandbox.client("ec2", region).get_instance_metadata_defaults()["AccountLevel"]
    return {key: value for key, value in level.items() if key != "ManagedBy"}


def test_set_check_idempotent_clear(clean_sandbox):
    sandbox = clean_sandbox
    require = {"regions": REGIONS, "http_tokens": "required", "http_put_response_hop_limit": 2}
    wanted = {**UNSET, "http_tokens": "required", "http_put_response_hop_limit": 2}

    # Check mode: reports the change with a diff, makes no mutating call.
    result = run_module(sandbox, MODULE, require, check=True, diff=True)
    assert result["changed"] is True
    assert result["changes"] == [
        "us-east-1: http_tokens no-preference -> required",
        "us-east-1: http_put_response_hop_limit no-preference -> 2",
        "us-west-2: http_tokens no-preference -> required",
        "us-west-2: http_put_response_hop_limit no-preference -> 2",
    ]
    assert result["diff"] == {"before": dict.fromkeys(REGIONS, UNSET), "after": dict.fromkeys(REGIONS, wanted)}
    assert sandbox.requests(operation="GetInstanceMetadataDefaults"), "the module did not reach the sandbox"
    assert mutating(sandbox) == []
    assert account_level(sandbox, "us-east-1") == {}

    # For real: one call per region, naming only what differs.
    sandbox.clear_requests()
    result = run_module(sandbox, MODULE, require)
    assert result["changed"] is True
    assert "diff" not in result
    assert mutating(sandbox) == [("ModifyInstanceMetadataDefaults", region) for region in REGIONS]
    assert [(r["region"], r["changed"], r["managed_by"]) for r in result["regions"]] == [
        ("us-east-1", True, "account"),
        ("us-west-2", True, "account"),
    ]
    for entry in result["regions"]:
        assert {key: entry[key] for key in UNSET} == wanted
    for region in REGIONS:
        assert account_level(sandbox, region) == {"HttpTokens": "required", "HttpPutResponseHopLimit": 2}
    # A new instance launched without metadata options now gets IMDSv2 (the point of the setting).
    ec2 = sandbox.client("ec2", "us-west-2")
    instance = ec2.run_instances(ImageId="ami-12c6146b", MinCount=1, MaxCount=1)["Instances"][0]
    assert instance["MetadataOptions"]["HttpTokens"] == "required"
    assert instance["MetadataOptions"]["HttpPutResponseHopLimit"] == 2

    # Again: unchanged, no ModifyInstanceMetadataDefaults call at all.
    sandbox.clear_requests()
    result = run_module(sandbox, MODULE, require, diff=True)
    assert result["changed"] is False
    assert result["changes"] == []
    assert [r["changed"] for r in result["regions"]] == [False, False]
    assert result["diff"]["before"] == result["diff"]["after"]
    assert sandbox.requests(operation="ModifyInstanceMetadataDefaults", mutating=True) == []
    assert mutating(sandbox) == []

    # A setting that is not named is left alone: add the tags default in one region.
    result = run_module(sandbox, MODULE, {"regions": ["us-west-2"], "instance_metadata_tags": "enabled"})
    assert result["changes"] == ["us-west-2: instance_metadata_tags no-preference -> enabled"]
    assert account_level(sandbox, "us-west-2") == {
        "HttpTokens": "required",
        "HttpPutResponseHopLimit": 2,
        "InstanceMetadataTags": "enabled",
    }

    # no-preference (and -1) clear a field: check mode first, then for real, then idempotent.
    sandbox.clear_requests()
    clear = {
        "regions": ["us-west-2"],
        "http_put_response_hop_limit": "no-preference",
        "instance_metadata_tags": "no-preference",
    }
    result = run_module(sandbox, MODULE, clear, check=True, diff=True)
    assert result["changed"] is True
    assert result["diff"]["after"]["us-west-2"]["http_put_response_hop_limit"] == -1
    assert mutating(sandbox) == []
    result = run_module(sandbox, MODULE, clear)
    assert result["changes"] == [
        "us-west-2: http_put_response_hop_limit 2 -> no-preference",
        "us-west-2: instance_metadata_tags enabled -> no-preference",
    ]
    assert account_level(sandbox, "us-west-2") == {"HttpTokens": "required"}
    assert account_level(sandbox, "us-east-1") == {"HttpTokens": "required", "HttpPutResponseHopLimit": 2}
    sandbox.clear_requests()
    again = {"regions": ["us-west-2"], "http_put_response_hop_limit": -1}
    assert run_module(sandbox, MODULE, again)["changed"] is False
    assert mutating(sandbox) == []


def test_region_from_the_region_option(clean_sandbox):
    """Without regions, the module's own region (AWS_REGION here) is the one managed."""
    result = run_module(clean_sandbox, MODULE, {"region": "eu-west-1", "http_tokens": "required"})
    assert [r["region"] for r in result["regions"]] == ["eu-west-1"]
    assert mutating(clean_sandbox) == [("ModifyInstanceMetadataDefaults", "eu-west-1")]
    assert account_level(clean_sandbox, "eu-west-1") == {"HttpTokens": "required"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            {"regions": REGIONS, "http_put_response_hop_limit": 65},
            "http_put_response_hop_limit 65 is out of range. Allowed: an integer from 1 to 64, "
            "or -1 or no-preference to clear the default",
            id="hop-limit-65",
        ),
        pytest.param(
            {"regions": REGIONS, "http_tokens": "required", "http_put_response_hop_limit": "two"},
            "http_put_response_hop_limit two is not a hop limit. Allowed: an integer from 1 to 64",
            id="hop-limit-word",
        ),
        pytest.param(
            {"regions": REGIONS, "http_put_response_hop_limit": 0},
            "http_put_response_hop_limit 0 is out of range",
            id="hop-limit-0",
        ),
        pytest.param(
            {"regions": REGIONS, "http_tokens": "mandatory"},
            "value of http_tokens must be one of: required, optional, no-preference, got: mandatory",
            id="tokens",
        ),
        pytest.param(
            {"regions": REGIONS},
            "http_tokens, http_put_response_hop_limit, http_endpoint, instance_metadata_tags are all unset",
            id="nothing-to-manage",
        ),
        pytest.param(
            {"regions": ["us-east-1", "us-moon-1"], "http_tokens": "required"},
            "regions us-moon-1 is not an AWS region known for ec2. Allowed: af-south-1, ",
            id="unknown-region",
        ),
    ],
)
def test_bad_input_fails_before_any_call(clean_sandbox, args, message):
    result = run_module(clean_sandbox, MODULE, args)
    assert result["failed"] is True
    assert result["msg"].startswith(message), result["msg"]
    assert clean_sandbox.requests(service="ec2") == []
    assert account_level(clean_sandbox, "us-east-1") == {}


def test_throttling_and_server_errors_are_retried(clean_sandbox):
    sandbox = clean_sandbox
    sandbox.set_faults(
        [
            {"service": "ec2", "operation": "GetInstanceMetadataDefaults", "throttle_rate": 1, "count": 3},
            {"service": "ec2", "operation": "ModifyInstanceMetadataDefaults", "error_rate": 1, "count": 1},
            {"service": "ec2", "operation": "ModifyInstanceMetadataDefaults", "throttle_rate": 1, "count": 1},
        ]
    )
    result = run_module(sandbox, MODULE, {"regions": REGIONS, "http_tokens": "required", "http_endpoint": "enabled"})
    assert result["changed"] is True, result
    injected = [(r["operation"], r["fault"]) for r in sandbox.requests(fault=True)]
    assert injected == [("GetInstanceMetadataDefaults", "RequestLimitExceeded")] * 3 + [
        ("ModifyInstanceMetadataDefaults", "InternalError"),
        ("ModifyInstanceMetadataDefaults", "RequestLimitExceeded"),
    ]
    sandbox.clear_faults()
    for region in REGIONS:
        assert account_level(sandbox, region) == {"HttpTokens": "required", "HttpEndpoint": "enabled"}
