"""Reads on the mutual-aid pool. Money figures come from the hub ledger's entries, the only truth; the pool's own
tables say which account is whose and what was agreed (schedules, votes, pauses)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from hubs.ledger.models import Account, LedgerEntry, LedgerTransaction
from hubs.ledger.selectors import balances
from hubs.pool.models import (
    OPEN_LOAN_STATUSES,
    Guarantee,
    Installment,
    Loan,
    LoanStatus,
    MemberStatus,
    Pool,
    PoolMember,
    PoolRoleKind,
    PoolRules,
)
from huoban.identity.models import OrganisationMember

BUCKETS = ("1-30", "31-90", "90+")
CATEGORIES = ("standard", "substandard", "doubtful", "loss")


def today() -> date:
    return timezone.localdate()


# --- figures ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PoolFigures:
    """The pool's balance sheet in fen: cash + reserved + loans = equity + income − write-offs."""

    cash: int
    reserved: int
    loans: int
    income: int
    writeoffs: int
    equity: int
    lendable_share_pct: int

    @property
    def assets(self) -> int:
        return self.cash + self.reserved + self.loans

    @property
    def funds(self) -> int:
        return self.equity + self.income - self.writeoffs

    @property
    def lent_out(self) -> int:
        return self.reserved + self.loans

    @property
    def available(self) -> int:
        """What may still be lent: the cash on hand, and no more than the rules' share of the pool's funds."""
        by_share = self.assets * self.lendable_share_pct // 100 - self.lent_out
        return max(0, min(self.cash, by_share))


def pool_accounts(pool: Pool) -> list[Account]:
    return [pool.cash_account, pool.reserved_account, pool.loans_account, pool.income_account, pool.writeoff_account]  # type: ignore[list-item]


def pool_figures(*, pool: Pool, rules: PoolRules | None = None) -> PoolFigures:
    accounts = pool_accounts(pool)
    got = balances(accounts=accounts)
    equity_total = (
        LedgerEntry.objects.filter(account__subject=pool.subject, account__code__contains="/member:").aggregate(
            t=Sum("amount")
        )["t"]
        or 0
    )
    rules = rules or pool.rules
    return PoolFigures(
        cash=got[pool.cash_account_id],  # type: ignore[index]
        reserved=got[pool.reserved_account_id],  # type: ignore[index]
        loans=got[pool.loans_account_id],  # type: ignore[index]
        income=got[pool.income_account_id],  # type: ignore[index]
        writeoffs=got[pool.writeoff_account_id],  # type: ignore[index]
        equity=-int(equity_total),
        lendable_share_pct=rules.lendable_share_pct,
    )


def member_equity(*, member: PoolMember) -> int:
    if member.equity_account_id is None:
        return 0
    total = LedgerEntry.objects.filter(account_id=member.equity_account_id).aggregate(t=Sum("amount"))["t"] or 0
    return -int(total)


def member_equities(*, pool: Pool) -> dict[int, int]:
    """Each member's equity in fen, in one query: ``{member id: fen}``."""
    members = list(pool.members.exclude(equity_account=None).only("id", "equity_account_id"))
    totals = dict(
        LedgerEntry.objects.filter(account_id__in=[m.equity_account_id for m in members])
        .values("account_id")
        .annotate(t=Sum("amount"))
        .values_list("account_id", "t")
    )
    return {m.pk: -int(totals.get(m.equity_account_id or 0) or 0) for m in members}


def member_held(*, member: PoolMember) -> int:
    """Equity held for guarantees this member gave on loans not yet settled."""
    return int(
        Guarantee.objects.filter(guarantor=member, released_at__isnull=True).aggregate(t=Sum("amount"))["t"] or 0
    )


def member_contributed(*, member: PoolMember) -> int:
    return int(member.contributions.aggregate(t=Sum("amount"))["t"] or 0)


# --- loans --------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outstanding:
    principal: int
    fee: int

    @property
    def total(self) -> int:
        return self.principal + self.fee


def loan_outstanding(*, loan: Loan) -> Outstanding:
    if loan.status != LoanStatus.DISBURSED:
        return Outstanding(0, 0)
    rows = loan.installments.aggregate(p=Sum("principal"), pp=Sum("paid_principal"), f=Sum("fee"), pf=Sum("paid_fee"))
    return Outstanding(int((rows["p"] or 0) - (rows["pp"] or 0)), int((rows["f"] or 0) - (rows["pf"] or 0)))


def loan_next_due(*, loan: Loan) -> Installment | None:
    return next((i for i in loan.installments.all() if i.due_total > 0), None)


def _paused_days(loan: Loan, since: date, as_of: date) -> int:
    days = 0
    for pause in loan.pauses.all():
        start = max(pause.started_on, since)
        end = min(pause.ended_on or as_of, as_of)
        if end > start:
            days += (end - start).days
    return days


def loan_is_paused(*, loan: Loan) -> bool:
    return any(p.ended_on is None for p in loan.pauses.all())


def loan_days_past_due(*, loan: Loan, as_of: date | None = None) -> int:
    """Days since the oldest unpaid instalment fell due, not counting days paused for a confirmed-late
    government payment. Zero for a loan that is not being repaid."""
    if loan.status != LoanStatus.DISBURSED:
        return 0
    as_of = as_of or today()
    first = loan_next_due(loan=loan)
    if first is None or first.due_on >= as_of:
        return 0
    return max(0, (as_of - first.due_on).days - _paused_days(loan, first.due_on, as_of))


def bucket_of(days: int) -> str:
    if days <= 0:
        return ""
    if days <= 30:
        return "1-30"
    if days <= 90:
        return "31-90"
    return "90+"


def category_of(*, days: int, grace_days: int) -> str:
    """Provisioning category by days past due (grace days count as current)."""
    late = days - grace_days
    if late <= 0:
        return "standard"
    if late <= 90:
        return "substandard"
    if late <= 180:
        return "doubtful"
    return "loss"


def reserve_pct(rules: PoolRules, category: str) -> int:
    return int(getattr(rules, f"reserve_{category}_pct"))


@dataclass
class Delinquency:
    buckets: dict[str, dict[str, int]] = field(default_factory=lambda: {b: {"count": 0, "amount": 0} for b in BUCKETS})
    categories: dict[str, dict[str, int]] = field(
        default_factory=lambda: {c: {"count": 0, "amount": 0, "reserve": 0} for c in CATEGORIES}
    )
    paused: dict[str, int] = field(default_factory=lambda: {"count": 0, "amount": 0})

    @property
    def reserve_total(self) -> int:
        return sum(c["reserve"] for c in self.categories.values())


def pool_delinquency(*, pool: Pool, as_of: date | None = None) -> Delinquency:
    """Loans being repaid, by days-past-due bucket and provisioning category, with the reserve each category
    needs under the pool's current rules (reserve = outstanding principal × the category's percentage)."""
    rules = pool.rules
    out = Delinquency()
    loans = pool.loans.filter(status=LoanStatus.DISBURSED).prefetch_related("installments", "pauses")
    for loan in loans:
        principal = sum(i.principal - i.paid_principal for i in loan.installments.all())
        days = loan_days_past_due(loan=loan, as_of=as_of)
        bucket = bucket_of(days)
        if bucket:
            out.buckets[bucket]["count"] += 1
            out.buckets[bucket]["amount"] += principal
        if loan_is_paused(loan=loan):
            out.paused["count"] += 1
            out.paused["amount"] += principal
        category = category_of(days=days, grace_days=loan.rules.grace_days)
        out.categories[category]["count"] += 1
        out.categories[category]["amount"] += principal
        out.categories[category]["reserve"] += principal * reserve_pct(rules, category) // 100
    return out


def repayment_rate_pct(*, pool: Pool) -> int | None:
    """Share of settled principal that came back (repaid rather than written off), in percent."""
    settled = pool.loans.filter(status__in=[LoanStatus.REPAID, LoanStatus.WRITTEN_OFF])
    total = int(settled.aggregate(t=Sum("amount"))["t"] or 0)
    if not total:
        return None
    lost = _balance(pool.writeoff_account_id)  # type: ignore[arg-type]  # an expense: debits are losses
    return (total - lost) * 100 // total


def _balance(account_id: int) -> int:
    return int(LedgerEntry.objects.filter(account_id=account_id).aggregate(t=Sum("amount"))["t"] or 0)


def monthly_history(*, pool: Pool, months: int = 12) -> list[dict[str, int | str]]:
    """End-of-month pool funds and loans outstanding for the last ``months`` months (for the chart)."""
    cash_ids = [pool.cash_account_id, pool.reserved_account_id]
    rows = (
        LedgerEntry.objects.filter(account_id__in=[*cash_ids, pool.loans_account_id])
        .values_list("account_id", "amount", "transaction__occurred_at")
        .order_by("seq")
    )
    per_month: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for account_id, amount, occurred in rows:
        key = timezone.localtime(occurred).strftime("%Y-%m")
        per_month[key][0 if account_id in cash_ids else 1] += int(amount)
    end = today().replace(day=1)
    keys: list[str] = []
    y, m = end.year, end.month
    for _i in range(months):
        keys.append(f"{y:04d}-{m:02d}")
        y, m = (y, m - 1) if m > 1 else (y - 1, 12)
    keys.reverse()
    cash = loans = 0
    for key in sorted(k for k in per_month if k < keys[0]):
        cash += per_month[key][0]
        loans += per_month[key][1]
    out: list[dict[str, int | str]] = []
    for key in keys:
        cash += per_month.get(key, [0, 0])[0]
        loans += per_month.get(key, [0, 0])[1]
        out.append({"month": key, "cash": cash, "loans": loans})
    return out


# --- statements ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatementRow:
    occurred_on: date
    memo: str
    debit: int  # money into the pool / to the member's equity
    credit: int
    balance: int
    transaction_id: int


def account_statement(*, account_id: int, credit_normal: bool = True) -> list[StatementRow]:
    """The account's entries, oldest first, with a running balance from its normal side."""
    rows: list[StatementRow] = []
    balance = 0
    entries = LedgerEntry.objects.filter(account_id=account_id).select_related("transaction").order_by("seq")
    for entry in entries:
        signed = -entry.amount if credit_normal else entry.amount
        balance += signed
        rows.append(
            StatementRow(
                occurred_on=timezone.localtime(entry.transaction.occurred_at).date(),
                memo=entry.transaction.memo,
                debit=signed if signed > 0 else 0,
                credit=-signed if signed < 0 else 0,
                balance=balance,
                transaction_id=entry.transaction_id,
            )
        )
    return rows


def pool_transactions(*, pool: Pool) -> QuerySet[LedgerTransaction]:
    return LedgerTransaction.objects.filter(subject=pool.subject).order_by("created_at", "id")


# --- people -------------------------------------------------------------------------------------------------------


def user_organisation_ids(*, user: object) -> set[int]:
    if not getattr(user, "is_authenticated", False):
        return set()
    return set(OrganisationMember.objects.filter(user_id=user.pk).values_list("organisation_id", flat=True))  # type: ignore[attr-defined]


def user_pool_roles(*, pool: Pool, user: object) -> set[str]:
    if not getattr(user, "is_authenticated", False):
        return set()
    return set(pool.roles.filter(user_id=user.pk).values_list("role", flat=True))  # type: ignore[attr-defined]


def pool_committee_ids(*, pool: Pool) -> list[int]:
    return list(pool.roles.filter(role=PoolRoleKind.COMMITTEE).values_list("user_id", flat=True))


def members_of(*, pool: Pool, status: str | None = MemberStatus.ACTIVE) -> QuerySet[PoolMember]:
    qs = pool.members.select_related("organisation").order_by("id")
    return qs.filter(status=status) if status else qs


def open_loans_of(*, member: PoolMember) -> QuerySet[Loan]:
    return member.loans.filter(status__in=OPEN_LOAN_STATUSES)


def loans_to_vote(*, pool: Pool, user: object) -> QuerySet[Loan]:
    orgs = user_organisation_ids(user=user)
    return (
        pool.loans.filter(status=LoanStatus.APPLIED)
        .exclude(member__organisation_id__in=orgs)
        .exclude(Q(votes__voter_id=getattr(user, "pk", None)))
        .select_related("member__organisation")
    )
