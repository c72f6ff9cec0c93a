"""IAM: service last accessed data (Access Advisor), from the requests the sandbox received.

moto 5.2 has neither GenerateServiceLastAccessedDetails nor GetServiceLastAccessedDetails. AWS answers them
from what it records of every request: which principal (the owner of the access key that signed it) made an
attempt on which service namespace, with which action, where and when. The sandbox records the same
(``record``, called by the middleware for every AWS request it answers, seeding excepted): per access key and
namespace (the SigV4 signing name), and per access key, namespace and operation, the latest time and region.
Attempts count, whatever their answer, as in AWS.

- GenerateServiceLastAccessedDetails(Arn, Granularity) takes the ARN of a user, group, role or managed policy
  (customer or AWS managed) and answers a JobId. The report is computed at once (a snapshot): an unknown
  entity is ``NoSuchEntity`` (404); a malformed ARN or a Granularity other than SERVICE_LEVEL (the default)
  or ACTION_LEVEL is ``InvalidInput``.
- GetServiceLastAccessedDetails(JobId, MaxItems, Marker) answers the job, COMPLETED, MaxItems (default 100)
  services a page; an unknown JobId is ``NoSuchEntity``.

The report lists every service namespace the entity's permissions policies allow, used or not, sorted by
namespace: a user's inline and attached policies and those of its groups; a group's or a role's inline and
attached policies; a managed policy's default version. Allow statements count: ``Action`` patterns (``*`` and
``?`` wildcards, case-insensitive) select namespaces; ``NotAction`` allows every namespace its patterns do not
cover whole (``svc:*``). Deny statements, resources, conditions and permissions boundaries are not read (AWS's
report does not apply them either). The namespaces are botocore's signing names (``monitoring`` is
``cloudwatch``, ``tagging`` is ``tag``).

Principals behind the keys, as they are when the job is generated: a user's access keys; a role's temporary
keys from STS AssumeRole. A group stands for its member users; a managed policy for every user, group
member and role it is attached to. Per service, ``LastAuthenticated`` is the latest use by any of them, with
that principal's ARN and region, and ``TotalAuthenticatedEntities`` counts the principals that used it.
With ACTION_LEVEL, the services whose actions AWS tracks (EC2, IAM, Lambda, S3) list the actions used
(``TrackedActionsLastAccessed``; S3 operations under their IAM action names, such as ListAllMyBuckets).
Keys no principal owns (the sandbox's default test credentials) are attributed to nobody.

Recorded uses and jobs are forgotten when the sandbox resets.
"""

import datetime
import json
import re
import threading
import time
import uuid
from urllib.parse import unquote

from sandbox.additions import AdditionError, addition, on_reset

SERVICE_LEVEL = "SERVICE_LEVEL"
ACTION_LEVEL = "ACTION_LEVEL"
DEFAULT_MAX_ITEMS = 100
# The services whose actions IAM tracks, as Access Advisor reports them.
TRACKED = frozenset({"ec2", "iam", "lambda", "s3"})
# Signing names whose IAM namespace is another name.
NAMESPACE_ALIASES = {"monitoring": "cloudwatch", "tagging": "tag"}
# S3 operations whose IAM action has another name.
S3_ACTIONS = {
    "ListBuckets": "ListAllMyBuckets",
    "ListDirectoryBuckets": "ListAllMyDirectoryBuckets",
    "HeadBucket": "ListBucket",
    "ListObjects": "ListBucket",
    "ListObjectsV2": "ListBucket",
    "ListObjectVersions": "ListBucketVersions",
    "ListMultipartUploads": "ListBucketMultipartUploads",
    "HeadObject": "GetObject",
    "CopyObject": "PutObject",
    "CreateMultipartUpload": "PutObject",
    "UploadPart": "PutObject",
    "UploadPartCopy": "PutObject",
    "CompleteMultipartUpload": "PutObject",
    "DeleteObjects": "DeleteObject",
    "GetBucketEncryption": "GetEncryptionConfiguration",
    "PutBucketEncryption": "PutEncryptionConfiguration",
    "DeleteBucketEncryption": "PutEncryptionConfiguration",
    "GetBucketLifecycleConfiguration": "GetLifecycleConfiguration",
    "PutBucketLifecycleConfiguration": "PutLifecycleConfiguration",
    "DeleteBucketLifecycle": "PutLifecycleConfiguration",
    "GetBucketReplication": "GetReplicationConfiguration",
    "PutBucketReplication": "PutReplicationConfiguration",
    "DeleteBucketReplication": "PutReplicationConfiguration",
    "GetObjectLockConfiguration": "GetBucketObjectLockConfiguration",
    "PutObjectLockConfiguration": "PutBucketObjectLockConfiguration",
    "GetPublicAccessBlock": "GetBucketPublicAccessBlock",
    "PutPublicAccessBlock": "PutBucketPublicAccessBlock",
    "DeletePublicAccessBlock": "PutBucketPublicAccessBlock",
    "DeleteBucketTagging": "PutBucketTagging",
    "DeleteBucketCors": "PutBucketCORS",
    "GetBucketCors": "GetBucketCORS",
    "PutBucketCors": "PutBucketCORS",
    "GetBucketNotificationConfiguration": "GetBucketNotification",
    "PutBucketNotificationConfiguration": "PutBucketNotification",
    "DeleteBucketOwnershipControls": "PutBucketOwnershipControls",
}
_ARN_RE = re.compile(r"^arn:(aws[\w-]*):iam::(\d{12}|aws):(user|group|role|policy)(/(?:[\x21-\x7e]*/)?)([\w+=,.@-]+)$")

# --- what was used, by whom -------------------------------------------------------------------

_lock = threading.Lock()
# (access key, namespace) -> (epoch seconds, region) of the latest request
_services: dict[tuple[str, str], tuple[float, str | None]] = {}
# (access key, namespace, operation) -> (epoch seconds, region) of the latest request, tracked services only
_actions: dict[tuple[str, str, str], tuple[float, str | None]] = {}
# JobId -> the job and its report
_jobs: dict[str, dict] = {}


def record(access_key: str | None, signing_name: str | None, operation: str, region: str | None) -> None:
    """Note one request signed by ``access_key`` for ``signing_name``'s namespace (every request: keep it cheap)."""
    if not access_key or not signing_name:
        return
    namespace = NAMESPACE_ALIASES.get(signing_name, signing_name)
    with _lock:
        now = time.time()
        _services[(access_key, namespace)] = (now, region)
        if namespace in TRACKED and operation != "unknown":
            _actions[(access_key, namespace, operation)] = (now, region)


@on_reset
def _forget() -> None:
    with _lock:
        _services.clear()
        _actions.clear()
        _jobs.clear()


# --- the namespaces IAM knows -----------------------------------------------------------------

_universe: dict[str, str] | None = None
_universe_lock = threading.Lock()


def service_names() -> dict[str, str]:
    """IAM namespace -> service name, for every service botocore has a model of (built once: it reads them all)."""
    global _universe
    if _universe is not None:
        return _universe
    with _universe_lock:
        if _universe is None:
            import botocore.session

            loader = botocore.session.get_session().get_component("data_loader")
            candidates: dict[str, list[tuple[int, str, str]]] = {}
            for name in loader.list_available_services("service-2"):
                metadata = loader.load_service_model(name, "service-2").get("metadata", {})
                signing = metadata.get("signingName") or metadata.get("endpointPrefix")
                if not signing:
                    continue
                namespace = NAMESPACE_ALIASES.get(signing, signing)
                # the model named like the namespace (s3, not s3control) names the service
                rank = 0 if name in (namespace, signing) else 1
                candidates.setdefault(namespace, []).append((rank, name, metadata.get("serviceFullName") or name))
            _universe = {namespace: min(found)[2] for namespace, found in candidates.items()}
    return _universe


# --- what the policies allow --------------------------------------------------------------------


def _document(raw) -> dict:
    """A policy document as moto keeps it (JSON, possibly URL-encoded) as a dict; {} when unreadable."""
    if isinstance(raw, dict):
        return raw
    text = raw or ""
    for candidate in (text, unquote(text)):
        try:
            document = json.loads(candidate)
        except (TypeError, ValueError):
            continue
        return document if isinstance(document, dict) else {}
    return {}


def _listed(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


def _wildcard(pattern: str) -> re.Pattern:
    return re.compile(re.escape(pattern).replace(r"\*", ".*").replace(r"\?", "."), re.IGNORECASE)


def _namespaces(patterns: list[str], universe, whole_only: bool = False) -> set[str]:
    """The namespaces ``patterns`` name (``whole_only``: only those covered for every action, ``svc:*``)."""
    found = set()
    for pattern in patterns:
        if pattern.strip("*") == "":
            return set(universe)
        service, colon, action = pattern.partition(":")
        if not colon or (whole_only and action.strip("*") != ""):
            continue
        regex = _wildcard(service)
        found.update(namespace for namespace in universe if regex.fullmatch(namespace))
    return found


def allowed_namespaces(documents: list[dict]) -> set[str]:
    """The namespaces the Allow statements of ``documents`` grant some action of."""
    universe = service_names()
    allowed: set[str] = set()
    for document in documents:
        statements = document.get("Statement", [])
        for statement in statements if isinstance(statements, list) else [statements]:
            if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
                continue
            if "Action" in statement:
                allowed |= _namespaces(_listed(statement["Action"]), universe)
            elif "NotAction" in statement:
                allowed |= set(universe) - _namespaces(_listed(statement["NotAction"]), universe, whole_only=True)
    return allowed


def _default_document(policy) -> dict:
    versions = getattr(policy, "versions", [])
    for version in versions:
        if version.version_id == policy.default_version_id:
            return _document(version.document)
    return _document(versions[0].document) if versions else {}


def _own_documents(entity) -> list[dict]:
    """The inline and attached policies of a user, group or role."""
    documents = [_document(raw) for raw in entity.policies.values()]
    documents += [_default_document(policy) for policy in entity.managed_policies.values()]
    return documents


# --- entities, principals and their keys -------------------------------------------------------


def _not_found(kind: str, name: str) -> AdditionError:
    return AdditionError("NoSuchEntity", f"The {kind} with name {name} cannot be found.", 404)


def _groups_of(iam, user) -> list:
    return [group for group in iam.groups.values() if any(member is user for member in group.users)]


def _role_keys(ctx, role) -> list[str]:
    """The access keys STS gave out for ``role`` (AssumeRole and its kin)."""
    sts = ctx.backend("sts", "global")
    return [assumed.access_key_id for assumed in sts.assumed_roles if assumed.role_arn == role.arn]


def _user_keys(user) -> list[str]:
    return [key.access_key_id for key in user.access_keys]


def _entity(ctx, arn: str):
    """(documents, principals) of the entity ``arn`` names; principals: [(ARN, [access key ids])]."""
    match = _ARN_RE.match(arn or "")
    if match is None:
        raise AdditionError("InvalidInput", f"ARN {arn} is not valid.")
    account, kind, name = match.group(2), match.group(3), match.group(5)
    if account == "aws" and kind != "policy":
        raise AdditionError("InvalidInput", f"ARN {arn} is not valid.")
    iam = ctx.backend("iam", "global")
    if account not in ("aws", ctx.account_id):
        raise _not_found(kind, name)
    if kind == "user":
        user = next((user for user in iam.users.values() if user.arn == arn), None)
        if user is None:
            raise _not_found(kind, name)
        documents = _own_documents(user)
        for group in _groups_of(iam, user):
            documents += _own_documents(group)
        return documents, [(user.arn, _user_keys(user))]
    if kind == "group":
        group = next((group for group in iam.groups.values() if group.arn == arn), None)
        if group is None:
            raise _not_found(kind, name)
        return _own_documents(group), [(user.arn, _user_keys(user)) for user in group.users]
    if kind == "role":
        role = next((role for role in iam.roles.values() if role.arn == arn), None)
        if role is None:
            raise _not_found(kind, name)
        return _own_documents(role), [(role.arn, _role_keys(ctx, role))]
    policy = iam.managed_policies.get(arn)
    if policy is None:
        raise AdditionError("NoSuchEntity", f"Policy {arn} does not exist or is not attachable.", 404)
    principals: dict[str, list[str]] = {}
    for user in iam.users.values():
        if arn in user.managed_policies or any(arn in group.managed_policies for group in _groups_of(iam, user)):
            principals[user.arn] = _user_keys(user)
    for role in iam.roles.values():
        if arn in role.managed_policies:
            principals[role.arn] = _role_keys(ctx, role)
    return [_default_document(policy)], list(principals.items())


# --- the report -------------------------------------------------------------------------------


def _when(seconds: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC)


def _action_name(namespace: str, operation: str) -> str:
    return S3_ACTIONS.get(operation, operation) if namespace == "s3" else operation


def report(documents: list[dict], principals: list[tuple[str, list[str]]], granularity: str) -> list[dict]:
    """ServicesLastAccessed for an entity: every allowed namespace, with the principals' latest uses."""
    names = service_names()
    owner = {key: principal for principal, keys in principals for key in keys}
    with _lock:
        services = [(key[1], owner[key[0]], *use) for key, use in _services.items() if key[0] in owner]
        actions = [(key[1], key[2], owner[key[0]], *use) for key, use in _actions.items() if key[0] in owner]
    latest: dict[str, tuple[float, str, str | None]] = {}
    users: dict[str, set[str]] = {}
    for namespace, principal, when, region in services:
        users.setdefault(namespace, set()).add(principal)
        if namespace not in latest or when > latest[namespace][0]:
            latest[namespace] = (when, principal, region)
    latest_actions: dict[str, dict[str, tuple[float, str, str | None]]] = {}
    for namespace, operation, principal, when, region in actions:
        name = _action_name(namespace, operation)
        used = latest_actions.setdefault(namespace, {})
        if name not in used or when > used[name][0]:
            used[name] = (when, principal, region)
    entries = []
    for namespace in sorted(allowed_namespaces(documents)):
        entry = {"ServiceName": names[namespace], "ServiceNamespace": namespace}
        if namespace in latest:
            when, principal, region = latest[namespace]
            entry["LastAuthenticated"] = _when(when)
            entry["LastAuthenticatedEntity"] = principal
            if region:
                entry["LastAuthenticatedRegion"] = region
            entry["TotalAuthenticatedEntities"] = len(users[namespace])
        else:
            entry["TotalAuthenticatedEntities"] = 0
        if granularity == ACTION_LEVEL and namespace in TRACKED:
            tracked = []
            for name, (when, principal, region) in sorted(latest_actions.get(namespace, {}).items()):
                action = {"ActionName": name, "LastAccessedEntity": principal, "LastAccessedTime": _when(when)}
                if region:
                    action["LastAccessedRegion"] = region
                tracked.append(action)
            entry["TrackedActionsLastAccessed"] = tracked
        entries.append(entry)
    return entries


# --- the operations -----------------------------------------------------------------------------


def _example_generate(client):
    iam = client("iam")
    iam.create_user(UserName="sandbox-example-last-accessed")
    iam.put_user_policy(
        UserName="sandbox-example-last-accessed",
        PolicyName="s3",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
        ),
    )
    return {"Arn": iam.get_user(UserName="sandbox-example-last-accessed")["User"]["Arn"], "Granularity": ACTION_LEVEL}


def _example_get(client):
    return {"JobId": client("iam").generate_service_last_accessed_details(**_example_generate(client))["JobId"]}


@addition("iam", "GenerateServiceLastAccessedDetails", example=_example_generate)
def generate_service_last_accessed_details(ctx):
    arn = ctx.require("Arn")
    granularity = ctx.param("Granularity", SERVICE_LEVEL)
    if granularity not in (SERVICE_LEVEL, ACTION_LEVEL):
        raise AdditionError(
            "InvalidInput", f"Granularity {granularity} is not valid: use {SERVICE_LEVEL} or {ACTION_LEVEL}."
        )
    documents, principals = _entity(ctx, arn)
    created = datetime.datetime.now(datetime.UTC)
    services = report(documents, principals, granularity)
    job_id = str(uuid.uuid4())
    job = {
        "Arn": arn,
        "AccountId": ctx.account_id,
        "JobType": granularity,
        "JobCreationDate": created,
        "JobCompletionDate": datetime.datetime.now(datetime.UTC),
        "ServicesLastAccessed": services,
    }
    with _lock:
        _jobs[job_id] = job
    return {"JobId": job_id}


@addition("iam", "GetServiceLastAccessedDetails", example=_example_get)
def get_service_last_accessed_details(ctx):
    job_id = ctx.require("JobId")
    with _lock:
        job = _jobs.get(job_id)
    if job is None or job["AccountId"] != ctx.account_id:
        raise AdditionError("NoSuchEntity", f"Job with id {job_id} does not exist.", 404)
    max_items = ctx.param("MaxItems", DEFAULT_MAX_ITEMS)
    if not isinstance(max_items, int) or not 1 <= max_items <= 1000:
        raise AdditionError("InvalidInput", f"MaxItems {max_items} is not valid: use 1 to 1000.")
    marker = ctx.param("Marker")
    start = 0
    if marker is not None:
        if not str(marker).isdigit():
            raise AdditionError("InvalidInput", f"Marker {marker} is not valid.")
        start = int(marker)
    services = job["ServicesLastAccessed"]
    end = start + max_items
    output = {
        "JobStatus": "COMPLETED",
        "JobType": job["JobType"],
        "JobCreationDate": job["JobCreationDate"],
        "JobCompletionDate": job["JobCompletionDate"],
        "ServicesLastAccessed": services[start:end],
        "IsTruncated": end < len(services),
    }
    if end < len(services):
        output["Marker"] = str(end)
    return output
