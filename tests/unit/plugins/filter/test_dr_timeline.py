"""The drill report's timeline: a time axis IT support can read (round, distinct labels, in minutes for long
drills) and one bar per step."""

import re

import pytest
from ansible_collections.medcircle.cloudops.plugins.filter.dr import axis_ticks, dr_timeline_svg


@pytest.mark.parametrize(
    ("total", "labels"),
    [
        (0.2, ["0.00 s", "0.05 s", "0.10 s", "0.15 s", "0.20 s"]),
        (0.162, ["0.00 s", "0.05 s", "0.10 s", "0.15 s"]),
        (7.3, ["0 s", "2 s", "4 s", "6 s"]),
        (45, ["0 s", "10 s", "20 s", "30 s", "40 s"]),
        (1500, ["0 min", "5 min", "10 min", "15 min", "20 min", "25 min"]),
        (3600, ["0 min", "10 min", "20 min", "30 min", "40 min", "50 min", "60 min"]),
        (61, ["0 s", "20 s", "40 s", "60 s"]),
    ],
)
def test_axis_ticks_are_round_and_distinct(total, labels):
    ticks = axis_ticks(total)
    assert [label for _seconds, label in ticks] == labels
    assert all(0 <= seconds <= total + 1e-9 for seconds, _label in ticks)
    assert 4 <= len(ticks) <= 7


def test_every_step_is_a_bar_and_the_axis_is_labelled():
    record = {
        "drill_id": "drill-1",
        "wall_seconds": 0.162,
        "systems": [
            {"name": "medcircledb", "steps": [{"step": "restore database", "start": 0.01, "end": 0.12}]},
            {"name": "patient-records", "steps": [{"step": "read newest object", "start": 0.02, "end": 0.03}]},
        ],
        "cleanup": {"start": 0.13, "end": 0.162, "clean": True, "deleted": [{}], "left": []},
    }
    svg = dr_timeline_svg(record)
    assert re.findall(r">([0-9.]+ s)</text>", svg) == ["0.00 s", "0.05 s", "0.10 s", "0.15 s"]
    assert svg.count("<rect ") == 3
    assert "medcircledb: restore database" in svg and "clean-up (tag scan: 0 left)" in svg
