"""Every registered addition answers a real boto3 client, and its output fits the botocore output shape.

Parametrized over the registry: a new addition is covered as soon as its module is in
sandbox/additions/, using the ``example=`` request it declares.
"""

import botocore.session
import pytest
from botocore import xform_name

from sandbox import additions, shapes

REGISTRY = additions.registry()


@pytest.mark.parametrize("item", REGISTRY, ids=[item.key for item in REGISTRY])
def test_addition_answers_in_shape(clean_sandbox, item):
    assert item.example is not None, f"{item.key} needs an example= request for this test"

    def client(service, region="us-east-1"):
        return clean_sandbox.client(service, region=region)

    params = item.example(client) if callable(item.example) else dict(item.example)
    aws = clean_sandbox.client(item.service)
    response = getattr(aws, xform_name(item.operation))(**params)
    assert response["ResponseMetadata"]["HTTPStatusCode"] < 300

    (summary,) = [
        s for s in clean_sandbox.additions() if (s["service"], s["operation"]) == (item.service, item.operation)
    ]
    assert summary["last_error"] is None
    assert summary["calls"] == 1
    output_shape = (
        botocore.session.get_session().get_service_model(item.service).operation_model(item.operation).output_shape
    )
    output = summary["last_output"] or {}
    assert shapes.validate(output_shape, output) == []
    # what botocore parsed is what the handler returned
    parsed = {key: value for key, value in response.items() if key != "ResponseMetadata"}
    assert set(parsed) == {key for key, value in output.items() if value is not None}


def test_registry_is_loaded():
    keys = {item.key for item in REGISTRY}
    assert {"cloudformation:UpdateTerminationProtection", "cloudformation:DeleteStack"} <= keys
