"""The signed-in person as services see it (pure: no database, web or network)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ROLES", "User"]

ROLES = ("admin", "physician", "rpo", "trainee", "viewer")
"""Every role a user can hold; the permission matrix (``permissions.yaml``) says what each may do."""


@dataclass(frozen=True)
class User:
    """A signed-in person (or the local command-line operator) and the roles they hold."""

    username: str
    full_name: str
    roles: frozenset[str]

    def has_any(self, *roles: str) -> bool:
        """True when the user holds one of ``roles``."""
        return bool(self.roles.intersection(roles))
