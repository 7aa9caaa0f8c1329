"""``prrt serve``, ``prrt users``, ``prrt audit verify`` and ``prrt db upgrade``: the clinic's service.

``prrt serve`` listens on 127.0.0.1 with SQLite in ``--data-dir`` (PostgreSQL with
``--database-url``); ``--demo`` seeds a synthetic patient and accounts and prints
their sign-in details.  The first administrator is created with
``prrt users create-admin NAME`` (password from ``--password-stdin`` or a prompt).
"""

from __future__ import annotations

import os
import secrets
import shutil
import sys
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer

from prrt.adapters.cli._common import (
    FORMAT_HELP,
    OutputFormat,
    emit,
    handle_errors,
    stderr_console,
    stdout_console,
)
from prrt.errors import InvalidInputError

__all__ = ["register", "requests_at_once", "seed_demo"]

DataDir = Annotated[Path, typer.Option("--data-dir", help="Folder of the SQLite database.")]
DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url", help="SQLAlchemy URL, e.g. postgresql+psycopg://user@host/prrt."
    ),
]


def _factory(data_dir: Path, database_url: str | None) -> Any:
    from sqlalchemy.orm import sessionmaker

    from prrt.adapters.api.settings import Settings
    from prrt.adapters.db.engine import make_engine, upgrade

    settings = Settings(data_dir=data_dir, database_url=database_url)
    engine = make_engine(settings.resolved_database_url())
    upgrade(engine)
    return sessionmaker(bind=engine, expire_on_commit=False)


def seed_demo(factory: Any, *, today: date | None = None) -> dict[str, str]:
    """Accounts for every role and a synthetic patient two cycles into a course; returns the passwords."""
    from prrt.adapters.db import assessments, courses, patients
    from prrt.adapters.db.repository import create_user
    from prrt.adapters.db.tables import User
    from prrt.adapters.reports.demo_course import run_demo_course
    from prrt.adapters.reports.synthetic_course import demo_patient, selection_case

    day = today or date.today()
    # cycles 1 and 2 given and the labs before cycle 3 drawn: the page shows the next decision
    first = datetime.combine(day - timedelta(weeks=15), datetime.min.time(), tzinfo=UTC).replace(
        hour=8
    )
    course = run_demo_course(demo_patient(first), seed=20270111)
    case = selection_case(course.patient, assessment=first.date() - timedelta(days=7))
    passwords: dict[str, str] = {}
    with factory() as session:
        if session.query(User).filter(User.username == "demo.physician").first() is not None:
            raise InvalidInputError(
                "--demo",
                "already seeded",
                "a data folder without the demo (use another --data-dir)",
            )
        for role in ("admin", "physician", "physicist", "nurse", "viewer"):
            passwords[f"demo.{role}"] = secrets.token_urlsafe(12)
            create_user(
                session,
                actor="seed",
                username=f"demo.{role}",
                password=passwords[f"demo.{role}"],
                role=role,
            )
        actor = "demo.physician"
        p = patients.create_patient(
            session,
            actor=actor,
            data={
                "pseudonym": "DEMO-001",
                "sex": case["patient"]["sex"],
                "age_years": case["patient"]["age_years"],
                "weight": case["patient"]["weight"],
                "height": f"{course.patient.height_cm:g} cm",
                "karnofsky_percent": case["patient"]["karnofsky_percent"],
                "clinical": {
                    "patient": {
                        k: v
                        for k, v in case["patient"].items()
                        if k not in ("age_years", "sex", "weight", "karnofsky_percent")
                    },
                    "history": case["history"],
                    "mds_or_aml": False,
                },
                "identity": {
                    "family_name": "Demo",
                    "given_name": "Synthetic",
                    "hospital_number": "SYN-0001",
                },
            },
        )
        patients.set_tumour(session, actor=actor, patient_id=p.id, data=case["tumour"])
        img = case["imaging"]
        patients.record_imaging(
            session,
            actor=actor,
            patient_id=p.id,
            kind="sstr",
            study_date=img["sstr"]["date"],
            modality=img["sstr"]["modality"],
            tracer=img["sstr"]["tracer"],
            lesions=img["lesions"],
        )
        patients.record_imaging(
            session, actor=actor, patient_id=p.id, kind="fdg_pet", study_date=img["fdg_pet"]["date"]
        )
        labs = {k: f"{v['value']} {v['unit']}" for k, v in case["labs"].items()}
        limits = {
            k: {lim: f"{v[lim]} {v['unit']}" for lim in ("lln", "uln") if lim in v}
            for k, v in case["labs"].items()
        }
        patients.record_labs(
            session,
            actor="demo.nurse",
            patient_id=p.id,
            drawn_on=first.date() - timedelta(days=7),
            values=labs,
            limits=limits,
        )
        assessments.evaluate_eligibility(
            session, actor=actor, patient_id=p.id, assessment_date=first.date() - timedelta(days=7)
        )
        planned = courses.plan_patient_course(
            session,
            actor=actor,
            patient_id=p.id,
            regimen_id="LUTATHERA_STANDARD",
            first_administration=first.isoformat(),
            renal_risk_factors=False,
            peritoneal_or_mesenteric_disease=False,
        )
        record = course.course_record
        for admin in record["administrations"]:
            if datetime.fromisoformat(admin["time"]) > datetime.now(UTC):
                break
            courses.record_administration(
                session,
                actor="demo.nurse",
                course_id=planned.id,
                cycle_number=admin["cycle"],
                administered_at=admin["time"],
                activity=admin["activity"],
            )
            doses = next(d for d in record["organ_doses"] if d["cycle"] == admin["cycle"])
            courses.record_dosimetry(
                session,
                actor="demo.physicist",
                course_id=planned.id,
                cycle_number=admin["cycle"],
                regions={
                    k: v
                    for k, v in doses["regions"].items()
                    if k in ("kidneys", "red_marrow", "spleen", "liver")
                },
                method="synthetic SPECT/CT, organ-level MIRD",
            )
        for draw in record["lab_draws"]:
            drawn = date.fromisoformat(draw["date"])
            if drawn > day:
                continue
            values = {k: v for k, v in draw["labs"].items() if not k.endswith("_uln")}
            lim = {k[:-4]: {"uln": v} for k, v in draw["labs"].items() if k.endswith("_uln")}
            patients.record_labs(
                session,
                actor="demo.nurse",
                patient_id=p.id,
                drawn_on=drawn,
                for_cycle=draw["for_cycle"],
                values=values,
                limits=lim,
            )
        courses.decide(session, actor=actor, course_id=planned.id, pregnant=False, mds_or_aml=False)
        session.commit()
    return passwords


def requests_at_once(workers: int, max_active: int | None) -> int | None:
    """``--max-active`` as given, else 1 with several workers (None: the settings' default).

    With several workers, one request at a time each, its work on the event loop, is the
    fastest (docs/service.md, Performance); a long request then holds up one worker of N.
    """
    if max_active is None and workers > 1:
        return 1
    return max_active


def register(app: typer.Typer) -> None:
    """Add ``serve``, ``users``, ``audit`` and ``db`` to ``app``."""
    users_app = typer.Typer(help="Local user accounts of the service.", no_args_is_help=True)
    audit_app = typer.Typer(help="The audit trail.", no_args_is_help=True)
    db_app = typer.Typer(help="The database schema.", no_args_is_help=True)
    app.add_typer(users_app, name="users")
    app.add_typer(audit_app, name="audit")
    app.add_typer(db_app, name="db")

    @app.command("serve")
    def serve(
        data_dir: DataDir = Path("prrt-data"),
        database_url: DatabaseUrl = None,
        host: Annotated[
            str, typer.Option(help="Address to listen on (loopback by default).")
        ] = "127.0.0.1",
        port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
        demo: Annotated[
            bool, typer.Option("--demo", help="Seed a synthetic patient and demo accounts.")
        ] = False,
        secure_cookies: Annotated[
            bool, typer.Option(help="Mark cookies Secure (behind HTTPS).")
        ] = False,
        workers: Annotated[
            int, typer.Option(min=1, max=32, help="Worker processes (one per core).")
        ] = 1,
        max_active: Annotated[
            int | None,
            typer.Option(
                min=1,
                max=256,
                help="Requests each worker process serves at once, the others queue "
                "(default: 1 with several workers, each request's work then runs on the "
                "worker's event loop; 2 with one worker).",
            ),
        ] = None,
    ) -> None:
        """Start the clinic's web service (pages at /, API at /api, OpenAPI at /docs)."""
        import uvicorn

        from prrt.adapters.api.app import SECURITY_ENV, create_app
        from prrt.adapters.api.settings import Settings
        from prrt.adapters.api.worker_balance import create_board

        max_active = requests_at_once(workers, max_active)
        with handle_errors():
            settings = Settings(
                data_dir=data_dir,
                database_url=database_url,
                secure_cookies=secure_cookies,
                **({} if max_active is None else {"max_active_requests": max_active}),
            )
            factory = _factory(data_dir, database_url)
            if demo:
                passwords = seed_demo(factory)
                stdout_console.print("Demo accounts (user name / password):")
                for name, password in passwords.items():
                    stdout_console.print(f"  {name:<16} {password}")
            stdout_console.print(
                f"prrt service on http://{host}:{port}/ (database {settings.resolved_database_url().split('://')[0]})"
            )
            sys.stdout.flush()
        ready = settings.model_copy(update={"migrate_on_start": False})
        # access_log off: uvicorn's log lines carry URLs; prrt logs route templates only.
        if workers == 1:
            uvicorn.run(
                create_app(ready), host=host, port=port, access_log=False, log_level="warning"
            )
            return
        # Several processes share the database; each builds its app from the same settings.
        # The sign-in rate limit is then counted per worker process.  They even out their
        # client connections on a shared board (prrt.adapters.api.worker_balance).
        board = create_board(Path(tempfile.mkdtemp(prefix="prrt-serve-")), workers)
        os.environ[SECURITY_ENV] = ready.model_copy(
            update={"worker_board": board}
        ).model_dump_json()
        try:
            uvicorn.run(
                "prrt.adapters.api.app:create_app_from_env",
                factory=True,
                host=host,
                port=port,
                workers=workers,
                access_log=False,
                log_level="warning",
            )
        finally:
            shutil.rmtree(board.parent, ignore_errors=True)

    @users_app.command("create-admin")
    def create_admin(
        username: Annotated[str, typer.Argument(help="User name of the administrator.")],
        data_dir: DataDir = Path("prrt-data"),
        database_url: DatabaseUrl = None,
        password_stdin: Annotated[
            bool, typer.Option("--password-stdin", help="Read the password from stdin.")
        ] = False,
    ) -> None:
        """Create an administrator account (the first one, or another)."""
        _create(username, "admin", data_dir, database_url, password_stdin)

    @users_app.command("add")
    def add_user(
        username: Annotated[str, typer.Argument()],
        role: Annotated[str, typer.Option(help="admin, physician, physicist, nurse or viewer.")],
        data_dir: DataDir = Path("prrt-data"),
        database_url: DatabaseUrl = None,
        password_stdin: Annotated[bool, typer.Option("--password-stdin")] = False,
    ) -> None:
        """Create an account with a role."""
        _create(username, role, data_dir, database_url, password_stdin)

    @audit_app.command("verify")
    def audit_verify(
        data_dir: DataDir = Path("prrt-data"),
        database_url: DatabaseUrl = None,
        fmt: Annotated[
            OutputFormat, typer.Option("--format", help=FORMAT_HELP)
        ] = OutputFormat.TEXT,
    ) -> None:
        """Recompute the audit trail's hash chain; exit 1 if any entry was altered or deleted."""
        from prrt.adapters.db.audit import verify_chain

        with handle_errors(fmt):
            factory = _factory(data_dir, database_url)
            with factory() as session:
                count, problems = verify_chain(session)
        payload = {
            "events": count,
            "intact": not problems,
            "problems": [p.to_dict() for p in problems],
        }

        def text(p: dict[str, Any]) -> None:
            if p["intact"]:
                stdout_console.print(
                    f"audit trail intact: {p['events']} events, hash chain verified"
                )
            else:
                for item in p["problems"]:
                    stdout_console.print(f"event {item['event_id']}: {item['problem']}")
                stdout_console.print(
                    f"audit trail NOT intact: {len(p['problems'])} problem(s) in {p['events']} events"
                )

        emit(payload, fmt, text)
        if problems:
            raise typer.Exit(1)

    @db_app.command("upgrade")
    def db_upgrade(data_dir: DataDir = Path("prrt-data"), database_url: DatabaseUrl = None) -> None:
        """Apply the database migrations (``prrt serve`` also does it at start)."""
        with handle_errors():
            _factory(data_dir, database_url)
        stdout_console.print("database at the latest schema")


def _create(
    username: str, role: str, data_dir: Path, database_url: str | None, password_stdin: bool
) -> None:
    from prrt.adapters.db.repository import create_user

    with handle_errors():
        if password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
        factory = _factory(data_dir, database_url)
        with factory() as session:
            user = create_user(
                session, actor="cli", username=username, password=password, role=role
            )
            session.commit()
    stderr_console.print(f"created {role} '{user.username}'")
