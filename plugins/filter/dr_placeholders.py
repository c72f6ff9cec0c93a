# -*- coding: utf-8 -*-

# Copyright: Contributors to the medcircle.cloudops collection
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""DR plan data: the entries still holding the inventory's placeholder (CHANGE-ME) instead of a real value."""

PLACEHOLDER = "CHANGE-ME"


def _label(item):
    """How an entry is known: its role, audience or name (the first that is not itself a placeholder)."""
    if isinstance(item, dict):
        for key in ("role", "audience", "name"):
            value = item.get(key)
            if isinstance(value, str) and value and PLACEHOLDER not in value:
                return " (%s)" % value
    return ""


def _walk(value, path, found):
    if isinstance(value, dict):
        for key in value:
            _walk(value[key], "%s.%s" % (path, key), found)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _walk(item, "%s[%d]%s" % (path, index, _label(item)), found)
    elif isinstance(value, str) and PLACEHOLDER in value:
        found.append("%s = %s" % (path, value))


def dr_placeholders(data, name="plan"):
    """Every entry of ``data`` (a dict or list, shown as ``name``) whose value still holds CHANGE-ME."""
    found = []
    _walk(data, name, found)
    return found


class FilterModule(object):
    def filters(self):
        return {"dr_placeholders": dr_placeholders}
