"""A light reader of a structured report's content tree straight from its encoded bytes.

pydicom builds a :class:`~pydicom.dataset.Dataset` (with five or more objects) for every content item, which
made an 89-event Azurion report (74,000 elements) take over a second to read. This module walks the bytes
of the Content Sequence (0040,A730) once and keeps only what a dose report parser needs: each item is a
plain ``dict`` from tag to either the raw bytes of a leaf value or a list of items for a sequence. Every
other element is skipped by its length, without decoding.

Leaf bytes are decoded by the caller: the short ASCII values (code values, numbers, date-times) directly,
the text values (Text Value, UID, Person Name, Code Meaning) with pydicom's own value conversion so that
character sets and pydicom's validation warnings stay as they were.
"""

from __future__ import annotations

from struct import Struct
from typing import Any

__all__ = [
    "CODE_MEANING",
    "CODE_VALUE",
    "CONCEPT_CODE",
    "CONCEPT_NAME",
    "CONTENT",
    "DATETIME",
    "MEASURED_VALUE",
    "NUMERIC_VALUE",
    "PERSON_NAME",
    "SCHEME",
    "TEXT_VALUE",
    "UID",
    "UNITS",
    "Item",
    "TreeError",
    "TruncatedError",
    "items_from_dataset",
    "read_sequence",
]

Item = dict[int, Any]
"""A content item: tag → raw leaf bytes (or an already decoded value), or a list of items for a sequence."""

CONCEPT_NAME = 0x0040A043  # Concept Name Code Sequence
CONCEPT_CODE = 0x0040A168  # Concept Code Sequence
MEASURED_VALUE = 0x0040A300  # Measured Value Sequence
UNITS = 0x004008EA  # Measurement Units Code Sequence
CONTENT = 0x0040A730  # Content Sequence
SCHEME = 0x00080102  # Coding Scheme Designator
CODE_VALUE = 0x00080100  # Code Value
CODE_MEANING = 0x00080104  # Code Meaning
NUMERIC_VALUE = 0x0040A30A  # Numeric Value
DATETIME = 0x0040A120  # DateTime
TEXT_VALUE = 0x0040A160  # Text Value
UID = 0x0040A124  # UID
PERSON_NAME = 0x0040A123  # Person Name

SEQUENCES = frozenset({CONCEPT_NAME, CONCEPT_CODE, MEASURED_VALUE, UNITS, CONTENT})
LEAVES = frozenset({SCHEME, CODE_VALUE, CODE_MEANING, NUMERIC_VALUE, DATETIME, TEXT_VALUE, UID, PERSON_NAME})

_ITEM = 0xFFFEE000
_ITEM_END = 0xFFFEE00D
_SEQUENCE_END = 0xFFFEE0DD
_UNDEFINED = 0xFFFFFFFF
_LONG_VRS = frozenset(
    {b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN", b"UR", b"UT", b"UV"}
)


class TreeError(ValueError):
    """The content tree's encoding is broken (an item where none can be, a length past its container)."""


class TruncatedError(TreeError):
    """The bytes end inside the content tree."""


class _Walker:
    """Reads sequences and items of one encoding (implicit or explicit VR, little or big endian)."""

    def __init__(self, data: bytes, *, implicit: bool, little: bool) -> None:
        self.data = data
        self.size = len(data)
        self.implicit = implicit
        order = "<" if little else ">"
        self.tag_length = Struct(order + "HHI")  # tag + 4-byte length (implicit VR, item headers)
        self.short = Struct(order + "HH2sH")  # explicit VR with a 2-byte length
        self.long = Struct(order + "I")

    def sequence(self, pos: int, length: int) -> tuple[list[Item], int]:
        """Items of a sequence whose value starts at ``pos``; returns them and the position after it."""
        data, size, header = self.data, self.size, self.tag_length
        undefined = length == _UNDEFINED
        end = size if undefined else pos + length
        if end > size:
            raise TruncatedError(f"a sequence declares {length} bytes but only {size - pos} are left")
        items: list[Item] = []
        while pos < end:
            if pos + 8 > end:
                raise TruncatedError("the data end inside an item header")
            group, element, item_length = header.unpack_from(data, pos)
            tag = group << 16 | element
            pos += 8
            if tag == _SEQUENCE_END:
                if undefined:
                    return items, pos
                continue  # a stray delimiter in a defined-length sequence: pydicom ignores it as well
            if tag != _ITEM:
                raise TreeError(f"expected a sequence item (FFFE,E000) but found ({group:04X},{element:04X})")
            if item_length == _UNDEFINED:
                item, pos = self.dataset(pos, None)
            else:
                if pos + item_length > end:
                    raise TruncatedError(f"an item declares {item_length} bytes, {end - pos} are left")
                item, _ = self.dataset(pos, pos + item_length)
                pos += item_length
            items.append(item)
        if undefined:
            raise TruncatedError("the data end before the sequence delimiter")
        return items, pos

    def dataset(self, pos: int, end: int | None) -> tuple[Item, int]:
        """The needed elements of one item, from ``pos`` to ``end`` (``None``: up to its delimiter)."""
        data, size, implicit = self.data, self.size, self.implicit
        header, short, long = self.tag_length, self.short, self.long
        limit = size if end is None else end
        item: Item = {}
        while pos < limit:
            if pos + 8 > limit:
                raise TruncatedError("the data end inside an element header")
            if implicit:
                group, element, length = header.unpack_from(data, pos)
                is_sequence = None
                value_at = pos + 8
            else:
                group, element, vr, length = short.unpack_from(data, pos)
                if vr in _LONG_VRS:
                    if pos + 12 > limit:
                        raise TruncatedError("the data end inside an element header")
                    (length,) = long.unpack_from(data, pos + 8)
                    value_at = pos + 12
                elif group == 0xFFFE or not (b"AA" <= vr <= b"ZZ"):
                    group, element, length = header.unpack_from(data, pos)  # implicit VR inside explicit
                    vr = b""
                    value_at = pos + 8
                else:
                    value_at = pos + 8
                is_sequence = vr == b"SQ" or (vr == b"UN" and length == _UNDEFINED) or None
            tag = group << 16 | element
            if tag == 0 and length == 0:
                raise TreeError(f"zero bytes where an element should be (offset {pos}): the file is damaged")
            if tag == _ITEM_END:
                if end is None:
                    return item, value_at
                pos = value_at
                continue
            if length == _UNDEFINED:
                if is_sequence is False:
                    raise TreeError(f"element ({group:04X},{element:04X}) has an undefined length")
                items, pos = self.sequence(value_at, _UNDEFINED)
                if tag in SEQUENCES:
                    item[tag] = items
                continue
            pos = value_at + length
            if pos > limit:
                raise TruncatedError(
                    f"element ({group:04X},{element:04X}) declares {length} bytes but only "
                    f"{limit - value_at} are left"
                )
            if tag in SEQUENCES and is_sequence is not False:
                item[tag] = self.sequence(value_at, length)[0]
            elif tag in LEAVES:
                item[tag] = data[value_at:pos]
        if end is None:
            raise TruncatedError("the data end before the item delimiter")
        return item, pos


def read_sequence(
    data: bytes, pos: int, *, implicit: bool, little: bool
) -> tuple[list[Item], int, int | None, int]:
    """Read the sequence element that starts at ``pos`` (its tag, VR and length first).

    Parameters
    ----------
    data : bytes
        The encoded dataset.
    pos : int
        Offset of the element's tag.
    implicit, little : bool
        The transfer syntax: implicit VR, little endian.

    Returns
    -------
    items : list of Item
    end : int
        Offset just after the element.
    declared : int or None
        The element's declared length (``None`` for undefined length).
    present : int
        The number of value bytes present in ``data`` after the header.

    Raises
    ------
    TreeError, TruncatedError
        If the encoding is broken or ends inside the tree.
    """
    walker = _Walker(data, implicit=implicit, little=little)
    if implicit:
        value_at = pos + 8
        (length,) = walker.long.unpack_from(data, pos + 4)
    else:
        value_at = pos + 12
        (length,) = walker.long.unpack_from(data, pos + 8)
    present = len(data) - value_at
    declared = None if length == _UNDEFINED else length
    if declared is not None and declared > present:
        return [], len(data), declared, present
    items, end = walker.sequence(value_at, length)
    return items, end, declared, present


def items_from_dataset(sequence: Any) -> list[Item]:
    """The same tree built from the items of a decoded pydicom sequence (a report received over the network).

    Leaf values keep pydicom's form: raw bytes where pydicom has not decoded them, decoded values otherwise.
    """
    result: list[Item] = []
    for dataset in sequence:
        item: Item = {}
        for tag in SEQUENCES:
            element = dataset.get_item(tag)
            if element is not None:
                item[tag] = items_from_dataset(dataset[tag].value or [])
        for tag in LEAVES:
            element = dataset.get_item(tag)
            if element is not None:
                item[tag] = element.value
        result.append(item)
    return result
