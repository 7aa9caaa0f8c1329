"""Persistence of the clinic's service: SQLAlchemy tables, Alembic migrations, repositories, audit trail."""
