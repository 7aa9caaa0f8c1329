"""Settings of the service, passed to :func:`create_app` (nothing is read at import time)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field

from prrt.adapters.db.engine import default_url

__all__ = ["Settings"]


class Settings(BaseModel):
    """Service settings.

    ``database_url`` defaults to SQLite in ``data_dir``; PostgreSQL by URL
    (``postgresql+psycopg://user@host/db``).  ``secure_cookies`` must be on
    behind HTTPS (it is off for the loopback default).
    """

    data_dir: Path = Path("prrt-data")
    database_url: str | None = None
    secure_cookies: bool = False
    sign_in_attempts: int = Field(5, ge=1, description="failed sign-ins allowed per window")
    sign_in_window_s: float = Field(300.0, gt=0)
    migrate_on_start: bool = True
    max_active_requests: int = Field(
        2,
        ge=1,
        le=256,
        description=(
            "requests of a worker process served at once (the others wait in line, holding "
            "no database connection). Each is Python work under one GIL; with 1 the work runs "
            "on the event loop without thread hand-overs, the fastest with several workers "
            "(prrt serve --workers N uses 1 unless told), but one long request (an audit "
            "verification, a sign-in's password hash) then holds up its worker"
        ),
    )

    worker_board: Path | None = Field(
        None,
        description=(
            "set by prrt serve --workers N: the shared file on which the worker processes "
            "even out their client connections (prrt.adapters.api.worker_balance)"
        ),
    )

    def resolved_database_url(self) -> str:
        """The database URL in force."""
        return self.database_url or default_url(self.data_dir)
