"""Shared fixtures of the unit tests.

AWS is replaced by botocore's Stubber on real boto3 clients: every stubbed call
is checked against the service model, and any call that was not stubbed fails
the test, so "no mutating call" is asserted by simply not stubbing one.

tests/conftest.py puts .collections on sys.path, so the collection imports as
ansible_collections.medcircle.cloudops beside amazon.aws from the venv.
"""

import boto3
import pytest
from ansible_collections.amazon.aws.plugins.module_utils.retries import (
    AWSRetry,
    RetryingBotoClientWrapper,
)
from botocore.stub import Stubber


class StubbedAws:
    """Real boto3 clients, one per (service, region), each behind a Stubber.

    ``client()`` returns the client the way AnsibleAWSModule.client() does with
    a retry decorator, so code under test calls it with ``aws_retry=True``.
    """

    def __init__(self):
        self._clients = {}
        self._stubbers = {}

    def _ensure(self, service, region):
        key = (service, region)
        if key not in self._clients:
            client = boto3.client(
                service,
                region_name=region,
                aws_access_key_id="AKIDEXAMPLE",
                aws_secret_access_key="secret",
            )
            stubber = Stubber(client)
            stubber.activate()
            self._stubbers[key] = stubber
            # A zero-delay retry keeps throttling tests fast.
            retry = AWSRetry.jittered_backoff(retries=3, delay=0, max_delay=0)
            self._clients[key] = RetryingBotoClientWrapper(client, retry)
        return key

    def client(self, service, region):
        return self._clients[self._ensure(service, region)]

    def stub(self, service, region):
        return self._stubbers[self._ensure(service, region)]

    def clients(self, service, regions):
        return {region: self.client(service, region) for region in regions}

    # Canned responses, shaped as the service models say.

    def ebs_state(self, region, enabled, kms_key_id):
        """GetEbsEncryptionByDefault + GetEbsDefaultKmsKeyId, in that order."""
        ec2 = self.stub("ec2", region)
        ec2.add_response("get_ebs_encryption_by_default", {"EbsEncryptionByDefault": enabled}, {})
        ec2.add_response("get_ebs_default_kms_key_id", {"KmsKeyId": kms_key_id}, {})

    def describe_key(self, region, key_id, arn, state="Enabled", **metadata):
        """kms DescribeKey answering with a key (KeyState ``state``)."""
        key_metadata = {
            "KeyId": arn.rsplit("/", 1)[-1],
            "Arn": arn,
            "KeyState": state,
            "Enabled": state == "Enabled",
            "KeyUsage": "ENCRYPT_DECRYPT",
            "KeySpec": "SYMMETRIC_DEFAULT",
            "KeyManager": "CUSTOMER",
        }
        key_metadata.update(metadata)
        self.stub("kms", region).add_response("describe_key", {"KeyMetadata": key_metadata}, {"KeyId": key_id})

    def key_not_found(self, region, key_id):
        """kms DescribeKey answering NotFoundException."""
        self.stub("kms", region).add_client_error(
            "describe_key",
            service_error_code="NotFoundException",
            service_message=f"Alias {key_id} is not found.",
            http_status_code=400,
            expected_params={"KeyId": key_id},
        )

    def assert_no_pending_responses(self):
        for stubber in self._stubbers.values():
            stubber.assert_no_pending_responses()

    def deactivate(self):
        for stubber in self._stubbers.values():
            stubber.deactivate()


@pytest.fixture
def aws():
    """Stubbed AWS; fails the test if a stubbed response was not used."""
    stubbed = StubbedAws()
    yield stubbed
    try:
        stubbed.assert_no_pending_responses()
    finally:
        stubbed.deactivate()


@pytest.fixture(autouse=True)
def fresh_module_warnings():
    """Start every test with no warnings or deprecations, as every module process does.

    ansible-core keeps a module run's warnings in module-level storage; tests that run modules in this one
    process would otherwise see the warnings of the tests before them.
    """
    from ansible.module_utils.common import warnings

    warnings._global_warnings.clear()
    warnings._global_deprecations.clear()
    yield
