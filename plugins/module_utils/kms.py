# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""KMS key references, checked before a module uses them.

A module option that names a KMS key (``kms_key_id``) accepts what AWS accepts:
a key id, a multi-Region key id (``mrk-...``), an alias name (``alias/...``),
a key ARN or an alias ARN. parse_kms_key_id() checks the form without calling
AWS; require_usable_kms_key() then asks KMS (DescribeKey, read-only) whether the
key exists in the target region and can encrypt. Both raise ParameterError with
a message that names the option.
"""

import re
from collections import namedtuple

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.errors import AWSErrorHandler
from ansible_collections.amazon.aws.plugins.module_utils.exceptions import AnsibleAWSError
from ansible_collections.medcircle.cloudops.plugins.module_utils.common import ParameterError

_KEY_ID = r"(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})"
_ALIAS_NAME = r"alias/[a-zA-Z0-9:/_-]{1,250}"
_ARN_PREFIX = r"arn:(?P<partition>aws[a-z-]*):kms:(?P<region>[a-z0-9-]+):(?P<account>[0-9]{12}):"

KEY_ID_PATTERN = re.compile(rf"^{_KEY_ID}$")
ALIAS_NAME_PATTERN = re.compile(rf"^{_ALIAS_NAME}$")
KEY_ARN_PATTERN = re.compile(rf"^{_ARN_PREFIX}key/{_KEY_ID}$")
ALIAS_ARN_PATTERN = re.compile(rf"^{_ARN_PREFIX}{_ALIAS_NAME}$")

ALLOWED_FORMS = (
    "a key id (1234abcd-12ab-34cd-56ef-1234567890ab), a multi-Region key id (mrk-...), "
    "an alias name (alias/my-key), a key ARN (arn:aws:kms:REGION:ACCOUNT:key/...) "
    "or an alias ARN (arn:aws:kms:REGION:ACCOUNT:alias/my-key)"
)

# KeyState values that let a key encrypt new data.
USABLE_KEY_STATES = ("Enabled",)

KmsKeyRef = namedtuple("KmsKeyRef", ["value", "kind", "region"])
KmsKeyRef.__doc__ = """A well-formed KMS key reference.

value: the reference as given; kind: key_id, alias_name, key_arn or alias_arn;
region: the region of an ARN, None for ids and alias names (they resolve in
whatever region they are used).
"""


class KmsErrorHandler(AWSErrorHandler):
    _CUSTOM_EXCEPTION = AnsibleAWSError

    @classmethod
    def _is_missing(cls):
        return is_boto3_error_code("NotFoundException")


def parse_kms_key_id(value, option="kms_key_id"):
    """Classify a KMS key reference by its form, without calling AWS."""
    if isinstance(value, str):
        for kind, pattern in (
            ("key_id", KEY_ID_PATTERN),
            ("alias_name", ALIAS_NAME_PATTERN),
            ("key_arn", KEY_ARN_PATTERN),
            ("alias_arn", ALIAS_ARN_PATTERN),
        ):
            match = pattern.match(value)
            if match:
                region = match.group("region") if kind.endswith("_arn") else None
                return KmsKeyRef(value=value, kind=kind, region=region)
    raise ParameterError(option, value, "is not a well-formed KMS key reference", ALLOWED_FORMS)


def check_kms_key_region(ref, region, option="kms_key_id"):
    """An ARN names one region; a key used in ``region`` must live there."""
    if ref.region is not None and ref.region != region:
        raise ParameterError(
            option,
            ref.value,
            f"is a KMS ARN in {ref.region} and cannot be used in {region}",
            f"a key or alias ARN in {region}, or a key id or alias name that exists in every target region",
        )


@KmsErrorHandler.list_error_handler("describe KMS key")
def describe_kms_key(client, key_id):
    """KeyMetadata of a key (any reference form), or None if KMS does not know it."""
    return client.describe_key(KeyId=key_id, aws_retry=True)["KeyMetadata"]


def require_usable_kms_key(client, ref, region, option="kms_key_id"):
    """KeyMetadata of a key that exists in ``region``, is enabled and encrypts symmetrically.

    ``client`` is a KMS client for ``region``. Raises ParameterError otherwise.
    """
    check_kms_key_region(ref, region, option)
    metadata = describe_kms_key(client, ref.value)
    if metadata is None:
        raise ParameterError(option, ref.value, f"was not found in {region}", "an existing KMS key or alias")
    state = metadata.get("KeyState")
    if state not in USABLE_KEY_STATES:
        raise ParameterError(
            option,
            ref.value,
            f"resolves to {metadata['Arn']}, which is {state} in {region}",
            "an enabled key (not Disabled, PendingDeletion, PendingImport or Unavailable)",
        )
    if metadata.get("KeyUsage", "ENCRYPT_DECRYPT") != "ENCRYPT_DECRYPT" or (
        metadata.get("KeySpec", "SYMMETRIC_DEFAULT") != "SYMMETRIC_DEFAULT"
    ):
        raise ParameterError(
            option,
            ref.value,
            f"resolves to {metadata['Arn']}, which is not a symmetric encryption key",
            "a key with KeySpec SYMMETRIC_DEFAULT and KeyUsage ENCRYPT_DECRYPT",
        )
    return metadata
