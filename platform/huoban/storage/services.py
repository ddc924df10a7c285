"""Writes on stored files: store (checked, counted against a quota, audited), link, delete.

The bytes go to Django's default storage: S3 (django-storages, when ``S3_BUCKET`` is set) or the filesystem. A
refused upload leaves nothing behind: no object in the storage and no row. Files are never public; a link is
either an S3 presigned GET or, on the filesystem, a signed expiring URL to ``storage.views.download_view``.

Who may *see* a file is decided by ``selectors.file_can_view``; these services do not check it, their callers do.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import re
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import IO, Any

from django.conf import settings
from django.core import signing
from django.core.files import File
from django.core.files.storage import Storage, default_storage
from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from huoban.audit.services import audit_record, snapshot
from huoban.db import connection
from huoban.errors import ApplicationError
from huoban.identity.models import Organisation, OrganisationMember, User
from huoban.identity.services import _organisation_manager
from huoban.storage import images, sniffing
from huoban.storage.models import (
    YEARLY_KINDS,
    DocumentKind,
    DocumentStatus,
    FilePurpose,
    OrganisationDocument,
    StoredFile,
)
from huoban.storage.tasks import organisation_document_review_notify
from huoban.tasks import enqueue_on_commit

logger = logging.getLogger(__name__)

DEFAULT_MAX_UPLOAD_BYTES = 20 * 1024 * 1024
DEFAULT_HUB_QUOTA_BYTES = 2 * 1024 * 1024 * 1024
DEFAULT_ORGANISATION_QUOTA_BYTES = 1024 * 1024 * 1024
DEFAULT_USER_QUOTA_BYTES = 200 * 1024 * 1024

LINK_SALT = "huoban.storage.link"
# Upper bound of any link's life; each link carries its own, shorter, expiry.
MAX_LINK_SECONDS = 24 * 3600
_CHUNK = 64 * 1024
_SCHEMA_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")

_IMAGES = (sniffing.PNG, sniffing.JPEG, sniffing.WEBP)
# What each purpose accepts, by detected content type.
PURPOSE_TYPES: dict[str, tuple[str, ...]] = {
    FilePurpose.REGISTRATION_CERTIFICATE: (sniffing.PDF, *_IMAGES),
    FilePurpose.CHARTER: (sniffing.PDF, sniffing.DOCX),
    FilePurpose.ANNUAL_REPORT: (sniffing.PDF, sniffing.DOCX, sniffing.XLSX),
    FilePurpose.AUDIT_REPORT: (sniffing.PDF, *_IMAGES),
    FilePurpose.RECEIPT: (sniffing.PDF, *_IMAGES),
    FilePurpose.PHOTO: _IMAGES,
    FilePurpose.IMPORT: (sniffing.XLSX, sniffing.CSV, sniffing.TEXT),
    FilePurpose.OTHER: (sniffing.PDF, *_IMAGES, sniffing.DOCX, sniffing.XLSX, sniffing.CSV, sniffing.TEXT),
}


def max_upload_bytes() -> int:
    return int(getattr(settings, "HUOBAN_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD_BYTES))


def hub_quota_bytes(*, hub_id: int) -> int | None:
    """A hub's storage limit (None: unlimited): its plan's, through ``HUOBAN_HUB_STORAGE_QUOTA_RESOLVER`` (a dotted
    path, so the platform layer never imports the tenants layer), else ``HUOBAN_HUB_STORAGE_QUOTA_BYTES``."""
    resolver = getattr(settings, "HUOBAN_HUB_STORAGE_QUOTA_RESOLVER", "")
    if resolver:
        quota: int | None = import_string(resolver)(hub_id=hub_id)
        return quota
    return int(getattr(settings, "HUOBAN_HUB_STORAGE_QUOTA_BYTES", DEFAULT_HUB_QUOTA_BYTES))


def organisation_quota_bytes() -> int:
    return int(getattr(settings, "HUOBAN_ORGANISATION_STORAGE_QUOTA_BYTES", DEFAULT_ORGANISATION_QUOTA_BYTES))


def user_quota_bytes() -> int:
    return int(getattr(settings, "HUOBAN_USER_STORAGE_QUOTA_BYTES", DEFAULT_USER_QUOTA_BYTES))


def allowed_type_labels(purpose: str) -> list[str]:
    return [sniffing.LABELS[t] for t in PURPOSE_TYPES.get(purpose, ())]


# --- Owner scope ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Scope:
    """Who owns a file: exactly one of a hub, an organisation, or (with neither) the uploader."""

    hub_id: int | None
    hub_schema: str
    organisation: Organisation | None
    user: User | None

    @property
    def lock_key(self) -> str:
        if self.hub_id is not None:
            return f"storage-quota:hub:{self.hub_id}"
        if self.organisation is not None:
            return f"storage-quota:org:{self.organisation.pk}"
        return f"storage-quota:user:{self.user.pk if self.user else 0}"

    def key_prefix(self, purpose: str) -> str:
        if self.hub_id is not None:
            return f"hubs/{self.hub_schema}/{purpose}"
        if self.organisation is not None:
            return f"orgs/{self.organisation.pk}/{purpose}"
        return f"users/{self.user.pk if self.user else 0}/{purpose}"

    def quota(self) -> int | None:
        if self.hub_id is not None:
            return hub_quota_bytes(hub_id=self.hub_id)
        if self.organisation is not None:
            return organisation_quota_bytes()
        return user_quota_bytes()

    def usage(self) -> int:
        from huoban.storage.selectors import file_usage_bytes

        if self.hub_id is not None:
            return file_usage_bytes(hub_id=self.hub_id)
        if self.organisation is not None:
            return file_usage_bytes(organisation_id=self.organisation.pk)
        return file_usage_bytes(user_id=self.user.pk if self.user else 0)


def _scope(
    *, hub_id: int | None, hub_schema: str, organisation: Organisation | None, uploaded_by: User | None
) -> _Scope:
    # Programming errors, not user errors: callers always know which scope they store for.
    if hub_id is not None and organisation is not None:
        raise ValueError("a file belongs to a hub or to an organisation, not both")
    if (hub_id is None) != (not hub_schema):
        raise ValueError("hub_id and hub_schema go together")
    if hub_schema and (not _SCHEMA_RE.match(hub_schema) or hub_schema == "public"):
        raise ValueError(f"not a hub schema name: {hub_schema!r}")
    if hub_id is None and organisation is None and (uploaded_by is None or not uploaded_by.pk):
        raise ValueError("a file with neither hub nor organisation belongs to its uploader, who must be given")
    return _Scope(hub_id=hub_id, hub_schema=hub_schema, organisation=organisation, user=uploaded_by)


# --- Storing ----------------------------------------------------------------------------------------------------


def _spool(fileobj: IO[bytes], limit: int) -> tuple[IO[bytes], int, str]:
    """Copy at most ``limit + 1`` bytes into a temporary file, hashing as it goes: (file, size, sha256 hex)."""
    spooled: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)  # noqa: SIM115 (closed by caller)
    digest = hashlib.sha256()
    size = 0
    if hasattr(fileobj, "seek"):
        with contextlib.suppress(OSError, ValueError):  # a pipe or socket: read what comes
            fileobj.seek(0)
    while size <= limit:
        chunk = fileobj.read(min(_CHUNK, limit + 1 - size))
        if not chunk:
            break
        size += len(chunk)
        digest.update(chunk)
        spooled.write(chunk)
    spooled.seek(0)
    return spooled, size, digest.hexdigest()


def _lock(key: str) -> None:
    """A transaction-scoped PostgreSQL advisory lock, so two uploads to one owner cannot both pass the quota."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [key])


def _storage() -> Storage:
    return default_storage


def _object_remove(key: str) -> None:
    try:
        _storage().delete(key)
    except Exception:  # the row is authoritative; an orphaned object is logged for the operators' sweep
        logger.exception("could not remove stored object %s", key)


def _clean_name(original_name: str) -> str:
    name = PurePosixPath((original_name or "").replace("\\", "/")).name.strip()
    name = "".join(ch for ch in name if ch >= " " and ch != "\x7f")
    return name[:255] or "file"


def file_store(
    *,
    fileobj: IO[bytes],
    original_name: str,
    purpose: str,
    uploaded_by: User | None,
    hub_id: int | None = None,
    hub_schema: str = "",
    organisation: Organisation | None = None,
) -> StoredFile:
    """Keep an uploaded file for a hub (``hub_id`` and ``hub_schema``), an organisation, or else its uploader.

    Checks, in order, each refusal an ``ApplicationError`` that leaves nothing stored (no object, no row):
    - the file is not empty (``empty_file``) and not larger than ``HUOBAN_MAX_UPLOAD_BYTES`` (``file_too_large``);
    - its type, judged by its content (``huoban.storage.sniffing``), is one the purpose accepts
      (``PURPOSE_TYPES``; ``file_type_not_allowed``) - the file name and the browser's content type are ignored;
    - it fits the owner's quota: the live files of that hub (its plan's storage limit, ``hub_quota_bytes``),
      organisation (``HUOBAN_ORGANISATION_STORAGE_QUOTA_BYTES``) or person (``HUOBAN_USER_STORAGE_QUOTA_BYTES``)
      plus this one (``quota_exceeded``). Uploads to one owner are serialised by an advisory lock, so the sum cannot
      be raced;
    - a photo (``FilePurpose.PHOTO``, which may be shown publicly) decodes as the image it claims to be
      (``invalid_image``), within ``HUOBAN_MAX_IMAGE_PIXELS`` (``image_too_large``), and is kept re-encoded without
      its metadata (EXIF with GPS position and device, XMP, text chunks): size and sha256 are the kept file's.

    Callers decide who may store for the scope (e.g. ``organisation_document_upload`` checks the organisation's
    managers). The object key is ``hubs/<schema>/<purpose>/<uuid>``, ``orgs/<id>/<purpose>/<uuid>`` or
    ``users/<id>/<purpose>/<uuid>``. Records ``storage.file.stored`` in the active schema's audit trail.
    """
    scope = _scope(hub_id=hub_id, hub_schema=hub_schema, organisation=organisation, uploaded_by=uploaded_by)
    if purpose not in FilePurpose.values:
        raise ApplicationError(_("未知的文件用途。"), code="invalid_purpose", extra={"field": "purpose"})
    limit = max_upload_bytes()
    spooled, size, sha256 = _spool(fileobj, limit)
    with contextlib.ExitStack() as cleanup:
        cleanup.enter_context(spooled)
        if size == 0:
            raise ApplicationError(_("文件是空的，请重新选择。"), code="empty_file", extra={"field": "file"})
        if size > limit:
            raise ApplicationError(
                _("文件太大：每个文件不能超过 %(limit)s。") % {"limit": filesizeformat(limit)},
                code="file_too_large",
                extra={"field": "file", "max_bytes": limit},
            )
        content_type = sniffing.content_type_detect(spooled)
        allowed = PURPOSE_TYPES[purpose]
        if content_type not in allowed:
            raise ApplicationError(
                _("不支持这种文件。此处只能上传：%(allowed)s。") % {"allowed": "、".join(allowed_type_labels(purpose))},
                code="file_type_not_allowed",
                extra={"field": "file", "detected": content_type, "allowed": list(allowed)},
            )
        if purpose == FilePurpose.PHOTO:  # may end up on a public page: kept without EXIF, GPS or text chunks
            spooled, size, sha256 = images.image_strip_metadata(spooled, content_type)
            cleanup.enter_context(spooled)
        file_id = uuid.uuid4()
        key = f"{scope.key_prefix(purpose)}/{file_id}"
        saved_key = ""
        try:
            with transaction.atomic():
                _lock(scope.lock_key)
                used = scope.usage()
                quota = scope.quota()
                if quota is not None and used + size > quota:
                    raise ApplicationError(
                        _("存储空间不足：已用 %(used)s，上限 %(quota)s。")
                        % {
                            "used": filesizeformat(used),
                            "quota": filesizeformat(quota),
                        },
                        code="quota_exceeded",
                        extra={"field": "file", "used_bytes": used, "quota_bytes": quota, "size": size},
                    )
                content = File(spooled, name=key)
                content.content_type = content_type  # type: ignore[attr-defined]  # S3 sends it as ContentType
                try:
                    saved_key = _storage().save(key, content)
                except Exception as exc:  # S3 or the disk unreachable: nothing was stored, the row is not made
                    logger.warning("storing %s failed: %r", key, exc)
                    raise ApplicationError(
                        _("文件存储服务暂时不可用，文件没有保存，请稍后重试。"),
                        code="storage_unavailable",
                        status=503,
                        extra={"field": "file"},
                    ) from exc
                stored = StoredFile.objects.create(
                    id=file_id,
                    hub_id=scope.hub_id,
                    hub_schema=scope.hub_schema,
                    organisation=scope.organisation,
                    purpose=purpose,
                    key=saved_key,
                    size=size,
                    content_type=content_type,
                    sha256=sha256,
                    original_name=_clean_name(original_name),
                    uploaded_by=uploaded_by,
                )
                audit_record(
                    actor=uploaded_by,
                    action="storage.file.stored",
                    obj=stored,
                    after={
                        "purpose": purpose,
                        "size": size,
                        "content_type": content_type,
                        "sha256": sha256,
                        "key": saved_key,
                    },
                )
        except BaseException:
            if saved_key:
                _object_remove(saved_key)
            raise
    return stored


# --- Links ------------------------------------------------------------------------------------------------------


def _s3_storage() -> Any | None:
    """The default storage if it is django-storages' S3 backend (presigned links), else None (filesystem)."""
    from storages.backends.s3 import S3Storage

    storage = _storage()
    return storage if isinstance(storage, S3Storage) else None


def file_download_name(stored_file: StoredFile) -> str:
    """The original name, with the extension of the detected type when the original one does not match it."""
    name = stored_file.original_name or "file"
    ext = sniffing.EXTENSIONS.get(stored_file.content_type)
    if ext and not name.lower().endswith("." + ext) and not (ext == "jpg" and name.lower().endswith(".jpeg")):
        name = f"{name}.{ext}"
    return name


def file_link(*, stored_file: StoredFile, ttl_seconds: int = 300, as_attachment: bool = True) -> str:
    """A link that lets whoever holds it download ``stored_file`` for ``ttl_seconds``.

    Check ``selectors.file_can_view`` first: the link is a bearer capability. On S3 it is a presigned GET whose
    signature covers the key, the expiry and the response headers (Content-Disposition with the file's name, the
    detected Content-Type). On the filesystem it is ``/files/<token>/`` on the current host: the signed token names
    the file and the schema the link was issued in (the hub's, or public), and ``download_view`` answers 404 on any
    other host, for a deleted file, or once it has expired. Filesystem links are relative to the current host.
    """
    if not stored_file.is_live:
        raise ApplicationError(_("文件不存在或已删除。"), code="not_found", status=404)
    if not 1 <= ttl_seconds <= MAX_LINK_SECONDS:
        raise ValueError(f"ttl_seconds must be between 1 and {MAX_LINK_SECONDS}")
    s3 = _s3_storage()
    if s3 is not None:
        return str(
            s3.url(
                stored_file.key,
                parameters={
                    "ResponseContentDisposition": content_disposition_header(
                        as_attachment, file_download_name(stored_file)
                    ),
                    "ResponseContentType": stored_file.content_type,
                    "ResponseCacheControl": "private, no-store",
                },
                expire=ttl_seconds,
            )
        )
    payload = {
        "f": str(stored_file.pk),
        "s": connection.schema_name,
        "x": int(time.time()) + ttl_seconds,
        "a": 1 if as_attachment else 0,
    }
    return f"/files/{signing.dumps(payload, salt=LINK_SALT)}/"


@dataclass(frozen=True)
class LinkGrant:
    file_id: str
    schema: str
    as_attachment: bool


def file_link_verify(*, token: str, schema: str) -> LinkGrant | None:
    """What a filesystem link's token grants on the host whose schema is ``schema``; None when it grants nothing
    (forged, expired, or issued for another hub's host)."""
    try:
        data = signing.loads(token, salt=LINK_SALT, max_age=MAX_LINK_SECONDS)
    except signing.BadSignature:  # includes SignatureExpired
        return None
    if not isinstance(data, dict) or not isinstance(data.get("x"), int) or data["x"] < time.time():
        return None
    if data.get("s") != schema:
        return None
    return LinkGrant(file_id=str(data.get("f", "")), schema=schema, as_attachment=bool(data.get("a", 1)))


# --- Deleting ---------------------------------------------------------------------------------------------------


def file_delete(*, stored_file: StoredFile, actor: User | None) -> StoredFile:
    """Soft-delete a file: the row stays (with ``deleted_at``) for the audit trail, the object is removed from the
    storage once the deletion commits, and the file stops counting against its owner's quota.

    A file that is the current version of an organisation's document cannot be deleted (``file_in_use``): documents
    are superseded, not deleted. Callers decide who may delete. Records ``storage.file.deleted``.
    """
    with transaction.atomic():
        locked = StoredFile.objects.select_for_update().get(pk=stored_file.pk)
        if locked.deleted_at is not None:
            return locked
        if OrganisationDocument.objects.filter(file=locked, superseded_at__isnull=True).exists():
            raise ApplicationError(
                _("这是组织当前的资质文件，不能删除；请上传新版本替换。"), code="file_in_use", status=409
            )
        locked.deleted_at = timezone.now()
        locked.save(update_fields=["deleted_at"])
        audit_record(
            actor=actor,
            action="storage.file.deleted",
            obj=locked,
            before={"key": locked.key, "size": locked.size, "sha256": locked.sha256},
        )
        key = locked.key
        transaction.on_commit(lambda: _object_remove(key))
    stored_file.deleted_at = locked.deleted_at
    return locked


# --- Organisation documents -------------------------------------------------------------------------------------

EARLIEST_YEAR = 1949


def _document_year(*, kind: str, year: int | None) -> int | None:
    if kind not in DocumentKind.values:
        raise ApplicationError(_("请选择文件类型。"), code="invalid_kind", extra={"field": "kind"})
    if kind not in YEARLY_KINDS:
        return None
    this_year = timezone.localdate().year
    if year is None or not EARLIEST_YEAR <= int(year) <= this_year:
        raise ApplicationError(
            _("请填写报告所属年度（%(first)s–%(last)s）。") % {"first": EARLIEST_YEAR, "last": this_year},
            code="invalid_year",
            extra={"field": "year"},
        )
    return int(year)


def organisation_document_upload(
    *,
    organisation: Organisation,
    actor: User,
    kind: str,
    year: int | None = None,
    fileobj: IO[bytes],
    original_name: str,
) -> OrganisationDocument:
    """Upload a registration certificate, charter, annual or audit report (or another document) for review.

    Who: only the organisation's owner or admins; anyone else in it gets 403, people outside it 404.
    Checks: a known kind; a year for annual and audit reports (none for the others); the file passes
    ``file_store`` for the purpose of the same name, counted against the organisation's quota.
    Effect: the new document is pending; the current one of the same kind and year, if any, is superseded and kept
    as history (its file too). "Other" documents never replace each other. Records
    ``storage.organisation_document.uploaded``.
    """
    _organisation_manager(organisation=organisation, user=actor)
    year = _document_year(kind=kind, year=year)
    stored = file_store(
        fileobj=fileobj, original_name=original_name, purpose=kind, uploaded_by=actor, organisation=organisation
    )
    try:
        with transaction.atomic():
            # One upload per organisation at a time, so "the current one" is well defined.
            Organisation.objects.select_for_update().filter(pk=organisation.pk).first()
            previous = None
            if kind != DocumentKind.OTHER:
                previous = (
                    OrganisationDocument.objects.select_for_update()
                    .filter(organisation=organisation, kind=kind, year=year, superseded_at__isnull=True)
                    .first()
                )
            now = timezone.now()
            if previous is not None:
                previous.superseded_at = now
                previous.save(update_fields=["superseded_at"])
            document = OrganisationDocument.objects.create(
                organisation=organisation, kind=kind, year=year, file=stored, uploaded_by=actor
            )
            if previous is not None:
                previous.superseded_by = document
                previous.save(update_fields=["superseded_by"])
            audit_record(
                actor=actor,
                action="storage.organisation_document.uploaded",
                obj=document,
                object_label=f"{organisation.name} · {document}",
                after={
                    "organisation": organisation.pk,
                    "kind": kind,
                    "year": year,
                    "file": str(stored.pk),
                    "sha256": stored.sha256,
                    "supersedes": previous.pk if previous else None,
                },
            )
    except BaseException:
        file_delete(stored_file=stored, actor=actor)
        raise
    return document


def organisation_document_review(
    *,
    document: OrganisationDocument,
    actor: User,
    decision: str,
    note: str = "",
    reviewer_hub_id: int | None = None,
    reviewer_label: str,
) -> OrganisationDocument:
    """Verify or reject an organisation's document, recording who reviewed it and for which hub.

    Who:
    - a platform review (``reviewer_hub_id`` None) needs a platform operator, else 403;
    - a hub review (``reviewer_hub_id`` set, ``reviewer_label`` the hub's name) is called by hub-side code that has
      already checked the actor's staff role in that hub and that the organisation works with or applied to it
      (this layer cannot see hub schemas);
    - nobody reviews their own organisation's documents (``reviewer_conflict``, 403).
    Checks: ``decision`` is verified or rejected; a rejection needs a note (``note_required``); only the current
    version (``document_superseded``, 409); a reviewed document is reviewed again only by an operator, to correct
    it (``already_reviewed``, 409); a reviewer label.
    Records ``storage.organisation_document.reviewed`` (before/after) in the active schema's audit trail and emails
    the organisation's owners once the review commits.
    """
    if decision not in (DocumentStatus.VERIFIED, DocumentStatus.REJECTED):
        raise ApplicationError(_("请选择“通过”或“不通过”。"), code="invalid_decision", extra={"field": "decision"})
    note = (note or "").strip()
    if decision == DocumentStatus.REJECTED and not note:
        raise ApplicationError(_("不通过时请写明原因。"), code="note_required", extra={"field": "note"})
    reviewer_label = (reviewer_label or "").strip()
    if not reviewer_label:
        raise ApplicationError(_("请注明审核方。"), code="invalid_reviewer_label", extra={"field": "reviewer_label"})
    if reviewer_hub_id is None and not actor.is_operator:
        raise ApplicationError(_("只有平台运营人员可以进行平台审核。"), code="permission_denied", status=403)
    if OrganisationMember.objects.filter(organisation_id=document.organisation_id, user=actor).exists():
        raise ApplicationError(_("不能审核自己所在组织的文件。"), code="reviewer_conflict", status=403)
    with transaction.atomic():
        locked = OrganisationDocument.objects.select_for_update().get(pk=document.pk)
        if locked.superseded_at is not None:
            raise ApplicationError(_("该文件已被新版本替换，请审核最新版本。"), code="document_superseded", status=409)
        if locked.status != DocumentStatus.PENDING and not actor.is_operator:
            raise ApplicationError(_("该文件已经审核过了。"), code="already_reviewed", status=409)
        fields = ["status", "reviewer_id", "reviewer_hub_id", "reviewer_label", "reviewed_at", "review_note"]
        before = snapshot(locked, fields)
        locked.status = decision
        locked.reviewer = actor
        locked.reviewer_hub_id = reviewer_hub_id
        locked.reviewer_label = reviewer_label[:200]
        reviewed_at = timezone.now()
        locked.reviewed_at = reviewed_at
        locked.review_note = note
        locked.review_notified_at = None
        locked.save(
            update_fields=[
                "status",
                "reviewer",
                "reviewer_hub_id",
                "reviewer_label",
                "reviewed_at",
                "review_note",
                "review_notified_at",
            ]
        )
        audit_record(
            actor=actor,
            action="storage.organisation_document.reviewed",
            obj=locked,
            object_label=f"{locked.organisation.name} · {locked}",
            before=before,
            after=snapshot(locked, fields),
        )
        enqueue_on_commit(
            organisation_document_review_notify,
            document_id=locked.pk,
            reviewed_at=reviewed_at.isoformat(),
        )
    return locked
