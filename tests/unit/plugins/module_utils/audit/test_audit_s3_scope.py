"""Per-bucket reads only for the buckets a finding judges: Object Lock (2.6) and replication (2.3) are read
for the buckets tagged as patient data when any is, for every bucket when none is."""

import pytest
from ansible_collections.medcircle.cloudops.plugins.module_utils.audit import checks
from ansible_collections.medcircle.cloudops.plugins.module_utils.audit.collect import StaticSnapshot

P, DR = "us-east-1", "us-west-2"


def _snap(tagged):
    read = []

    def bucket_setting(_region, key):
        read.append(key)
        attr, name = key
        if attr == "tagging" and name in tagged:
            return {"TagSet": [{"Key": "DataClass", "Value": "phi"}]}
        return None

    data = {
        ("s3_buckets", "global"): [{"Name": n, "BucketRegion": P} for n in ("records", "logs", "site")],
        ("s3_bucket", "global"): bucket_setting,
        ("rds_instances", P): [],
        ("rds_instances", DR): [],
        ("rds_automated_backups", DR): [],
        ("backup_plans", P): [],
        ("cloudtrail_trails", P): [],
        ("cloudtrail_trails", DR): [],
    }
    return StaticSnapshot([P, DR], data), read


@pytest.mark.parametrize(("tagged", "judged"), [({"records"}, {"records"}), (set(), {"records", "logs", "site"})])
def test_object_lock_and_replication_read_for_the_judged_buckets_only(tagged, judged):
    snap, read = _snap(tagged)
    results, _summary = checks.run_audit(snap, checks.AuditContext(), ["2.3", "2.6"])
    by_id = {r["id"]: r for r in results}
    assert by_id["2.6"]["status"] == "fail", by_id["2.6"]
    assert {r["resource_id"] for r in by_id["2.6"]["resources"] if r["status"] == "fail"} == judged
    assert {r["resource_id"] for r in by_id["2.3"]["resources"]} == judged, by_id["2.3"]
    assert {name for attr, name in read if attr == "object_lock"} == judged
    assert {name for attr, name in read if attr == "replication"} == judged
    assert {name for attr, name in read if attr == "tagging"} == {"records", "logs", "site"}


# Read for some buckets only: the judged ones (all, when none is tagged), or those of the primary region.
SCOPED = {"2.3": {"replication", "tagging"}, "2.6": {"object_lock"}}


@pytest.mark.parametrize("finding", checks.fmeta.FINDING_IDS)
def test_bucket_settings_table_is_what_each_check_reads(finding):
    """checks.BUCKET_SETTINGS names, per finding, exactly the settings its check reads for every bucket."""
    snap, read = _snap(set())
    checks.run_check(finding, snap, checks.AuditContext())  # bucket_settings empty: the check's own reads
    names = {"records", "logs", "site"}
    per_bucket = [{attr for attr, name in read if name == bucket} for bucket in sorted(names)]
    every_bucket = set.intersection(*per_bucket)
    assert every_bucket - SCOPED.get(finding, set()) == set(checks.BUCKET_SETTINGS.get(finding, ()))


def test_a_full_audit_reads_each_bucket_setting_once_bucket_by_bucket():
    snap, read = _snap(set())
    ctx = checks.AuditContext()
    checks.run_audit(snap, ctx)
    assert ctx.bucket_settings == ("encryption", "logging", "policy", "tagging", "versioning")
    assert len(read) == len(set(read))  # each (setting, bucket) read once
    common = [key for key in read if key[0] in ctx.bucket_settings]
    # the first check that lists the buckets reads all their common settings, one bucket after the other
    assert common[:5] == [(attr, "logs") for attr in ctx.bucket_settings]
    assert [name for _attr, name in common[:15]] == ["logs"] * 5 + ["records"] * 5 + ["site"] * 5
    only_s3 = checks.bucket_settings_for(["2.4", "2.8"])
    assert only_s3 == ("policy", "versioning")
