"""Load the packaged catalogue data once, apply the site policy, validate everything.

A malformed data or policy file raises :class:`~painguide.errors.DataFileError` naming the file, the key and
what is expected, so start-up stops with a message a site administrator can act on.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from painguide.catalogue.drugs import DrugTable, parse_drug_table
from painguide.catalogue.models import Catalogue, Procedure
from painguide.catalogue.policy import apply_policy, pydantic_to_data_error, read_policy, read_yaml
from painguide.catalogue.rules import RuleSet
from painguide.errors import DataFileError

__all__ = ["DATA_DIR", "KnowledgeBase", "iter_sources", "load_catalogue", "load_knowledge"]

DATA_DIR = Path(__file__).with_name("data")


@dataclass(frozen=True)
class KnowledgeBase:
    """Everything the advisor and planner read: catalogue, advisor rules and the drug table."""

    catalogue: Catalogue
    rules: RuleSet
    drugs: DrugTable


def _read_raw(data_dir: Path) -> tuple[dict[str, object], dict[str, str]]:
    """Read all data files into one raw mapping; also remember which file each procedure came from."""
    procedures: dict[str, object] = {}
    origin: dict[str, str] = {}
    for path in sorted((data_dir / "procedures").glob("*.yaml")):
        items = read_yaml(path).get("procedures")
        if not isinstance(items, list):
            raise DataFileError(str(path), "procedures", "a list of procedures expected")
        for i, item in enumerate(items):
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                raise DataFileError(str(path), f"procedures.{i}.id", "each procedure needs a text id")
            if item["id"] in procedures:
                raise DataFileError(str(path), f"procedures.{i}.id", f"duplicate id {item['id']!r}")
            procedures[item["id"]] = item
            origin[item["id"]] = str(path)
    raw = {
        "procedures": procedures,
        "conventions": read_yaml(data_dir / "conventions.yaml"),
        "rules": read_yaml(data_dir / "advisor_rules.yaml").get("rules", {}),
        "anticoagulants": read_yaml(data_dir / "anticoagulants.yaml"),
        "sources": read_yaml(data_dir / "sources.yaml").get("sources", {}),
    }
    return raw, origin


def iter_sources(node: object, key: str = "") -> Iterator[tuple[str, str]]:
    """Yield ``(dotted key, source id)`` for every ``source`` in a raw or dumped data tree."""
    if isinstance(node, dict):
        if isinstance(node.get("source"), str):
            yield f"{key}.source", node["source"]
        for k, v in node.items():
            yield from iter_sources(v, f"{key}.{k}" if key else str(k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from iter_sources(v, f"{key}.{i}")


def _check_sources(node: object, known: set[str], path: str, key: str = "") -> None:
    """Every ``source`` in the data must resolve to a citation in sources.yaml."""
    for where, src in iter_sources(node, key):
        if src not in known and src != "site-policy":
            raise DataFileError(path, where, f"unknown source id {src!r}; add it to sources.yaml")


def _build(
    raw: dict[str, Any],
    origin: dict[str, str],
    data_dir: Path,
    policy_name: str | None,
    overrides: list[object],
    policy_path: str | None,
) -> KnowledgeBase:
    known_sources = set(raw["sources"])
    procedures: dict[str, Procedure] = {}
    for pid, item in raw["procedures"].items():
        where = origin.get(pid, policy_path or "site policy")
        _check_sources(item, known_sources, where, f"procedures.{pid}")
        try:
            procedures[pid] = Procedure.model_validate(item)
        except PydanticValidationError as exc:
            raise pydantic_to_data_error(where, exc, f"procedures.{pid}") from exc
    rules_path = str(data_dir / "advisor_rules.yaml")
    _check_sources(raw["rules"], known_sources, rules_path, "rules")
    try:
        rules = RuleSet.model_validate(
            {"rules": {code: {"code": code, **spec} for code, spec in raw["rules"].items()}}
        )
    except PydanticValidationError as exc:
        raise pydantic_to_data_error(rules_path, exc) from exc
    conventions_path = str(data_dir / "conventions.yaml")
    _check_sources(raw["conventions"], known_sources, conventions_path, "conventions")
    try:
        catalogue = Catalogue(
            procedures=procedures,
            sources={k: {"id": k, **v} for k, v in raw["sources"].items()},
            role_ratings=raw["conventions"].get("role_ratings", {}),
            overrides=tuple(overrides),
            policy_name=policy_name,
        )
    except PydanticValidationError as exc:
        raise pydantic_to_data_error(conventions_path, exc) from exc
    drugs_path = str(data_dir / "anticoagulants.yaml")
    _check_sources(raw["anticoagulants"], known_sources, drugs_path, "anticoagulants")
    drugs = parse_drug_table(raw["anticoagulants"], path=drugs_path)
    return KnowledgeBase(catalogue=catalogue, rules=rules, drugs=drugs)


@lru_cache(maxsize=4)
def load_knowledge(policy_path: Path | None = None, data_dir: Path = DATA_DIR) -> KnowledgeBase:
    """Load (once per policy file) the catalogue, the advisor rules and the drug table.

    Parameters
    ----------
    policy_path : Path, optional
        A site policy YAML file (see :mod:`painguide.catalogue.policy`).
    data_dir : Path
        The data folder; the packaged one by default.
    """
    raw, origin = _read_raw(data_dir)
    overrides: list[Any] = []
    name = None
    if policy_path is not None:
        policy = read_policy(policy_path)
        overrides = apply_policy(raw, policy, str(policy_path))
        name = policy.name
    return _build(raw, origin, data_dir, name, overrides, str(policy_path) if policy_path else None)


def load_catalogue(policy_path: Path | None = None) -> Catalogue:
    """The catalogue alone (see :func:`load_knowledge`)."""
    return load_knowledge(policy_path).catalogue
