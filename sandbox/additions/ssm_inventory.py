"""Systems Manager inventory reads moto lacks: DescribeInstanceInformation, DescribeInstancePatchStates,
ListComplianceSummaries, ListComplianceItems, ListResourceComplianceSummaries.

Managed instances come from moto's own state, computed at each call, as on AWS: an EC2 instance whose
instance profile's role lets the SSM agent register (``AmazonSSMManagedInstanceCore`` attached, or any
managed or inline policy allowing ``ssm:UpdateInstanceInformation`` or ``ssmmessages:*``) is a managed
instance: PingStatus Online while running, ConnectionLost when stopped; PlatformType Linux;
PlatformName/PlatformVersion from the instance's root filesystem's ``/etc/os-release`` when it is backed
by one (tag ``sandbox:rootfs``, see ``sandbox.additions.ssm_run_command``), else from its AMI's name
(Amazon Linux 2 for the seeded ``amzn2`` image). An instance tagged ``sandbox:ssm-agent=none`` has no SSM
agent (an image that does not ship it): whatever its role, it never registers and stays NotRegistered.

Patch states live in a store here (``record_patch_state``), written by AWS-RunPatchBaseline in the
sandbox (``ssm_run_command``), together with the instance's Patch compliance items. An instance without
a recorded state has none, as on AWS before its first scan.
"""

import datetime
import logging
import re
import threading

from sandbox.additions import AdditionError, addition, on_reset

SSM_CORE_POLICY = "AmazonSSMManagedInstanceCore"
AGENT_VERSION = "3.3.1142.0"
log = logging.getLogger("sandbox.additions.ssm")

_PATCH_STATES: dict[tuple[str, str, str], dict] = {}
# Patch compliance items per instance: {"items": [ComplianceItem], "ExecutionSummary": {...}}
_COMPLIANCE: dict[tuple[str, str, str], dict] = {}
_lock = threading.Lock()

_PLATFORMS = (
    (re.compile(r"al2023|amazon linux 2023", re.I), lambda m: ("Amazon Linux", "2023")),
    (re.compile(r"amzn2|amazon linux 2\b", re.I), lambda m: ("Amazon Linux", "2")),
    (re.compile(r"amzn-ami|amazon linux ami", re.I), lambda m: ("Amazon Linux AMI", "2018.03")),
    (re.compile(r"ubuntu[^0-9]*(\d{2}\.\d{2})", re.I), lambda m: ("Ubuntu", m.group(1))),
    (re.compile(r"debian[^0-9]*(\d{1,2})", re.I), lambda m: ("Debian GNU/Linux", m.group(1))),
    (re.compile(r"rhel[^0-9]*(\d{1,2}(?:\.\d+)?)", re.I), lambda m: ("Red Hat Enterprise Linux", m.group(1))),
)


@on_reset
def _clear() -> None:
    with _lock:
        _PATCH_STATES.clear()
        _COMPLIANCE.clear()


def record_patch_state(account_id: str, region: str, instance_id: str, **fields) -> dict:
    """Store an instance's patch state (InstancePatchState fields: MissingCount, Operation, ...)."""
    now = datetime.datetime.now(datetime.UTC)
    state = {
        "InstanceId": instance_id,
        "PatchGroup": "",
        "BaselineId": "pb-sandbox",
        "OwnerInformation": "",
        "InstalledCount": 0,
        "InstalledOtherCount": 0,
        "InstalledPendingRebootCount": 0,
        "InstalledRejectedCount": 0,
        "MissingCount": 0,
        "FailedCount": 0,
        "NotApplicableCount": 0,
        "OperationStartTime": now,
        "OperationEndTime": now,
        "Operation": "Scan",
    }
    state.update(fields)
    with _lock:
        _PATCH_STATES[(account_id, region, instance_id)] = state
    return state


def record_patch_compliance(
    account_id: str, region: str, instance_id: str, items: list[dict], execution_id: str, when=None
) -> None:
    """Store an instance's Patch compliance items: ``[{"Id", "Title", "Status", "Severity", "Details"}]``
    (Status COMPLIANT or NON_COMPLIANT), as AWS-RunPatchBaseline reports them after a scan or install."""
    when = when or datetime.datetime.now(datetime.UTC)
    with _lock:
        _COMPLIANCE[(account_id, region, instance_id)] = {
            "items": [dict(item) for item in items],
            "ExecutionSummary": {"ExecutionTime": when, "ExecutionId": execution_id, "ExecutionType": "Command"},
        }


def patch_state(account_id: str, region: str, instance_id: str) -> dict | None:
    with _lock:
        state = _PATCH_STATES.get((account_id, region, instance_id))
        return dict(state) if state else None


def platform_of(image_name: str | None) -> tuple[str, str]:
    for pattern, build in _PLATFORMS:
        match = pattern.search(image_name or "")
        if match:
            return build(match)
    return "Linux", ""


ROOTFS_TAG = "sandbox:rootfs"
AGENT_TAG = "sandbox:ssm-agent"  # value "none": the instance's image has no SSM agent
# Debian codenames a root can be built from, and the release /etc/os-release reports, for an instance whose
# root has not been built yet (DescribeInstanceInformation never builds one).
DEBIAN_RELEASES = {"bullseye": "11", "bookworm": "12", "trixie": "13"}
_SSM_AGENT_ACTIONS = ("ssm:updateinstanceinformation", "ssmmessages:*", "ssmmessages:createcontrolchannel")


def instance_tags(instance) -> dict:
    try:
        return {tag["key"]: tag["value"] for tag in instance.get_tags()}
    except Exception:  # an instance moto cannot tag: no tags
        return {}


def rootfs_release(instance) -> str | None:
    """The Debian release an instance's root filesystem is built from, or None: the instance's tag
    ``sandbox:rootfs``, else the same tag on the image it was launched from (an image carries its operating
    system, so instances that playbooks launch from such an AMI, a DR drill's for example, get a Debian root)."""
    value = instance_tags(instance).get(ROOTFS_TAG) or _image_rootfs(instance)
    return value.strip().lower() if value and value.strip() else None


def _image_rootfs(instance) -> str | None:
    try:
        image = instance.ec2_backend.amis.get(instance.image_id)
    except AttributeError:  # not a moto EC2 instance
        return None
    return instance_tags(image).get(ROOTFS_TAG) if image is not None else None


def root_platform(instance_id: str, release: str) -> tuple[str, str]:
    """PlatformName/PlatformVersion of a root-backed instance: its root's /etc/os-release when built."""
    try:
        from sandbox import rootfs

        path = rootfs.instance_path(instance_id) if hasattr(rootfs, "instance_path") else None
        if path is not None and (path / "etc" / "os-release").exists():
            info = rootfs.os_release(path)
            return _os_release_name(info.get("ID")), str(info.get("VERSION_ID", ""))
    except Exception as error:  # no root module or an unreadable root: fall back to the release's known version
        log.debug("no os-release for %s: %s", instance_id, error)
    return "Debian GNU/Linux", DEBIAN_RELEASES.get(release, "")


def _os_release_name(os_id: str | None) -> str:
    return {"debian": "Debian GNU/Linux", "ubuntu": "Ubuntu", "amzn": "Amazon Linux"}.get(
        (os_id or "").lower(), os_id or "Linux"
    )


def _statements(document) -> list[dict]:
    import json
    from urllib.parse import unquote

    if isinstance(document, str):
        try:
            document = json.loads(unquote(document))
        except ValueError:
            return []
    statements = (document or {}).get("Statement", [])
    return [statements] if isinstance(statements, dict) else list(statements)


def _allows_ssm_agent(document) -> bool:
    for statement in _statements(document):
        if statement.get("Effect") != "Allow":
            continue
        actions = statement.get("Action", [])
        actions = [actions] if isinstance(actions, str) else actions
        for action in actions:
            action = action.lower()
            if action in ("*", "ssm:*") or action in _SSM_AGENT_ACTIONS or action.startswith("ssmmessages:"):
                return True
    return False


def _managed_policy_document(policy) -> str | None:
    for version in getattr(policy, "versions", []) or []:
        if getattr(version, "is_default", False):
            return version.document
    return getattr(policy, "document", None)


def _profile_role(ctx_or_backend, instance):
    """The IAM role (moto object) of an instance's instance profile, or None."""
    profile = getattr(instance, "iam_instance_profile", None)
    if not profile:
        return None
    iam = _iam(ctx_or_backend)
    found = None
    try:
        if isinstance(profile, dict) and profile.get("Arn"):
            found = iam.get_instance_profile_by_arn(profile["Arn"])
        elif isinstance(profile, dict) and profile.get("Name"):
            found = iam.get_instance_profile(profile["Name"])
        elif isinstance(profile, str) and profile.startswith("arn:"):
            found = iam.get_instance_profile_by_arn(profile)
        elif isinstance(profile, str):
            found = iam.get_instance_profile(profile)
    except Exception:  # a profile deleted after launch: not managed
        return None
    if found is None or not found.roles:
        return None
    return found.roles[0]


def _iam(ctx_or_account):
    if isinstance(ctx_or_account, str):
        from moto.backends import get_backend

        return get_backend("iam")[ctx_or_account]["global"]
    return ctx_or_account.backend("iam", "global")


def role_allows_ssm(role) -> bool:
    """Whether an IAM role lets the SSM agent register: the core policy, or a policy allowing its calls."""
    if role is None:
        return False
    for arn, policy in role.managed_policies.items():
        if arn.rsplit("/", 1)[-1] == SSM_CORE_POLICY or _allows_ssm_agent(_managed_policy_document(policy)):
            return True
    return any(_allows_ssm_agent(document) for document in role.policies.values())


def _profile_role_policies(ctx, instance) -> tuple[str | None, list[str]]:
    role = _profile_role(ctx, instance)
    if role is None:
        return None, []
    return role.name, [arn.rsplit("/", 1)[-1] for arn in role.managed_policies]


def _ec2(ctx_or_account, region: str | None = None):
    if isinstance(ctx_or_account, str):
        from moto.backends import get_backend

        return get_backend("ec2")[ctx_or_account][region]
    return ctx_or_account.backend("ec2", region)


def managed_instances(ctx, region: str | None = None, account_id: str | None = None) -> list[dict]:
    """InstanceInformation for every instance whose role lets the SSM agent register (computed now).

    ``ctx`` is a request context, or None with ``account_id`` and ``region`` (control routes, executions).
    """
    source = ctx if ctx is not None else account_id
    ec2 = _ec2(source, region)
    result = []
    for instance in ec2.all_instances():
        if instance.state not in ("running", "stopped", "stopping"):
            continue
        role = _profile_role(source, instance)
        if not role_allows_ssm(role) or instance_tags(instance).get(AGENT_TAG, "").strip().lower() == "none":
            continue
        release = rootfs_release(instance)
        if release:
            name, version = root_platform(instance.id, release)
        else:
            image = ec2.amis.get(instance.image_id)
            name, version = platform_of(getattr(image, "name", None))
        host = f"ip-{instance.private_ip.replace('.', '-')}.ec2.internal" if instance.private_ip else instance.id
        launched = instance.launch_time
        if isinstance(launched, str):
            launched = datetime.datetime.fromisoformat(launched.replace("Z", "+00:00"))
        online = instance.state == "running"
        result.append(
            {
                "InstanceId": instance.id,
                "PingStatus": "Online" if online else "ConnectionLost",
                "LastPingDateTime": datetime.datetime.now(datetime.UTC) if online else launched,
                "AgentVersion": AGENT_VERSION,
                "IsLatestVersion": True,
                "PlatformType": "Linux",
                "PlatformName": name,
                "PlatformVersion": version,
                "IamRole": role.name,
                "RegistrationDate": launched,
                "ResourceType": "EC2Instance",
                "IPAddress": instance.private_ip,
                "ComputerName": host,
                "SourceId": instance.id,
                "SourceType": "AWS::EC2::Instance",
            }
        )
    return sorted(result, key=lambda item: item["InstanceId"])


def _page(ctx, items: list, key: str, default_size: int, max_size: int) -> dict:
    size = int(ctx.param("MaxResults", default_size))
    if size < 1 or size > max_size:
        raise AdditionError("ValidationException", f"MaxResults must be between 1 and {max_size}")
    start = 0
    token = ctx.param("NextToken")
    if token:
        try:
            start = int(token)
        except ValueError:
            raise AdditionError("InvalidNextToken", "The specified token is not valid.") from None
    out = {key: items[start : start + size]}
    if start + size < len(items):
        out["NextToken"] = str(start + size)
    return out


_INFO_KEYS = {
    "InstanceIds": "InstanceId",
    "AgentVersion": "AgentVersion",
    "PingStatus": "PingStatus",
    "PlatformTypes": "PlatformType",
    "ResourceType": "ResourceType",
    "IamRole": "IamRole",
}


def _filter_information(ctx, items: list[dict]) -> list[dict]:
    """Apply InstanceInformationFilterList (key/valueSet) and Filters (Key/Values, tag:K, tag-key) as AWS."""
    if ctx.param("InstanceInformationFilterList") and ctx.param("Filters"):
        raise AdditionError(
            "InvalidFilter", "InstanceInformationFilterList and Filters cannot be used in the same request."
        )
    rules = [(f.get("key"), f.get("valueSet") or []) for f in ctx.param("InstanceInformationFilterList", [])]
    rules += [(f.get("Key"), f.get("Values") or []) for f in ctx.param("Filters", [])]
    if not rules:
        return items
    tags = {}
    if any(key and (key.startswith("tag:") or key == "tag-key") for key, _ in rules):
        ec2 = ctx.backend("ec2")
        tags = {i.id: instance_tags(i) for i in ec2.all_instances()}
    kept = []
    for item in items:
        ok = True
        for key, values in rules:
            if key in _INFO_KEYS:
                ok = str(item.get(_INFO_KEYS[key])) in values
            elif key and key.startswith("tag:"):
                ok = tags.get(item["InstanceId"], {}).get(key[4:]) in values
            elif key == "tag-key":
                ok = any(v in tags.get(item["InstanceId"], {}) for v in values)
            elif key in ("AssociationStatus", "ActivationIds"):
                ok = False
            else:
                raise AdditionError("InvalidInstanceInformationFilterValue", f"The filter key {key} is not valid.")
            if not ok:
                break
        if ok:
            kept.append(item)
    return kept


def _example_instances(client):
    return {"MaxResults": 10}


@addition("ssm", "DescribeInstanceInformation", example=_example_instances)
def describe_instance_information(ctx):
    items = _filter_information(ctx, managed_instances(ctx))
    return _page(ctx, items, "InstanceInformationList", 50, 50)


@addition("ssm", "DescribeInstancePatchStates", example={"InstanceIds": ["i-0123456789abcdef0"]})
def describe_instance_patch_states(ctx):
    ids = ctx.require("InstanceIds")
    if len(ids) > 50:
        raise AdditionError("ValidationException", "InstanceIds: Member must have length less than or equal to 50")
    states = []
    for instance_id in ids:
        state = patch_state(ctx.account_id, ctx.region, instance_id)
        if state:
            states.append(state)
    return _page(ctx, states, "InstancePatchStates", 10, 50)


@addition("ssm", "ListComplianceSummaries", example={})
def list_compliance_summaries(ctx):
    compliant = non_compliant = 0
    for item in managed_instances(ctx):
        compliance = _compliance_of(ctx, item["InstanceId"])
        if compliance is None:
            continue
        if _compliance_status(compliance["items"]) == "NON_COMPLIANT":
            non_compliant += 1
        else:
            compliant += 1
    items = []
    if compliant or non_compliant:
        items.append(
            {
                "ComplianceType": "Patch",
                "CompliantSummary": {"CompliantCount": compliant, "SeveritySummary": {"UnspecifiedCount": compliant}},
                "NonCompliantSummary": {
                    "NonCompliantCount": non_compliant,
                    "SeveritySummary": {"UnspecifiedCount": non_compliant},
                },
            }
        )
    return _page(ctx, items, "ComplianceSummaryItems", 50, 50)


def _compliance_of(ctx, instance_id: str) -> dict | None:
    """An instance's Patch compliance: recorded items, or one summary item derived from its patch state."""
    with _lock:
        recorded = _COMPLIANCE.get((ctx.account_id, ctx.region, instance_id))
        recorded = (
            {"items": list(recorded["items"]), "ExecutionSummary": dict(recorded["ExecutionSummary"])}
            if recorded
            else None
        )
    if recorded:
        return recorded
    state = patch_state(ctx.account_id, ctx.region, instance_id)
    if state is None:
        return None
    missing = int(state.get("MissingCount") or 0) + int(state.get("FailedCount") or 0)
    items = [
        {
            "Id": f"missing-{n + 1}",
            "Title": "missing or failed patch (count from the patch state)",
            "Status": "NON_COMPLIANT",
            "Severity": "UNSPECIFIED",
            "Details": {"PatchState": "Missing"},
        }
        for n in range(missing)
    ]
    return {
        "items": items,
        "ExecutionSummary": {
            "ExecutionTime": state.get("OperationEndTime"),
            "ExecutionId": "",
            "ExecutionType": "Command",
        },
    }


def _compliance_status(items: list[dict]) -> str:
    return "NON_COMPLIANT" if any(i["Status"] == "NON_COMPLIANT" for i in items) else "COMPLIANT"


def _severity_summary(items: list[dict]) -> dict:
    keys = {
        "CRITICAL": "CriticalCount",
        "HIGH": "HighCount",
        "MEDIUM": "MediumCount",
        "LOW": "LowCount",
        "INFORMATIONAL": "InformationalCount",
        "UNSPECIFIED": "UnspecifiedCount",
    }
    out = dict.fromkeys(keys.values(), 0)
    for item in items:
        out[keys.get(item.get("Severity", "UNSPECIFIED"), "UnspecifiedCount")] += 1
    return out


def _compliance_filters(ctx) -> list[tuple[str, list[str], str]]:
    return [(f.get("Key"), f.get("Values") or [], f.get("Type") or "EQUAL") for f in ctx.param("Filters", [])]


def _matches(filters, values: dict) -> bool:
    for key, wanted, kind in filters:
        value = values.get(key)
        if key not in values:
            continue
        if kind == "EQUAL" and value not in wanted:
            return False
        if kind == "NOT_EQUAL" and value in wanted:
            return False
        if kind == "BEGIN_WITH" and not any(str(value).startswith(w) for w in wanted):
            return False
    return True


def _example_items(client):
    return {"ResourceIds": ["i-0123456789abcdef0"], "ResourceTypes": ["ManagedInstance"]}


@addition("ssm", "ListComplianceItems", example=_example_items)
def list_compliance_items(ctx):
    filters = _compliance_filters(ctx)
    types = ctx.param("ResourceTypes") or ["ManagedInstance"]
    ids = ctx.param("ResourceIds") or [i["InstanceId"] for i in managed_instances(ctx)]
    out = []
    if "ManagedInstance" in types:
        for instance_id in ids:
            compliance = _compliance_of(ctx, instance_id)
            if compliance is None:
                continue
            for item in compliance["items"]:
                values = {
                    "ComplianceType": "Patch",
                    "Status": item["Status"],
                    "Severity": item.get("Severity", "UNSPECIFIED"),
                    "Id": item["Id"],
                }
                if not _matches(filters, values):
                    continue
                out.append(
                    {
                        "ComplianceType": "Patch",
                        "ResourceType": "ManagedInstance",
                        "ResourceId": instance_id,
                        "Id": item["Id"],
                        "Title": item.get("Title", item["Id"]),
                        "Status": item["Status"],
                        "Severity": item.get("Severity", "UNSPECIFIED"),
                        "ExecutionSummary": compliance["ExecutionSummary"],
                        "Details": item.get("Details", {}),
                    }
                )
    return _page(ctx, out, "ComplianceItems", 10, 50)


@addition("ssm", "ListResourceComplianceSummaries", example={})
def list_resource_compliance_summaries(ctx):
    filters = _compliance_filters(ctx)
    out = []
    for info in managed_instances(ctx):
        compliance = _compliance_of(ctx, info["InstanceId"])
        if compliance is None:
            continue
        items = compliance["items"]
        status = _compliance_status(items)
        compliant = [i for i in items if i["Status"] == "COMPLIANT"]
        non_compliant = [i for i in items if i["Status"] == "NON_COMPLIANT"]
        severity = max(
            (i.get("Severity", "UNSPECIFIED") for i in non_compliant),
            key=lambda level: ["UNSPECIFIED", "INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"].index(level),
            default="UNSPECIFIED",
        )
        values = {
            "ComplianceType": "Patch",
            "OverallSeverity": severity,
            "Status": status,
            "ResourceId": info["InstanceId"],
            "ResourceType": "ManagedInstance",
        }
        if not _matches(filters, values):
            continue
        out.append(
            {
                "ComplianceType": "Patch",
                "ResourceType": "ManagedInstance",
                "ResourceId": info["InstanceId"],
                "Status": status,
                "OverallSeverity": severity,
                "ExecutionSummary": compliance["ExecutionSummary"],
                "CompliantSummary": {"CompliantCount": len(compliant), "SeveritySummary": _severity_summary(compliant)},
                "NonCompliantSummary": {
                    "NonCompliantCount": len(non_compliant),
                    "SeveritySummary": _severity_summary(non_compliant),
                },
            }
        )
    return _page(ctx, out, "ResourceComplianceSummaryItems", 50, 50)
