"""The set filters (``difference``, ``union``, ``intersect``, ``symmetric_difference``) return their items in the
order of a Python set, which changes from one run to the next. What IT support reads must not: a refusal that names
two unknown patch groups names them in the order they were given, every run. So in the roles and playbooks these
filters are used only where order cannot show: as a count (``| length``), as a truth value (``not (...)``) or as
the list an ``'in'`` test looks into. Lists that are printed or passed on keep their order with
``reject('in', ...) | unique`` and ``(a + b) | unique``."""

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FILES = sorted([*REPO.glob("roles/*/*/*.yml"), *REPO.glob("playbooks/**/*.yml")])
SET_FILTER = re.compile(r"\|\s*(difference|union|intersect|symmetric_difference)\s*\(")


def _uses(text):
    """Each set filter call with the text before it and the text after its closing parenthesis."""
    for match in SET_FILTER.finditer(text):
        depth, end = 1, match.end()
        while depth and end < len(text):
            depth += {"(": 1, ")": -1}.get(text[end], 0)
            end += 1
        yield match.group(1), text[: match.start()], text[end:]


def _order_cannot_show(before, after):
    rest = re.sub(r"^[\s)]*", "", after)
    if rest.startswith("|") and re.match(r"\|\s*length\b", rest):
        return True
    opening = before.rfind("(")
    head = before[:opening].rstrip() if opening >= 0 else ""
    if head.endswith("not"):
        return True
    return bool(re.search(r"(reject|select)\(\s*'in'\s*,\s*[\w.]+\s*$", before))


def test_the_check_finds_an_ordered_use():
    text = "msg: \"{{ served | difference(known) | join(', ') }}\""
    assert [name for name, before, after in _uses(text) if not _order_cannot_show(before, after)] == ["difference"]


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_set_filters_are_used_only_where_order_cannot_show(path):
    text = path.read_text()
    ordered = [
        f"line {before.count(chr(10)) + 1}: {name}"
        for name, before, after in _uses(text)
        if not _order_cannot_show(before, after)
    ]
    assert ordered == [], f"{path.relative_to(REPO)}: a set filter's order can show: {ordered}"
