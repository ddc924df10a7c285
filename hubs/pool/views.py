"""Pages of the mutual-aid pool: for member organisations (join, apply, statements), the committee (join
requests, votes, pauses, write-offs) and the treasurer (contributions, disbursements, repayments, pay-outs).

The views are marked public for the hub-role checks (people of partner organisations hold no hub role) and ask
``hubs.pool.permissions`` instead: sign-in required, and nothing of a pool is shown to anyone who does not see it
(404). The services decide every action (403 ``pool_role_required`` for a too-weak role)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hubs.core.permissions import hub_view
from hubs.partners.downloads import file_response
from hubs.pool import reports, selectors, services
from hubs.pool.forms import (
    ContributionForm,
    LoanApplyForm,
    PoolCreateForm,
    ReasonForm,
    RepaymentForm,
    RulesForm,
    VoteForm,
)
from hubs.pool.models import Loan, MemberStatus, Pool, PoolMember, PoolRoleKind
from hubs.pool.permissions import PoolAccess, access_for, member_visible, pool_access
from huoban.errors import ApplicationError
from huoban.identity.models import User
from huoban.web.forms import form_apply_error

PDF = "application/pdf"


def signed_in(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.build_absolute_uri(), f"{settings.HUOBAN_SITE_URL}/accounts/login/")
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return hub_view(public=True)(wrapped)


def _fail(request: HttpRequest, exc: ApplicationError) -> None:
    if exc.status == 403:
        raise PermissionDenied(str(exc.message))
    messages.error(request, str(exc.message))


@signed_in
def pool_list(request: HttpRequest) -> HttpResponse:
    access = access_for(request.user)
    if not access.sees:
        raise Http404
    form = PoolCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            pool = services.pool_create(
                name=form.cleaned_data["name"], description=form.cleaned_data["description"], actor=request.user
            )
        except ApplicationError as exc:
            if exc.status == 403:
                raise PermissionDenied(str(exc.message)) from exc
            form_apply_error(form, exc)
        else:
            messages.success(request, _("互助金已创建。"))
            return redirect(f"/pool/{pool.pk}/rules/")
    pools = [(pool, selectors.pool_figures(pool=pool)) for pool in Pool.objects.order_by("id")]
    return render(request, "pool/list.html", {"pools": pools, "form": form, "access": access})


@signed_in
def dashboard(request: HttpRequest, pk: int) -> HttpResponse:
    access = pool_access(request.user, pk)
    pool: Pool = access.pool  # type: ignore[assignment]
    context: dict[str, Any] = {"pool": pool, "access": access, "rules": pool.rules}
    context["figures"] = selectors.pool_figures(pool=pool)
    context["members_count"] = selectors.members_of(pool=pool).count()
    context["repayment_rate"] = selectors.repayment_rate_pct(pool=pool)
    context["delinquency"] = selectors.pool_delinquency(pool=pool)
    history = selectors.monthly_history(pool=pool)
    peak = max([1, *[int(h["cash"]) + int(h["loans"]) for h in history]])
    context["history"] = [
        {**h, "cash_pct": int(h["cash"]) * 100 // peak, "loans_pct": int(h["loans"]) * 100 // peak} for h in history
    ]
    joinable = {m.organisation_id for m in access.members if m.status in (MemberStatus.APPLIED, MemberStatus.ACTIVE)}
    context["can_join"] = [org for org in access.organisations if org.pk not in joinable]
    if access.member:
        context["my_equity"] = selectors.member_equity(member=access.member)
        context["my_limit"] = services.member_limit(member=access.member, rules=pool.rules)
        context["my_loans"] = access.member.loans.order_by("-id")
    if access.officer:
        context["loans"] = pool.loans.select_related("member__organisation").order_by("-id")[:100]
        context["join_requests"] = selectors.members_of(pool=pool, status=MemberStatus.APPLIED)
    if access.committee:
        context["to_vote"] = selectors.loans_to_vote(pool=pool, user=request.user)
    return render(request, "pool/dashboard.html", context)


@signed_in
@require_POST
def join(request: HttpRequest, pk: int) -> HttpResponse:
    access = pool_access(request.user, pk)
    org = next((o for o in access.organisations if str(o.pk) == request.POST.get("organisation")), None)
    if org is None:
        messages.error(request, _("请选择您所在的伙伴组织。"))
    else:
        try:
            services.member_apply(pool=access.pool, organisation=org, actor=request.user)  # type: ignore[arg-type]
            messages.success(request, _("入会申请已提交，等待委员会审议。"))
        except ApplicationError as exc:
            _fail(request, exc)
    return redirect(f"/pool/{pk}/")


@signed_in
def members(request: HttpRequest, pk: int) -> HttpResponse:
    access = pool_access(request.user, pk)
    if not access.officer:
        raise PermissionDenied(_("只有互助金的委员、司库和枢纽工作人员可以查看成员名单。"))
    pool: Pool = access.pool  # type: ignore[assignment]
    equities = selectors.member_equities(pool=pool)
    rows = [
        (m, equities.get(m.pk, 0), selectors.member_held(member=m))
        for m in selectors.members_of(pool=pool, status=None)
    ]
    return render(
        request,
        "pool/members.html",
        {"pool": pool, "access": access, "rows": rows, "contribution_form": ContributionForm()},
    )


def _member(access: PoolAccess, mid: int) -> PoolMember:
    member = get_object_or_404(PoolMember.objects.select_related("organisation", "pool"), pk=mid, pool=access.pool)
    if not member_visible(access, member):
        raise Http404
    return member


@signed_in
@require_POST
def member_action(request: HttpRequest, pk: int, mid: int, action: str) -> HttpResponse:
    access = pool_access(request.user, pk)
    member = _member(access, mid)
    try:
        if action in ("approve", "reject"):
            services.member_decide(
                member=member, approve=action == "approve", actor=request.user, note=request.POST.get("note", "")
            )
            messages.success(request, _("已处理入会申请。"))
        elif action == "contribute":
            form = ContributionForm(request.POST, request.FILES)
            if not form.is_valid():
                messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
                return redirect(f"/pool/{pk}/members/")
            proof = form.cleaned_data.get("proof")
            services.contribution_record(
                member=member,
                amount=form.cleaned_data["amount"],
                kind=form.cleaned_data["kind"],
                received_on=form.cleaned_data["received_on"],
                actor=request.user,
                proof=proof,
                proof_name=getattr(proof, "name", ""),
                key=form.cleaned_data["reference"],
            )
            messages.success(request, _("缴款已入账。"))
        elif action == "leave":
            result = services.member_leave(member=member, actor=request.user)
            messages.success(request, _("成员已退出，退还权益 %(amount)s。") % {"amount": _money(result.paid_out)})
        else:
            raise Http404
    except ApplicationError as exc:
        _fail(request, exc)
    return redirect(f"/pool/{pk}/members/" if access.officer else f"/pool/{pk}/")


def _money(fen: int) -> str:
    from hubs.ledger.money import money_format

    return money_format(fen)


@signed_in
def member_statement(request: HttpRequest, pk: int, mid: int, file_format: str) -> HttpResponse:
    access = pool_access(request.user, pk)
    member = _member(access, mid)
    name = f"pool-{pk}-member-{mid}-statement"
    if file_format == "pdf":
        response = HttpResponse(reports.statement_pdf(pool=member.pool, member=member), content_type=PDF)
        response["Content-Disposition"] = f'attachment; filename="{name}.pdf"'
        return response
    return file_response(reports.member_statement_xlsx(member=member), "xlsx", name)


@signed_in
def pool_statement(request: HttpRequest, pk: int, file_format: str) -> HttpResponse:
    access = pool_access(request.user, pk)
    if not access.officer:
        raise PermissionDenied(_("只有互助金的委员、司库和枢纽工作人员可以下载资金池报表。"))
    pool: Pool = access.pool  # type: ignore[assignment]
    if file_format == "pdf":
        response = HttpResponse(reports.statement_pdf(pool=pool), content_type=PDF)
        response["Content-Disposition"] = f'attachment; filename="pool-{pk}-statement.pdf"'
        return response
    return file_response(reports.pool_statement_xlsx(pool=pool), "xlsx", f"pool-{pk}-statement")


@signed_in
def annual(request: HttpRequest, pk: int, year: int) -> HttpResponse:
    access = pool_access(request.user, pk)
    if not 2000 <= year <= 2100:
        raise Http404
    report = reports.annual_report(pool=access.pool, year=year)  # type: ignore[arg-type]
    return render(request, "pool/annual.html", {"pool": access.pool, "report": report, "access": access})


@signed_in
def rules(request: HttpRequest, pk: int) -> HttpResponse:
    access = pool_access(request.user, pk)
    pool: Pool = access.pool  # type: ignore[assignment]
    current = pool.rules
    users = {u.pk: u for u in User.objects.filter(pk__in=pool.roles.values("user_id"))}
    form = RulesForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        changes = {k: form.cleaned_data[k] for k in form.fields if k != "note"}
        try:
            services.rules_update(pool=pool, actor=request.user, changes=changes, note=form.cleaned_data["note"])
        except ApplicationError as exc:
            if exc.status == 403:
                raise PermissionDenied(str(exc.message)) from exc
            form_apply_error(form, exc)  # type: ignore[arg-type]
        else:
            messages.success(request, _("规则已更新为新版本。"))
            return redirect(f"/pool/{pk}/rules/")
    return render(
        request,
        "pool/rules.html",
        {
            "pool": pool,
            "access": access,
            "form": form,
            "versions": pool.rule_versions.all(),
            "seats": [(s, users.get(s.user_id)) for s in pool.roles.order_by("role", "id")],
        },
    )


@signed_in
@require_POST
def seat(request: HttpRequest, pk: int) -> HttpResponse:
    access = pool_access(request.user, pk)
    user = User.objects.filter(email__iexact=(request.POST.get("email") or "").strip()).first()
    if user is None:
        messages.error(request, _("找不到这个邮箱的用户。"))
    else:
        try:
            services.pool_role_assign(
                pool=access.pool,  # type: ignore[arg-type]
                user=user,
                role=request.POST.get("role", PoolRoleKind.COMMITTEE),
                actor=request.user,
            )
            messages.success(request, _("已任命。"))
        except ApplicationError as exc:
            _fail(request, exc)
    return redirect(f"/pool/{pk}/rules/")


@signed_in
def loan_apply(request: HttpRequest, pk: int) -> HttpResponse:
    access = pool_access(request.user, pk)
    pool: Pool = access.pool  # type: ignore[assignment]
    member = access.member
    if member is None:
        messages.error(request, _("只有本互助金的正式成员可以申请借款。"))
        return redirect(f"/pool/{pk}/")
    form = LoanApplyForm(request.POST or None, request.FILES or None)
    others = selectors.members_of(pool=pool).exclude(pk=member.pk)
    guarantor_field: Any = form.fields["guarantors"]
    guarantor_field.choices = [(str(m.pk), m.organisation.name) for m in others]
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        document = data.get("document")
        try:
            loan = services.loan_apply(
                member=member,
                amount=data["amount"],
                purpose=data["purpose"],
                receivable_payer=data["receivable_payer"],
                receivable_contract=data["receivable_contract"],
                receivable_expected_on=data["receivable_expected_on"],
                guarantors=[m for m in others if str(m.pk) in set(data["guarantors"])],
                document=document,
                document_name=getattr(document, "name", ""),
                actor=request.user,
            )
        except ApplicationError as exc:
            form_apply_error(form, exc)
        else:
            messages.success(request, _("借款申请已提交，等待委员会表决。"))
            return redirect(f"/pool/{pk}/loans/{loan.pk}/")
    context = {
        "pool": pool,
        "access": access,
        "form": form,
        "limit": services.member_limit(member=member, rules=pool.rules),
        "available": selectors.pool_figures(pool=pool).available,
    }
    return render(request, "pool/loan_apply.html", context)


def _loan(access: PoolAccess, lid: int) -> Loan:
    loan = get_object_or_404(
        Loan.objects.select_related("member__organisation", "rules", "pool"), pk=lid, pool=access.pool
    )
    if not member_visible(access, loan.member):
        raise Http404
    return loan


@signed_in
def loan_detail(request: HttpRequest, pk: int, lid: int) -> HttpResponse:
    access = pool_access(request.user, pk)
    loan = _loan(access, lid)
    context = {
        "pool": access.pool,
        "access": access,
        "loan": loan,
        "outstanding": selectors.loan_outstanding(loan=loan),
        "days_past_due": selectors.loan_days_past_due(loan=loan),
        "paused": selectors.loan_is_paused(loan=loan),
        "installments": loan.installments.all(),
        "repayments": loan.repayments.all(),
        "pauses": loan.pauses.all(),
        "votes": loan.votes.all() if access.officer else [],
        "guarantees": loan.guarantees.select_related("guarantor__organisation"),
        "has_voted": loan.votes.filter(voter_id=request.user.pk).exists(),
        "vote_form": VoteForm(),
        "repay_form": RepaymentForm(),
        "reason_form": ReasonForm(),
    }
    return render(request, "pool/loan_detail.html", context)


@signed_in
@require_POST
def loan_action(request: HttpRequest, pk: int, lid: int, action: str) -> HttpResponse:
    access = pool_access(request.user, pk)
    loan = _loan(access, lid)
    user = request.user
    try:
        if action == "vote":
            form = VoteForm(request.POST)
            if not form.is_valid():
                raise ApplicationError(_("请选择赞成或反对。"), code="invalid")
            result = services.loan_vote(
                loan=loan, actor=user, approve=form.cleaned_data["approve"], comment=form.cleaned_data["comment"]
            )
            messages.success(
                request, _("已投票。") + (" " + result.loan.get_status_display() if result.decided else "")
            )
        elif action == "disburse":
            services.loan_disburse(loan=loan, actor=user)
            messages.success(request, _("已放款。"))
        elif action == "repay":
            repay = RepaymentForm(request.POST, request.FILES)
            if not repay.is_valid():
                raise ApplicationError(
                    " ".join(str(e) for errors in repay.errors.values() for e in errors), code="invalid"
                )
            proof = repay.cleaned_data.get("proof")
            services.repayment_record(
                loan=loan,
                amount=repay.cleaned_data["amount"],
                received_on=repay.cleaned_data.get("received_on") or None,
                actor=user,
                proof=proof,
                proof_name=getattr(proof, "name", ""),
                key=repay.cleaned_data["reference"],
            )
            messages.success(request, _("还款已入账。"))
        elif action == "receivable-paid":
            services.loan_receivable_paid(loan=loan, actor=user, paid_on=_date(request.POST.get("paid_on")))
            messages.success(request, _("已登记回款并自动匹配还款。"))
        elif action == "pause":
            services.loan_pause(loan=loan, actor=user, reason=request.POST.get("reason", ""))
            messages.success(request, _("已暂停逾期计算。"))
        elif action == "resume":
            services.loan_resume(loan=loan, actor=user)
            messages.success(request, _("已恢复逾期计算。"))
        elif action == "write-off":
            services.loan_write_off(loan=loan, actor=user, reason=request.POST.get("reason", ""))
            messages.success(request, _("已核销。"))
        elif action == "cancel":
            services.loan_cancel(loan=loan, actor=user)
            messages.success(request, _("已撤回。"))
        else:
            raise Http404
    except ApplicationError as exc:
        _fail(request, exc)
    return redirect(f"/pool/{pk}/loans/{lid}/")


def _date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None
