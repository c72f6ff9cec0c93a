"""What IT support reads stays one paragraph: a folded YAML scalar (``>-``) keeps the line break before and after a
more-indented line, so a message written with an indented continuation line prints a line break in the middle
of a sentence. Every folded message of the roles and playbooks (task names, ``msg``, ``fail_msg``,
``success_msg``) has no line break outside its Jinja expressions."""

import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
FILES = sorted(
    [*REPO.glob("roles/*/tasks/*.yml"), *REPO.glob("roles/*/handlers/*.yml"), *REPO.glob("playbooks/**/*.yml")]
)
MESSAGE_KEYS = {"name", "msg", "fail_msg", "success_msg"}
JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)


def _folded_messages(node, key=None):
    if isinstance(node, yaml.ScalarNode):
        if key in MESSAGE_KEYS and node.style == ">":
            yield node
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _folded_messages(item, key if key in MESSAGE_KEYS else None)
    elif isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            yield from _folded_messages(v, k.value if isinstance(k, yaml.ScalarNode) else None)


def test_there_are_folded_messages_to_check():
    assert sum(1 for path in FILES for _ in _folded_messages(yaml.compose(path.read_text()))) > 100


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_folded_messages_have_no_line_break_outside_jinja(path):
    broken = [
        f"line {node.start_mark.line + 1}: {JINJA.sub('...', node.value).strip()[:120]!r}"
        for node in _folded_messages(yaml.compose(path.read_text()))
        if "\n" in JINJA.sub("", node.value).rstrip("\n")
    ]
    assert broken == [], broken
