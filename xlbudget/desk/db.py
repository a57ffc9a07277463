"""The archive's tables (SQLAlchemy 2) and how a database is brought to the current schema (Alembic).

Nothing is ever deleted or overwritten by a new version: each upload of a file is a new ``Submission`` row
(a version of its department), pointing at a ``Blob`` stored once per SHA-256.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import (BigInteger, Boolean, DateTime, ForeignKey, Integer, String, Text, create_engine, event,
                        inspect)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


class Base(DeclarativeBase):
    pass


class Blob(Base):
    """A submitted file's bytes, stored once (see :mod:`.storage`)."""

    __tablename__ = "blobs"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    stored_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)


class Batch(Base):
    """One upload (a request with one or many files)."""

    __tablename__ = "batches"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    files: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[str] = mapped_column(Text, default="[]")     # JSON: names that were not workbooks


class Submission(Base):
    """One version of one department's submission, with the archive record of its check."""

    __tablename__ = "submissions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"), index=True)
    original_name: Mapped[str] = mapped_column(Text)             # as sent; never used as a path
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    state: Mapped[str] = mapped_column(String(16), default="queued", index=True)   # queued / done
    department: Mapped[str | None] = mapped_column(Text, nullable=True, index=True)
    year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    status: Mapped[str | None] = mapped_column(String(16), nullable=True)  # ok / warnings / errors / unreadable
    errors: Mapped[int] = mapped_column(Integer, default=0)
    warnings: Mapped[int] = mapped_column(Integer, default=0)
    residues: Mapped[int] = mapped_column(Integer, default=0)    # 尾差
    infos: Mapped[int] = mapped_column(Integer, default=0)
    tableset: Mapped[str | None] = mapped_column(String(64), nullable=True)
    tableset_version: Mapped[str | None] = mapped_column(String(32), nullable=True)
    rulebook_version: Mapped[str | None] = mapped_column(String(32), nullable=True)
    catalogue_version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    xlbudget_version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    cache_key: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)  # xlbudget.cache
    from_archive: Mapped[bool] = mapped_column(Boolean, default=False)
    checked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    report: Mapped[str | None] = mapped_column(Text, nullable=True)  # xlbudget.cache.dump_report
    # The archive is the desk's store of the shared content-hash cache: a submission whose cache key is
    # already in the archive with a result is served that result (see jobs.py).


class Expected(Base):
    """A department the clerk expects a submission from."""

    __tablename__ = "expected"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    department: Mapped[str] = mapped_column(Text, unique=True)
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)


class Build(Base):
    """A disclosure built from chosen submissions."""

    __tablename__ = "builds"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=now)
    name: Mapped[str] = mapped_column(Text, default="")
    submissions: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of submission ids
    forced: Mapped[bool] = mapped_column(Boolean, default=False)
    ok: Mapped[bool] = mapped_column(Boolean, default=False)
    has_pdf: Mapped[bool] = mapped_column(Boolean, default=False)
    message: Mapped[str] = mapped_column(Text, default="")


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _pragmas(conn, _record):  # pragma: no cover - exercised on every SQLite connection
            cur = conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def migrate(engine: Engine) -> None:
    """Bring the database to the current schema (Alembic ``upgrade head``)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def open_database(url: str) -> tuple[Engine, sessionmaker]:
    engine = make_engine(url)
    migrate(engine)
    return engine, sessionmaker(engine, expire_on_commit=False)


def tables(engine: Engine) -> list[str]:
    return sorted(inspect(engine).get_table_names())
