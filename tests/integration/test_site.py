"""playbooks/site.yml against the sandbox: what `make demo` runs, as a person runs it."""

import json
from pathlib import Path

from playbook import run_playbook


def test_site_shows_the_assessed_estate_and_changes_nothing(sandbox, tmp_path):
    sandbox.reset("as-assessed")
    run = run_playbook(
        sandbox, "playbooks/site.yml", extra_vars={"cloudops_reports_dir": str(tmp_path), "cloudops_run_id": "t1"}
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    lines = run.task("Show the estate by region")["msg"]
    east = next(line for line in lines if line.startswith("us-east-1:"))
    assert "1 instance(s)" in east
    assert any("IMDSv1 allowed (HttpTokens optional)" in line for line in lines)
    assert any("not encrypted" in line and "volume" in line for line in lines)
    assert any("medcircle-legacy-sg" in line and "unused" in line for line in lines)
    assert any("inbound open to 0.0.0.0/0" in line for line in lines)
    assert any("database medcircledb: not encrypted at rest" in line for line in lines)
    assert any(line.endswith("encryption AES256, not KMS") for line in lines)
    # The DR region holds nothing of the estate yet (only the account's default VPC, as in AWS).
    west = next(line for line in lines if line.startswith("us-west-2:"))
    assert "0 instance(s), 0 volume(s)" in west and "0 database(s)" in west

    estate = json.loads(Path(tmp_path, "t1-estate", "estate.json").read_text())
    assert estate["regions"]["us-east-1"]["databases"][0]["id"] == "medcircledb"
    assert "# Estate overview" in Path(tmp_path, "t1-estate", "estate.md").read_text()
    # Reading the estate is read-only: not one mutating call reached the sandbox.
    assert sandbox.requests(mutating=True) == []
    assert sandbox.requests(service="ec2", operation="DescribeInstances")


def test_site_on_the_hardened_estate_shows_fewer_weaknesses(sandbox, tmp_path):
    counts = {}
    for seed in ("as-assessed", "hardened"):
        sandbox.reset(seed)
        run = run_playbook(
            sandbox, "playbooks/site.yml", extra_vars={"cloudops_reports_dir": str(tmp_path), "cloudops_run_id": seed}
        )
        assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
        counts[seed] = json.loads(Path(tmp_path, f"{seed}-estate", "estate.json").read_text())["weaknesses"]
    assert counts["hardened"] < counts["as-assessed"]
    hardened = json.loads(Path(tmp_path, "hardened-estate", "estate.json").read_text())
    for instance in hardened["regions"]["us-east-1"]["instances"]:
        assert instance["http_tokens"] == "required"
        assert instance["instance_profile"]
    assert all(volume["encrypted"] for volume in hardened["regions"]["us-east-1"]["volumes"])


def test_site_fails_clearly_on_a_bad_region(sandbox, tmp_path):
    run = run_playbook(
        sandbox,
        "playbooks/site.yml",
        extra_vars={"cloudops_regions": ["us-east-1", "moon-1"], "cloudops_reports_dir": str(tmp_path)},
    )
    assert run.returncode != 0
    assert "estate_overview_regions must be a non-empty list of AWS region names" in run.stdout
    assert "moon-1" in run.stdout
