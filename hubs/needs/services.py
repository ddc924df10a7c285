"""Writes of the needs app: intake, triage, expert review, public notice, the matchmaking fair.

Every function runs inside the current hub's schema. Refusals are ``ApplicationError``s with a code of this app
and change nothing. State changes of needs, ideas, rounds, fairs and claims leave audit events.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib
import ipaddress
import re
import secrets
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import IO, Any

from django.apps import apps
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from hubs.ledger import services as ledger
from hubs.ledger.models import AccountKind
from hubs.needs import discovery as needs_discovery
from hubs.needs.models import (
    Category,
    Channel,
    Claim,
    ClaimStatus,
    Fair,
    FairStatus,
    FlagKind,
    IdeaScore,
    IdeaStatus,
    MatchingRule,
    Need,
    NeedStatus,
    NoticeRound,
    Objection,
    PhoneCode,
    ProjectIdea,
    Resident,
    ReviewCriterion,
    Support,
    SupportFlag,
)
from hubs.partners.models import Partnership, PartnershipStatus
from huoban.audit.services import audit_record
from huoban.db import connection
from huoban.errors import ApplicationError
from huoban.sms import sms_sender

PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
CODE_TTL = timedelta(minutes=10)
CODE_RESEND_AFTER = timedelta(seconds=60)
CODES_PER_HOUR = 5
CODE_ATTEMPTS = 5
STAFF_CHANNELS = frozenset(Channel.values) - {Channel.ONLINE}


def _err(message: str, code: str, field: str | None = None, *, status: int = 400, **extra: Any) -> ApplicationError:
    if field:
        extra["field"] = field
    return ApplicationError(message, code=code, extra=extra, status=status)


def _text(value: Any, field: str, *, max_length: int, required: bool = True) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise _err(_("请填写此项。"), "required", field)
    if len(text) > max_length:
        raise _err(_("内容过长（最多 %(n)d 个字）。") % {"n": max_length}, "too_long", field)
    return text


def _amount(value: Any, field: str = "amount") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise _err(_("金额必须是大于零的整数（分）。"), "invalid_amount", field)
    return value


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "is_authenticated", False) else None


# --- Residents and one-time codes ----------------------------------------------------------------------------


def phone_normalise(phone: Any) -> str:
    phone = re.sub(r"[\s-]", "", str(phone or ""))
    if phone.startswith("+86"):
        phone = phone[3:]
    if not PHONE_RE.match(phone):
        raise _err(_("请输入有效的 11 位手机号。"), "invalid_phone", "phone")
    return phone


def _code_hash(phone: str, code: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def phone_code_send(*, phone: str) -> PhoneCode:
    """Send a six-digit code to ``phone`` by SMS. At most one code a minute and five an hour per phone (the views
    also limit by client IP). The message is sent after the code is committed."""
    phone = phone_normalise(phone)
    now = timezone.now()
    recent = PhoneCode.objects.filter(phone=phone, created_at__gte=now - timedelta(hours=1))
    if recent.filter(created_at__gte=now - CODE_RESEND_AFTER).exists():
        raise _err(_("验证码已发送，请一分钟后再试。"), "code_too_soon", "phone", status=429)
    if recent.count() >= CODES_PER_HOUR:
        raise _err(_("验证码发送次数过多，请一小时后再试。"), "code_too_many", "phone", status=429)
    code = f"{secrets.randbelow(10**6):06d}"
    row = PhoneCode.objects.create(phone=phone, code_hash=_code_hash(phone, code), expires_at=now + CODE_TTL)
    hub_name = connection.tenant.name_zh
    text = _("【%(hub)s】您的验证码是 %(code)s，10 分钟内有效。") % {"hub": hub_name, "code": code}
    transaction.on_commit(lambda: sms_sender().send(phone=phone, text=text))
    return row


def phone_code_verify(*, phone: str, code: str, name: str = "") -> Resident:
    """Check the newest unused code for ``phone`` (five attempts, ten minutes) and return the verified resident,
    made on first verification. The phone is the resident's identity for supports and objections."""
    phone = phone_normalise(phone)
    code = str(code or "").strip()
    with transaction.atomic():
        row = (
            PhoneCode.objects.select_for_update()
            .filter(phone=phone, used_at__isnull=True, expires_at__gt=timezone.now())
            .order_by("-created_at")
            .first()
        )
        if row is None or row.attempts >= CODE_ATTEMPTS:
            raise _err(_("验证码已失效，请重新获取。"), "code_expired", "code")
        row.attempts = F("attempts") + 1
        if not hmac.compare_digest(row.code_hash, _code_hash(phone, code)):
            row.save(update_fields=["attempts"])
            raise_later = _err(_("验证码不正确。"), "code_invalid", "code")
        else:
            row.used_at = timezone.now()
            row.save(update_fields=["attempts", "used_at"])
            raise_later = None
    if raise_later is not None:
        raise raise_later
    return _resident_verified(phone=phone, name=name)


def _resident_verified(*, phone: str, name: str) -> Resident:
    name = _text(name, "name", max_length=100, required=False)
    for _attempt in range(2):
        try:
            with transaction.atomic():
                resident, _created = Resident.objects.get_or_create(phone=phone, defaults={"name": name})
                break
        except IntegrityError:  # made at the same moment by another request
            continue
    else:  # pragma: no cover
        resident = Resident.objects.get(phone=phone)
    changes: dict[str, Any] = {}
    if resident.phone_verified_at is None:
        changes["phone_verified_at"] = timezone.now()
    if name and not resident.name:
        changes["name"] = name
    if changes:
        Resident.objects.filter(pk=resident.pk).update(**changes)
        for key, value in changes.items():
            setattr(resident, key, value)
    return resident


def resident_for_user(*, user: Any) -> Resident:
    """The resident record of a signed-in user (an account counts as verified), made on first use."""
    resident = Resident.objects.filter(user_id=user.pk).first()
    if resident is not None:
        return resident
    try:
        with transaction.atomic():
            return Resident.objects.create(user_id=user.pk, name=user.name or "")
    except IntegrityError:
        return Resident.objects.get(user_id=user.pk)


def resident_is_verified(resident: Resident) -> bool:
    return resident.phone_verified_at is not None or resident.user_id is not None


# --- Needs: intake ---------------------------------------------------------------------------------------------


def _photo_store(fileobj: IO[bytes] | None, name: str, uploaded_by: Any) -> Any:
    if fileobj is None:
        return None
    from huoban.storage.models import FilePurpose
    from huoban.storage.services import file_store

    hub = connection.tenant
    stored = file_store(
        fileobj=fileobj,
        original_name="photo",  # never the uploader's file name, which may carry a person's name
        purpose=FilePurpose.PHOTO,
        uploaded_by=_user(uploaded_by),
        hub_id=hub.pk,
        hub_schema=hub.schema_name,
    )
    return stored.pk


def _need_fields(*, title: Any, body: Any, category: Any, street: Any, community: Any) -> dict[str, Any]:
    if category not in Category.values:
        raise _err(_("请选择需求类别。"), "invalid_category", "category")
    return {
        "title": _text(title, "title", max_length=200),
        "body": _text(body, "body", max_length=5000),
        "category": category,
        "street": _text(street, "street", max_length=100, required=False),
        "community": _text(community, "community", max_length=100, required=False),
    }


def need_submit(
    *,
    resident: Resident,
    title: str,
    body: str,
    category: str,
    street: str = "",
    community: str = "",
    name: str = "",
    photo: IO[bytes] | None = None,
    photo_name: str = "",
    user: Any = None,
) -> Need:
    """A resident's own need through the public form (channel ``online``). The resident must be verified by an
    SMS code or signed in. Returns the need; its ``token`` is the resident's private link to follow it."""
    if not resident_is_verified(resident):
        raise _err(_("请先验证手机号或登录。"), "resident_unverified", "phone", status=403)
    fields = _need_fields(title=title, body=body, category=category, street=street, community=community)
    name = _text(name, "name", max_length=100, required=False)
    with transaction.atomic():
        if name and not resident.name:
            Resident.objects.filter(pk=resident.pk).update(name=name)
            resident.name = name
        need = Need.objects.create(
            resident=resident,
            channel=Channel.ONLINE,
            photo_id=_photo_store(photo, photo_name, user),
            created_by=_user(user),
            **fields,
        )
        audit_record(actor=user, action="needs.need.submitted", obj=need, after={"channel": Channel.ONLINE})
    return need


def need_record(
    *,
    actor: Any,
    channel: str,
    title: str,
    body: str,
    category: str,
    street: str = "",
    community: str = "",
    name: str = "",
    phone: str = "",
    photo: IO[bytes] | None = None,
    photo_name: str = "",
) -> Need:
    """Staff enter a need received by visit, letter, phone, SMS, WeChat, a meeting or a survey. A phone number
    attaches the need to that resident (made once, not verified by this); a name alone makes an unverified
    resident; neither records the need anonymously."""
    if channel not in STAFF_CHANNELS:
        raise _err(_("请选择收到需求的渠道。"), "invalid_channel", "channel")
    fields = _need_fields(title=title, body=body, category=category, street=street, community=community)
    name = _text(name, "name", max_length=100, required=False)
    phone = phone_normalise(phone) if str(phone or "").strip() else ""
    with transaction.atomic():
        resident: Resident | None = None
        if phone:
            resident, _created = Resident.objects.get_or_create(phone=phone, defaults={"name": name})
            if name and not resident.name:
                Resident.objects.filter(pk=resident.pk).update(name=name)
        elif name:
            resident = Resident.objects.create(name=name)
        need = Need.objects.create(
            resident=resident,
            channel=channel,
            photo_id=_photo_store(photo, photo_name, actor),
            created_by=_user(actor),
            **fields,
        )
        audit_record(actor=actor, action="needs.need.recorded", obj=need, after={"channel": channel})
    return need


# --- Needs: triage ---------------------------------------------------------------------------------------------

OPEN_NEED_STATUSES = (NeedStatus.NEW, NeedStatus.ACCEPTED)


def _locked_need(need: Need) -> Need:
    return Need.objects.select_for_update().get(pk=need.pk)


def need_merge(*, need: Need, into: Need, actor: Any) -> Need:
    """Mark ``need`` a duplicate of ``into``: its submitter then follows ``into``. Needs already merged into
    ``need`` follow ``into`` too. Only open needs merge, and not into themselves."""
    if need.pk == into.pk:
        raise _err(_("不能把需求合并到它自己。"), "merge_self", "into")
    with transaction.atomic():
        first, second = sorted([need.pk, into.pk])
        locked = {n.pk: n for n in Need.objects.select_for_update().filter(pk__in=[first, second]).order_by("pk")}
        source, target = locked[need.pk], locked[into.pk]
        if source.status not in OPEN_NEED_STATUSES:
            raise _err(_("只有待处理或已受理的需求可以合并。"), "need_not_open", status=409)
        if target.status not in (*OPEN_NEED_STATUSES, NeedStatus.IN_IDEA):
            raise _err(_("不能合并到已合并或未采纳的需求。"), "merge_target_closed", "into", status=409)
        Need.objects.filter(merged_into=source).update(merged_into=target)
        source.status = NeedStatus.MERGED
        source.merged_into = target
        source.tags = sorted(set(source.tags))
        source.save(update_fields=["status", "merged_into", "updated_at"])
        if source.tags:
            target.tags = sorted(set(target.tags) | set(source.tags))
            target.save(update_fields=["tags", "updated_at"])
        audit_record(actor=actor, action="needs.need.merged", obj=source, after={"into": target.pk})
    return source


def need_tag(*, need: Need, tags: Iterable[str], actor: Any) -> Need:
    """Set a need's tags (and accept a new need)."""
    clean = sorted({_text(tag, "tags", max_length=40) for tag in tags})
    if len(clean) > 20:
        raise _err(_("标签最多 20 个。"), "too_many_tags", "tags")
    with transaction.atomic():
        locked = _locked_need(need)
        before = {"tags": locked.tags, "status": locked.status}
        locked.tags = clean
        if locked.status == NeedStatus.NEW:
            locked.status = NeedStatus.ACCEPTED
        locked.save(update_fields=["tags", "status", "updated_at"])
        audit_record(actor=actor, action="needs.need.tagged", obj=locked, before=before, after={"tags": clean})
    return locked


def need_reject(*, need: Need, reason: str, actor: Any) -> Need:
    """Decline an open need with a reason the submitter sees."""
    reason = _text(reason, "reason", max_length=500)
    with transaction.atomic():
        locked = _locked_need(need)
        if locked.status not in OPEN_NEED_STATUSES:
            raise _err(_("只有待处理或已受理的需求可以不予采纳。"), "need_not_open", status=409)
        locked.status = NeedStatus.REJECTED
        locked.status_reason = reason
        locked.save(update_fields=["status", "status_reason", "updated_at"])
        audit_record(actor=actor, action="needs.need.rejected", obj=locked, after={"reason": reason})
    return locked


# --- Project ideas and expert review ----------------------------------------------------------------------------


def _check_partner(organisation_id: int, field: str) -> None:
    if not Partnership.objects.filter(organisation_id=organisation_id, status=PartnershipStatus.ACTIVE).exists():
        raise _err(_("该组织不是本枢纽合作中的伙伴。"), "not_partner", field)


def idea_create(
    *,
    actor: Any,
    needs: Sequence[Need],
    title: str,
    category: str,
    budget: int,
    summary: str = "",
    street: str = "",
    community: str = "",
    implementer_id: int | None = None,
    start_date: date | None = None,
    end_date: date | None = None,
) -> ProjectIdea:
    """Turn one or more open needs into a project idea (a draft for expert review). The needs then show the
    idea's progress to their submitters."""
    if not needs:
        raise _err(_("请至少选择一条需求。"), "needs_required", "needs")
    if category not in Category.values:
        raise _err(_("请选择服务领域。"), "invalid_category", "category")
    budget = _amount(budget, "budget")
    if implementer_id is not None:
        _check_partner(implementer_id, "implementer_id")
    if start_date and end_date and end_date < start_date:
        raise _err(_("结束日期不能早于开始日期。"), "invalid_dates", "end_date")
    with transaction.atomic():
        locked = list(Need.objects.select_for_update().filter(pk__in=[n.pk for n in needs]).order_by("pk"))
        if len(locked) != len({n.pk for n in needs}) or any(n.status not in OPEN_NEED_STATUSES for n in locked):
            raise _err(_("只有待处理或已受理的需求可以形成项目建议。"), "need_not_open", "needs", status=409)
        idea = ProjectIdea.objects.create(
            title=_text(title, "title", max_length=200),
            summary=_text(summary, "summary", max_length=5000, required=False),
            category=category,
            street=_text(street, "street", max_length=100, required=False),
            community=_text(community, "community", max_length=100, required=False),
            budget=budget,
            implementer_id=implementer_id,
            start_date=start_date,
            end_date=end_date,
            created_by=_user(actor),
        )
        Need.objects.filter(pk__in=[n.pk for n in locked]).update(
            status=NeedStatus.IN_IDEA, idea=idea, updated_at=timezone.now()
        )
        audit_record(actor=actor, action="needs.idea.created", obj=idea, after={"needs": [n.pk for n in locked]})
    return idea


def criterion_create(*, name: str, weight: int, actor: Any, max_score: int = 10) -> ReviewCriterion:
    name = _text(name, "name", max_length=100)
    if isinstance(weight, bool) or not isinstance(weight, int) or not 1 <= weight <= 100:
        raise _err(_("权重应为 1 到 100 的整数。"), "invalid_weight", "weight")
    if isinstance(max_score, bool) or not isinstance(max_score, int) or not 1 <= max_score <= 100:
        raise _err(_("满分应为 1 到 100 的整数。"), "invalid_max_score", "max_score")
    try:
        with transaction.atomic():
            criterion = ReviewCriterion.objects.create(name=name, weight=weight, max_score=max_score)
            audit_record(actor=actor, action="needs.criterion.created", obj=criterion)
    except IntegrityError:
        raise _err(_("已有同名的评审指标。"), "criterion_exists", "name", status=409) from None
    return criterion


def idea_score(*, idea: ProjectIdea, reviewer: Any, scores: dict[int, int]) -> list[IdeaScore]:
    """An expert scores a draft idea on every active criterion (0 to the criterion's maximum). Scoring again
    replaces the expert's earlier scores."""
    criteria = {c.pk: c for c in ReviewCriterion.objects.filter(active=True)}
    if not criteria:
        raise _err(_("本枢纽还没有设置评审指标。"), "no_criteria", status=409)
    if set(scores) != set(criteria):
        raise _err(_("请为每一项评审指标打分。"), "scores_incomplete", "scores")
    for pk, value in scores.items():
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= criteria[pk].max_score:
            raise _err(
                _("“%(name)s”的得分应在 0 到 %(max)d 之间。")
                % {"name": criteria[pk].name, "max": criteria[pk].max_score},
                "invalid_score",
                "scores",
            )
    with transaction.atomic():
        locked = ProjectIdea.objects.select_for_update().get(pk=idea.pk)
        if locked.status != IdeaStatus.DRAFT:
            raise _err(_("只有草拟中的项目建议可以评分。"), "idea_not_draft", status=409)
        rows = []
        for pk, value in scores.items():
            row, _created = IdeaScore.objects.update_or_create(
                idea=locked, criterion_id=pk, reviewer=reviewer, defaults={"score": value}
            )
            rows.append(row)
        audit_record(actor=reviewer, action="needs.idea.scored", obj=locked, after={"scores": scores})
    return rows


def idea_approve(*, idea: ProjectIdea, actor: Any, min_score: float | None = None) -> ProjectIdea:
    """Staff approve a scored draft for public notice. At least one expert must have scored it; with
    ``min_score`` its weighted score (0–100) must reach it."""
    from hubs.needs.selectors import idea_review

    with transaction.atomic():
        locked = ProjectIdea.objects.select_for_update().get(pk=idea.pk)
        if locked.status != IdeaStatus.DRAFT:
            raise _err(_("只有草拟中的项目建议可以通过评审。"), "idea_not_draft", status=409)
        review = idea_review(idea=locked)
        if review.reviewers == 0:
            raise _err(_("还没有专家评分，不能通过评审。"), "not_scored", status=409)
        if min_score is not None and review.score < min_score:
            raise _err(
                _("评审得分 %(score).1f 低于通过线 %(min).1f。") % {"score": review.score, "min": min_score},
                "score_too_low",
                status=409,
            )
        locked.status = IdeaStatus.APPROVED
        locked.save(update_fields=["status", "updated_at"])
        audit_record(actor=actor, action="needs.idea.approved", obj=locked, after={"score": review.score})
    return locked


def idea_reject(*, idea: ProjectIdea, reason: str, actor: Any) -> ProjectIdea:
    reason = _text(reason, "reason", max_length=500)
    with transaction.atomic():
        locked = ProjectIdea.objects.select_for_update().get(pk=idea.pk)
        if locked.status not in (IdeaStatus.DRAFT, IdeaStatus.APPROVED):
            raise _err(_("公示后的项目建议不能再驳回。"), "idea_not_draft", status=409)
        locked.status = IdeaStatus.REJECTED
        locked.status_reason = reason
        locked.save(update_fields=["status", "status_reason", "updated_at"])
        audit_record(actor=actor, action="needs.idea.rejected", obj=locked, after={"reason": reason})
    return locked


# --- Public notice -----------------------------------------------------------------------------------------------


def notice_round_create(
    *, title: str, starts_at: datetime, ends_at: datetime, actor: Any, support_limit: int | None = None
) -> NoticeRound:
    title = _text(title, "title", max_length=200)
    if ends_at <= starts_at:
        raise _err(_("结束时间必须晚于开始时间。"), "invalid_dates", "ends_at")
    if support_limit is not None and (isinstance(support_limit, bool) or support_limit < 1):
        raise _err(_("支持上限至少为 1。"), "invalid_support_limit", "support_limit")
    with transaction.atomic():
        notice_round = NoticeRound.objects.create(
            title=title, starts_at=starts_at, ends_at=ends_at, support_limit=support_limit, created_by=_user(actor)
        )
        audit_record(actor=actor, action="needs.round.created", obj=notice_round)
    return notice_round


def notice_round_add_idea(*, notice_round: NoticeRound, idea: ProjectIdea, actor: Any) -> ProjectIdea:
    """Put an approved idea on notice in an open (or upcoming) round; it is published to discovery."""
    with transaction.atomic():
        locked_round = NoticeRound.objects.select_for_update().get(pk=notice_round.pk)
        if locked_round.closed_at is not None or locked_round.ends_at <= timezone.now():
            raise _err(_("该公示已结束。"), "notice_closed", status=409)
        locked = ProjectIdea.objects.select_for_update().get(pk=idea.pk)
        if locked.status != IdeaStatus.APPROVED:
            raise _err(_("只有评审通过的项目建议可以公示。"), "idea_not_approved", status=409)
        locked.status = IdeaStatus.ON_NOTICE
        locked.notice_round = locked_round
        locked.save(update_fields=["status", "notice_round", "updated_at"])
        audit_record(actor=actor, action="needs.idea.on_notice", obj=locked, after={"round": locked_round.pk})
        needs_discovery.idea_index(locked)
    return locked


def _round_open(notice_round: NoticeRound) -> bool:
    now = timezone.now()
    return notice_round.closed_at is None and notice_round.starts_at <= now < notice_round.ends_at


def _ip_prefix(ip: str) -> str:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ""
    bits = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{bits}", strict=False))


def _flag_window() -> timedelta:
    return timedelta(minutes=int(getattr(settings, "HUOBAN_NEEDS_FLAG_WINDOW_MINUTES", 10)))


def _flag_threshold() -> int:
    return int(getattr(settings, "HUOBAN_NEEDS_FLAG_THRESHOLD", 20))


# The flag rule and the idea's new count in one statement, run after the support is committed so that the last
# of a concurrent burst sees every support of it. Each prefix is counted only up to the threshold (LIMIT), so a
# source that keeps supporting after it was flagged costs a bounded index scan, not a growing count.
_FLAG_AND_COUNT_SQL = """
WITH flagged AS (
    INSERT INTO {flag} (notice_round_id, kind, prefix, first_seen_at, note)
    SELECT %(round)s, %(ip_kind)s, %(ip)s, now(), ''
    WHERE %(ip)s <> '' AND (
        SELECT count(*) FROM (
            SELECT 1 FROM {support}
            WHERE notice_round_id = %(round)s AND ip_prefix = %(ip)s AND created_at >= %(since)s LIMIT %(threshold)s
        ) AS recent
    ) >= %(threshold)s
    UNION ALL
    SELECT %(round)s, %(phone_kind)s, %(phone)s, now(), ''
    WHERE %(phone)s <> '' AND (
        SELECT count(*) FROM (
            SELECT 1 FROM {support}
            WHERE notice_round_id = %(round)s AND phone_prefix = %(phone)s AND created_at >= %(since)s
            LIMIT %(threshold)s
        ) AS recent
    ) >= %(threshold)s
    ON CONFLICT (notice_round_id, kind, prefix) DO NOTHING
    RETURNING 1
)
SELECT (SELECT count(*) FROM {support} WHERE idea_id = %(idea)s), (SELECT count(*) FROM flagged)
"""

_SUPPORT_INSERT_SQL = """
INSERT INTO {support} (notice_round_id, idea_id, resident_id, ip_prefix, phone_prefix, created_at)
VALUES (%s, %s, %s, %s, %s, %s)
ON CONFLICT (idea_id, resident_id) DO NOTHING
RETURNING id
"""


@dataclass(frozen=True)
class SupportAdded:
    support: Support
    idea_supports: int  # the idea's supports just after this one, counted from the supports themselves


def _support_insert(support: Support) -> bool:
    """Insert ``support`` unless the resident already supports the idea (then False, nothing written)."""
    with connection.cursor() as cursor:
        cursor.execute(
            _SUPPORT_INSERT_SQL.format(support=Support._meta.db_table),
            [
                support.notice_round_id,
                support.idea_id,
                support.resident_id,
                support.ip_prefix,
                support.phone_prefix,
                support.created_at,
            ],
        )
        row = cursor.fetchone()
    if row is None:
        return False
    support.pk = row[0]
    return True


def _flag_and_count(support: Support) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            _FLAG_AND_COUNT_SQL.format(flag=SupportFlag._meta.db_table, support=Support._meta.db_table),
            {
                "round": support.notice_round_id,
                "idea": support.idea_id,
                "ip": support.ip_prefix,
                "phone": support.phone_prefix,
                "ip_kind": FlagKind.IP_RANGE.value,
                "phone_kind": FlagKind.PHONE_PREFIX.value,
                "since": timezone.now() - _flag_window(),
                "threshold": _flag_threshold(),
            },
        )
        count, _flagged = cursor.fetchone()
    return int(count)


def support_add(*, notice_round: NoticeRound, idea: ProjectIdea, resident: Resident, ip: str = "") -> SupportAdded:
    """A verified resident supports (点赞) an idea on notice.

    Rules: the round is open; the idea is on notice in it; one support per resident per idea (a unique constraint,
    so bursts stay exact: ``already_supported``); with the round's ``support_limit``, at most that many ideas per
    resident in the round (the resident's row is locked while counting). Bursts from one IP range (/24, /48) or
    one phone prefix (first seven digits) — ``HUOBAN_NEEDS_FLAG_THRESHOLD`` supports (20) within
    ``HUOBAN_NEEDS_FLAG_WINDOW_MINUTES`` (10) in the round — are flagged for staff (``SupportFlag``), never
    dropped. Returns the support and the idea's support count.

    The hot path (no limit) is two statements: an insert that skips a duplicate (``ON CONFLICT DO NOTHING``, no
    exception and no savepoint) and, once it is committed, the flag rule with the idea's count.
    """
    if not resident_is_verified(resident):
        raise _err(_("请先验证手机号或登录后再支持。"), "resident_unverified", status=403)
    if not _round_open(notice_round):
        raise _err(_("该公示不在进行中。"), "notice_not_open", status=409)
    if idea.notice_round_id != notice_round.pk or idea.status != IdeaStatus.ON_NOTICE:
        raise _err(_("该项目不在本次公示中。"), "idea_not_on_notice", status=409)
    support = Support(
        notice_round_id=notice_round.pk,
        idea_id=idea.pk,
        resident_id=resident.pk,
        ip_prefix=_ip_prefix(ip),
        phone_prefix=(resident.phone or "")[:7],
        created_at=timezone.now(),
    )
    if notice_round.support_limit:
        with transaction.atomic():
            Resident.objects.select_for_update().filter(pk=resident.pk).values_list("pk").first()
            used = Support.objects.filter(notice_round=notice_round, resident=resident).count()
            if used >= notice_round.support_limit:
                raise _err(
                    _("本次公示每位居民最多支持 %(n)d 个项目。") % {"n": notice_round.support_limit},
                    "support_limit_reached",
                    status=409,
                    limit=notice_round.support_limit,
                )
            added = _support_insert(support)
    else:
        added = _support_insert(support)
    if not added:
        raise _err(_("您已经支持过这个项目。"), "already_supported", status=409)
    return SupportAdded(support=support, idea_supports=_flag_and_count(support))


def flag_review(*, flag: SupportFlag, note: str, actor: Any) -> SupportFlag:
    """Staff mark a flag reviewed, with a note of what they found (up to 500 characters, required). The supports
    stay counted either way. Reviewing again replaces the note and the reviewer; each review records
    ``needs.flag.reviewed`` with the earlier note and reviewer."""
    note = _text(note, "note", max_length=500)
    with transaction.atomic():
        locked = SupportFlag.objects.select_for_update().get(pk=flag.pk)
        before = {
            "reviewed_at": locked.reviewed_at.isoformat() if locked.reviewed_at else None,
            "reviewed_by": locked.reviewed_by_id,
            "note": locked.note,
        }
        locked.reviewed_at = timezone.now()
        locked.reviewed_by = _user(actor)
        locked.note = note
        locked.save(update_fields=["reviewed_at", "reviewed_by", "note"])
        audit_record(
            actor=actor,
            action="needs.flag.reviewed",
            obj=locked,
            object_label=f"{locked.kind} {locked.prefix} (round {locked.notice_round_id})",
            before=before,
            after={"note": note, "round": locked.notice_round_id, "kind": locked.kind, "prefix": locked.prefix},
        )
    return locked


def objection_file(*, notice_round: NoticeRound, idea: ProjectIdea, resident: Resident, body: str) -> Objection:
    """A verified resident objects to an idea on notice; staff must answer before the round closes."""
    if not resident_is_verified(resident):
        raise _err(_("请先验证手机号或登录后再提出异议。"), "resident_unverified", status=403)
    body = _text(body, "body", max_length=2000)
    if not _round_open(notice_round):
        raise _err(_("该公示不在进行中。"), "notice_not_open", status=409)
    if idea.notice_round_id != notice_round.pk or idea.status != IdeaStatus.ON_NOTICE:
        raise _err(_("该项目不在本次公示中。"), "idea_not_on_notice", status=409)
    with transaction.atomic():
        objection = Objection.objects.create(notice_round=notice_round, idea=idea, resident=resident, body=body)
        audit_record(actor=None, action="needs.objection.filed", obj=objection, object_label=f"idea {idea.pk}")
    return objection


def objection_answer(*, objection: Objection, answer: str, actor: Any) -> Objection:
    """Staff answer an objection publicly (while its round is not closed); a later answer replaces it."""
    answer = _text(answer, "answer", max_length=2000)
    with transaction.atomic():
        locked = Objection.objects.select_for_update().select_related("notice_round").get(pk=objection.pk)
        if locked.notice_round.closed_at is not None:
            raise _err(_("该公示已关闭。"), "notice_closed", status=409)
        before = {"answer": locked.answer}
        locked.answer = answer
        locked.answered_at = timezone.now()
        locked.answered_by = _user(actor)
        locked.save(update_fields=["answer", "answered_at", "answered_by"])
        audit_record(
            actor=actor, action="needs.objection.answered", obj=locked, before=before, after={"answer": answer}
        )
    return locked


def notice_round_close(*, notice_round: NoticeRound, actor: Any) -> NoticeRound:
    """Close a round: refused while any objection is unanswered. Its ideas become ``noticed`` (ready for a fair)
    with their support counts final, and leave discovery's notice listing."""
    with transaction.atomic():
        locked = NoticeRound.objects.select_for_update().get(pk=notice_round.pk)
        if locked.closed_at is not None:
            raise _err(_("该公示已关闭。"), "notice_closed", status=409)
        unanswered = Objection.objects.filter(notice_round=locked, answered_at__isnull=True).count()
        if unanswered:
            raise _err(
                _("还有 %(n)d 条异议未答复，答复后才能结束公示。") % {"n": unanswered},
                "objections_unanswered",
                status=409,
                unanswered=unanswered,
            )
        locked.closed_at = timezone.now()
        locked.save(update_fields=["closed_at"])
        ideas = list(ProjectIdea.objects.select_for_update().filter(notice_round=locked, status=IdeaStatus.ON_NOTICE))
        for idea in ideas:
            idea.status = IdeaStatus.NOTICED
            idea.save(update_fields=["status", "updated_at"])
            needs_discovery.idea_index(idea)
        audit_record(actor=actor, action="needs.round.closed", obj=locked, after={"ideas": [i.pk for i in ideas]})
    return locked


# --- The matchmaking fair ----------------------------------------------------------------------------------------


def fair_create(*, title: str, held_on: date, actor: Any, venue: str = "") -> Fair:
    with transaction.atomic():
        fair = Fair.objects.create(
            title=_text(title, "title", max_length=200),
            held_on=held_on,
            venue=_text(venue, "venue", max_length=200, required=False),
            created_by=_user(actor),
        )
        audit_record(actor=actor, action="needs.fair.created", obj=fair)
    return fair


def fair_add_idea(*, fair: Fair, idea: ProjectIdea, actor: Any) -> ProjectIdea:
    """List an idea that passed public notice at a fair that has not ended; it then seeks funds in discovery."""
    with transaction.atomic():
        locked_fair = Fair.objects.select_for_update().get(pk=fair.pk)
        if locked_fair.status == FairStatus.CLOSED:
            raise _err(_("该相亲会已结束。"), "fair_closed", status=409)
        locked = ProjectIdea.objects.select_for_update().get(pk=idea.pk)
        if locked.status != IdeaStatus.NOTICED:
            raise _err(_("只有公示完成的项目可以进入相亲会。"), "idea_not_noticed", status=409)
        locked.status = IdeaStatus.AT_FAIR
        locked.fair = locked_fair
        locked.save(update_fields=["status", "fair", "updated_at"])
        audit_record(actor=actor, action="needs.idea.at_fair", obj=locked, after={"fair": locked_fair.pk})
        needs_discovery.idea_index(locked)
    return locked


def fair_transition(*, fair: Fair, status: str, actor: Any) -> Fair:
    """draft → open → closed. An open fair takes claims and is published to discovery."""
    allowed: dict[str, str] = {FairStatus.DRAFT: FairStatus.OPEN, FairStatus.OPEN: FairStatus.CLOSED}
    with transaction.atomic():
        locked = Fair.objects.select_for_update().get(pk=fair.pk)
        if allowed.get(locked.status) != status:
            raise _err(_("相亲会不能从当前状态转到该状态。"), "invalid_transition", "status", status=409)
        before = locked.status
        locked.status = status
        locked.save(update_fields=["status"])
        audit_record(
            actor=actor, action="needs.fair.status", obj=locked, before={"status": before}, after={"status": status}
        )
        needs_discovery.fair_index(locked)
    return locked


def matching_rule_set(*, fair: Fair, funder_id: int, cap: int, actor: Any, percent: int = 100) -> MatchingRule:
    """A funder matches ``percent`` of every other funder's claim at this fair, up to ``cap`` fen in total."""
    _check_partner(funder_id, "funder_id")
    cap = _amount(cap, "cap")
    if isinstance(percent, bool) or not isinstance(percent, int) or not 1 <= percent <= 1000:
        raise _err(_("配捐比例应为 1 到 1000 之间的整数。"), "invalid_percent", "percent")
    with transaction.atomic():
        if Fair.objects.filter(pk=fair.pk, status=FairStatus.CLOSED).exists():
            raise _err(_("该相亲会已结束。"), "fair_closed", status=409)
        rule, _created = MatchingRule.objects.update_or_create(
            fair=fair, funder_id=funder_id, defaults={"cap": cap, "percent": percent}
        )
        audit_record(actor=actor, action="needs.matching.set", obj=rule, after={"cap": cap, "percent": percent})
    return rule


ACTIVE_CLAIMS = ~Q(status=ClaimStatus.WITHDRAWN)


def _claimed(idea_id: int) -> int:
    return Claim.objects.filter(ACTIVE_CLAIMS, idea_id=idea_id).aggregate(total=Sum("amount"))["total"] or 0


def claim_create(*, fair: Fair, idea: ProjectIdea, funder_id: int, amount: int, actor: Any) -> list[Claim]:
    """A funder (an active partner) claims ``amount`` fen of an idea at an open fair, in part or in full; several
    funders can share one idea. The idea's row is locked while the claimed total is checked, so claims never
    exceed its budget, even at the same moment (``oversubscribed``, with what is left). Matching rules of the fair
    then add the matchers' claims (``matched_from``), each limited by its cap and by what is left. Returns the
    claim followed by any matching claims."""
    amount = _amount(amount)
    _check_partner(funder_id, "funder_id")
    with transaction.atomic():
        locked = ProjectIdea.objects.select_for_update().get(pk=idea.pk)
        if not Fair.objects.filter(pk=fair.pk, status=FairStatus.OPEN).exists():
            raise _err(_("相亲会未在进行中，不能认领。"), "fair_not_open", status=409)
        if locked.fair_id != fair.pk or locked.status != IdeaStatus.AT_FAIR:
            raise _err(_("该项目不在本场相亲会的认领中。"), "idea_not_at_fair", status=409)
        remaining = locked.budget - _claimed(locked.pk)
        if amount > remaining:
            raise _err(
                _("认领金额超过了项目尚需的 %(left)s 元。") % {"left": f"{remaining / 100:,.2f}"},
                "oversubscribed",
                "amount",
                status=409,
                remaining=remaining,
            )
        claim = Claim.objects.create(
            fair=fair, idea=locked, funder_id=funder_id, amount=amount, created_by=_user(actor)
        )
        claims = [claim]
        remaining -= amount
        rules = MatchingRule.objects.select_for_update().filter(fair=fair).exclude(funder_id=funder_id).order_by("pk")
        for rule in rules:
            if remaining <= 0:
                break
            used = (
                Claim.objects.filter(
                    ACTIVE_CLAIMS, fair=fair, funder_id=rule.funder_id, matched_from__isnull=False
                ).aggregate(total=Sum("amount"))["total"]
                or 0
            )
            match = min(amount * rule.percent // 100, rule.cap - used, remaining)
            if match > 0:
                claims.append(
                    Claim.objects.create(
                        fair=fair,
                        idea=locked,
                        funder_id=rule.funder_id,
                        amount=match,
                        matched_from=claim,
                        created_by=_user(actor),
                    )
                )
                remaining -= match
        audit_record(
            actor=actor,
            action="needs.claim.pledged",
            obj=claim,
            after={"idea": locked.pk, "funder": funder_id, "amount": amount, "matched": [c.amount for c in claims[1:]]},
        )
        needs_discovery.idea_index(locked)
    return claims


def claim_agree(*, claim: Claim, actor: Any, agreement_ref: str = "") -> Claim:
    """The pledge becomes a signed agreement."""
    ref = _text(agreement_ref, "agreement_ref", max_length=100, required=False)
    with transaction.atomic():
        locked = Claim.objects.select_for_update().get(pk=claim.pk)
        if locked.status != ClaimStatus.PLEDGED:
            raise _err(_("只有已认领的认领可以签约。"), "claim_not_pledged", status=409)
        locked.status = ClaimStatus.AGREED
        locked.agreement_ref = ref
        locked.save(update_fields=["status", "agreement_ref"])
        audit_record(actor=actor, action="needs.claim.agreed", obj=locked, after={"agreement_ref": ref})
    return locked


def claim_withdraw(*, claim: Claim, actor: Any) -> Claim:
    """A pledge (not yet agreed) is withdrawn, with the matching claims it caused; the amount is open again."""
    with transaction.atomic():
        ProjectIdea.objects.select_for_update().filter(pk=claim.idea_id).first()
        locked = Claim.objects.select_for_update().get(pk=claim.pk)
        if locked.status != ClaimStatus.PLEDGED:
            raise _err(_("只有尚未签约的认领可以撤回。"), "claim_not_pledged", status=409)
        Claim.objects.filter(Q(pk=locked.pk) | Q(matched_from=locked), status=ClaimStatus.PLEDGED).update(
            status=ClaimStatus.WITHDRAWN
        )
        locked.refresh_from_db()
        audit_record(actor=actor, action="needs.claim.withdrawn", obj=locked)
    return locked


def _idea_accounts(idea: ProjectIdea, actor: Any) -> tuple[Any, Any]:
    bank = ledger.account_create(
        code="1002", name="银行存款", kind=AccountKind.ASSET, no_overdraft=True, actor=actor, exist_ok=True
    )
    subject = f"needs-idea:{idea.pk}"
    fund = ledger.account_create(
        code=f"4101/{subject}",
        name=f"{idea.title[:150]} 认领资金",
        kind=AccountKind.INCOME,
        subject=subject,
        restricted_to=subject,
        actor=actor,
        exist_ok=True,
    )
    return bank, fund


def claim_receive(
    *,
    claim: Claim,
    actor: Any,
    receipt_ref: str,
    receipt: IO[bytes] | None = None,
    receipt_name: str = "",
    received_at: datetime | None = None,
) -> Claim:
    """Money of an agreed claim arrived: a ledger transaction (bank debited, the idea's restricted donation
    income credited; idempotent per claim) and the receipt (its number, optionally the scanned document). When
    every active claim of a fully claimed idea is received, the idea becomes a funded project
    (``idea_project_create``) in the same transaction."""
    receipt_ref = _text(receipt_ref, "receipt_ref", max_length=100)
    with transaction.atomic():
        idea = ProjectIdea.objects.select_for_update().get(pk=claim.idea_id)
        locked = Claim.objects.select_for_update().get(pk=claim.pk)
        if locked.status != ClaimStatus.AGREED:
            raise _err(_("只有已签约的认领可以登记到账。"), "claim_not_agreed", status=409)
        bank, fund = _idea_accounts(idea, actor)
        posting = ledger.transaction_post(
            idempotency_key=f"needs:claim:{locked.pk}/received",
            lines=[ledger.Line.debit(bank, locked.amount), ledger.Line.credit(fund, locked.amount)],
            actor=actor,
            memo=_("相亲会认领到账：%(idea)s（收据 %(ref)s）") % {"idea": idea.title[:100], "ref": receipt_ref},
            occurred_at=received_at,
            source="needs",
            subject=f"needs-idea:{idea.pk}",
        )
        locked.status = ClaimStatus.RECEIVED
        locked.receipt_ref = receipt_ref
        locked.receipt_file_id = _photo_store_receipt(receipt, receipt_name, actor)
        locked.ledger_transaction_id = posting.transaction.pk
        locked.received_at = received_at or timezone.now()
        locked.save(update_fields=["status", "receipt_ref", "receipt_file_id", "ledger_transaction_id", "received_at"])
        audit_record(
            actor=actor,
            action="needs.claim.received",
            obj=locked,
            after={"amount": locked.amount, "transaction": posting.transaction.pk, "receipt_ref": receipt_ref},
        )
        active = Claim.objects.filter(ACTIVE_CLAIMS, idea=idea)
        if _claimed(idea.pk) == idea.budget and not active.exclude(status=ClaimStatus.RECEIVED).exists():
            idea_project_create(idea=idea, actor=actor)
    return locked


def _photo_store_receipt(fileobj: IO[bytes] | None, name: str, actor: Any) -> Any:
    if fileobj is None:
        return None
    from huoban.storage.models import FilePurpose
    from huoban.storage.services import file_store

    hub = connection.tenant
    return file_store(
        fileobj=fileobj,
        original_name=name or "receipt",
        purpose=FilePurpose.RECEIPT,
        uploaded_by=_user(actor),
        hub_id=hub.pk,
        hub_schema=hub.schema_name,
    ).pk


def idea_funding(idea: ProjectIdea) -> list[tuple[int, int]]:
    """(funder id, amount) of an idea's active claims, one row per funder."""
    totals: dict[int, int] = defaultdict(int)
    for funder_id, amount in Claim.objects.filter(ACTIVE_CLAIMS, idea=idea).values_list("funder_id", "amount"):
        totals[funder_id] += amount
    return sorted(totals.items())


def idea_project_create(*, idea: ProjectIdea, actor: Any) -> ProjectIdea:
    """A fully claimed idea whose money was received becomes a funded project.

    With ``hubs.projects`` installed and an implementing organisation chosen, its ``project_create`` makes the
    project (source ``needs-idea:<id>``, so a retry returns the same project) with one budget line for the idea's
    budget and the claims' funders as restricted funding sources; it is approved, and the received money moves
    out of the fair's books (the idea's donation income and the hub's bank) into the project's, received from
    each funder (``funds_receive``), which makes it funded. Without an implementer yet, the idea is recorded as
    funded and the project is made when staff choose one (``idea_implementer_set``). Idempotent."""
    locked = ProjectIdea.objects.select_for_update().get(pk=idea.pk)
    if locked.status == IdeaStatus.FUNDED:
        return locked
    if locked.status != IdeaStatus.AT_FAIR:
        raise _err(_("只有相亲会中的项目可以转为资助项目。"), "idea_not_at_fair", status=409)
    locked.status = IdeaStatus.FUNDED
    locked.funded_at = timezone.now()
    locked.save(update_fields=["status", "funded_at", "updated_at"])
    _idea_project_make(locked, actor)
    audit_record(actor=actor, action="needs.idea.funded", obj=locked, after={"project": locked.project_id})
    needs_discovery.idea_index(locked)
    return locked


def _idea_project_make(idea: ProjectIdea, actor: Any) -> None:
    """The funded idea's project, once it has an implementer (see ``idea_project_create``)."""
    if idea.project_id is not None or idea.implementer_id is None or not apps.is_installed("hubs.projects"):
        return
    projects = importlib.import_module("hubs.projects.services")
    today = timezone.localdate()
    project = projects.project_create(
        title_zh=idea.title,
        implementer_id=idea.implementer_id,
        service_area=idea.category,
        start_date=idea.start_date or today,
        end_date=idea.end_date or today + timedelta(days=365),
        actor=actor,
        summary=idea.summary,
        community=idea.community,
        budget_lines=[projects.BudgetLineInput(name=idea.title[:100], amount=idea.budget)],
        funding=[
            projects.FundingInput(funder_id=funder_id, amount=amount, restricted=True)
            for funder_id, amount in idea_funding(idea)
        ],
        source=f"needs-idea:{idea.pk}",
    )
    if project.status == "draft":
        project = projects.project_transition(project=project, to="approved", actor=actor)
    # The claims' money leaves the fair's books for the project's: the donation income recorded when it arrived
    # is reversed out of the hub's bank here, and the project records it as received from each funder.
    bank, fund = _idea_accounts(idea, actor)
    ledger.transaction_post(
        idempotency_key=f"needs:idea:{idea.pk}/to-project:{project.pk}",
        lines=[
            ledger.Line.debit(fund, idea.budget, purpose=f"needs-idea:{idea.pk}"),
            ledger.Line.credit(bank, idea.budget),
        ],
        actor=actor,
        memo=_("认领资金转入项目：%(idea)s") % {"idea": idea.title[:100]},
        source="needs",
        subject=f"needs-idea:{idea.pk}",
    )
    claims = {c.funder_id: c for c in Claim.objects.filter(ACTIVE_CLAIMS, idea=idea).order_by("pk")}
    for source in project.funding_sources.all():
        if source.receipts.exists():
            continue
        claim = claims.get(source.funder_id)
        projects.funds_receive(
            project=project,
            funding_source=source,
            amount=source.amount,
            received_on=timezone.localdate(claim.received_at) if claim and claim.received_at else today,
            actor=actor,
            receipt_file_id=claim.receipt_file_id if claim else None,
        )
    idea.project_id = project.pk
    idea.save(update_fields=["project_id", "updated_at"])


def idea_implementer_set(*, idea: ProjectIdea, implementer_id: int, actor: Any) -> ProjectIdea:
    """Staff choose the organisation that will carry out an idea (an active partner). A funded idea still
    waiting for one becomes its funded project now. Records ``needs.idea.implementer_set``."""
    _check_partner(implementer_id, "implementer_id")
    with transaction.atomic():
        locked = ProjectIdea.objects.select_for_update().get(pk=idea.pk)
        if locked.project_id is not None:
            raise _err(_("该项目已经立项，执行机构请在项目中调整。"), "idea_has_project", "implementer_id", status=409)
        before = locked.implementer_id
        locked.implementer_id = implementer_id
        locked.save(update_fields=["implementer_id", "updated_at"])
        if locked.status == IdeaStatus.FUNDED:
            _idea_project_make(locked, actor)
        audit_record(
            actor=actor,
            action="needs.idea.implementer_set",
            obj=locked,
            before={"implementer": before},
            after={"implementer": implementer_id, "project": locked.project_id},
        )
    return locked
