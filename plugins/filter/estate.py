# -*- coding: utf-8 -*-

# Copyright: (c) 2026, MedCircle Cloud Operations
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

OPEN_CIDRS = ("0.0.0.0/0", "::/0")


def _per_region(results, key):
    """Map region -> list from a looped task's results (item is the region)."""
    out = {}
    for result in results or []:
        region = result.get("item")
        if region is None:
            raise AnsibleFilterError("estate_summary: every looped result needs its region as 'item'")
        if result.get("failed"):
            raise AnsibleFilterError(
                "estate_summary: reading %s in %s failed: %s" % (key, region, result.get("msg", "unknown error"))
            )
        out[region] = result.get(key) or []
    return out


def _open_rules(permissions):
    found = []
    for perm in permissions or []:
        cidrs = [r.get("cidr_ip") for r in perm.get("ip_ranges", [])]
        cidrs += [r.get("cidr_ipv6") for r in perm.get("ipv6_ranges", [])]
        for cidr in cidrs:
            if cidr in OPEN_CIDRS:
                protocol = perm.get("ip_protocol")
                if protocol in ("-1", -1):
                    ports = "all traffic"
                elif perm.get("from_port") == perm.get("to_port"):
                    ports = "%s/%s" % (protocol, perm.get("from_port"))
                else:
                    ports = "%s/%s-%s" % (protocol, perm.get("from_port"), perm.get("to_port"))
                found.append("%s %s" % (cidr, ports))
    return found


def _name(tags, fallback):
    return (tags or {}).get("Name") or fallback


def _region_summary(region, instances, volumes, groups, enis, vpcs, databases, stacks):
    weaknesses = []
    inst_out = []
    for inst in instances:
        state = (inst.get("state") or {}).get("name")
        if state == "terminated":
            continue
        name = _name(inst.get("tags"), inst.get("instance_id"))
        tokens = (inst.get("metadata_options") or {}).get("http_tokens", "optional")
        profile = (inst.get("iam_instance_profile") or {}).get("arn")
        inst_out.append(
            {
                "id": inst.get("instance_id"),
                "name": name,
                "state": state,
                "image_id": inst.get("image_id"),
                "http_tokens": tokens,
                "instance_profile": profile,
                "public_ip": inst.get("public_ip_address"),
                "patch_group": (inst.get("tags") or {}).get("PatchGroup"),
            }
        )
        if tokens != "required":
            weaknesses.append("%s (%s): IMDSv1 allowed (HttpTokens %s)" % (name, inst.get("instance_id"), tokens))
        if not profile:
            weaknesses.append("%s (%s): no instance role" % (name, inst.get("instance_id")))
        if inst.get("public_ip_address"):
            weaknesses.append("%s (%s): public IP %s" % (name, inst.get("instance_id"), inst["public_ip_address"]))

    vol_out = []
    for vol in volumes:
        attached = [a.get("instance_id") for a in vol.get("attachment_set") or [] if a.get("instance_id")]
        vol_out.append(
            {
                "id": vol.get("id"),
                "size": vol.get("size"),
                "type": vol.get("type"),
                "encrypted": bool(vol.get("encrypted")),
                "attached_to": attached,
            }
        )
        if not vol.get("encrypted"):
            weaknesses.append("volume %s (%s GiB): not encrypted" % (vol.get("id"), vol.get("size")))

    used = set()
    for eni in enis:
        for group in eni.get("groups") or []:
            used.add(group.get("group_id"))
    referenced = set()
    for group in groups:
        for perm in (group.get("ip_permissions") or []) + (group.get("ip_permissions_egress") or []):
            for pair in perm.get("user_id_group_pairs") or []:
                if pair.get("group_id") != group.get("group_id"):
                    referenced.add(pair.get("group_id"))
    sg_out = []
    for group in groups:
        gid = group.get("group_id")
        open_in = _open_rules(group.get("ip_permissions"))
        open_out = _open_rules(group.get("ip_permissions_egress"))
        is_default = group.get("group_name") == "default"
        unused = gid not in used and gid not in referenced and not is_default
        sg_out.append(
            {
                "id": gid,
                "name": group.get("group_name"),
                "open_inbound": open_in,
                "open_outbound": open_out,
                "unused": unused,
            }
        )
        label = "security group %s (%s)" % (group.get("group_name"), gid)
        if open_in:
            weaknesses.append("%s: inbound open to %s" % (label, ", ".join(open_in)))
        if open_out:
            weaknesses.append("%s: outbound open to %s" % (label, ", ".join(open_out)))
        if unused:
            weaknesses.append("%s: unused" % label)

    db_out = []
    for db in databases:
        ident = db.get("db_instance_identifier")
        entry = {
            "id": ident,
            "engine": db.get("engine"),
            "encrypted": bool(db.get("storage_encrypted")),
            "multi_az": bool(db.get("multi_az")),
            "backup_retention_days": db.get("backup_retention_period", 0),
            "deletion_protection": bool(db.get("deletion_protection")),
            "publicly_accessible": bool(db.get("publicly_accessible")),
        }
        db_out.append(entry)
        label = "database %s" % ident
        if not entry["encrypted"]:
            weaknesses.append("%s: not encrypted at rest" % label)
        if not entry["multi_az"]:
            weaknesses.append("%s: single AZ" % label)
        if entry["backup_retention_days"] < 7:
            weaknesses.append("%s: backups kept %s day(s)" % (label, entry["backup_retention_days"]))
        if not entry["deletion_protection"]:
            weaknesses.append("%s: no deletion protection" % label)
        if entry["publicly_accessible"]:
            weaknesses.append("%s: publicly accessible" % label)

    stack_out = []
    for stack_name, stack in sorted((stacks or {}).items()):
        desc = stack.get("stack_description") or {}
        protected = bool(desc.get("enable_termination_protection"))
        stack_out.append({"name": stack_name, "status": desc.get("stack_status"), "termination_protection": protected})
        if not protected:
            weaknesses.append("stack %s: no termination protection" % stack_name)

    return {
        "region": region,
        "vpcs": [{"id": v.get("vpc_id") or v.get("id"), "cidr": v.get("cidr_block")} for v in vpcs],
        "instances": inst_out,
        "volumes": vol_out,
        "security_groups": sg_out,
        "databases": db_out,
        "stacks": stack_out,
        "weaknesses": weaknesses,
    }


def estate_summary(collected):
    if not isinstance(collected, dict):
        raise AnsibleFilterError("estate_summary expects a dictionary, got %s" % type(collected).__name__)
    instances = _per_region(collected.get("instances"), "instances")
    volumes = _per_region(collected.get("volumes"), "volumes")
    groups = _per_region(collected.get("security_groups"), "security_groups")
    enis = _per_region(collected.get("network_interfaces"), "network_interfaces")
    vpcs = _per_region(collected.get("vpcs"), "vpcs")
    databases = _per_region(collected.get("databases"), "instances")
    stacks = _per_region(collected.get("stacks"), "cloudformation")
    regions = sorted(set(instances) | set(volumes) | set(groups) | set(vpcs) | set(databases) | set(stacks))
    summary = {"regions": {}, "buckets": [], "users": [], "account_weaknesses": []}
    for region in regions:
        # cloudformation_info returns a dict keyed by stack name, the others lists.
        region_stacks = stacks.get(region) or {}
        if isinstance(region_stacks, list):
            region_stacks = {}
        summary["regions"][region] = _region_summary(
            region,
            instances.get(region, []),
            volumes.get(region, []),
            groups.get(region, []),
            enis.get(region, []),
            vpcs.get(region, []),
            databases.get(region, []),
            region_stacks,
        )

    for bucket in collected.get("buckets") or []:
        versioning = (bucket.get("bucket_versioning") or {}).get("Status") or "Disabled"
        encryption = bucket.get("bucket_encryption") or {}
        rules = (encryption.get("ServerSideEncryptionConfiguration") or encryption).get("Rules") or []
        algorithms = sorted(
            {(r.get("ApplyServerSideEncryptionByDefault") or {}).get("SSEAlgorithm", "none") for r in rules}
        ) or ["none"]
        logging = bool((bucket.get("bucket_logging") or {}).get("LoggingEnabled"))
        has_policy = bool(bucket.get("bucket_policy"))
        entry = {
            "name": bucket.get("name"),
            "versioning": versioning,
            "encryption": algorithms,
            "access_logging": logging,
            "policy": has_policy,
        }
        summary["buckets"].append(entry)
        label = "bucket %s" % entry["name"]
        if versioning != "Enabled":
            summary["account_weaknesses"].append("%s: versioning %s" % (label, versioning.lower()))
        if "aws:kms" not in algorithms and "aws:kms:dsse" not in algorithms:
            summary["account_weaknesses"].append("%s: encryption %s, not KMS" % (label, "/".join(algorithms)))
        if not logging:
            summary["account_weaknesses"].append("%s: no access logging" % label)
        if not has_policy:
            summary["account_weaknesses"].append("%s: no bucket policy (cleartext HTTP allowed)" % label)

    for user in collected.get("users") or []:
        summary["users"].append({"name": user.get("user_name"), "arn": user.get("arn")})

    summary["weaknesses"] = len(summary["account_weaknesses"]) + sum(
        len(r["weaknesses"]) for r in summary["regions"].values()
    )
    return summary


def estate_lines(summary):
    """Console lines, one block per region, weaknesses marked with '!'."""
    if not isinstance(summary, dict) or "regions" not in summary:
        raise AnsibleFilterError("estate_lines expects the output of estate_summary")
    lines = []
    for region, data in sorted(summary["regions"].items()):
        lines.append(
            "%s: %d VPC(s), %d instance(s), %d volume(s), %d security group(s), %d database(s), %d stack(s)"
            % (
                region,
                len(data["vpcs"]),
                len(data["instances"]),
                len(data["volumes"]),
                len(data["security_groups"]),
                len(data["databases"]),
                len(data["stacks"]),
            )
        )
        lines.extend("  ! %s" % w for w in data["weaknesses"])
    lines.append("account: %d bucket(s), %d IAM user(s)" % (len(summary["buckets"]), len(summary["users"])))
    lines.extend("  ! %s" % w for w in summary["account_weaknesses"])
    lines.append("%d weakness(es) visible in the data" % summary["weaknesses"])
    return lines


class FilterModule(object):
    def filters(self):
        return {"estate_summary": estate_summary, "estate_lines": estate_lines}
