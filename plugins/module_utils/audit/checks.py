# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""One check per finding, each a pure function of a snapshot.

``check_<id>(snap, ctx)`` reads sources from ``snap`` (see collect.py) and
returns ``{"resources": [...], "status": optional, "message": optional}``.
Each resource is evidence: what it is, where, what was observed, what was
expected, and its own status. The finding's status follows from them unless a
check sets it: any ``fail`` -> fail; else any ``manual`` -> manual; else any
``pass`` -> pass; no resources -> not_applicable. ``run_audit`` runs the
selected checks; an exception in one marks that finding ``error``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import datetime
import fnmatch
import gc
import hashlib
import json
import os
import re

from ansible_collections.medcircle.cloudops.plugins.module_utils.audit import eol as eol_mod
from ansible_collections.medcircle.cloudops.plugins.module_utils.audit import findings as fmeta
from ansible_collections.medcircle.cloudops.plugins.module_utils.audit.collect import GLOBAL, SourceError

ADMIN_MANAGED_POLICIES = {
    "AdministratorAccess": "full administrator",
    "PowerUserAccess": "every action except IAM",
    "IAMFullAccess": "full IAM",
}
SSM_CORE_POLICY = "AmazonSSMManagedInstanceCore"
SENSITIVE_PORTS = {
    22: "SSH",
    3389: "RDP",
    3306: "MySQL",
    5432: "PostgreSQL",
    1433: "SQL Server",
    1521: "Oracle",
    27017: "MongoDB",
    6379: "Redis",
    9200: "Elasticsearch",
    23: "Telnet",
    21: "FTP",
}
INTERNET_V4 = "0.0.0.0/0"
INTERNET_V6 = "::/0"
READ_ONLY_PREFIXES = (
    "Get",
    "List",
    "Describe",
    "Head",
    "Lookup",
    "Search",
    "Select",
    "Scan",
    "Query",
    "View",
    "Filter",
    "BatchGet",
)
RESOURCE_TAG_CONDITION = re.compile(r"^[a-z0-9-]+:ResourceTag/", re.I)
INTERNET_FACING_TAG = ("Exposure", "internet")


class AuditContext:
    """Options of one audit run."""

    def __init__(
        self,
        now=None,
        eol_overrides=None,
        host_facts=None,
        dr_plan_path=None,
        dr_drill_history_path=None,
        dr_drill_max_age_days=90,
        backup_min_retention_days=7,
        patch_max_age_days=35,
        ami_max_age_days=None,
        public_ingress_ports=(443,),
        buckets=None,
        phi_tag="DataClass=phi",
    ):
        self.now = now or datetime.datetime.now(datetime.timezone.utc)
        if self.now.tzinfo is None:
            self.now = self.now.replace(tzinfo=datetime.timezone.utc)
        self.today = self.now.date()
        self.eol = eol_mod.eol_table(eol_overrides)
        self.host_facts = host_facts or {}
        self.dr_plan_path = dr_plan_path
        self.dr_drill_history_path = dr_drill_history_path
        self.dr_drill_max_age_days = dr_drill_max_age_days
        self.backup_min_retention_days = backup_min_retention_days
        self.patch_max_age_days = patch_max_age_days
        self.ami_max_age_days = ami_max_age_days
        self.public_ingress_ports = set(public_ingress_ports or [])
        key, _sep, value = str(phi_tag or "DataClass=phi").partition("=")
        self.phi_tag = (key, value)
        self.buckets = list(buckets or [])


# ---------------------------------------------------------------------------
# helpers


def res(resource_id, region, status, observed, expected, rtype=None, arn=None, name=None, detail=None):
    """One resource's evidence."""
    item = {
        "resource_id": resource_id,
        "resource_type": rtype,
        "region": region,
        "status": status,
        "observed": observed,
        "expected": expected,
    }
    if arn:
        item["resource_arn"] = arn
    if name:
        item["name"] = name
    if detail:
        item["detail"] = detail
    return item


def _tags(tag_list):
    return {t.get("Key"): t.get("Value") for t in (tag_list or [])}


def _name(resource):
    return _tags(resource.get("Tags") or resource.get("TagList")).get("Name")


def _arn(snap, service, region, resource):
    account = snap.account_id or "000000000000"
    return "arn:%s:%s:%s:%s:%s" % (snap.partition or "aws", service, region, account, resource)


def _instance_arn(snap, region, inst):
    return _arn(snap, "ec2", region, "instance/" + inst["InstanceId"])


def _instances(snap):
    """(region, instance) for every non-terminated instance in every audited region."""
    for region in snap.regions:
        for inst in snap.get("ec2_instances", region):
            yield region, inst


def _state(inst):
    return (inst.get("State") or {}).get("Name", "unknown")


def _as_list(value):
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def _bucket_names(snap, ctx, *attributes):
    """The audited bucket names; their ``attributes`` (versioning, policy, ...) are read ahead, in parallel."""
    names = [b["Name"] for b in snap.get("s3_buckets")]
    if ctx.buckets:
        names = [n for n in names if any(fnmatch.fnmatch(n, pat) for pat in ctx.buckets)]
    names = sorted(names)
    if attributes:
        snap.prefetch("s3_bucket", [(attr, name) for name in names for attr in attributes])
    return names


def _log_targets(snap, ctx):
    """Buckets that receive other buckets' server access logs: {target: [source buckets]}."""
    targets = {}
    names = sorted(b["Name"] for b in snap.get("s3_buckets"))
    snap.prefetch("s3_bucket", [("logging", name) for name in names])
    for name in names:
        logging = (snap.get("s3_bucket", key=("logging", name)) or {}).get("LoggingEnabled") or {}
        if logging.get("TargetBucket"):
            targets.setdefault(logging["TargetBucket"], []).append(name)
    return targets


def _log_target_res(snap, name, sources, expected):
    return _bucket_res(
        snap,
        name,
        "not_applicable",
        "server access log destination of %s" % ", ".join(sources),
        expected,
        detail="AWS delivers server access logs only to SSE-S3 buckets that do not log themselves",
    )


def _bucket_tags(snap, name):
    tagging = snap.get("s3_bucket", key=("tagging", name)) or {}
    return _tags(tagging.get("TagSet"))


def _bucket_region(snap, name):
    for b in snap.get("s3_buckets"):
        if b["Name"] == name:
            return b.get("BucketRegion") or "us-east-1"
    return None


def _kms_key_kind(snap, region, key_id):
    """'aws-managed', 'customer-managed' or 'unknown' for a KMS key id/ARN, from ListAliases."""
    if not key_id:
        return "unknown"
    short = key_id.rsplit("/", 1)[-1] if ":key/" in key_id or key_id.startswith("key/") else key_id
    if key_id.startswith("alias/aws/") or ":alias/aws/" in key_id:
        return "aws-managed"
    if key_id.startswith("alias/") or ":alias/" in key_id:
        return "customer-managed"
    try:
        aliases = snap.get("kms_aliases", region)
    except SourceError:
        return "unknown"
    for alias in aliases:
        if alias.get("TargetKeyId") == short:
            return "aws-managed" if alias.get("AliasName", "").startswith("alias/aws/") else "customer-managed"
    return "customer-managed"


def _policy_doc(doc):
    if isinstance(doc, str):
        try:
            from urllib.parse import unquote
        except ImportError:  # pragma: no cover
            from urllib import unquote
        text = doc if doc.lstrip().startswith("{") else unquote(doc)
        return json.loads(text)
    return doc or {}


def _statements(doc):
    return _as_list(_policy_doc(doc).get("Statement"))


def _default_version_doc(policy):
    for version in policy.get("PolicyVersionList", []):
        if version.get("IsDefaultVersion"):
            return _policy_doc(version.get("Document"))
    return {}


def _wildcard_problems(doc):
    """What makes a policy document over-broad: wildcard actions or wildcard resources for writes."""
    problems = []
    for stmt in _statements(doc):
        if stmt.get("Effect") != "Allow":
            continue
        actions = _as_list(stmt.get("Action"))
        resources = _as_list(stmt.get("Resource"))
        if "NotAction" in stmt:
            problems.append("Allow NotAction %s" % json.dumps(stmt["NotAction"]))
            continue
        wild = [a for a in actions if a == "*" or a.endswith(":*")]
        if wild:
            problems.append("Action %s on Resource %s" % (", ".join(wild), ", ".join(resources) or "-"))
            continue
        tag_scoped = any(
            RESOURCE_TAG_CONDITION.match(key) for cond in (stmt.get("Condition") or {}).values() for key in cond
        )
        if "*" in resources and not tag_scoped:
            writes = [a for a in actions if not a.split(":")[-1].startswith(READ_ONLY_PREFIXES)]
            if writes:
                problems.append("write actions %s on Resource *" % ", ".join(sorted(writes)[:5]))
    return problems


def _is_admin_doc(doc):
    for stmt in _statements(doc):
        if stmt.get("Effect") != "Allow":
            continue
        if "*" in _as_list(stmt.get("Action")) and "*" in _as_list(stmt.get("Resource")):
            return True
    return False


def _doc_fingerprint(doc):
    return hashlib.sha256(json.dumps(_policy_doc(doc), sort_keys=True).encode("utf-8")).hexdigest()[:12]


def _identity_policies(auth):
    """For users, groups and roles: [(kind, name, arn, [(policy label, document, kind)])]."""
    local = {p["Arn"]: p for p in auth["policies"]}
    out = []
    for kind, items, inline_key in (
        ("user", auth["users"], "UserPolicyList"),
        ("group", auth["groups"], "GroupPolicyList"),
        ("role", auth["roles"], "RolePolicyList"),
    ):
        for item in items:
            name = item.get("UserName") or item.get("GroupName") or item.get("RoleName")
            docs = []
            for inline in item.get(inline_key, []) or []:
                docs.append(
                    ("inline policy %s" % inline["PolicyName"], _policy_doc(inline.get("PolicyDocument")), "inline")
                )
            for attached in item.get("AttachedManagedPolicies", []) or []:
                arn = attached["PolicyArn"]
                if arn in local:
                    docs.append(("policy %s" % attached["PolicyName"], _default_version_doc(local[arn]), "customer"))
                else:
                    docs.append(("AWS managed policy %s" % attached["PolicyName"], None, "aws"))
            out.append((kind, name, item.get("Arn"), docs, item))
    return out


def _sg_open_rules(sg, egress=False):
    """Rules of a group that reach the whole internet: [(protocol, from, to, cidr)]."""
    rules = []
    for perm in sg.get("IpPermissionsEgress" if egress else "IpPermissions", []) or []:
        cidrs = [r.get("CidrIp") for r in perm.get("IpRanges", []) if r.get("CidrIp") == INTERNET_V4]
        cidrs += [r.get("CidrIpv6") for r in perm.get("Ipv6Ranges", []) if r.get("CidrIpv6") == INTERNET_V6]
        for cidr in cidrs:
            rules.append((str(perm.get("IpProtocol")), perm.get("FromPort"), perm.get("ToPort"), cidr))
    return rules


def _rule_text(rule):
    proto, low, high, cidr = rule
    if proto == "-1":
        ports = "all traffic"
    elif low is None or (low in (0, -1) and high in (65535, -1)):
        ports = "%s all ports" % proto
    elif low == high:
        ports = "%s/%s" % (proto, low)
    else:
        ports = "%s/%s-%s" % (proto, low, high)
    return "%s from %s" % (ports, cidr)


def _rule_covers(rule, port):
    proto, low, high, _cidr = rule
    if proto == "-1":
        return True
    if proto not in ("tcp", "6", "udp", "17"):
        return False
    if low is None:
        return True
    return low <= port <= high


def _used_security_groups(snap, region):
    used = set()
    for eni in snap.get("ec2_network_interfaces", region):
        for group in eni.get("Groups", []) or []:
            used.add(group.get("GroupId"))
    for inst in snap.get("ec2_instances", region):
        for group in inst.get("SecurityGroups", []) or []:
            used.add(group.get("GroupId"))
    # RDS instances use their groups without a network interface in DescribeNetworkInterfaces' answer
    # on every endpoint, so count them from DescribeDBInstances too.
    for db in snap.get("rds_instances", region):
        for group in db.get("VpcSecurityGroups", []) or []:
            used.add(group.get("VpcSecurityGroupId"))
    # Load balancers and interface endpoints hold their groups on network interfaces that some
    # endpoints do not list; their own descriptions name the groups too.
    for lb in snap.get("elbv2_load_balancers", region):
        used.update(lb.get("SecurityGroups", []) or [])
    for endpoint in snap.get("ec2_vpc_endpoints", region):
        for group in endpoint.get("Groups", []) or []:
            used.add(group.get("GroupId"))
    return used


def _in_use_vpcs(snap, region):
    """VPCs that hold an instance (with why), so empty default VPCs are not reported."""
    vpcs = {}
    for inst in snap.get("ec2_instances", region):
        if inst.get("VpcId"):
            vpcs.setdefault(inst["VpcId"], []).append(inst["InstanceId"])
    return vpcs


def _route_table_for_subnet(route_tables, subnet_id, vpc_id):
    main = None
    for table in route_tables:
        for assoc in table.get("Associations", []) or []:
            if assoc.get("SubnetId") == subnet_id:
                return table
            if assoc.get("Main") and table.get("VpcId") == vpc_id:
                main = table
    return main


def _internet_route(table):
    for route in (table or {}).get("Routes", []) or []:
        gateway = route.get("GatewayId") or ""
        dest = route.get("DestinationCidrBlock") or route.get("DestinationIpv6CidrBlock")
        if gateway.startswith("igw-") and dest in (INTERNET_V4, INTERNET_V6):
            return "%s -> %s" % (dest, gateway)
    return None


def _is_replica(db):
    return bool(db.get("ReadReplicaSourceDBInstanceIdentifier") or db.get("ReadReplicaSourceDBClusterIdentifier"))


def _dbs(snap):
    for region in snap.regions:
        for db in snap.get("rds_instances", region):
            yield region, db


def _db_res(region, db, status, observed, expected, detail=None):
    return res(
        db["DBInstanceIdentifier"],
        region,
        status,
        observed,
        expected,
        rtype="AwsRdsDbInstance",
        arn=db.get("DBInstanceArn"),
        detail=detail,
    )


def _account_res(snap, status, observed, expected, regions=None, detail=None):
    return res(
        snap.account_id or "account",
        "global" if regions is None else ",".join(regions),
        status,
        observed,
        expected,
        rtype="AwsAccount",
        detail=detail,
    )


def _parse_time(value):
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        return value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)
    text = str(value).strip()
    if text in ("", "N/A", "not_supported", "no_information"):
        return None
    text = text.replace("Z", "+00:00")
    try:
        parsed = datetime.datetime.fromisoformat(text)
    except ValueError:
        try:
            parsed = datetime.datetime.strptime(text[:19], "%Y-%m-%dT%H:%M:%S")
        except ValueError:
            return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.timezone.utc)


# ---------------------------------------------------------------------------
# 1.x


MFA_ENFORCED_TEXT = "the user can do nothing but set up MFA"
MFA_ENFORCED_ENROLLED_TEXT = "without signing in with MFA the user can do nothing but set up MFA"


def _denies_without_mfa(doc):
    """True when a statement of ``doc`` denies every action (NotAction, or Action *) on every resource whenever
    aws:MultiFactorAuthPresent is false or missing, and on no other condition (Bool or BoolIfExists)."""
    for stmt in _statements(doc):
        if stmt.get("Effect") != "Deny" or "*" not in _as_list(stmt.get("Resource")):
            continue
        if "NotAction" not in stmt and "*" not in _as_list(stmt.get("Action")):
            continue
        conditions = [
            (operator.lower(), key.lower(), [str(v).lower() for v in _as_list(value)])
            for operator, block in (stmt.get("Condition") or {}).items()
            for key, value in (block.items() if isinstance(block, dict) else [(None, None)])
            if key is not None
        ]
        if len(conditions) == 1 and conditions[0] in (
            ("boolifexists", "aws:multifactorauthpresent", ["false"]),
            ("bool", "aws:multifactorauthpresent", ["false"]),
        ):
            return True
    return False


def _mfa_enforcement(auth):
    """{user name: [how MFA is enforced, ...]} from the account authorization details: policies attached to the
    user (managed or inline) or to a group the user is in that deny without aws:MultiFactorAuthPresent."""
    by_group = {}
    by_user = {}
    for kind, name, _arn, docs, item in _identity_policies(auth):
        enforcing = [label for label, doc, pkind in docs if pkind != "aws" and _denies_without_mfa(doc)]
        if kind == "group":
            by_group[name] = enforcing
        elif kind == "user":
            by_user[name] = (enforcing, item.get("GroupList") or [])
    out = {}
    for user, (direct, groups) in by_user.items():
        ways = ["%s attached to the user" % _short_policy_label(label) for label in direct]
        for group in sorted(groups):
            ways += ["%s via group %s" % (_short_policy_label(label), group) for label in by_group.get(group, [])]
        out[user] = ways
    return out


def _short_policy_label(label):
    """'policy X' -> 'X'; 'inline policy X' stays as it is."""
    return label[len("policy ") :] if label.startswith("policy ") else label


def _mfa_enforcement_text(enforcement, user, enrolled):
    if enforcement is None:
        return "MFA enforcement not known (the account authorization details could not be read)"
    ways = enforcement.get(user) or []
    if ways:
        return "MFA enforced by %s: %s" % (
            ", ".join(ways),
            MFA_ENFORCED_ENROLLED_TEXT if enrolled else MFA_ENFORCED_TEXT,
        )
    return "MFA not enforced (no policy of the user or their groups denies actions without aws:MultiFactorAuthPresent)"


def check_1_1(snap, ctx):
    """MFA for every IAM user who can sign in to the console (credential report: mfa_active).

    For each console user the evidence also says whether MFA is enforced (a policy of the user or of one of their
    groups denies actions without aws:MultiFactorAuthPresent, as role mfa_enforcement sets up). The status still
    follows mfa_active only: enforcement does not enrol the person."""
    resources = []
    enforcement = False  # read on first use, only when there is a console user
    for row in snap.get("iam_credential_report"):
        user = row.get("user")
        if user == "<root_account>":
            ok = row.get("mfa_active") == "true"
            resources.append(
                res(
                    "root",
                    GLOBAL,
                    "pass" if ok else "fail",
                    "root account mfa_active: %s" % row.get("mfa_active"),
                    "root account has MFA",
                    rtype="AwsIamUser",
                    arn=row.get("arn"),
                )
            )
            continue
        if row.get("password_enabled") != "true":
            resources.append(
                res(
                    user,
                    GLOBAL,
                    "not_applicable",
                    "no console password (API access only); mfa_active: %s" % row.get("mfa_active"),
                    "MFA for console users",
                    rtype="AwsIamUser",
                    arn=row.get("arn"),
                )
            )
            continue
        if enforcement is False:
            try:
                enforcement = _mfa_enforcement(snap.get("iam_authorization"))
            except SourceError:
                enforcement = None  # the source error is reported with the audit's read errors
        ok = row.get("mfa_active") == "true"
        resources.append(
            res(
                user,
                GLOBAL,
                "pass" if ok else "fail",
                "console password enabled, mfa_active: %s; %s"
                % (row.get("mfa_active"), _mfa_enforcement_text(enforcement, user, ok)),
                "mfa_active: true",
                rtype="AwsIamUser",
                arn=row.get("arn"),
            )
        )
    return {"resources": resources}


def check_1_2(snap, ctx):
    """Identities with administrator rights, and identities of different jobs with identical policies."""
    auth = snap.get("iam_authorization")
    resources = []
    fingerprints = {}
    for kind, name, arn, docs, _item in _identity_policies(auth):
        admin = []
        for label, doc, pkind in docs:
            if pkind == "aws":
                short = label.rsplit(" ", 1)[-1]
                if short in ADMIN_MANAGED_POLICIES:
                    admin.append("%s (%s)" % (label, ADMIN_MANAGED_POLICIES[short]))
            elif _is_admin_doc(doc):
                admin.append("%s grants Action * on Resource *" % label)
        custom = sorted(_doc_fingerprint(doc) for _l, doc, pkind in docs if pkind != "aws")
        if custom and kind in ("user", "group"):
            fingerprints.setdefault(tuple(custom), []).append("%s %s" % (kind, name))
        if docs:
            resources.append(
                res(
                    name,
                    GLOBAL,
                    "fail" if admin else "pass",
                    "; ".join(admin) if admin else "no administrator grant",
                    "least privilege: no Action * on Resource *, no administrator policy",
                    rtype="AwsIamUser" if kind == "user" else "AwsIamRole" if kind == "role" else "AwsIamGroup",
                    arn=arn,
                )
            )
    for names in fingerprints.values():
        if len(names) > 1:
            resources.append(
                res(
                    " = ".join(sorted(names)),
                    GLOBAL,
                    "fail",
                    "identical policy documents for %s" % ", ".join(sorted(names)),
                    "each job has its own policy",
                    rtype="AwsIamPolicy",
                )
            )
    return {"resources": resources}


def check_1_3(snap, ctx):
    resources = []
    for region, inst in _instances(snap):
        profile = (inst.get("IamInstanceProfile") or {}).get("Arn")
        resources.append(
            res(
                inst["InstanceId"],
                region,
                "pass" if profile else "fail",
                "IamInstanceProfile: %s" % (profile or "none"),
                "an instance profile with a least-privilege role",
                rtype="AwsEc2Instance",
                arn=_instance_arn(snap, region, inst),
                name=_name(inst),
                detail="state %s" % _state(inst),
            )
        )
    return {"resources": resources}


def _volume_encryption(snap, region, vol):
    if not vol.get("Encrypted"):
        return "fail", "Encrypted: false"
    kind = _kms_key_kind(snap, region, vol.get("KmsKeyId"))
    return "pass", "Encrypted: true (%s key %s)" % (kind, vol.get("KmsKeyId") or "-")


def check_1_4(snap, ctx):
    resources = []
    for region in snap.regions:
        volumes = {v["VolumeId"]: v for v in snap.get("ec2_volumes", region)}
        for inst in snap.get("ec2_instances", region):
            root = inst.get("RootDeviceName")
            vol_id = None
            for mapping in inst.get("BlockDeviceMappings", []) or []:
                if mapping.get("DeviceName") == root:
                    vol_id = (mapping.get("Ebs") or {}).get("VolumeId")
            if not vol_id:
                resources.append(
                    res(
                        inst["InstanceId"],
                        region,
                        "not_applicable",
                        "no EBS root volume (%s)" % (inst.get("RootDeviceType") or "instance store"),
                        "encrypted EBS root volume",
                        rtype="AwsEc2Instance",
                        name=_name(inst),
                    )
                )
                continue
            vol = volumes.get(vol_id, {"VolumeId": vol_id})
            status, observed = _volume_encryption(snap, region, vol)
            resources.append(
                res(
                    vol_id,
                    region,
                    status,
                    observed,
                    "Encrypted: true",
                    rtype="AwsEc2Volume",
                    arn=_arn(snap, "ec2", region, "volume/" + vol_id),
                    detail="root volume %s of %s (%s, state %s)"
                    % (root, inst["InstanceId"], _name(inst) or "-", _state(inst)),
                )
            )
    return {"resources": resources}


def check_1_5(snap, ctx):
    resources = []
    for region, db in _dbs(snap):
        enc = bool(db.get("StorageEncrypted"))
        observed = "StorageEncrypted: %s" % str(enc).lower()
        if enc:
            observed += " (key %s, %s)" % (db.get("KmsKeyId") or "-", _kms_key_kind(snap, region, db.get("KmsKeyId")))
        resources.append(_db_res(region, db, "pass" if enc else "fail", observed, "StorageEncrypted: true"))
    return {"resources": resources}


def _bucket_sse(snap, name):
    enc = snap.get("s3_bucket", key=("encryption", name))
    rules = ((enc or {}).get("ServerSideEncryptionConfiguration") or {}).get("Rules", [])
    for rule in rules:
        default = rule.get("ApplyServerSideEncryptionByDefault") or {}
        if default.get("SSEAlgorithm"):
            return default.get("SSEAlgorithm"), default.get("KMSMasterKeyID"), bool(rule.get("BucketKeyEnabled"))
    return None, None, False


def _bucket_res(snap, name, status, observed, expected, detail=None):
    return res(
        name,
        _bucket_region(snap, name),
        status,
        observed,
        expected,
        rtype="AwsS3Bucket",
        arn="arn:%s:s3:::%s" % (snap.partition or "aws", name),
        detail=detail,
    )


def check_1_6(snap, ctx):
    resources = []
    names = _bucket_names(snap, ctx, "encryption", "logging")  # both settings read side by side
    targets = _log_targets(snap, ctx)
    for name in names:
        if name in targets:
            resources.append(_log_target_res(snap, name, targets[name], "SSEAlgorithm: aws:kms"))
            continue
        algo, key, _bk = _bucket_sse(snap, name)
        ok = algo in ("aws:kms", "aws:kms:dsse")
        observed = "SSEAlgorithm: %s" % (algo or "none")
        if key:
            observed += ", KMSMasterKeyID: %s" % key
        resources.append(_bucket_res(snap, name, "pass" if ok else "fail", observed, "SSEAlgorithm: aws:kms"))
    return {"resources": resources}


def check_1_7(snap, ctx):
    """IMDSv2 required on every instance, and as the account's default for new instances in each region."""
    resources = []
    for region, inst in _instances(snap):
        md = inst.get("MetadataOptions") or {}
        tokens = md.get("HttpTokens", "optional")
        endpoint = md.get("HttpEndpoint", "enabled")
        ok = tokens == "required" or endpoint == "disabled"
        resources.append(
            res(
                inst["InstanceId"],
                region,
                "pass" if ok else "fail",
                "HttpTokens: %s, HttpEndpoint: %s" % (tokens, endpoint),
                "HttpTokens: required",
                rtype="AwsEc2Instance",
                arn=_instance_arn(snap, region, inst),
                name=_name(inst),
                detail="state %s" % _state(inst),
            )
        )
    for region in snap.regions:
        defaults = snap.get("ec2_imds_defaults", region)
        tokens = defaults.get("HttpTokens", "no-preference")
        hops = defaults.get("HttpPutResponseHopLimit", "no-preference")
        ok = tokens == "required" or defaults.get("HttpEndpoint") == "disabled"
        managed = defaults.get("ManagedBy")
        resources.append(
            res(
                "instance-metadata-defaults/%s" % region,
                region,
                "pass" if ok else "fail",
                "account default HttpTokens: %s, HttpPutResponseHopLimit: %s%s"
                % (tokens, hops, ", managed by %s" % managed if managed and managed != "account" else ""),
                "account default HttpTokens: required",
                rtype="AwsAccount",
                detail="the default for instances launched from now on in %s" % region,
            )
        )
    return {"resources": resources}


# ---------------------------------------------------------------------------
# 2.x


def check_2_1(snap, ctx):
    """Attached customer-managed and inline policies granting wildcard actions, or writes on every resource."""
    auth = snap.get("iam_authorization")
    resources = []
    seen = set()
    attached_to = {}
    for kind, name, _unused_arn, docs, _item in _identity_policies(auth):
        for label, _doc, _pkind in docs:
            attached_to.setdefault(label, []).append("%s %s" % (kind, name))
    for policy in auth["policies"]:
        if not policy.get("AttachmentCount"):
            continue
        pname = policy.get("PolicyName") or policy["Arn"].rsplit("/", 1)[-1]
        label = "policy %s" % pname
        problems = _wildcard_problems(_default_version_doc(policy))
        seen.add(label)
        resources.append(
            res(
                pname,
                GLOBAL,
                "fail" if problems else "pass",
                "; ".join(problems) if problems else "no wildcard grants",
                "named actions on named resources",
                rtype="AwsIamPolicy",
                arn=policy.get("Arn"),
                detail="attached to %s" % ", ".join(sorted(attached_to.get(label, [])))
                if attached_to.get(label)
                else None,
            )
        )
    for kind, name, arn, docs, _item in _identity_policies(auth):
        for label, doc, pkind in docs:
            if pkind != "inline":
                continue
            problems = _wildcard_problems(doc)
            resources.append(
                res(
                    "%s/%s" % (name, label.split(" ", 2)[-1]),
                    GLOBAL,
                    "fail" if problems else "pass",
                    "; ".join(problems) if problems else "no wildcard grants",
                    "named actions on named resources",
                    rtype="AwsIamPolicy",
                    arn=arn,
                    detail="%s of %s %s" % (label, kind, name),
                )
            )
        for label, _doc, pkind in docs:
            short = label.rsplit(" ", 1)[-1]
            if pkind == "aws" and (short in ADMIN_MANAGED_POLICIES or short.endswith("FullAccess")):
                resources.append(
                    res(
                        "%s/%s" % (name, short),
                        GLOBAL,
                        "fail",
                        "%s attached to %s %s" % (label, kind, name),
                        "no full-access managed policy",
                        rtype="AwsIamPolicy",
                        arn=arn,
                    )
                )
    return {"resources": resources}


def _backup_covers(plan, arn, tags):
    for sel in plan.get("Selections", []):
        resources = sel.get("Resources") or []
        if "*" in resources or arn in resources or any(fnmatch.fnmatch(arn, r) for r in resources if "*" in r):
            return sel.get("SelectionName") or "selection"
        for cond in sel.get("ListOfTags") or []:
            if tags.get(cond.get("ConditionKey")) == cond.get("ConditionValue"):
                return sel.get("SelectionName") or "selection"
        for cond in (sel.get("Conditions") or {}).get("StringEquals", []) or []:
            key = (cond.get("ConditionKey") or "").replace("aws:ResourceTag/", "")
            if tags.get(key) == cond.get("ConditionValue"):
                return sel.get("SelectionName") or "selection"
    return None


def _scheduled_rules(plan):
    return [r for r in plan.get("Rules", []) if r.get("ScheduleExpression")]


def check_2_2(snap, ctx):
    """Each primary database is under a scheduled AWS Backup plan, with automated backups on."""
    resources = []
    for region, db in _dbs(snap):
        if _is_replica(db):
            resources.append(
                _db_res(
                    region,
                    db,
                    "not_applicable",
                    "read replica of %s" % _replica_source(db),
                    "backups taken from the source database",
                )
            )
            continue
        retention = db.get("BackupRetentionPeriod", 0) or 0
        covered = []
        for plan in snap.get("backup_plans", region):
            if not _scheduled_rules(plan):
                continue
            sel = _backup_covers(plan, db.get("DBInstanceArn", ""), _tags(db.get("TagList")))
            if sel:
                rules = ", ".join(
                    "%s (%s)" % (r.get("RuleName"), r.get("ScheduleExpression")) for r in _scheduled_rules(plan)
                )
                covered.append("plan %s via %s: %s" % (plan.get("BackupPlanName"), sel, rules))
        observed = "automated backups: %s; AWS Backup: %s" % (
            "retention %s day(s)" % retention if retention else "off",
            "; ".join(covered) if covered else "no plan selects it",
        )
        ok = bool(covered) and retention >= 1
        resources.append(
            _db_res(
                region,
                db,
                "pass" if ok else "fail",
                observed,
                "automated backups on and a scheduled AWS Backup plan selecting it",
            )
        )
    return {"resources": resources}


def _replica_source(db):
    return db.get("ReadReplicaSourceDBInstanceIdentifier") or db.get("ReadReplicaSourceDBClusterIdentifier")


def _region_of_arn(arn):
    parts = str(arn).split(":")
    return parts[3] if len(parts) > 5 else None


def check_2_3(snap, ctx):
    """Data copied to a second region: each primary database and bucket has a copy in a DR region."""
    primary = snap.primary_region
    regions = snap.regions
    resources = []
    if len(regions) < 2:
        return {
            "status": "fail",
            "resources": [
                _account_res(
                    snap,
                    "fail",
                    "only %s audited; no DR region given" % primary,
                    "a DR region holding copies of the data",
                    regions,
                )
            ],
        }
    dr_regions = snap.dr_regions
    replicas = {}
    auto_backups = {}
    for region in dr_regions:
        for db in snap.get("rds_instances", region):
            src = db.get("ReadReplicaSourceDBInstanceIdentifier")
            if src:
                replicas.setdefault(src, []).append("%s replica %s" % (region, db["DBInstanceIdentifier"]))
        for backup in snap.get("rds_automated_backups", region):
            src = backup.get("DBInstanceArn")
            if src and _region_of_arn(src) != region:
                auto_backups.setdefault(src, []).append("%s replicated automated backups" % region)
    for db in snap.get("rds_instances", primary):
        if _is_replica(db):
            continue
        arn = db.get("DBInstanceArn", "")
        copies = (
            list(replicas.get(arn, []))
            + list(replicas.get(db["DBInstanceIdentifier"], []))
            + list(auto_backups.get(arn, []))
        )
        for rid in db.get("ReadReplicaDBInstanceIdentifiers", []) or []:
            if rid.startswith("arn:") and _region_of_arn(rid) in dr_regions and not copies:
                copies.append("replica %s" % rid)
        try:
            plans = snap.get("backup_plans", primary)
        except SourceError:
            plans = []  # replicas and replicated backups still tell; 2.2 reports the Backup error
        for plan in plans:
            if _backup_covers(plan, arn, _tags(db.get("TagList"))):
                for rule in plan.get("Rules", []):
                    for action in rule.get("CopyActions", []) or []:
                        dest = action.get("DestinationBackupVaultArn", "")
                        if _region_of_arn(dest) in dr_regions:
                            copies.append("backup copy to %s" % dest)
        resources.append(
            _db_res(
                primary,
                db,
                "pass" if copies else "fail",
                "; ".join(sorted(set(copies))) if copies else "no copy in %s" % ", ".join(dr_regions),
                "a cross-region read replica, replicated backups or a backup copy in the DR region",
            )
        )
    bucket_regions = {b["Name"]: b.get("BucketRegion") for b in snap.get("s3_buckets")}
    names = [n for n in _bucket_names(snap, ctx) if bucket_regions.get(n) == primary]
    snap.prefetch("s3_bucket", [("tagging", n) for n in names])
    key, value = ctx.phi_tag
    phi = [n for n in names if _bucket_tags(snap, n).get(key) == value]
    snap.prefetch("s3_bucket", [("replication", n) for n in phi or names])  # only the buckets judged
    for name in phi or names:
        repl = snap.get("s3_bucket", key=("replication", name))
        targets = []
        for rule in ((repl or {}).get("ReplicationConfiguration") or {}).get("Rules", []) or []:
            if rule.get("Status") != "Enabled":
                continue
            dest = ((rule.get("Destination") or {}).get("Bucket") or "").split(":::")[-1]
            if bucket_regions.get(dest) in dr_regions:
                targets.append("%s (%s)" % (dest, bucket_regions[dest]))
        resources.append(
            _bucket_res(
                snap,
                name,
                "pass" if targets else "fail",
                "replicates to %s" % ", ".join(targets)
                if targets
                else "no replication rule to a bucket in %s" % ", ".join(dr_regions),
                "replication to a bucket in the DR region",
            )
        )
    if not resources:
        resources.append(
            _account_res(snap, "fail", "no data stores found in %s" % primary, "data copied to the DR region", regions)
        )
    return {"resources": resources, "regions": regions}


def check_2_4(snap, ctx):
    resources = []
    for name in _bucket_names(snap, ctx, "versioning"):
        ver = snap.get("s3_bucket", key=("versioning", name)) or {}
        status = ver.get("Status") or "never enabled"
        resources.append(
            _bucket_res(
                snap, name, "pass" if status == "Enabled" else "fail", "Versioning: %s" % status, "Versioning: Enabled"
            )
        )
    return {"resources": resources}


def check_2_5(snap, ctx):
    """Buckets encrypted with a customer-managed KMS key, not only the default SSE-S3 or the aws/s3 key."""
    resources = []
    names = _bucket_names(snap, ctx, "encryption", "logging")  # both settings read side by side
    targets = _log_targets(snap, ctx)
    for name in names:
        if name in targets:
            resources.append(_log_target_res(snap, name, targets[name], "SSE-KMS with a customer-managed key"))
            continue
        algo, key, bucket_key = _bucket_sse(snap, name)
        region = _bucket_region(snap, name)
        if algo in ("aws:kms", "aws:kms:dsse"):
            kind = _kms_key_kind(snap, region, key) if key else "aws-managed"
            ok = kind == "customer-managed"
            observed = "SSEAlgorithm: %s, key: %s (%s)" % (algo, key or "aws/s3", kind)
        else:
            ok = False
            observed = "SSEAlgorithm: %s (default encryption only)" % (algo or "none")
        resources.append(
            _bucket_res(
                snap,
                name,
                "pass" if ok else "fail",
                observed,
                "SSE-KMS with a customer-managed key",
                detail="BucketKeyEnabled: %s" % bucket_key,
            )
        )
    return {"resources": resources}


def check_2_6(snap, ctx):
    """Object Lock on the buckets that hold patient data (tag DataClass=phi; every bucket when none is tagged)."""
    resources = []
    names = _bucket_names(snap, ctx, "tagging")
    key, value = ctx.phi_tag
    phi = [n for n in names if _bucket_tags(snap, n).get(key) == value]
    snap.prefetch("s3_bucket", [("object_lock", n) for n in phi or names])  # only the buckets judged
    scoped = bool(phi)
    for name in names:
        if scoped and name not in phi:
            resources.append(
                _bucket_res(
                    snap, name, "not_applicable", "not tagged %s=%s" % (key, value), "Object Lock on patient data"
                )
            )
            continue
        lock = snap.get("s3_bucket", key=("object_lock", name)) or {}
        conf = lock.get("ObjectLockConfiguration") or {}
        enabled = conf.get("ObjectLockEnabled") == "Enabled"
        rule = (conf.get("Rule") or {}).get("DefaultRetention")
        observed = "ObjectLockEnabled: %s" % (conf.get("ObjectLockEnabled") or "not enabled")
        if rule:
            observed += ", default retention %s" % json.dumps(rule, sort_keys=True)
        resources.append(
            _bucket_res(
                snap,
                name,
                "pass" if enabled else "fail",
                observed,
                "ObjectLockEnabled: Enabled",
                detail="tagged %s=%s" % (key, value)
                if scoped
                else "no bucket is tagged %s=%s: all audited" % (key, value),
            )
        )
    return {"resources": resources}


def check_2_7(snap, ctx):
    resources = []
    targets = _log_targets(snap, ctx)
    for name in _bucket_names(snap, ctx, "logging"):
        logging = (snap.get("s3_bucket", key=("logging", name)) or {}).get("LoggingEnabled")
        if not logging and name in targets:
            resources.append(_log_target_res(snap, name, targets[name], "server access logging to a log bucket"))
            continue
        if logging:
            observed = "server access logs to s3://%s/%s" % (
                logging.get("TargetBucket"),
                logging.get("TargetPrefix", ""),
            )
        else:
            observed = "LoggingEnabled: none"
        resources.append(
            _bucket_res(snap, name, "pass" if logging else "fail", observed, "server access logging to a log bucket")
        )
    return {"resources": resources}


def _denies_cleartext(policy_text):
    for stmt in _statements(policy_text):
        if stmt.get("Effect") != "Deny":
            continue
        cond = stmt.get("Condition") or {}
        for op in ("Bool", "BoolIfExists"):
            value = (cond.get(op) or {}).get("aws:SecureTransport")
            if str(_as_list(value)[0] if _as_list(value) else "").lower() == "false":
                actions = _as_list(stmt.get("Action"))
                if "*" in actions or "s3:*" in actions:
                    return stmt.get("Sid") or "deny statement"
        tls = (cond.get("NumericLessThan") or {}).get("s3:TlsVersion")
        if tls:
            return stmt.get("Sid") or "TLS version deny statement"
    return None


def check_2_8(snap, ctx):
    resources = []
    for name in _bucket_names(snap, ctx, "policy"):
        policy = (snap.get("s3_bucket", key=("policy", name)) or {}).get("Policy")
        if not policy:
            resources.append(
                _bucket_res(snap, name, "fail", "no bucket policy", "Deny s3:* when aws:SecureTransport is false")
            )
            continue
        sid = _denies_cleartext(policy)
        count = len(_statements(policy))
        resources.append(
            _bucket_res(
                snap,
                name,
                "pass" if sid else "fail",
                "policy denies cleartext (%s)" % sid
                if sid
                else "policy has %d statement(s), none denies aws:SecureTransport false" % count,
                "Deny s3:* when aws:SecureTransport is false",
            )
        )
    return {"resources": resources}


def _trails(snap):
    """Every trail once, by ARN, with the regions that see it."""
    trails = {}
    for region in snap.regions:
        for trail in snap.get("cloudtrail_trails", region):
            trails.setdefault(trail["TrailARN"], trail)
    return list(trails.values())


def _trail_logs_bucket_objects(trail, bucket, partition="aws"):
    sels = trail.get("Selectors") or {}
    prefix = "arn:%s:s3" % partition
    for sel in sels.get("EventSelectors", []):
        for data in sel.get("DataResources", []) or []:
            if data.get("Type") != "AWS::S3::Object":
                continue
            for value in data.get("Values", []) or []:
                if value in (prefix, prefix + ":::") or value.startswith("%s:::%s/" % (prefix, bucket)):
                    return "event selector %s (%s)" % (value, sel.get("ReadWriteType", "All"))
    for sel in sels.get("AdvancedEventSelectors", []):
        fields = {f.get("Field"): f for f in sel.get("FieldSelectors", [])}
        if "AWS::S3::Object" not in (fields.get("resources.type") or {}).get("Equals", []):
            continue
        arns = fields.get("resources.ARN")
        if not arns:
            return "advanced selector %s (all buckets)" % (sel.get("Name") or "")
        for value in arns.get("StartsWith", []) or []:
            if value.startswith("%s:::%s/" % (prefix, bucket)) or value == "%s:::%s" % (prefix, bucket):
                return "advanced selector %s" % (sel.get("Name") or value)
    return None


def _accepts_log_delivery(policy_text):
    for stmt in _statements(policy_text):
        principal = stmt.get("Principal") or {}
        services = _as_list(principal.get("Service")) if isinstance(principal, dict) else []
        if stmt.get("Effect") == "Allow" and "logging.s3.amazonaws.com" in services:
            return True
    return False


def check_2_9(snap, ctx):
    """Access to each bucket is recorded somewhere that receives it.

    Either CloudTrail data events of a logging trail cover the bucket's objects, or its server access
    logs go to an existing log bucket that lets the S3 log delivery service write (otherwise the
    logging setting of 2.7 records nothing).
    """
    resources = []
    trails = [t for t in _trails(snap) if (t.get("Status") or {}).get("IsLogging")]
    existing = {b["Name"] for b in snap.get("s3_buckets")}
    targets = _log_targets(snap, ctx)
    for name in _bucket_names(snap, ctx, "logging"):
        found = None
        for trail in trails:
            how = _trail_logs_bucket_objects(trail, name, snap.partition or "aws")
            if how:
                found = "CloudTrail trail %s records object access: %s" % (trail.get("Name"), how)
                break
        problem = None
        if not found:
            logging = (snap.get("s3_bucket", key=("logging", name)) or {}).get("LoggingEnabled") or {}
            target = logging.get("TargetBucket")
            if not target:
                if name in targets:
                    resources.append(_log_target_res(snap, name, targets[name], "access to the bucket is recorded"))
                    continue
                problem = "no server access logging and no CloudTrail data events"
            elif target not in existing:
                problem = "server access logs go to %s, which is not a bucket of this account" % target
            else:
                policy = (snap.get("s3_bucket", key=("policy", target)) or {}).get("Policy")
                if policy and _accepts_log_delivery(policy):
                    found = "server access logs delivered to s3://%s/%s (log delivery allowed by its policy)" % (
                        target,
                        logging.get("TargetPrefix", ""),
                    )
                else:
                    problem = (
                        "server access logs go to %s, whose policy does not let logging.s3.amazonaws.com write" % target
                    )
        resources.append(
            _bucket_res(
                snap,
                name,
                "pass" if found else "fail",
                found or problem,
                "access recorded: CloudTrail data events, or server access logs delivered to a log bucket",
            )
        )
    return {"resources": resources}


def _dlm_matches(policy, tags):
    details = policy.get("PolicyDetails") or {}
    return any(tags.get(tag.get("Key")) == tag.get("Value") for tag in details.get("TargetTags", []) or [])


def check_2_10(snap, ctx):
    """Each instance's volumes are snapshotted on a schedule by an enabled DLM policy."""
    resources = []
    for region in snap.regions:
        instances = snap.get("ec2_instances", region)
        if not instances:
            continue
        policies = [p for p in snap.get("dlm_policies", region) if p.get("State") == "ENABLED"]
        volumes = {v["VolumeId"]: v for v in snap.get("ec2_volumes", region)}
        for inst in instances:
            inst_tags = _tags(inst.get("Tags"))
            covered = []
            for policy in policies:
                details = policy.get("PolicyDetails") or {}
                rtypes = details.get("ResourceTypes") or []
                if "INSTANCE" in rtypes and _dlm_matches(policy, inst_tags):
                    covered.append(policy.get("PolicyId"))
                    continue
                if "VOLUME" in rtypes:
                    vol_ids = [(m.get("Ebs") or {}).get("VolumeId") for m in inst.get("BlockDeviceMappings", []) or []]
                    vol_ids = [v for v in vol_ids if v]
                    if vol_ids and all(_dlm_matches(policy, _tags(volumes.get(v, {}).get("Tags"))) for v in vol_ids):
                        covered.append(policy.get("PolicyId"))
            schedules = []
            for policy in policies:
                if policy.get("PolicyId") in covered:
                    for sch in (policy.get("PolicyDetails") or {}).get("Schedules", []) or []:
                        rule = sch.get("CreateRule") or {}
                        when = rule.get("CronExpression") or (
                            "every %s %s" % (rule.get("Interval"), (rule.get("IntervalUnit") or "").lower())
                        )
                        schedules.append("%s: %s" % (policy.get("PolicyId"), when))
            resources.append(
                res(
                    inst["InstanceId"],
                    region,
                    "pass" if covered else "fail",
                    "; ".join(schedules)
                    if covered
                    else "no enabled DLM policy targets this instance or its volumes (%d enabled policies in region)"
                    % len(policies),
                    "an enabled DLM snapshot policy whose target tags match",
                    rtype="AwsEc2Instance",
                    arn=_instance_arn(snap, region, inst),
                    name=_name(inst),
                )
            )
    return {"resources": resources}


def check_2_11(snap, ctx):
    """Account-level: a logging multi-region trail, GuardDuty enabled in every audited region, alarms in place."""
    regions = snap.regions
    resources = []
    trails = _trails(snap)
    multi = [t for t in trails if t.get("IsMultiRegionTrail") and (t.get("Status") or {}).get("IsLogging")]
    resources.append(
        _account_res(
            snap,
            "pass" if multi else "fail",
            "logging multi-region trails: %s"
            % (", ".join(t["Name"] for t in multi) if multi else "none (%d trail(s) seen)" % len(trails)),
            "a multi-region CloudTrail trail that is logging",
            regions,
            detail="CloudTrail",
        )
    )
    for region in regions:
        detectors = snap.get("guardduty", region)
        enabled = [d["DetectorId"] for d in detectors if d.get("Status") == "ENABLED"]
        resources.append(
            res(
                "guardduty/%s" % region,
                region,
                "pass" if enabled else "fail",
                "GuardDuty detector enabled: %s" % (", ".join(enabled) if enabled else "none"),
                "an enabled GuardDuty detector",
                rtype="AwsGuardDutyDetector",
            )
        )
    alarms = []
    for region in regions:
        alarms.extend(
            "%s (%s)" % (a["AlarmName"], region)
            for a in snap.get("cloudwatch_alarms", region)
            if a.get("ActionsEnabled", True)
        )
    resources.append(
        _account_res(
            snap,
            "pass" if alarms else "fail",
            "CloudWatch alarms: %s" % (", ".join(sorted(alarms)[:10]) if alarms else "none"),
            "CloudWatch alarms that notify on security events",
            regions,
            detail="CloudWatch alarms",
        )
    )
    return {"resources": resources, "regions": regions}


def check_2_12(snap, ctx):
    resources = []
    for region, db in _dbs(snap):
        interval = db.get("MonitoringInterval") or 0
        alarms = [
            a["AlarmName"]
            for a in snap.get("cloudwatch_alarms", region)
            if a.get("Namespace") == "AWS/RDS"
            and any(
                d.get("Name") == "DBInstanceIdentifier" and d.get("Value") == db["DBInstanceIdentifier"]
                for d in a.get("Dimensions", [])
            )
        ]
        ok = interval > 0 or bool(alarms)
        observed = "MonitoringInterval: %s; CloudWatch alarms: %s" % (interval, ", ".join(alarms) if alarms else "none")
        resources.append(
            _db_res(
                region,
                db,
                "pass" if ok else "fail",
                observed,
                "enhanced monitoring (MonitoringInterval > 0) or CloudWatch alarms on the instance",
            )
        )
    return {"resources": resources}


def check_2_13(snap, ctx):
    resources = []
    for region, db in _dbs(snap):
        if _is_replica(db):
            resources.append(
                _db_res(
                    region,
                    db,
                    "not_applicable",
                    "read replica of %s" % _replica_source(db),
                    "failover of the source database",
                )
            )
            continue
        replicas = db.get("ReadReplicaDBInstanceIdentifiers") or []
        multi = bool(db.get("MultiAZ")) or bool(db.get("DBClusterIdentifier"))
        observed = "MultiAZ: %s; read replicas: %s" % (
            str(bool(db.get("MultiAZ"))).lower(),
            ", ".join(replicas) if replicas else "none",
        )
        resources.append(
            _db_res(region, db, "pass" if multi else "fail", observed, "MultiAZ: true (automatic failover)")
        )
    return {"resources": resources}


def check_2_14(snap, ctx):
    resources = []
    for region, db in _dbs(snap):
        enc = bool(db.get("StorageEncrypted"))
        tls = None
        attached = db.get("DBParameterGroups", []) or []
        groups = [g.get("DBParameterGroupName") for g in attached]
        pending = None
        for entry in attached:
            group = entry.get("DBParameterGroupName")
            params = snap.get("rds_parameters", region, group)
            for pname in ("rds.force_ssl", "require_secure_transport"):
                value = params.get(pname)
                if value is not None and str(value).lower() in ("1", "on", "true"):
                    if entry.get("ParameterApplyStatus") == "pending-reboot":
                        # a group attached since the last reboot is not in force yet: clients may still skip TLS
                        pending = "%s=%s in %s, which applies only after a reboot (pending-reboot)" % (
                            pname,
                            value,
                            group,
                        )
                    else:
                        tls = "%s=%s in %s" % (pname, value, group)
        ok = enc and bool(tls)
        if not tls and pending:
            tls = "not yet: " + pending
        observed = "StorageEncrypted: %s; TLS required: %s" % (
            str(enc).lower(),
            tls or "no (rds.force_ssl / require_secure_transport not set in %s)" % ", ".join(groups or ["-"]),
        )
        resources.append(
            _db_res(
                region,
                db,
                "pass" if ok else "fail",
                observed,
                "StorageEncrypted: true and TLS required by the parameter group",
            )
        )
    return {"resources": resources}


# ---------------------------------------------------------------------------
# 3.x

PASSWORD_POLICY_RULES = (
    ("MinimumPasswordLength", 14, ">="),
    ("RequireSymbols", True, "=="),
    ("RequireNumbers", True, "=="),
    ("RequireUppercaseCharacters", True, "=="),
    ("RequireLowercaseCharacters", True, "=="),
    ("PasswordReusePrevention", 24, ">="),
    ("MaxPasswordAge", 90, "<="),
)


def _host_facts_for(ctx, instance_id):
    for host, facts in ctx.host_facts.items():
        if isinstance(facts, dict) and (facts.get("instance_id") == instance_id or host == instance_id):
            return host, facts
    return None, None


def _truthy(value):
    return str(value).strip().lower() in ("1", "yes", "true", "on")


def check_3_1(snap, ctx):
    resources = []
    policy = snap.get("iam_password_policy")
    if policy is None:
        resources.append(
            _account_res(
                snap,
                "fail",
                "no account password policy (AWS defaults: 8 characters, no complexity)",
                "MinimumPasswordLength >= 14, all character classes, reuse prevention 24, expiry <= 90 days",
            )
        )
    else:
        weak = []
        for key, want, op in PASSWORD_POLICY_RULES:
            have = policy.get(key)
            if op == ">=" and not (isinstance(have, int) and have >= want):
                weak.append("%s: %s (want >= %s)" % (key, have, want))
            elif op == "==" and have != want:
                weak.append("%s: %s (want %s)" % (key, have, want))
            elif op == "<=" and not (isinstance(have, int) and 0 < have <= want):
                weak.append("%s: %s (want <= %s)" % (key, have, want))
        resources.append(
            _account_res(
                snap,
                "fail" if weak else "pass",
                "; ".join(weak)
                if weak
                else "MinimumPasswordLength %s, all classes, reuse %s, expiry %s days"
                % (
                    policy.get("MinimumPasswordLength"),
                    policy.get("PasswordReusePrevention"),
                    policy.get("MaxPasswordAge"),
                ),
                "MinimumPasswordLength >= 14, all character classes, reuse prevention 24, expiry <= 90 days",
                detail="IAM account password policy",
            )
        )
    for host, facts in sorted(ctx.host_facts.items()):
        if not isinstance(facts, dict) or "sshd_password_authentication" not in facts:
            continue
        value = facts.get("sshd_password_authentication")
        on = _truthy(value)
        off = value is False or str(value).strip().lower() in ("0", "no", "false", "off")
        # A value that is neither (sshd did not say) is left to a person, never read as "no".
        resources.append(
            res(
                facts.get("instance_id") or host,
                facts.get("region") or "host",
                "fail" if on else ("pass" if off else "manual"),
                "sshd PasswordAuthentication: %s"
                % ("yes" if on else "no" if off else "%s (confirm with sshd -T)" % value),
                "PasswordAuthentication no (keys or Session Manager only)",
                rtype="Other",
                name=host,
                detail="from host facts",
            )
        )
    return {"resources": resources}


def check_3_2(snap, ctx):
    resources = []
    for region, db in _dbs(snap):
        if _is_replica(db):
            resources.append(
                _db_res(
                    region,
                    db,
                    "not_applicable",
                    "read replica of %s" % _replica_source(db),
                    "credentials of the source database",
                )
            )
            continue
        secret = db.get("MasterUserSecret") or {}
        if secret.get("SecretArn"):
            observed = "master password managed by Secrets Manager (%s, %s)" % (
                secret.get("SecretArn"),
                secret.get("SecretStatus") or "active",
            )
            resources.append(
                _db_res(region, db, "pass", observed, "MasterUserSecret present (generated, rotated password)")
            )
        else:
            resources.append(
                _db_res(
                    region,
                    db,
                    "fail",
                    "master password for %s set by hand; the API cannot show its length"
                    % (db.get("MasterUsername") or "master user"),
                    "ManageMasterUserPassword: true (Secrets Manager generates and rotates it)",
                )
            )
    return {"resources": resources}


def _sg_res(region, sg, status, observed, expected, detail=None):
    return res(
        sg["GroupId"],
        region,
        status,
        observed,
        expected,
        rtype="AwsEc2SecurityGroup",
        name=sg.get("GroupName"),
        detail=detail,
    )


def check_3_3(snap, ctx):
    """Security groups in use with rules to or from 0.0.0.0/0 or ::/0 (ingress, and all-traffic egress)."""
    resources = []
    for region in snap.regions:
        used = _used_security_groups(snap, region)
        for sg in snap.get("ec2_security_groups", region):
            facing = _tags(sg.get("Tags")).get(INTERNET_FACING_TAG[0]) == INTERNET_FACING_TAG[1]
            allowed = [
                r
                for r in _sg_open_rules(sg)
                if facing
                and r[0] in ("tcp", "6")
                and r[1] is not None
                and r[1] == r[2]
                and r[1] in ctx.public_ingress_ports
            ]
            ingress = [r for r in _sg_open_rules(sg) if r not in allowed]
            egress = [r for r in _sg_open_rules(sg, egress=True) if r[0] == "-1"]
            in_use = sg["GroupId"] in used
            if not in_use and not ingress:
                continue
            problems = ["inbound " + _rule_text(r) for r in ingress] + ["outbound " + _rule_text(r) for r in egress]
            status = "fail" if problems and in_use else ("fail" if ingress else "pass")
            resources.append(
                _sg_res(
                    region,
                    sg,
                    status,
                    "; ".join(problems)
                    if problems
                    else (
                        "only %s open to the internet on this internet-facing group (tag %s=%s)"
                        % (", ".join(_rule_text(r) for r in allowed), INTERNET_FACING_TAG[0], INTERNET_FACING_TAG[1])
                        if allowed
                        else "no rule to or from 0.0.0.0/0 or ::/0"
                    ),
                    "sources and destinations limited to known ranges or security groups",
                    detail="in use" if in_use else "not attached to any network interface",
                )
            )
    return {"resources": resources}


def check_3_4(snap, ctx):
    resources = []
    for region in snap.regions:
        default = snap.get("ec2_ebs_default", region)
        resources.append(
            res(
                "ebs-encryption-by-default/%s" % region,
                region,
                "pass" if default.get("enabled") else "fail",
                "EbsEncryptionByDefault: %s%s"
                % (
                    str(default.get("enabled")).lower(),
                    ", key %s" % default["kms_key_id"] if default.get("kms_key_id") else "",
                ),
                "EbsEncryptionByDefault: true",
                rtype="AwsAccount",
            )
        )
        for vol in snap.get("ec2_volumes", region):
            status, observed = _volume_encryption(snap, region, vol)
            tags = _tags(vol.get("Tags"))
            if status == "fail" and tags.get("cloudops:replaced-by"):
                # The original of an encrypted swap, kept for its retention: still unencrypted data at rest.
                observed += "; original kept after the swap to encrypted %s, retained until %s, then removed by %s" % (
                    tags["cloudops:replaced-by"],
                    tags.get("cloudops:retain-until", "(no date)"),
                    "playbooks/remediate/encryption.yml -e ebs_encryption_cleanup_originals=true",
                )
            attached = ", ".join(
                "%s %s" % (a.get("InstanceId"), a.get("Device")) for a in vol.get("Attachments", []) or []
            )
            resources.append(
                res(
                    vol["VolumeId"],
                    region,
                    status,
                    observed,
                    "Encrypted: true",
                    rtype="AwsEc2Volume",
                    arn=_arn(snap, "ec2", region, "volume/" + vol["VolumeId"]),
                    name=_name(vol),
                    detail="attached to %s" % attached if attached else "not attached (%s)" % vol.get("State"),
                )
            )
    return {"resources": resources}


def _ssm_info(snap, region):
    return {i["InstanceId"]: i for i in snap.get("ssm_instance_information", region)}


def _patch_windows_for(snap, region, inst):
    """Names of the enabled maintenance windows whose AWS-RunPatchBaseline task targets the instance."""
    tags = _tags(inst.get("Tags"))
    names = []
    for window in snap.get("ssm_maintenance_windows", region):
        if not window.get("Enabled", True):
            continue
        selecting = set()
        for target in window.get("Targets", []):
            for selector in target.get("Targets", []):
                key, values = selector.get("Key", ""), selector.get("Values", []) or []
                if (
                    (key == "InstanceIds" and inst["InstanceId"] in values)
                    or (key.startswith("tag:") and tags.get(key[4:]) in values)
                    or (key.startswith("tag-key") and any(v in tags for v in values))
                ):
                    selecting.add(target.get("WindowTargetId"))
        for task in window.get("Tasks", []):
            if task.get("TaskArn") != "AWS-RunPatchBaseline":
                continue
            for selector in task.get("Targets", []) or []:
                values = selector.get("Values", []) or []
                if (selector.get("Key") == "WindowTargetIds" and selecting.intersection(values)) or (
                    selector.get("Key") == "InstanceIds" and inst["InstanceId"] in values
                ):
                    names.append(window.get("Name") or window.get("WindowId"))
                    break
    return sorted(set(names))


def check_3_5(snap, ctx):
    """Running instances managed by Systems Manager (agent online) and patched by a maintenance window.

    An instance passes when its agent is online and an enabled maintenance window runs AWS-RunPatchBaseline
    on it (by its PatchGroup or other tag, or its id); the evidence names the window and the baseline of its
    patch group (or the account's default baseline for its operating system).
    """
    resources = []
    for region in snap.regions:
        instances = snap.get("ec2_instances", region)
        if not instances:
            continue
        info = _ssm_info(snap, region)
        groups = None
        for inst in instances:
            iid = inst["InstanceId"]
            managed = info.get(iid)
            if _state(inst) != "running":
                status = "not_applicable"
                observed = "instance %s; Systems Manager: %s" % (
                    _state(inst),
                    managed.get("PingStatus") if managed else "not registered",
                )
            elif not managed or managed.get("PingStatus") != "Online":
                status = "fail"
                observed = "PingStatus: %s" % (
                    managed.get("PingStatus") if managed else "not a managed instance (no SSM agent registration)"
                )
            else:
                if groups is None:
                    groups = snap.get("ssm_patch_groups", region)
                covering = _patch_windows_for(snap, region, inst)
                group = _tags(inst.get("Tags")).get("PatchGroup")
                baseline = (groups or {}).get(group, {}) if group else {}
                baseline_text = (
                    "patch group %s -> baseline %s"
                    % (group, baseline.get("BaselineName") or baseline.get("BaselineId"))
                    if baseline
                    else "patch group %s (default baseline of its OS)" % group
                    if group
                    else "no PatchGroup tag (default baseline of its OS)"
                )
                if covering:
                    status = "pass"
                    observed = "managed, PingStatus Online, agent %s; patched by window %s; %s" % (
                        managed.get("AgentVersion", "?"),
                        ", ".join(covering),
                        baseline_text,
                    )
                else:
                    status = "fail"
                    observed = (
                        "managed, PingStatus Online, but no enabled maintenance window runs AWS-RunPatchBaseline "
                        "on it; %s" % baseline_text
                    )
            resources.append(
                res(
                    iid,
                    region,
                    status,
                    observed,
                    "managed by Systems Manager (PingStatus Online) and patched by an enabled maintenance window",
                    rtype="AwsEc2Instance",
                    arn=_instance_arn(snap, region, inst),
                    name=_name(inst),
                )
            )
    return {"resources": resources}


DR_SITE_OWNER = "medcircle.cloudops.dr_site"


def check_3_6(snap, ctx):
    resources = []
    for region in snap.regions:
        used = _used_security_groups(snap, region)
        referenced = set()
        for sg in snap.get("ec2_security_groups", region):
            for perm in (sg.get("IpPermissions") or []) + (sg.get("IpPermissionsEgress") or []):
                for pair in perm.get("UserIdGroupPairs", []) or []:
                    if pair.get("GroupId") != sg["GroupId"]:
                        referenced.add(pair.get("GroupId"))
        for sg in snap.get("ec2_security_groups", region):
            if sg.get("GroupName") == "default":
                continue
            in_use = sg["GroupId"] in used
            observed = "attached to network interfaces" if in_use else "not attached to any network interface"
            if not in_use and sg["GroupId"] in referenced:
                observed += " (referenced by another group's rules)"
            # The DR site's groups wait for a failover or a drill: unused by design, owned by the collection.
            standby = not in_use and _tags(sg.get("Tags")).get("cloudops:managed-by") == DR_SITE_OWNER
            if standby:
                observed += "; standby group of the DR site (%s), used on failover and in drills" % DR_SITE_OWNER
            resources.append(
                _sg_res(
                    region,
                    sg,
                    "pass" if in_use or standby else "fail",
                    observed,
                    "every non-default security group is in use",
                    detail="VPC %s" % sg.get("VpcId"),
                )
            )
    return {"resources": resources}


def check_3_7(snap, ctx):
    """OS release of each instance against end-of-life dates (SSM platform, else the AMI name)."""
    resources = []
    for region in snap.regions:
        instances = snap.get("ec2_instances", region)
        if not instances:
            continue
        images = snap.get("ec2_images", region)
        try:
            info = _ssm_info(snap, region)
        except SourceError:
            info = {}
        for inst in instances:
            iid = inst["InstanceId"]
            image = images.get(inst.get("ImageId")) or {}
            _host, facts = _host_facts_for(ctx, iid)
            source = None
            os_id, version = None, None
            if facts and facts.get("os_id"):
                os_id, version, source = str(facts["os_id"]), str(facts.get("os_version", "")), "host facts"
            elif info.get(iid, {}).get("PlatformName"):
                os_id, version = eol_mod.from_ssm_platform(
                    info[iid].get("PlatformName"), info[iid].get("PlatformVersion")
                )
                source = "Systems Manager %s %s" % (info[iid].get("PlatformName"), info[iid].get("PlatformVersion"))
            if not os_id:
                os_id, version = eol_mod.detect_release(
                    image.get("Name"), image.get("Description"), inst.get("PlatformDetails")
                )
                source = "AMI %s (%s)" % (inst.get("ImageId"), image.get("Name") or "name unknown")
            eol = eol_mod.end_of_life(os_id, version, ctx.eol)
            created = _parse_time(image.get("CreationDate"))
            age = (ctx.now - created).days if created else None
            age_text = "AMI age %s days" % age if age is not None else "AMI creation date unknown"
            if os_id is None or eol is None:
                status = "manual"
                observed = "release not recognised from %s; %s" % (source, age_text)
            elif eol <= ctx.today:
                status = "fail"
                observed = "%s %s reached end of life %s (%s); %s" % (os_id, version, eol.isoformat(), source, age_text)
            else:
                status = "pass"
                observed = "%s %s supported until %s (%s); %s" % (os_id, version, eol.isoformat(), source, age_text)
                if ctx.ami_max_age_days and age is not None and age > ctx.ami_max_age_days:
                    status = "fail"
                    observed += " (older than %s days)" % ctx.ami_max_age_days
            resources.append(
                res(
                    iid,
                    region,
                    status,
                    observed,
                    "a supported release (before its end-of-life date)",
                    rtype="AwsEc2Instance",
                    arn=_instance_arn(snap, region, inst),
                    name=_name(inst),
                    detail="state %s" % _state(inst),
                )
            )
    return {"resources": resources}


def check_3_8(snap, ctx):
    """Patch compliance from Systems Manager patch states: no missing or failed patches, scanned recently."""
    resources = []
    for region in snap.regions:
        instances = snap.get("ec2_instances", region)
        if not instances:
            continue
        info = _ssm_info(snap, region)
        states = snap.get("ssm_patch_states", region) if info else {}
        for inst in instances:
            iid = inst["InstanceId"]
            _host, facts = _host_facts_for(ctx, iid)
            state = states.get(iid)
            if _state(inst) != "running" and not state:
                resources.append(
                    res(
                        iid,
                        region,
                        "not_applicable",
                        "instance %s, no patch state" % _state(inst),
                        "patch state reported",
                        rtype="AwsEc2Instance",
                        name=_name(inst),
                    )
                )
                continue
            if iid not in info:
                status, observed = "fail", "not managed by Systems Manager: patch compliance unknown"
            elif not state:
                status, observed = "fail", "no patch state: never scanned by AWS-RunPatchBaseline"
            else:
                missing = state.get("MissingCount", 0) or 0
                failed = state.get("FailedCount", 0) or 0
                pending = state.get("InstalledPendingRebootCount", 0) or 0
                ended = _parse_time(state.get("OperationEndTime"))
                age = (ctx.now - ended).days if ended else None
                observed = "MissingCount %s, FailedCount %s, InstalledPendingRebootCount %s, last %s %s" % (
                    missing,
                    failed,
                    pending,
                    state.get("Operation", "scan"),
                    "%s days ago" % age if age is not None else "at an unknown time",
                )
                stale = age is None or (ctx.patch_max_age_days and age > ctx.patch_max_age_days)
                status = "fail" if (missing or failed or stale) else "pass"
            if facts and facts.get("pending_security_updates"):
                status = "fail"
                observed += "; host reports %s pending security updates" % facts["pending_security_updates"]
            resources.append(
                res(
                    iid,
                    region,
                    status,
                    observed,
                    "MissingCount 0, FailedCount 0, scanned in the last %s days" % ctx.patch_max_age_days,
                    rtype="AwsEc2Instance",
                    arn=_instance_arn(snap, region, inst),
                    name=_name(inst),
                )
            )
    return {"resources": resources}


# ---------------------------------------------------------------------------
# 4.x


def check_4_1(snap, ctx):
    """Account-level: a network (non-default VPC with subnets) in at least two audited regions."""
    regions = snap.regions
    present = {}
    for region in regions:
        subnets = snap.get("ec2_subnets", region)
        vpcs = [v for v in snap.get("ec2_vpcs", region) if not v.get("IsDefault")]
        with_subnets = [v["VpcId"] for v in vpcs if any(s.get("VpcId") == v["VpcId"] for s in subnets)]
        if with_subnets:
            present[region] = with_subnets
    observed = "; ".join("%s: %s" % (r, ", ".join(v)) for r, v in present.items()) or "no application VPC"
    ok = len(present) >= 2
    return {
        "resources": [
            _account_res(
                snap,
                "pass" if ok else "fail",
                "application VPCs by region: %s (regions audited: %s)" % (observed, ", ".join(regions)),
                "application VPCs in the primary and a DR region",
                regions,
            )
        ],
        "regions": regions,
    }


SEGMENTATION_STEPS = (
    ("AwsRdsDbInstance", fmeta.SEGMENTATION_DATABASES),
    ("AwsEc2Instance", fmeta.SEGMENTATION_SERVERS),
)


def check_4_2(snap, ctx):
    """Instances and databases reachable from the internet through public subnets."""
    resources = []
    for region in snap.regions:
        instances = snap.get("ec2_instances", region)
        dbs = snap.get("rds_instances", region)
        if not instances and not dbs:
            continue
        tables = snap.get("ec2_route_tables", region)
        subnets = {s["SubnetId"]: s for s in snap.get("ec2_subnets", region)}
        for inst in instances:
            subnet = inst.get("SubnetId")
            route = _internet_route(_route_table_for_subnet(tables, subnet, inst.get("VpcId")))
            public_ip = inst.get("PublicIpAddress")
            ipv6 = [
                a.get("Ipv6Address")
                for eni in inst.get("NetworkInterfaces", []) or []
                for a in eni.get("Ipv6Addresses", []) or []
            ]
            exposed = route and (public_ip or ipv6)
            observed = "subnet %s %s; public IP %s" % (
                subnet,
                "routes %s" % route if route else "has no internet route",
                public_ip or (", ".join(ipv6) if ipv6 else "none"),
            )
            resources.append(
                res(
                    inst["InstanceId"],
                    region,
                    "fail" if exposed else "pass",
                    observed,
                    "private subnet, no public address",
                    rtype="AwsEc2Instance",
                    arn=_instance_arn(snap, region, inst),
                    name=_name(inst),
                )
            )
        for db in dbs:
            group = db.get("DBSubnetGroup") or {}
            public_subnets = []
            for sn in group.get("Subnets", []) or []:
                sid = sn.get("SubnetIdentifier")
                vpc = (subnets.get(sid) or {}).get("VpcId") or group.get("VpcId")
                if _internet_route(_route_table_for_subnet(tables, sid, vpc)):
                    public_subnets.append(sid)
            publicly = bool(db.get("PubliclyAccessible"))
            exposed = publicly
            observed = "PubliclyAccessible: %s; subnets with an internet route: %s" % (
                str(publicly).lower(),
                ", ".join(public_subnets) if public_subnets else "none",
            )
            resources.append(
                _db_res(
                    region, db, "fail" if exposed else "pass", observed, "PubliclyAccessible: false, private subnets"
                )
            )
    failing = {r["resource_type"] for r in resources if r["status"] == "fail"}
    steps = [step for rtype, step in SEGMENTATION_STEPS if rtype in failing]
    return {"resources": resources, "next_step": " ".join(steps) or None}


def check_4_3(snap, ctx):
    """Security groups exposing administration or database ports, or every port, to the internet."""
    resources = []
    for region in snap.regions:
        used = _used_security_groups(snap, region)
        for sg in snap.get("ec2_security_groups", region):
            rules = _sg_open_rules(sg)
            exposed = []
            for rule in rules:
                if rule[0] == "-1" or (rule[1] in (0, -1, None) and rule[2] in (65535, -1, None)):
                    exposed.append("all ports (%s)" % _rule_text(rule))
                    continue
                for port, what in sorted(SENSITIVE_PORTS.items()):
                    if _rule_covers(rule, port):
                        exposed.append("%s %s from %s" % (what, port, rule[3]))
            if not exposed and sg["GroupId"] not in used:
                continue
            resources.append(
                _sg_res(
                    region,
                    sg,
                    "fail" if exposed else "pass",
                    "; ".join(sorted(set(exposed)))
                    if exposed
                    else "no administration, database or all-port rule open to the internet",
                    "administration and database ports reachable only from known ranges or groups",
                    detail="in use" if sg["GroupId"] in used else "not attached",
                )
            )
    return {"resources": resources}


def check_4_4(snap, ctx):
    """A regional AWS WAF web ACL in each region that runs the application."""
    resources = []
    for region in snap.regions:
        if not snap.get("ec2_instances", region) and region != snap.primary_region:
            continue
        acls = snap.get("wafv2_web_acls", region)
        resources.append(
            res(
                "wafv2/%s" % region,
                region,
                "pass" if acls else "fail",
                "regional web ACLs: %s" % (", ".join(a.get("Name") for a in acls) if acls else "none"),
                "a WAFv2 web ACL (REGIONAL) protecting the application",
                rtype="AwsWafv2WebAcl",
            )
        )
    return {"resources": resources}


def check_4_5(snap, ctx):
    """Every VPC that runs instances has an AWS Network Firewall that enforces a firewall policy."""
    resources = []
    for region in snap.regions:
        vpcs = _in_use_vpcs(snap, region)
        if not vpcs:
            continue
        policies = snap.get("network_firewall_policies", region)
        firewalls = snap.get("network_firewalls", region)
        names = ", ".join(p.get("Name") for p in policies) or "none"
        for vpc_id, inst_ids in sorted(vpcs.items()):
            fws = [f for f in firewalls if f.get("VpcId") == vpc_id and f.get("FirewallPolicyArn")]
            if fws:
                status = "pass"
                observed = "network firewalls: %s" % ", ".join(
                    "%s (policy %s)" % (f.get("FirewallName"), f.get("FirewallPolicyArn", "").rsplit("/", 1)[-1])
                    for f in fws
                )
            elif policies:
                # A policy no firewall enforces filters nothing: the VPC's traffic is still uninspected.
                status = "fail"
                observed = "firewall policies: %s; but no Network Firewall in this VPC enforces one" % names
            else:
                status = "fail"
                observed = "no Network Firewall policy in %s and no firewall in the VPC" % region
            resources.append(
                res(
                    vpc_id,
                    region,
                    status,
                    observed,
                    "an AWS Network Firewall policy for the VPC's traffic (enforced by a firewall in the VPC)",
                    rtype="AwsEc2Vpc",
                    detail="runs %d instance(s)" % len(inst_ids),
                )
            )
    return {"resources": resources}


def check_4_6(snap, ctx):
    resources = []
    for region in snap.regions:
        vpcs = _in_use_vpcs(snap, region)
        if not vpcs:
            continue
        logs = snap.get("ec2_flow_logs", region)
        subnets = {s["SubnetId"]: s.get("VpcId") for s in snap.get("ec2_subnets", region)}
        for vpc_id, inst_ids in sorted(vpcs.items()):
            vpc_logs = [
                f for f in logs if f.get("ResourceId") == vpc_id and f.get("FlowLogStatus", "ACTIVE") == "ACTIVE"
            ]
            subnet_logs = [
                f
                for f in logs
                if subnets.get(f.get("ResourceId")) == vpc_id and f.get("FlowLogStatus", "ACTIVE") == "ACTIVE"
            ]
            needed = {
                i.get("SubnetId") for r in [region] for i in snap.get("ec2_instances", r) if i.get("VpcId") == vpc_id
            }
            covered = {f.get("ResourceId") for f in subnet_logs}
            ok = bool(vpc_logs) or (needed and needed <= covered)
            if vpc_logs:
                observed = "VPC flow logs: %s (%s)" % (
                    ", ".join(f.get("FlowLogId") for f in vpc_logs),
                    ", ".join(sorted({f.get("TrafficType", "ALL") for f in vpc_logs})),
                )
            elif subnet_logs:
                observed = "subnet flow logs on %s; subnets without: %s" % (
                    ", ".join(sorted(covered)),
                    ", ".join(sorted(needed - covered)) or "none",
                )
            else:
                observed = "no flow log on the VPC or its subnets"
            resources.append(
                res(
                    vpc_id,
                    region,
                    "pass" if ok else "fail",
                    observed,
                    "an active flow log on the VPC or every subnet in use",
                    rtype="AwsEc2Vpc",
                    detail="runs %d instance(s)" % len(inst_ids),
                )
            )
    return {"resources": resources}


def check_4_7(snap, ctx):
    resources = []
    for region in snap.regions:
        vpcs = _in_use_vpcs(snap, region)
        if not vpcs:
            continue
        assocs = snap.get("dns_firewall_associations", region)
        for vpc_id in sorted(vpcs):
            mine = [a for a in assocs if a.get("VpcId") == vpc_id and a.get("Status") not in ("DELETING", "FAILED")]
            resources.append(
                res(
                    vpc_id,
                    region,
                    "pass" if mine else "fail",
                    "DNS Firewall rule groups: %s"
                    % (
                        ", ".join("%s (%s)" % (a.get("FirewallRuleGroupId"), a.get("Status")) for a in mine)
                        if mine
                        else "none associated"
                    ),
                    "a Route 53 Resolver DNS Firewall rule group associated with the VPC",
                    rtype="AwsEc2Vpc",
                )
            )
    return {"resources": resources}


# ---------------------------------------------------------------------------
# 5.x


def check_5_1(snap, ctx):
    """Automated backup retention (and AWS Backup rule retention) at least the minimum days."""
    need = ctx.backup_min_retention_days
    resources = []
    for region, db in _dbs(snap):
        if _is_replica(db):
            resources.append(
                _db_res(
                    region,
                    db,
                    "not_applicable",
                    "read replica of %s" % _replica_source(db),
                    "retention set on the source database",
                )
            )
            continue
        retention = db.get("BackupRetentionPeriod", 0) or 0
        short = []
        if retention < need:
            short.append("BackupRetentionPeriod %s day(s)" % retention)
        plan_text = []
        try:
            plans = snap.get("backup_plans", region)
        except SourceError:
            plans = []
        for plan in plans:
            if not _backup_covers(plan, db.get("DBInstanceArn", ""), _tags(db.get("TagList"))):
                continue
            for rule in _scheduled_rules(plan):
                days = (rule.get("Lifecycle") or {}).get("DeleteAfterDays")
                plan_text.append(
                    "%s/%s keeps %s"
                    % (plan.get("BackupPlanName"), rule.get("RuleName"), "%s days" % days if days else "forever")
                )
                if days is not None and days < need:
                    short.append("backup rule %s keeps %s days" % (rule.get("RuleName"), days))
        observed = "BackupRetentionPeriod: %s day(s)%s" % (retention, "; " + "; ".join(plan_text) if plan_text else "")
        resources.append(_db_res(region, db, "fail" if short else "pass", observed, "retention >= %s days" % need))
    return {"resources": resources}


def check_5_2(snap, ctx):
    resources = []
    for region in snap.regions:
        for stack in snap.get("cloudformation_stacks", region):
            on = bool(stack.get("EnableTerminationProtection"))
            resources.append(
                res(
                    stack.get("StackName"),
                    region,
                    "pass" if on else "fail",
                    "EnableTerminationProtection: %s" % str(on).lower(),
                    "EnableTerminationProtection: true",
                    rtype="AwsCloudFormationStack",
                    arn=stack.get("StackId"),
                    detail="status %s" % stack.get("StackStatus"),
                )
            )
    return {"resources": resources}


def check_5_3(snap, ctx):
    resources = []
    for region, db in _dbs(snap):
        if _is_replica(db):
            resources.append(
                _db_res(
                    region,
                    db,
                    "not_applicable",
                    "read replica of %s (MultiAZ %s)" % (_replica_source(db), str(bool(db.get("MultiAZ"))).lower()),
                    "Multi-AZ on the source database",
                )
            )
            continue
        multi = bool(db.get("MultiAZ"))
        observed = "MultiAZ: %s (AZ %s)" % (str(multi).lower(), db.get("AvailabilityZone") or "-")
        if multi and db.get("SecondaryAvailabilityZone"):
            observed += ", standby in %s" % db["SecondaryAvailabilityZone"]
        resources.append(_db_res(region, db, "pass" if multi else "fail", observed, "MultiAZ: true"))
    return {"resources": resources}


def check_5_4(snap, ctx):
    resources = []
    for region, db in _dbs(snap):
        on = bool(db.get("DeletionProtection"))
        detail = "read replica of %s" % _replica_source(db) if _is_replica(db) else None
        resources.append(
            _db_res(
                region,
                db,
                "pass" if on else "fail",
                "DeletionProtection: %s" % str(on).lower(),
                "DeletionProtection: true",
                detail=detail,
            )
        )
    return {"resources": resources}


def check_5_5(snap, ctx):
    resources = []
    for region in snap.regions:
        instances = snap.get("ec2_instances", region)
        if not instances:
            continue
        asg = {a["InstanceId"]: a.get("AutoScalingGroupName") for a in snap.get("autoscaling_instances", region)}
        protection = snap.get("ec2_termination_protection", region)
        for inst in instances:
            iid = inst["InstanceId"]
            if iid in asg:
                status, observed = "pass", "in Auto Scaling group %s" % asg[iid]
            else:
                on = protection.get(iid)
                status = "pass" if on else "fail"
                observed = "not in an Auto Scaling group; DisableApiTermination: %s" % str(bool(on)).lower()
            resources.append(
                res(
                    iid,
                    region,
                    status,
                    observed,
                    "in an Auto Scaling group, or DisableApiTermination: true",
                    rtype="AwsEc2Instance",
                    arn=_instance_arn(snap, region, inst),
                    name=_name(inst),
                )
            )
    return {"resources": resources}


DR_PLAN_SECTIONS = (
    ("alternate site", r"alternate site|dr region|recovery region|secondary region"),
    ("RTO and RPO", r"\brto\b.*\brpo\b|\brpo\b.*\brto\b"),
    ("roles and responsibilities", r"roles? and responsibilit|responsibilit"),
    ("communication plan", r"communication|contact"),
    ("backups", r"backup"),
    ("testing", r"test|drill"),
)


def _read_drills(path):
    """Drill records from a JSON (list or {drills: [...]}) or JSON-lines file."""
    with open(path) as handle:
        text = handle.read()
    text = text.strip()
    if not text:
        return []
    try:
        data = json.loads(text)
    except ValueError:
        data = [json.loads(line) for line in text.splitlines() if line.strip()]
    if isinstance(data, dict):
        data = data.get("drills") or data.get("runs") or [data]
    return [d for d in data if isinstance(d, dict)]


def _drill_time(drill):
    for key in ("finished_at", "ended_at", "completed_at", "started_at", "timestamp", "date"):
        if drill.get(key):
            return _parse_time(drill[key])
    return None


def _drill_ok(drill):
    result = str(drill.get("result") or drill.get("status") or drill.get("outcome") or "").lower()
    if drill.get("success") is not None:
        return bool(drill.get("success"))
    return result in ("pass", "passed", "success", "succeeded", "ok", "met", "completed")


def check_5_6(snap, ctx):
    """A DR plan document with the required sections, a successful drill younger than the allowed age, and the
    newest drill's clean-up not found wanting (its record's clean is not false: the tag scan found nothing left)."""
    resources = []
    plan = ctx.dr_plan_path
    if not plan:
        resources.append(
            res(
                "dr-plan",
                "global",
                "fail",
                "no DR plan path configured (dr_plan_path)",
                "a DR plan document",
                rtype="Other",
            )
        )
    elif not os.path.isfile(plan):
        resources.append(res(plan, "global", "fail", "DR plan document not found", "a DR plan document", rtype="Other"))
    else:
        with open(plan, errors="replace") as handle:
            text = handle.read().lower()
        missing = [label for label, pattern in DR_PLAN_SECTIONS if not re.search(pattern, text, re.S)]
        resources.append(
            res(
                plan,
                "global",
                "fail" if missing else "pass",
                "plan found (%d bytes); missing sections: %s" % (len(text), ", ".join(missing) if missing else "none"),
                "alternate site, RTO/RPO per system, roles, communication plan, backups, testing",
                rtype="Other",
            )
        )
    history = ctx.dr_drill_history_path
    max_age = ctx.dr_drill_max_age_days
    if not history:
        resources.append(
            res(
                "dr-drills",
                "global",
                "fail",
                "no drill history path configured (dr_drill_history_path)",
                "a successful DR drill within %s days" % max_age,
                rtype="Other",
            )
        )
    elif not os.path.isfile(history):
        resources.append(
            res(
                history,
                "global",
                "fail",
                "no drill record found",
                "a successful DR drill within %s days" % max_age,
                rtype="Other",
            )
        )
    else:
        # Pass: a successful drill within the allowed age whose clean-up was not found wanting, and the newest drill
        # on record, whatever its result, left nothing behind. The collection's drill records carry clean (true
        # when the final tag scan found nothing with the drill id); a record without it is noted, not failed.
        drills = _read_drills(history)
        dated = sorted(((t, d) for d, t in ((d, _drill_time(d)) for d in drills) if t), key=lambda x: x[0])
        expected = "a successful DR drill within %s days, and the newest drill left nothing behind" % max_age
        good = [(t, d) for t, d in dated if _drill_ok(d) and d.get("clean") is not False]
        failed = False
        if not good:
            observed = "%d drill record(s), none successful" % len(drills)
            failed = True
        else:
            when, drill = good[-1]
            age = (ctx.now - when).days
            failed = age > max_age
            observed = "last successful drill %s%s (%s days ago)" % (
                "%s " % drill["drill_id"] if drill.get("drill_id") else "",
                when.isoformat(),
                age,
            )
        if dated:
            when, newest = dated[-1]
            name = newest.get("drill_id") or when.isoformat()
            if newest.get("clean") is False:
                observed += (
                    "; the newest drill %s left resources behind (its tag scan was not clean): run "
                    "playbooks/dr_drill.yml -e dr_drill_cleanup_only=true, then a new drill" % name
                )
                failed = True
            elif newest.get("clean") is True:
                observed += "; the newest drill %s left nothing behind" % name
            else:
                observed += "; the newest drill %s has no clean-up record" % name
        resources.append(res(history, "global", "fail" if failed else "pass", observed, expected, rtype="Other"))
    return {"resources": resources}


# ---------------------------------------------------------------------------
# running


CHECKS = {fid: globals()["check_" + fid.replace(".", "_")] for fid in fmeta.FINDING_IDS}


def aggregate_status(resources):
    statuses = {r.get("status") for r in resources}
    for status in ("fail", "manual", "pass"):
        if status in statuses:
            return status
    return "not_applicable"


def run_check(finding_id, snap, ctx):
    """One finding's result: metadata + status + evidence. Never raises."""
    meta = fmeta.get_finding(finding_id)
    result = {
        "id": meta["id"],
        "title": meta["title"],
        "severity": meta["severity"],
        "assessments": meta["assessments"],
        "categories": meta["categories"],
        "prowler_checks": meta["prowler_checks"],
        "hipaa": meta["hipaa"],
        "remediation": meta["remediation"],
        "next_step": meta["next_step"],
    }
    try:
        out = CHECKS[finding_id](snap, ctx)
        resources = out.get("resources", [])
        status = out.get("status") or aggregate_status(resources)
        result.update(status=status, resources=resources, message=out.get("message"))
        if out.get("next_step"):  # the part of the finding's next step that applies to what fails
            result["next_step"] = out["next_step"]
        if out.get("regions"):
            result["regions"] = out["regions"]
    except SourceError as exc:
        result.update(status="error", resources=[], message=str(exc))
    except Exception as exc:  # a bug or unexpected data must not hide the other findings
        result.update(status="error", resources=[], message="%s: %s" % (type(exc).__name__, exc))
    if result["status"] == "pass":
        result["next_step"] = "Nothing to do; keep it so."
    elif result["status"] == "not_applicable":
        result["next_step"] = "Nothing to do: no resource of this kind was found in the audited regions."
    elif result["status"] == "error":
        result["next_step"] = (
            "The audit could not read what it needs (see message); fix access or the service, then re-run."
        )
    failing = [r for r in result["resources"] if r.get("status") in ("fail", "manual")]
    result["failing_resources"] = len(failing)
    originals = sorted(
        r["resource_id"]
        for r in failing
        if r.get("resource_type") == "AwsRdsDbInstance" and r["resource_id"] in _kept_originals(snap, r["region"])
    )
    if originals:
        step = KEPT_ORIGINAL_STEP % ", ".join(originals)
        result["next_step"] = step if len(originals) == len(failing) else "%s %s" % (result["next_step"], step)
    return result


KEPT_ORIGINAL_STEP = (
    "%s: the unencrypted original kept when the database was moved to encrypted storage (the encrypted copy has its "
    "name now). Once the application is verified on the encrypted database, run playbooks/remediate/rds.yml -e "
    "rds_protection_encrypt_delete_original=true to delete it (a final snapshot is kept)."
)


def _kept_originals(snap, region):
    """Identifiers of the databases an encrypted copy replaces (its tag cloudops:replaces), kept until deleted."""
    try:
        dbs = snap.get("rds_instances", region)
    except SourceError:
        return set()
    return {_tags(db.get("TagList")).get("cloudops:replaces") for db in dbs} - {None}


def summarise(results):
    summary = {
        "total": len(results),
        "by_status": dict.fromkeys(fmeta.STATUSES, 0),
        "by_severity": {},
        "by_category": {},
    }
    for item in results:
        summary["by_status"][item["status"]] += 1
        sev = summary["by_severity"].setdefault(item["severity"], dict.fromkeys(fmeta.STATUSES, 0))
        sev[item["status"]] += 1
        for cat in item["categories"]:
            entry = summary["by_category"].setdefault(cat, dict.fromkeys(fmeta.STATUSES, 0))
            entry[item["status"]] += 1
    return summary


def select_findings(requested):
    """Validated finding ids in register order; ValueError naming the unknown ones."""
    if not requested:
        return list(fmeta.FINDING_IDS)
    wanted = [str(x) for x in requested]
    unknown = [x for x in wanted if x not in fmeta.FINDING_IDS]
    if unknown:
        raise ValueError("unknown finding id(s) %s; allowed: %s" % (", ".join(unknown), ", ".join(fmeta.FINDING_IDS)))
    return [f for f in fmeta.FINDING_IDS if f in wanted]


# Read first in a full audit: the largest pages, the instance lists that each instance's
# termination-protection read (5.5) waits for, and those reads, in every region at once as soon as
# the region's lists are in.
FIRST_READS = (
    "ec2_instances",
    "autoscaling_instances",
    "ec2_network_interfaces",
    "ec2_volumes",
    "ec2_termination_protection",
)


@contextlib.contextmanager
def cycle_collector_paused():
    """Python's cycle collector off for the time of an audit, back as it was after.

    The audit builds the estate's snapshot (hundreds of thousands of dicts and lists for an estate of
    1,000 instances, the SDK's service models among them) and keeps all of it until the checks are done.
    Each full pass of the collector walks everything kept so far and frees nothing: at 1,000 instances
    those passes were a quarter of the audit's CPU. Reference counting still frees what the audit drops;
    what little cyclic garbage the SDK leaves is collected by a later full pass.

    With the collector off nothing is promoted: everything the audit made would still be in the youngest
    generation, and the first pass after (a young one, run by the next allocations) would walk all of
    it. It is moved to the oldest generation as it is instead (``freeze`` then ``unfreeze``, no walk),
    unless the caller keeps objects frozen itself.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            if not gc.get_freeze_count():
                gc.freeze()
                gc.unfreeze()
            gc.enable()


def run_audit(snap, ctx, finding_ids=None):
    """Run the selected checks over one snapshot; returns (results, summary).

    The snapshot runs the checks (``snap.map``): one after the other, or side by side when it reads AWS
    in parallel. Either way each source is read once and the results keep register order.
    """
    selected = select_findings(finding_ids)
    with cycle_collector_paused():
        if len(selected) == len(fmeta.FINDING_IDS):
            # a full audit reads them anyway: they start before the checks' many small reads
            snap.read_ahead([(source, region) for source in FIRST_READS for region in snap.regions])
        results = snap.map(lambda fid: run_check(fid, snap, ctx), selected)
    return results, summarise(results)
