"""Check a Python value against a botocore shape (the sandbox's additions must answer in-model).

``validate(shape, value)`` returns a list of problems, each naming the path of the bad value
(e.g. ``Stacks[0].StackStatus``); an empty list means the value fits. Checked: structure members
(unknown keys are errors, required ones must be present), types, enums, lists, maps and
timestamps. ``None`` counts as absent. Length and range constraints are not checked: the models
share shapes between input and output, and AWS answers with empty lists where inputs need one item.
"""

import datetime

from botocore.model import Shape
from botocore.utils import parse_timestamp


def _timestamp_ok(value) -> bool:
    if isinstance(value, datetime.datetime | datetime.date):
        return True
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    if isinstance(value, str):
        try:
            parse_timestamp(value)
        except (ValueError, TypeError):
            return False
        return True
    return False


def validate(shape: Shape | None, value, path: str = "") -> list[str]:
    """Problems with ``value`` as an instance of ``shape`` (empty list = fits)."""
    where = path or "output"
    if shape is None:
        if value in (None, {}):
            return []
        return [f"{where}: the operation has no output, got {value!r}"]
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            return [f"{where}: expected a structure (dict) for {shape.name}, got {type(value).__name__}"]
        problems = []
        for key in value:
            if key not in shape.members:
                allowed = ", ".join(shape.members) or "none"
                problems.append(f"{where}: unknown member {key!r} in {shape.name} (members: {allowed})")
        for name in shape.required_members:
            if value.get(name) is None:
                problems.append(f"{where}: required member {name!r} of {shape.name} is missing")
        for name, member in shape.members.items():
            if value.get(name) is not None:
                problems += validate(member, value[name], f"{path}.{name}" if path else name)
        return problems
    if kind == "list":
        if not isinstance(value, list | tuple):
            return [f"{where}: expected a list for {shape.name}, got {type(value).__name__}"]
        problems = []
        for index, item in enumerate(value):
            if item is None:
                problems.append(f"{where}[{index}]: list items must not be null")
            else:
                problems += validate(shape.member, item, f"{where}[{index}]")
        return problems
    if kind == "map":
        if not isinstance(value, dict):
            return [f"{where}: expected a map (dict) for {shape.name}, got {type(value).__name__}"]
        problems = []
        for key, item in value.items():
            problems += validate(shape.key, key, f"{where}<key {key!r}>")
            if item is not None:
                problems += validate(shape.value, item, f"{where}[{key!r}]")
        return problems
    if kind == "string":
        if not isinstance(value, str):
            return [f"{where}: expected a string for {shape.name}, got {type(value).__name__}"]
        if shape.enum and value not in shape.enum:
            return [f"{where}: {value!r} is not one of {shape.name}'s values: {', '.join(shape.enum)}"]
        return []
    if kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            return [f"{where}: expected an integer for {shape.name}, got {value!r}"]
        return []
    if kind in ("float", "double"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return [f"{where}: expected a number for {shape.name}, got {value!r}"]
        return []
    if kind == "boolean":
        if not isinstance(value, bool):
            return [f"{where}: expected a boolean for {shape.name}, got {value!r}"]
        return []
    if kind == "timestamp":
        if not _timestamp_ok(value):
            return [f"{where}: expected a timestamp (datetime or ISO 8601) for {shape.name}, got {value!r}"]
        return []
    if kind == "blob":
        if not isinstance(value, bytes | bytearray | str):
            return [f"{where}: expected bytes for {shape.name}, got {type(value).__name__}"]
        return []
    return [f"{where}: shape type {kind!r} of {shape.name} is not supported by the sandbox"]
