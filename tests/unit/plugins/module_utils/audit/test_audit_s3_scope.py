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
