"""Writes on the mutual-aid pool. Every movement of money is one hub-ledger transaction (``transaction_post``)
with subject ``pool:<id>`` and source ``pool``; every decision leaves an audit event.

Who may do what (checked here, so the API and the pages cannot disagree):
- hub admins and staff open pools, change their rules and seat the committee and the treasurer;
- a person of a partner organisation applies for membership and for loans in its name, and cancels its own
  application before the vote;
- committee members decide join requests, vote on loans (never on their own organisation's), pause a loan whose
  bridged payment is confirmed late and write loans off;
- the treasurer records contributions, disburses, records repayments, marks receivables paid and pays out
  members who leave.

Liquidity is decided with the pool row locked (``SELECT ... FOR UPDATE``): approvals and pay-outs of one pool
queue, and each approval moves the loan's amount from ``cash`` to ``reserved`` through the ledger, whose
no-overdraft guard backs the check up. Two approvals at the same moment can never lend more than the pool holds.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import IO, Any

from dateutil.relativedelta import relativedelta
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from hubs.core.models import STAFF_ROLES, HubMembership
from hubs.ledger.models import AccountKind, LedgerTransaction
from hubs.ledger.money import money_format
from hubs.ledger.services import Line, account_create, transaction_post
from hubs.partners.models import Partnership, PartnershipStatus
from hubs.pool import selectors
from hubs.pool.models import (
    OPEN_LOAN_STATUSES,
    Contribution,
    Guarantee,
    Installment,
    Loan,
    LoanPause,
    LoanStatus,
    LoanVote,
    MemberStatus,
    Pool,
    PoolMember,
    PoolRole,
    PoolRoleKind,
    PoolRules,
    Repayment,
)
from huoban.audit.services import audit_record
from huoban.db import connection
from huoban.errors import ApplicationError
from huoban.identity.models import Organisation, OrganisationMember, User
from huoban.storage.models import FilePurpose, StoredFile
from huoban.storage.services import file_store

SOURCE = "pool"

# Rule fields a hub may set, with their bounds (money in fen, ratios in percent or basis points).
RULE_FIELDS: dict[str, tuple[int, int]] = {
    "min_partnership_months": (0, 240),
    "joining_contribution": (0, 10**12),
    "periodic_contribution": (0, 10**12),
    "contribution_period_months": (1, 120),
    "limit_multiple_pct": (0, 10_000),
    "limit_cap": (0, 10**12),
    "lendable_share_pct": (0, 100),
    "term_days": (1, 3650),
    "installments": (1, 120),
    "fee_bps": (0, 5_000),
    "grace_days": (0, 365),
    "guarantors_required": (0, 10),
    "guarantee_hold_pct": (0, 100),
    "quorum": (1, 100),
    "approval_threshold_pct": (1, 100),
    "reserve_standard_pct": (0, 100),
    "reserve_substandard_pct": (0, 100),
    "reserve_doubtful_pct": (0, 100),
    "reserve_loss_pct": (0, 100),
}


# --- helpers ------------------------------------------------------------------------------------------------------


def _hub() -> Any:
    return connection.tenant


def _fmt(fen: int) -> str:
    return money_format(fen)


def _is_staff(actor: Any) -> bool:
    if not getattr(actor, "is_authenticated", False):
        return False
    membership = HubMembership.objects.filter(user_id=actor.pk).first()
    return bool(membership and membership.has_any(set(STAFF_ROLES)))


def _require_staff(actor: Any) -> None:
    if not _is_staff(actor):
        raise ApplicationError(_("只有枢纽管理员或工作人员可以管理互助金。"), code="role_required", status=403)


def _has_role(pool: Pool, actor: Any, role: str) -> bool:
    return (
        getattr(actor, "is_authenticated", False)
        and PoolRole.objects.filter(pool=pool, user_id=actor.pk, role=role).exists()
    )


def _require_role(pool: Pool, actor: Any, role: str) -> None:
    if not _has_role(pool, actor, role):
        message = (
            _("只有本互助金的委员可以进行此操作。")
            if role == PoolRoleKind.COMMITTEE
            else _("只有本互助金的司库可以进行此操作。")
        )
        raise ApplicationError(message, code="pool_role_required", status=403)


def _require_org_member(organisation_id: int, actor: Any) -> None:
    if (
        not getattr(actor, "is_authenticated", False)
        or not OrganisationMember.objects.filter(organisation_id=organisation_id, user_id=actor.pk).exists()
    ):
        raise ApplicationError(_("只有该组织的成员可以代表它操作。"), code="not_organisation_member", status=403)


def _check_amount(amount: Any, field: str = "amount") -> int:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0 or amount > 10**12:
        raise ApplicationError(_("金额必须是大于零的整数（单位：分）。"), code="invalid_amount", extra={"field": field})
    return amount


def _locked_pool(pool: Pool) -> Pool:
    return Pool.objects.select_for_update().get(pk=pool.pk)


def _locked_loan(loan: Loan) -> Loan:
    return Loan.objects.select_for_update().get(pk=loan.pk)


def _post(*, pool: Pool, key: str, lines: list[Line], actor: Any, memo: str, on: date | None = None) -> Any:
    occurred = None
    if on is not None:
        occurred = timezone.make_aware(datetime(on.year, on.month, on.day, 12, 0))
    return transaction_post(
        idempotency_key=f"{pool.subject}/{key}",
        lines=lines,
        actor=actor,
        memo=memo[:500],
        occurred_at=occurred,
        source=SOURCE,
        subject=pool.subject,
    ).transaction


def _store_proof(fileobj: IO[bytes] | None, name: str, actor: Any) -> StoredFile | None:
    if fileobj is None:
        return None
    hub = _hub()
    return file_store(
        fileobj=fileobj,
        original_name=name,
        purpose=FilePurpose.RECEIPT,
        uploaded_by=actor if getattr(actor, "is_authenticated", False) else None,
        hub_id=hub.pk,
        hub_schema=hub.schema_name,
    )


# --- pools and rules ----------------------------------------------------------------------------------------------


def _clean_rules(values: dict[str, Any]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for name, value in values.items():
        if name == "one_open_loan":
            clean[name] = bool(value)
            continue
        if name not in RULE_FIELDS:
            raise ApplicationError(_("未知的规则项：%(name)s。") % {"name": name}, code="invalid_rule")
        low, high = RULE_FIELDS[name]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ApplicationError(
                _("规则项 %(name)s 必须是 %(low)s 到 %(high)s 之间的整数。") % {"name": name, "low": low, "high": high},
                code="invalid_rule",
                extra={"field": name},
            )
        clean[name] = value
    return clean


def pool_create(*, name: str, actor: Any, description: str = "", rules: dict[str, Any] | None = None) -> Pool:
    """Open a pool with its ledger accounts and rules version 1. Hub admins and staff only."""
    _require_staff(actor)
    name = (name or "").strip()
    if not name or len(name) > 200:
        raise ApplicationError(_("请填写互助金名称（最长 200 字）。"), code="invalid_name", extra={"field": "name"})
    clean = _clean_rules(rules or {})
    with transaction.atomic():
        pool = Pool.objects.create(name=name, description=description or "", created_by=actor)
        subject = pool.subject

        def acct(key: str, label: str, kind: str, no_overdraft: bool) -> Any:
            return account_create(
                code=f"{subject}/{key}",
                name=f"{name} · {label}",
                kind=kind,
                actor=actor,
                subject=subject,
                no_overdraft=no_overdraft,
            )

        pool.cash_account = acct("cash", _("现金"), AccountKind.ASSET, True)
        pool.reserved_account = acct("reserved", _("已批准待放款"), AccountKind.ASSET, True)
        pool.loans_account = acct("loans", _("在贷本金"), AccountKind.ASSET, True)
        pool.income_account = acct("income", _("服务费收入"), AccountKind.INCOME, False)
        pool.writeoff_account = acct("writeoffs", _("核销损失"), AccountKind.EXPENSE, False)
        pool.save()
        PoolRules.objects.create(pool=pool, version=1, created_by=actor, note=_("初始规则"), **clean)
        audit_record(actor=actor, action="pool.created", obj=pool, after={"name": name, "rules": clean})
    return pool


def rules_update(*, pool: Pool, actor: Any, changes: dict[str, Any], note: str = "") -> PoolRules:
    """A new version of the pool's rules (staff only). Loans approved before keep the version they were approved
    under; applications not yet decided are judged under the rules in force when they are decided."""
    _require_staff(actor)
    clean = _clean_rules(changes)
    with transaction.atomic():
        locked = _locked_pool(pool)
        current = locked.rules
        values = {name: getattr(current, name) for name in [*RULE_FIELDS, "one_open_loan"]}
        before = dict(values)
        values.update(clean)
        if values == before:
            raise ApplicationError(_("规则没有变化。"), code="rules_unchanged")
        rules = PoolRules.objects.create(
            pool=locked, version=current.version + 1, note=(note or "")[:500], created_by=actor, **values
        )
        audit_record(
            actor=actor,
            action="pool.rules.changed",
            obj=locked,
            before={"version": current.version, **{k: before[k] for k in clean}},
            after={"version": rules.version, **clean},
        )
    return rules


def pool_role_assign(*, pool: Pool, user: User, role: str, actor: Any) -> PoolRole:
    """Seat a person of this hub on the committee or as treasurer (staff only)."""
    _require_staff(actor)
    if role not in PoolRoleKind.values:
        raise ApplicationError(_("职务无效。"), code="invalid_role", extra={"field": "role"})
    if not HubMembership.objects.filter(user_id=user.pk).exists():
        raise ApplicationError(
            _("只能任命本枢纽的成员；请先邀请此人加入枢纽。"), code="not_hub_member", extra={"field": "user"}
        )
    with transaction.atomic():
        seat, created = PoolRole.objects.get_or_create(pool=pool, user_id=user.pk, role=role)
        if created:
            audit_record(actor=actor, action="pool.role.assigned", obj=pool, after={"user": user.pk, "role": role})
    return seat


def pool_role_remove(*, pool: Pool, user: User, role: str, actor: Any) -> None:
    _require_staff(actor)
    with transaction.atomic():
        deleted, _rows = PoolRole.objects.filter(pool=pool, user_id=user.pk, role=role).delete()
        if deleted:
            audit_record(actor=actor, action="pool.role.removed", obj=pool, before={"user": user.pk, "role": role})


# --- membership ---------------------------------------------------------------------------------------------------


def join_eligibility(*, pool: Pool, organisation: Organisation, on: date | None = None) -> list[str]:
    """Why the organisation may not join (empty: it may): an active partner of this hub for at least the rules'
    minimum months, and not already a member or applicant."""
    on = on or selectors.today()
    reasons: list[str] = []
    rules = pool.rules
    if not pool.is_open:
        reasons.append(_("该互助金暂不接受申请。"))
    partnership = Partnership.objects.filter(organisation_id=organisation.pk).first()
    if partnership is None or partnership.status != PartnershipStatus.ACTIVE:
        reasons.append(_("只有本枢纽合作中的伙伴组织可以加入互助金。"))
    elif rules.min_partnership_months:
        joined = timezone.localtime(partnership.joined_at).date() if partnership.joined_at else on
        if joined + relativedelta(months=rules.min_partnership_months) > on:
            reasons.append(
                _("成为伙伴满 %(months)s 个月后才能加入（伙伴关系始于 %(since)s）。")
                % {"months": rules.min_partnership_months, "since": joined.isoformat()}
            )
    if PoolMember.objects.filter(
        pool=pool, organisation_id=organisation.pk, status__in=[MemberStatus.APPLIED, MemberStatus.ACTIVE]
    ).exists():
        reasons.append(_("该组织已是成员或已提交申请。"))
    return reasons


def member_apply(*, pool: Pool, organisation: Organisation, actor: Any) -> PoolMember:
    """An organisation asks to join; the committee decides."""
    _require_org_member(organisation.pk, actor)
    reasons = join_eligibility(pool=pool, organisation=organisation)
    if reasons:
        raise ApplicationError(" ".join(reasons), code="not_eligible", extra={"reasons": reasons})
    try:
        with transaction.atomic():
            member = PoolMember.objects.create(pool=pool, organisation=organisation, status=MemberStatus.APPLIED)
            audit_record(actor=actor, action="pool.member.applied", obj=member, after={"status": member.status})
    except IntegrityError as exc:
        raise ApplicationError(_("该组织已是成员或已提交申请。"), code="not_eligible", status=409) from exc
    return member


def member_decide(*, member: PoolMember, approve: bool, actor: Any, note: str = "") -> PoolMember:
    """A committee member approves or rejects a join request (not for their own organisation). Approval opens
    the member's equity account."""
    pool = member.pool
    _require_role(pool, actor, PoolRoleKind.COMMITTEE)
    if OrganisationMember.objects.filter(organisation_id=member.organisation_id, user_id=actor.pk).exists():
        raise ApplicationError(_("不能审议本人所在组织的申请。"), code="conflict_of_interest", status=403)
    with transaction.atomic():
        locked = PoolMember.objects.select_for_update().get(pk=member.pk)
        if locked.status != MemberStatus.APPLIED:
            raise ApplicationError(_("该申请已处理。"), code="invalid_state", status=409)
        if approve:
            locked.equity_account = account_create(
                code=f"{pool.subject}/member:{locked.pk}",
                name=_("%(pool)s · 成员权益 #%(id)s") % {"pool": pool.name, "id": locked.pk},
                kind=AccountKind.NET_ASSETS,
                actor=actor,
                subject=pool.subject,
                owner_organisation_id=locked.organisation_id,
                no_overdraft=True,
            )
            locked.status = MemberStatus.ACTIVE
            locked.joined_at = timezone.now()
        else:
            locked.status = MemberStatus.REJECTED
        locked.decided_by = actor
        locked.decision_note = (note or "")[:500]
        locked.save()
        audit_record(
            actor=actor,
            action="pool.member.approved" if approve else "pool.member.rejected",
            obj=locked,
            before={"status": MemberStatus.APPLIED},
            after={"status": locked.status, "note": locked.decision_note},
        )
    return locked


def contribution_record(
    *,
    member: PoolMember,
    amount: int,
    actor: Any,
    kind: str = Contribution.Kind.PERIODIC,
    received_on: date | None = None,
    proof: IO[bytes] | None = None,
    proof_name: str = "",
    key: str = "",
) -> Contribution:
    """The treasurer records money a member paid in, with the bank receipt. Debit cash, credit the member's
    equity. ``key`` (e.g. the bank reference) makes a retried recording harmless."""
    pool = member.pool
    _require_role(pool, actor, PoolRoleKind.TREASURER)
    amount = _check_amount(amount)
    if kind not in Contribution.Kind.values:
        raise ApplicationError(_("缴款类型无效。"), code="invalid_kind", extra={"field": "kind"})
    if member.status != MemberStatus.ACTIVE or member.equity_account_id is None:
        raise ApplicationError(_("只有正式成员可以缴款。"), code="not_member", status=409)
    received_on = received_on or selectors.today()
    if received_on > selectors.today():
        raise ApplicationError(_("到账日期不能晚于今天。"), code="invalid_date", extra={"field": "received_on"})
    with transaction.atomic():
        stored = _store_proof(proof, proof_name or "receipt", actor)
        txn = _post(
            pool=pool,
            key=f"member:{member.pk}/contribution:{key or uuid.uuid4().hex}",
            lines=[Line.debit(pool.cash_account_id, amount), Line.credit(member.equity_account_id, amount)],  # type: ignore[arg-type]
            actor=actor,
            memo=_("%(org)s 缴款") % {"org": member.organisation.name},
            on=received_on,
        )
        existing = Contribution.objects.filter(ledger_transaction=txn).first()
        if existing is not None:
            return existing
        contribution = Contribution.objects.create(
            member=member,
            kind=kind,
            amount=amount,
            received_on=received_on,
            proof=stored,
            ledger_transaction=txn,
            recorded_by=actor,
        )
        audit_record(
            actor=actor,
            action="pool.contribution.recorded",
            obj=contribution,
            after={"amount": amount, "kind": kind, "transaction": txn.pk, "proof": str(stored.pk) if stored else None},
        )
    return contribution


@dataclass(frozen=True)
class LeaveResult:
    member: PoolMember
    offset: int  # equity used to settle what the member owed
    paid_out: int


def member_leave(*, member: PoolMember, actor: Any, on: date | None = None) -> LeaveResult:
    """The treasurer pays out a member who leaves: its equity, less what it owes on a loan (settled from the
    equity first). Refused while it has an application or approved loan in progress, while its equity is held
    for a guarantee, or when it owes more than its equity (it must repay first)."""
    pool = member.pool
    _require_role(pool, actor, PoolRoleKind.TREASURER)
    with transaction.atomic():
        _locked_pool(pool)
        locked = PoolMember.objects.select_for_update().get(pk=member.pk)
        if locked.status != MemberStatus.ACTIVE:
            raise ApplicationError(_("只有正式成员可以退出。"), code="invalid_state", status=409)
        if locked.loans.filter(status__in=[LoanStatus.APPLIED, LoanStatus.APPROVED]).exists():
            raise ApplicationError(_("该成员有进行中的借款申请，请先撤回。"), code="loan_in_progress", status=409)
        held = selectors.member_held(member=locked)
        if held:
            raise ApplicationError(
                _("该成员为他人借款担保，%(held)s 权益被冻结，担保解除后才能退出。") % {"held": _fmt(held)},
                code="guarantee_held",
                status=409,
                extra={"held": held},
            )
        equity = selectors.member_equity(member=locked)
        offset = 0
        open_loan = locked.loans.filter(status=LoanStatus.DISBURSED).first()
        if open_loan is not None:
            owed = selectors.loan_outstanding(loan=open_loan)
            if owed.total > equity:
                raise ApplicationError(
                    _("尚欠 %(owed)s，超过权益 %(equity)s，请先还款。")
                    % {"owed": _fmt(owed.total), "equity": _fmt(equity)},
                    code="owes_more_than_equity",
                    status=409,
                )
            _repay(loan=open_loan, amount=owed.total, actor=actor, source=Repayment.Source.OFFSET, on=on, key="offset")
            offset = owed.total
        payout = equity - offset
        if payout > 0:
            _post(
                pool=pool,
                key=f"member:{locked.pk}/leave",
                lines=[Line.debit(locked.equity_account_id, payout), Line.credit(pool.cash_account_id, payout)],  # type: ignore[arg-type]
                actor=actor,
                memo=_("%(org)s 退出，退还权益") % {"org": locked.organisation.name},
                on=on,
            )
        locked.status = MemberStatus.LEFT
        locked.left_at = timezone.now()
        locked.save(update_fields=["status", "left_at"])
        audit_record(
            actor=actor,
            action="pool.member.left",
            obj=locked,
            before={"status": MemberStatus.ACTIVE, "equity": equity},
            after={"status": MemberStatus.LEFT, "offset": offset, "paid_out": payout},
        )
    return LeaveResult(member=locked, offset=offset, paid_out=payout)


# --- loans --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reason:
    code: str
    message: str


def member_limit(*, member: PoolMember, rules: PoolRules) -> int:
    """The most this member may borrow: its equity times the rules' multiple, no more than the cap."""
    equity = selectors.member_equity(member=member)
    return max(0, min(equity * rules.limit_multiple_pct // 100, rules.limit_cap))


def loan_eligibility(
    *,
    pool: Pool,
    member: PoolMember,
    amount: int,
    guarantors: list[PoolMember] | None = None,
    rules: PoolRules | None = None,
    exclude_loan: Loan | None = None,
) -> list[Reason]:
    """Every reason the member may not borrow ``amount`` now (empty: it may), under ``rules`` (default: the
    current ones): membership, the open-loan rule, the member's limit, the pool's lendable share and cash, and
    the guarantors the rules ask for with enough free equity to hold."""
    rules = rules or pool.rules
    reasons: list[Reason] = []
    if member.status != MemberStatus.ACTIVE or member.pool_id != pool.pk:
        reasons.append(Reason("not_member", _("只有本互助金的正式成员可以借款。")))
        return reasons
    if rules.one_open_loan:
        others = selectors.open_loans_of(member=member)
        if exclude_loan is not None:
            others = others.exclude(pk=exclude_loan.pk)
        if others.exists():
            reasons.append(Reason("open_loan", _("每个成员同时只能有一笔借款，请先还清或撤回现有借款。")))
    limit = member_limit(member=member, rules=rules)
    if amount > limit:
        reasons.append(
            Reason(
                "over_member_limit",
                _("超过本成员的借款上限 %(limit)s（缴款的 %(multiple)s%%，且不超过 %(cap)s）。")
                % {"limit": _fmt(limit), "multiple": rules.limit_multiple_pct, "cap": _fmt(rules.limit_cap)},
            )
        )
    figures = selectors.pool_figures(pool=pool, rules=rules)
    if amount > figures.available:
        reasons.append(
            Reason(
                "over_pool_available",
                _("互助金当前可出借 %(available)s，不足以支付此借款。") % {"available": _fmt(figures.available)},
            )
        )
    guarantors = guarantors or []
    if len(guarantors) < rules.guarantors_required:
        reasons.append(
            Reason(
                "guarantors_required",
                _("规则要求 %(n)s 名担保成员。") % {"n": rules.guarantors_required},
            )
        )
    hold = guarantee_hold(amount=amount, rules=rules, count=len(guarantors))
    for guarantor, share in zip(guarantors, hold, strict=False):
        if guarantor.pk == member.pk or guarantor.pool_id != pool.pk or guarantor.status != MemberStatus.ACTIVE:
            reasons.append(Reason("invalid_guarantor", _("担保人必须是本互助金的其他正式成员。")))
            continue
        free = selectors.member_equity(member=guarantor) - selectors.member_held(member=guarantor)
        if share > free:
            reasons.append(
                Reason(
                    "guarantor_equity",
                    _("担保成员 %(org)s 的可冻结权益 %(free)s 不足 %(hold)s。")
                    % {"org": guarantor.organisation.name, "free": _fmt(free), "hold": _fmt(share)},
                )
            )
    return reasons


def guarantee_hold(*, amount: int, rules: PoolRules, count: int) -> list[int]:
    """How much of each guarantor's equity is held: the rules' share of the principal, split evenly (the first
    guarantors carry the odd fen)."""
    if count == 0:
        return []
    total = amount * rules.guarantee_hold_pct // 100
    base, rest = divmod(total, count)
    return [base + (1 if i < rest else 0) for i in range(count)]


def _raise_reasons(reasons: list[Reason]) -> None:
    if reasons:
        raise ApplicationError(
            " ".join(r.message for r in reasons),
            code=reasons[0].code if len(reasons) == 1 else "not_eligible",
            extra={"reasons": [{"code": r.code, "message": r.message} for r in reasons]},
        )


def loan_apply(
    *,
    member: PoolMember,
    amount: int,
    purpose: str,
    receivable_payer: str,
    receivable_contract: str,
    receivable_expected_on: date,
    actor: Any,
    guarantors: list[PoolMember] | None = None,
    document: IO[bytes] | None = None,
    document_name: str = "",
) -> Loan:
    """A member organisation's person applies for a loan bridging a receivable. Eligibility is checked with
    reasons; guarantors named here have their share of the hold checked now and taken when the loan is
    approved."""
    pool = member.pool
    _require_org_member(member.organisation_id, actor)
    amount = _check_amount(amount)
    purpose = (purpose or "").strip()
    payer = (receivable_payer or "").strip()
    contract = (receivable_contract or "").strip()
    if not purpose or not payer or not contract:
        field = "purpose" if not purpose else "receivable_payer" if not payer else "receivable_contract"
        raise ApplicationError(_("请填写用途和应收款的付款方、合同。"), code="required", extra={"field": field})
    if len(purpose) > 500 or len(payer) > 200 or len(contract) > 200:
        raise ApplicationError(_("内容过长。"), code="invalid", extra={"field": "purpose"})
    if not isinstance(receivable_expected_on, date):
        raise ApplicationError(
            _("请填写预计回款日期。"), code="invalid_date", extra={"field": "receivable_expected_on"}
        )
    if not pool.is_open:
        raise ApplicationError(_("该互助金暂不接受申请。"), code="pool_closed", status=409)
    guarantors = list(guarantors or [])
    if len({g.pk for g in guarantors}) != len(guarantors):
        raise ApplicationError(_("担保成员不能重复。"), code="invalid_guarantor", extra={"field": "guarantors"})
    with transaction.atomic():
        _locked_pool(pool)  # one application at a time per pool: the open-loan rule cannot be raced
        rules = pool.rules
        _raise_reasons(loan_eligibility(pool=pool, member=member, amount=amount, guarantors=guarantors, rules=rules))
        stored = _store_proof(document, document_name or "receivable", actor)
        loan = Loan.objects.create(
            pool=pool,
            member=member,
            rules=rules,
            status=LoanStatus.APPLIED,
            amount=amount,
            purpose=purpose,
            receivable_payer=payer,
            receivable_contract=contract,
            receivable_expected_on=receivable_expected_on,
            receivable_document=stored,
            applied_by=actor,
        )
        for guarantor, share in zip(
            guarantors, guarantee_hold(amount=amount, rules=rules, count=len(guarantors)), strict=True
        ):
            Guarantee.objects.create(loan=loan, guarantor=guarantor, amount=share, released_at=timezone.now())
        audit_record(
            actor=actor,
            action="pool.loan.applied",
            obj=loan,
            after={"amount": amount, "rules_version": rules.version, "guarantors": [g.pk for g in guarantors]},
        )
    return loan


def loan_cancel(*, loan: Loan, actor: Any) -> Loan:
    """Withdraw an application before the vote (its organisation), or release an approved loan before
    disbursement (the treasurer): the reserved liquidity goes back to cash and guarantees are released."""
    with transaction.atomic():
        _locked_pool(loan.pool)
        locked = _locked_loan(loan)
        if locked.status == LoanStatus.APPLIED:
            _require_org_member(locked.member.organisation_id, actor)
        elif locked.status == LoanStatus.APPROVED:
            _require_role(locked.pool, actor, PoolRoleKind.TREASURER)
            pool = locked.pool
            _post(
                pool=pool,
                key=f"loan:{locked.pk}/release",
                lines=[
                    Line.debit(pool.cash_account_id, locked.amount),  # type: ignore[arg-type]
                    Line.credit(pool.reserved_account_id, locked.amount),  # type: ignore[arg-type]
                ],
                actor=actor,
                memo=_("借款 #%(id)s 撤销，释放预留资金") % {"id": locked.pk},
            )
        else:
            raise ApplicationError(_("这笔借款已不能撤回。"), code="invalid_state", status=409)
        before = locked.status
        locked.status = LoanStatus.CANCELLED
        locked.save(update_fields=["status"])
        locked.guarantees.filter(released_at__isnull=True).update(released_at=timezone.now())
        audit_record(
            actor=actor,
            action="pool.loan.cancelled",
            obj=locked,
            before={"status": before},
            after={"status": "cancelled"},
        )
    return locked


@dataclass(frozen=True)
class VoteResult:
    vote: LoanVote
    loan: Loan
    decided: bool


def loan_vote(*, loan: Loan, actor: Any, approve: bool, comment: str = "") -> VoteResult:
    """A committee member votes on an application. The applicant organisation's people never vote on it. Once
    the rules' quorum of votes is cast the loan is decided: approved when the share of yes votes reaches the
    threshold, else rejected. Approval re-checks eligibility under the rules in force with the pool locked,
    takes the guarantors' holds, and moves the amount from cash to reserved in the ledger; if the pool can no
    longer afford it, the vote is refused and nothing changes."""
    pool = loan.pool
    _require_role(pool, actor, PoolRoleKind.COMMITTEE)
    if OrganisationMember.objects.filter(organisation_id=loan.member.organisation_id, user_id=actor.pk).exists():
        raise ApplicationError(_("申请组织的成员不能参与表决。"), code="conflict_of_interest", status=403)
    comment = (comment or "").strip()[:500]
    with transaction.atomic():
        locked_pool = _locked_pool(pool)
        locked = _locked_loan(loan)
        if locked.status != LoanStatus.APPLIED:
            raise ApplicationError(_("这笔借款已表决完毕。"), code="invalid_state", status=409)
        if locked.votes.filter(voter_id=actor.pk).exists():
            raise ApplicationError(_("您已经投过票。"), code="already_voted", status=409)
        vote = LoanVote.objects.create(loan=locked, voter=actor, approve=bool(approve), comment=comment)
        audit_record(actor=actor, action="pool.loan.voted", obj=locked, after={"approve": bool(approve)})
        rules = locked_pool.rules
        votes = list(locked.votes.values_list("approve", flat=True))
        decided = len(votes) >= rules.quorum
        if decided:
            yes = sum(1 for v in votes if v)
            if yes * 100 >= rules.approval_threshold_pct * len(votes):
                _approve(loan=locked, pool=locked_pool, rules=rules, actor=actor)
            else:
                locked.status = LoanStatus.REJECTED
                locked.decided_at = timezone.now()
                locked.save(update_fields=["status", "decided_at"])
                audit_record(
                    actor=actor,
                    action="pool.loan.rejected",
                    obj=locked,
                    before={"status": "applied"},
                    after={"status": "rejected", "yes": yes, "votes": len(votes)},
                )
    return VoteResult(vote=vote, loan=locked, decided=decided)


def _approve(*, loan: Loan, pool: Pool, rules: PoolRules, actor: Any) -> None:
    guarantees = list(loan.guarantees.select_related("guarantor__organisation"))
    guarantors = [g.guarantor for g in guarantees]
    _raise_reasons(
        loan_eligibility(
            pool=pool, member=loan.member, amount=loan.amount, guarantors=guarantors, rules=rules, exclude_loan=loan
        )
    )
    _post(
        pool=pool,
        key=f"loan:{loan.pk}/reserve",
        lines=[Line.debit(pool.reserved_account_id, loan.amount), Line.credit(pool.cash_account_id, loan.amount)],  # type: ignore[arg-type]
        actor=actor,
        memo=_("借款 #%(id)s 获批，预留资金") % {"id": loan.pk},
    )
    shares = guarantee_hold(amount=loan.amount, rules=rules, count=len(guarantees))
    for guarantee, share in zip(guarantees, shares, strict=True):
        guarantee.amount = share
        guarantee.released_at = None
        guarantee.save(update_fields=["amount", "released_at"])
    loan.status = LoanStatus.APPROVED
    loan.rules = rules
    loan.fee = (loan.amount * rules.fee_bps + 5000) // 10000
    loan.decided_at = timezone.now()
    loan.save(update_fields=["status", "rules", "fee", "decided_at"])
    audit_record(
        actor=actor,
        action="pool.loan.approved",
        obj=loan,
        before={"status": "applied"},
        after={"status": "approved", "rules_version": rules.version, "fee": loan.fee},
    )


def loan_disburse(*, loan: Loan, actor: Any, on: date | None = None) -> Loan:
    """The treasurer pays an approved loan out: reserved → loans, and the repayment schedule is set from the
    rules it was approved under (equal instalments over the term, the fee spread with them)."""
    pool = loan.pool
    _require_role(pool, actor, PoolRoleKind.TREASURER)
    on = on or selectors.today()
    with transaction.atomic():
        locked = _locked_loan(loan)
        if locked.status != LoanStatus.APPROVED:
            raise ApplicationError(_("只有已批准的借款可以放款。"), code="invalid_state", status=409)
        _post(
            pool=pool,
            key=f"loan:{locked.pk}/disburse",
            lines=[
                Line.debit(pool.loans_account_id, locked.amount),  # type: ignore[arg-type]
                Line.credit(pool.reserved_account_id, locked.amount),  # type: ignore[arg-type]
            ],
            actor=actor,
            memo=_("借款 #%(id)s 放款给 %(org)s") % {"id": locked.pk, "org": locked.member.organisation.name},
            on=on,
        )
        rules = locked.rules
        n = rules.installments
        principal, fee = divmod(locked.amount, n), divmod(locked.fee, n)
        for k in range(1, n + 1):
            Installment.objects.create(
                loan=locked,
                seq=k,
                due_on=on + timedelta(days=rules.term_days * k // n),
                principal=principal[0] + (principal[1] if k == n else 0),
                fee=fee[0] + (fee[1] if k == n else 0),
            )
        locked.status = LoanStatus.DISBURSED
        locked.disbursed_on = on
        locked.save(update_fields=["status", "disbursed_on"])
        audit_record(
            actor=actor,
            action="pool.loan.disbursed",
            obj=locked,
            before={"status": "approved"},
            after={"status": "disbursed"},
        )
    return locked


def _repay(
    *,
    loan: Loan,
    amount: int,
    actor: Any,
    source: str,
    on: date | None = None,
    key: str = "",
    proof: StoredFile | None = None,
) -> Repayment:
    """Allocate a payment to the instalments, oldest first, fee before principal, and post it (the caller
    holds the locks). Debit cash (or the member's equity, for an offset or a guarantee), credit loans and fee
    income."""
    pool = loan.pool
    on = on or selectors.today()
    owed = selectors.loan_outstanding(loan=loan)
    if amount > owed.total:
        raise ApplicationError(
            _("还款 %(amount)s 超过尚欠的 %(owed)s。") % {"amount": _fmt(amount), "owed": _fmt(owed.total)},
            code="overpayment",
            extra={"field": "amount", "owed": owed.total},
        )
    left = amount
    paid_principal = paid_fee = 0
    for inst in loan.installments.select_for_update().order_by("seq"):
        if left == 0:
            break
        take_fee = min(left, inst.fee - inst.paid_fee)
        left -= take_fee
        take_principal = min(left, inst.principal - inst.paid_principal)
        left -= take_principal
        if take_fee or take_principal:
            inst.paid_fee += take_fee
            inst.paid_principal += take_principal
            inst.save(update_fields=["paid_fee", "paid_principal"])
            paid_fee += take_fee
            paid_principal += take_principal
    # A leaving member's debt is settled from its own equity; every other repayment is cash coming in.
    debit_account = loan.member.equity_account_id if source == Repayment.Source.OFFSET else pool.cash_account_id
    lines = [Line.debit(debit_account, amount)]  # type: ignore[arg-type]
    if paid_principal:
        lines.append(Line.credit(pool.loans_account_id, paid_principal))  # type: ignore[arg-type]
    if paid_fee:
        lines.append(Line.credit(pool.income_account_id, paid_fee))  # type: ignore[arg-type]
    txn = _post(
        pool=pool,
        key=f"loan:{loan.pk}/repayment:{key or uuid.uuid4().hex}",
        lines=lines,
        actor=actor,
        memo=_("借款 #%(id)s 还款（%(source)s）") % {"id": loan.pk, "source": Repayment.Source(source).label},
        on=on,
    )
    repayment = Repayment.objects.create(
        loan=loan,
        amount=amount,
        principal=paid_principal,
        fee=paid_fee,
        received_on=on,
        source=source,
        proof=proof,
        ledger_transaction=txn,
        recorded_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    audit_record(
        actor=actor,
        action="pool.loan.repaid",
        obj=loan,
        after={"amount": amount, "principal": paid_principal, "fee": paid_fee, "source": source},
    )
    if owed.total == amount:
        loan.status = LoanStatus.REPAID
        loan.closed_on = on
        loan.save(update_fields=["status", "closed_on"])
        loan.guarantees.filter(released_at__isnull=True).update(released_at=timezone.now())
        loan.pauses.filter(ended_on__isnull=True).update(ended_on=on)
        audit_record(actor=actor, action="pool.loan.closed", obj=loan, after={"status": "repaid"})
    return repayment


def repayment_record(
    *,
    loan: Loan,
    amount: int,
    actor: Any,
    received_on: date | None = None,
    proof: IO[bytes] | None = None,
    proof_name: str = "",
    key: str = "",
) -> Repayment:
    """The treasurer records a repayment: partial, early or in full (never more than is owed)."""
    _require_role(loan.pool, actor, PoolRoleKind.TREASURER)
    amount = _check_amount(amount)
    if received_on and received_on > selectors.today():
        raise ApplicationError(_("到账日期不能晚于今天。"), code="invalid_date", extra={"field": "received_on"})
    with transaction.atomic():
        locked = _locked_loan(loan)
        if key:  # the same bank reference again: the first recording stands
            done = Repayment.objects.filter(
                ledger_transaction__idempotency_key=f"{loan.pool.subject}/loan:{loan.pk}/repayment:{key}"
            ).first()
            if done is not None:
                return done
        if locked.status != LoanStatus.DISBURSED:
            raise ApplicationError(_("这笔借款不在还款中。"), code="invalid_state", status=409)
        stored = _store_proof(proof, proof_name or "repayment", actor)
        return _repay(
            loan=locked,
            amount=amount,
            actor=actor,
            source=Repayment.Source.TREASURER,
            on=received_on,
            key=key,
            proof=stored,
        )


def loan_receivable_paid(*, loan: Loan, actor: Any, paid_on: date | None = None, amount: int | None = None) -> Loan:
    """The treasurer marks the bridged receivable paid: the pause (if any) ends and a repayment of what is owed
    (or ``amount``, if less came in) is matched to the loan automatically."""
    _require_role(loan.pool, actor, PoolRoleKind.TREASURER)
    paid_on = paid_on or selectors.today()
    with transaction.atomic():
        locked = _locked_loan(loan)
        if locked.status != LoanStatus.DISBURSED:
            raise ApplicationError(_("这笔借款不在还款中。"), code="invalid_state", status=409)
        if locked.receivable_paid_on is not None:
            raise ApplicationError(_("已登记过回款。"), code="already_paid", status=409)
        owed = selectors.loan_outstanding(loan=locked).total
        take = owed if amount is None else min(_check_amount(amount), owed)
        locked.receivable_paid_on = paid_on
        locked.save(update_fields=["receivable_paid_on"])
        locked.pauses.filter(ended_on__isnull=True).update(ended_on=paid_on)
        audit_record(
            actor=actor, action="pool.loan.receivable_paid", obj=locked, after={"paid_on": paid_on.isoformat()}
        )
        _repay(loan=locked, amount=take, actor=actor, source=Repayment.Source.RECEIVABLE, on=paid_on, key="receivable")
    locked.refresh_from_db()
    return locked


def loan_pause(*, loan: Loan, actor: Any, reason: str, on: date | None = None) -> LoanPause:
    """A committee member pauses the days-past-due count because the bridged government payment is confirmed
    late; the reason is recorded."""
    _require_role(loan.pool, actor, PoolRoleKind.COMMITTEE)
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(_("请说明暂停的原因。"), code="required", extra={"field": "reason"})
    with transaction.atomic():
        locked = _locked_loan(loan)
        if locked.status != LoanStatus.DISBURSED:
            raise ApplicationError(_("这笔借款不在还款中。"), code="invalid_state", status=409)
        if locked.pauses.filter(ended_on__isnull=True).exists():
            raise ApplicationError(_("这笔借款已在暂停中。"), code="already_paused", status=409)
        pause = LoanPause.objects.create(
            loan=locked, reason=reason[:500], started_on=on or selectors.today(), created_by=actor
        )
        audit_record(actor=actor, action="pool.loan.paused", obj=locked, after={"reason": pause.reason})
    return pause


def loan_resume(*, loan: Loan, actor: Any, on: date | None = None) -> LoanPause:
    _require_role(loan.pool, actor, PoolRoleKind.COMMITTEE)
    with transaction.atomic():
        pause = LoanPause.objects.select_for_update().filter(loan=loan, ended_on__isnull=True).first()
        if pause is None:
            raise ApplicationError(_("这笔借款没有暂停。"), code="not_paused", status=409)
        pause.ended_on = max(on or selectors.today(), pause.started_on)
        pause.save(update_fields=["ended_on"])
        audit_record(actor=actor, action="pool.loan.resumed", obj=loan, after={"ended_on": pause.ended_on.isoformat()})
    return pause


def loan_write_off(*, loan: Loan, actor: Any, reason: str, on: date | None = None) -> Loan:
    """By committee decision (the reason names it), a loan that will not come back is written off: first the
    guarantors' held equity is applied to it, then the principal still owed becomes a loss. Unpaid fees are
    forgiven (fees are income only when received)."""
    pool = loan.pool
    _require_role(pool, actor, PoolRoleKind.COMMITTEE)
    reason = (reason or "").strip()
    if not reason:
        raise ApplicationError(_("请写明核销决议。"), code="required", extra={"field": "reason"})
    if OrganisationMember.objects.filter(organisation_id=loan.member.organisation_id, user_id=actor.pk).exists():
        raise ApplicationError(_("申请组织的成员不能参与表决。"), code="conflict_of_interest", status=403)
    with transaction.atomic():
        _locked_pool(pool)
        locked = _locked_loan(loan)
        if locked.status != LoanStatus.DISBURSED:
            raise ApplicationError(_("这笔借款不在还款中。"), code="invalid_state", status=409)
        principal_left = selectors.loan_outstanding(loan=locked).principal
        recovered = 0
        for guarantee in locked.guarantees.filter(released_at__isnull=True).select_related("guarantor"):
            take = min(
                guarantee.amount, principal_left - recovered, selectors.member_equity(member=guarantee.guarantor)
            )
            if take > 0:
                _post(
                    pool=pool,
                    key=f"loan:{locked.pk}/guarantee:{guarantee.pk}",
                    lines=[
                        Line.debit(guarantee.guarantor.equity_account_id, take),  # type: ignore[arg-type]
                        Line.credit(pool.loans_account_id, take),  # type: ignore[arg-type]
                    ],
                    actor=actor,
                    memo=_("借款 #%(id)s 担保代偿") % {"id": locked.pk},
                    on=on,
                )
                recovered += take
            guarantee.applied_amount = max(take, 0)
            guarantee.released_at = timezone.now()
            guarantee.save(update_fields=["applied_amount", "released_at"])
        loss = principal_left - recovered
        if loss > 0:
            _post(
                pool=pool,
                key=f"loan:{locked.pk}/writeoff",
                lines=[Line.debit(pool.writeoff_account_id, loss), Line.credit(pool.loans_account_id, loss)],  # type: ignore[arg-type]
                actor=actor,
                memo=_("借款 #%(id)s 核销：%(reason)s") % {"id": locked.pk, "reason": reason},
                on=on,
            )
        for inst in locked.installments.all():
            inst.paid_principal = inst.principal
            inst.paid_fee = inst.fee
            inst.save(update_fields=["paid_principal", "paid_fee"])
        locked.status = LoanStatus.WRITTEN_OFF
        locked.closed_on = on or selectors.today()
        locked.writeoff_reason = reason[:500]
        locked.save(update_fields=["status", "closed_on", "writeoff_reason"])
        locked.pauses.filter(ended_on__isnull=True).update(ended_on=locked.closed_on)
        audit_record(
            actor=actor,
            action="pool.loan.written_off",
            obj=locked,
            before={"status": "disbursed", "principal": principal_left},
            after={"status": "written_off", "recovered": recovered, "loss": loss, "reason": locked.writeoff_reason},
        )
    return locked


def ledger_transaction_of(obj: Contribution | Repayment) -> LedgerTransaction:
    return obj.ledger_transaction


__all__ = [
    "OPEN_LOAN_STATUSES",
    "RULE_FIELDS",
    "LeaveResult",
    "Reason",
    "VoteResult",
    "contribution_record",
    "guarantee_hold",
    "join_eligibility",
    "loan_apply",
    "loan_cancel",
    "loan_disburse",
    "loan_eligibility",
    "loan_pause",
    "loan_receivable_paid",
    "loan_resume",
    "loan_vote",
    "loan_write_off",
    "member_apply",
    "member_decide",
    "member_leave",
    "member_limit",
    "pool_create",
    "pool_role_assign",
    "pool_role_remove",
    "repayment_record",
    "rules_update",
]
