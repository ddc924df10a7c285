"""Pages of project delivery.

Public transparency pages (``/projects/public/...``) need no sign-in and show only public data (selectors mask
people and free text). Working pages need sign-in and a capacity on the project (``hubs.projects.permissions``):
staff run everything, implementers report, ambassadors supervise; outsiders get 404.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hubs.core.permissions import STAFF, hub_view
from hubs.ledger.money import money_parse
from hubs.partners.charts import bar_chart
from hubs.partners.models import Partnership, PartnershipStatus
from hubs.projects import exports, permissions, selectors, services
from hubs.projects.models import (
    BudgetLine,
    Expense,
    FundingSource,
    Milestone,
    Project,
    ProjectStatus,
    RespondentKind,
    Tranche,
)
from hubs.projects.public import public_detail_context
from huoban.discovery.models import ServiceArea
from huoban.errors import ApplicationError
from huoban.identity.models import Organisation, User
from huoban.storage.selectors import file_can_view, file_get
from huoban.storage.services import file_link


def _project(request: HttpRequest, pk: int, needs: set[str] | None = None) -> tuple[Project, set[str]]:
    project = Project.objects.filter(pk=pk).first()
    if project is None:
        raise Http404
    try:
        caps = permissions.project_access(user=request.user, project=project, needs=needs)
    except ApplicationError as exc:
        if exc.status == 404:
            raise Http404 from None
        from django.core.exceptions import PermissionDenied

        raise PermissionDenied(str(exc.message)) from None
    return project, caps


def _date(value: str, field: str) -> date:
    parsed = parse_date(value or "")
    if parsed is None:
        raise ApplicationError(_("请输入有效日期（YYYY-MM-DD）。"), code="invalid_date", extra={"field": field})
    return parsed


def _back(pk: int) -> HttpResponse:
    return redirect("projects-detail", pk=pk)


def _run(request: HttpRequest, pk: int, action: Any, done: str) -> HttpResponse:
    try:
        action()
    except ApplicationError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, done)
    return _back(pk)


# --- Working pages ----------------------------------------------------------------------------------------------


@hub_view(public=True)
def project_list(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("projects-public")
    qs = selectors.project_list(
        qs=permissions.visible_projects(user=request.user),
        status=request.GET.get("status", ""),
        q=request.GET.get("q", "").strip(),
    )
    is_staff = permissions.is_staff(request.user)
    if not is_staff and not qs.exists() and permissions._membership(request.user) is None:
        return redirect("projects-public")
    orgs = selectors.organisations_by_id([p.implementer_id for p in qs[:200]])
    return render(
        request,
        "projects/list.html",
        {
            "projects": [(p, orgs.get(p.implementer_id)) for p in qs[:200]],
            "is_staff": is_staff,
            "statuses": ProjectStatus.choices,
            "status": request.GET.get("status", ""),
        },
    )


@hub_view(roles=STAFF)
def project_new(request: HttpRequest) -> HttpResponse:
    partners = Partnership.objects.filter(status=PartnershipStatus.ACTIVE).select_related("organisation")
    context: dict[str, Any] = {"partners": partners, "areas": ServiceArea.choices, "data": request.POST}
    if request.method == "POST":
        try:
            project = services.project_create(
                title_zh=request.POST.get("title_zh", ""),
                title_en=request.POST.get("title_en", ""),
                summary=request.POST.get("summary", ""),
                implementer_id=int(request.POST.get("implementer_id") or 0),
                service_area=request.POST.get("service_area", ""),
                community=request.POST.get("community", ""),
                beneficiaries=request.POST.get("beneficiaries", ""),
                start_date=_date(request.POST.get("start_date", ""), "start_date"),
                end_date=_date(request.POST.get("end_date", ""), "end_date"),
                private_notes=request.POST.get("private_notes", ""),
                actor=request.user,
            )
        except ApplicationError as exc:
            context["error"] = str(exc.message)
            return render(request, "projects/new.html", context, status=400)
        messages.success(request, _("项目已创建。"))
        return _back(project.pk)
    return render(request, "projects/new.html", context)


def _labels(ids: list[int | None]) -> dict[int, str]:
    return selectors.user_labels(ids, masked=False)


@hub_view(public=True)
def project_detail(request: HttpRequest, pk: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("projects-public-detail", pk=pk)
    project, caps = _project(request, pk)
    tranches = list(project.tranches.select_related("budget_line", "milestone").prefetch_related("reviews"))
    expenses = list(project.expenses.select_related("budget_line").prefetch_related("reviews"))
    visits = list(project.visits.all())
    people = [t.ambassador_approver_id for t in tranches] + [t.staff_approver_id for t in tranches]
    people += [v.ambassador_id for v in visits] + [a.user_id for a in project.ambassadors.all()]
    people += [r.reviewer_id for t in tranches for r in t.reviews.all()]
    people += [r.reviewer_id for e in expenses for r in e.reviews.all()]
    orgs = selectors.organisations_by_id(
        [project.implementer_id, *project.funding_sources.values_list("funder_id", flat=True)]
    )
    context = {
        "project": project,
        "caps": caps,
        "is_staff": permissions.STAFF_CAP in caps,
        "is_ambassador": permissions.AMBASSADOR_CAP in caps,
        "is_implementer": permissions.IMPLEMENTER_CAP in caps,
        "can_evaluate": bool(caps & {permissions.STAFF_CAP, permissions.EVALUATOR_CAP}),
        "implementer": orgs.get(project.implementer_id),
        "orgs": orgs,
        "money": selectors.project_money(project=project),
        "timeline": selectors.funds_timeline(project=project),
        "lines": project.budget_lines.all(),
        "sources": project.funding_sources.all(),
        "milestones": project.milestones.all(),
        "tranches": tranches,
        "expenses": expenses,
        "visits": visits,
        "reports": project.reports.all(),
        "indicators": project.indicators.all(),
        "evaluations": project.evaluations.all(),
        "ambassadors": project.ambassadors.all(),
        "survey": selectors.survey_summary(project=project),
        "people": _labels(people),
        "transitions": sorted(services.TRANSITIONS.get(project.status, set())),
        "status_labels": dict(ProjectStatus.choices),
        "all_organisations": Organisation.objects.order_by("name")[:500] if permissions.STAFF_CAP in caps else [],
        "today": timezone.localdate(),
        "money_editable": project.status in services.EDITABLE_STATUSES,
        "project_open": project.status in services.OPEN_STATUSES,
    }
    return render(request, "projects/detail.html", context)


@hub_view(public=True)
@require_POST
def project_transition(request: HttpRequest, pk: int) -> HttpResponse:
    project, _caps = _project(request, pk, {permissions.STAFF_CAP})
    return _run(
        request,
        pk,
        lambda: services.project_transition(
            project=project, to=request.POST.get("to", ""), reason=request.POST.get("reason", ""), actor=request.user
        ),
        _("项目状态已更新。"),
    )


@hub_view(public=True)
@require_POST
def budget_line_add(request: HttpRequest, pk: int) -> HttpResponse:
    project, _caps = _project(request, pk, {permissions.STAFF_CAP})
    return _run(
        request,
        pk,
        lambda: services.budget_line_add(
            project=project,
            name=request.POST.get("name", ""),
            amount=money_parse(request.POST.get("amount", ""), allow_zero=False),
            actor=request.user,
        ),
        _("预算科目已添加。"),
    )


@hub_view(public=True)
@require_POST
def funding_add(request: HttpRequest, pk: int) -> HttpResponse:
    project, _caps = _project(request, pk, {permissions.STAFF_CAP})
    return _run(
        request,
        pk,
        lambda: services.funding_source_add(
            project=project,
            funder_id=int(request.POST.get("funder_id") or 0),
            amount=money_parse(request.POST.get("amount", ""), allow_zero=False),
            restricted=request.POST.get("restricted") == "on",
            actor=request.user,
        ),
        _("资金来源已添加。"),
    )


@hub_view(public=True)
@require_POST
def funds_receive(request: HttpRequest, pk: int) -> HttpResponse:
    project, _caps = _project(request, pk, {permissions.STAFF_CAP})
    upload = request.FILES.get("receipt")

    def act() -> None:
        source = FundingSource.objects.filter(project=project, pk=int(request.POST.get("funding_source") or 0)).first()
        if source is None:
            raise ApplicationError(_("请选择资金来源。"), code="required", extra={"field": "funding_source"})
        services.funds_receive(
            project=project,
            funding_source=source,
            amount=money_parse(request.POST.get("amount", ""), allow_zero=False),
            received_on=_date(request.POST.get("received_on", ""), "received_on"),
            receipt=upload,
            receipt_name=(upload.name or "") if upload else "",
            actor=request.user,
        )

    return _run(request, pk, act, _("到账资金已登记。"))


@hub_view(public=True)
@require_POST
def milestone_add(request: HttpRequest, pk: int) -> HttpResponse:
    project, _caps = _project(request, pk, {permissions.STAFF_CAP, permissions.IMPLEMENTER_CAP})
    return _run(
        request,
        pk,
        lambda: services.milestone_add(project=project, actor=request.user, **_milestone_fields(request)),
        _("里程碑已添加。"),
    )


def _milestone_fields(request: HttpRequest) -> dict[str, Any]:
    amount = request.POST.get("amount", "").strip()
    return {
        "title": request.POST.get("title", ""),
        "title_en": request.POST.get("title_en", ""),
        "due_date": _date(request.POST.get("due_date", ""), "due_date"),
        "deliverable": request.POST.get("deliverable", ""),
        "amount": money_parse(amount, allow_zero=True) if amount else 0,
    }


def _milestone(project: Project, milestone_id: int) -> Milestone:
    milestone = Milestone.objects.filter(project=project, pk=milestone_id).first()
    if milestone is None:
        raise Http404
    return milestone


@hub_view(public=True)
@require_POST
def milestone_edit(request: HttpRequest, pk: int, milestone_id: int) -> HttpResponse:
    project, _caps = _project(request, pk, {permissions.STAFF_CAP})
    milestone = _milestone(project, milestone_id)
    return _run(
        request,
        pk,
        lambda: services.milestone_update(milestone=milestone, actor=request.user, **_milestone_fields(request)),
        _("里程碑已更新。"),
    )


@hub_view(public=True)
@require_POST
def milestone_delete(request: HttpRequest, pk: int, milestone_id: int) -> HttpResponse:
    project, _caps = _project(request, pk, {permissions.STAFF_CAP})
    milestone = _milestone(project, milestone_id)
    return _run(
        request, pk, lambda: services.milestone_delete(milestone=milestone, actor=request.user), _("里程碑已删除。")
    )


def _line(project: Project, line_id: int) -> BudgetLine:
    line = BudgetLine.objects.filter(project=project, pk=line_id).first()
    if line is None:
        raise Http404
    return line


@hub_view(public=True)
@require_POST
def budget_line_edit(request: HttpRequest, pk: int, line_id: int) -> HttpResponse:
    project, _caps = _project(request, pk, {permissions.STAFF_CAP})
    line = _line(project, line_id)
    return _run(
        request,
        pk,
        lambda: services.budget_line_update(
            line=line,
            name=request.POST.get("name", ""),
            amount=money_parse(request.POST.get("amount", ""), allow_zero=False),
            actor=request.user,
        ),
        _("预算科目已更新。"),
    )


@hub_view(public=True)
@require_POST
def budget_line_delete(request: HttpRequest, pk: int, line_id: int) -> HttpResponse:
    project, _caps = _project(request, pk, {permissions.STAFF_CAP})
    line = _line(project, line_id)
    return _run(request, pk, lambda: services.budget_line_delete(line=line, actor=request.user), _("预算科目已删除。"))


@hub_view(public=True)
def project_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Staff edit a project's description; the same checks as the API (``project_update``)."""
    project, _caps = _project(request, pk, {permissions.STAFF_CAP})
    context: dict[str, Any] = {"project": project, "areas": ServiceArea.choices, "data": None}
    if request.method == "POST":
        try:
            count = request.POST.get("beneficiary_count", "0").strip() or "0"
            if not count.isdigit():
                raise ApplicationError(
                    _("受益人数必须是不小于零的整数。"), code="invalid", extra={"field": "beneficiary_count"}
                )
            services.project_update(
                project=project,
                actor=request.user,
                title_zh=request.POST.get("title_zh", ""),
                title_en=request.POST.get("title_en", ""),
                summary=request.POST.get("summary", ""),
                service_area=request.POST.get("service_area", ""),
                community=request.POST.get("community", ""),
                beneficiaries=request.POST.get("beneficiaries", ""),
                beneficiary_count=int(count),
                start_date=_date(request.POST.get("start_date", ""), "start_date"),
                end_date=_date(request.POST.get("end_date", ""), "end_date"),
                private_notes=request.POST.get("private_notes", ""),
            )
        except ApplicationError as exc:
            context["error"] = str(exc.message)
            context["data"] = request.POST
            return render(request, "projects/edit.html", context, status=400)
        messages.success(request, _("项目已更新。"))
        return _back(pk)
    return render(request, "projects/edit.html", context)


@hub_view(public=True)
@require_POST
def ambassador_assign(request: HttpRequest, pk: int) -> HttpResponse:
    project, _caps = _project(request, pk, {permissions.STAFF_CAP})

    def act() -> None:
        user = User.objects.filter(email__iexact=request.POST.get("email", "").strip()).first()
        if user is None:
            raise ApplicationError(_("找不到这个用户。"), code="not_found", extra={"field": "email"})
        services.ambassador_assign(project=project, user=user, actor=request.user)

    return _run(request, pk, act, _("公益使者已指派。"))


@hub_view(public=True)
@require_POST
def tranche_request(request: HttpRequest, pk: int) -> HttpResponse:
    project, _caps = _project(request, pk, {permissions.STAFF_CAP, permissions.IMPLEMENTER_CAP})

    def act() -> None:
        line = BudgetLine.objects.filter(project=project, pk=int(request.POST.get("budget_line") or 0)).first()
        source = FundingSource.objects.filter(project=project, pk=int(request.POST.get("funding_source") or 0)).first()
        milestone = Milestone.objects.filter(project=project, pk=int(request.POST.get("milestone") or 0)).first()
        if line is None or source is None:
            raise ApplicationError(_("请选择预算科目和资金来源。"), code="required")
        services.tranche_request(
            project=project,
            title=request.POST.get("title", ""),
            amount=money_parse(request.POST.get("amount", ""), allow_zero=False),
            budget_line=line,
            funding_source=source,
            milestone=milestone,
            actor=request.user,
        )

    return _run(request, pk, act, _("拨付申请已提交。"))


@hub_view(public=True)
@require_POST
def tranche_review(request: HttpRequest, pk: int, tranche_id: int) -> HttpResponse:
    project, _caps = _project(request, pk, {permissions.STAFF_CAP, permissions.AMBASSADOR_CAP})
    tranche = Tranche.objects.filter(project=project, pk=tranche_id).first()
    if tranche is None:
        raise Http404
    return _run(
        request,
        pk,
        lambda: services.tranche_review(
            tranche=tranche,
            user=request.user,
            capacity=request.POST.get("capacity", ""),
            decision=request.POST.get("decision", ""),
            note=request.POST.get("note", ""),
        ),
        _("审批意见已记录。"),
    )


@hub_view(public=True)
@require_POST
def expense_report(request: HttpRequest, pk: int) -> HttpResponse:
    project, _caps = _project(request, pk, {permissions.STAFF_CAP, permissions.IMPLEMENTER_CAP})
    upload = request.FILES.get("receipt")

    def act() -> None:
        line = BudgetLine.objects.filter(project=project, pk=int(request.POST.get("budget_line") or 0)).first()
        if line is None:
            raise ApplicationError(_("请选择预算科目。"), code="required", extra={"field": "budget_line"})
        services.expense_report(
            project=project,
            budget_line=line,
            amount=money_parse(request.POST.get("amount", ""), allow_zero=False),
            description=request.POST.get("description", ""),
            spent_on=_date(request.POST.get("spent_on", ""), "spent_on"),
            receipt=upload,
            receipt_name=(upload.name or "") if upload else "",
            actor=request.user,
        )

    return _run(request, pk, act, _("支出已报告。"))


@hub_view(public=True)
@require_POST
def expense_review(request: HttpRequest, pk: int, expense_id: int) -> HttpResponse:
    project, _caps = _project(request, pk, {permissions.STAFF_CAP, permissions.AMBASSADOR_CAP})
    expense = Expense.objects.filter(project=project, pk=expense_id).first()
    if expense is None:
        raise Http404
    return _run(
        request,
        pk,
        lambda: services.expense_review(
            expense=expense,
            user=request.user,
            capacity=request.POST.get("capacity", ""),
            decision=request.POST.get("decision", ""),
            note=request.POST.get("note", ""),
        ),
        _("审核意见已记录。"),
    )


@hub_view(public=True)
@require_POST
def visit_add(request: HttpRequest, pk: int) -> HttpResponse:
    project, _caps = _project(request, pk, {permissions.AMBASSADOR_CAP})

    def act() -> None:
        when = parse_datetime(request.POST.get("visited_at", ""))
        if when is None:
            raise ApplicationError(_("请输入有效的走访时间。"), code="invalid_date", extra={"field": "visited_at"})
        if timezone.is_naive(when):
            when = timezone.make_aware(when)
        items = [line.strip() for line in request.POST.get("checklist", "").splitlines() if line.strip()]
        checklist = [{"item": item.lstrip("-x✓ ").strip(), "ok": item.startswith(("x", "✓"))} for item in items]
        services.site_visit_record(
            project=project,
            ambassador=request.user,
            visited_at=when,
            findings=request.POST.get("findings", ""),
            checklist=checklist,
            private_notes=request.POST.get("private_notes", ""),
            photos=[(f.name or "", f) for f in request.FILES.getlist("photos")],
        )

    return _run(request, pk, act, _("走访已记录。"))


@hub_view(public=True)
@require_POST
def report_add(request: HttpRequest, pk: int) -> HttpResponse:
    project, _caps = _project(request, pk, {permissions.STAFF_CAP, permissions.IMPLEMENTER_CAP})

    def act() -> None:
        figures: dict[str, Any] = {}
        for line in request.POST.get("figures", "").splitlines():
            if ":" in line or "：" in line:
                key, _sep, value = line.replace("：", ":").partition(":")
                try:
                    figures[key.strip()] = int(value.strip())
                except ValueError:
                    raise ApplicationError(_("报告数据必须是数字。"), code="invalid_figures") from None
        services.report_submit(
            project=project,
            kind=request.POST.get("kind", ""),
            period_end=_date(request.POST.get("period_end", ""), "period_end"),
            text=request.POST.get("text", ""),
            figures=figures,
            fund_usage=request.POST.get("fund_usage", ""),
            photos=[(f.name or "", f) for f in request.FILES.getlist("photos")],
            actor=request.user,
        )

    return _run(request, pk, act, _("报告已提交。"))


@hub_view(public=True)
@require_POST
def indicator_add(request: HttpRequest, pk: int) -> HttpResponse:
    project, _caps = _project(request, pk, {permissions.STAFF_CAP, permissions.IMPLEMENTER_CAP})
    indicator = project.indicators.filter(pk=int(request.POST.get("indicator") or 0)).first()
    return _run(
        request,
        pk,
        lambda: services.indicator_set(
            project=project,
            indicator=indicator,
            name=request.POST.get("name", ""),
            unit=request.POST.get("unit", ""),
            baseline=request.POST.get("baseline", "0") or "0",
            target=request.POST.get("target", ""),
            actual=request.POST.get("actual", ""),
            actor=request.user,
        ),
        _("指标已保存。"),
    )


@hub_view(public=True)
@require_POST
def evaluation_add(request: HttpRequest, pk: int) -> HttpResponse:
    project, _caps = _project(request, pk, {permissions.STAFF_CAP, permissions.EVALUATOR_CAP})

    def act() -> None:
        try:
            score = int(request.POST.get("score", ""))
        except ValueError:
            raise ApplicationError(_("综合评分请在 0 到 100 之间。"), code="invalid_score") from None
        services.evaluation_submit(
            project=project,
            evaluator=request.user,
            score=score,
            summary=request.POST.get("summary", ""),
            evaluator_organisation=request.POST.get("evaluator_organisation", ""),
        )

    return _run(request, pk, act, _("评估已提交。"))


@hub_view(public=True)
def file_open(request: HttpRequest, pk: int, file_id: str) -> HttpResponse:
    """A receipt or photo of the project, for the people working on it (a short-lived link)."""
    project, _caps = _project(request, pk)
    known = {str(x) for x in project.expenses.values_list("receipt_file_id", flat=True)}
    known |= {str(x) for x in project.receipts.values_list("receipt_file_id", flat=True) if x}
    for ids in [
        *project.visits.values_list("photo_ids", flat=True),
        *project.reports.values_list("photo_ids", flat=True),
    ]:
        known |= {str(x) for x in ids}
    stored = file_get(file_id=file_id) if file_id in known else None
    if stored is None or stored.hub_id != request.hub.pk:  # type: ignore[attr-defined]
        raise Http404
    return redirect(file_link(stored_file=stored, ttl_seconds=300, as_attachment=False))


@hub_view(public=True)
@require_POST
def photo_visibility(request: HttpRequest, pk: int, file_id: str) -> HttpResponse:
    """Staff choose whether a site-visit or report photo is shown on the public project page."""
    project, _caps = _project(request, pk, {permissions.STAFF_CAP})
    public = request.POST.get("public") == "1"
    return _run(
        request,
        pk,
        lambda: services.photo_visibility_set(project=project, file_id=file_id, public=public, actor=request.user),
        _("照片已设为公开。") if public else _("照片已不再公开。"),
    )


# --- Public transparency pages ----------------------------------------------------------------------------------


@hub_view(public=True)
def public_list(request: HttpRequest) -> HttpResponse:
    totals = selectors.hub_totals()
    projects = list(selectors.public_projects()[:200])
    orgs = selectors.organisations_by_id([p.implementer_id for p in projects])
    chart = bar_chart(
        title=_("各状态项目数"),
        rows=totals.by_status or [(_("暂无"), 0)],
    )
    return render(
        request,
        "projects/public_list.html",
        {"totals": totals, "projects": [(p, orgs.get(p.implementer_id)) for p in projects], "chart": chart},
    )


@hub_view(public=True)
def public_detail(request: HttpRequest, pk: int) -> HttpResponse:
    project = selectors.public_project(pk=pk)
    if project is None:
        raise Http404
    return render(request, "projects/public_detail.html", public_detail_context(project))


@hub_view(public=True)
def public_photo(request: HttpRequest, pk: int, file_id: str) -> HttpResponse:
    """A photo staff made public, on a public project: a short-lived link from the storage service, issued after
    its permission check (the hub vouches: the photo is on this hub's public page)."""
    project = selectors.public_project(pk=pk)
    if project is None or file_id not in {p.file_id for p in selectors.public_photos(project=project)}:
        raise Http404
    stored = file_get(file_id=file_id)
    hub_id = request.hub.pk  # type: ignore[attr-defined]
    if stored is None or not file_can_view(stored_file=stored, user=None, viewer_hub_id=hub_id, hub_allowed=True):
        raise Http404
    if not stored.content_type.startswith("image/"):
        raise Http404
    return redirect(file_link(stored_file=stored, ttl_seconds=300, as_attachment=False))


@hub_view(public=True)
def public_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    project = selectors.public_project(pk=pk)
    if project is None:
        raise Http404
    data = exports.project_pdf(project=project, base_url=request.build_absolute_uri("/"))
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="project-{project.pk}.pdf"'
    return response


@hub_view(public=True)
def public_export(request: HttpRequest, file_format: str) -> HttpResponse:
    data = exports.projects_table(file_format=file_format)
    response = HttpResponse(data, content_type=exports.CONTENT_TYPES[file_format])
    response["Content-Disposition"] = f'attachment; filename="projects.{file_format}"'
    return response


@hub_view(public=True)
def survey(request: HttpRequest, pk: int) -> HttpResponse:
    project = selectors.public_project(pk=pk)
    if project is None:
        raise Http404
    if request.method == "POST":
        try:
            services.survey_answer(
                project=project,
                respondent=request.user,
                kind=request.POST.get("kind", ""),
                satisfaction=int(request.POST.get("satisfaction") or 0),
                comment=request.POST.get("comment", ""),
            )
        except ApplicationError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("感谢您的评价。"))
        return redirect("projects-public-detail", pk=pk)
    return render(request, "projects/survey.html", {"project": project, "kinds": RespondentKind.choices})
