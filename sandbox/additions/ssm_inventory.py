"""Systems Manager inventory reads moto lacks: DescribeInstanceInformation, DescribeInstancePatchStates,
ListComplianceSummaries.

Managed instances come from moto's own state, as on AWS: a running EC2 instance whose instance profile's
role has the ``AmazonSSMManagedInstanceCore`` policy attached is a managed instance (PingStatus Online,
PlatformType Linux, PlatformName/PlatformVersion read from its AMI's name).

Patch states live in a store here (``record_patch_state``), written by whatever runs AWS-RunPatchBaseline
in the sandbox. An instance without a recorded state has none, as on AWS before its first scan.
"""

import datetime
import re
import threading

from sandbox.additions import AdditionError, addition, on_reset

SSM_CORE_POLICY = "AmazonSSMManagedInstanceCore"
AGENT_VERSION = "3.3.1142.0"

_PATCH_STATES: dict[tuple[str, str, str], dict] = {}
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


def _profile_role_policies(ctx, instance) -> tuple[str | None, list[str]]:
    profile = getattr(instance, "iam_instance_profile", None)
    if not profile:
        return None, []
    iam = ctx.backend("iam", "global")
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
        return None, []
    if found is None or not found.roles:
        return None, []
    role = found.roles[0]
    return role.name, [arn.rsplit("/", 1)[-1] for arn in role.managed_policies]


def managed_instances(ctx) -> list[dict]:
    """InstanceInformation for every running instance whose role allows the SSM agent to register."""
    ec2 = ctx.backend("ec2")
    result = []
    for instance in ec2.all_instances():
        if instance.state != "running":
            continue
        role, policies = _profile_role_policies(ctx, instance)
        if SSM_CORE_POLICY not in policies:
            continue
        image = ec2.amis.get(instance.image_id)
        name, version = platform_of(getattr(image, "name", None))
        host = f"ip-{instance.private_ip.replace('.', '-')}.ec2.internal" if instance.private_ip else instance.id
        launched = instance.launch_time
        if isinstance(launched, str):
            launched = datetime.datetime.fromisoformat(launched.replace("Z", "+00:00"))
        result.append(
            {
                "InstanceId": instance.id,
                "PingStatus": "Online",
                "LastPingDateTime": datetime.datetime.now(datetime.UTC),
                "AgentVersion": AGENT_VERSION,
                "IsLatestVersion": True,
                "PlatformType": "Linux",
                "PlatformName": name,
                "PlatformVersion": version,
                "IamRole": role,
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


def _wanted_ids(ctx) -> set[str] | None:
    wanted = None
    for flt in ctx.param("InstanceInformationFilterList", []):
        if flt.get("key") == "InstanceIds":
            wanted = set(flt.get("valueSet") or [])
    for flt in ctx.param("Filters", []):
        if flt.get("Key") in ("InstanceIds", "tag:InstanceIds"):
            wanted = set(flt.get("Values") or [])
    return wanted


def _example_instances(client):
    return {"MaxResults": 10}


@addition("ssm", "DescribeInstanceInformation", example=_example_instances)
def describe_instance_information(ctx):
    items = managed_instances(ctx)
    wanted = _wanted_ids(ctx)
    if wanted is not None:
        items = [i for i in items if i["InstanceId"] in wanted]
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
        state = patch_state(ctx.account_id, ctx.region, item["InstanceId"])
        if state is None:
            continue
        if state.get("MissingCount") or state.get("FailedCount"):
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
