"""Who may do what: the signed-in user and the permission matrix (data)."""

from painguide.auth.models import ROLES, User
from painguide.auth.permissions import PUBLIC, Action, PermissionMatrix, authorize, permission_matrix

__all__ = ["PUBLIC", "ROLES", "Action", "PermissionMatrix", "User", "authorize", "permission_matrix"]
