"""Demo mode: sign-in accounts for each role and synthetic data, added once (idempotent).

Demo accounts are marked as such and refused outside demo mode (:mod:`painguide.accounts.service`), so a
site later served without demo mode on the same data folder does not accept them.
"""

from __future__ import annotations

from painguide.accounts.service import DEMO_PASSWORD
from painguide.auth import User
from painguide.dose import demo as dose_demo
from painguide.pathway import demo as pathway_demo
from painguide.pathway.link_service import link_pending
from painguide.services import open_uow
from painguide.sono import demo as sono_demo
from painguide.training import demo as training_demo

__all__ = ["DEMO_PASSWORD", "DEMO_USERS", "seed_demo"]

DEMO_USERS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("admin", "Demo Administrator", ("admin",)),
    ("physician", "Dr. Demo Physician", ("physician",)),
    ("rpo", "Demo Radiation Protection Officer", ("rpo",)),
    ("trainee", "Demo Trainee", ("trainee",)),
)


def seed_demo() -> None:
    """Create the demo users and let each feature add its demo data (idempotent)."""
    with open_uow() as uow:
        for username, full_name, roles in DEMO_USERS:
            if uow.users.row(username) is None:
                uow.users.create(
                    username,
                    DEMO_PASSWORD,
                    list(roles),
                    full_name=full_name,
                    actor="demo",
                    demo=True,
                )
        uow.commit()

    for feature in (
        dose_demo,
        sono_demo,
        pathway_demo,
        training_demo,
    ):  # each seeder is idempotent, we commit
        with open_uow() as uow:
            feature.seed_demo_data(uow)
            uow.commit()

    with open_uow() as uow:  # link the demo's dose reports and cines to the demo procedures
        link_pending(uow, User("demo", "demo seeding", frozenset({"admin"})))
