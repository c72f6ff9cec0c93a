# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Reports of a risk audit: JSON, Markdown, self-contained HTML, ASFF (Security Hub) and JUnit XML,
and the comparison of two audits (closed, still open, newly open per finding).

Pure Python, no AWS: ``build_document`` turns the result of the risk_audit module into the report
document (schema: docs/reference/audit-schema.md); the ``render_*`` functions turn it into text;
``plan_run`` / ``write_run`` lay the files into ``<dest>/<UTC timestamp>-audit/`` and point
``<dest>/latest`` at it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import html
import json
import os
import re
import tempfile
from xml.sax.saxutils import escape as xml_escape
from xml.sax.saxutils import quoteattr

from ansible_collections.medcircle.cloudops.plugins.module_utils.audit import findings as fmeta

SCHEMA_VERSION = "1.0"
STATUS_ORDER = ("fail", "error", "manual", "pass", "not_applicable")
STATUS_LABEL = {
    "pass": "Pass",
    "fail": "Fail",
    "manual": "Manual check",
    "not_applicable": "Not applicable",
    "error": "Error",
}
STATUS_COLOUR = {
    "pass": "#1a7f37",
    "fail": "#c62828",
    "manual": "#9a6700",
    "not_applicable": "#6e7781",
    "error": "#8250df",
}
ASFF_SEVERITY = {
    "critical": "CRITICAL",
    "high": "HIGH",
    "medium": "MEDIUM",
    "low": "LOW",
    "informational": "INFORMATIONAL",
}
ASFF_COMPLIANCE = {
    "pass": "PASSED",
    "fail": "FAILED",
    "manual": "WARNING",
    "not_applicable": "NOT_AVAILABLE",
    "error": "NOT_AVAILABLE",
}
FORMATS = ("json", "md", "html", "asff", "junit")
OPEN = ("fail", "manual", "error")
COUNTS_LINE = (
    "Closed: %(closed)d, still open: %(still_open)d, newly open: %(newly_open)d, still passing: %(still_passing)d"
)


def _now():
    return datetime.datetime.now(datetime.timezone.utc)


def _iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------------
# the document


def _findings_of(audit):
    if audit is None:
        return None
    if isinstance(audit, dict) and "findings" in audit:
        return audit["findings"]
    raise ValueError("an audit result must be a dict with a 'findings' list")


def compare(current, previous):
    """Per finding: status before and after, and the change (closed, still_open, newly_open, ...)."""
    before = {f["id"]: f for f in previous}
    rows = []
    counts = {"closed": 0, "still_open": 0, "newly_open": 0, "still_passing": 0, "other": 0}
    for item in current:
        old = before.get(item["id"])
        old_status = old["status"] if old else None
        new_status = item["status"]
        was_open = old_status in OPEN
        is_open = new_status in OPEN
        if was_open and not is_open:
            change = "closed"
        elif was_open and is_open:
            change = "still_open"
        elif is_open:
            change = "newly_open"
        elif old_status == "pass" and new_status == "pass":
            change = "still_passing"
        else:
            change = "other"
        counts[change] += 1
        old_res = {r["resource_id"] for r in (old or {}).get("resources", []) if r.get("status") in OPEN}
        new_res = {r["resource_id"] for r in item.get("resources", []) if r.get("status") in OPEN}
        rows.append(
            {
                "id": item["id"],
                "title": item["title"],
                "severity": item["severity"],
                "before": old_status,
                "after": new_status,
                "change": change,
                "resources_closed": sorted(old_res - new_res),
                "resources_newly_open": sorted(new_res - old_res),
                "resources_still_open": sorted(old_res & new_res),
            }
        )
    return {"counts": counts, "findings": rows}


_PLAYBOOK_REF = re.compile(r"playbooks/[A-Za-z0-9_]+(?:/[A-Za-z0-9_]+)*\.yml")


def mark_missing_playbooks(items, playbooks_dir):
    """Say so in the next step when the playbook it names is not in ``playbooks_dir``.

    The register names the playbook that remediates each finding; while a capability has not
    been delivered, IT support must not be sent to a playbook that is not there.
    """
    for finding in items:
        step = finding.get("next_step") or ""
        missing = sorted(
            {ref for ref in _PLAYBOOK_REF.findall(step) if not os.path.isfile(os.path.join(playbooks_dir, ref[10:]))}
        )
        finding["remediation_available"] = not missing
        if missing:
            finding["next_step"] = (
                "%s (%s is not in this version of the collection yet: until it is, make the change by hand "
                "as the assessment's remediation describes, then re-run the audit.)" % (step, ", ".join(missing))
            )
    return items


def build_document(audit, previous=None, generated_at=None, playbooks_dir=None):
    """The report document of one audit (and its comparison with ``previous`` when given)."""
    items = sorted(_findings_of(audit), key=lambda f: fmeta.sort_key(f["id"]))
    if playbooks_dir:
        mark_missing_playbooks(items, playbooks_dir)
    generated = generated_at or _now()
    doc = {
        "schema_version": SCHEMA_VERSION,
        "generated_at": _iso(generated),
        "account_id": audit.get("account_id"),
        "regions": audit.get("regions", []),
        "collected_at": audit.get("collected_at"),
        "duration_seconds": audit.get("duration_seconds"),
        "api_calls": audit.get("api_calls", {}),
        "source_errors": audit.get("source_errors", {}),
        "summary": audit.get("summary") or _summary(items),
        "findings": items,
        "comparison": None,
    }
    if previous is not None:
        doc["comparison"] = compare(items, _findings_of(previous))
        doc["comparison"]["previous_collected_at"] = previous.get("collected_at")
    return doc


def _summary(items):
    summary = {"total": len(items), "by_status": dict.fromkeys(fmeta.STATUSES, 0), "by_severity": {}, "by_category": {}}
    for item in items:
        summary["by_status"][item["status"]] += 1
        summary["by_severity"].setdefault(item["severity"], dict.fromkeys(fmeta.STATUSES, 0))[item["status"]] += 1
        for cat in item.get("categories", []):
            summary["by_category"].setdefault(cat, dict.fromkeys(fmeta.STATUSES, 0))[item["status"]] += 1
    return summary


def open_findings(doc, at_or_above=None):
    """Findings that fail (or error), optionally only those at or above a severity."""
    limit = fmeta.severity_rank(at_or_above) if at_or_above else len(fmeta.SEVERITIES)
    return [
        f for f in doc["findings"] if f["status"] in ("fail", "error") and fmeta.severity_rank(f["severity"]) <= limit
    ]


def one_line(finding):
    """'1.7 | FAIL | high | IMDSv2 ... | 1 resource(s): i-0abc | next: ...' for playbook output."""
    ids = [r["resource_id"] for r in finding.get("resources", []) if r.get("status") in ("fail", "manual")]
    shown = ", ".join(ids[:3]) + (" and %d more" % (len(ids) - 3) if len(ids) > 3 else "")
    where = "%d resource(s): %s" % (len(ids), shown) if ids else (finding.get("message") or "account")
    return "%s | %s | %s | %s | %s | next: %s" % (
        finding["id"],
        finding["status"].upper(),
        finding["severity"],
        finding["title"],
        where,
        finding.get("next_step", ""),
    )


# ---------------------------------------------------------------------------
# JSON, Markdown


def render_json(doc):
    return json.dumps(doc, indent=2, sort_keys=False, default=str) + "\n"


def _md(text):
    return str(text if text is not None else "").replace("|", "\\|").replace("\n", " ")


def render_markdown(doc):
    s = doc["summary"]
    lines = [
        "# Risk audit of AWS account %s" % (doc.get("account_id") or "?"),
        "",
        "- Collected: %s; regions: %s" % (doc.get("collected_at"), ", ".join(doc.get("regions", []))),
        "- Findings: %d; %s"
        % (s["total"], ", ".join("%s %d" % (STATUS_LABEL[k].lower(), s["by_status"].get(k, 0)) for k in STATUS_ORDER)),
        "",
        "## Summary by severity",
        "",
        "| Severity | Fail | Error | Manual | Pass | N/A |",
        "|---|---|---|---|---|---|",
    ]
    for sev in fmeta.SEVERITIES:
        if sev in s["by_severity"]:
            c = s["by_severity"][sev]
            lines.append("| %s | %s |" % (sev, " | ".join(str(c.get(k, 0)) for k in STATUS_ORDER)))
    lines += [
        "",
        "## Summary by assessment",
        "",
        "| Assessment | Fail | Error | Manual | Pass | N/A |",
        "|---|---|---|---|---|---|",
    ]
    for cat in fmeta.CATEGORIES:
        if cat in s["by_category"]:
            c = s["by_category"][cat]
            lines.append("| %s | %s |" % (cat, " | ".join(str(c.get(k, 0)) for k in STATUS_ORDER)))
    if doc.get("comparison"):
        cmp_ = doc["comparison"]
        lines += [
            "",
            "## Compared with the audit of %s" % (cmp_.get("previous_collected_at") or "the previous run"),
            "",
            COUNTS_LINE % cmp_["counts"],
            "",
            "| Finding | Before | After | Change | Resources closed | Newly open |",
            "|---|---|---|---|---|---|",
        ]
        for row in cmp_["findings"]:
            lines.append(
                "| %s %s | %s | %s | %s | %s | %s |"
                % (
                    row["id"],
                    _md(row["title"]),
                    row["before"] or "-",
                    row["after"],
                    row["change"].replace("_", " "),
                    _md(", ".join(row["resources_closed"]) or "-"),
                    _md(", ".join(row["resources_newly_open"]) or "-"),
                )
            )
    lines += ["", "## Findings", ""]
    lines += ["| Id | Severity | Status | Title | Resources failing |", "|---|---|---|---|---|"]
    for f in doc["findings"]:
        lines.append(
            "| %s | %s | %s | %s | %s |"
            % (f["id"], f["severity"], STATUS_LABEL[f["status"]], _md(f["title"]), f.get("failing_resources", 0))
        )
    for f in doc["findings"]:
        rem = f.get("remediation") or {}
        lines += [
            "",
            "### %s %s" % (f["id"], f["title"]),
            "",
            "- Status: **%s**; severity: %s; assessments: %s"
            % (STATUS_LABEL[f["status"]], f["severity"], ", ".join(f.get("categories", []))),
            "- Next step: %s" % f.get("next_step", ""),
            "- Remediation: %s" % fmeta.describe_remediation(rem),
            "- Prowler: %s; HIPAA: %s"
            % (", ".join(f.get("prowler_checks") or ["-"]), ", ".join(f.get("hipaa") or ["-"])),
        ]
        if f.get("regions"):
            lines.append("- Regions looked at: %s" % ", ".join(f["regions"]))
        if f.get("message"):
            lines.append("- Message: %s" % _md(f["message"]))
        if f.get("resources"):
            lines += ["", "| Resource | Region | Status | Observed | Expected |", "|---|---|---|---|---|"]
            for r in f["resources"]:
                label = r["resource_id"] + (" (%s)" % r["name"] if r.get("name") else "")
                lines.append(
                    "| %s | %s | %s | %s | %s |"
                    % (_md(label), _md(r.get("region")), r["status"], _md(r["observed"]), _md(r["expected"]))
                )
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------
# HTML

_CSS = """
:root{--fg:#1f2328;--muted:#59636e;--bg:#fff;--line:#d1d9e0;--soft:#f6f8fa}
*{box-sizing:border-box}
body{font-family:-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:var(--fg);background:var(--bg);
margin:0;padding:1rem;line-height:1.45;font-size:16px;overflow-wrap:anywhere}
main{max-width:1100px;margin:0 auto}
h1{font-size:1.5rem;margin:.2rem 0 .5rem}h2{font-size:1.2rem;margin:1.6rem 0 .6rem}
h3{font-size:1.05rem;margin:0}
.meta{color:var(--muted);font-size:.9rem}
.cards{display:flex;flex-wrap:wrap;gap:.5rem;margin:1rem 0}
.card{flex:1 1 8rem;border:1px solid var(--line);border-radius:8px;padding:.6rem .8rem;background:var(--soft)}
.card b{display:block;font-size:1.6rem}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(300px,100%),1fr));gap:1rem}
figure{margin:0;border:1px solid var(--line);border-radius:8px;padding:.6rem}
figcaption{font-weight:600;margin-bottom:.4rem}
svg{width:100%;height:auto;display:block}
.legend{display:flex;flex-wrap:wrap;gap:.8rem;font-size:.85rem;margin:.5rem 0}
.legend span::before{content:"";display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem;
vertical-align:-1px;background:var(--c);border-radius:2px}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{border-bottom:1px solid var(--line);padding:.4rem .5rem;text-align:left;vertical-align:top}
th{background:var(--soft)}
table.compact td:first-child,table.compact td:nth-child(2){white-space:nowrap;overflow-wrap:normal}
.badge{display:inline-block;border-radius:999px;padding:.05rem .55rem;color:#fff;font-size:.8rem;white-space:nowrap}
.sev{font-weight:600;text-transform:capitalize}
details.finding{border:1px solid var(--line);border-left:6px solid var(--c);border-radius:8px;margin:.6rem 0;
background:var(--bg)}
details.finding>summary{cursor:pointer;padding:.6rem .8rem;list-style:none;display:flex;flex-wrap:wrap;gap:.4rem;
align-items:center}
details.finding>summary::-webkit-details-marker{display:none}
details.finding .body{padding:0 .8rem .8rem}
.kv{margin:.3rem 0;font-size:.9rem}.kv b{color:var(--muted);font-weight:600}
code{background:var(--soft);padding:0 .25rem;border-radius:4px;word-break:break-all}
.evidence td:nth-child(4),.evidence td:nth-child(5){word-break:break-word}
@media (max-width:700px){
 body{padding:.6rem;font-size:15px}
 table.evidence thead{display:none}
 table.evidence tr{display:block;border:1px solid var(--line);border-radius:6px;margin:.4rem 0;padding:.3rem}
 table.evidence td{display:block;border:0;padding:.15rem .3rem}
 table.evidence td::before{content:attr(data-label) ": ";font-weight:600;color:var(--muted)}
 table.compact td,table.compact th{padding:.35rem .3rem}
}
@media print{details.finding{break-inside:avoid}details.finding .body{display:block}}
"""


def _e(text):
    return html.escape(str(text if text is not None else ""), quote=True)


def _badge(status):
    return '<span class="badge" style="background:%s">%s</span>' % (STATUS_COLOUR[status], _e(STATUS_LABEL[status]))


def _bar_chart(title, rows, chart_id):
    """Stacked bars of counts by status, one per row, its label above it: inline SVG, readable at phone width."""
    width, label_h, bar_h, gap = 360, 18, 20, 12
    row_h = label_h + bar_h + gap
    height = max(1, len(rows)) * row_h + 4
    total_max = max([sum(counts.values()) for _label, counts in rows] + [1])
    scale = (width - 36) / float(total_max)
    parts = [
        '<svg viewBox="0 0 %d %d" role="img" aria-labelledby="%s" xmlns="http://www.w3.org/2000/svg">'
        % (width, height, chart_id),
        '<title id="%s">%s</title>' % (chart_id, _e(title)),
    ]
    for index, (label, counts) in enumerate(rows):
        top = 2 + index * row_h
        y = top + label_h
        parts.append('<text x="0" y="%d" font-size="14" fill="#1f2328">%s</text>' % (top + 13, _e(label)))
        x = 0.0
        for status in STATUS_ORDER:
            n = counts.get(status, 0)
            if not n:
                continue
            w = n * scale
            parts.append(
                '<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s"><title>%s: %d %s</title></rect>'
                % (x, y, w, bar_h, STATUS_COLOUR[status], _e(label), n, _e(STATUS_LABEL[status].lower()))
            )
            if w >= 18:
                parts.append(
                    '<text x="%.1f" y="%d" font-size="13" fill="#fff" text-anchor="middle">%d</text>'
                    % (x + w / 2, y + 15, n)
                )
            x += w
        parts.append(
            '<text x="%.1f" y="%d" font-size="13" fill="#59636e">%d</text>' % (x + 4, y + 15, sum(counts.values()))
        )
    parts.append("</svg>")
    return "".join(parts)


def _resource_changes(row):
    parts = []
    if row["resources_closed"]:
        parts.append("closed: %s" % ", ".join(row["resources_closed"]))
    if row["resources_newly_open"]:
        parts.append("newly open: %s" % ", ".join(row["resources_newly_open"]))
    return "<br><small>%s</small>" % _e("; ".join(parts)) if parts else ""


def render_html(doc):
    s = doc["summary"]
    sev_rows = [(sev.capitalize(), s["by_severity"][sev]) for sev in fmeta.SEVERITIES if sev in s["by_severity"]]
    cat_rows = [
        (cat.replace(" Assessment", ""), s["by_category"][cat]) for cat in fmeta.CATEGORIES if cat in s["by_category"]
    ]
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>Risk audit %s</title>" % _e(doc.get("collected_at")),
        "<style>%s</style></head><body><main>" % _CSS,
        "<h1>Risk audit of AWS account %s</h1>" % _e(doc.get("account_id") or "?"),
        '<p class="meta">Collected %s &middot; regions %s &middot; report written %s</p>'
        % (_e(doc.get("collected_at")), _e(", ".join(doc.get("regions", []))), _e(doc.get("generated_at"))),
        '<section id="summary" aria-label="Summary"><h2>Summary</h2><div class="cards">',
        '<div class="card">Findings<b>%d</b></div>' % s["total"],
    ]
    for status in STATUS_ORDER:
        out.append(
            '<div class="card" style="border-left:6px solid %s">%s<b id="count-%s">%d</b></div>'
            % (STATUS_COLOUR[status], _e(STATUS_LABEL[status]), status, s["by_status"].get(status, 0))
        )
    out.append("</div>")
    out.append('<div class="legend">')
    for status in STATUS_ORDER:
        out.append('<span style="--c:%s">%s</span>' % (STATUS_COLOUR[status], _e(STATUS_LABEL[status])))
    out.append("</div>")
    out.append('<div class="charts">')
    out.append(
        "<figure><figcaption>By severity</figcaption>%s</figure>"
        % _bar_chart("Findings by severity and status", sev_rows, "chart-severity")
    )
    out.append(
        "<figure><figcaption>By assessment</figcaption>%s</figure>"
        % _bar_chart("Findings by assessment and status", cat_rows, "chart-category")
    )
    out.append("</div></section>")
    out.append('<section id="overview"><h2>All findings</h2>')
    out.append('<table class="compact"><thead><tr><th>Id</th><th>Status</th><th>Finding</th></tr></thead><tbody>')
    for f in doc["findings"]:
        failing = f.get("failing_resources", 0)
        out.append(
            '<tr><td><a href="#finding-%s">%s</a></td><td>%s</td><td>%s<br><small><span class="sev">%s</span>%s</small>'
            "</td></tr>"
            % (
                _e(f["id"]),
                _e(f["id"]),
                _badge(f["status"]),
                _e(f["title"]),
                _e(f["severity"]),
                " &middot; %d resource(s) to fix" % failing if failing else "",
            )
        )
    out.append("</tbody></table></section>")
    if doc.get("comparison"):
        cmp_ = doc["comparison"]
        out.append(
            '<section id="comparison"><h2>Compared with the audit of %s</h2>'
            % _e(cmp_.get("previous_collected_at") or "the previous run")
        )
        out.append(
            "<p>Closed: <b>%(closed)d</b> &middot; still open: <b>%(still_open)d</b> &middot; newly open: "
            "<b>%(newly_open)d</b> &middot; still passing: <b>%(still_passing)d</b></p>" % cmp_["counts"]
        )
        out.append(
            '<table class="compact"><thead><tr><th>Finding</th><th>Before &rarr; after</th><th>Change</th>'
            "</tr></thead><tbody>"
        )
        for row in cmp_["findings"]:
            if row["change"] == "still_passing":
                continue
            out.append(
                '<tr><td><a href="#finding-%s">%s</a></td><td>%s &rarr; %s</td><td>%s%s</td></tr>'
                % (
                    _e(row["id"]),
                    _e(row["id"]),
                    _badge(row["before"]) if row["before"] else "-",
                    _badge(row["after"]),
                    _e(row["change"].replace("_", " ")),
                    _resource_changes(row),
                )
            )
        out.append("</tbody></table></section>")
    out.append('<section id="findings"><h2>Findings with evidence</h2>')
    for f in doc["findings"]:
        rem = f.get("remediation") or {}
        if rem.get("type") != "automated":
            remediation = "manual: %s" % _e(rem.get("manual"))
        elif rem.get("role"):
            remediation = "<code>%s</code> role <code>%s</code>" % (_e(rem.get("playbook")), _e(rem["role"]))
        else:
            remediation = "<code>%s</code> module <code>%s</code>" % (_e(rem.get("playbook")), _e(rem.get("module")))
        out.append(
            '<details class="finding" id="finding-%s" data-status="%s" style="--c:%s"%s>'
            % (_e(f["id"]), _e(f["status"]), STATUS_COLOUR[f["status"]], " open" if f["status"] in OPEN else "")
        )
        out.append(
            '<summary><h3>%s %s</h3> %s <span class="sev">%s</span></summary><div class="body">'
            % (_e(f["id"]), _e(f["title"]), _badge(f["status"]), _e(f["severity"]))
        )
        out.append('<p class="kv"><b>Next step:</b> %s</p>' % _e(f.get("next_step")))
        out.append('<p class="kv"><b>Remediation:</b> %s</p>' % remediation)
        out.append(
            '<p class="kv"><b>Assessments:</b> %s &middot; <b>HIPAA:</b> %s &middot; <b>Prowler:</b> %s</p>'
            % (
                _e(", ".join(f.get("categories", []))),
                _e(", ".join(f.get("hipaa", [])) or "-"),
                _e(", ".join(f.get("prowler_checks", [])) or "-"),
            )
        )
        if f.get("regions"):
            out.append('<p class="kv"><b>Regions looked at:</b> %s</p>' % _e(", ".join(f["regions"])))
        if f.get("message"):
            out.append('<p class="kv"><b>Message:</b> %s</p>' % _e(f["message"]))
        if f.get("resources"):
            out.append(
                '<table class="evidence"><thead><tr><th>Resource</th><th>Region</th><th>Status</th><th>Observed</th>'
                "<th>Expected</th></tr></thead><tbody>"
            )
            for r in f["resources"]:
                label = _e(r["resource_id"]) + (" <small>(%s)</small>" % _e(r["name"]) if r.get("name") else "")
                if r.get("detail"):
                    label += "<br><small>%s</small>" % _e(r["detail"])
                out.append(
                    '<tr><td data-label="Resource">%s</td><td data-label="Region">%s</td>'
                    '<td data-label="Status">%s</td>'
                    '<td data-label="Observed">%s</td><td data-label="Expected">%s</td></tr>'
                    % (label, _e(r.get("region")), _badge(r["status"]), _e(r["observed"]), _e(r["expected"]))
                )
            out.append("</tbody></table>")
        out.append("</div></details>")
    out.append("</section>")
    out.append(
        '<p class="meta">%d API calls. Written by medcircle.cloudops.risk_audit_report.</p>'
        % sum((doc.get("api_calls") or {}).values())
    )
    out.append("</main></body></html>")
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------
# ASFF, JUnit


def render_asff(doc, region=None):
    """AWS Security Finding Format: one finding per audited finding, ready for BatchImportFindings."""
    account = doc.get("account_id") or "000000000000"
    region = region or (doc.get("regions") or ["us-east-1"])[0]
    partition = "aws-us-gov" if region.startswith("us-gov-") else "aws-cn" if region.startswith("cn-") else "aws"
    product_arn = "arn:%s:securityhub:%s:%s:product/%s/default" % (partition, region, account, account)
    created = doc.get("collected_at") or doc["generated_at"]
    out = []
    for f in doc["findings"]:
        resources = []
        for r in f.get("resources", []):
            if r.get("status") not in OPEN and f["status"] in OPEN:
                continue
            resources.append(
                {
                    "Type": r.get("resource_type") or "Other",
                    "Id": r.get("resource_arn") or r["resource_id"],
                    "Partition": partition,
                    "Region": r.get("region")
                    if r.get("region") not in (None, "global", "host") and "," not in str(r.get("region"))
                    else region,
                    "Details": {
                        "Other": {"observed": str(r["observed"])[:1024], "expected": str(r["expected"])[:1024]}
                    },
                }
            )
        if not resources:
            resources = [
                {"Type": "AwsAccount", "Id": "AWS::::Account:%s" % account, "Partition": partition, "Region": region}
            ]
        description = "%s Status: %s. Next step: %s" % (f["title"], STATUS_LABEL[f["status"]], f.get("next_step", ""))
        if f.get("message"):
            description += " Message: %s" % f["message"]
        item = {
            "SchemaVersion": "2018-10-08",
            "Id": "medcircle-risk-audit/%s/%s" % (account, f["id"]),
            "ProductArn": product_arn,
            "ProductName": "medcircle.cloudops risk audit",
            "CompanyName": "MedCircle",
            "GeneratorId": "medcircle.cloudops.risk_audit/%s" % f["id"],
            "AwsAccountId": account,
            "Types": ["Software and Configuration Checks/Industry and Regulatory Standards/HIPAA Controls"],
            "CreatedAt": created,
            "UpdatedAt": doc["generated_at"],
            "Severity": {"Label": ASFF_SEVERITY.get(f["severity"], "INFORMATIONAL")},
            "Title": ("%s %s" % (f["id"], f["title"]))[:256],
            "Description": description[:1024],
            "Remediation": {"Recommendation": {"Text": (f.get("next_step") or "")[:512]}},
            "ProductFields": {
                "medcircle/finding_id": f["id"],
                "medcircle/status": f["status"],
                "medcircle/prowler_checks": ",".join(f.get("prowler_checks", [])) or "-",
            },
            "Resources": resources[:32],
            "Compliance": {
                "Status": ASFF_COMPLIANCE[f["status"]],
                "RelatedRequirements": ["HIPAA %s" % ref for ref in f.get("hipaa", [])][:32],
            },
            "RecordState": "ACTIVE",
            "Workflow": {"Status": "RESOLVED" if f["status"] in ("pass", "not_applicable") else "NEW"},
        }
        out.append(item)
    return json.dumps(out, indent=2) + "\n"


def render_junit(doc):
    items = doc["findings"]
    counts = {k: sum(1 for f in items if f["status"] == k) for k in fmeta.STATUSES}
    skipped = counts["manual"] + counts["not_applicable"]
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<testsuites name="medcircle risk audit" tests="%d" failures="%d" errors="%d" skipped="%d">'
        % (len(items), counts["fail"], counts["error"], skipped),
        '  <testsuite name="risk-audit %s" tests="%d" failures="%d" errors="%d" skipped="%d" timestamp=%s>'
        % (
            xml_escape(str(doc.get("account_id"))),
            len(items),
            counts["fail"],
            counts["error"],
            skipped,
            quoteattr(str(doc.get("collected_at") or doc["generated_at"])),
        ),
    ]
    for f in items:
        name = "%s %s" % (f["id"], f["title"])
        lines.append(
            "    <testcase classname=%s name=%s>" % (quoteattr("risk_audit.%s" % f["severity"]), quoteattr(name))
        )
        evidence = "\n".join(
            "%s [%s] %s: observed %s; expected %s"
            % (r["resource_id"], r.get("region"), r["status"], r["observed"], r["expected"])
            for r in f.get("resources", [])
            if r.get("status") in OPEN
        )
        if f["status"] == "fail":
            lines.append(
                "      <failure message=%s type=%s>%s</failure>"
                % (quoteattr(f.get("next_step", "")), quoteattr(f["severity"]), xml_escape(evidence))
            )
        elif f["status"] == "error":
            lines.append(
                "      <error message=%s>%s</error>"
                % (quoteattr(f.get("message") or "error"), xml_escape(f.get("message") or ""))
            )
        elif f["status"] in ("manual", "not_applicable"):
            reason = "manual check: %s" % evidence if f["status"] == "manual" else "not applicable: no such resource"
            lines.append("      <skipped message=%s/>" % quoteattr(reason[:2000]))
        lines.append("    </testcase>")
    lines += ["  </testsuite>", "</testsuites>"]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------
# comparison files


def render_compare_markdown(doc):
    cmp_ = doc["comparison"]
    lines = [
        "# Risk audit comparison",
        "",
        "Previous: %s; current: %s" % (cmp_.get("previous_collected_at"), doc.get("collected_at")),
        "",
        COUNTS_LINE % cmp_["counts"],
        "",
        "| Finding | Before | After | Change | Resources closed | Newly open | Still open |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in cmp_["findings"]:
        lines.append(
            "| %s %s | %s | %s | %s | %s | %s | %s |"
            % (
                row["id"],
                _md(row["title"]),
                row["before"] or "-",
                row["after"],
                row["change"].replace("_", " "),
                _md(", ".join(row["resources_closed"]) or "-"),
                _md(", ".join(row["resources_newly_open"]) or "-"),
                _md(", ".join(row["resources_still_open"]) or "-"),
            )
        )
    return "\n".join(lines) + "\n"


def render_compare_junit(doc):
    rows = doc["comparison"]["findings"]
    bad = [r for r in rows if r["change"] in ("newly_open",)]
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<testsuites name="medcircle risk audit comparison" tests="%d" failures="%d">' % (len(rows), len(bad)),
        '  <testsuite name="risk-audit-compare" tests="%d" failures="%d">' % (len(rows), len(bad)),
    ]
    for row in rows:
        lines.append(
            '    <testcase classname="risk_audit.compare" name=%s>' % quoteattr("%s %s" % (row["id"], row["title"]))
        )
        if row["change"] == "newly_open":
            lines.append(
                "      <failure message=%s/>" % quoteattr("newly open: %s -> %s" % (row["before"], row["after"]))
            )
        elif row["change"] == "still_open":
            lines.append(
                "      <skipped message=%s/>" % quoteattr("still open: %s" % ", ".join(row["resources_still_open"]))
            )
        lines.append("    </testcase>")
    lines += ["  </testsuite>", "</testsuites>"]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------
# files


def run_folder_name(moment):
    return moment.strftime("%Y%m%dT%H%M%SZ") + "-audit"


def plan_run(doc, dest, moment=None, formats=FORMATS, asff_region=None, run_id=None):
    """The run folder and {file name: content} for one report run (nothing written).

    ``run_id`` names the folder ``<run_id>-audit`` (written over when it exists); without it the folder
    is named after the UTC time, with a suffix when two runs fall in the same second.
    """
    if run_id:
        folder = os.path.join(dest, "%s-audit" % run_id)
    else:
        moment = moment or _now()
        folder = os.path.join(dest, run_folder_name(moment))
        suffix = 2
        while os.path.exists(folder):  # two runs in one second
            folder = os.path.join(dest, "%s-%d" % (run_folder_name(moment), suffix))
            suffix += 1
    renderers = {
        "json": ("audit.json", lambda: render_json(doc)),
        "md": ("audit.md", lambda: render_markdown(doc)),
        "html": ("audit.html", lambda: render_html(doc)),
        "asff": ("audit.asff.json", lambda: render_asff(doc, asff_region)),
        "junit": ("audit.junit.xml", lambda: render_junit(doc)),
    }
    files = {}
    for fmt in formats:
        name, render = renderers[fmt]
        files[name] = render()
    if doc.get("comparison"):
        files["compare.json"] = json.dumps(doc["comparison"], indent=2) + "\n"
        files["compare.md"] = render_compare_markdown(doc)
        files["compare.junit.xml"] = render_compare_junit(doc)
    return folder, files


def write_run(folder, files, dest, link_latest=True):
    """Write the files into ``folder`` and point ``dest/latest`` at it (atomically)."""
    os.makedirs(folder, exist_ok=True)
    for name, content in files.items():
        path = os.path.join(folder, name)
        handle, tmp = tempfile.mkstemp(dir=folder, prefix=".%s." % name)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(content)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    latest = os.path.join(dest, "latest")
    if link_latest:
        tmp_link = os.path.join(dest, ".latest.%d" % os.getpid())
        if os.path.lexists(tmp_link):
            os.remove(tmp_link)
        os.symlink(os.path.basename(folder), tmp_link)
        os.replace(tmp_link, latest)
    return [os.path.join(folder, name) for name in sorted(files)]
