"""Pages of calls: staff design and run calls, reviewers work through their queue, organisations apply.

Staff pages need a staff role and reviewer pages the reviewer role (outsiders 404, weaker roles 403). The public
call pages need nothing; the applicant's pages need sign-in and show only their own organisations' applications.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hubs.calls import exports, selectors, services
from hubs.calls.formspec import TYPES, money_parse
from hubs.calls.models import (
    Application,
    AssignmentStatus,
    Call,
    CallStatus,
    CallType,
    InfoRequest,
    PartnerRule,
    ReviewAssignment,
)
from hubs.core.models import HubMembership
from hubs.core.permissions import STAFF, hub_view
from hubs.partners.models import ServiceArea
from hubs.partners.selectors import organisations_managed_by
from huoban.errors import ApplicationError
from huoban.identity.models import OrganisationKind, User
from tenants.models import HubRole

REVIEWER = frozenset({HubRole.REVIEWER})


def _me(request: Any) -> User:
    """The signed-in user (every view here has checked sign-in before it runs)."""
    return cast(User, request.user)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CALL_ACTIONS = {
    CallStatus.DRAFT: [CallStatus.OPEN],
    CallStatus.OPEN: [CallStatus.CLOSED],
    CallStatus.CLOSED: [CallStatus.IN_REVIEW],
    CallStatus.IN_REVIEW: [CallStatus.DECIDED],
    CallStatus.DECIDED: [CallStatus.ARCHIVED],
}


def _fail(request: HttpRequest, exc: ApplicationError) -> None:
    messages.error(request, str(exc.message))


def _yuan_field(request: HttpRequest, name: str, label: str) -> int:
    try:
        return money_parse(request.POST.get(name, ""))
    except ValueError as exc:
        raise ApplicationError(
            _("“%(label)s”应为金额（元，最多两位小数）。") % {"label": label},
            code="invalid_amount",
            extra={"field": name},
        ) from exc


def _when(value: str, field: str) -> datetime | None:
    if not value:
        return None
    parsed = parse_datetime(value)
    if parsed is None:
        raise ApplicationError(_("时间格式不正确。"), code="invalid_datetime", extra={"field": field})
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


def _criteria_lines(text: str) -> list[services.CriterionInput]:
    """One criterion per line: "name | weight | top score | guidance"."""
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.replace("｜", "|").split("|")]
        try:
            weight = int(parts[1])
            top = int(parts[2]) if len(parts) > 2 and parts[2] else 10
        except (IndexError, ValueError) as exc:
            raise ApplicationError(
                _("评分标准第 %(n)s 行应为“名称 | 权重 | 满分 | 说明”。") % {"n": number},
                code="invalid_criterion",
                extra={"field": "criteria"},
            ) from exc
        out.append(
            services.CriterionInput(name_zh=parts[0], weight=weight, max_score=top, guidance="|".join(parts[3:]))
        )
    return out


def _form_lines(text: str) -> list[dict[str, Any]]:
    """One field per line: "key | type | label | required (是/否/yes/no) | min | max | choice1;choice2"."""
    out = []
    for line in text.splitlines():
        if not line.strip():
            continue
        parts = [p.strip() for p in line.replace("｜", "|").split("|")] + [""] * 7
        out.append(
            {
                "key": parts[0],
                "type": parts[1],
                "label": parts[2],
                "required": parts[3].lower() in ("是", "必填", "yes", "y", "required", "1", "true"),
                "min": parts[4] or None,
                "max": parts[5] or None,
                "choices": [c for c in parts[6].replace("；", ";").split(";") if c.strip()],
            }
        )
    return out


def _form_text(fields: list[dict[str, Any]]) -> str:
    lines = []
    for f in fields:
        cells = [f["key"], f["type"], f["label"], "是" if f.get("required") else "否"]
        cells += [str(f.get("min", "")), str(f.get("max", "")), ";".join(f.get("choices", []))]
        lines.append(" | ".join(cells).rstrip(" |"))
    return "\n".join(lines)


def _call_fields(request: HttpRequest) -> dict[str, Any]:
    p = request.POST
    return {
        "call_type": p.get("call_type", ""),
        "title_zh": p.get("title_zh", ""),
        "title_en": p.get("title_en", ""),
        "description_zh": p.get("description_zh", ""),
        "description_en": p.get("description_en", ""),
        "total_budget": _yuan_field(request, "total_budget", _("总预算")),
        "project_cap": _yuan_field(request, "project_cap", _("单个项目上限")),
        "eligible_kinds": p.getlist("eligible_kinds"),
        "require_verified": bool(p.get("require_verified")),
        "region_code": p.get("region_code", "").strip(),
        "partner_rule": p.get("partner_rule", PartnerRule.BECOME),
        "service_areas": p.getlist("service_areas"),
        "required_documents": p.getlist("required_documents"),
        "opens_at": _when(p.get("opens_at", ""), "opens_at"),
        "closes_at": _when(p.get("closes_at", ""), "closes_at"),
        "allow_multiple": bool(p.get("allow_multiple")),
        "blind_review": bool(p.get("blind_review")),
        "show_reviewer_comments": bool(p.get("show_reviewer_comments")),
        "reviewers_per_application": int(p.get("reviewers_per_application") or 3),
        "funder_id": int(p["funder_id"]) if p.get("funder_id", "").isdigit() else None,
    }


def _design_context(call: Call | None, data: Any = None) -> dict[str, Any]:
    from huoban.storage.models import DocumentKind

    return {
        "call": call,
        "data": data,
        "call_types": CallType.choices,
        "kinds": OrganisationKind.choices,
        "areas": ServiceArea.choices,
        "partner_rules": PartnerRule.choices,
        "documents": DocumentKind.choices,
        "field_types": list(TYPES.items()),
        "funders": _funders(),
    }


def _funders() -> list[Any]:
    from hubs.partners.models import Partnership, PartnershipStatus

    return list(
        Partnership.objects.filter(
            status=PartnershipStatus.ACTIVE,
            organisation__kind__in=[OrganisationKind.GOVERNMENT, OrganisationKind.FOUNDATION],
        ).select_related("organisation")
    )


# --- Staff ------------------------------------------------------------------------------------------------------


@hub_view(roles=STAFF)
def call_list(request: HttpRequest) -> HttpResponse:
    return render(request, "calls/list.html", {"calls": selectors.call_list()})


@hub_view(roles=STAFF)
def call_new(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        try:
            with transaction.atomic():
                call = services.call_create(actor=_me(request), **_call_fields(request))
                services.call_rubric_set(
                    call=call,
                    actor=_me(request),
                    criteria=_criteria_lines(request.POST.get("criteria", "")),
                )
                services.call_form_set(call=call, actor=_me(request), fields=_form_lines(request.POST.get("form", "")))
        except ApplicationError as exc:
            _fail(request, exc)
            return render(request, "calls/design.html", _design_context(None, request.POST), status=400)
        messages.success(request, _("征集草稿已保存。"))
        return redirect("calls-detail", pk=call.pk)
    return render(request, "calls/design.html", _design_context(None))


@hub_view(roles=STAFF)
def call_detail(request: HttpRequest, pk: int) -> HttpResponse:
    call = get_object_or_404(Call, pk=pk)
    applications = Paginator(selectors.applications_of_call(call=call), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "calls/detail.html",
        {
            "call": call,
            "criteria": selectors.criteria_of(call),
            "applications": applications,
            "budget": services.call_budget(call=call),
            "actions": [(s, CallStatus(s).label) for s in CALL_ACTIONS.get(CallStatus(call.status), [])],
            "form_text": _form_text(call.form_fields),
        },
    )


@hub_view(roles=STAFF)
@require_POST
def call_transition(request: HttpRequest, pk: int) -> HttpResponse:
    call = get_object_or_404(Call, pk=pk)
    try:
        services.call_transition(call=call, to=request.POST.get("status", ""), actor=_me(request))
        messages.success(request, _("征集状态已更新。"))
    except ApplicationError as exc:
        _fail(request, exc)
    return redirect("calls-detail", pk=pk)


@hub_view(roles=STAFF)
@require_POST
def call_auto_assign(request: HttpRequest, pk: int) -> HttpResponse:
    call = get_object_or_404(Call, pk=pk)
    try:
        per = int(request.POST.get("per_application") or call.reviewers_per_application)
        made = services.reviewers_auto_assign(call=call, actor=_me(request), per_application=per)
        messages.success(request, _("已分配 %(n)s 个评审任务。") % {"n": made})
    except ValueError:
        messages.error(request, _("每份申请的评审人数应在 1 到 20 之间。"))
    except ApplicationError as exc:
        _fail(request, exc)
    return redirect("calls-detail", pk=pk)


@hub_view(roles=STAFF)
def call_ranking(request: HttpRequest, pk: int) -> HttpResponse:
    from hubs.calls.api import ranking_rows

    call = get_object_or_404(Call, pk=pk)
    page = Paginator(selectors.ranking(call=call), 100).get_page(request.GET.get("page"))
    rows = ranking_rows(call, page.object_list, offset=page.start_index() - 1)
    return render(
        request,
        "calls/ranking.html",
        {"call": call, "page": page, "rows": rows, "blind": selectors.is_blind_for_staff(call)},
    )


@hub_view(roles=STAFF)
def call_export(request: HttpRequest, pk: int) -> HttpResponse:
    call = get_object_or_404(Call, pk=pk)
    response = HttpResponse(exports.call_workbook(call=call), content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="call-{call.pk}.xlsx"'
    return response


@hub_view(roles=STAFF)
def call_results_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    call = get_object_or_404(Call, pk=pk)
    response = HttpResponse(exports.call_results_pdf(call=call), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="call-{call.pk}-results.pdf"'
    return response


@hub_view(roles=STAFF)
def application_staff(request: HttpRequest, pk: int) -> HttpResponse:
    app = get_object_or_404(Application.objects.select_related("call", "organisation"), pk=pk)
    if request.method == "POST":
        action = request.POST.get("action", "")
        user: Any = request.user
        try:
            if action in ("screen_in", "screen_out"):
                services.application_screen(
                    application=app, actor=user, eligible=action == "screen_in", reason=request.POST.get("reason", "")
                )
            elif action == "info":
                services.application_info_request(
                    application=app, actor=user, question=request.POST.get("question", "")
                )
            elif action == "assign":
                reviewer = get_object_or_404(User, pk=int(request.POST.get("reviewer") or 0))
                services.reviewer_assign(application=app, reviewer=reviewer, actor=user)
            elif action == "determine":
                amount = request.POST.get("amount", "")
                services.application_determine(
                    application=app,
                    actor=user,
                    outcome=request.POST.get("outcome", ""),
                    amount=_yuan_field(request, "amount", _("资助金额")) if amount else None,
                    reason=request.POST.get("reason", ""),
                )
            messages.success(request, _("已保存。"))
            return redirect("calls-application-staff", pk=pk)
        except ApplicationError as exc:
            _fail(request, exc)
    reviewers = User.objects.filter(
        pk__in=HubMembership.objects.filter(roles__contains=[HubRole.REVIEWER]).values("user_id")
    ).order_by("name")
    return render(
        request,
        "calls/application_staff.html",
        {
            "app": app,
            "call": app.call,
            "fields": app.call.form_fields,
            "assignments": ReviewAssignment.objects.filter(application=app).order_by("pk"),
            "totals": selectors.reviewer_totals(application=app),
            "reviewers": reviewers,
            "budget": services.call_budget(call=app.call),
            "info_requests": app.info_requests.all(),
        },
        status=400 if request.method == "POST" else 200,
    )


# --- Public and applicants --------------------------------------------------------------------------------------


@hub_view(public=True)
def public_list(request: HttpRequest) -> HttpResponse:
    return render(request, "calls/public_list.html", {"calls": selectors.calls_public()})


@hub_view(public=True)
def public_detail(request: HttpRequest, pk: int) -> HttpResponse:
    call = get_object_or_404(selectors.calls_public(), pk=pk)
    user: Any = request.user
    organisations = list(organisations_managed_by(user=user)) if user.is_authenticated else []
    mine = list(selectors.applications_mine(user=user, call=call)) if user.is_authenticated else []
    return render(
        request,
        "calls/public_detail.html",
        {
            "call": call,
            "criteria": selectors.criteria_of(call),
            "organisations": organisations,
            "mine": mine,
            "open": call.status == CallStatus.OPEN and call.closes_at > timezone.now(),
        },
    )


def _signed_in(view: Any) -> Any:
    from functools import wraps

    from django.conf import settings
    from django.contrib.auth.views import redirect_to_login

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.build_absolute_uri(), f"{settings.HUOBAN_SITE_URL}/accounts/login/")
        response: HttpResponse = view(request, *args, **kwargs)
        return response

    return hub_view(public=True)(wrapped)


@_signed_in
@require_POST
def apply(request: HttpRequest, pk: int) -> HttpResponse:
    call = get_object_or_404(selectors.calls_public(), pk=pk)
    organisation = organisations_managed_by(user=_me(request)).filter(pk=request.POST.get("organisation") or 0).first()
    if organisation is None:
        messages.error(request, _("请选择您负责的组织。"))
        return redirect("calls-public-detail", pk=pk)
    try:
        app = services.application_start(call=call, organisation=organisation, actor=_me(request))
    except ApplicationError as exc:
        _fail(request, exc)
        return redirect("calls-public-detail", pk=pk)
    return redirect("calls-application", pk=app.pk)


def _mine(request: HttpRequest, pk: int) -> Application:
    return get_object_or_404(selectors.applications_mine(user=_me(request)), pk=pk)


def _posted(request: HttpRequest, app: Application) -> dict[str, Any]:
    answers = {f["key"]: request.POST.get(f"f_{f['key']}", "") for f in app.call.form_fields if f["type"] != "file"}
    return {
        "title": request.POST.get("title", ""),
        "summary": request.POST.get("summary", ""),
        "requested_amount": request.POST.get("requested_amount", "") or None,
        "answers": answers,
    }


def _application_context(app: Application, errors: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "app": app,
        "call": app.call,
        "fields": app.call.form_fields,
        "errors": errors or {},
        "comments": selectors.applicant_comments(application=app),
        "info_requests": app.info_requests.all(),
    }


@_signed_in
def application_edit(request: HttpRequest, pk: int) -> HttpResponse:
    app = _mine(request, pk)
    return render(request, "calls/application.html", _application_context(app))


@_signed_in
@require_POST
def application_autosave(request: HttpRequest, pk: int) -> HttpResponse:
    app = _mine(request, pk)
    try:
        app = services.application_save(application=app, actor=_me(request), **_posted(request, app))
    except ApplicationError as exc:
        return render(request, "calls/_autosave.html", {"error": str(exc.message)})
    return render(request, "calls/_autosave.html", {"saved_at": timezone.localtime(app.saved_at)})


@_signed_in
@require_POST
def application_submit(request: HttpRequest, pk: int) -> HttpResponse:
    app = _mine(request, pk)
    user: Any = request.user
    try:
        with transaction.atomic():
            app = services.application_save(application=app, actor=user, **_posted(request, app))
        services.application_submit(application=app, actor=user)
    except ApplicationError as exc:
        _fail(request, exc)
        app.refresh_from_db()
        return render(request, "calls/application.html", _application_context(app, exc.extra.get("errors")), status=400)
    messages.success(request, _("申请已提交。"))
    return redirect("calls-application", pk=pk)


@_signed_in
@require_POST
def application_upload(request: HttpRequest, pk: int, key: str) -> HttpResponse:
    from huoban.storage.services import file_store

    app = _mine(request, pk)
    upload = request.FILES.get("file")
    try:
        if upload is None or not any(f["key"] == key and f["type"] == "file" for f in app.call.form_fields):
            raise ApplicationError(_("请选择要上传的文件。"), code="file_required")
        hub: Any = getattr(request, "hub", None)
        with transaction.atomic():
            stored = file_store(
                fileobj=upload,
                original_name=upload.name or "upload",
                purpose="other",
                uploaded_by=_me(request),
                hub_id=hub.pk,
                hub_schema=hub.schema_name,
            )
            services.application_save(application=app, actor=_me(request), answers={key: str(stored.pk)})
        messages.success(request, _("附件已上传。"))
    except ApplicationError as exc:
        _fail(request, exc)
    return redirect("calls-application", pk=pk)


@_signed_in
@require_POST
def application_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        services.application_withdraw(
            application=_mine(request, pk), actor=_me(request), reason=request.POST.get("reason", "")
        )
        messages.success(request, _("申请已撤回。"))
    except ApplicationError as exc:
        _fail(request, exc)
    return redirect("calls-application", pk=pk)


@_signed_in
@require_POST
def application_answer(request: HttpRequest, pk: int, request_id: int) -> HttpResponse:
    info = get_object_or_404(InfoRequest, pk=request_id, application=_mine(request, pk))
    try:
        services.application_info_answer(info_request=info, actor=_me(request), answer=request.POST.get("answer", ""))
        messages.success(request, _("答复已提交。"))
    except ApplicationError as exc:
        _fail(request, exc)
    return redirect("calls-application", pk=pk)


# --- Reviewers --------------------------------------------------------------------------------------------------


@hub_view(roles=REVIEWER)
def review_queue(request: HttpRequest) -> HttpResponse:
    page = Paginator(
        selectors.reviewer_queue(reviewer=_me(request)).select_related("application__organisation"),
        50,
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "calls/review_queue.html",
        {"page": page, "progress": selectors.reviewer_progress(reviewer=_me(request))},
    )


@hub_view(roles=REVIEWER)
def review_detail(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = get_object_or_404(
        ReviewAssignment.objects.select_related("application__organisation", "call"), pk=pk, reviewer_id=request.user.pk
    )
    user: Any = request.user
    if request.method == "POST":
        try:
            if request.POST.get("action") == "declare":
                services.review_declare(
                    assignment=assignment,
                    actor=user,
                    conflict=request.POST.get("conflict") == "yes",
                    note=request.POST.get("note", ""),
                )
            else:
                scores = []
                for criterion in selectors.criteria_of(assignment.call):
                    raw = request.POST.get(f"score_{criterion.pk}", "").strip()
                    if raw == "":
                        continue
                    if not raw.isdigit():
                        raise ApplicationError(
                            _("“%(name)s”的得分应在 0 到 %(max)s 之间。")
                            % {"name": criterion.name, "max": criterion.max_score},
                            code="invalid_score",
                        )
                    scores.append(
                        services.ScoreInput(criterion.pk, int(raw), request.POST.get(f"comment_{criterion.pk}", ""))
                    )
                services.review_score(
                    assignment=assignment, actor=user, scores=scores, submit=request.POST.get("action") == "submit"
                )
            messages.success(request, _("已保存。"))
            return redirect("calls-review", pk=pk)
        except ApplicationError as exc:
            _fail(request, exc)
    assignment.refresh_from_db()
    from hubs.calls.api import review_view_of

    given = {s.criterion_id: s for s in assignment.scores.all()}
    criteria = [(c, given.get(c.pk)) for c in selectors.criteria_of(assignment.call)]
    return render(
        request,
        "calls/review.html",
        {
            "assignment": assignment,
            "view": review_view_of(assignment),
            "fields": assignment.call.form_fields,
            "criteria": criteria,
            "can_score": assignment.status == AssignmentStatus.REVIEWING,
        },
    )
