# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""DR drill reports: the timeline chart (inline SVG) and the drill history entries."""

import math
from html import escape

STATUS_COLOURS = {"ok": "#2e7d32", "failed": "#c62828"}
ROW = 22
LABEL = 260
WIDTH = 900


def axis_ticks(total):
    """The time axis of a drill lasting ``total`` seconds: [(seconds, label)] at a round step (1, 2 or 5 times a
    power of ten), from 0 to at most ``total``, four to seven of them; in minutes from two minutes on."""
    unit, scale = ("min", 60.0) if total >= 120 else ("s", 1.0)
    span = max(total / scale, 1e-6)
    rough = span / 6.0
    magnitude = 10 ** math.floor(math.log10(rough))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= rough * (1 - 1e-9))
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    ticks = []
    index = 0
    while index * step <= span * (1 + 1e-9):
        value = index * step
        ticks.append((value * scale, "%.*f %s" % (decimals, value, unit)))
        index += 1
    return ticks


def _seconds(value):
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def dr_timeline_svg(record):
    """An inline SVG chart: one row per step of every system, bars from start to end (seconds from the drill start).

    The clean-up is the last row. No scripts, no external assets.
    """
    rows = []
    for system in record.get("systems") or []:
        for step in system.get("steps") or []:
            rows.append(
                (
                    "%s: %s" % (system.get("name"), step.get("step")),
                    _seconds(step.get("start")),
                    _seconds(step.get("end")),
                    step.get("status", "ok"),
                    step.get("detail") or "",
                )
            )
    cleanup = record.get("cleanup") or {}
    if cleanup:
        rows.append(
            (
                "clean-up (tag scan: %d left)" % len(cleanup.get("left") or []),
                _seconds(cleanup.get("start")),
                _seconds(cleanup.get("end")),
                "ok" if cleanup.get("clean") else "failed",
                "%d deleted" % len(cleanup.get("deleted") or []),
            )
        )
    total = max([row[2] for row in rows] + [_seconds(record.get("wall_seconds")), 0.001])
    plot = WIDTH - LABEL - 20
    height = ROW * (len(rows) + 2)
    parts = [
        '<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" role="img" '
        'aria-label="Drill timeline" font-family="sans-serif" font-size="12">' % (WIDTH, height, WIDTH, height),
        "<title>Drill %s timeline (%.1f s)</title>" % (escape(str(record.get("drill_id", ""))), total),
    ]
    for seconds, text in axis_ticks(total):
        x = LABEL + plot * seconds / total
        anchor = "start" if seconds == 0 else "end" if x > WIDTH - 40 else "middle"  # the last label stays inside
        parts.append(
            '<line x1="%.1f" y1="0" x2="%.1f" y2="%d" stroke="#ddd"/>'
            '<text x="%.1f" y="%d" fill="#555" text-anchor="%s">%s</text>'
            % (x, x, height - ROW, x, height - 6, anchor, text)
        )
    for index, (label, start, end, status, detail) in enumerate(rows):
        y = index * ROW + 4
        x = LABEL + plot * start / total
        width = max(plot * (end - start) / total, 2.0)
        colour = STATUS_COLOURS.get(status, "#f9a825")
        parts.append(
            '<text x="4" y="%d">%s</text><rect class="step-%s" x="%.1f" y="%d" width="%.1f" height="%d" fill="%s">'
            "<title>%s: %.2f s to %.2f s (%s) %s</title></rect>"
            % (
                y + 13,
                escape(label),
                escape(status),
                x,
                y,
                width,
                ROW - 6,
                colour,
                escape(label),
                start,
                end,
                escape(status),
                escape(detail),
            )
        )
    parts.append("</svg>")
    return "".join(parts)


def dr_drill_summary(record):
    """The drill history entry of a drill record: what the plan document and the audit read."""
    systems = []
    for system in record.get("systems") or []:
        systems.append(
            {
                "name": system.get("name"),
                "status": system.get("status"),
                "rto_seconds": system.get("rto_seconds"),
                "rto_target_seconds": system.get("rto_target_seconds"),
                "rto_met": system.get("rto_met"),
                "rpo_seconds": system.get("rpo_seconds"),
                "rpo_target_seconds": system.get("rpo_target_seconds"),
                "rpo_met": system.get("rpo_met"),
            }
        )
    cleanup = record.get("cleanup") or {}
    return {
        "drill_id": record.get("drill_id"),
        "started_at": record.get("started_at"),
        "finished_at": record.get("finished_at"),
        "dr_region": record.get("dr_region"),
        "result": record.get("result"),
        "success": record.get("success"),
        "wall_seconds": record.get("wall_seconds"),
        "slowest_system_seconds": record.get("slowest_system_seconds"),
        "clean": cleanup.get("clean"),
        "systems": systems,
    }


def dr_history_add(history, record, keep=50):
    """The drill history (newest last) with this drill's entry added; an entry with the same drill id is replaced."""
    entries = history.get("drills", []) if isinstance(history, dict) else list(history or [])
    entry = dr_drill_summary(record)
    entries = [e for e in entries if isinstance(e, dict) and e.get("drill_id") != entry["drill_id"]]
    entries.append(entry)
    entries.sort(key=lambda e: str(e.get("finished_at") or e.get("started_at") or ""))
    return {"drills": entries[-int(keep) :]}


class FilterModule(object):
    def filters(self):
        return {
            "dr_timeline_svg": dr_timeline_svg,
            "dr_drill_summary": dr_drill_summary,
            "dr_history_add": dr_history_add,
        }
