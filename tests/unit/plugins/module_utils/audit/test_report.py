"""Report rendering: JSON, Markdown, HTML, ASFF, JUnit and the comparison of two runs."""

import json
import os
import xml.etree.ElementTree as ET

from ansible_collections.medcircle.cloudops.plugins.module_utils.audit import checks, report
from ansible_collections.medcircle.cloudops.plugins.module_utils.audit.collect import StaticSnapshot
from ansible_collections.medcircle.cloudops.plugins.module_utils.audit.findings import FINDING_IDS

from . import estate


def _audit(data):
    results, summary = checks.run_audit(
        StaticSnapshot([estate.P, estate.DR], data), checks.AuditContext(now=estate.NOW)
    )
    return {
        "account_id": "123456789012",
        "regions": [estate.P, estate.DR],
        "collected_at": "2026-11-28T12:00:00Z",
        "findings": results,
        "summary": summary,
        "api_calls": {"ec2:DescribeInstances": 2},
    }


def test_every_format_names_every_finding():
    doc = report.build_document(_audit(estate.weak()))
    md = report.render_markdown(doc)
    page = report.render_html(doc)
    for fid in FINDING_IDS:
        assert f"### {fid} " in md
        assert f'id="finding-{fid}"' in page
    assert "<script" not in page and "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert page.count("<svg") == 2
    assert json.loads(report.render_json(doc))["schema_version"] == report.SCHEMA_VERSION


def test_asff_is_ready_for_batch_import():
    doc = report.build_document(_audit(estate.weak()))
    items = json.loads(report.render_asff(doc))
    assert len(items) == 42
    required = {
        "SchemaVersion",
        "Id",
        "ProductArn",
        "GeneratorId",
        "AwsAccountId",
        "Types",
        "CreatedAt",
        "UpdatedAt",
        "Severity",
        "Title",
        "Description",
        "Resources",
    }
    for item in items:
        assert required <= set(item)
        assert item["SchemaVersion"] == "2018-10-08"
        assert item["ProductArn"] == "arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default"
        assert item["Compliance"]["Status"] in ("PASSED", "FAILED", "WARNING", "NOT_AVAILABLE")
        assert item["Severity"]["Label"] in ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL")
        assert item["RecordState"] == "ACTIVE" and 1 <= len(item["Resources"]) <= 32
        assert len(item["Title"]) <= 256 and len(item["Description"]) <= 1024
    by_id = {i["ProductFields"]["medcircle/finding_id"]: i for i in items}
    assert by_id["1.7"]["Compliance"]["Status"] == "FAILED"
    assert by_id["1.7"]["Resources"][0]["Id"].startswith("arn:aws:ec2:us-east-1:123456789012:instance/")


def test_junit_one_testcase_per_finding():
    data = estate.weak()
    data[("dlm_policies", estate.P)] = RuntimeError("dlm_policies in us-east-1: boom")
    doc = report.build_document(_audit(data))
    root = ET.fromstring(report.render_junit(doc))  # noqa: S314 - our own output
    cases = root.findall(".//testcase")
    assert len(cases) == 42
    failures = [c for c in cases if c.find("failure") is not None]
    errors = [c for c in cases if c.find("error") is not None]
    assert len(errors) == 1 and errors[0].get("name").startswith("2.10 ")
    assert len(failures) == 41
    assert root.get("tests") == "42" and root.get("errors") == "1"


def test_comparison_closed_still_open_newly_open(tmp_path):
    before = _audit(estate.weak())
    after_data = estate.weak()
    after_data[("ec2_instances", estate.P)][0]["MetadataOptions"] = {"HttpTokens": "required"}
    for region in (estate.P, estate.DR):
        after_data[("ec2_imds_defaults", region)] = {"HttpTokens": "required"}
    after = _audit(after_data)
    after["findings"] = list(after["findings"])
    doc = report.build_document(after, before)
    rows = {r["id"]: r for r in doc["comparison"]["findings"]}
    assert rows["1.7"]["change"] == "closed"
    assert sorted(rows["1.7"]["resources_closed"]) == [
        "i-0app",
        f"instance-metadata-defaults/{estate.P}",
        f"instance-metadata-defaults/{estate.DR}",
    ]
    assert rows["1.3"]["change"] == "still_open"
    strong = _audit(estate.strong())
    doc2 = report.build_document(before, strong)
    assert doc2["comparison"]["counts"]["newly_open"] > 0
    folder, files = report.plan_run(doc, str(tmp_path))
    assert {"compare.json", "compare.md", "compare.junit.xml"} <= set(files)
    written = report.write_run(folder, files, str(tmp_path))
    assert all(os.path.exists(p) for p in written)
    folder2, _files = report.plan_run(doc, str(tmp_path), moment=None)
    assert folder2 != folder or not os.path.exists(folder2)
    ET.fromstring(files["compare.junit.xml"])  # noqa: S314 - our own output
    assert "Closed: 1" in files["compare.md"]


def test_open_findings_by_severity_and_one_line():
    doc = report.build_document(_audit(estate.weak()))
    critical = report.open_findings(doc, "critical")
    assert critical and all(f["severity"] == "critical" for f in critical)
    assert len(report.open_findings(doc, "medium")) > len(critical)
    line = report.one_line(next(f for f in doc["findings"] if f["id"] == "1.7"))
    assert line.startswith(
        "1.7 | FAIL | high | IMDSv2: Is set as optional in the EC2 instance | 3 resource(s): i-0app, "
        f"instance-metadata-defaults/{estate.P}"
    )
