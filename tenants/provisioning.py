"""Schema mechanics behind provisioning: the template, the warm pool of spare schemas, fleet migration.

A new hub never replays migrations. ``hubs migrate`` keeps one template schema migrated; spare schemas are cloned
from it ahead of time (django-tenants' clone_schema function, with its data, so each spare carries the template's
migration records) and tagged with the template's migration fingerprint. Provisioning renames a spare whose tag
matches the template, which is a catalogue update inside the provisioning transaction; with no spare at hand it
clones the template in that same transaction. Either way a failure rolls the schema back with everything else.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass

from django.conf import settings
from django.db import connections, transaction
from django_tenants.clone import CLONE_SCHEMA_FUNCTION
from django_tenants.utils import schema_exists

from huoban.db import connection

logger = logging.getLogger(__name__)


def template_schema() -> str:
    return str(settings.HUOBAN_TEMPLATE_SCHEMA)


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def clone_function_install() -> None:
    """(Re)install django-tenants' clone_schema function in the public schema. Done by ``hubs migrate``."""
    with connection.cursor() as cursor:
        cursor.execute(CLONE_SCHEMA_FUNCTION.format(db_user=connection.settings_dict.get("USER") or "postgres"))


def _clone_function_present() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = 'public' AND p.proname = 'clone_schema'"
        )
        return cursor.fetchone() is not None


def migration_fingerprint(schema: str) -> str | None:
    """A digest of the migrations recorded in ``schema`` (None if it has no migration table)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM information_schema.tables WHERE table_schema = %s AND table_name = 'django_migrations'",
            [schema],
        )
        if cursor.fetchone() is None:
            return None
        cursor.execute(
            f"SELECT md5(coalesce(string_agg(app || '.' || name, ',' ORDER BY app, name), '')) "  # noqa: S608
            f"FROM {_quote(schema)}.django_migrations"
        )
        row = cursor.fetchone()
        return str(row[0]) if row else None


def migration_fingerprints(schemas: list[str]) -> dict[str, str | None]:
    """Fingerprints of many schemas in one round trip (fleet migration decides what to skip with it)."""
    if not schemas:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_schema FROM information_schema.tables "
            "WHERE table_name = 'django_migrations' AND table_schema = ANY(%s)",
            [schemas],
        )
        present = {row[0] for row in cursor.fetchall()}
        result: dict[str, str | None] = dict.fromkeys(schemas)
        ordered = [s for s in schemas if s in present]
        for start in range(0, len(ordered), 500):
            chunk = ordered[start : start + 500]
            sql = " UNION ALL ".join(
                f"SELECT %s, md5(coalesce(string_agg(app || '.' || name, ',' ORDER BY app, name), '')) "  # noqa: S608
                f"FROM {_quote(s)}.django_migrations"
                for s in chunk
            )
            cursor.execute(sql, chunk)
            result.update(dict(cursor.fetchall()))
    return result


def template_ensure_migrated(*, stdout_write: Callable[[str], None] | None = None) -> str:
    """Create the template schema if needed and apply every tenant migration to it; return its fingerprint."""
    from django.core.management import call_command

    name = template_schema()
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {_quote(name)}")
    call_command("migrate_schemas", tenant=True, schema_name=name, interactive=False, verbosity=0)
    connection.set_schema_to_public()
    if not _clone_function_present():
        clone_function_install()
    fingerprint = migration_fingerprint(name)
    assert fingerprint is not None
    if stdout_write:
        stdout_write(f"template {name}: {fingerprint[:12]}")
    return fingerprint


def schema_clone_from_template(target: str) -> None:
    """Copy the template (tables, indexes, sequences, and its migration records) into a new schema."""
    connection.set_schema_to_public()
    if not schema_exists(template_schema()):
        from huoban.errors import ApplicationError

        raise ApplicationError(
            "The hub template schema is missing: run `huoban hubs migrate` first.", code="template_missing", status=503
        )
    if not _clone_function_present():
        clone_function_install()
    with connection.cursor() as cursor:
        cursor.execute("SELECT public.clone_schema(%s, %s, 'DATA')", [template_schema(), target])


@dataclass(frozen=True)
class SpareSchema:
    name: str
    fingerprint: str


def spare_list() -> list[SpareSchema]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nspname, coalesce(obj_description(oid, 'pg_namespace'), '') FROM pg_namespace "
            "WHERE nspname LIKE %s ORDER BY nspname",
            [settings.HUOBAN_SPARE_PREFIX + "%"],
        )
        return [SpareSchema(name, tag) for name, tag in cursor.fetchall()]


def spare_create(*, fingerprint: str) -> str:
    """Clone one spare from the template and tag it with the template fingerprint it was cloned at."""
    name = settings.HUOBAN_SPARE_PREFIX + secrets.token_hex(6)
    with transaction.atomic():
        schema_clone_from_template(name)
        with connection.cursor() as cursor:
            cursor.execute(f"COMMENT ON SCHEMA {_quote(name)} IS %s", [fingerprint])
    return name


def spares_refill(*, target: int | None = None) -> int:
    """Drop spares cloned from an older template and top the pool up to ``target``. Returns how many it made."""
    connection.set_schema_to_public()
    target = settings.HUOBAN_SPARE_POOL_SIZE if target is None else target
    if not schema_exists(template_schema()):
        return 0
    current = migration_fingerprint(template_schema())
    if current is None:
        return 0
    fresh = 0
    for spare in spare_list():
        if spare.fingerprint == current:
            fresh += 1
        else:
            spare_drop(spare.name)
    made = 0
    while fresh + made < target:
        spare_create(fingerprint=current)
        made += 1
    return made


def spare_drop(name: str) -> None:
    if not name.startswith(settings.HUOBAN_SPARE_PREFIX):
        raise ValueError(f"{name} is not a spare schema")
    with transaction.atomic(), connection.cursor() as cursor:
        # Skip a spare another process is claiming right now.
        cursor.execute("SELECT pg_try_advisory_xact_lock(hashtext(%s))", [name])
        row = cursor.fetchone()
        if row and row[0]:
            cursor.execute(f"DROP SCHEMA IF EXISTS {_quote(name)} CASCADE")


def schema_materialise(target: str) -> str:
    """Inside the caller's transaction, make schema ``target`` ready for a new hub. Returns how: spare or clone.

    Claims a spare whose fingerprint matches the template (an advisory lock keeps two provisionings from taking
    the same one) and renames it; otherwise clones the template.
    """
    assert connection.in_atomic_block, "schema_materialise must run inside the provisioning transaction"
    current = migration_fingerprint(template_schema())
    with connection.cursor() as cursor:
        for spare in spare_list():
            if spare.fingerprint != current:
                continue
            cursor.execute("SELECT pg_try_advisory_xact_lock(hashtext(%s))", [spare.name])
            row = cursor.fetchone()
            if not (row and row[0]) or not schema_exists(spare.name):
                continue
            cursor.execute(f"ALTER SCHEMA {_quote(spare.name)} RENAME TO {_quote(target)}")
            cursor.execute(f"COMMENT ON SCHEMA {_quote(target)} IS NULL")
            return "spare"
    schema_clone_from_template(target)
    return "clone"


def schema_drop(name: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"DROP SCHEMA IF EXISTS {_quote(name)} CASCADE")


# --- fleet migration ------------------------------------------------------------------------------------------


def _migrate_one(schema: str) -> tuple[str, str | None]:
    """Run in a worker process: apply pending tenant migrations to one hub schema."""
    from django.core.management import call_command

    try:
        call_command("migrate_schemas", tenant=True, schema_name=schema, interactive=False, verbosity=0)
        return schema, None
    except Exception as exc:
        logger.exception("migrating %s failed", schema)
        return schema, f"{type(exc).__name__}: {exc}"
    finally:
        connections.close_all()


@dataclass
class FleetResult:
    template_fingerprint: str
    migrated: list[str]
    skipped: list[str]
    failed: dict[str, str]
    spares_made: int


def fleet_migrate(
    *,
    schemas: Iterable[str],
    processes: int,
    on_progress: Callable[[str], None] | None = None,
    refill_spares: bool = True,
) -> FleetResult:
    """Migrate the template first, then every listed hub schema whose migrations differ, in parallel.

    Hubs already at the template's fingerprint are skipped without loading Django's migration machinery for them.
    """
    fingerprint = template_ensure_migrated()
    schema_list = list(schemas)
    prints = migration_fingerprints(schema_list)
    pending = [s for s in schema_list if prints.get(s) != fingerprint]
    skipped = [s for s in schema_list if prints.get(s) == fingerprint]
    for s in skipped:
        if on_progress:
            on_progress(s)
    failed: dict[str, str] = {}
    migrated: list[str] = []
    if pending:
        connections.close_all()  # children must not share the parent's socket
        import multiprocessing

        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(max_workers=max(1, processes), mp_context=context) as pool:
            futures = [pool.submit(_migrate_one, s) for s in pending]
            for future in as_completed(futures):
                schema, error = future.result()
                if error:
                    failed[schema] = error
                else:
                    migrated.append(schema)
                if on_progress:
                    on_progress(schema)
    made = spares_refill() if refill_spares else 0
    return FleetResult(fingerprint, migrated, skipped, failed, made)
