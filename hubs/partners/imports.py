"""Bulk import and export of a hub's partner directory (xlsx with openpyxl, or CSV).

The columns of the import template and of the export are the same (``COLUMNS``), so an exported file imports back
as "no change". Headers may be in Chinese or English; kinds, statuses and service areas may be written as their
labels in either language or as their codes.

Import in two steps. ``import_job_create`` reads the file and checks every row against the hub as it is now, row by
row (create, update, no change, or refused and why), and keeps the file with the job. ``import_job_confirm`` queues
the job; ``import_job_run`` (a Celery task, inside the hub) checks the file again and writes every accepted row in
one transaction: all of them, or, on any failure, nothing, and the job says why. Refused rows are never written.

Rules of a row: a blank cell leaves that field as it is; a row matches an existing partner by credit code (or, for a
volunteer team without one, by its exact name); the organisation's own registration (name, type, region) is never
changed by a hub's import; a partner's status is never changed by an import (the state machine does that).
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hubs.partners.discovery import partnerships_index
from hubs.partners.models import (
    ImportJob,
    ImportStatus,
    PartnerContact,
    Partnership,
    PartnershipSource,
    PartnershipStatus,
    ServiceArea,
)
from hubs.partners.services import (
    OrganisationData,
    active_partners_report,
    active_partners_room,
    contact_check,
    current_hub,
    organisation_data_check,
)
from huoban import context
from huoban.audit.models import AuditEvent
from huoban.audit.services import audit_record
from huoban.errors import ApplicationError
from huoban.identity.models import Organisation, OrganisationKind, User
from huoban.identity.validators import normalise_credit_code, validate_credit_code
from huoban.regions import region_validate
from huoban.tasks import enqueue_on_commit
from tenants.entitlements import Resource, entitlement_require

logger = logging.getLogger(__name__)

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ROWS = 20_000
CHUNK = 500


@dataclass(frozen=True)
class Column:
    key: str
    label: Promise


COLUMNS = [
    Column("name", gettext_lazy("名称")),
    Column("credit_code", gettext_lazy("统一社会信用代码")),
    Column("kind", gettext_lazy("组织类型")),
    Column("region_code", gettext_lazy("所在地区代码")),
    Column("service_areas", gettext_lazy("服务领域")),
    Column("status", gettext_lazy("状态")),
    Column("joined_at", gettext_lazy("加入日期")),
    Column("public_profile", gettext_lazy("公开简介")),
    Column("contact_name", gettext_lazy("联系人")),
    Column("contact_role", gettext_lazy("联系人职务")),
    Column("contact_phone", gettext_lazy("联系电话")),
    Column("contact_email", gettext_lazy("联系人邮箱")),
]
COLUMN_KEYS = [c.key for c in COLUMNS]
CONTACT_KEYS = {"contact_name": "name", "contact_role": "role", "contact_phone": "phone", "contact_email": "email"}
_SPLIT_TAGS = re.compile(r"[、,，;；/|\s]+")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class Outcome:
    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    REFUSED = "refused"


OUTCOME_LABELS = {
    Outcome.CREATE: gettext_lazy("新增"),
    Outcome.UPDATE: gettext_lazy("更新"),
    Outcome.UNCHANGED: gettext_lazy("无变化"),
    Outcome.REFUSED: gettext_lazy("拒绝"),
}


# --- Reading files ----------------------------------------------------------------------------------------------


def _norm(text: str) -> str:
    return re.sub(r"[\s*＊]", "", str(text or "")).lower()


def _aliases(choices: Iterable[tuple[str, Any]]) -> dict[str, str]:
    """Every way to write a choice: its code, and its label in each language."""
    out: dict[str, str] = {}
    pairs = list(choices)
    for language in ("zh-hans", "en"):
        with translation.override(language):
            for value, label in pairs:
                out[_norm(str(label))] = value
    for value, _label in pairs:
        out[_norm(value)] = value
    return out


def _header_aliases() -> dict[str, str]:
    return _aliases((c.key, c.label) for c in COLUMNS)


# Control characters no spreadsheet shows (NUL would not even fit in a PostgreSQL text column); tab and line breaks
# are kept, they are how people write addresses and profiles.
_INVISIBLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = _INVISIBLE.sub("", str(value)).strip()
    if len(text) > 1 and text[0] == "'" and text[1] in _FORMULA_START:  # our own CSV escape, see _csv_safe
        text = text[1:]
    return text


def file_format_detect(data: bytes, file_name: str = "") -> str:
    if data[:4] == b"PK\x03\x04":
        return "xlsx"
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise ApplicationError(
            _("不支持旧版 Excel（.xls）文件，请另存为 .xlsx 或 CSV 后再上传。"),
            code="unsupported_file",
            extra={"field": "file"},
        )
    return "csv"


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise ApplicationError(
            _("无法读取该 Excel 文件，请确认是 .xlsx 格式。"), code="unreadable_file", extra={"field": "file"}
        ) from exc
    try:
        sheet = workbook.worksheets[0]
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, list(row)
    except (GeneratorExit, ApplicationError):
        raise
    except Exception as exc:  # damage inside a sheet shows only while its rows are read
        raise ApplicationError(
            _("无法读取该 Excel 文件，请确认是 .xlsx 格式。"), code="unreadable_file", extra={"field": "file"}
        ) from exc
    finally:
        workbook.close()


def _csv_rows(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GBK unless told otherwise
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ApplicationError(
            _("无法识别 CSV 文件的编码，请保存为 UTF-8。"), code="unreadable_file", extra={"field": "file"}
        )
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        for number, row in enumerate(reader, start=1):
            yield number, list(row)
    except csv.Error as exc:  # e.g. a carriage return alone inside an unquoted cell
        raise ApplicationError(
            _("无法读取该 CSV 文件：第 %(line)s 行格式不正确。") % {"line": reader.line_num},
            code="unreadable_file",
            extra={"field": "file"},
        ) from exc


def file_read(*, data: bytes, file_name: str = "") -> tuple[str, list[tuple[int, dict[str, str]]]]:
    """The rows of an uploaded file as (row number in the file, {column key: text}), blank rows left out."""
    if not data:
        raise ApplicationError(_("文件是空的，请重新选择。"), code="empty_file", extra={"field": "file"})
    if len(data) > MAX_FILE_BYTES:
        raise ApplicationError(
            _("文件太大：不能超过 %(mb)s MB。") % {"mb": MAX_FILE_BYTES // (1024 * 1024)},
            code="file_too_large",
            extra={"field": "file"},
        )
    file_format = file_format_detect(data, file_name)
    raw = _xlsx_rows(data) if file_format == "xlsx" else _csv_rows(data)
    aliases = _header_aliases()
    header: list[str | None] | None = None
    rows: list[tuple[int, dict[str, str]]] = []
    for number, cells in raw:
        texts = [_cell_text(c) for c in cells]
        if header is None:
            if not any(texts):
                continue
            header = [aliases.get(_norm(t)) for t in texts]
            if "name" not in header:
                raise ApplicationError(
                    _("文件第一行应为表头，且包含“名称”列。请使用导入模板。"),
                    code="missing_columns",
                    extra={"field": "file"},
                )
            continue
        if not any(texts):
            continue
        values = {key: texts[i] for i, key in enumerate(header) if key and i < len(texts)}
        rows.append((number, values))
        if len(rows) > MAX_ROWS:
            raise ApplicationError(
                _("一次最多导入 %(max)s 行，请拆分文件。") % {"max": MAX_ROWS},
                code="too_many_rows",
                extra={"field": "file"},
            )
    if header is None:
        raise ApplicationError(_("文件里没有内容。"), code="empty_file", extra={"field": "file"})
    return file_format, rows


# --- Checking rows ----------------------------------------------------------------------------------------------


@dataclass
class RowPlan:
    """What one row will do, and what it carries to do it."""

    row: int
    name: str
    credit_code: str
    outcome: str = Outcome.REFUSED
    messages: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    changes: list[str] = field(default_factory=list)
    organisation: Organisation | None = None
    organisation_data: OrganisationData | None = None
    partnership: Partnership | None = None
    status: str = PartnershipStatus.ACTIVE
    service_areas: list[str] | None = None
    public_profile: str | None = None
    joined_on: date | None = None
    contact: dict[str, str] = field(default_factory=dict)
    contact_obj: PartnerContact | None = None

    def report(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "name": self.name,
            "credit_code": self.credit_code,
            "outcome": self.outcome,
            "messages": self.messages,
            "warnings": self.warnings,
            "changes": self.changes,
        }


def _parse_date(text: str) -> date:
    cleaned = text.strip().replace("/", "-").replace(".", "-")[:10]
    try:
        return date.fromisoformat("-".join(part.zfill(2) for part in cleaned.split("-")))
    except ValueError as exc:
        raise ValueError(text) from exc


class _Lookups:
    """What the hub and the platform already hold for the rows of one file, loaded in a few queries."""

    def __init__(self, rows: list[tuple[int, dict[str, str]]]):
        codes = {normalise_credit_code(v.get("credit_code", "")) for _n, v in rows} - {""}
        names = {v.get("name", "").strip() for _n, v in rows if not v.get("credit_code", "").strip()} - {""}
        self.by_code = {o.credit_code: o for o in Organisation.objects.filter(credit_code__in=codes)}
        partnerships = Partnership.objects.select_related("organisation").filter(
            organisation_id__in=[o.pk for o in self.by_code.values()]
        )
        self.partnership_by_org = {p.organisation_id: p for p in partnerships}
        for p in Partnership.objects.select_related("organisation").filter(
            organisation__credit_code__isnull=True, organisation__name__in=names
        ):
            self.partnership_by_org[p.organisation_id] = p
        self.nameless_code_partner = {
            p.organisation.name: p for p in self.partnership_by_org.values() if p.organisation.credit_code is None
        }
        self.first_contact = {
            c.partnership_id: c
            for c in PartnerContact.objects.filter(partnership_id__in=[p.pk for p in self.partnership_by_org.values()])
            .order_by("partnership_id", "id")
            .distinct("partnership_id")
        }
        self.kinds = _aliases(OrganisationKind.choices)
        self.statuses = _aliases(PartnershipStatus.choices)
        self.areas = _aliases(ServiceArea.choices)


def _row_plan(
    number: int, values: dict[str, str], look: _Lookups, seen: dict[str, int], update_existing: bool
) -> RowPlan:
    name = values.get("name", "").strip()
    raw_code = values.get("credit_code", "").strip()
    code = normalise_credit_code(raw_code)
    plan = RowPlan(row=number, name=name, credit_code=code or raw_code)
    problems = plan.messages

    if not name:
        problems.append(_("请填写组织名称。"))
    if code:
        try:
            validate_credit_code(code)
        except ValidationError as exc:
            problems.extend(exc.messages)
    kind_text = values.get("kind", "").strip()
    kind = look.kinds.get(_norm(kind_text)) if kind_text else ""
    if kind is None:
        problems.append(_("未知的组织类型：%(kind)s。") % {"kind": kind_text})
    region = values.get("region_code", "").strip()
    if region:
        try:
            region_validate(region)
        except ValidationError as exc:
            problems.extend(exc.messages)
    tags_text = values.get("service_areas", "").strip()
    if tags_text:
        areas = []
        for tag in (t for t in _SPLIT_TAGS.split(tags_text) if t):
            area = look.areas.get(_norm(tag))
            if area is None:
                problems.append(_("未知的服务领域：%(tag)s。") % {"tag": tag})
            elif area not in areas:
                areas.append(area)
        plan.service_areas = sorted(areas, key=ServiceArea.values.index)
    status_text = values.get("status", "").strip()
    status = look.statuses.get(_norm(status_text)) if status_text else None
    if status_text and status is None:
        problems.append(_("未知的状态：%(status)s。") % {"status": status_text})
    joined_text = values.get("joined_at", "").strip()
    if joined_text:
        try:
            plan.joined_on = _parse_date(joined_text)
        except ValueError:
            problems.append(_("日期格式不正确：%(value)s（应为 2024-05-01 这样的格式）。") % {"value": joined_text})
    if values.get("public_profile", "").strip():
        plan.public_profile = values["public_profile"].strip()
    contact = {field: values.get(key, "").strip() for key, field in CONTACT_KEYS.items()}
    plan.contact = {k: v for k, v in contact.items() if v}

    key = f"code:{code}" if code else f"name:{name.lower()}"
    if name or code:
        if key in seen:
            problems.append(_("与第 %(row)s 行重复。") % {"row": seen[key]})
        else:
            seen[key] = number
    if problems:
        return plan

    organisation = look.by_code.get(code) if code else None
    partnership = look.partnership_by_org.get(organisation.pk) if organisation else None
    if not code and name in look.nameless_code_partner:
        partnership = look.nameless_code_partner[name]
        organisation = partnership.organisation
    plan.organisation, plan.partnership = organisation, partnership

    if partnership is not None:
        return _plan_update(plan, status, look, update_existing, kind=kind or "", region=region)
    if organisation is not None:
        if organisation.name != name:
            plan.warnings.append(_name_warning(organisation))
    else:
        try:
            plan.organisation_data = organisation_data_check(
                name=name, kind=kind or "", region_code=region, credit_code=code or None
            )
        except ApplicationError as exc:
            problems.append(str(exc.message))
    if status not in (None, PartnershipStatus.ACTIVE, PartnershipStatus.UNDER_REVIEW):
        problems.append(_("导入只能新增“合作中”或“审核中”的伙伴。"))
    plan.status = status or PartnershipStatus.ACTIVE
    if plan.contact:
        try:
            plan.contact = contact_check(**{"name": "", **plan.contact})
        except ApplicationError as exc:
            problems.append(str(exc.message))
    if not problems:
        plan.outcome = Outcome.CREATE
    return plan


def _name_warning(organisation: Organisation) -> str:
    return _("名称与平台登记不一致（平台登记为「%(name)s」），导入不会修改组织的登记信息。") % {
        "name": organisation.name
    }


def _plan_update(
    plan: RowPlan, status: str | None, look: _Lookups, update_existing: bool, *, kind: str, region: str
) -> RowPlan:
    partnership = plan.partnership
    assert partnership is not None
    organisation = partnership.organisation
    problems = plan.messages
    if not update_existing:
        problems.append(_("已是本枢纽伙伴（状态：%(status)s）。") % {"status": partnership.get_status_display()})
        return plan
    if status is not None and status != partnership.status:
        problems.append(
            _("状态不能通过导入修改（当前为“%(status)s”），请在伙伴页面操作。")
            % {"status": partnership.get_status_display()}
        )
    if organisation.name != plan.name:
        plan.warnings.append(_name_warning(organisation))
    elif (kind and kind != organisation.kind) or (region and region != organisation.region_code):
        plan.warnings.append(_("组织类型或地区与平台登记不一致，导入不会修改组织的登记信息。"))
    if plan.service_areas is not None and plan.service_areas != list(partnership.service_areas):
        plan.changes.append("service_areas")
    if plan.public_profile is not None and plan.public_profile != partnership.public_profile:
        plan.changes.append("public_profile")
    if plan.joined_on is not None:
        current = timezone.localtime(partnership.joined_at).date() if partnership.joined_at else None
        if current != plan.joined_on:
            plan.changes.append("joined_at")
    existing = look.first_contact.get(partnership.pk)
    plan.contact_obj = existing
    if plan.contact:
        merged = {"name": "", "role": "", "phone": "", "email": ""}
        if existing is not None:
            merged.update({f: getattr(existing, f) for f in merged})
        merged.update(plan.contact)
        try:
            checked = contact_check(**merged)
        except ApplicationError as exc:
            problems.append(str(exc.message))
        else:
            if existing is None or any(getattr(existing, f) != v for f, v in checked.items()):
                plan.changes.append("contact")
            plan.contact = checked
    if not problems:
        plan.outcome = Outcome.UPDATE if plan.changes else Outcome.UNCHANGED
    return plan


def import_check(*, rows: list[tuple[int, dict[str, str]]], update_existing: bool = True) -> list[RowPlan]:
    """Plan every row of a file against the hub as it is now (nothing is written)."""
    look = _Lookups(rows)
    seen: dict[str, int] = {}
    return [_row_plan(number, values, look, seen, update_existing) for number, values in rows]


def _counts(plans: list[RowPlan]) -> dict[str, int]:
    counts = dict.fromkeys((Outcome.CREATE, Outcome.UPDATE, Outcome.UNCHANGED, Outcome.REFUSED), 0)
    for plan in plans:
        counts[plan.outcome] += 1
    return counts


# --- Jobs -----------------------------------------------------------------------------------------------------


def _progress_key(job_id: int) -> str:
    return f"partners:import:{job_id}:processed"


def import_job_progress(*, job: ImportJob) -> int:
    """Rows written so far by a running import (kept in the cache: the import's own transaction is not visible
    until it commits)."""
    if job.status == ImportStatus.RUNNING:
        return int(cache.get(_progress_key(job.pk)) or 0)
    return job.processed_rows


def import_job_create(*, actor: User, file_name: str, data: bytes, update_existing: bool = True) -> ImportJob:
    """Upload step: read and check the file (a dry run) and keep it with the job for the confirmed import."""
    file_format, rows = file_read(data=data, file_name=file_name)
    plans = import_check(rows=rows, update_existing=update_existing)
    counts = _counts(plans)
    # Said at upload, before anyone confirms; checked again, under the hub's lock, when the import runs.
    entitlement_require(
        hub=current_hub(),
        resource=Resource.ACTIVE_PARTNERS,
        current=Partnership.objects.filter(status=PartnershipStatus.ACTIVE).count(),
        adding=_new_active(plans),
    )
    with transaction.atomic():
        job = ImportJob.objects.create(
            file_name=(file_name or "upload")[:200],
            file_format=file_format,
            file_bytes=data,
            update_existing=update_existing,
            status=ImportStatus.CHECKED,
            created_by=actor,
            total_rows=len(plans),
            created_count=counts[Outcome.CREATE],
            updated_count=counts[Outcome.UPDATE],
            unchanged_count=counts[Outcome.UNCHANGED],
            refused_count=counts[Outcome.REFUSED],
            report=[p.report() for p in plans],
        )
        audit_record(
            actor=actor,
            action="partners.import.checked",
            obj=job,
            object_label=job.file_name,
            after={"rows": len(plans), **counts},
        )
    return job


def import_job_confirm(*, job: ImportJob, actor: User) -> ImportJob:
    """Queue a checked import; the background task runs it once the confirmation commits."""
    from hubs.partners.tasks import partner_import_run

    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().get(pk=job.pk)
        if locked.status != ImportStatus.CHECKED:
            raise ApplicationError(_("该导入已经确认过了。"), code="import_already_confirmed", status=409)
        if locked.created_count + locked.updated_count == 0:
            raise ApplicationError(_("没有可以导入的行。"), code="nothing_to_import")
        locked.status = ImportStatus.QUEUED
        locked.save(update_fields=["status"])
        audit_record(actor=actor, action="partners.import.confirmed", obj=locked, object_label=locked.file_name)
        enqueue_on_commit(
            partner_import_run, job_id=locked.pk, language=translation.get_language() or settings.LANGUAGE_CODE
        )
    return locked


def import_job_run(*, job_id: int) -> ImportJob:
    """Run a queued import: check the file again and write every accepted row in one transaction.

    Runs once: a job that is not queued (a redelivered task) is left alone. On any failure the transaction rolls
    back, so nothing of the file is written, and the job is marked failed with the reason.
    """
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status != ImportStatus.QUEUED:
            return job  # type: ignore[return-value]
        job.status = ImportStatus.RUNNING
        job.started_at = timezone.now()
        job.save(update_fields=["status", "started_at"])
    cache.set(_progress_key(job.pk), 0, timeout=24 * 3600)
    actor = User.objects.filter(pk=job.created_by_id).first() if job.created_by_id else None
    try:
        with transaction.atomic():
            _file_format, rows = file_read(data=bytes(job.file_bytes), file_name=job.file_name)
            plans = import_check(rows=rows, update_existing=job.update_existing)
            _apply(plans=plans, actor=actor, job_id=job.pk)
            counts = _counts(plans)
            job.status = ImportStatus.SUCCEEDED
            job.finished_at = timezone.now()
            job.total_rows = job.processed_rows = len(plans)
            job.created_count = counts[Outcome.CREATE]
            job.updated_count = counts[Outcome.UPDATE]
            job.unchanged_count = counts[Outcome.UNCHANGED]
            job.refused_count = counts[Outcome.REFUSED]
            job.report = [p.report() for p in plans]
            job.save()
            audit_record(
                actor=actor,
                action="partners.import.succeeded",
                obj=job,
                object_label=job.file_name,
                after={"rows": len(plans), **counts},
            )
    except Exception as exc:
        logger.exception("partner import %s failed; nothing was written", job.pk)
        message = str(exc.message) if isinstance(exc, ApplicationError) else str(exc)
        with transaction.atomic():
            ImportJob.objects.filter(pk=job.pk).update(
                status=ImportStatus.FAILED,
                error=_("导入失败，没有写入任何数据：%(error)s") % {"error": message[:2000]},
                finished_at=timezone.now(),
                processed_rows=0,
            )
            audit_record(
                actor=actor,
                action="partners.import.failed",
                obj=job,
                object_label=job.file_name,
                after={"error": message[:500]},
            )
        job.refresh_from_db()
    finally:
        cache.delete(_progress_key(job.pk))
    return job


def _audit(actor: User | None, action: str, object_type: str, object_id: Any, label: str, **data: Any) -> AuditEvent:
    """An audit event built like ``audit_record`` does, for bulk insertion in the import's transaction."""
    actor_user = actor if getattr(actor, "is_authenticated", False) else None
    return AuditEvent(
        actor=actor_user,
        actor_label=str(actor_user)[:200] if actor_user else "system",
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        object_label=label[:200],
        before=data.get("before"),
        after=data.get("after"),
        request_id=context.request_id.get(),
    )


def _joined(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(9, 0)))


def _new_active(plans: list[RowPlan]) -> int:
    """Active partnerships an import would add (imports never change an existing partnership's status)."""
    return sum(1 for p in plans if p.outcome == Outcome.CREATE and p.status == PartnershipStatus.ACTIVE)


def _apply(*, plans: list[RowPlan], actor: User | None, job_id: int) -> None:
    """Write the accepted rows, a chunk at a time (bulk statements), reporting progress between chunks."""
    if actor is None:
        raise ApplicationError(_("上传该文件的账号已不存在。"), code="actor_missing")
    accepted = [p for p in plans if p.outcome in (Outcome.CREATE, Outcome.UPDATE)]
    adding = _new_active(plans)
    active_partners_room(adding=adding)
    done = len(plans) - len(accepted)
    notify: list[int] = []
    for start in range(0, len(accepted), CHUNK):
        chunk = accepted[start : start + CHUNK]
        _apply_chunk(chunk=chunk, actor=actor, job_id=job_id, notify=notify)
        done += len(chunk)
        cache.set(_progress_key(job_id), done, timeout=24 * 3600)
    if adding:
        active_partners_report()
    from hubs.partners.tasks import partnership_notify

    language = translation.get_language() or settings.LANGUAGE_CODE
    for partnership_id in notify:
        enqueue_on_commit(partnership_notify, partnership_id=partnership_id, event="created", language=language)


def _apply_chunk(*, chunk: list[RowPlan], actor: User, job_id: int, notify: list[int]) -> None:
    now = timezone.now()
    events: list[AuditEvent] = []
    new_orgs = [p for p in chunk if p.outcome == Outcome.CREATE and p.organisation is None]
    organisations = Organisation.objects.bulk_create(
        [
            Organisation(
                name=d.name,
                kind=d.kind,
                credit_code=d.credit_code,
                region_code=d.region_code,
                created_by=actor,
            )
            for d in (p.organisation_data for p in new_orgs)
            if d is not None
        ]
    )
    for plan, organisation in zip(new_orgs, organisations, strict=True):
        plan.organisation = organisation
        events.append(
            _audit(
                actor,
                "partners.organisation.registered",
                "identity.organisation",
                organisation.pk,
                organisation.name,
                after={
                    "name": organisation.name,
                    "kind": organisation.kind,
                    "credit_code": organisation.credit_code,
                    "region_code": organisation.region_code,
                    "import": job_id,
                },
            )
        )
    creates = [p for p in chunk if p.outcome == Outcome.CREATE]
    created = Partnership.objects.bulk_create(
        [
            Partnership(
                organisation=p.organisation,
                status=p.status,
                source=PartnershipSource.IMPORT,
                service_areas=p.service_areas or [],
                public_profile=p.public_profile or "",
                joined_at=(_joined(p.joined_on) if p.joined_on else now)
                if p.status == PartnershipStatus.ACTIVE
                else None,
            )
            for p in creates
        ]
    )
    new_contacts = []
    for plan, partnership in zip(creates, created, strict=True):
        plan.partnership = partnership
        assert plan.organisation is not None
        events.append(
            _audit(
                actor,
                "partners.partnership.created",
                "partners.partnership",
                partnership.pk,
                plan.organisation.name,
                after={
                    "organisation": plan.organisation.pk,
                    "status": partnership.status,
                    "source": "import",
                    "service_areas": partnership.service_areas,
                    "import": job_id,
                },
            )
        )
        if plan.contact.get("name"):
            new_contacts.append(PartnerContact(partnership=partnership, **plan.contact))
        if plan.organisation_data is None:
            notify.append(partnership.pk)  # an organisation already on the platform: tell its managers

    updates = [p for p in chunk if p.outcome == Outcome.UPDATE]
    changed: list[Partnership] = []
    changed_contacts: list[PartnerContact] = []
    for plan in updates:
        assert plan.partnership is not None
        partnership = plan.partnership
        before: dict[str, Any] = {}
        after: dict[str, Any] = {}
        if "service_areas" in plan.changes:
            before["service_areas"], after["service_areas"] = list(partnership.service_areas), plan.service_areas
            partnership.service_areas = plan.service_areas or []
        if "public_profile" in plan.changes:
            before["public_profile"], after["public_profile"] = partnership.public_profile, plan.public_profile
            partnership.public_profile = plan.public_profile or ""
        if "joined_at" in plan.changes and plan.joined_on:
            before["joined_at"] = partnership.joined_at.isoformat() if partnership.joined_at else None
            partnership.joined_at = _joined(plan.joined_on)
            after["joined_at"] = partnership.joined_at.isoformat()
        partnership.updated_at = now
        changed.append(partnership)
        if "contact" in plan.changes:
            if plan.contact_obj is None:
                new_contacts.append(PartnerContact(partnership=partnership, **plan.contact))
            else:
                before["contact"] = {f: getattr(plan.contact_obj, f) for f in plan.contact}
                for f, v in plan.contact.items():
                    setattr(plan.contact_obj, f, v)
                plan.contact_obj.updated_at = now
                changed_contacts.append(plan.contact_obj)
            after["contact"] = plan.contact
        events.append(
            _audit(
                actor,
                "partners.partnership.updated",
                "partners.partnership",
                partnership.pk,
                partnership.organisation.name,
                before=before,
                after={**after, "import": job_id},
            )
        )
    if changed:
        Partnership.objects.bulk_update(changed, ["service_areas", "public_profile", "joined_at", "updated_at"])
    if changed_contacts:
        PartnerContact.objects.bulk_update(changed_contacts, ["name", "role", "phone", "email", "updated_at"])
    PartnerContact.objects.bulk_create(new_contacts)
    AuditEvent.objects.bulk_create(events)
    # Imports never change a partnership's status, so only active ones can have a public face to (re)publish.
    partnerships_index(p for p in [*created, *changed] if p.status == PartnershipStatus.ACTIVE)


# --- Export -------------------------------------------------------------------------------------------------------


def _csv_safe(text: str) -> str:
    """Keep spreadsheet programs from running a cell as a formula (CSV injection); import undoes it."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def export_rows(partnerships: QuerySet[Partnership]) -> Iterator[list[str]]:
    """The directory as rows of the import columns, labels in the current language."""
    for p in partnerships.select_related("organisation").prefetch_related("contacts").iterator(chunk_size=1000):
        organisation = p.organisation
        contacts = list(p.contacts.all())
        contact = contacts[0] if contacts else None
        yield [
            organisation.name,
            organisation.credit_code or "",
            str(organisation.get_kind_display()),
            organisation.region_code,
            "、".join(p.service_area_labels),
            str(p.get_status_display()),
            timezone.localtime(p.joined_at).date().isoformat() if p.joined_at else "",
            p.public_profile,
            contact.name if contact else "",
            contact.role if contact else "",
            contact.phone if contact else "",
            contact.email if contact else "",
        ]


def export_file(*, partnerships: QuerySet[Partnership] | None, file_format: str, template: bool = False) -> bytes:
    """The directory (or, with ``template``, an empty import template) as xlsx or CSV bytes."""
    header = [str(c.label) for c in COLUMNS]
    rows: Iterable[list[str]] = export_rows(partnerships) if partnerships is not None else []
    if file_format == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(header)
        for row in rows:
            writer.writerow([_csv_safe(v) for v in row])
        return ("\ufeff" + buffer.getvalue()).encode("utf-8")  # the BOM makes Excel read it as UTF-8
    from openpyxl import Workbook
    from openpyxl.styles import Font

    workbook = Workbook(write_only=False)
    sheet = workbook.active
    sheet.title = _("伙伴")
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row)
    for row_cells in sheet.iter_rows(min_row=2):
        for cell in row_cells:
            cell.data_type = "s"  # text, never a formula; codes keep their leading zeros
    for letter, width in zip("ABCDEFGHIJKL", (36, 22, 12, 12, 24, 10, 12, 40, 10, 12, 16, 24), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    if template:
        _template_notes(workbook)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _template_notes(workbook: Any) -> None:
    notes = workbook.create_sheet(_("填写说明"))
    notes.append([_("列"), _("说明")])
    notes.append([str(COLUMNS[0].label), _("必填。")])
    notes.append([str(COLUMNS[1].label), _("18 位；志愿服务队可不填。已在平台登记的组织按此代码匹配。")])
    notes.append([str(COLUMNS[2].label), "、".join(str(label) for _v, label in OrganisationKind.choices)])
    notes.append([str(COLUMNS[3].label), _("GB/T 2260 六位代码，如 510104。")])
    notes.append([str(COLUMNS[4].label), "、".join(str(label) for _v, label in ServiceArea.choices)])
    notes.append([str(COLUMNS[5].label), _("新增伙伴可填“合作中”（默认）或“审核中”；已有伙伴的状态不能通过导入修改。")])
    notes.append([str(COLUMNS[6].label), _("如 2024-05-01；不填则为导入当天。")])
    notes.append(["", _("已有伙伴：空白单元格表示保持不变。")])
    notes.column_dimensions["A"].width = 20
    notes.column_dimensions["B"].width = 90
