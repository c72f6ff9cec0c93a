"""The dr_placeholders filter on the production inventory's DR plan (every CHANGE-ME found, named) and the
sandbox's (none)."""

from pathlib import Path

import yaml
from ansible_collections.medcircle.cloudops.plugins.filter.dr_placeholders import FilterModule, dr_placeholders

REPO_ROOT = Path(__file__).resolve().parents[4]


def _plan(inventory):
    with open(REPO_ROOT / "inventories" / inventory / "group_vars" / "all" / "dr.yml") as handle:
        return yaml.safe_load(handle)


def test_names_the_entry_and_the_value():
    team = [{"role": "DR coordinator", "name": "Ann", "phone": "CHANGE-ME (the coordinator's phone)"}]
    assert dr_placeholders(team, "cloudops_dr_team") == [
        "cloudops_dr_team[0] (DR coordinator).phone = CHANGE-ME (the coordinator's phone)"
    ]
    assert dr_placeholders({"zone": "a.example.", "nested": [{"x": ["CHANGE-ME"]}]}, "dns") == [
        "dns.nested[0].x[0] = CHANGE-ME"
    ]
    assert dr_placeholders([{"role": "x", "name": "Ann"}], "t") == []
    assert FilterModule().filters()["dr_placeholders"] is dr_placeholders


def test_production_plan_marks_what_to_fill_in():
    plan = _plan("production")
    found = [
        line for key, value in plan.items() if key.startswith("cloudops_dr_") for line in dr_placeholders(value, key)
    ]
    joined = "\n".join(found)
    for entry in (
        "cloudops_dr_team[0] (DR coordinator).name",
        "cloudops_dr_team[0] (DR coordinator).phone",
        "cloudops_dr_communication[0] (DR team).channel",
        "cloudops_dr_dns.standby_value",
        "cloudops_dr_systems[2] (patient-records).resource",
    ):
        assert entry in joined, joined


def test_sandbox_plan_has_no_placeholder():
    plan = _plan("sandbox")
    assert [line for key, value in plan.items() for line in dr_placeholders(value, key)] == []
