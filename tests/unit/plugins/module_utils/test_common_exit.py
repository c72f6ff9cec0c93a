"""common.exit_with_diff: the before/after diff reaches the task's result only when it runs with --diff."""

import pytest
from ansible_collections.medcircle.cloudops.plugins.module_utils.common import exit_with_diff


class Module:
    def __init__(self, diff):
        self._diff = diff
        self.exited = None

    def exit_json(self, **result):
        self.exited = result
        raise SystemExit(0)


@pytest.mark.parametrize("diff_mode", [True, False])
def test_the_diff_only_with_diff_mode(diff_mode):
    module = Module(diff_mode)
    with pytest.raises(SystemExit):
        exit_with_diff(module, {"changed": True, "diff": {"before": {"a": 1}, "after": {"a": 2}}, "name": "x"})
    expected = {"changed": True, "name": "x"}
    if diff_mode:
        expected["diff"] = {"before": {"a": 1}, "after": {"a": 2}}
    assert module.exited == expected


def test_a_result_without_a_diff():
    module = Module(True)
    with pytest.raises(SystemExit):
        exit_with_diff(module, {"changed": False})
    assert module.exited == {"changed": False}
