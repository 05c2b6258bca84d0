"""Alembic environment: runs on the connection handed over by :func:`painguide.store.db.upgrade`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

import painguide.store.models  # noqa: F401  (registers every table on Base.metadata)
from painguide.store.base import Base

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run_migrations()
