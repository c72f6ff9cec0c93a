"""Account-level IMDS defaults: the GetInstanceMetadataDefaults and ModifyInstanceMetadataDefaults additions.

And RunInstances honouring them: request, then launch template, then account default, then AWS's default.
"""

import pytest
from botocore.exceptions import ClientError

IMAGE = "ami-12c6146b"


def account_level(ec2):
    return ec2.get_instance_metadata_defaults()["AccountLevel"]


def launched_options(ec2, **kwargs):
    instance = ec2.run_instances(ImageId=IMAGE, MinCount=1, MaxCount=1, **kwargs)["Instances"][0]
    described = ec2.describe_instances(InstanceIds=[instance["InstanceId"]])["Reservations"][0]["Instances"][0]
    options = described["MetadataOptions"]
    return options["HttpTokens"], options["HttpPutResponseHopLimit"], options["HttpEndpoint"]


def test_nothing_set_reads_empty(clean_sandbox):
    ec2 = clean_sandbox.client("ec2")
    assert account_level(ec2) == {"ManagedBy": "account"}
    (entry,) = clean_sandbox.requests(operation="GetInstanceMetadataDefaults")
    assert (entry["mutating"], entry["status"]) == (False, 200)


def test_modify_sets_only_named_fields_and_no_preference_clears(clean_sandbox):
    ec2 = clean_sandbox.client("ec2")
    answer = ec2.modify_instance_metadata_defaults(HttpTokens="required", HttpPutResponseHopLimit=2)
    assert answer["Return"] is True
    assert account_level(ec2) == {"HttpTokens": "required", "HttpPutResponseHopLimit": 2, "ManagedBy": "account"}

    # Only the named field changes.
    ec2.modify_instance_metadata_defaults(InstanceMetadataTags="enabled")
    assert account_level(ec2) == {
        "HttpTokens": "required",
        "HttpPutResponseHopLimit": 2,
        "InstanceMetadataTags": "enabled",
        "ManagedBy": "account",
    }

    # no-preference and -1 clear a field; the others stay.
    ec2.modify_instance_metadata_defaults(HttpPutResponseHopLimit=-1, InstanceMetadataTags="no-preference")
    assert account_level(ec2) == {"HttpTokens": "required", "ManagedBy": "account"}
    ec2.modify_instance_metadata_defaults(HttpTokens="no-preference", HttpEndpoint="disabled")
    assert account_level(ec2) == {"HttpEndpoint": "disabled", "ManagedBy": "account"}

    entries = clean_sandbox.requests(operation="ModifyInstanceMetadataDefaults")
    assert [(e["mutating"], e["status"]) for e in entries] == [(True, 200)] * 4


def test_defaults_are_per_region_and_forgotten_on_reset(clean_sandbox):
    east = clean_sandbox.client("ec2", region="us-east-1")
    west = clean_sandbox.client("ec2", region="us-west-2")
    west.modify_instance_metadata_defaults(HttpTokens="required")
    assert account_level(east) == {"ManagedBy": "account"}
    assert account_level(west)["HttpTokens"] == "required"
    clean_sandbox.reset("empty")
    assert account_level(west) == {"ManagedBy": "account"}


@pytest.mark.parametrize(
    ("params", "code", "message"),
    [
        pytest.param(
            {"HttpTokens": "mandatory"},
            "InvalidParameterValue",
            "Value (mandatory) for parameter HttpTokens is invalid. Valid values: optional, required, no-preference.",
            id="tokens",
        ),
        pytest.param(
            {"HttpTokens": "required", "HttpPutResponseHopLimit": 65},
            "InvalidParameterValue",
            "Value (65) for parameter HttpPutResponseHopLimit is invalid. "
            "Valid values: an integer from 1 to 64, or -1 for no preference.",
            id="hop-limit-65",
        ),
        pytest.param(
            {"HttpPutResponseHopLimit": 0},
            "InvalidParameterValue",
            "Value (0) for parameter HttpPutResponseHopLimit is invalid.",
            id="hop-limit-0",
        ),
        pytest.param(
            {"HttpEndpoint": "on"},
            "InvalidParameterValue",
            "Value (on) for parameter HttpEndpoint is invalid. Valid values: disabled, enabled, no-preference.",
            id="endpoint",
        ),
        pytest.param(
            {"InstanceMetadataTags": "yes"},
            "InvalidParameterValue",
            "Value (yes) for parameter InstanceMetadataTags is invalid.",
            id="tags",
        ),
        pytest.param({}, "MissingParameter", "The request must contain at least one of the parameters", id="none"),
    ],
)
def test_bad_values_are_refused_and_change_nothing(clean_sandbox, params, code, message):
    ec2 = clean_sandbox.client("ec2")
    ec2.modify_instance_metadata_defaults(HttpTokens="optional")
    with pytest.raises(ClientError) as raised:
        ec2.modify_instance_metadata_defaults(**params)
    error = raised.value.response["Error"]
    assert error["Code"] == code
    assert error["Message"].startswith(message), error["Message"]
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    # a request with one good and one bad field keeps neither
    assert account_level(ec2) == {"HttpTokens": "optional", "ManagedBy": "account"}


def test_dry_run(clean_sandbox):
    ec2 = clean_sandbox.client("ec2")
    with pytest.raises(ClientError) as raised:
        ec2.modify_instance_metadata_defaults(HttpTokens="required", DryRun=True)
    assert raised.value.response["Error"]["Code"] == "DryRunOperation"
    assert account_level(ec2) == {"ManagedBy": "account"}


def test_run_instances_honours_the_account_default(clean_sandbox):
    ec2 = clean_sandbox.client("ec2")
    # No default: moto's (AWS's) launch defaults.
    assert launched_options(ec2) == ("optional", 1, "enabled")

    ec2.modify_instance_metadata_defaults(HttpTokens="required", HttpPutResponseHopLimit=2)
    assert launched_options(ec2) == ("required", 2, "enabled")
    # The launch request wins over the account default, field by field.
    assert launched_options(ec2, MetadataOptions={"HttpTokens": "optional"}) == ("optional", 2, "enabled")
    # A launch template's metadata options win over the account default too.
    ec2.create_launch_template(
        LaunchTemplateName="imds-template",
        LaunchTemplateData={"MetadataOptions": {"HttpPutResponseHopLimit": 3}},
    )
    assert launched_options(ec2, LaunchTemplate={"LaunchTemplateName": "imds-template"}) == ("required", 3, "enabled")

    # Other regions are not affected; clearing the default restores the launch default.
    assert launched_options(clean_sandbox.client("ec2", region="us-west-2")) == ("optional", 1, "enabled")
    ec2.modify_instance_metadata_defaults(HttpTokens="no-preference", HttpPutResponseHopLimit=-1)
    assert launched_options(ec2) == ("optional", 1, "enabled")
