"""Types of JSON values: what ``json.loads`` gives and ``json.dumps`` takes, without ``Any``.

``JsonValue`` is recursive; a function that builds JSON from painguide's own values can say so precisely,
and a function that only passes a value on to ``json.dumps`` (an audit detail, a timeline entry) takes
``Mapping[str, object]``.
"""

from __future__ import annotations

from typing import TypeAlias

__all__ = ["JsonObject", "JsonScalar", "JsonValue"]

JsonScalar: TypeAlias = str | int | float | bool | None
JsonValue: TypeAlias = JsonScalar | list["JsonValue"] | dict[str, "JsonValue"]
JsonObject: TypeAlias = dict[str, JsonValue]
