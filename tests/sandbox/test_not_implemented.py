"""What moto lacks is answered at once with a clear NotImplemented (HTTP 501, not retried)."""

import pytest
from botocore.exceptions import ClientError


@pytest.mark.parametrize(
    ("service", "call", "why"),
    [
        (
            "ec2",
            lambda c: c.describe_capacity_block_offerings(
                CapacityDurationHours=24, InstanceCount=1, InstanceType="p5.48xlarge"
            ),
            "has not been implemented",
        ),
        ("frauddetector", lambda c: c.get_detectors(), "moto has no frauddetector"),
    ],
    ids=["operation", "service"],
)
def test_missing_operations_answer_not_implemented(quiet_sandbox, service, call, why):
    with pytest.raises(ClientError) as raised:
        call(quiet_sandbox.client(service))
    error = raised.value.response
    assert error["Error"]["Code"] == "NotImplemented"
    assert why in error["Error"]["Message"] and "sandbox/additions/" in error["Error"]["Message"]
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert error["ResponseMetadata"]["RetryAttempts"] == 0
    (entry,) = quiet_sandbox.requests()
    assert (entry["service"], entry["status"]) == (service, 501)
