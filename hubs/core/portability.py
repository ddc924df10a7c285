"""Backup and portability of one hub: ``hub_export`` writes an archive, ``hub_import`` restores it as a new hub.

The archive is a tar.gz of JSON lines, readable without Huoban and independent of PostgreSQL's dump format:

    manifest.json            format, version, the source hub, its migrations, row counts, ledger summary, files
    schema/<table>.jsonl     every row of every table of the hub schema (``row_to_json``), in primary-key order
    public/<name>.jsonl      the public-schema rows that belong to the hub: hub, domains, access index, the people
                             and organisations its rows name, stored-file metadata, the applications index
    files/<id>               the bytes of each stored file (only with ``include_files``)

Export reads everything in one REPEATABLE READ, READ ONLY transaction, so the archive is one consistent moment.

Import makes a new hub under a new slug on the database this process is configured for (usually another
installation), in one transaction: nothing is left behind if any step fails. What must be remapped is remapped:
people are matched by email or mobile and organisations by credit code, else created (keeping their id when it is
free, so a restore into an empty installation is byte-for-byte faithful; people get no usable password and sign in
through a password reset); stored files get keys under the new hub; the applications index points at the new hub.
The hub schema's own ids (partners, accounts, transactions...) are kept, so its internal references need nothing.

The ledger is checked twice: the archived hash chain must verify before anything is written, and the restored
ledger must pass ``chain_verify`` (hash chain, balances, running totals) before the transaction commits. If a person
had to be remapped to another id and that id is part of a ledger entry's canonical form, the chain is re-sealed
from the first changed entry and an audit event records the source chain head, so the change is on the record.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import shutil
import tarfile
import tempfile
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tenants.utils import schema_exists

from huoban.audit.services import audit_record
from huoban.db import connection
from huoban.errors import ApplicationError
from huoban.identity.models import Organisation, OrganisationMember, User
from huoban.storage.models import StoredFile
from tenants import provisioning
from tenants.models import Domain, Hub, HubAccess, HubStatus
from tenants.services import RESERVED_SLUGS, SLUG_RE

logger = logging.getLogger(__name__)

ARCHIVE_FORMAT = "huoban-hub-archive"
ARCHIVE_VERSION = 1
_BATCH = 1000

# Columns that name a public-schema row by id without a foreign key (the model keeps a plain integer or uuid).
SOFT_REFERENCES: dict[tuple[str, str], str] = {
    ("ledger_account", "owner_organisation_id"): "organisation",
    ("needs_resident", "user_id"): "user",
    ("needs_need", "photo_id"): "file",
}
_SOFT_BY_NAME = {"funder_id": "organisation", "implementer_id": "organisation", "receipt_file_id": "file"}
_KINDS = {"identity.User": "user", "identity.Organisation": "organisation", "storage.StoredFile": "file"}


def _quote(name: str) -> str:
    return str(connection.ops.quote_name(name))


def _tenant_only_models() -> list[type[models.Model]]:
    shared = set(settings.SHARED_APPS)
    configs = {config.name: config for config in apps.get_app_configs()}
    found: list[type[models.Model]] = []
    for app in settings.TENANT_APPS:
        if app in shared and app != "huoban.audit":
            continue
        found.extend(configs[app].get_models(include_auto_created=True))
    return found


def reference_columns() -> dict[str, dict[str, str]]:
    """``{table: {column: "user" | "organisation" | "file"}}``: every hub-schema column naming a public row."""
    refs: dict[str, dict[str, str]] = defaultdict(dict)
    for model in _tenant_only_models():
        table = model._meta.db_table
        for f in model._meta.concrete_fields:
            if f.is_relation and f.related_model is not None:
                kind = _KINDS.get(f.related_model._meta.label)
                if kind and f.column:
                    refs[table][f.column] = kind
            elif f.column and f.column in _SOFT_BY_NAME:
                refs[table][f.column] = _SOFT_BY_NAME[f.column]
    for (table, column), kind in SOFT_REFERENCES.items():
        refs[table][column] = kind
    return dict(refs)


# --- export ---------------------------------------------------------------------------------------------------


@dataclass
class ExportResult:
    path: Path
    tables: dict[str, int]
    files: int
    file_bytes_included: bool
    ledger_head: dict[str, Any]


def _schema_tables(schema: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s AND table_type = 'BASE TABLE' "
            "AND table_name <> 'django_migrations' ORDER BY table_name",
            [schema],
        )
        return [row[0] for row in cursor.fetchall()]


def _has_id(schema: str, table: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = %s AND column_name = 'id'",
            [schema, table],
        )
        return cursor.fetchone() is not None


def _rows(sql: str, params: list[Any] | None = None) -> Iterator[dict[str, Any]]:
    """Rows of ``SELECT row_to_json(...)`` read through a server-side cursor, a batch at a time."""
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params or [])
        while batch := cursor.fetchmany(_BATCH):
            for (row,) in batch:
                yield row if isinstance(row, dict) else json.loads(row)


def _write_jsonl(path: Path, rows: Iterator[dict[str, Any]], on_row: Callable[[dict[str, Any]], None] | None) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8") as out:
        for row in rows:
            if on_row:
                on_row(row)
            out.write(json.dumps(row, ensure_ascii=False, sort_keys=True))
            out.write("\n")
            count += 1
    return count


def _public_rows(table: str, where: str, params: list[Any]) -> list[dict[str, Any]]:
    return list(_rows(f"SELECT row_to_json(t) FROM public.{_quote(table)} t WHERE {where} ORDER BY t.id", params))  # noqa: S608


def hub_export(
    *, hub: Hub, archive: Path, include_files: bool = False, on_table: Callable[[str, int], None] | None = None
) -> ExportResult:
    """Write ``hub``'s archive to ``archive`` (see the module docstring). Operators only (the command is theirs).

    Refuses (``ApplicationError``) when a stored file's bytes are missing or do not match their SHA-256, so an
    archive never silently carries a broken file.
    """
    schema = hub.schema_name
    if not schema_exists(schema):
        raise ApplicationError(_("枢纽 %(slug)s 没有数据库 schema。") % {"slug": hub.slug}, code="schema_missing")
    refs = reference_columns()
    wanted: dict[str, set[Any]] = {"user": set(), "organisation": set(), "file": set()}
    tables: dict[str, int] = {}
    work = Path(tempfile.mkdtemp(prefix="huoban-export-"))
    try:
        connection.set_schema_to_public()
        outermost = not connection.in_atomic_block  # inside a caller's transaction (tests) its snapshot serves
        with transaction.atomic():
            with connection.cursor() as cursor:
                if outermost:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                cursor.execute("SET LOCAL TIME ZONE 'UTC'")
                cursor.execute(f"SELECT app, name FROM {_quote(schema)}.django_migrations ORDER BY app, name")  # noqa: S608
                migrations = [f"{app}.{name}" for app, name in cursor.fetchall()]
            for table in _schema_tables(schema):
                table_refs = refs.get(table, {})

                def collect(row: dict[str, Any], table_refs: dict[str, str] = table_refs) -> None:
                    for column, kind in table_refs.items():
                        if row.get(column) is not None:
                            wanted[kind].add(row[column])

                order = "ORDER BY t.id" if _has_id(schema, table) else ""
                sql = f"SELECT row_to_json(t) FROM {_quote(schema)}.{_quote(table)} t {order}"  # noqa: S608
                tables[table] = _write_jsonl(work / "schema" / f"{table}.jsonl", _rows(sql), collect)
                if on_table:
                    on_table(table, tables[table])

            # Public rows: the hub, its domains and access index, its files, then whoever those name.
            public: dict[str, list[dict[str, Any]]] = {
                "hub": _public_rows("tenants_hub", "id = %s", [hub.pk]),
                "domains": _public_rows("tenants_domain", "tenant_id = %s", [hub.pk]),
                "hub_access": _public_rows("tenants_hubaccess", "hub_id = %s", [hub.pk]),
                "applications": _public_rows("hub_applications_applicationindex", "hub_id = %s", [hub.pk])
                if apps.is_installed("tenants.applications")
                else [],
            }
            public["files"] = _public_rows(
                "storage_storedfile", "hub_id = %s OR id = ANY(%s::uuid[])", [hub.pk, [str(i) for i in wanted["file"]]]
            )
            wanted["user"] |= {row["user_id"] for row in public["hub_access"]}
            wanted["organisation"] |= {row["organisation_id"] for row in public["applications"]}
            for row in public["files"]:
                if row["organisation_id"]:
                    wanted["organisation"].add(row["organisation_id"])
                if row["uploaded_by_id"]:
                    wanted["user"].add(row["uploaded_by_id"])
            public["organisations"] = _public_rows(
                "identity_organisation", "id = ANY(%s)", [sorted(wanted["organisation"])]
            )
            public["organisation_members"] = _public_rows(
                "identity_organisationmember", "organisation_id = ANY(%s)", [sorted(wanted["organisation"])]
            )
            wanted["user"] |= {row["created_by_id"] for row in public["organisations"]}
            wanted["user"] |= {row["user_id"] for row in public["organisation_members"]}
            users = _public_rows("identity_user", "id = ANY(%s)", [sorted(wanted["user"])])
            # Credentials and platform privileges never leave the installation.
            keep = (
                "id",
                "email",
                "mobile",
                "name",
                "is_active",
                "email_verified_at",
                "preferred_language",
                "date_joined",
            )
            public["users"] = [{k: row.get(k) for k in keep} for row in users]
            for name, rows in public.items():
                _write_jsonl(work / "public" / f"{name}.jsonl", iter(rows), None)

            with connection.cursor() as cursor:
                cursor.execute(f"SELECT seq, hash FROM {_quote(schema)}.ledger_chainhead WHERE id = 1")  # noqa: S608
                head = cursor.fetchone()
                cursor.execute(f"SELECT code, running_total FROM {_quote(schema)}.ledger_account ORDER BY code")  # noqa: S608
                totals = dict(cursor.fetchall())
            ledger = {"head_seq": head[0] if head else 0, "head_hash": head[1] if head else "", "totals": totals}

            manifest_files = []
            for row in public["files"]:
                manifest_files.append(
                    {"id": row["id"], "key": row["key"], "sha256": row["sha256"], "size": row["size"]}
                )
                if include_files and not row.get("deleted_at"):
                    _copy_bytes(row, work / "files" / str(row["id"]))

        manifest = {
            "format": ARCHIVE_FORMAT,
            "version": ARCHIVE_VERSION,
            "created_at": timezone.now().isoformat(),
            "hub": {"slug": hub.slug, "schema": schema, "host": hub.host, "id": hub.pk},
            "migrations": migrations,
            "tables": tables,
            "public": {name: len(rows) for name, rows in public.items()},
            "ledger": ledger,
            "files": manifest_files,
            "file_bytes_included": include_files,
        }
        (work / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
        archive.parent.mkdir(parents=True, exist_ok=True)
        partial = archive.with_name(archive.name + ".partial")
        with tarfile.open(partial, "w:gz") as tar:
            tar.add(work / "manifest.json", arcname="manifest.json")
            for sub in ("schema", "public", "files"):
                if (work / sub).exists():
                    tar.add(work / sub, arcname=sub)
        partial.replace(archive)  # an interrupted export never leaves something that looks like an archive
    finally:
        shutil.rmtree(work, ignore_errors=True)
        connection.set_schema_to_public()
    return ExportResult(archive, tables, len(manifest_files), include_files, ledger)


def _copy_bytes(row: dict[str, Any], target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    try:
        with default_storage.open(row["key"], "rb") as source, target.open("wb") as out:
            while chunk := source.read(1024 * 1024):
                digest.update(chunk)
                out.write(chunk)
    except (OSError, ValueError) as exc:
        raise ApplicationError(
            _("文件 %(key)s 读取失败：%(error)s") % {"key": row["key"], "error": exc}, code="file_unreadable"
        ) from exc
    if digest.hexdigest() != row["sha256"]:
        raise ApplicationError(
            _("文件 %(key)s 的内容与记录的 SHA-256 不符。") % {"key": row["key"]}, code="file_corrupt"
        )


# --- import ---------------------------------------------------------------------------------------------------


@dataclass
class ImportResult:
    hub: Hub
    tables: dict[str, int]
    users_created: int
    users_matched: int
    organisations_created: int
    organisations_matched: int
    files: int
    resealed: bool
    skipped: list[str] = field(default_factory=list)


class _Archive:
    def __init__(self, path: Path) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="huoban-import-"))
        try:
            with tarfile.open(path, "r:gz") as tar:
                tar.extractall(self.dir, filter="data")
            self.manifest = json.loads((self.dir / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, tarfile.TarError, ValueError, KeyError) as exc:
            self.close()
            raise ApplicationError(_("无法读取备份文件：%(error)s") % {"error": exc}, code="archive_invalid") from exc
        if self.manifest.get("format") != ARCHIVE_FORMAT or self.manifest.get("version") != ARCHIVE_VERSION:
            self.close()
            raise ApplicationError(_("这不是本版本伙伴平台的枢纽备份文件。"), code="archive_invalid")

    def rows(self, kind: str, name: str) -> Iterator[dict[str, Any]]:
        path = self.dir / kind / f"{name}.jsonl"
        if not path.exists():
            return
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                yield json.loads(line)

    def file_path(self, file_id: str) -> Path | None:
        path = self.dir / "files" / file_id
        return path if path.exists() else None

    def close(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def _insert(table: str, rows: list[dict[str, Any]], columns: list[str], schema: str = "") -> None:
    if not rows:
        return
    target = f"{_quote(schema)}.{_quote(table)}" if schema else _quote(table)
    cols = ", ".join(_quote(c) for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {target} ({cols}) SELECT {cols} FROM json_populate_recordset(NULL::{target}, %s::json)",  # noqa: S608
            [json.dumps(rows, ensure_ascii=False)],
        )


def _columns(schema: str, table: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s "
            "AND is_generated = 'NEVER' ORDER BY ordinal_position",
            [schema, table],
        )
        return [row[0] for row in cursor.fetchall()]


def _sequences_reset(schema: str) -> None:
    """Move every sequence owned by a column of ``schema`` past the highest value the rows now hold."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.relname, a.attname, s.oid::regclass::text FROM pg_class s "
            "JOIN pg_depend d ON d.objid = s.oid AND d.deptype IN ('a', 'i') "
            "JOIN pg_class t ON t.oid = d.refobjid "
            "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid "
            "JOIN pg_namespace n ON n.oid = s.relnamespace WHERE s.relkind = 'S' AND n.nspname = %s",
            [schema],
        )
        for table, column, sequence in cursor.fetchall():
            cursor.execute(
                f"SELECT setval(%s, coalesce(max({_quote(column)}), 1), max({_quote(column)}) IS NOT NULL) "  # noqa: S608
                f"FROM {_quote(schema)}.{_quote(table)}",
                [sequence],
            )


def _free_id(model: type[models.Model], wanted: Any) -> bool:
    return not model._default_manager.filter(pk=wanted).exists()


def hub_import(
    *,
    archive_path: Path,
    slug: str,
    name_zh: str = "",
    actor: User | None = None,
    on_table: Callable[[str, int], None] | None = None,
) -> ImportResult:
    """Restore an archive made by ``hub_export`` as a new hub ``slug`` on this installation (see the module
    docstring). Operators only. All or nothing: any failure, including a ledger that does not verify afterwards,
    rolls everything back and removes the file objects already written."""
    slug = (slug or "").strip().lower()
    if not SLUG_RE.match(slug) or slug in RESERVED_SLUGS or "--" in slug:
        raise ApplicationError(
            _("标识只能用小写字母、数字和连字符，以字母开头，3 到 30 个字符，且不能是保留词。"), code="invalid_slug"
        )
    connection.set_schema_to_public()
    schema = "hub_" + slug.replace("-", "_")
    if Hub.objects.filter(slug=slug).exists() or schema_exists(schema):
        raise ApplicationError(_("标识 %(slug)s 已被其他枢纽使用。") % {"slug": slug}, code="slug_taken")
    archive = _Archive(archive_path)
    written_keys: list[str] = []
    try:
        manifest = archive.manifest
        template = provisioning.template_schema()
        if not schema_exists(template):
            raise ApplicationError(_("平台尚未完成迁移：请先运行 huoban hubs migrate。"), code="template_missing")
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT app || '.' || name FROM {_quote(template)}.django_migrations")  # noqa: S608
            here = {row[0] for row in cursor.fetchall()}
        there = set(manifest["migrations"])
        if here != there:
            raise ApplicationError(
                _("备份与本平台的数据库版本不同（缺少 %(missing)s 项迁移，多出 %(extra)s 项），请先升级到同一版本。")
                % {"missing": len(there - here), "extra": len(here - there)},
                code="migration_mismatch",
                extra={"missing_here": sorted(there - here)[:20], "missing_in_archive": sorted(here - there)[:20]},
            )
        from hubs.ledger.chain import archived_chain_check

        transactions = list(archive.rows("schema", "ledger_ledgertransaction"))
        entries = list(archive.rows("schema", "ledger_ledgerentry"))
        problem = archived_chain_check(transactions=transactions, entries=entries)
        if problem:
            raise ApplicationError(
                _("备份中的账本哈希链校验失败：%(problem)s") % {"problem": problem}, code="archive_ledger_broken"
            )
        with transaction.atomic():
            result = _import_locked(
                archive=archive,
                slug=slug,
                schema=schema,
                name_zh=name_zh,
                actor=actor,
                transactions=transactions,
                entries=entries,
                written_keys=written_keys,
                on_table=on_table,
            )
    except BaseException:
        for key in written_keys:
            try:
                default_storage.delete(key)
            except Exception:
                logger.exception("could not remove %s after a failed import", key)
        raise
    finally:
        archive.close()
        connection.set_schema_to_public()
    return result


def _import_locked(
    *,
    archive: _Archive,
    slug: str,
    schema: str,
    name_zh: str,
    actor: User | None,
    transactions: list[dict[str, Any]],
    entries: list[dict[str, Any]],
    written_keys: list[str],
    on_table: Callable[[str, int], None] | None,
) -> ImportResult:
    manifest = archive.manifest
    maps: dict[str, dict[Any, Any]] = {"user": {}, "organisation": {}, "file": {}}
    counts = {"users_created": 0, "users_matched": 0, "organisations_created": 0, "organisations_matched": 0}
    with connection.cursor() as cursor:
        # Explicit ids go in below; nothing else may take one meanwhile.
        cursor.execute("LOCK TABLE identity_user, identity_organisation IN SHARE ROW EXCLUSIVE MODE")

    # People: matched by email or mobile, else created without a usable password.
    for row in archive.rows("public", "users"):
        match = None
        if row.get("email"):
            match = User.objects.filter(email__iexact=row["email"]).first()
        if match is None and row.get("mobile"):
            match = User.objects.filter(mobile=row["mobile"]).first()
        if match is not None:
            maps["user"][row["id"]] = match.pk
            counts["users_matched"] += 1
            continue
        user = User(
            email=row.get("email"),
            mobile=row.get("mobile"),
            name=row.get("name") or "",
            is_active=bool(row.get("is_active", True)),
            preferred_language=row.get("preferred_language") or "",
            email_verified_at=row.get("email_verified_at"),
            password=make_password(None),
        )
        if row.get("date_joined"):
            user.date_joined = datetime.fromisoformat(row["date_joined"])
        if _free_id(User, row["id"]):
            user.pk = row["id"]
        user.save(force_insert=True)
        maps["user"][row["id"]] = user.pk
        counts["users_created"] += 1

    # Organisations: matched by credit code, else created with the archived members.
    created_orgs: set[int] = set()
    for row in archive.rows("public", "organisations"):
        match_org = (
            Organisation.objects.filter(credit_code=row["credit_code"]).first() if row.get("credit_code") else None
        )
        if match_org is not None:
            maps["organisation"][row["id"]] = match_org.pk
            counts["organisations_matched"] += 1
            continue
        org = Organisation(
            **{
                k: row.get(k) or ""
                for k in (
                    "name",
                    "name_en",
                    "kind",
                    "region_code",
                    "description",
                    "website",
                    "contact_email",
                    "contact_phone",
                )
            },
            credit_code=row.get("credit_code"),
            created_by_id=maps["user"].get(row["created_by_id"], row["created_by_id"]),
        )
        if _free_id(Organisation, row["id"]):
            org.pk = row["id"]
        org.save(force_insert=True)
        maps["organisation"][row["id"]] = org.pk
        created_orgs.add(org.pk)
        counts["organisations_created"] += 1
    for row in archive.rows("public", "organisation_members"):
        org_id = maps["organisation"].get(row["organisation_id"])
        if org_id in created_orgs:
            OrganisationMember.objects.get_or_create(
                organisation_id=org_id, user_id=maps["user"][row["user_id"]], defaults={"role": row["role"]}
            )
    with connection.cursor() as cursor:
        for table in ("identity_user", "identity_organisation"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence(%s, 'id'), coalesce(max(id), 1)) FROM {table}",  # noqa: S608
                [table],
            )

    # The hub, its schema (a spare or a clone of this installation's template) and its address.
    source_hub = next(archive.rows("public", "hub"))
    status = (
        source_hub["status"] if source_hub["status"] in (HubStatus.ACTIVE, HubStatus.READ_ONLY) else HubStatus.READ_ONLY
    )
    hub = Hub(
        schema_name=schema,
        slug=slug,
        name_zh=(name_zh or source_hub["name_zh"]).strip(),
        name_en=source_hub.get("name_en") or "",
        kind=source_hub["kind"],
        region_code=source_hub["region_code"],
        status=HubStatus.PROVISIONING,
    )
    hub.save()
    provisioning.schema_materialise(schema)
    Domain.objects.create(domain=hub.host, tenant=hub, is_primary=True)
    skipped = [f"domain {row['domain']}" for row in archive.rows("public", "domains") if not row["is_primary"]]

    # Stored files: metadata rows with bytes under new keys, written first (rows point at them).
    files = 0
    for row in archive.rows("public", "files"):
        old_id = row["id"]
        if StoredFile.objects.filter(pk=old_id, sha256=row["sha256"]).exists() and not row.get("hub_id"):
            maps["file"][old_id] = old_id  # an organisation's or person's file this installation already holds
            continue
        new_id = old_id if _free_id(StoredFile, old_id) else str(uuid.uuid4())
        maps["file"][old_id] = new_id
        org_id = maps["organisation"].get(row["organisation_id"]) if row["organisation_id"] else None
        uploader = maps["user"].get(row["uploaded_by_id"]) if row["uploaded_by_id"] else None
        if row.get("hub_id"):
            prefix = f"hubs/{schema}"
        elif org_id:
            prefix = f"orgs/{org_id}"
        else:
            prefix = f"users/{uploader or 0}"
        key = f"{prefix}/{row['purpose']}/{new_id}"
        if not row.get("deleted_at"):
            key = _restore_bytes(archive=archive, row=row, key=key)
            written_keys.append(key)
        StoredFile.objects.create(
            id=new_id,
            hub_id=hub.pk if row.get("hub_id") else None,
            hub_schema=schema if row.get("hub_id") else "",
            organisation_id=org_id,
            purpose=row["purpose"],
            key=key,
            size=row["size"],
            content_type=row["content_type"],
            sha256=row["sha256"],
            original_name=row["original_name"],
            uploaded_by_id=uploader,
            deleted_at=row.get("deleted_at"),
        )
        files += 1

    for row in archive.rows("public", "hub_access"):
        HubAccess.objects.create(hub=hub, user_id=maps["user"][row["user_id"]], roles=row["roles"])
    if apps.is_installed("tenants.applications"):
        from tenants.applications.models import ApplicationIndex

        old_host, new_host = f"//{manifest['hub']['host']}", f"//{hub.host}"
        for row in archive.rows("public", "applications"):
            values = {k: v for k, v in row.items() if k not in ("id", "hub_id", "organisation_id", "updated_at")}
            values["link_url"] = (values.get("link_url") or "").replace(old_host, new_host)
            ApplicationIndex.objects.create(
                hub=hub, organisation_id=maps["organisation"][row["organisation_id"]], **values
            )

    # The hub schema: the template's own rows (content types, the chain head) give way to the archive's.
    tables = _schema_load(
        archive=archive, schema=schema, maps=maps, entries=entries, transactions=transactions, on_table=on_table
    )
    resealed = tables.pop("__resealed__", 0) == 1

    from hubs.ledger.chain import chain_verify

    connection.set_schema(schema)
    report = chain_verify()
    if not report.ok:
        first = report.first_bad
        raise ApplicationError(
            _("恢复后的账本校验失败：%(problem)s") % {"problem": first.message if first else "?"},
            code="ledger_verify_failed",
        )
    with connection.cursor() as cursor:
        cursor.execute("SELECT code, running_total FROM ledger_account")
        totals = dict(cursor.fetchall())
    if totals != manifest["ledger"]["totals"]:
        raise ApplicationError(_("恢复后的账户余额与备份不一致。"), code="ledger_totals_mismatch")
    hub.status = status
    audit_record(
        actor=actor,
        action="hubs.hub.imported",
        object_type="tenants.hub",
        object_id=str(hub.pk),
        object_label=hub.slug,
        after={
            "source": manifest["hub"],
            "archive_created_at": manifest["created_at"],
            "source_ledger_head": manifest["ledger"]["head_hash"],
            "resealed": resealed,
        },
    )
    connection.set_schema_to_public()
    hub.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=actor,
        action="tenants.hub.imported",
        obj=hub,
        after={"source": manifest["hub"], "archive_created_at": manifest["created_at"]},
    )
    return ImportResult(hub=hub, tables=tables, files=files, resealed=resealed, skipped=skipped, **counts)


def _restore_bytes(*, archive: _Archive, row: dict[str, Any], key: str) -> str:
    """Write one file's bytes under ``key``, from the archive or, failing that, from this installation's storage
    under the old key (a shared or synced bucket). Refuses a file whose bytes are missing or altered."""
    source = archive.file_path(str(row["id"]))
    if source is not None:
        data = source.read_bytes()
    else:
        try:
            with default_storage.open(row["key"], "rb") as stored:
                data = stored.read()
        except Exception as exc:
            raise ApplicationError(
                _("备份不含文件 %(key)s 的内容，存储中也找不到它；请用 --with-files 重新导出。") % {"key": row["key"]},
                code="file_missing",
            ) from exc
    if hashlib.sha256(data).hexdigest() != row["sha256"]:
        raise ApplicationError(
            _("文件 %(key)s 的内容与记录的 SHA-256 不符。") % {"key": row["key"]}, code="file_corrupt"
        )
    content = ContentFile(data, name=key)
    content.content_type = row["content_type"]  # type: ignore[attr-defined]
    return str(default_storage.save(key, content))


def _schema_load(
    *,
    archive: _Archive,
    schema: str,
    maps: dict[str, dict[Any, Any]],
    entries: list[dict[str, Any]],
    transactions: list[dict[str, Any]],
    on_table: Callable[[str, int], None] | None,
) -> dict[str, int]:
    from hubs.ledger.chain import archived_chain_reseal

    refs = reference_columns()
    manifest = archive.manifest
    connection.set_schema(schema)  # the ledger's triggers insist on writing with the search path at the hub

    def remap(table: str, row: dict[str, Any]) -> dict[str, Any]:
        for column, kind in refs.get(table, {}).items():
            value = row.get(column)
            if value is not None and value in maps[kind]:
                row[column] = maps[kind][value]
        return row

    transactions = [remap("ledger_ledgertransaction", dict(row)) for row in transactions]
    entries, head, resealed = archived_chain_reseal(transactions=transactions, entries=entries)
    counts: dict[str, int] = {}
    names = list(manifest["tables"])
    # Entries go last: their trigger checks each transaction's balance and adds to the accounts' running totals.
    ordered = [n for n in names if n not in ("ledger_ledgerentry", "ledger_ledgertransaction")]
    ordered += [n for n in ("ledger_ledgertransaction", "ledger_ledgerentry") if n in names]
    with connection.cursor() as cursor:
        for table in ordered:
            cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {_quote(table)})")  # noqa: S608
            if cursor.fetchone()[0]:
                cursor.execute(f"DELETE FROM {_quote(table)}")  # noqa: S608
    for table in ordered:
        columns = _columns(schema, table)
        if table == "ledger_ledgertransaction":
            source: Iterator[dict[str, Any]] = iter(transactions)
        elif table == "ledger_ledgerentry":
            source = iter(entries)
        else:
            source = (remap(table, row) for row in archive.rows("schema", table))
        count = 0
        batch: list[dict[str, Any]] = []
        for row in source:
            if table == "ledger_account":
                row["running_total"] = 0  # kept by the entries' trigger, from zero
            if (
                table == "ledger_ledgerentry"
                and len(batch) >= _BATCH
                and batch[-1]["transaction_id"] != row["transaction_id"]
            ):
                _insert(table, batch, columns)
                batch = []
            batch.append(row)
            count += 1
            if table != "ledger_ledgerentry" and len(batch) >= _BATCH:
                _insert(table, batch, columns)
                batch = []
        _insert(table, batch, columns)
        counts[table] = count
        if on_table:
            on_table(table, count)
    if head is not None:
        with connection.cursor() as cursor:
            cursor.execute("UPDATE ledger_chainhead SET seq = %s, hash = %s WHERE id = 1", [head[0], head[1]])
    _sequences_reset(schema)
    counts["__resealed__"] = 1 if resealed else 0
    return counts


def archive_manifest(path: Path) -> dict[str, Any]:
    """The manifest of an archive, without extracting the rest (for operators' inspection)."""
    with tarfile.open(path, "r:gz") as tar:
        member = tar.extractfile("manifest.json")
        if member is None:
            raise ApplicationError(
                _("无法读取备份文件：%(error)s") % {"error": "manifest.json"}, code="archive_invalid"
            )
        return dict(json.load(io.TextIOWrapper(member, encoding="utf-8")))
