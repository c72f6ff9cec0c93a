"""What every seed shares: boto3 clients on the sandbox endpoint, the estate's stable names, the summary.

Seeds build the estate through the same public AWS APIs the collection uses, so moto's state stays the one
source of truth. Names here are the contract with the audit and the tests: they look resources up by them.
"""

import json
import threading
from collections import defaultdict

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

ACCOUNT_ID = "123456789012"
PRIMARY_REGION = "us-east-1"
DR_REGION = "us-west-2"
CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}

# Stable names shared by both estates.
STACK_NAME = "medcircle-stack"
VPC_NAME = "medcircle-vpc"
INSTANCE_NAME = "medcircle-app"
APP_SG = "medcircle-app-sg"
DB_SG = "medcircle-db-sg"
LEGACY_SG = "medcircle-legacy-sg"
DB_ID = "medcircledb"
DB_PARAMETER_GROUP = "medcircle-mysql80"
DB_SUBNET_GROUP = "medcircle-db-subnets"
DATA_BUCKET = f"medcircle-patient-records-{ACCOUNT_ID}"
HOSTED_ZONE = "medcircle.example."
APP_RECORD = "app.medcircle.example."
IAM_USERS = ("admin", "developer", "s3user", "finance")
BASE_TAGS = {"Project": "medcircle", "Environment": "prod"}

# One attempt per call: the sandbox is local, and an operation moto lacks answers 500, which botocore would
# otherwise retry with back-off for seconds.
_CONFIG = Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=60)


def tag_list(tags: dict) -> list[dict]:
    """EC2/IAM style tag list from a dict."""
    return [{"Key": key, "Value": value} for key, value in tags.items()]


def tags_with_name(name: str, extra: dict | None = None) -> list[dict]:
    return tag_list({"Name": name, **BASE_TAGS, **(extra or {})})


def policy_document(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def trust_policy(service: str) -> str:
    return policy_document({"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"})


class Summary:
    """What a seed created, ids by kind; ``unsupported`` lists what the sandbox could not create and why."""

    def __init__(self, seed: str):
        self.seed = seed
        self.kinds: dict[str, dict] = defaultdict(dict)
        self.unsupported: list[dict] = []

    def add(self, kind: str, name: str, resource_id) -> None:
        self.kinds[kind][name] = resource_id

    def as_dict(self) -> dict:
        result = {"seed": self.seed, "account_id": ACCOUNT_ID}
        result.update({kind: dict(items) for kind, items in sorted(self.kinds.items())})
        result["unsupported"] = list(self.unsupported)
        return result


_SESSION_LOCK = threading.Lock()
_SESSION: boto3.session.Session | None = None
_CLIENTS: dict[tuple[str, str, str], object] = {}


class Aws:
    """boto3 clients for one sandbox endpoint, cached across seedings (loading service models is the slow part)."""

    def __init__(self, endpoint_url: str):
        self.endpoint_url = endpoint_url

    def client(self, service: str, region: str = PRIMARY_REGION):
        global _SESSION
        key = (self.endpoint_url, service, region)
        with _SESSION_LOCK:
            if key not in _CLIENTS:
                if _SESSION is None:
                    _SESSION = boto3.session.Session(**CREDENTIALS)
                _CLIENTS[key] = _SESSION.client(
                    service, region_name=region, endpoint_url=self.endpoint_url, config=_CONFIG
                )
            return _CLIENTS[key]


def _lacks_operation(error: Exception) -> bool:
    """True when the sandbox does not implement the operation (moto answers 500/501 or a non-AWS body)."""
    if isinstance(error, ClientError):
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        code = error.response.get("Error", {}).get("Code", "")
        return status >= 500 or code in {"NotImplemented", "InvalidAction", "UnknownOperationException", "500"}
    return isinstance(error, ResponseParserError)  # moto's HTML error page where a query/XML reply was due


def optional(summary: Summary, what: str, call, *args, **kwargs):
    """Run ``call``; if the sandbox lacks the operation, record it in the summary and return None.

    Used only for operations known to be missing from moto 5.2 (see sandbox/README.md, Seeds), so the seed
    picks them up unchanged once the sandbox's additions provide them. Any other error propagates.
    """
    try:
        return call(*args, **kwargs)
    except (ClientError, BotoCoreError, ResponseParserError) as error:
        if not _lacks_operation(error):
            raise
        operation = getattr(call, "__name__", str(call))
        summary.unsupported.append({"what": what, "operation": operation, "error": str(error).splitlines()[0][:200]})
        return None


def find_image(ec2, name: str) -> dict | None:
    images = ec2.describe_images(Filters=[{"Name": "name", "Values": [name]}])["Images"]
    return images[0] if images else None
