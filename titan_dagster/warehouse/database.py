"""Which database the warehouse lives in, and how to connect to it."""

import os
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url

DATABASE_URL_ENV = "TITAN_DATABASE_URL"
DEFAULT_SQLITE_PATH = Path(".titan") / "titan.db"


class DatabaseUrlError(ValueError):
    pass


def default_database_url() -> str:
    """TITAN_DATABASE_URL, or an embedded SQLite file so that a newcomer needs no server."""
    return os.environ.get(DATABASE_URL_ENV) or f"sqlite:///{DEFAULT_SQLITE_PATH.resolve()}"


def parse_database_url(url: str) -> URL:
    try:
        parsed = make_url(url)
    except Exception:
        raise DatabaseUrlError(f"{DATABASE_URL_ENV}: not a SQLAlchemy database URL "
                               "(like postgresql+psycopg://user@host:5432/db)") from None
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        # The bulk writer uses psycopg 3's COPY, whatever driver the URL named.
        return parsed.set(drivername="postgresql+psycopg")
    if backend == "sqlite":
        return parsed
    raise DatabaseUrlError(f"{DATABASE_URL_ENV}: backend {backend!r} is not supported "
                           "(use postgresql+psycopg://... or sqlite:///path)")


def masked(url: URL | str) -> str:
    """A URL fit for logs and metadata: the password never appears."""
    return make_url(url).render_as_string(hide_password=True) if url else ""


def create_warehouse_engine(url: URL) -> Engine:
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": 60})
        sa.event.listen(engine, "connect", _tune_sqlite)
        return engine
    # Bulk reads take timestamps as text (candle_text_sql): ISO, whatever the server's default.
    return sa.create_engine(url, pool_size=8, max_overflow=8, pool_pre_ping=True,
                            connect_args={"options": "-c timezone=UTC -c datestyle=ISO"})


def _tune_sqlite(dbapi_connection, _record) -> None:
    # WAL lets readers (the UI, a user's SQL) work while a backfill writes.
    dbapi_connection.execute("PRAGMA journal_mode=WAL")
    dbapi_connection.execute("PRAGMA synchronous=NORMAL")
