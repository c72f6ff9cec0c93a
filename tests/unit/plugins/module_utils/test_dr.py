"""The drill's plan checks for an RDS tcp health check, the hand-over of a drill instance to test a database from,
and the probe script's input checks (the script itself runs in a real Debian root: tests/integration/test_dr_drill.py).
"""

import threading
import time

import pytest
from ansible_collections.medcircle.cloudops.plugins.module_utils.common import ParameterError
from ansible_collections.medcircle.cloudops.plugins.module_utils.dr import ProbeHosts, tcp_probe_script, validate_plan

PRIMARY = "us-east-1"
DR = "us-west-2"


def app(**health):
    return {
        "name": "app",
        "kind": "ec2",
        "resource": "medcircle-app",
        "rto_minutes": 60,
        "rpo_minutes": 1440,
        "health_check": health or {"type": "ssm"},
    }


def db(**health):
    return {
        "name": "db",
        "kind": "rds",
        "resource": "medcircledb",
        "rto_minutes": 60,
        "rpo_minutes": 1440,
        "health_check": {"type": "tcp", **health},
    }


def test_tcp_check_defaults_to_an_instance_of_the_drill_with_ten_seconds():
    (_, database) = validate_plan([app(), db()], PRIMARY, DR)
    assert database["health_check"] == {"type": "tcp", "from": "drill_instance", "timeout": 10}


def test_tcp_check_from_the_control_node_needs_no_drill_instance():
    (database,) = validate_plan([db(**{"from": "control_node", "timeout": 3})], PRIMARY, DR)
    assert database["health_check"] == {"type": "tcp", "from": "control_node", "timeout": 3}


@pytest.mark.parametrize(
    ("systems", "only", "option", "why"),
    [
        ([db()], None, "systems[0] (db).health_check.from", "no EC2 system with health_check type ssm"),
        ([app(type="running"), db()], None, "systems[1] (db).health_check.from", "no EC2 system"),
        ([app(), db()], ["db"], "systems[1] (db).health_check.from", "no EC2 system"),  # the app is left out
        ([app(), db(**{"from": "laptop"})], None, "systems[1] (db).health_check.from", "not where a tcp check"),
        ([app(), db(timeout=0)], None, "systems[1] (db).health_check.timeout", "not a number of seconds"),
        ([app(), db(timeout="10")], None, "systems[1] (db).health_check.timeout", "not a number of seconds"),
        ([app(), db(timeout=301)], None, "systems[1] (db).health_check.timeout", "not a number of seconds"),
    ],
    ids=["alone", "app-without-ssm", "app-not-drilled", "unknown-from", "zero", "text", "too-long"],
)
def test_tcp_check_that_cannot_run_is_refused(systems, only, option, why):
    with pytest.raises(ParameterError) as raised:
        validate_plan(systems, PRIMARY, DR, only=only)
    assert option in str(raised.value) and why in str(raised.value)


def test_database_check_waits_for_the_first_instance_to_come_online():
    probes = ProbeHosts(["app", "web"])
    got = []
    waiter = threading.Thread(target=lambda: got.append(probes.wait(30)))
    waiter.start()
    time.sleep(0.2)
    assert got == []  # still waiting: no instance is online yet
    probes.withdraw("web", "RuntimeError: launch failed")
    time.sleep(0.2)
    assert got == []  # the app may still come online
    probes.offer("app", "i-0123456789abcdef0")
    waiter.join(5)
    assert got == [("i-0123456789abcdef0", "app")]
    probes.withdraw("app", "ignored once offered")
    assert probes.wait(0) == ("i-0123456789abcdef0", "app")


def test_database_check_learns_that_no_instance_will_come():
    probes = ProbeHosts(["app", "web"])
    probes.withdraw("app", "WaiterError: SSM agent not online")
    probes.withdraw("web", "no SSM health check")
    started = time.monotonic()
    with pytest.raises(RuntimeError) as raised:
        probes.wait(60)
    assert time.monotonic() - started < 5  # not the full wait
    assert "app: WaiterError: SSM agent not online" in str(raised.value) and "web: no SSM health check" in str(
        raised.value
    )


def test_database_check_gives_up_after_its_wait():
    with pytest.raises(RuntimeError) as raised:
        ProbeHosts(["app"]).wait(0.1)
    assert "app not online after 0 s" in str(raised.value)


@pytest.mark.parametrize("host", ["db.example.com; rm -rf /", "$(id)", "a'b", "", "x" * 254])
def test_probe_script_takes_only_a_host_name_or_address(host):
    with pytest.raises(ValueError):
        tcp_probe_script(host, 3306, 10)


def test_probe_script_names_the_endpoint_and_its_wait():
    lines = tcp_probe_script("drill-1-db.abc.us-west-2.rds.amazonaws.com", "5432", 7)
    assert lines[0] == "host='drill-1-db.abc.us-west-2.rds.amazonaws.com'; port=5432"
    assert "timeout 7 bash" in lines[1]
