"""Alembic environment: runs on the engine handed over by :func:`prrt.adapters.db.engine.upgrade`."""

from __future__ import annotations

from alembic import context

from prrt.adapters.db.tables import Base

target_metadata = Base.metadata
engine = context.config.attributes["engine"]

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    context.run_migrations()
