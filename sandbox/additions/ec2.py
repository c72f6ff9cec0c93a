"""EC2: the default KMS key of EBS encryption by default (GetEbsDefaultKmsKeyId, ResetEbsDefaultKmsKeyId).

moto keeps the default key as ``default_kms_key_id`` on its EC2 backend and implements
ModifyEbsDefaultKmsKeyId, but has no Get or Reset. AWS reports the AWS managed key
as the ARN of the alias ``alias/aws/ebs`` until a customer key is set.
"""

from sandbox.additions import addition


def _managed_alias_arn(ctx):
    return f"arn:aws:kms:{ctx.region}:{ctx.account_id}:alias/aws/ebs"


@addition("ec2", "GetEbsDefaultKmsKeyId", example={})
def get_ebs_default_kms_key_id(ctx):
    return {"KmsKeyId": ctx.backend("ec2").default_kms_key_id or _managed_alias_arn(ctx)}


@addition("ec2", "ResetEbsDefaultKmsKeyId", example={})
def reset_ebs_default_kms_key_id(ctx):
    ctx.backend("ec2").default_kms_key_id = ""
    return {"KmsKeyId": _managed_alias_arn(ctx)}
