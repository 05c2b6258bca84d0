"""Demo mode: sign-in accounts for each role and synthetic data, added once (idempotent)."""

from __future__ import annotations

import logging

from painguide.features import import_optional
from painguide.services import open_uow
from painguide.store.users import create_user, get_user

__all__ = ["DEMO_PASSWORD", "DEMO_USERS", "seed_demo"]

log = logging.getLogger(__name__)
DEMO_PASSWORD = "demo-painguide"
DEMO_USERS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("admin", "Demo Administrator", ("admin",)),
    ("physician", "Dr. Demo Physician", ("physician",)),
    ("rpo", "Demo Radiation Protection Officer", ("rpo",)),
    ("trainee", "Demo Trainee", ("trainee",)),
)
#: Feature modules that may define ``seed_demo_data(uow) -> None`` (idempotent), called in this order.
DEMO_SEEDERS = ("painguide.dose.demo", "painguide.sono.demo")


def seed_demo() -> None:
    """Create the demo users and let each feature add its demo data (idempotent)."""
    with open_uow() as uow:
        for username, full_name, roles in DEMO_USERS:
            if get_user(uow.session, username) is None:
                create_user(
                    uow.session, username, DEMO_PASSWORD, list(roles), full_name=full_name, actor="demo"
                )
        uow.commit()
    for module_name in DEMO_SEEDERS:
        module = import_optional(module_name)
        if module is None:
            continue
        with open_uow() as uow:
            module.seed_demo_data(uow)
            uow.commit()
