"""Pages of resident needs, public notice and the matchmaking fair.

Public (no account): statistics, the needs form with SMS verification, the private follow page, the notice with
supports and objections, the fair with its live board. Staff: triage, ideas and review, rounds, fairs. Every
action goes through one service; a refusal is shown as its translated message and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_ratelimit.decorators import ratelimit

from hubs.core.permissions import STAFF, hub_view
from hubs.ledger.money import money_parse
from hubs.needs import api, exports, selectors, services
from hubs.needs.masking import mask_name, mask_phone, mask_text
from hubs.needs.models import (
    Category,
    Channel,
    Claim,
    Fair,
    FairStatus,
    IdeaStatus,
    Need,
    NeedStatus,
    NoticeRound,
    Objection,
    ProjectIdea,
    ReviewCriterion,
    SupportFlag,
)
from hubs.needs.permissions import is_staff, managed_funders, remember_resident, request_resident
from hubs.partners.models import Partnership, PartnershipStatus
from huoban.errors import ApplicationError
from huoban.web.client import client_ip
from tenants.models import HubRole

REVIEW_ROLES = frozenset(STAFF | {HubRole.REVIEWER})
MONEY_ROLES = frozenset(STAFF | {HubRole.TREASURER})


def _act(request: HttpRequest, action: Callable[[], Any], ok: str, back: str, done: str = "") -> HttpResponse:
    """Run one service call and show its message; then to ``done`` (default ``back``), or ``back`` if refused."""
    try:
        action()
    except ApplicationError as exc:
        messages.error(request, str(exc.message))
        return redirect(back)
    messages.success(request, ok)
    return redirect(done or back)


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _when(value: str) -> datetime:
    parsed = parse_datetime(value or "")
    if parsed is None:
        raise ApplicationError(_("请填写有效的日期和时间。"), code="invalid_datetime")
    return parsed if timezone.is_aware(parsed) else timezone.make_aware(parsed)


# --- public --------------------------------------------------------------------------------------------------------


@hub_view(public=True)
def home(request: HttpRequest) -> HttpResponse:
    stats = selectors.needs_stats()
    top = max([r.count for r in stats.by_channel + stats.by_category] or [1]) or 1
    return render(
        request,
        "needs/home.html",
        {
            "stats": stats,
            "top": top,
            "rounds": NoticeRound.objects.all()[:10],
            "fairs": Fair.objects.exclude(status=FairStatus.DRAFT)[:10],
            "staff": is_staff(request),
        },
    )


@ratelimit(key="ip", rate=api._rate("HUOBAN_NEEDS_CODE_RATE", "10/h"), method="POST", block=True)
@hub_view(public=True)
def verify(request: HttpRequest) -> HttpResponse:
    """Verify a phone by SMS code; then back to ``next`` (the form, a notice)."""
    next_url = request.POST.get("next") or request.GET.get("next") or "/needs/submit/"
    if not next_url.startswith("/"):
        next_url = "/needs/submit/"
    phone = request.POST.get("phone", "")
    sent = False
    if request.method == "POST":
        try:
            if request.POST.get("step") == "send":
                services.phone_code_send(phone=phone)
                sent = True
                messages.success(request, _("验证码已发送。"))
            else:
                resident = services.phone_code_verify(
                    phone=phone, code=request.POST.get("code", ""), name=request.POST.get("name", "")
                )
                remember_resident(request, resident)
                messages.success(request, _("手机号已验证。"))
                return redirect(next_url)
        except ApplicationError as exc:
            messages.error(request, str(exc.message))
            sent = request.POST.get("step") != "send"
    return render(request, "needs/verify.html", {"phone": phone, "sent": sent, "next": next_url})


@hub_view(public=True)
def submit(request: HttpRequest) -> HttpResponse:
    resident = request_resident(request)
    if resident is None:
        return redirect("/needs/verify/?next=/needs/submit/")
    values = request.POST if request.method == "POST" else {}
    if request.method == "POST":
        photo = request.FILES.get("photo")
        try:
            need = services.need_submit(
                resident=resident,
                title=values.get("title", ""),
                body=values.get("body", ""),
                category=values.get("category", ""),
                street=values.get("street", ""),
                community=values.get("community", ""),
                name=values.get("name", ""),
                photo=photo,
                photo_name=getattr(photo, "name", ""),
                user=request.user,
            )
        except ApplicationError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("已收到您的需求。请保存下面的链接，随时查看办理进度。"))
            return redirect(f"/needs/track/{need.token}/")
    return render(
        request,
        "needs/submit.html",
        {
            "values": values,
            "categories": Category.choices,
            "who": mask_phone(resident.phone) or mask_name(resident.name),
        },
    )


@hub_view(public=True)
def track(request: HttpRequest, token: str) -> HttpResponse:
    need = selectors.need_by_token(token)
    if need is None:
        raise Http404
    return render(request, "needs/track.html", {"need": api.need_public(need), "link": request.build_absolute_uri()})


@hub_view(public=True)
def notice(request: HttpRequest, pk: int) -> HttpResponse:
    notice_round = get_object_or_404(NoticeRound, pk=pk)
    data = api.round_public(notice_round)
    objections: dict[int, list[dict[str, Any]]] = {}
    for o in data["objections"]:
        objections.setdefault(o["idea"], []).append(o)
    for idea in data["ideas"]:
        idea["objection_list"] = objections.get(idea["id"], [])
    staff = is_staff(request)
    return render(
        request,
        "needs/notice.html",
        {
            "round": notice_round,
            "data": data,
            "resident": request_resident(request),
            "staff": staff,
            "unreviewed_flags": (
                SupportFlag.objects.filter(notice_round=notice_round, reviewed_at__isnull=True).count() if staff else 0
            ),
        },
    )


@hub_view(public=True)
@require_POST
def notice_support(request: HttpRequest, pk: int, idea_id: int) -> HttpResponse:
    notice_round, idea = api._round_idea(pk, idea_id)
    resident = request_resident(request)
    if resident is None:
        return redirect(f"/needs/verify/?next=/needs/notice/{pk}/")
    return _act(
        request,
        lambda: services.support_add(notice_round=notice_round, idea=idea, resident=resident, ip=client_ip(request)),
        _("感谢您的支持！"),
        f"/needs/notice/{pk}/",
    )


@hub_view(public=True)
@require_POST
def notice_object(request: HttpRequest, pk: int, idea_id: int) -> HttpResponse:
    notice_round, idea = api._round_idea(pk, idea_id)
    resident = request_resident(request)
    if resident is None:
        return redirect(f"/needs/verify/?next=/needs/notice/{pk}/")
    return _act(
        request,
        lambda: services.objection_file(
            notice_round=notice_round, idea=idea, resident=resident, body=request.POST.get("body", "")
        ),
        _("异议已提交，工作人员会在公示结束前公开答复。"),
        f"/needs/notice/{pk}/",
    )


def _fair_context(request: HttpRequest, fair: Fair) -> dict[str, Any]:
    """What the fair page and its live part (``_board.html``: progress per idea and the claims) show. The live
    part holds no form, so refreshing it never loses what someone is typing; money roles get a link per claim."""
    data = api.fair_public(fair)
    return {
        "fair": fair,
        "rows": selectors.fair_board(fair=fair),
        "totals": data["totals"],
        "data": data,
        "treasurer": _has(request, MONEY_ROLES),
    }


@hub_view(public=True)
def fair_page(request: HttpRequest, pk: int) -> HttpResponse:
    fair = get_object_or_404(Fair, pk=pk)
    staff = is_staff(request)
    if fair.status == FairStatus.DRAFT and not staff:
        raise Http404
    funder_ids = list(
        Partnership.objects.filter(status=PartnershipStatus.ACTIVE).values_list("organisation_id", flat=True)
    )
    if not staff:
        funder_ids = [f for f in managed_funders(request) if f in set(funder_ids)]
    from huoban.identity.models import Organisation

    context = _fair_context(request, fair)
    context.update(
        {
            "staff": staff,
            "funders": Organisation.objects.filter(pk__in=funder_ids).order_by("name"),
            "noticed": ProjectIdea.objects.filter(status=IdeaStatus.NOTICED) if staff else [],
        }
    )
    return render(request, "needs/fair.html", context)


@hub_view(public=True)
def fair_board(request: HttpRequest, pk: int) -> HttpResponse:
    fair = get_object_or_404(Fair, pk=pk)
    if fair.status == FairStatus.DRAFT and not is_staff(request):
        raise Http404
    return render(request, "needs/_board.html", _fair_context(request, fair))


@hub_view(public=True)
@require_POST
def fair_claim(request: HttpRequest, pk: int) -> HttpResponse:
    fair = get_object_or_404(Fair, pk=pk)
    back = f"/needs/fairs/{pk}/"
    funder_id = _int(request.POST.get("funder_id"))
    if not request.user.is_authenticated or funder_id is None:
        raise Http404
    from hubs.needs.permissions import can_claim_for

    if not can_claim_for(request, funder_id):
        messages.error(request, _("您不能代表该组织认领。"))
        return redirect(back)
    idea = get_object_or_404(ProjectIdea, pk=_int(request.POST.get("idea")) or 0, fair=fair)

    def claim() -> None:
        amount = money_parse(request.POST.get("amount", ""), allow_zero=False)
        services.claim_create(fair=fair, idea=idea, funder_id=funder_id, amount=amount, actor=request.user)

    return _act(request, claim, _("认领成功！"), back)


def _has(request: HttpRequest, roles: frozenset[str]) -> bool:
    from hubs.core.permissions import request_membership

    membership = request_membership(request)
    return bool(membership and membership.has_any(roles))


@hub_view(roles=MONEY_ROLES)
def claim_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Money roles: one claim with what comes next for it — sign the agreement (or withdraw the pledge), then
    record the money received with its receipt; once the idea is funded, the way to its project."""
    claim = get_object_or_404(Claim.objects.select_related("fair", "idea", "matched_from"), pk=pk)
    matches = list(claim.matches.all())
    names = api._funder_names(
        {claim.funder_id, *(m.funder_id for m in matches)}
        | ({claim.matched_from.funder_id} if claim.matched_from else set())
    )
    return render(
        request,
        "needs/claim.html",
        {
            "claim": claim,
            "idea": claim.idea,
            "funder": names.get(claim.funder_id, ""),
            "matched_from": names.get(claim.matched_from.funder_id, "") if claim.matched_from else "",
            "matches": [(m, names.get(m.funder_id, "")) for m in matches],
            "staff": is_staff(request),
        },
    )


@hub_view(roles=MONEY_ROLES)
@require_POST
def claim_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    claim = get_object_or_404(Claim, pk=pk)
    back = f"/needs/claims/{pk}/"
    if action == "agree":
        return _act(
            request,
            lambda: services.claim_agree(
                claim=claim, agreement_ref=request.POST.get("agreement_ref", ""), actor=request.user
            ),
            _("已签约。"),
            back,
        )
    if action == "receive":
        receipt = request.FILES.get("receipt")

        def receive() -> None:
            receipt_ref = request.POST.get("receipt_ref", "")
            if not receipt_ref.strip():
                raise ApplicationError(_("请填写收据编号。"), code="required", extra={"field": "receipt_ref"})
            services.claim_receive(
                claim=claim,
                receipt_ref=receipt_ref,
                receipt=receipt,
                receipt_name=getattr(receipt, "name", ""),
                actor=request.user,
            )

        return _act(request, receive, _("已登记到账。"), back)
    if action == "withdraw":
        return _act(request, lambda: services.claim_withdraw(claim=claim, actor=request.user), _("认领已撤回。"), back)
    raise Http404


@hub_view(roles=STAFF)
@require_POST
def fair_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    fair = get_object_or_404(Fair, pk=pk)
    back = f"/needs/fairs/{pk}/"
    if action == "status":
        return _act(
            request,
            lambda: services.fair_transition(fair=fair, status=request.POST.get("status", ""), actor=request.user),
            _("已更新。"),
            back,
        )
    if action == "idea":
        idea = get_object_or_404(ProjectIdea, pk=_int(request.POST.get("idea")) or 0)
        return _act(
            request,
            lambda: services.fair_add_idea(fair=fair, idea=idea, actor=request.user),
            _("项目已加入相亲会。"),
            back,
        )
    if action == "matching":

        def rule() -> None:
            services.matching_rule_set(
                fair=fair,
                funder_id=_int(request.POST.get("funder_id")) or 0,
                cap=money_parse(request.POST.get("cap", ""), allow_zero=False),
                percent=_int(request.POST.get("percent")) or 100,
                actor=request.user,
            )

        return _act(request, rule, _("配捐规则已保存。"), back)
    raise Http404


# --- staff ---------------------------------------------------------------------------------------------------------


@hub_view(roles=STAFF)
def staff_needs(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        p = request.POST
        photo = request.FILES.get("photo")
        return _act(
            request,
            lambda: services.need_record(
                actor=request.user,
                channel=p.get("channel", ""),
                title=p.get("title", ""),
                body=p.get("body", ""),
                category=p.get("category", ""),
                street=p.get("street", ""),
                community=p.get("community", ""),
                name=p.get("name", ""),
                phone=p.get("phone", ""),
                photo=photo,
                photo_name=getattr(photo, "name", ""),
            ),
            _("需求已录入。"),
            "/needs/staff/",
        )
    status = request.GET.get("status", "")
    needs = selectors.need_list(status=status, q=request.GET.get("q", ""))[:200]
    return render(
        request,
        "needs/staff_needs.html",
        {
            "needs": needs,
            "status": status,
            "statuses": NeedStatus.choices,
            "channels": [c for c in Channel.choices if c[0] != Channel.ONLINE],
            "categories": Category.choices,
        },
    )


@hub_view(roles=STAFF)
def staff_need(request: HttpRequest, pk: int) -> HttpResponse:
    need = get_object_or_404(Need.objects.select_related("resident"), pk=pk)
    back = f"/needs/staff/{pk}/"
    if request.method == "POST":
        p = request.POST
        action = p.get("action")
        if action == "merge":
            into = get_object_or_404(Need, pk=_int(p.get("into")) or 0)
            return _act(
                request, lambda: services.need_merge(need=need, into=into, actor=request.user), _("已合并。"), back
            )
        if action == "tag":
            tags = [t for t in p.get("tags", "").replace("，", ",").split(",") if t.strip()]
            return _act(
                request, lambda: services.need_tag(need=need, tags=tags, actor=request.user), _("标签已保存。"), back
            )
        if action == "reject":
            return _act(
                request,
                lambda: services.need_reject(need=need, reason=p.get("reason", ""), actor=request.user),
                _("已标记为不予采纳。"),
                back,
            )
        if action == "idea":
            ids = [_int(v) for v in p.getlist("needs")] + [need.pk]
            needs = list(Need.objects.filter(pk__in=[i for i in ids if i]))

            def make() -> None:
                services.idea_create(
                    actor=request.user,
                    needs=needs,
                    title=p.get("title", ""),
                    summary=p.get("summary", ""),
                    category=p.get("category", ""),
                    budget=money_parse(p.get("budget", ""), allow_zero=False),
                    community=p.get("community", ""),
                    street=p.get("street", ""),
                    implementer_id=_int(p.get("implementer_id")),
                )

            return _act(request, make, _("项目建议已创建。"), back, done="/needs/ideas/")  # a refusal stays on the need
        raise Http404
    return render(
        request,
        "needs/staff_need.html",
        {"need": need, "similar": selectors.need_similar(need=need), "categories": Category.choices},
    )


@hub_view(roles=REVIEW_ROLES)
def ideas(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        if not is_staff(request):
            raise Http404
        p = request.POST
        action = p.get("action")
        if action == "criterion":
            return _act(
                request,
                lambda: services.criterion_create(
                    name=p.get("name", ""),
                    weight=_int(p.get("weight")) or 0,
                    max_score=_int(p.get("max_score")) or 10,
                    actor=request.user,
                ),
                _("评审指标已添加。"),
                "/needs/ideas/",
            )
        if action == "round":
            return _act(
                request,
                lambda: services.notice_round_create(
                    title=p.get("title", ""),
                    starts_at=_when(p.get("starts_at", "")),
                    ends_at=_when(p.get("ends_at", "")),
                    support_limit=_int(p.get("support_limit")),
                    actor=request.user,
                ),
                _("公示已创建。"),
                "/needs/ideas/",
            )
        if action == "fair":

            def make_fair() -> None:
                held_on = parse_date(p.get("held_on", "") or "")
                if held_on is None:
                    raise ApplicationError(_("请填写有效的日期。"), code="invalid_date")
                services.fair_create(
                    title=p.get("title", ""), held_on=held_on, venue=p.get("venue", ""), actor=request.user
                )

            return _act(request, make_fair, _("相亲会已创建。"), "/needs/ideas/")
        raise Http404
    return render(
        request,
        "needs/ideas.html",
        {
            "ideas": ProjectIdea.objects.all()[:200],
            "criteria": ReviewCriterion.objects.filter(active=True),
            "rounds": NoticeRound.objects.all()[:20],
            "fairs": Fair.objects.all()[:20],
            "flags": SupportFlag.objects.filter(reviewed_at__isnull=True)[:50],
            "staff": is_staff(request),
        },
    )


@hub_view(roles=REVIEW_ROLES)
def idea_detail(request: HttpRequest, pk: int) -> HttpResponse:
    idea = get_object_or_404(ProjectIdea, pk=pk)
    back = f"/needs/ideas/{pk}/"
    criteria = list(ReviewCriterion.objects.filter(active=True))
    if request.method == "POST":
        p = request.POST
        action = p.get("action")
        if action == "score":
            scores: dict[int, Any] = {c.pk: _int(p.get(f"c{c.pk}")) for c in criteria}
            return _act(
                request,
                lambda: services.idea_score(idea=idea, reviewer=request.user, scores=scores),
                _("评分已保存。"),
                back,
            )
        if not is_staff(request):
            raise Http404
        if action == "approve":
            return _act(request, lambda: services.idea_approve(idea=idea, actor=request.user), _("已通过评审。"), back)
        if action == "reject":
            return _act(
                request,
                lambda: services.idea_reject(idea=idea, reason=p.get("reason", ""), actor=request.user),
                _("已驳回。"),
                back,
            )
        if action == "notice":
            notice_round = get_object_or_404(NoticeRound, pk=_int(p.get("round")) or 0)
            return _act(
                request,
                lambda: services.notice_round_add_idea(notice_round=notice_round, idea=idea, actor=request.user),
                _("已进入公示。"),
                back,
            )
        if action == "fair":
            fair = get_object_or_404(Fair, pk=_int(p.get("fair")) or 0)
            return _act(
                request,
                lambda: services.fair_add_idea(fair=fair, idea=idea, actor=request.user),
                _("项目已加入相亲会。"),
                back,
            )
        if action == "implementer":

            def choose() -> None:
                implementer_id = _int(p.get("implementer_id"))
                if implementer_id is None:
                    raise ApplicationError(_("请选择执行机构。"), code="required", extra={"field": "implementer_id"})
                services.idea_implementer_set(idea=idea, implementer_id=implementer_id, actor=request.user)

            return _act(request, choose, _("执行机构已确定。"), back)
        raise Http404
    from huoban.identity.models import Organisation

    partners = Organisation.objects.filter(
        pk__in=Partnership.objects.filter(status=PartnershipStatus.ACTIVE).values("organisation_id")
    ).order_by("name")
    return render(
        request,
        "needs/idea.html",
        {
            "idea": idea,
            "implementer": api._funder_names({idea.implementer_id}).get(idea.implementer_id or 0, "")
            if idea.implementer_id
            else "",
            "partners": partners,
            "review": selectors.idea_review(idea=idea),
            "criteria": criteria,
            "needs": idea.needs.all(),
            "rounds": NoticeRound.objects.filter(closed_at__isnull=True),
            "fairs": Fair.objects.exclude(status=FairStatus.CLOSED),
            "staff": is_staff(request),
        },
    )


FLAG_PAGE_SUPPORTS = 100


@hub_view(roles=STAFF)
def round_flags(request: HttpRequest, pk: int) -> HttpResponse:
    """Staff: the round's flagged bursts with the supports each covers, and marking one reviewed with a note."""
    notice_round = get_object_or_404(NoticeRound, pk=pk)
    back = f"/needs/notice/{pk}/flags/"
    if request.method == "POST":
        flag = get_object_or_404(SupportFlag, pk=_int(request.POST.get("flag")) or 0, notice_round=notice_round)
        return _act(
            request,
            lambda: services.flag_review(flag=flag, note=request.POST.get("note", ""), actor=request.user),
            _("已记录核查结果。"),
            back,
        )
    rows = selectors.round_flags(notice_round=notice_round)
    names = api._reviewer_names([r.flag for r in rows])
    flags = [
        {
            "row": row,
            "reviewer": names.get(row.flag.reviewed_by_id or 0, ""),
            "supports": [
                {
                    "at": s.created_at,
                    "idea": s.idea.title,
                    "resident": s.resident_id,
                    "phone": mask_phone(s.resident.phone),
                    "ip_prefix": s.ip_prefix,
                    "phone_prefix": s.phone_prefix,
                }
                for s in selectors.flag_supports(flag=row.flag)[:FLAG_PAGE_SUPPORTS]
            ],
        }
        for row in rows
    ]
    return render(
        request,
        "needs/flags.html",
        {
            "round": notice_round,
            "flags": flags,
            "shown": FLAG_PAGE_SUPPORTS,
            "unreviewed": sum(1 for r in rows if r.flag.reviewed_at is None),
        },
    )


@hub_view(roles=STAFF)
def round_export(request: HttpRequest, pk: int, what: str, fmt: str) -> HttpResponse:
    """Staff: the round's supports or flags as CSV or xlsx."""
    notice_round = get_object_or_404(NoticeRound, pk=pk)
    if fmt not in exports.FORMATS or what not in ("supports", "flags"):
        raise Http404
    if what == "supports":
        table = exports.supports_table(notice_round=notice_round)
        title = _("支持记录")
    else:
        flags = list(SupportFlag.objects.filter(notice_round=notice_round))
        table = exports.flags_table(notice_round=notice_round, reviewer_names=api._reviewer_names(flags))
        title = _("异常支持")
    content_type, render_table = exports.FORMATS[fmt]
    body = render_table(table, title=title) if fmt == "xlsx" else render_table(table)
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="notice-{notice_round.pk}-{what}.{fmt}"'
    return response


@hub_view(roles=STAFF)
@require_POST
def round_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    notice_round = get_object_or_404(NoticeRound, pk=pk)
    back = f"/needs/notice/{pk}/"
    if action == "close":
        return _act(
            request,
            lambda: services.notice_round_close(notice_round=notice_round, actor=request.user),
            _("公示已结束。"),
            back,
        )
    if action == "answer":
        objection = get_object_or_404(Objection, pk=_int(request.POST.get("objection")) or 0, notice_round=notice_round)
        return _act(
            request,
            lambda: services.objection_answer(
                objection=objection, answer=request.POST.get("answer", ""), actor=request.user
            ),
            _("答复已公开。"),
            back,
        )
    raise Http404


__all__ = ["mask_text"]
