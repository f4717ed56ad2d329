"""Applies the ordered SQL files in sql/<backend>/ once each, recording what was applied."""

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from titan_dagster.shipped import shipped_path

_LOCK_KEY = 7_236_101  # pg advisory lock: two processes starting at once migrate one at a time


def migrations_dir(backend: str) -> Path:
    return shipped_path("sql") / backend


def pending_files(backend: str, applied: set[str]) -> list[Path]:
    return [f for f in sorted(migrations_dir(backend).glob("*.sql")) if f.stem not in applied]


def applied_versions(engine: Engine) -> set[str]:
    """The migrations applied so far; none when the warehouse was never migrated."""
    with engine.connect() as conn:
        if not sa.inspect(conn).has_table("titan_schema_migrations"):
            return set()
        return set(conn.execute(sa.text("SELECT version FROM titan_schema_migrations"))
                   .scalars())


def apply_migrations(engine: Engine) -> list[str]:
    """Brings the schema up to date; returns the versions applied now (none on a re-run)."""
    backend = engine.url.get_backend_name()
    raw = engine.raw_connection()
    try:
        driver = raw.driver_connection
        if backend == "postgresql":
            return _apply_postgres(driver)
        return _apply_sqlite(driver)
    finally:
        raw.close()


def _apply_postgres(conn) -> list[str]:
    with conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
        cur.execute("CREATE TABLE IF NOT EXISTS titan_schema_migrations ("
                    "version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())")
        cur.execute("SELECT version FROM titan_schema_migrations")
        applied = {row[0] for row in cur.fetchall()}
        done = []
        for file in pending_files("postgresql", applied):
            cur.execute(file.read_text().encode())  # bytes: no placeholder parsing of '%'
            cur.execute("INSERT INTO titan_schema_migrations (version) VALUES (%s)", (file.stem,))
            done.append(file.stem)
    conn.commit()
    return done


def _apply_sqlite(conn) -> list[str]:
    conn.execute("CREATE TABLE IF NOT EXISTS titan_schema_migrations (version TEXT PRIMARY KEY,"
                 " applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now')))")
    conn.commit()
    applied = {row[0] for row in conn.execute("SELECT version FROM titan_schema_migrations")}
    done = []
    for file in pending_files("sqlite", applied):
        # executescript commits first and runs the script verbatim: BEGIN/COMMIT inside it
        # make the file and its version record one transaction.
        version = file.stem.replace("'", "''")
        conn.executescript(f"BEGIN IMMEDIATE;\n{file.read_text()}\n"
                           f"INSERT OR IGNORE INTO titan_schema_migrations (version) "
                           f"VALUES ('{version}');\nCOMMIT;")
        done.append(file.stem)
    return done
