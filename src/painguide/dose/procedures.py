"""Map a dose report's descriptive text to a catalogue procedure id (pure: plain data in, an id out).

RIS and modality texts name a procedure in many ways (``Lumbar TFESI L4/5``, ``PRT LWS rechts``,
``ISG-Infiltration li.``). :class:`ProcedureMatcher` normalises case, punctuation and German umlauts and
matches the words of catalogue ids, English and German names and a site-editable alias list
(``dose/data/procedure_aliases.yaml``). A text matches a name when every word of the name occurs in it; the
name with the most words wins, and a tie between two procedures leaves the report unmapped (``None``) rather
than guessing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from painguide.datafiles import read_packaged_yaml
from painguide.errors import DataFileError

__all__ = [
    "ALIAS_STATUSES",
    "AliasEntry",
    "ProcedureMatcher",
    "check_aliases",
    "load_aliases",
    "normalise",
    "short_name",
]

ALIAS_STATUSES = ("default", "site")
_UMLAUTS = {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "æ": "ae", "ø": "oe"}
_PLAIN_UMLAUTS = {"ä": "a", "ö": "o", "ü": "u", "ß": "ss", "æ": "ae", "ø": "o"}
# Words that carry no meaning for the match (articles, prepositions, the abbreviations N./Nn. for nerve).
_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "of",
        "the",
        "to",
        "for",
        "with",
        "in",
        "on",
        "at",
        "der",
        "die",
        "das",
        "des",
        "dem",
        "den",
        "und",
        "mit",
        "im",
        "am",
        "zur",
        "zum",
        "von",
        "n",
        "nn",
    ]
)


def normalise(text: str, *, umlauts: Mapping[str, str] = _UMLAUTS) -> str:
    """Lower-case words separated by single spaces: umlauts spelt out, accents and punctuation removed.

    Examples
    --------
    >>> normalise("ISG-Infiltration (Hüfte), L4/5")
    'isg infiltration huefte l4 5'
    >>> normalise("Kaudale   epidurale Steroidinjektion")
    'kaudale epidurale steroidinjektion'
    """
    lowered = "".join(umlauts.get(ch, ch) for ch in text.lower())
    stripped = "".join(ch for ch in unicodedata.normalize("NFKD", lowered) if not unicodedata.combining(ch))
    return " ".join(re.findall(r"[a-z0-9]+", stripped))


def _words(text: str, umlauts: Mapping[str, str] = _UMLAUTS) -> tuple[str, ...]:
    return tuple(w for w in normalise(text, umlauts=umlauts).split() if w not in _STOPWORDS)


def _variants(name: str) -> set[str]:
    """A name, the name without its parenthesised parts, each part and each ``/`` alternative."""
    without = re.sub(r"\([^)]*\)", " ", name)
    variants = {name, without, *re.findall(r"\(([^)]*)\)", name)}
    for text in list(variants):
        if "/" in text:
            variants.update(part for part in text.split("/"))
    return {v for v in variants if v.strip()}


def short_name(name: str) -> str:
    """A catalogue name without its parenthesised explanation, for chart labels.

    Examples
    --------
    >>> short_name("Lumbar transforaminal epidural steroid injection (selective nerve root block)")
    'Lumbar transforaminal epidural steroid injection'
    """
    return re.sub(r"\s+", " ", re.sub(r"\([^)]*\)", " ", name)).strip() or name


class ProcedureMatcher:
    """Find the catalogue procedure a free text names.

    Parameters
    ----------
    names : mapping of str to iterable of str
        Catalogue procedure id → its names (for example English and German).
    aliases : mapping of str to iterable of str, optional
        Procedure id → further names used at the site (abbreviations, RIS codes).

    Examples
    --------
    >>> matcher = ProcedureMatcher(
    ...     {"lumbar-tfesi": ["Lumbar transforaminal epidural steroid injection"],
    ...      "caudal-esi": ["Caudal epidural steroid injection", "Kaudale epidurale Steroidinjektion"]},
    ...     {"lumbar-tfesi": ["TFESI lumbar"]},
    ... )
    >>> matcher.match(["Lumbar TFESI L4/5 right"])
    'lumbar-tfesi'
    >>> matcher.match(["Kaudale epidurale Steroidinjektion"])
    'caudal-esi'
    >>> matcher.match(["Knee arthroscopy"]) is None
    True
    """

    def __init__(
        self, names: Mapping[str, Iterable[str]], aliases: Mapping[str, Iterable[str]] | None = None
    ) -> None:
        owners: dict[tuple[str, ...], set[str]] = {}
        for procedure_id, texts in [*names.items(), *(aliases or {}).items()]:
            candidates = {procedure_id.replace("-", " ")}
            for text in texts:
                candidates |= _variants(text)
            for candidate in candidates:
                for umlauts in (_UMLAUTS, _PLAIN_UMLAUTS):
                    key = _words(candidate, umlauts)
                    if key:
                        owners.setdefault(tuple(sorted(set(key))), set()).add(procedure_id)
        # a word set that names two procedures (a shared parenthesised synonym) decides nothing
        self._keys = {key: next(iter(ids)) for key, ids in owners.items() if len(ids) == 1}
        self.procedure_ids = frozenset(names)

    def match_one(self, text: str | None) -> str | None:
        """The procedure id one text names, or ``None`` (no name matches, or two match equally well)."""
        if not text:
            return None
        words = set(_words(text))
        best: tuple[int, set[str]] = (0, set())
        for key, procedure_id in self._keys.items():
            if len(key) >= best[0] and words.issuperset(key):
                if len(key) > best[0]:
                    best = (len(key), {procedure_id})
                else:
                    best[1].add(procedure_id)
        return next(iter(best[1])) if len(best[1]) == 1 else None

    def match(self, texts: Iterable[str | None]) -> str | None:
        """The procedure id named by the first text (in the given order of priority) that names one."""
        for text in texts:
            if (found := self.match_one(text)) is not None:
                return found
        return None


@dataclass(frozen=True, slots=True)
class AliasEntry:
    """Further names of one catalogue procedure, with where they come from."""

    procedure: str
    names: tuple[str, ...]
    source: str
    status: str


def _entry(label: str, index: int, raw: object, sources: Mapping[str, object]) -> AliasEntry:
    key = f"aliases[{index}]"
    if not isinstance(raw, dict) or not isinstance(raw.get("procedure"), str):
        raise DataFileError(label, f"{key}.procedure", "a catalogue procedure id, e.g. lumbar-tfesi")
    names = raw.get("names")
    if not isinstance(names, list) or not names or not all(isinstance(n, str) and n.strip() for n in names):
        raise DataFileError(label, f"{key}.names", "a non-empty list of texts")
    if raw.get("source") not in sources:
        raise DataFileError(label, f"{key}.source", f"one of the ids under sources: {', '.join(sources)}")
    if raw.get("status") not in ALIAS_STATUSES:
        raise DataFileError(label, f"{key}.status", " or ".join(ALIAS_STATUSES))
    return AliasEntry(raw["procedure"], tuple(names), raw["source"], raw["status"])


def load_aliases(path: str | Path | None = None) -> tuple[AliasEntry, ...]:
    """Read an alias file (the packaged ``procedure_aliases.yaml`` by default).

    Raises
    ------
    DataFileError
        Naming the file, the key and what is expected.
    """

    data, label = read_packaged_yaml("painguide.dose", "data/procedure_aliases.yaml", path)
    sources = data.get("sources") if isinstance(data, dict) else None
    items = data.get("aliases") if isinstance(data, dict) else None
    if not isinstance(sources, dict) or not isinstance(items, list):
        raise DataFileError(label, "sources / aliases", "a sources mapping and a list of aliases")
    return tuple(_entry(label, i, raw, sources) for i, raw in enumerate(items))


def check_aliases(entries: Sequence[AliasEntry], known: Iterable[str], label: str) -> dict[str, list[str]]:
    """Alias names per procedure id; every id must be a catalogue id.

    Raises
    ------
    DataFileError
        For an id that is not in the catalogue.
    """
    ids = set(known)
    result: dict[str, list[str]] = {}
    for index, entry in enumerate(entries):
        if entry.procedure not in ids:
            raise DataFileError(
                label, f"aliases[{index}].procedure", f"a catalogue procedure id, not {entry.procedure!r}"
            )
        result.setdefault(entry.procedure, []).extend(entry.names)
    return result
