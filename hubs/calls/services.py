"""Writes on a hub's calls, applications, reviews and awards (run inside the hub's schema).

Who may call what: the views check hub roles (staff design calls, screen, assign and decide; reviewers score).
The organisation side (start, save, submit, withdraw, answer) is checked here against the organisation's owners
and admins; the reviewer side against the assignment's reviewer. Every change records an audit event with
before/after, keeps the call's discovery entry and the public application index in step in the same transaction,
and sends email only once it commits.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from hubs.calls import formspec
from hubs.calls.discovery import calls_index
from hubs.calls.models import (
    Application,
    AssignmentStatus,
    Award,
    Call,
    CallStatus,
    CallType,
    Criterion,
    InfoRequest,
    PartnerRule,
    ReviewAssignment,
    ReviewerTie,
    Score,
)
from hubs.core.models import HubMembership
from hubs.partners.models import Partnership, PartnershipStatus
from hubs.partners.services import partnership_apply, service_areas_check
from huoban.audit.services import audit_record, snapshot
from huoban.db import connection
from huoban.errors import ApplicationError
from huoban.identity.models import Organisation, OrganisationKind, OrganisationMember, OrganisationRole, User
from huoban.regions import region_get, region_label
from huoban.storage.models import DocumentKind
from huoban.storage.selectors import organisation_verification_summary
from huoban.tasks import enqueue_on_commit
from tenants.applications.models import ApplicationStatus
from tenants.applications.services import application_index_record
from tenants.entitlements import Resource, entitlement_lock, entitlement_require, usage_record
from tenants.models import Hub, HubRole

A = ApplicationStatus
C = CallStatus
CALL_FIELDS = [
    "funder_id",
    "call_type",
    "title_zh",
    "title_en",
    "description_zh",
    "description_en",
    "total_budget",
    "project_cap",
    "eligible_kinds",
    "require_verified",
    "region_code",
    "partner_rule",
    "service_areas",
    "opens_at",
    "closes_at",
    "review_by",
    "decision_by",
    "required_documents",
    "allow_multiple",
    "blind_review",
    "reviewers_per_application",
    "show_reviewer_comments",
    "project_months",
]
# Fields that may still change once a call is open (they do not change who may apply or how they are judged).
OPEN_EDITABLE = {"title_en", "description_zh", "description_en", "review_by", "decision_by", "show_reviewer_comments"}
APPLICANT_OPEN = frozenset({A.SUBMITTED, A.INFO_REQUESTED, A.IN_REVIEW, A.APPROVED, A.WAITLISTED})
WITHDRAWABLE = frozenset({A.DRAFT, A.SUBMITTED, A.INFO_REQUESTED, A.IN_REVIEW, A.WAITLISTED})
OUTCOMES = ("approve", "reject", "waitlist")


def current_hub() -> Hub:
    hub = getattr(connection, "tenant", None)
    if not isinstance(hub, Hub):
        raise RuntimeError("call services run inside a hub")
    return hub


def _language() -> str:
    return translation.get_language() or settings.LANGUAGE_CODE


def _err(message: str, code: str, field: str | None = None, status: int = 400, **extra: Any) -> ApplicationError:
    if field:
        extra["field"] = field
    return ApplicationError(message, code=code, extra=extra, status=status)


def _label(application: Application) -> str:
    return f"{application.code} {application.title}"[:200]


# --- Calls ----------------------------------------------------------------------------------------------------


def _call_check(data: dict[str, Any]) -> dict[str, Any]:
    """Validate call fields (any subset); returns them cleaned. Raises naming the first bad field."""
    out = dict(data)
    if "call_type" in out and out["call_type"] not in CallType.values:
        raise _err(_("请选择征集类型。"), "invalid_call_type", "call_type")
    if "title_zh" in out:
        out["title_zh"] = (out["title_zh"] or "").strip()
        if not out["title_zh"]:
            raise _err(_("请填写征集标题。"), "invalid_title", "title_zh")
    for key in ("title_en", "description_zh", "description_en"):
        if key in out:
            out[key] = (out[key] or "").strip()
    for key in ("total_budget", "project_cap"):
        if key in out and (not isinstance(out[key], int) or isinstance(out[key], bool) or out[key] <= 0):
            raise _err(_("金额必须大于零。"), "invalid_amount", key)
    if "eligible_kinds" in out:
        kinds = [k for k in out["eligible_kinds"] or [] if k]
        for kind in kinds:
            if kind not in OrganisationKind.values:
                raise _err(_("未知的组织类型：%(kind)s。") % {"kind": kind}, "invalid_kind", "eligible_kinds")
        out["eligible_kinds"] = sorted(set(kinds))
    if out.get("region_code"):
        region = region_get(out["region_code"])
        if region is None or not region.in_force:
            raise _err(_("未知的地区代码：%(code)s。") % {"code": out["region_code"]}, "invalid_region", "region_code")
    if "partner_rule" in out and out["partner_rule"] not in PartnerRule.values:
        raise _err(_("请选择伙伴要求。"), "invalid_partner_rule", "partner_rule")
    if "service_areas" in out:
        out["service_areas"] = service_areas_check(out["service_areas"])
    if "required_documents" in out:
        docs = [d for d in out["required_documents"] or [] if d]
        for doc in docs:
            if doc not in DocumentKind.values:
                raise _err(_("未知的材料类型：%(kind)s。") % {"kind": doc}, "invalid_document", "required_documents")
        out["required_documents"] = sorted(set(docs))
    if "reviewers_per_application" in out and not 1 <= int(out["reviewers_per_application"]) <= 20:
        raise _err(_("每份申请的评审人数应在 1 到 20 之间。"), "invalid_reviewers", "reviewers_per_application")
    if "project_months" in out and not 1 <= int(out["project_months"]) <= 120:
        raise _err(_("项目周期应在 1 到 120 个月之间。"), "invalid_months", "project_months")
    if out.get("funder_id"):
        funder = (
            Partnership.objects.filter(organisation_id=out["funder_id"], status=PartnershipStatus.ACTIVE)
            .select_related("organisation")
            .first()
        )
        if funder is None or funder.organisation.kind not in (OrganisationKind.GOVERNMENT, OrganisationKind.FOUNDATION):
            raise _err(_("资助方须为本枢纽合作中的政府部门或基金会伙伴。"), "invalid_funder", "funder_id")
    elif "funder_id" in out:
        out["funder_id"] = None
    return out


def _call_consistent(call: Call) -> None:
    if call.project_cap > call.total_budget:
        raise _err(_("单个项目上限不能超过总预算。"), "cap_over_budget", "project_cap")
    if call.opens_at and call.opens_at >= call.closes_at:
        raise _err(_("截止时间须晚于开始时间。"), "invalid_timeline", "closes_at")
    closes_day = timezone.localdate(call.closes_at)
    if call.review_by and call.review_by < closes_day:
        raise _err(_("评审完成日期不能早于截止日期。"), "invalid_timeline", "review_by")
    if call.decision_by and call.review_by and call.decision_by < call.review_by:
        raise _err(_("决定日期不能早于评审完成日期。"), "invalid_timeline", "decision_by")


def call_create(*, actor: User, **fields: Any) -> Call:
    """Staff draft a call. Fields as on ``Call`` (money in fen); drafts are never published."""
    unknown = set(fields) - set(CALL_FIELDS)
    if unknown:
        raise _err(_("这些字段不能设置：%(f)s") % {"f": ", ".join(sorted(unknown))}, "invalid_field")
    for required in ("call_type", "title_zh", "total_budget", "project_cap", "closes_at"):
        if fields.get(required) in (None, ""):
            raise _err(_("请填写必填项。"), "required", required)
    data = _call_check(fields)
    call = Call(created_by=actor, **data)
    _call_consistent(call)
    with transaction.atomic():
        call.save()
        audit_record(actor=actor, action="calls.call.created", obj=call, after=snapshot(call, CALL_FIELDS))
    return call


def call_update(*, call: Call, actor: User, **changes: Any) -> Call:
    """Change a call. A draft may change anything; an open or later call only its wording and review dates."""
    unknown = set(changes) - set(CALL_FIELDS)
    if unknown:
        raise _err(_("这些字段不能设置：%(f)s") % {"f": ", ".join(sorted(unknown))}, "invalid_field")
    data = _call_check(changes)
    with transaction.atomic():
        locked = Call.objects.select_for_update().get(pk=call.pk)
        if locked.status == C.ARCHIVED:
            raise _err(_("已归档的征集不能修改。"), "call_archived", status=409)
        if locked.status != C.DRAFT:
            frozen = sorted(k for k, v in data.items() if k not in OPEN_EDITABLE and getattr(locked, k) != v)
            if frozen:
                raise _err(
                    _("征集已发布，申报条件、预算和评审规则不能再修改。"), "call_not_draft", frozen[0], status=409
                )
        before = snapshot(locked, CALL_FIELDS)
        for key, value in data.items():
            setattr(locked, key, value)
        _call_consistent(locked)
        after = snapshot(locked, CALL_FIELDS)
        if after != before:
            locked.save()
            audit_record(actor=actor, action="calls.call.updated", obj=locked, before=before, after=after)
            if locked.status != C.DRAFT:
                calls_index([locked])
    return locked


def _require_draft(call: Call) -> None:
    if call.status != C.DRAFT:
        raise _err(_("征集已发布，不能再修改申请表或评分标准。"), "call_not_draft", status=409)


def call_form_set(*, call: Call, actor: User, fields: Any) -> Call:
    """Staff design the call's application form (draft only); see ``hubs.calls.formspec``."""
    cleaned = formspec.fields_check(fields)
    with transaction.atomic():
        locked = Call.objects.select_for_update().get(pk=call.pk)
        _require_draft(locked)
        before = {"form_fields": locked.form_fields}
        locked.form_fields = cleaned
        locked.save(update_fields=["form_fields", "updated_at"])
        audit_record(
            actor=actor, action="calls.call.form_set", obj=locked, before=before, after={"form_fields": cleaned}
        )
    return locked


@dataclass(frozen=True)
class CriterionInput:
    name_zh: str
    weight: int
    max_score: int = 10
    name_en: str = ""
    guidance: str = ""


def call_rubric_set(*, call: Call, actor: User, criteria: list[CriterionInput]) -> list[Criterion]:
    """Replace the call's scoring rubric (draft only). Each criterion needs a name, a weight and a top score."""
    for index, item in enumerate(criteria):
        if not (item.name_zh or "").strip():
            raise _err(_("第 %(n)s 条评分标准缺少名称。") % {"n": index + 1}, "invalid_criterion", "criteria")
        if not 1 <= item.weight <= 100 or not 1 <= item.max_score <= 100:
            raise _err(
                _("评分标准“%(name)s”的权重和满分应在 1 到 100 之间。") % {"name": item.name_zh},
                "invalid_criterion",
                "criteria",
            )
    with transaction.atomic():
        locked = Call.objects.select_for_update().get(pk=call.pk)
        _require_draft(locked)
        before = list(locked.criteria.values("name_zh", "weight", "max_score"))
        locked.criteria.all().delete()
        made = [
            Criterion.objects.create(
                call=locked,
                name_zh=item.name_zh.strip()[:200],
                name_en=(item.name_en or "").strip()[:200],
                guidance=(item.guidance or "").strip(),
                weight=item.weight,
                max_score=item.max_score,
                position=index,
            )
            for index, item in enumerate(criteria)
        ]
        audit_record(
            actor=actor,
            action="calls.call.rubric_set",
            obj=locked,
            before={"criteria": before},
            after={"criteria": [{"name_zh": c.name_zh, "weight": c.weight, "max_score": c.max_score} for c in made]},
        )
    return made


def open_calls_room() -> None:
    """Refuse (plan_limit) when one more open call would pass the hub's plan; inside the opening transaction."""
    hub = current_hub()
    entitlement_lock(hub=hub)
    current = Call.objects.filter(status=C.OPEN).count()
    entitlement_require(hub=hub, resource=Resource.OPEN_CALLS, current=current, adding=1)


def open_calls_report() -> None:
    usage_record(hub=current_hub(), resource=Resource.OPEN_CALLS, amount=Call.objects.filter(status=C.OPEN).count())


CALL_TRANSITIONS: dict[str, set[str]] = {
    C.DRAFT: {C.OPEN, C.ARCHIVED},
    C.OPEN: {C.CLOSED},
    C.CLOSED: {C.IN_REVIEW},
    C.IN_REVIEW: {C.DECIDED},
    C.DECIDED: {C.ARCHIVED},
    C.ARCHIVED: set(),
}


def call_transition(*, call: Call, to: str, actor: User) -> Call:
    """Move a call along draft → open → closed → in review → decided → archived.

    Opening checks the rubric and timeline and the plan's open-calls limit (under the hub's entitlement lock, so
    two calls opened at once cannot both take the last place) and publishes the call to discovery; closing and
    later steps mark the entry closed; archiving takes it out. Deciding needs every screened-in application decided.
    """
    if to not in C.values:
        raise _err(_("未知的状态。"), "invalid_status", "status")
    with transaction.atomic():
        locked = Call.objects.select_for_update().get(pk=call.pk)
        if to not in CALL_TRANSITIONS[locked.status]:
            raise _err(
                _("征集不能从“%(old)s”变为“%(new)s”。") % {"old": C(locked.status).label, "new": C(to).label},
                "invalid_transition",
                status=409,
                **{"from": locked.status, "to": to},
            )
        if to == C.OPEN:
            if not locked.criteria.exists():
                raise _err(_("请先设置评分标准。"), "rubric_required", "criteria")
            if locked.closes_at <= timezone.now():
                raise _err(_("截止时间已过，请先修改截止时间。"), "deadline_passed", "closes_at")
            open_calls_room()
        if to == C.DECIDED:
            pending = Application.objects.filter(call=locked, status__in=[A.SUBMITTED, A.INFO_REQUESTED, A.IN_REVIEW])
            if pending.exists():
                raise _err(
                    _("还有 %(n)s 份申请未作决定。") % {"n": pending.count()}, "applications_pending", status=409
                )
        before = snapshot(locked, ["status"])
        locked.status = to
        locked.save(update_fields=["status", "updated_at"])
        audit_record(actor=actor, action="calls.call.status_changed", obj=locked, before=before, after={"status": to})
        calls_index([locked])
        if C.OPEN in (to, before["status"]):
            open_calls_report()
    return locked


def call_close_due(*, now: datetime | None = None) -> int:
    """Close every open call whose deadline has passed (the periodic job); returns how many were closed."""
    now = now or timezone.now()
    closed = 0
    for call in Call.objects.filter(status=C.OPEN, closes_at__lte=now):
        call_transition(call=call, to=C.CLOSED, actor=None)  # type: ignore[arg-type]
        closed += 1
    return closed


# --- Eligibility ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    code: str
    message: str


def _within(region_code: str, organisation_region: str) -> bool:
    if region_code == organisation_region:
        return True
    region = region_get(organisation_region)
    return region is not None and region_code in region.parent_codes


def eligibility_refusals(*, call: Call, organisation: Organisation) -> list[Refusal]:
    """Every reason ``organisation`` may not apply to ``call`` (empty: it may), each a translated sentence."""
    refusals: list[Refusal] = []
    if call.eligible_kinds and organisation.kind not in call.eligible_kinds:
        allowed = "、".join(str(OrganisationKind(k).label) for k in call.eligible_kinds)
        refusals.append(
            Refusal(
                "kind_not_eligible",
                _("本征集仅限以下类型的组织申报：%(allowed)s；您的组织是“%(kind)s”。")
                % {"allowed": allowed, "kind": OrganisationKind(organisation.kind).label},
            )
        )
    if call.region_code and not _within(call.region_code, organisation.region_code):
        refusals.append(
            Refusal(
                "region_not_eligible",
                _("本征集仅限%(region)s（含下辖地区）的组织申报；您的组织在%(own)s。")
                % {"region": region_label(call.region_code), "own": region_label(organisation.region_code)},
            )
        )
    if call.require_verified or call.required_documents:
        summary = organisation_verification_summary(organisation_id=organisation.pk)
        if call.require_verified and not summary.complete:
            missing = "、".join(k.label for k in summary.kinds if not k.verified)
            refusals.append(
                Refusal("not_verified", _("本征集要求组织资质已核验；尚未核验：%(missing)s。") % {"missing": missing})
            )
        if call.required_documents:
            from huoban.storage.models import DocumentStatus, OrganisationDocument

            verified = set(
                OrganisationDocument.objects.filter(
                    organisation_id=organisation.pk, superseded_at__isnull=True, status=DocumentStatus.VERIFIED
                ).values_list("kind", flat=True)
            )
            lacking = [d for d in call.required_documents if d not in verified]
            if lacking:
                names = "、".join(str(DocumentKind(d).label) for d in lacking)
                refusals.append(Refusal("documents_missing", _("缺少已核验的申报材料：%(names)s。") % {"names": names}))
    partnership = Partnership.objects.filter(organisation=organisation).first()
    status = partnership.status if partnership else None
    if status == PartnershipStatus.SUSPENDED:
        refusals.append(Refusal("partner_suspended", _("您的组织在本枢纽的伙伴关系已暂停，暂不能申报。")))
    elif call.partner_rule == PartnerRule.ACTIVE and status != PartnershipStatus.ACTIVE:
        refusals.append(Refusal("partner_required", _("本征集仅限本枢纽合作中的伙伴申报。")))
    return refusals


def eligibility_require(*, call: Call, organisation: Organisation) -> None:
    refusals = eligibility_refusals(call=call, organisation=organisation)
    if refusals:
        raise ApplicationError(
            " ".join(r.message for r in refusals),
            code="not_eligible",
            extra={"reasons": [{"code": r.code, "message": r.message} for r in refusals]},
            status=403,
        )


# --- Applications: the organisation side ----------------------------------------------------------------------


def _require_manager(*, organisation: Organisation, user: User) -> None:
    roles = set(OrganisationMember.objects.filter(organisation=organisation, user=user).values_list("role", flat=True))
    if not roles:
        raise _err(_("未找到该申请。"), "not_found", status=404)
    if not roles & {OrganisationRole.OWNER, OrganisationRole.ADMIN}:
        raise _err(_("只有组织负责人或管理员可以这样做。"), "permission_denied", status=403)


def _index(application: Application) -> None:
    """Keep the public cross-hub row of ``application`` in step (same transaction)."""
    hub = current_hub()
    call = application.call
    application_index_record(
        hub=hub,
        application_id=application.pk,
        call_id=call.pk,
        organisation_id=application.organisation_id,
        call_title=call.title_zh,
        call_title_en=call.title_en,
        title=application.title,
        status=application.status,
        status_reason=application.status_reason,
        requested_amount=application.requested_amount,
        awarded_amount=application.awarded_amount,
        closes_at=call.closes_at,
        submitted_at=application.submitted_at,
        link_url=f"{hub.url}/calls/applications/{application.pk}/",
    )


def _deadline_check(call: Call, now: datetime | None = None) -> None:
    now = now or timezone.now()
    if call.status != C.OPEN:
        raise _err(
            _("本征集目前不接受申报（状态：%(s)s）。") % {"s": C(call.status).label}, "call_not_open", status=409
        )
    if call.opens_at and now < call.opens_at:
        raise _err(
            _("本征集将于 %(t)s 开始接受申报。") % {"t": timezone.localtime(call.opens_at).strftime("%Y-%m-%d %H:%M")},
            "call_not_started",
            status=409,
        )
    if now >= call.closes_at:
        raise _err(
            _("本征集已于 %(t)s（北京时间）截止，不能再提交。")
            % {"t": timezone.localtime(call.closes_at).strftime("%Y-%m-%d %H:%M")},
            "deadline_passed",
            status=409,
        )


def application_start(*, call: Call, organisation: Organisation, actor: User) -> Application:
    """An organisation's owner or admin starts (or resumes) its draft for ``call``.

    Refused with every reason when the organisation is not eligible, and after the deadline.
    """
    _require_manager(organisation=organisation, user=actor)
    _deadline_check(call)
    eligibility_require(call=call, organisation=organisation)
    with transaction.atomic():
        existing = Application.objects.filter(call=call, organisation=organisation, status=A.DRAFT).first()
        if existing is not None:
            return existing
        if (
            not call.allow_multiple
            and Application.objects.filter(call=call, organisation=organisation, status__in=APPLICANT_OPEN).exists()
        ):
            raise _err(_("您的组织已向本征集提交过申请。"), "already_applied", status=409)
        application = Application.objects.create(call=call, organisation=organisation, created_by=actor)
        audit_record(
            actor=actor,
            action="calls.application.started",
            obj=application,
            object_label=_label(application),
            after={"call": call.pk, "organisation": organisation.pk},
        )
        _index(application)
    return application


def application_save(
    *,
    application: Application,
    actor: User,
    title: str | None = None,
    summary: str | None = None,
    requested_amount: int | str | None = None,
    answers: dict[str, Any] | None = None,
) -> Application:
    """Save a draft (autosave): each answer is checked against its field's type; required ones only on submit.
    A bad value is refused with its field's message and nothing is saved."""
    _require_manager(organisation=application.organisation, user=actor)
    call = application.call
    updates: dict[str, Any] = {}
    if title is not None:
        title = title.strip()
        if len(title) > 200:
            raise _err(_("项目名称最多 200 个字。"), "invalid_title", "title")
        updates["title"] = title
    if summary is not None:
        updates["summary"] = summary.strip()
    if requested_amount not in (None, ""):
        try:
            fen = (
                requested_amount
                if isinstance(requested_amount, int) and not isinstance(requested_amount, bool)
                else formspec.money_parse(requested_amount)
            )
        except ValueError as exc:
            raise _err(_("申请金额应为金额（元，最多两位小数）。"), "invalid_amount", "requested_amount") from exc
        if fen > call.project_cap:
            raise _err(
                _("申请金额不能超过单个项目上限 ¥%(cap)s。") % {"cap": formspec.yuan(call.project_cap)},
                "over_cap",
                "requested_amount",
            )
        updates["requested_amount"] = fen
    if answers is not None:
        cleaned = formspec.answers_check(
            call.form_fields, answers, partial=True, hub_id=current_hub().pk, cap=call.project_cap
        )
        updates["answers"] = {**application.answers, **cleaned}
        for field in call.form_fields:  # a cleared optional answer is removed
            if field["key"] in answers and field["key"] not in cleaned:
                updates["answers"].pop(field["key"], None)
    with transaction.atomic():
        locked = Application.objects.select_for_update().get(pk=application.pk)
        if locked.status != A.DRAFT:
            raise _err(_("只有草稿可以修改。"), "not_draft", status=409)
        for key, value in updates.items():
            setattr(locked, key, value)
        locked.save()
        _index(locked)
    return locked


def application_submit(*, application: Application, actor: User) -> Application:
    """Submit a draft before the deadline (server time).

    Checked, in order: the organisation's manager; the call is open and its deadline not passed; eligibility (every
    reason); the form (every field); the amount (above zero, within the per-project cap); one submission per
    organisation unless the call allows more (under a lock on the call, so two submissions cannot both pass). An
    organisation not yet in the hub's partner network applies to join it in the same transaction.
    """
    _require_manager(organisation=application.organisation, user=actor)
    with transaction.atomic():
        call = Call.objects.select_for_update().get(pk=application.call_id)
        locked = Application.objects.select_for_update().select_related("organisation").get(pk=application.pk)
        if locked.status != A.DRAFT:
            raise _err(_("这份申请已提交过。"), "not_draft", status=409)
        _deadline_check(call)
        eligibility_require(call=call, organisation=locked.organisation)
        locked.answers = formspec.answers_check(
            call.form_fields, locked.answers, partial=False, hub_id=current_hub().pk, cap=call.project_cap
        )
        if not locked.title:
            raise _err(_("请填写项目名称。"), "invalid_title", "title")
        if locked.requested_amount <= 0:
            raise _err(_("请填写申请金额。"), "invalid_amount", "requested_amount")
        if locked.requested_amount > call.project_cap:
            raise _err(
                _("申请金额不能超过单个项目上限 ¥%(cap)s。") % {"cap": formspec.yuan(call.project_cap)},
                "over_cap",
                "requested_amount",
            )
        if not call.allow_multiple and (
            Application.objects.filter(call=call, organisation_id=locked.organisation_id, status__in=APPLICANT_OPEN)
            .exclude(pk=locked.pk)
            .exists()
        ):
            raise _err(_("您的组织已向本征集提交过申请。"), "already_applied", status=409)
        partnership = Partnership.objects.filter(organisation_id=locked.organisation_id).first()
        joined = False
        if partnership is None or partnership.status in (
            PartnershipStatus.INVITED,
            PartnershipStatus.REJECTED,
            PartnershipStatus.LEFT,
        ):
            partnership_apply(organisation=locked.organisation, actor=actor, service_areas=list(call.service_areas[:1]))
            joined = True
        locked.status = A.SUBMITTED
        locked.submitted_at = timezone.now()
        locked.save()
        audit_record(
            actor=actor,
            action="calls.application.submitted",
            obj=locked,
            object_label=_label(locked),
            before={"status": A.DRAFT},
            after={"status": A.SUBMITTED, "requested_amount": locked.requested_amount, "joined_network": joined},
        )
        locked.call = call
        _index(locked)
    return locked


def application_withdraw(*, application: Application, actor: User, reason: str = "") -> Application:
    """The organisation withdraws its application before a decision."""
    _require_manager(organisation=application.organisation, user=actor)
    return _application_move(application=application, to=A.WITHDRAWN, actor=actor, reason=reason, allowed=WITHDRAWABLE)


def _application_move(
    *, application: Application, to: str, actor: User, reason: str = "", allowed: frozenset[str] | set[str]
) -> Application:
    with transaction.atomic():
        locked = Application.objects.select_for_update().select_related("call").get(pk=application.pk)
        if locked.status not in allowed:
            raise _err(
                _("申请不能从“%(old)s”变为“%(new)s”。") % {"old": A(locked.status).label, "new": A(to).label},
                "invalid_transition",
                status=409,
            )
        before = snapshot(locked, ["status", "status_reason"])
        locked.status = to
        locked.status_reason = (reason or "").strip()[:500]
        locked.save(update_fields=["status", "status_reason", "saved_at"])
        audit_record(
            actor=actor,
            action="calls.application.status_changed",
            obj=locked,
            object_label=_label(locked),
            before=before,
            after=snapshot(locked, ["status", "status_reason"]),
        )
        _index(locked)
    return locked


def application_info_request(*, application: Application, actor: User, question: str) -> InfoRequest:
    """Staff ask the applicant for more information; the application waits for the answer."""
    question = (question or "").strip()
    if not question:
        raise _err(_("请写明需要补充的内容。"), "question_required", "question")
    with transaction.atomic():
        before = application.status
        moved = _application_move(
            application=application, to=A.INFO_REQUESTED, actor=actor, allowed={A.SUBMITTED, A.IN_REVIEW}
        )
        request = InfoRequest.objects.create(application=moved, question=question, asked_by=actor, return_status=before)
        _notify(moved, "info_requested")
    return request


def application_info_answer(*, info_request: InfoRequest, actor: User, answer: str) -> InfoRequest:
    """The applicant answers; the application goes back to where it was."""
    application = info_request.application
    _require_manager(organisation=application.organisation, user=actor)
    answer = (answer or "").strip()
    if not answer:
        raise _err(_("请填写答复。"), "answer_required", "answer")
    with transaction.atomic():
        locked = InfoRequest.objects.select_for_update().get(pk=info_request.pk)
        if locked.answered_at is not None:
            raise _err(_("这个问题已经答复过。"), "already_answered", status=409)
        locked.answer, locked.answered_by, locked.answered_at = answer, actor, timezone.now()
        locked.save()
        if not InfoRequest.objects.filter(application=application, answered_at__isnull=True).exists():
            _application_move(application=application, to=locked.return_status, actor=actor, allowed={A.INFO_REQUESTED})
    return locked


def application_screen(*, application: Application, actor: User, eligible: bool, reason: str = "") -> Application:
    """Staff's eligibility screening: into expert review, or out with a reason the applicant is told."""
    if not eligible and not (reason or "").strip():
        raise _err(_("请说明资格审查未通过的原因（会告知申请方）。"), "reason_required", "reason")
    to = A.IN_REVIEW if eligible else A.INELIGIBLE
    moved = _application_move(application=application, to=to, actor=actor, reason=reason, allowed={A.SUBMITTED})
    if not eligible:
        _notify(moved, "screened_out")
    return moved


# --- Review ---------------------------------------------------------------------------------------------------


def _reviewer_ids() -> list[int]:
    return list(
        HubMembership.objects.filter(roles__contains=[HubRole.REVIEWER])
        .order_by("user_id")
        .values_list("user_id", flat=True)
    )


def conflict_reason(*, reviewer_id: int, organisation_id: int) -> str | None:
    """Why ``reviewer_id`` may not review ``organisation_id``'s applications, or None."""
    if OrganisationMember.objects.filter(user_id=reviewer_id, organisation_id=organisation_id).exists():
        return _("该评审专家是申报组织的成员，须回避。")
    if ReviewerTie.objects.filter(reviewer_id=reviewer_id, organisation_id=organisation_id).exists():
        return _("该评审专家已声明与申报组织存在关联，须回避。")
    return None


def reviewer_assign(*, application: Application, reviewer: User, actor: User) -> ReviewAssignment:
    """Staff assign one reviewer by hand. Refused for non-reviewers and for anyone with a conflict."""
    if reviewer.pk not in _reviewer_ids():
        raise _err(_("只能分配本枢纽的评审专家。"), "not_reviewer", "reviewer")
    reason = conflict_reason(reviewer_id=reviewer.pk, organisation_id=application.organisation_id)
    if reason:
        raise _err(reason, "conflict_of_interest", "reviewer", status=409)
    with transaction.atomic():
        locked = Application.objects.select_for_update().get(pk=application.pk)
        if locked.status != A.IN_REVIEW:
            raise _err(_("只有通过资格审查的申请可以分配评审。"), "not_in_review", status=409)
        assignment, created = ReviewAssignment.objects.get_or_create(
            application=locked, reviewer_id=reviewer.pk, defaults={"call_id": locked.call_id, "assigned_by": actor}
        )
        if not created:
            raise _err(_("该评审专家已分配给这份申请。"), "already_assigned", "reviewer", status=409)
        audit_record(
            actor=actor,
            action="calls.review.assigned",
            obj=assignment,
            object_label=_label(locked),
            after={"reviewer": reviewer.pk, "application": locked.pk},
        )
    return assignment


def reviewers_auto_assign(*, call: Call, actor: User, per_application: int | None = None) -> int:
    """Give every screened-in application of ``call`` up to N reviewers (the call's setting by default), picking
    the least-loaded reviewers first and never one with a conflict (member of the applicant organisation, or a
    declared tie). Returns the number of assignments made. Under a lock on the call: two runs do not double up."""
    per = per_application or call.reviewers_per_application
    if not 1 <= per <= 20:
        raise _err(_("每份申请的评审人数应在 1 到 20 之间。"), "invalid_reviewers", "per_application")
    reviewers = _reviewer_ids()
    if not reviewers:
        raise _err(_("本枢纽还没有评审专家。"), "no_reviewers", status=409)
    with transaction.atomic():
        Call.objects.select_for_update().get(pk=call.pk)
        applications = list(
            Application.objects.filter(call=call, status=A.IN_REVIEW)
            .order_by("pk")
            .values_list("pk", "organisation_id")
        )
        existing: dict[int, set[int]] = {}
        counted: dict[int, int] = {}
        load = dict.fromkeys(reviewers, 0)
        for app_id, reviewer_id, status in ReviewAssignment.objects.filter(call=call).values_list(
            "application_id", "reviewer_id", "status"
        ):
            existing.setdefault(app_id, set()).add(reviewer_id)
            if status != AssignmentStatus.CONFLICT:
                counted[app_id] = counted.get(app_id, 0) + 1
                if reviewer_id in load:
                    load[reviewer_id] += 1
        members: dict[int, set[int]] = {}
        for user_id, org_id in OrganisationMember.objects.filter(user_id__in=reviewers).values_list(
            "user_id", "organisation_id"
        ):
            members.setdefault(org_id, set()).add(user_id)
        for user_id, org_id in ReviewerTie.objects.filter(reviewer_id__in=reviewers).values_list(
            "reviewer_id", "organisation_id"
        ):
            members.setdefault(org_id, set()).add(user_id)
        new: list[ReviewAssignment] = []
        short = 0
        for app_id, org_id in applications:
            need = per - counted.get(app_id, 0)
            if need <= 0:
                continue
            excluded = existing.get(app_id, set()) | members.get(org_id, set())
            candidates = sorted((r for r in reviewers if r not in excluded), key=lambda r: (load[r], r))[:need]
            short += need - len(candidates)
            for reviewer_id in candidates:
                load[reviewer_id] += 1
                new.append(
                    ReviewAssignment(application_id=app_id, call_id=call.pk, reviewer_id=reviewer_id, assigned_by=actor)
                )
        ReviewAssignment.objects.bulk_create(new, batch_size=1000)
        audit_record(
            actor=actor,
            action="calls.review.auto_assigned",
            obj=call,
            after={"assignments": len(new), "per_application": per, "unfilled": short},
        )
    return len(new)


def _own_assignment(assignment: ReviewAssignment, actor: User) -> ReviewAssignment:
    locked = ReviewAssignment.objects.select_for_update().select_related("application", "call").get(pk=assignment.pk)
    if locked.reviewer_id != actor.pk:
        raise _err(_("未找到该评审任务。"), "not_found", status=404)
    return locked


def review_declare(*, assignment: ReviewAssignment, actor: User, conflict: bool, note: str = "") -> ReviewAssignment:
    """The reviewer declares, before seeing the application, whether they have a conflict of interest.

    A conflict takes them off this application and records a tie, so they are never assigned this organisation's
    applications in this hub again. No conflict opens the application for scoring.
    """
    with transaction.atomic():
        locked = _own_assignment(assignment, actor)
        if locked.status != AssignmentStatus.PENDING:
            raise _err(_("已经声明过。"), "already_declared", status=409)
        locked.declared_at = timezone.now()
        locked.conflict_note = (note or "").strip()[:500]
        if conflict:
            locked.status = AssignmentStatus.CONFLICT
            ReviewerTie.objects.get_or_create(
                reviewer_id=actor.pk,
                organisation_id=locked.application.organisation_id,
                defaults={"note": locked.conflict_note},
            )
        else:
            locked.status = AssignmentStatus.REVIEWING
        locked.save()
        audit_record(
            actor=actor,
            action="calls.review.declared",
            obj=locked,
            after={"conflict": conflict, "note": locked.conflict_note},
        )
    return locked


@dataclass(frozen=True)
class ScoreInput:
    criterion_id: int
    score: int
    comment: str = ""


def weighted_total(pairs: list[tuple[int, int, int]]) -> Decimal:
    """Weighted score out of 100 from (score, max_score, weight) triples, rounded to 2 places."""
    weights = sum(w for _s, _m, w in pairs)
    if not weights:
        return Decimal("0.00")
    raw = sum(Decimal(s) / Decimal(m) * Decimal(w) for s, m, w in pairs) / Decimal(weights) * 100
    return raw.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def review_score(
    *, assignment: ReviewAssignment, actor: User, scores: list[ScoreInput], submit: bool = False
) -> ReviewAssignment:
    """The reviewer scores criteria (0..top score) with comments; ``submit`` needs every criterion and locks
    the scores in. Only after declaring no conflict, while the application is in review."""
    with transaction.atomic():
        locked = _own_assignment(assignment, actor)
        if locked.status == AssignmentStatus.PENDING:
            raise _err(_("请先声明利益冲突情况。"), "declaration_required", status=409)
        if locked.status == AssignmentStatus.CONFLICT:
            raise _err(_("您已回避这份申请。"), "conflict_of_interest", status=403)
        if locked.status == AssignmentStatus.SUBMITTED:
            raise _err(_("评分已提交，不能再修改。"), "already_submitted", status=409)
        if locked.application.status != A.IN_REVIEW:
            raise _err(_("这份申请目前不在评审中。"), "not_in_review", status=409)
        criteria = {c.pk: c for c in Criterion.objects.filter(call_id=locked.call_id)}
        for item in scores:
            criterion = criteria.get(item.criterion_id)
            if criterion is None:
                raise _err(_("未知的评分标准。"), "invalid_criterion", "scores")
            if not 0 <= item.score <= criterion.max_score:
                raise _err(
                    _("“%(name)s”的得分应在 0 到 %(max)s 之间。")
                    % {"name": criterion.name, "max": criterion.max_score},
                    "invalid_score",
                    f"score_{criterion.pk}",
                )
        for item in scores:
            Score.objects.update_or_create(
                assignment=locked,
                criterion_id=item.criterion_id,
                defaults={"score": item.score, "comment": (item.comment or "").strip()},
            )
        if submit:
            have = {s.criterion_id: s for s in locked.scores.all()}
            missing = [c.name for pk, c in criteria.items() if pk not in have]
            if missing:
                raise _err(_("还有评分标准未打分：%(names)s。") % {"names": "、".join(missing)}, "scores_incomplete")
            locked.total = weighted_total([(have[pk].score, c.max_score, c.weight) for pk, c in criteria.items()])
            locked.status = AssignmentStatus.SUBMITTED
            locked.submitted_at = timezone.now()
            locked.save()
            audit_record(
                actor=actor,
                action="calls.review.submitted",
                obj=locked,
                after={"total": str(locked.total), "scores": {str(s.criterion_id): s.score for s in have.values()}},
            )
    return locked


# --- Determination and awards ---------------------------------------------------------------------------------


def application_determine(
    *, application: Application, actor: User, outcome: str, amount: int | None = None, reason: str = ""
) -> Application:
    """The committee's determination: approve with an amount, reject with a reason, or waitlist.

    An approval never takes the call past its budget: the call row is locked (select_for_update) while the
    awarded total is summed and the award written, so two approvals at the same moment are serialised and the
    second sees the first. The amount must be above zero, within the per-project cap and the remaining budget, and
    the organisation must be an active partner (the award becomes its project). The decision letter is emailed
    once the transaction commits.
    """
    if outcome not in OUTCOMES:
        raise _err(_("请选择决定：立项、不予资助或候补。"), "invalid_outcome", "outcome")
    reason = (reason or "").strip()
    if outcome == "reject" and not reason:
        raise _err(_("请说明不予资助的原因（会告知申请方）。"), "reason_required", "reason")
    with transaction.atomic():
        call = Call.objects.select_for_update().get(pk=application.call_id)
        locked = Application.objects.select_for_update().select_related("organisation").get(pk=application.pk)
        if call.status not in (C.CLOSED, C.IN_REVIEW, C.DECIDED):
            raise _err(_("征集截止后才能作出决定。"), "call_not_in_review", status=409)
        allowed = {A.IN_REVIEW, A.WAITLISTED}
        if locked.status not in allowed or (outcome == "waitlist" and locked.status == A.WAITLISTED):
            raise _err(
                _("这份申请（%(s)s）不能作此决定。") % {"s": A(locked.status).label}, "invalid_transition", status=409
            )
        before = snapshot(locked, ["status", "status_reason", "awarded_amount"])
        if outcome == "approve":
            if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
                raise _err(_("请填写资助金额。"), "invalid_amount", "amount")
            if amount > call.project_cap:
                raise _err(
                    _("资助金额不能超过单个项目上限 ¥%(cap)s。") % {"cap": formspec.yuan(call.project_cap)},
                    "over_cap",
                    "amount",
                )
            awarded = Award.objects.filter(call=call).aggregate(total=Sum("amount"))["total"] or 0
            remaining = call.total_budget - awarded
            if amount > remaining:
                raise _err(
                    _("资助金额 ¥%(amount)s 超过本征集剩余预算 ¥%(remaining)s。")
                    % {"amount": formspec.yuan(amount), "remaining": formspec.yuan(remaining)},
                    "over_budget",
                    "amount",
                    status=409,
                    remaining=remaining,
                )
            if not Partnership.objects.filter(
                organisation_id=locked.organisation_id, status=PartnershipStatus.ACTIVE
            ).exists():
                raise _err(
                    _("「%(name)s」还不是本枢纽合作中的伙伴，请先通过其伙伴申请。")
                    % {"name": locked.organisation.name},
                    "not_active_partner",
                    status=409,
                )
            locked.status, locked.awarded_amount = A.APPROVED, amount
        else:
            locked.status = A.REJECTED if outcome == "reject" else A.WAITLISTED
        locked.status_reason = reason[:500]
        locked.decided_by, locked.decided_at = actor, timezone.now()
        locked.save()
        locked.call = call
        audit_record(
            actor=actor,
            action="calls.application.determined",
            obj=locked,
            object_label=_label(locked),
            before=before,
            after=snapshot(locked, ["status", "status_reason", "awarded_amount"]),
        )
        if outcome == "approve":
            award_project_create(application=locked, actor=actor)
        _index(locked)
        _notify(locked, "decided")
    return locked


def award_project_create(*, application: Application, actor: User) -> Award:
    """Record the award of an approved application and, where hubs.projects runs in this deployment, make its
    project: funded by the call's funder (the awarded amount, restricted to the project), titled and summarised
    from the application, implemented by the applicant, with a source reference back to the application. The
    project's id is kept on the award. Without hubs.projects, only the award is recorded."""
    call = application.call
    award = Award.objects.create(
        application=application,
        call=call,
        organisation_id=application.organisation_id,
        amount=application.awarded_amount or 0,
        created_by=actor,
    )
    if apps.is_installed("hubs.projects"):
        projects = importlib.import_module("hubs.projects.services")
        start = timezone.localdate()
        funding = []
        if call.funder_id:
            funding = [projects.FundingInput(funder_id=call.funder_id, amount=award.amount, restricted=True)]
        project = projects.project_create(
            title_zh=application.title,
            implementer_id=application.organisation_id,
            service_area=(call.service_areas or ["other"])[0],
            start_date=start,
            end_date=_add_months(start, call.project_months),
            actor=actor,
            summary=application.summary,
            funding=funding,
            source=f"call_application:{application.pk}",
        )
        award.project_id = project.pk
        award.save(update_fields=["project_id"])
    audit_record(
        actor=actor,
        action="calls.award.created",
        obj=award,
        object_label=_label(application),
        after={"application": application.pk, "amount": award.amount, "project": award.project_id},
    )
    return award


def _add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for candidate in (day.day, 30, 29, 28):
        try:
            return date(year, month, min(day.day, candidate))
        except ValueError:
            continue
    return day + timedelta(days=30 * months)


def call_budget(*, call: Call) -> dict[str, int]:
    awarded = Award.objects.filter(call=call).aggregate(total=Sum("amount"), n=Count("id"))
    total = awarded["total"] or 0
    return {
        "total": call.total_budget,
        "awarded": total,
        "remaining": call.total_budget - total,
        "awards": awarded["n"],
    }


def _notify(application: Application, event: str) -> None:
    from hubs.calls.tasks import application_letter_send

    enqueue_on_commit(application_letter_send, application_id=application.pk, event=event, language=_language())
