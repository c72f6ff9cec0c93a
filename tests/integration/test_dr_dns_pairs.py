"""The Route 53 failover pair the DR runbooks work with, on the sandbox: the failover module's steps run in this
process (plugins/module_utils/dr_failover.py and the drill's DNS check in plugins/module_utils/dr.py).

A pair of alias records (the load balancers of the two sites, as the hardened seed has it) under the set
identifiers ``primary`` and ``dr`` is taken as it is by the standby step, switched by the failover and the failback
without a value written into an alias, and verified. A pair made under other identifiers is refused by the
standby step and by the drill with a message that names the identifiers found and the ones the runbooks switch,
before any change."""

import threading
import time

import pytest
from ansible_collections.medcircle.cloudops.plugins.module_utils import dr, dr_failover
from dr_estate import in_process_clients

PRIMARY, DR = "us-east-1", "us-west-2"
ZONE, RECORD = "medcircle.example.", "app.medcircle.example."
SYSTEM = {"name": "app-dns", "kind": "dns", "resource": RECORD, "zone": ZONE}
ALB = {PRIMARY: "primary-alb-1.us-east-1.elb.amazonaws.com.", DR: "dr-alb-1.us-west-2.elb.amazonaws.com."}


def _alias_pair(sandbox, names=("primary", "dr")):
    route53 = sandbox.client("route53", PRIMARY)
    zone = route53.create_hosted_zone(Name=ZONE, CallerReference="dns-pairs")["HostedZone"]["Id"]

    def record(region, role, set_id):
        return {
            "Action": "CREATE",
            "ResourceRecordSet": {
                "Name": RECORD,
                "Type": "A",
                "SetIdentifier": set_id,
                "Failover": role,
                "AliasTarget": {"HostedZoneId": "Z35SXDOTRQ7X7K", "DNSName": ALB[region], "EvaluateTargetHealth": True},
            },
        }

    changes = [record(PRIMARY, "PRIMARY", names[0]), record(DR, "SECONDARY", names[1])]
    route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": changes})
    return route53, zone


def _pair(route53, zone):
    records = route53.list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]
    return {r["SetIdentifier"]: r for r in records if r.get("Failover")}


def _run(action, sandbox, **extra):
    return getattr(dr_failover, action)([SYSTEM], in_process_clients(sandbox), PRIMARY, DR, poll=0, attempts=3, **extra)


def test_an_alias_pair_is_kept_switched_and_verified(clean_sandbox):
    route53, zone = _alias_pair(clean_sandbox)
    before = _pair(route53, zone)

    standby = _run("standby", clean_sandbox, dns={"standby_value": "10.20.1.10"})
    assert standby["error"] is None and standby["changed"] is False, standby
    assert standby["steps"][0]["detail"] == (
        f"{RECORD} has its PRIMARY and SECONDARY failover records (dr: SECONDARY alias {ALB[DR].rstrip('.')},"
        f" primary: PRIMARY alias {ALB[PRIMARY].rstrip('.')})"
    )
    assert _pair(route53, zone) == before

    over = dr_failover.failover([SYSTEM], in_process_clients(clean_sandbox), PRIMARY, DR, poll=0, attempts=3)
    assert over["error"] is None, over
    after = _pair(route53, zone)
    assert (after["dr"]["Failover"], after["primary"]["Failover"]) == ("PRIMARY", "SECONDARY")
    # the alias still names the DR site's load balancer; no address was written into it
    assert after["dr"]["AliasTarget"]["DNSName"] == ALB[DR] and "ResourceRecords" not in after["dr"]
    verified = [s for s in over["steps"] if s["step"] == "verify"]
    assert verified and verified[0]["detail"] == f"{RECORD} answers with the dr site (alias {ALB[DR].rstrip('.')})"

    back = _run("failback", clean_sandbox)
    assert back["error"] is None, back
    assert _pair(route53, zone) == before


def test_a_pair_under_other_set_identifiers_is_refused_before_any_change(clean_sandbox):
    route53, zone = _alias_pair(clean_sandbox, names=("primary-us-east-1", "secondary-us-west-2"))
    before = _pair(route53, zone)
    clean_sandbox.clear_requests()

    standby = _run("standby", clean_sandbox, dns={"standby_value": "10.20.1.10"})
    assert standby["error"] == (
        f"RuntimeError: record {RECORD} already has failover records, with set identifiers primary-us-east-1"
        " (PRIMARY), secondary-us-west-2 (SECONDARY); the DR runbooks switch the pair whose set identifiers are"
        " primary (the primary site) and dr (the DR site). Rename the sets in Route 53 (the same records under those"
        " identifiers) and run again; nothing was changed"
    )
    assert clean_sandbox.requests(mutating=True) == []
    assert _pair(route53, zone) == before


@pytest.mark.parametrize("names", [("primary-us-east-1", "secondary-us-west-2"), ("primary", "dr")])
def test_the_drill_says_whether_a_failover_could_switch_the_pair(clean_sandbox, names):
    _alias_pair(clean_sandbox, names=names)
    ctx = {
        "clients": in_process_clients(clean_sandbox),
        "dr_region": DR,
        "t0": time.monotonic(),
        "lock": threading.Lock(),
        "drill_id": "drill-dns-pairs",
    }
    drill = dr.SystemDrill(SYSTEM, {}, ctx).run()
    if names == ("primary", "dr"):
        assert (drill.status, drill.error) == ("recovered", None)
        assert drill.steps[0]["detail"] == "PRIMARY and SECONDARY records present (dr: SECONDARY, primary: PRIMARY)"
    else:
        assert drill.status == "failed"
        assert drill.error == (
            f"RuntimeError: record {RECORD} has a failover pair with set identifiers primary-us-east-1 (PRIMARY),"
            " secondary-us-west-2 (SECONDARY); playbooks/dr_failover.yml switches the pair whose set identifiers are"
            " primary (the primary site) and dr (the DR site), so a failover would stop at DNS. Rename the sets in"
            " Route 53 (the same records under those identifiers)"
        )
