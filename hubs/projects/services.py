"""Writes on projects. Every change leaves an audit event (``project.*``); every movement of money is a ledger
transaction posted through ``hubs.ledger.services`` (no second money store).

The project's ledger accounts (codes ``PRJ<id>/...``, subject ``project:<id>``):
- ``FUND/<source>``: what a funder gave and the hub still holds for the project (asset, no overdraft; restricted to
  the project when the funder restricts it, so it can only pay the project's budget lines);
- ``INCOME/<source>``: the funder's contribution (income);
- ``ADVANCE``: money disbursed to the implementer and not yet accounted for by expenses (asset, no overdraft,
  restricted to the project: expenses must name one of its budget lines);
- ``EXPENSE``: what the implementer spent (expense).
A receipt debits FUND and credits INCOME; a released tranche debits ADVANCE and credits FUND (purpose: the budget
line); a reported expense debits EXPENSE and credits ADVANCE. The ledger's locked no-overdraft check is what
keeps concurrent releases from overdrawing a fund.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import IO, Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hubs.ledger import services as ledger
from hubs.ledger.models import AccountKind
from hubs.ledger.money import MAX_FEN, money_format
from hubs.ledger.services import Line
from hubs.partners.models import Partnership, PartnershipStatus
from hubs.projects import permissions as perms
from hubs.projects.discovery import project_index
from hubs.projects.models import (
    AmbassadorAssignment,
    BudgetLine,
    Evaluation,
    EvaluatorKind,
    Expense,
    ExpenseStatus,
    FundingSource,
    FundReceipt,
    Indicator,
    Milestone,
    ProgressReport,
    Project,
    ProjectStatus,
    ReportKind,
    RespondentKind,
    Review,
    ReviewDecision,
    SiteVisit,
    SurveyResponse,
    Tranche,
    TrancheStatus,
)
from huoban.audit.services import audit_record, snapshot
from huoban.db import connection
from huoban.discovery.models import ServiceArea
from huoban.errors import ApplicationError
from huoban.identity.models import Organisation, OrganisationMember
from huoban.storage.models import FilePurpose, StoredFile
from huoban.storage.services import file_store
from tenants.models import Hub, HubRole

S = ProjectStatus
# Allowed moves; "suspended" returns to where it came from (``resume``).
TRANSITIONS: dict[str, set[str]] = {
    S.DRAFT: {S.APPROVED, S.CANCELLED},
    S.APPROVED: {S.FUNDED, S.SUSPENDED, S.CANCELLED},
    S.FUNDED: {S.IN_PROGRESS, S.SUSPENDED, S.CANCELLED},
    S.IN_PROGRESS: {S.COMPLETED, S.SUSPENDED, S.CANCELLED},
    S.COMPLETED: {S.EVALUATED},
    S.EVALUATED: set(),
    S.SUSPENDED: {S.CANCELLED},
    S.CANCELLED: set(),
}
RESUME = "resume"
MONEY_STATUSES = {S.FUNDED, S.IN_PROGRESS}
SNAPSHOT_FIELDS = [
    "title_zh",
    "title_en",
    "summary",
    "implementer_id",
    "service_area",
    "community",
    "beneficiaries",
    "beneficiary_count",
    "start_date",
    "end_date",
    "status",
]


def current_hub() -> Hub:
    hub = getattr(connection, "tenant", None)
    if not isinstance(hub, Hub):
        raise RuntimeError("project services run inside a hub")
    return hub


def _err(message: str, code: str, field: str = "", status: int = 400, **extra: Any) -> ApplicationError:
    if field:
        extra["field"] = field
    return ApplicationError(message, code=code, status=status, extra=extra)


def _amount(value: Any, field: str = "amount") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0 or value > MAX_FEN:
        raise _err(_("金额必须大于零（单位：分）且在允许范围内。"), "invalid_amount", field)
    return value


def _text(value: str, field: str, *, max_length: int, required: bool = True) -> str:
    value = (value or "").strip()
    if required and not value:
        raise _err(_("请填写此项。"), "required", field)
    if len(value) > max_length:
        raise _err(_("内容过长：最多 %(n)s 个字符。") % {"n": max_length}, "too_long", field)
    return value


def _lock(project: Project) -> Project:
    return Project.objects.select_for_update().get(pk=project.pk)


# --- Projects ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BudgetLineInput:
    name: str
    amount: int


@dataclass(frozen=True)
class FundingInput:
    funder_id: int
    amount: int
    restricted: bool = True


def _check_implementer(implementer_id: int) -> None:
    if not Partnership.objects.filter(organisation_id=implementer_id, status=PartnershipStatus.ACTIVE).exists():
        raise _err(_("执行机构必须是本枢纽合作中的伙伴组织。"), "implementer_not_partner", "implementer_id")


def _check_dates(start_date: date, end_date: date) -> None:
    if end_date < start_date:
        raise _err(_("结束日期不能早于开始日期。"), "invalid_dates", "end_date")


def project_create(
    *,
    title_zh: str,
    implementer_id: int,
    service_area: str,
    start_date: date,
    end_date: date,
    actor: Any | None,
    title_en: str = "",
    summary: str = "",
    community: str = "",
    beneficiaries: str = "",
    beneficiary_count: int = 0,
    budget_lines: list[BudgetLineInput] | None = None,
    funding: list[FundingInput] | None = None,
    source: str = "",
    private_notes: str = "",
) -> Project:
    """Create a draft project. Staff call it from the UI and API; call awards and claimed resident needs call it
    with ``source`` ("call_award:12", "need:7"), which makes it idempotent: the same source returns the project
    already made. The implementer must be an active partner of this hub. Records ``project.created``."""
    source = _text(source, "source", max_length=100, required=False)
    if source:
        existing = Project.objects.filter(source=source).first()
        if existing is not None:
            return existing
    title_zh = _text(title_zh, "title_zh", max_length=200)
    title_en = _text(title_en, "title_en", max_length=200, required=False)
    community = _text(community, "community", max_length=200, required=False)
    beneficiaries = _text(beneficiaries, "beneficiaries", max_length=300, required=False)
    if service_area not in ServiceArea.values:
        raise _err(_("请选择服务领域。"), "invalid_service_area", "service_area")
    _check_dates(start_date, end_date)
    if beneficiary_count < 0:
        raise _err(_("受益人数不能为负数。"), "invalid", "beneficiary_count")
    _check_implementer(implementer_id)
    try:
        with transaction.atomic():
            project = Project.objects.create(
                title_zh=title_zh,
                title_en=title_en,
                summary=summary.strip(),
                implementer_id=implementer_id,
                service_area=service_area,
                community=community,
                beneficiaries=beneficiaries,
                beneficiary_count=beneficiary_count,
                start_date=start_date,
                end_date=end_date,
                source=source,
                private_notes=private_notes.strip(),
                created_by=actor if getattr(actor, "is_authenticated", False) else None,
            )
            audit_record(
                actor=actor, action="project.created", obj=project, after={**snapshot(project, SNAPSHOT_FIELDS)}
            )
            for line in budget_lines or []:
                budget_line_add(project=project, name=line.name, amount=line.amount, actor=actor)
            for item in funding or []:
                funding_source_add(
                    project=project,
                    funder_id=item.funder_id,
                    amount=item.amount,
                    restricted=item.restricted,
                    actor=actor,
                )
    except IntegrityError:
        if source:
            existing = Project.objects.filter(source=source).first()
            if existing is not None:
                return existing
        raise
    return project


PROJECT_EDITABLE = (
    "title_zh",
    "title_en",
    "summary",
    "service_area",
    "community",
    "beneficiaries",
    "beneficiary_count",
    "start_date",
    "end_date",
    "private_notes",
)


def _clean_project_field(key: str, value: Any) -> Any:
    if key == "title_zh":
        return _text(value, key, max_length=200)
    if key in ("title_en", "community"):
        return _text(value, key, max_length=200, required=False)
    if key == "beneficiaries":
        return _text(value, key, max_length=300, required=False)
    if key in ("summary", "private_notes"):
        return _text(value, key, max_length=10000, required=False)
    if key == "service_area":
        if value not in ServiceArea.values:
            raise _err(_("请选择服务领域。"), "invalid_service_area", "service_area")
        return value
    if key == "beneficiary_count":
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 2_000_000_000:
            raise _err(_("受益人数必须是不小于零的整数。"), "invalid", "beneficiary_count")
        return value
    return _check_date(value, key)  # start_date, end_date


def project_update(*, project: Project, actor: Any | None, **changes: Any) -> Project:
    """Edit a project's description (not its status, implementer or money: budget lines and milestone amounts
    have their own services, open only before funding). Staff (the callers' permission); refused once the
    project is cancelled or evaluated. Every value is checked before anything changes; the discovery entry follows
    in the same transaction. Records ``project.updated`` with before/after."""
    unknown = set(changes) - set(PROJECT_EDITABLE)
    if unknown:
        raise _err(_("不能修改这些字段：%(fields)s。") % {"fields": ", ".join(sorted(unknown))}, "invalid")
    clean = {key: _clean_project_field(key, value) for key, value in changes.items()}
    with transaction.atomic():
        locked = _lock(project)
        if locked.status in (S.CANCELLED, S.EVALUATED):
            raise _err(_("项目已结束，不能再修改。"), "project_closed", status=409)
        before = snapshot(locked, SNAPSHOT_FIELDS)
        for key, value in clean.items():
            setattr(locked, key, value)
        _check_dates(locked.start_date, locked.end_date)
        locked.save()
        audit_record(
            actor=actor,
            action="project.updated",
            obj=locked,
            before=before,
            after=snapshot(locked, SNAPSHOT_FIELDS),
        )
        if locked.status != S.DRAFT:
            project_index(locked)
    return locked


def _transition_guard(project: Project, to: str) -> None:
    if to == S.FUNDED and project_received(project=project) <= 0:
        raise _err(_("项目尚未收到任何资金，不能标记为已筹资。"), "not_funded", status=409)
    if to == S.EVALUATED and not project.evaluations.exists():
        raise _err(_("请先提交评估，再标记为已评估。"), "no_evaluation", status=409)
    if to == S.APPROVED and not project.budget_lines.exists():
        raise _err(_("请先填写预算科目，再立项。"), "no_budget", status=409)


def project_transition(*, project: Project, to: str, actor: Any | None, reason: str = "") -> Project:
    """Move a project along its lifecycle: draft → approved → funded → in progress → completed → evaluated, or
    suspended (and ``resume``d to where it was) or cancelled. Staff only (checked by the callers' permission).
    Guards: approval needs budget lines, funded needs money received, evaluated needs an evaluation; suspending
    and cancelling need a reason. Records ``project.transition`` with before/after status."""
    reason = _text(reason, "reason", max_length=500, required=False)
    with transaction.atomic():
        locked = _lock(project)
        before = locked.status
        if to == RESUME:
            if before != S.SUSPENDED:
                raise _err(_("只有已暂停的项目可以恢复。"), "invalid_transition", status=409)
            target = locked.status_before_suspension or S.APPROVED
        else:
            if to not in S.values:
                raise _err(_("未知的项目状态。"), "invalid_status", "status")
            if to not in TRANSITIONS.get(before, set()):
                raise _err(
                    _("项目不能从“%(from)s”变为“%(to)s”。") % {"from": S(before).label, "to": S(to).label},
                    "invalid_transition",
                    status=409,
                )
            target = to
        if target in (S.SUSPENDED, S.CANCELLED) and not reason:
            raise _err(_("暂停或取消项目需要说明原因。"), "reason_required", "reason")
        _transition_guard(locked, target)
        locked.status_before_suspension = before if target == S.SUSPENDED else ""
        locked.status = target
        locked.save(update_fields=["status", "status_before_suspension", "updated_at"])
        audit_record(
            actor=actor,
            action="project.transition",
            obj=locked,
            before={"status": before},
            after={"status": target, "reason": reason},
        )
        project_index(locked)
    project.status = locked.status
    return locked


# --- Budget and funding -----------------------------------------------------------------------------------------


def budget_line_add(*, project: Project, name: str, amount: int, actor: Any | None) -> BudgetLine:
    name = _text(name, "name", max_length=200)
    _amount(amount)
    with transaction.atomic():
        locked = _lock(project)
        if locked.status not in EDITABLE_STATUSES:
            raise _err(_("项目筹资后不能再修改预算。"), "money_locked", status=409)
        line = BudgetLine.objects.create(project=locked, name=name, amount=amount)
        audit_record(
            actor=actor,
            action="project.budget_line.added",
            obj=locked,
            after={"budget_line": line.pk, "name": name, "amount": amount},
        )
        if locked.status != S.DRAFT:
            project_index(locked)
    return line


def budget_line_update(
    *, line: BudgetLine, actor: Any | None, name: str | None = None, amount: int | None = None
) -> BudgetLine:
    """Rename a budget line or change its amount, before funding only (staff). The budget never drops below the
    tranche amounts planned on milestones. Records ``project.budget_line.updated`` with before/after."""
    new_name = _text(name, "name", max_length=200) if name is not None else None
    new_amount = _amount(amount) if amount is not None else None
    with transaction.atomic():
        project = _lock(line.project)
        locked = BudgetLine.objects.select_for_update().get(pk=line.pk)
        if project.status not in EDITABLE_STATUSES:
            raise _err(_("项目筹资后不能再修改预算。"), "money_locked", status=409)
        before = {"budget_line": locked.pk, "name": locked.name, "amount": locked.amount}
        locked.name = new_name if new_name is not None else locked.name
        locked.amount = new_amount if new_amount is not None else locked.amount
        _budget_covers_milestones(project, excluding=locked, adding=locked.amount)
        locked.save(update_fields=["name", "amount"])
        audit_record(
            actor=actor,
            action="project.budget_line.updated",
            obj=project,
            before=before,
            after={"budget_line": locked.pk, "name": locked.name, "amount": locked.amount},
        )
        if project.status != S.DRAFT:
            project_index(project)
    return locked


def budget_line_delete(*, line: BudgetLine, actor: Any | None) -> None:
    """Delete a budget line before funding (staff), if nothing was paid or planned against it.
    Records ``project.budget_line.deleted``."""
    with transaction.atomic():
        project = _lock(line.project)
        locked = BudgetLine.objects.select_for_update().get(pk=line.pk)
        if project.status not in EDITABLE_STATUSES:
            raise _err(_("项目筹资后不能再修改预算。"), "money_locked", status=409)
        if Tranche.objects.filter(budget_line=locked).exists() or Expense.objects.filter(budget_line=locked).exists():
            raise _err(_("已有拨付或支出使用这个预算科目，不能删除。"), "budget_line_in_use", status=409)
        _budget_covers_milestones(project, excluding=locked, adding=0)
        before = {"budget_line": locked.pk, "name": locked.name, "amount": locked.amount}
        locked.delete()
        audit_record(actor=actor, action="project.budget_line.deleted", obj=project, before=before)
        if project.status != S.DRAFT:
            project_index(project)


def _budget_covers_milestones(project: Project, *, excluding: BudgetLine, adding: int) -> None:
    budget = sum(project.budget_lines.exclude(pk=excluding.pk).values_list("amount", flat=True)) + adding
    planned = sum(project.milestones.values_list("amount", flat=True))
    if planned > budget:
        raise _err(
            _("预算（%(budget)s）不能低于里程碑对应的拨付金额合计（%(planned)s）。")
            % {"planned": money_format(planned), "budget": money_format(budget)},
            "milestones_over_budget",
            "amount",
            status=409,
        )
    if budget <= 0 and project.status == S.APPROVED:
        raise _err(_("已立项的项目至少需要一个预算科目。"), "no_budget", status=409)


def _account_code(project: Project, suffix: str) -> str:
    return f"PRJ{project.pk}/{suffix}"


def _project_account(project: Project, suffix: str, name: str, kind: str, **rules: Any) -> int:
    account = ledger.account_create(
        code=_account_code(project, suffix),
        name=f"{project.title_zh[:120]} · {name}",
        kind=kind,
        actor=None,
        subject=project.subject,
        exist_ok=True,
        **rules,
    )
    return int(account.pk)


def _advance_account(project: Project) -> int:
    return _project_account(
        project,
        "ADVANCE",
        "已拨付待核销",
        AccountKind.ASSET,
        owner_organisation_id=project.implementer_id,
        restricted_to=project.subject,
        no_overdraft=True,
    )


def _expense_account(project: Project) -> int:
    return _project_account(project, "EXPENSE", "项目支出", AccountKind.EXPENSE)


def funding_source_add(
    *, project: Project, funder_id: int, amount: int, actor: Any | None, restricted: bool = True
) -> FundingSource:
    """Record a funder's commitment and open its ledger accounts. A restricted source's fund account is restricted
    to this project (``project:<id>``): the ledger refuses any payment from it that does not name one of this
    project's budget lines. Records ``project.funding.added``."""
    _amount(amount)
    if not Organisation.objects.filter(pk=funder_id).exists():
        raise _err(_("资助方组织不存在。"), "invalid_organisation", "funder_id")
    with transaction.atomic():
        locked = _lock(project)
        if locked.status in (S.COMPLETED, S.EVALUATED, S.CANCELLED):
            raise _err(_("当前状态下不能增加资金来源。"), "project_closed", status=409)
        if FundingSource.objects.filter(project=locked, funder_id=funder_id).exists():
            raise _err(_("该资助方已在本项目的资金来源中。"), "funder_exists", "funder_id", status=409)
        funder = Organisation.objects.get(pk=funder_id)
        key = uuid.uuid4().hex[:8]
        account_id = _project_account(
            locked,
            f"FUND/{funder_id}/{key}",
            _("%(funder)s 资金") % {"funder": funder.name[:60]},
            AccountKind.ASSET,
            owner_organisation_id=funder_id,
            restricted_to=locked.subject if restricted else "",
            no_overdraft=True,
        )
        income_id = _project_account(
            locked,
            f"INCOME/{funder_id}/{key}",
            _("%(funder)s 捐赠收入") % {"funder": funder.name[:60]},
            AccountKind.INCOME,
            owner_organisation_id=funder_id,
        )
        source = FundingSource.objects.create(
            project=locked,
            funder_id=funder_id,
            amount=amount,
            restricted=restricted,
            account_id=account_id,
            income_account_id=income_id,
        )
        audit_record(
            actor=actor,
            action="project.funding.added",
            obj=locked,
            after={"funding_source": source.pk, "funder": funder_id, "amount": amount, "restricted": restricted},
        )
        if locked.status != S.DRAFT:
            project_index(locked)
    return source


def _store(
    *, fileobj: IO[bytes] | None, name: str, purpose: str, actor: Any | None, required: bool
) -> uuid.UUID | None:
    if fileobj is None:
        if required:
            raise _err(_("请上传票据。"), "receipt_required", "receipt")
        return None
    hub = current_hub()
    stored = file_store(
        fileobj=fileobj,
        original_name=name,
        purpose=purpose,
        uploaded_by=actor if getattr(actor, "is_authenticated", False) else None,
        hub_id=hub.pk,
        hub_schema=hub.schema_name,
    )
    return stored.pk


def funds_receive(
    *,
    project: Project,
    funding_source: FundingSource,
    amount: int,
    received_on: date,
    actor: Any | None,
    receipt: IO[bytes] | None = None,
    receipt_name: str = "receipt.pdf",
    receipt_file_id: uuid.UUID | None = None,
) -> FundReceipt:
    """Record money received from a funder, with its receipt document (huoban.storage), and post it to the ledger
    (debit the source's fund account, credit its income). An approved project becomes funded with its first
    receipt. Records ``project.funds.received``. ``receipt_file_id`` reuses a receipt already stored (money that
    reached the hub before the project existed, e.g. a matchmaking-fair claim)."""
    _amount(amount)
    if funding_source.project_id != project.pk:
        raise _err(_("该资金来源不属于本项目。"), "wrong_project", "funding_source")
    if project.status not in (S.APPROVED, S.FUNDED, S.IN_PROGRESS):
        raise _err(_("项目立项后、结项前才能登记到账资金。"), "invalid_status", status=409)
    file_id = receipt_file_id or _store(
        fileobj=receipt, name=receipt_name, purpose=FilePurpose.RECEIPT, actor=actor, required=False
    )
    with transaction.atomic():
        locked = _lock(project)
        row = FundReceipt.objects.create(
            project=locked,
            funding_source=funding_source,
            amount=amount,
            received_on=received_on,
            receipt_file_id=file_id,
            recorded_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        posted = ledger.transaction_post(
            idempotency_key=f"{locked.subject}/receipt:{row.pk}",
            lines=[
                Line.debit(funding_source.account_id, amount),
                Line.credit(funding_source.income_account_id, amount),
            ],
            memo=_("收到资助"),
            subject=locked.subject,
            source="projects",
            actor=actor,
        )
        row.transaction_id = posted.transaction.pk
        row.save(update_fields=["transaction_id"])
        audit_record(
            actor=actor,
            action="project.funds.received",
            obj=locked,
            after={"receipt": row.pk, "funder": funding_source.funder_id, "amount": amount},
        )
        if locked.status == S.APPROVED:
            locked.status = S.FUNDED
            locked.save(update_fields=["status", "updated_at"])
            audit_record(
                actor=actor,
                action="project.transition",
                obj=locked,
                before={"status": S.APPROVED},
                after={"status": S.FUNDED, "reason": "first receipt"},
            )
        project_index(locked)
    return row


# --- Milestones and tranches ------------------------------------------------------------------------------------


EDITABLE_STATUSES = (S.DRAFT, S.APPROVED)  # money plans (milestone amounts, budget lines) change only before funding
OPEN_STATUSES = (S.DRAFT, S.APPROVED, S.FUNDED, S.IN_PROGRESS)
MILESTONE_FIELDS = ["title", "title_en", "due_date", "deliverable", "amount", "completed_on"]


def _milestone_amount(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0 or value > MAX_FEN:
        raise _err(_("金额必须是不小于零的整数（单位：分）且在允许范围内。"), "invalid_amount", "amount")
    return value


def _check_date(value: Any, field: str) -> date:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise _err(_("请输入有效日期（YYYY-MM-DD）。"), "invalid_date", field)
    return value


def _milestones_within_budget(project: Project, *, milestone: Milestone | None, amount: int) -> None:
    """Planned tranches (milestone amounts) never add up to more than the budget."""
    if amount == 0:
        return
    others = project.milestones.all()
    if milestone is not None:
        others = others.exclude(pk=milestone.pk)
    planned = sum(others.values_list("amount", flat=True)) + amount
    budget = sum(project.budget_lines.values_list("amount", flat=True))
    if planned > budget:
        raise _err(
            _("里程碑对应的拨付金额合计（%(planned)s）超过项目预算（%(budget)s）。")
            % {"planned": money_format(planned), "budget": money_format(budget)},
            "milestones_over_budget",
            "amount",
            status=409,
        )


def milestone_add(
    *,
    project: Project,
    title: str,
    due_date: date,
    actor: Any | None,
    title_en: str = "",
    deliverable: str = "",
    amount: int = 0,
) -> Milestone:
    """Add a milestone: title (zh, and en), due date, deliverable and the tranche amount planned against it (fen,
    0 for none). A planned amount is set only before funding and all planned amounts stay within the budget.
    Staff or the implementer (the callers' permission). Records ``project.milestone.added``."""
    title = _text(title, "title", max_length=200)
    title_en = _text(title_en, "title_en", max_length=200, required=False)
    deliverable = _text(deliverable, "deliverable", max_length=2000, required=False)
    _check_date(due_date, "due_date")
    amount = _milestone_amount(amount)
    with transaction.atomic():
        locked = _lock(project)
        if locked.status not in OPEN_STATUSES:
            raise _err(_("项目已结束，不能再修改里程碑。"), "project_closed", status=409)
        if amount and locked.status not in EDITABLE_STATUSES:
            raise _err(_("项目筹资后不能再设定里程碑的拨付金额。"), "money_locked", "amount", status=409)
        _milestones_within_budget(locked, milestone=None, amount=amount)
        milestone = Milestone.objects.create(
            project=locked, title=title, title_en=title_en, due_date=due_date, deliverable=deliverable, amount=amount
        )
        audit_record(
            actor=actor,
            action="project.milestone.added",
            obj=locked,
            after={"milestone": milestone.pk, **snapshot(milestone, MILESTONE_FIELDS)},
        )
    return milestone


def milestone_update(*, milestone: Milestone, actor: Any | None, **changes: Any) -> Milestone:
    """Edit a milestone (staff). Text and dates while the project is open; the planned tranche amount only
    before funding, never below what tranches against it already ask for, and within the budget.
    Records ``project.milestone.updated`` with before/after."""
    unknown = set(changes) - {"title", "title_en", "due_date", "deliverable", "amount"}
    if unknown:
        raise _err(_("不能修改这些字段：%(fields)s。") % {"fields": ", ".join(sorted(unknown))}, "invalid")
    clean: dict[str, Any] = {}
    for key, value in changes.items():
        if key == "title":
            clean[key] = _text(value, key, max_length=200)
        elif key == "title_en":
            clean[key] = _text(value, key, max_length=200, required=False)
        elif key == "deliverable":
            clean[key] = _text(value, key, max_length=2000, required=False)
        elif key == "due_date":
            clean[key] = _check_date(value, key)
        else:
            clean[key] = _milestone_amount(value)
    with transaction.atomic():
        project = _lock(milestone.project)
        locked = Milestone.objects.select_for_update().get(pk=milestone.pk)
        if project.status not in OPEN_STATUSES:
            raise _err(_("项目已结束，不能再修改里程碑。"), "project_closed", status=409)
        before = snapshot(locked, MILESTONE_FIELDS)
        if "amount" in clean and clean["amount"] != locked.amount:
            if project.status not in EDITABLE_STATUSES:
                raise _err(_("项目筹资后不能再修改里程碑的拨付金额。"), "money_locked", "amount", status=409)
            asked = sum(locked.tranches.exclude(status=TrancheStatus.REJECTED).values_list("amount", flat=True))
            if clean["amount"] and clean["amount"] < asked:
                raise _err(
                    _("拨付金额不能低于已申请的 %(asked)s。") % {"asked": money_format(asked)},
                    "below_requested",
                    "amount",
                    status=409,
                )
            _milestones_within_budget(project, milestone=locked, amount=clean["amount"])
        for key, value in clean.items():
            setattr(locked, key, value)
        locked.save()
        audit_record(
            actor=actor,
            action="project.milestone.updated",
            obj=project,
            before={"milestone": locked.pk, **before},
            after={"milestone": locked.pk, **snapshot(locked, MILESTONE_FIELDS)},
        )
    return locked


def milestone_delete(*, milestone: Milestone, actor: Any | None) -> None:
    """Delete a milestone (staff) that no tranche refers to, while the project is open; one with a planned
    tranche amount only before funding. Records ``project.milestone.deleted`` with what it was."""
    with transaction.atomic():
        project = _lock(milestone.project)
        locked = Milestone.objects.select_for_update().get(pk=milestone.pk)
        if project.status not in OPEN_STATUSES:
            raise _err(_("项目已结束，不能再修改里程碑。"), "project_closed", status=409)
        if locked.tranches.exists():
            raise _err(_("已有拨付关联这个里程碑，不能删除。"), "milestone_in_use", status=409)
        if locked.amount and project.status not in EDITABLE_STATUSES:
            raise _err(_("项目筹资后不能删除设有拨付金额的里程碑。"), "money_locked", status=409)
        before = snapshot(locked, MILESTONE_FIELDS)
        pk = locked.pk
        locked.delete()
        audit_record(actor=actor, action="project.milestone.deleted", obj=project, before={"milestone": pk, **before})


def milestone_complete(*, milestone: Milestone, completed_on: date, actor: Any | None) -> Milestone:
    with transaction.atomic():
        milestone.completed_on = completed_on
        milestone.save(update_fields=["completed_on"])
        audit_record(
            actor=actor,
            action="project.milestone.completed",
            obj=milestone.project,
            after={"milestone": milestone.pk, "completed_on": completed_on.isoformat()},
        )
    return milestone


def tranche_request(
    *,
    project: Project,
    title: str,
    amount: int,
    budget_line: BudgetLine,
    funding_source: FundingSource,
    actor: Any | None,
    milestone: Milestone | None = None,
) -> Tranche:
    """Ask for a disbursement to the implementer against a milestone, from one funding source, for one budget
    line of this project (staff or the implementer). Money moves only when it is released (``tranche_review``).
    Records ``project.tranche.requested``."""
    title = _text(title, "title", max_length=200)
    _amount(amount)
    if budget_line.project_id != project.pk:
        raise _err(_("预算科目不属于本项目。"), "wrong_project", "budget_line")
    if funding_source.project_id != project.pk:
        raise _err(_("该资金来源不属于本项目。"), "wrong_project", "funding_source")
    if milestone is not None and milestone.project_id != project.pk:
        raise _err(_("里程碑不属于本项目。"), "wrong_project", "milestone")
    if project.status not in MONEY_STATUSES:
        raise _err(_("项目筹资完成并执行中才能申请拨付。"), "invalid_status", status=409)
    with transaction.atomic():
        if milestone is not None and milestone.amount:
            planned = Milestone.objects.select_for_update().get(pk=milestone.pk)
            asked = sum(planned.tranches.exclude(status=TrancheStatus.REJECTED).values_list("amount", flat=True))
            if asked + amount > planned.amount:
                raise _err(
                    _("超过里程碑对应的拨付金额：计划 %(planned)s，已申请 %(asked)s。")
                    % {"planned": money_format(planned.amount), "asked": money_format(asked)},
                    "milestone_amount_exceeded",
                    "amount",
                    status=409,
                )
        tranche = Tranche.objects.create(
            project=project,
            title=title,
            amount=amount,
            budget_line=budget_line,
            funding_source=funding_source,
            milestone=milestone,
            requested_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        audit_record(
            actor=actor,
            action="project.tranche.requested",
            obj=project,
            after={"tranche": tranche.pk, "amount": amount, "budget_line": budget_line.pk},
        )
    return tranche


def _reviewer_capacity(*, project: Project, user: Any, capacity: str) -> None:
    """The two-approval rule's checks on one reviewer, in one place (tranches and expenses)."""
    if user is None or not getattr(user, "is_authenticated", False):
        raise _err(_("请先登录。"), "not_authenticated", status=401)
    caps = perms.project_capacities(user=user, project=project)
    if perms.IMPLEMENTER_CAP in caps:
        raise _err(_("执行机构的成员不能审批本项目的拨付或支出。"), "conflict_of_interest", status=403)
    if capacity == perms.AMBASSADOR_CAP and perms.AMBASSADOR_CAP not in caps:
        raise _err(_("只有指派到本项目的公益使者才能以使者身份审批。"), "not_assigned_ambassador", status=403)
    if capacity == perms.STAFF_CAP and perms.STAFF_CAP not in caps:
        raise _err(_("只有枢纽工作人员才能以工作人员身份审批。"), "not_staff", status=403)
    if capacity not in (perms.AMBASSADOR_CAP, perms.STAFF_CAP):
        raise _err(_("审批身份无效。"), "invalid_capacity", "capacity")


def tranche_review(*, tranche: Tranche, user: Any, capacity: str, decision: str, note: str = "") -> Tranche:
    """Approve or query a tranche, as an assigned ambassador or as staff (``capacity``).

    A tranche needs two approvals: one by an ambassador assigned to the project and one by a staff member (a hub
    admin counts as staff) - never the same person, never a member of the implementing organisation. The second
    approval releases it: the ledger posts ADVANCE ← FUND (purpose: the budget line), under the fund's lock, so
    concurrent releases never overdraw it; if the fund cannot pay, the approval is refused and nothing changes
    (``insufficient_funds``). A query (with a note) puts the tranche on hold and clears earlier approvals.
    Records ``project.tranche.reviewed`` (and ``project.tranche.released``).
    """
    note = _text(note, "note", max_length=2000, required=False)
    if decision not in ReviewDecision.values:
        raise _err(_("审批意见无效。"), "invalid_decision", "decision")
    if decision == ReviewDecision.QUERY and not note:
        raise _err(_("提出疑问时请写明问题。"), "note_required", "note")
    with transaction.atomic():
        locked = (
            Tranche.objects.select_for_update()
            .select_related("project", "budget_line", "funding_source")
            .get(pk=tranche.pk)
        )
        project = locked.project
        _reviewer_capacity(project=project, user=user, capacity=capacity)
        if locked.status in (TrancheStatus.RELEASED, TrancheStatus.REJECTED):
            raise _err(_("该拨付已处理完毕。"), "tranche_closed", status=409)
        if project.status not in MONEY_STATUSES:
            raise _err(_("项目当前状态不能拨付。"), "invalid_status", status=409)
        before = {"status": locked.status}
        Review.objects.create(tranche=locked, capacity=capacity, decision=decision, note=note, reviewer=user)
        if decision == ReviewDecision.QUERY:
            locked.status = TrancheStatus.QUERIED
            locked.ambassador_approver = None
            locked.staff_approver = None
        else:
            other = locked.staff_approver_id if capacity == perms.AMBASSADOR_CAP else locked.ambassador_approver_id
            if other == user.pk:
                raise _err(_("两次审批必须由不同的人完成。"), "same_person", status=403)
            if capacity == perms.AMBASSADOR_CAP:
                locked.ambassador_approver = user
            else:
                locked.staff_approver = user
            locked.status = TrancheStatus.REQUESTED
        locked.save()
        audit_record(
            actor=user,
            action="project.tranche.reviewed",
            obj=project,
            before=before,
            after={"tranche": locked.pk, "capacity": capacity, "decision": decision, "status": locked.status},
        )
        if locked.ambassador_approver_id and locked.staff_approver_id:
            _tranche_release(locked, actor=user)
    return locked


def _tranche_release(tranche: Tranche, *, actor: Any) -> None:
    project = tranche.project
    source = tranche.funding_source
    try:
        posted = ledger.transaction_post(
            idempotency_key=f"{project.subject}/tranche:{tranche.pk}",
            lines=[
                Line.debit(_advance_account(project), tranche.amount),
                Line.credit(source.account_id, tranche.amount, purpose=tranche.budget_line.purpose),
            ],
            memo=_("拨付：%(title)s") % {"title": tranche.title[:100]},
            subject=project.subject,
            source="projects",
            actor=actor,
        )
    except ApplicationError as exc:
        if exc.code == "insufficient_funds":
            available = int(exc.extra.get("available", 0))
            raise _err(
                _("资金不足，无法拨付：该资金来源可用 %(available)s，本期拨付 %(amount)s。")
                % {"available": money_format(available), "amount": money_format(tranche.amount)},
                "insufficient_funds",
                status=409,
                available=available,
                amount=tranche.amount,
            ) from None
        if exc.code == "restricted_funds":
            raise _err(_("限定资金只能用于本项目的预算科目。"), "restricted_funds", status=409) from None
        raise
    tranche.status = TrancheStatus.RELEASED
    tranche.transaction_id = posted.transaction.pk
    tranche.released_at = timezone.now()
    tranche.save(update_fields=["status", "transaction_id", "released_at"])
    audit_record(
        actor=actor,
        action="project.tranche.released",
        obj=project,
        after={"tranche": tranche.pk, "amount": tranche.amount, "transaction": posted.transaction.pk},
    )


# --- Expenses ---------------------------------------------------------------------------------------------------


def expense_report(
    *,
    project: Project,
    budget_line: BudgetLine,
    amount: int,
    description: str,
    spent_on: date,
    receipt: IO[bytes] | None,
    actor: Any,
    receipt_name: str = "receipt.pdf",
) -> Expense:
    """The implementer (or staff) reports money spent, with its receipt (required). Posted to the ledger at once
    (EXPENSE ← ADVANCE, purpose: the budget line): an implementer cannot report more than was disbursed to it
    (``insufficient_funds``). Ambassadors and staff then accept or query it. Records ``project.expense.reported``."""
    description = _text(description, "description", max_length=300)
    _amount(amount)
    if budget_line.project_id != project.pk:
        raise _err(_("预算科目不属于本项目。"), "wrong_project", "budget_line")
    if project.status not in (S.FUNDED, S.IN_PROGRESS, S.COMPLETED):
        raise _err(_("项目当前状态不能报告支出。"), "invalid_status", status=409)
    file_id = _store(fileobj=receipt, name=receipt_name, purpose=FilePurpose.RECEIPT, actor=actor, required=True)
    with transaction.atomic():
        expense = Expense.objects.create(
            project=project,
            budget_line=budget_line,
            amount=amount,
            description=description,
            spent_on=spent_on,
            receipt_file_id=file_id,  # type: ignore[misc]  # required=True: never None here
            reported_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        try:
            posted = ledger.transaction_post(
                idempotency_key=f"{project.subject}/expense:{expense.pk}",
                lines=[
                    Line.debit(_expense_account(project), amount),
                    Line.credit(_advance_account(project), amount, purpose=budget_line.purpose),
                ],
                memo=_("支出：%(text)s") % {"text": description[:100]},
                subject=project.subject,
                source="projects",
                actor=actor,
            )
        except ApplicationError as exc:
            if exc.code == "insufficient_funds":
                raise _err(
                    _("支出超过已拨付未核销的金额（可用 %(available)s）。")
                    % {"available": money_format(int(exc.extra.get("available", 0)))},
                    "insufficient_funds",
                    "amount",
                    status=409,
                ) from None
            raise
        expense.transaction_id = posted.transaction.pk
        expense.save(update_fields=["transaction_id"])
        audit_record(
            actor=actor,
            action="project.expense.reported",
            obj=project,
            after={"expense": expense.pk, "amount": amount, "budget_line": budget_line.pk},
        )
    return expense


def expense_review(*, expense: Expense, user: Any, capacity: str, decision: str, note: str = "") -> Expense:
    """An assigned ambassador or staff member accepts or queries a reported expense (same conflict rules as
    tranches). Records ``project.expense.reviewed``."""
    note = _text(note, "note", max_length=2000, required=False)
    if decision not in ReviewDecision.values:
        raise _err(_("审批意见无效。"), "invalid_decision", "decision")
    if decision == ReviewDecision.QUERY and not note:
        raise _err(_("提出疑问时请写明问题。"), "note_required", "note")
    with transaction.atomic():
        locked = Expense.objects.select_for_update().select_related("project").get(pk=expense.pk)
        _reviewer_capacity(project=locked.project, user=user, capacity=capacity)
        before = locked.status
        Review.objects.create(expense=locked, capacity=capacity, decision=decision, note=note, reviewer=user)
        locked.status = ExpenseStatus.ACCEPTED if decision == ReviewDecision.APPROVE else ExpenseStatus.QUERIED
        locked.save(update_fields=["status"])
        audit_record(
            actor=user,
            action="project.expense.reviewed",
            obj=locked.project,
            before={"status": before},
            after={"expense": locked.pk, "status": locked.status, "capacity": capacity},
        )
    return locked


# --- Supervision ------------------------------------------------------------------------------------------------


def ambassador_assign(*, project: Project, user: Any, actor: Any | None) -> AmbassadorAssignment:
    """Assign a 公益使者 of this hub to a project. Conflict rule: nobody from the implementing organisation or a
    funding organisation. Records ``project.ambassador.assigned``."""
    if not perms.has_hub_role(user, HubRole.AMBASSADOR):
        raise _err(_("只能指派本枢纽的公益使者。"), "not_ambassador", "user")
    orgs = perms.user_organisation_ids(user)
    funders = set(FundingSource.objects.filter(project=project).values_list("funder_id", flat=True))
    if project.implementer_id in orgs or orgs & funders:
        raise _err(_("利益冲突：公益使者不能来自执行机构或资助方。"), "conflict_of_interest", "user", status=409)
    with transaction.atomic():
        assignment, created = AmbassadorAssignment.objects.get_or_create(
            project=project, user_id=user.pk, defaults={"assigned_by": actor}
        )
        if created:
            audit_record(actor=actor, action="project.ambassador.assigned", obj=project, after={"user": user.pk})
    return assignment


def _photos(photos: list[tuple[str, IO[bytes]]] | None, actor: Any) -> list[uuid.UUID]:
    ids = []
    for n, (name, fileobj) in enumerate(photos or [], start=1):
        # The original file name may carry a person's name; photos are stored as "photo-<n>.<ext>".
        ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        neutral = f"photo-{n}.{ext}" if ext.isalnum() and len(ext) <= 5 else f"photo-{n}"
        file_id = _store(fileobj=fileobj, name=neutral, purpose=FilePurpose.PHOTO, actor=actor, required=False)
        if file_id:
            ids.append(file_id)
    return ids


def site_visit_record(
    *,
    project: Project,
    ambassador: Any,
    visited_at: datetime,
    findings: str,
    checklist: list[dict[str, Any]] | None = None,
    private_notes: str = "",
    photos: list[tuple[str, IO[bytes]]] | None = None,
) -> SiteVisit:
    """An assigned ambassador records a site visit (findings are public, private notes are not).
    Records ``project.visit.recorded``."""
    if perms.AMBASSADOR_CAP not in perms.project_capacities(user=ambassador, project=project):
        raise _err(_("只有指派到本项目的公益使者才能登记走访。"), "not_assigned_ambassador", status=403)
    findings = _text(findings, "findings", max_length=5000)
    items = []
    for entry in checklist or []:
        item = str(entry.get("item", "")).strip()[:200] if isinstance(entry, dict) else ""
        if item:
            items.append({"item": item, "ok": bool(entry.get("ok"))})
    photo_ids = _photos(photos, ambassador)
    with transaction.atomic():
        visit = SiteVisit.objects.create(
            project=project,
            ambassador=ambassador,
            visited_at=visited_at,
            findings=findings,
            private_notes=private_notes.strip(),
            checklist=items,
            photo_ids=photo_ids,
        )
        audit_record(actor=ambassador, action="project.visit.recorded", obj=project, after={"visit": visit.pk})
    return visit


def photo_visibility_set(*, project: Project, file_id: str, public: bool, actor: Any | None) -> None:
    """Show (or stop showing) one site-visit or report photo of ``project`` on its public page. Staff only (the
    callers' permission). Only the photo itself becomes public: never who took it, its file name, the visit's
    private notes or any other document. Records ``project.photo.published`` / ``project.photo.unpublished``."""
    try:
        wanted = uuid.UUID(str(file_id))
    except ValueError:
        raise _err(_("未找到这张照片。"), "not_found", status=404) from None
    with transaction.atomic():
        locked = _lock(project)
        holders: list[SiteVisit | ProgressReport] = [
            *SiteVisit.objects.select_for_update().filter(project=locked, photo_ids__contains=[wanted]),
            *ProgressReport.objects.select_for_update().filter(project=locked, photo_ids__contains=[wanted]),
        ]
        if not holders:
            raise _err(_("未找到这张照片。"), "not_found", status=404)
        for holder in holders:
            shown = [x for x in holder.public_photo_ids if x != wanted]
            holder.public_photo_ids = [*shown, wanted] if public else shown
            holder.save(update_fields=["public_photo_ids"])
        audit_record(
            actor=actor,
            action="project.photo.published" if public else "project.photo.unpublished",
            obj=locked,
            after={"photo": str(wanted)},
        )


# --- Progress, results, evaluation ------------------------------------------------------------------------------


def report_submit(
    *,
    project: Project,
    kind: str,
    period_end: date,
    text: str,
    actor: Any,
    figures: dict[str, Any] | None = None,
    fund_usage: str = "",
    photos: list[tuple[str, IO[bytes]]] | None = None,
) -> ProgressReport:
    """The implementer (or staff) submits a periodic progress report or the final report (one per project, with
    fund usage). Records ``project.report.submitted``."""
    if kind not in ReportKind.values:
        raise _err(_("报告类型无效。"), "invalid_kind", "kind")
    text = _text(text, "text", max_length=20000)
    if kind == ReportKind.FINAL and not fund_usage.strip():
        raise _err(_("结项报告需要说明资金使用情况。"), "fund_usage_required", "fund_usage")
    if project.status in (S.DRAFT, S.CANCELLED):
        raise _err(_("项目当前状态不能提交报告。"), "invalid_status", status=409)
    clean_figures: dict[str, Any] = {}
    for key, value in (figures or {}).items():
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _err(_("报告数据必须是数字。"), "invalid_figures", "figures")
        clean_figures[str(key)[:50]] = value
    if kind == ReportKind.FINAL and project.reports.filter(kind=ReportKind.FINAL).exists():
        raise _err(_("结项报告已提交。"), "final_report_exists", status=409)
    photo_ids = _photos(photos, actor)
    with transaction.atomic():
        report = ProgressReport.objects.create(
            project=project,
            kind=kind,
            period_end=period_end,
            text=text,
            figures=clean_figures,
            fund_usage=fund_usage.strip(),
            photo_ids=photo_ids,
            submitted_by=actor,
        )
        audit_record(
            actor=actor, action="project.report.submitted", obj=project, after={"report": report.pk, "kind": kind}
        )
    return report


def indicator_set(
    *,
    project: Project,
    name: str,
    target: Any,
    actor: Any,
    unit: str = "",
    baseline: Any = 0,
    actual: Any = None,
    indicator: Indicator | None = None,
) -> Indicator:
    """Define an indicator (baseline, target) or record its actual value. Records ``project.indicator.set``."""
    from decimal import Decimal, InvalidOperation

    def number(value: Any, field: str) -> Decimal | None:
        if value is None or value == "":
            return None
        try:
            result = Decimal(str(value))
        except InvalidOperation:
            raise _err(_("请输入数字。"), "invalid_number", field) from None
        if not result.is_finite() or abs(result) >= Decimal(10) ** 12:
            raise _err(_("请输入数字。"), "invalid_number", field)
        return result.quantize(Decimal("0.01"))

    name = _text(name, "name", max_length=200)
    target_n = number(target, "target")
    if target_n is None:
        raise _err(_("请填写目标值。"), "required", "target")
    with transaction.atomic():
        row = indicator or Indicator(project=project)
        if row.project_id != project.pk:
            raise _err(_("指标不属于本项目。"), "wrong_project")
        row.name = name
        row.unit = _text(unit, "unit", max_length=30, required=False)
        row.baseline = number(baseline, "baseline") or 0
        row.target = target_n
        row.actual = number(actual, "actual")
        row.save()
        audit_record(
            actor=actor,
            action="project.indicator.set",
            obj=project,
            after={"indicator": row.pk, "name": name, "target": str(target_n), "actual": str(row.actual)},
        )
    return row


def survey_answer(
    *, project: Project, respondent: Any, kind: str, satisfaction: int, comment: str = ""
) -> SurveyResponse:
    """A resident or beneficiary answers the satisfaction survey: one answer per verified respondent (signed in,
    verified email), not from the implementing organisation. Records ``project.survey.answered``."""
    if respondent is None or not getattr(respondent, "is_authenticated", False):
        raise _err(_("请先登录再参与评价。"), "not_authenticated", status=401)
    if not getattr(respondent, "email_verified_at", None):
        raise _err(_("只有已验证身份的居民或受益人可以参与评价。"), "respondent_not_verified", status=403)
    if project.implementer_id in perms.user_organisation_ids(respondent):
        raise _err(_("执行机构的成员不能参与本项目的满意度评价。"), "conflict_of_interest", status=403)
    if kind not in RespondentKind.values:
        raise _err(_("请选择身份。"), "invalid_kind", "kind")
    if isinstance(satisfaction, bool) or not isinstance(satisfaction, int) or not 1 <= satisfaction <= 5:
        raise _err(_("满意度请在 1 到 5 之间选择。"), "invalid_satisfaction", "satisfaction")
    if project.status not in (S.IN_PROGRESS, S.COMPLETED, S.EVALUATED):
        raise _err(_("项目执行后才能参与评价。"), "invalid_status", status=409)
    try:
        with transaction.atomic():
            answer = SurveyResponse.objects.create(
                project=project,
                respondent=respondent,
                kind=kind,
                satisfaction=satisfaction,
                comment=_text(comment, "comment", max_length=2000, required=False),
            )
            audit_record(
                actor=respondent, action="project.survey.answered", obj=project, after={"satisfaction": satisfaction}
            )
    except IntegrityError:
        raise _err(_("您已经评价过这个项目。"), "already_answered", status=409) from None
    return answer


def evaluation_submit(
    *, project: Project, evaluator: Any, score: int, summary: str, evaluator_organisation: str = ""
) -> Evaluation:
    """The overall evaluation, by staff or a third-party evaluator (a reviewer of this hub), once the project is
    completed. Records ``project.evaluation.submitted``."""
    caps = perms.project_capacities(user=evaluator, project=project)
    if perms.STAFF_CAP in caps:
        kind = EvaluatorKind.STAFF
    elif perms.EVALUATOR_CAP in caps:
        kind = EvaluatorKind.THIRD_PARTY
    else:
        raise _err(_("只有枢纽工作人员或第三方评估人员可以评估项目。"), "forbidden", status=403)
    if perms.IMPLEMENTER_CAP in caps or perms.FUNDER_CAP in caps:
        raise _err(_("利益冲突：执行机构或资助方成员不能评估本项目。"), "conflict_of_interest", status=403)
    if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 100:
        raise _err(_("综合评分请在 0 到 100 之间。"), "invalid_score", "score")
    summary = _text(summary, "summary", max_length=20000)
    if project.status not in (S.COMPLETED, S.EVALUATED):
        raise _err(_("项目结项后才能评估。"), "invalid_status", status=409)
    with transaction.atomic():
        evaluation = Evaluation.objects.create(
            project=project,
            evaluator=evaluator,
            evaluator_kind=kind,
            evaluator_organisation=_text(
                evaluator_organisation, "evaluator_organisation", max_length=200, required=False
            ),
            score=score,
            summary=summary,
        )
        audit_record(
            actor=evaluator,
            action="project.evaluation.submitted",
            obj=project,
            after={"evaluation": evaluation.pk, "score": score, "kind": kind},
        )
    return evaluation


# --- Figures used above -----------------------------------------------------------------------------------------


def project_received(*, project: Project) -> int:
    from hubs.projects.selectors import project_money

    return project_money(project=project).received


def organisation_members_emails(*, organisation_id: int) -> list[str]:
    emails = OrganisationMember.objects.filter(organisation_id=organisation_id).values_list("user__email", flat=True)
    return [email for email in emails if email]


__all__ = [
    "RESUME",
    "BudgetLineInput",
    "FundingInput",
    "StoredFile",
    "ambassador_assign",
    "budget_line_add",
    "budget_line_delete",
    "budget_line_update",
    "evaluation_submit",
    "expense_report",
    "expense_review",
    "funding_source_add",
    "funds_receive",
    "indicator_set",
    "milestone_add",
    "milestone_complete",
    "milestone_delete",
    "milestone_update",
    "photo_visibility_set",
    "project_create",
    "project_transition",
    "project_update",
    "report_submit",
    "site_visit_record",
    "survey_answer",
    "tranche_request",
    "tranche_review",
]
