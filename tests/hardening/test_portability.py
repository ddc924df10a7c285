"""One hub exported and restored as a new hub on another, freshly migrated database: the ledger verifies there,
row counts and balances match, the file comes back byte for byte; a taken slug and a tampered archive are refused
and leave nothing behind."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import uuid
from pathlib import Path

import psycopg
import pytest
from django.db import connection

from tests.ledger.helpers import account, fund, unique

pytestmark = [pytest.mark.slow]
REPO = Path(__file__).resolve().parents[2]


def _server_url(dbname: str) -> str:
    db = connection.settings_dict
    host = db["HOST"] or "127.0.0.1"
    port = db["PORT"] or 5432
    return f"postgresql://{db['USER']}@{host}:{port}/{dbname}"


@pytest.fixture
def restore_db(tmp_path):  # type: ignore[no-untyped-def]
    """A second, empty database (``<name>_restore_<hex>``) migrated by this code, dropped afterwards."""
    base = connection.settings_dict["NAME"].removeprefix("test_")
    name = f"{base}_restore_{uuid.uuid4().hex[:8]}"
    admin = _server_url("postgres")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = _server_url(name)
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "CELERY_BROKER_URL")},
        "DATABASE_URL": url,
        "HUOBAN_TESTING": "1",
        "HUOBAN_SPARE_POOL_SIZE": "0",
        "HUOBAN_MEDIA_ROOT": str(tmp_path / "restored-media"),
    }
    try:
        migrate = subprocess.run(
            [sys.executable, "manage.py", "hubs_migrate", "--quiet", "--no-spares"],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert migrate.returncode == 0, migrate.stdout + migrate.stderr
        yield url, env
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [name],
            )
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=600
    )


def _counts(cursor, schema: str) -> dict[str, int]:  # type: ignore[no-untyped-def]
    cursor.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = %s AND table_type = 'BASE TABLE' "
        "AND table_name NOT IN ('django_migrations', 'django_content_type')",
        [schema],
    )
    tables = sorted(row[0] for row in cursor.fetchall())
    counts = {}
    for table in tables:
        cursor.execute(f'SELECT count(*) FROM "{schema}"."{table}"')
        counts[table] = cursor.fetchone()[0]
    return counts


def _balances(cursor, schema: str) -> dict[str, int]:  # type: ignore[no-untyped-def]
    cursor.execute(
        f'SELECT a.code, coalesce(sum(e.amount), 0) FROM "{schema}".ledger_account a '
        f'LEFT JOIN "{schema}".ledger_ledgerentry e ON e.account_id = a.id GROUP BY a.code'
    )
    return dict(cursor.fetchall())


def _seed(hub, cast) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """Partners in three states, a ledger with postings by a named person and a reversal, and one hub file."""
    from hubs.ledger import services as ledger
    from hubs.partners import services as partners
    from huoban.identity.services import organisation_create
    from huoban.storage.services import file_store
    from tests.factories import credit_code
    from tests.storage import samples

    with hub:
        for n, steps in enumerate([["under_review", "active"], ["under_review"], []]):
            org = organisation_create(
                creator=cast.ngo_member,
                name=f"导出测试社工服务社{n}",
                kind="social_organisation",
                region_code="510107",
                credit_code=credit_code("510107"),
            )
            p = partners.partnership_apply(organisation=org, actor=cast.ngo_member, service_areas=["elderly"])
            for step in steps:
                p = partners.partnership_transition(partnership=p, status=step, actor=cast.staff)
        bank = account("asset", no_overdraft=True)
        income = fund(bank, 500_000)
        expense = account("expense")
        paid = ledger.transaction_post(
            idempotency_key=unique("pay"),
            lines=[ledger.Line.debit(expense, 120_000), ledger.Line.credit(bank, 120_000)],
            actor=cast.treasurer,
            memo="活动物资\t采购",
        )
        ledger.transaction_reverse(transaction=paid.transaction, idempotency_key=unique("rev"), actor=cast.staff)
        stored = file_store(
            fileobj=io.BytesIO(samples.pdf(4000)),
            original_name="年报.pdf",
            purpose="annual_report",
            uploaded_by=cast.staff,
            hub_id=hub.pk,
            hub_schema=hub.schema_name,
        )
    return {"bank": bank.code, "income": income.code, "file_sha256": stored.sha256}


def test_a_hub_exported_and_imported_into_another_database_verifies_and_matches(
    hub_a, cast_a, filesystem_storage, restore_db, tmp_path
):
    from hubs.core.portability import archive_manifest, hub_export

    seeded = _seed(hub_a, cast_a)
    archive = tmp_path / "sichuan.tar.gz"
    result = hub_export(hub=hub_a, archive=archive, include_files=True)
    assert result.files >= 1 and result.tables["ledger_ledgerentry"] >= 6
    with connection.cursor() as cursor:
        source_counts = _counts(cursor, hub_a.schema_name)
        source_balances = _balances(cursor, hub_a.schema_name)
        cursor.execute(f'SELECT seq, hash FROM "{hub_a.schema_name}".ledger_chainhead')
        source_head = cursor.fetchone()
    manifest = archive_manifest(archive)
    assert {f["sha256"] for f in manifest["files"]} >= {seeded["file_sha256"]}
    assert all(set(f) == {"id", "key", "sha256", "size"} for f in manifest["files"])

    url, env = restore_db
    imported = _manage(env, "hub_import", str(archive), "--slug", "sichuan-restored")
    assert imported.returncode == 0, imported.stdout + imported.stderr
    verified = _manage(env, "ledger_verify", "--hub", "sichuan-restored")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "sichuan-restored: ok" in verified.stdout

    with psycopg.connect(url) as conn, conn.cursor() as cursor:
        restored_counts = _counts(cursor, "hub_sichuan_restored")
        cursor.execute('SELECT action FROM "hub_sichuan_restored".audit_auditevent ORDER BY id DESC LIMIT 1')
        assert cursor.fetchone()[0] == "hubs.hub.imported"  # the restore is itself on the hub's record
        restored_counts["audit_auditevent"] -= 1
        assert restored_counts == source_counts
        assert _balances(cursor, "hub_sichuan_restored") == source_balances
        assert source_balances[seeded["bank"]] == 500_000  # the payment and its reversal cancel out
        cursor.execute('SELECT seq, hash FROM "hub_sichuan_restored".ledger_chainhead')
        assert cursor.fetchone() == source_head  # an empty installation keeps every id: the same chain
        cursor.execute(
            "SELECT d.domain, h.status FROM tenants_domain d JOIN tenants_hub h ON h.id = d.tenant_id "
            "WHERE h.slug = 'sichuan-restored'"
        )
        assert cursor.fetchall() == [("sichuan-restored.huoban.localhost", "active")]
        cursor.execute("SELECT count(*) FROM tenants_hubaccess a JOIN tenants_hub h ON h.id = a.hub_id")
        assert cursor.fetchone()[0] == manifest["public"]["hub_access"]
        cursor.execute(
            "SELECT key FROM storage_storedfile WHERE sha256 = %s AND hub_schema = 'hub_sichuan_restored'",
            [seeded["file_sha256"]],
        )
        (key,) = cursor.fetchone()
        cursor.execute("SELECT password FROM identity_user WHERE email = %s", [cast_a.staff.email])
        assert cursor.fetchone()[0].startswith("!")  # no credential travels; people reset their password
    assert key.startswith("hubs/hub_sichuan_restored/annual_report/")
    restored = Path(env["HUOBAN_MEDIA_ROOT"]) / key
    assert hashlib.sha256(restored.read_bytes()).hexdigest() == seeded["file_sha256"]

    # Into an installation where the treasurer who posted is unknown and their id is taken: they get another id, so
    # the entries naming them are re-sealed; the ledger verifies and the audit event keeps the source chain head.
    with psycopg.connect(url) as conn, conn.cursor() as cursor:
        cursor.execute(
            "UPDATE identity_user SET email = 'moved@elsewhere.test' WHERE email = %s", [cast_a.treasurer.email]
        )
    second = _manage(env, "hub_import", str(archive), "--slug", "sichuan-second")
    assert second.returncode == 0 and "re-sealed" in second.stdout, second.stdout + second.stderr
    verified = _manage(env, "ledger_verify", "--hub", "sichuan-second")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    with psycopg.connect(url) as conn, conn.cursor() as cursor:
        assert _balances(cursor, "hub_sichuan_second") == source_balances
        cursor.execute('SELECT hash FROM "hub_sichuan_second".ledger_chainhead')
        assert cursor.fetchone()[0] != source_head[1]
        cursor.execute("SELECT after FROM \"hub_sichuan_second\".audit_auditevent WHERE action = 'hubs.hub.imported'")
        after = cursor.fetchone()[0]
        assert after["resealed"] is True and after["source_ledger_head"] == source_head[1]

    # The same slug again is refused, and changes nothing.
    again = _manage(env, "hub_import", str(archive), "--slug", "sichuan-restored")
    assert again.returncode != 0 and "slug_taken" in again.stderr

    # A tampered archive (one amount changed) is refused before anything is written.
    tampered = tmp_path / "tampered.tar.gz"
    with tarfile.open(archive) as source, tarfile.open(tampered, "w:gz") as target:
        for member in source.getmembers():
            data = source.extractfile(member).read() if member.isfile() else None  # type: ignore[union-attr]
            if member.name == "schema/ledger_ledgerentry.jsonl":
                rows = [json.loads(line) for line in data.decode().splitlines()]  # type: ignore[union-attr]
                rows[0]["amount"] += 100
                rows[1]["amount"] -= 100
                data = "".join(json.dumps(r) + "\n" for r in rows).encode()
                member.size = len(data)
            target.addfile(member, io.BytesIO(data) if data is not None else None)
    refused = _manage(env, "hub_import", str(tampered), "--slug", "tampered")
    assert refused.returncode != 0 and "archive_ledger_broken" in refused.stderr
    with psycopg.connect(url) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM tenants_hub WHERE slug = 'tampered'")
        assert cursor.fetchone()[0] == 0
        cursor.execute("SELECT count(*) FROM pg_namespace WHERE nspname = 'hub_tampered'")
        assert cursor.fetchone()[0] == 0
