"""KMS keys the integration tests make in the sandbox."""

import json

OTHER_TEAM_ROLE = "arn:aws:iam::123456789012:role/someone-else"


def key_of_another_team(sandbox, alias, regions, description):
    """A key in each of ``regions`` under ``alias`` whose policy lets only another team's role use it: it names
    neither the principal running the play nor the account, so no IAM policy can allow the play either."""
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "KeyUse",
                "Effect": "Allow",
                "Principal": {"AWS": [OTHER_TEAM_ROLE]},
                "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
                "Resource": "*",
            }
        ],
    }
    for region in regions:
        kms = sandbox.client("kms", region)
        key = kms.create_key(Description=description, Policy=json.dumps(policy))["KeyMetadata"]
        kms.create_alias(AliasName=alias, TargetKeyId=key["KeyId"])
