"""Ledger API of a hub's host: accounts with balances, transactions, manual postings, reversals, verification.

Reads: staff and the treasurer. Writes: the treasurer and hub admins, each with an ``Idempotency-Key`` header
(the client's key, kept per user), so a retried request never posts twice. Verification: hub admins.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from hubs.core.permissions import HUB_ADMIN, HubAPIView
from hubs.ledger import selectors, services
from hubs.ledger.chain import chain_verify
from hubs.ledger.models import Account, AccountKind, Currency, LedgerEntry, LedgerTransaction
from hubs.ledger.money import MAX_FEN, money_format
from hubs.ledger.permissions import LEDGER_READERS, LEDGER_WRITERS
from huoban.errors import ApplicationError

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description="A key the client chooses per intended posting (e.g. a UUID); retries send the same key.",
)


def _idempotency_key(request: Request, purpose: str) -> str:
    """The client's Idempotency-Key, namespaced by user and purpose so clients cannot collide with each other or
    with the keys other apps use."""
    key = (request.headers.get("Idempotency-Key") or "").strip()
    if not key or len(key) > 100 or not key.isascii() or not key.isprintable():
        raise ApplicationError(
            _("请在请求头 Idempotency-Key 中提供幂等键（1 至 100 个可见 ASCII 字符）。"),
            code="idempotency_key_required",
        )
    return f"api:{request.user.pk}:{purpose}:{key}"


class AccountSerializer(serializers.ModelSerializer):
    balance = serializers.SerializerMethodField(help_text="fen, on the account's normal side")
    balance_display = serializers.SerializerMethodField()

    class Meta:
        model = Account
        fields = [
            "id",
            "code",
            "name",
            "kind",
            "currency",
            "owner_organisation_id",
            "subject",
            "restricted_to",
            "no_overdraft",
            "closed_at",
            "created_at",
            "balance",
            "balance_display",
        ]
        read_only_fields = fields

    def _balance(self, account: Account) -> int:
        known: dict[int, int] = self.context.get("balances") or {}
        if account.pk not in known:
            known[account.pk] = selectors.account_balance(account=account)
        return known[account.pk]

    def get_balance(self, account: Account) -> int:
        return self._balance(account)

    def get_balance_display(self, account: Account) -> str:
        return money_format(self._balance(account), account.currency)


class AccountCreateSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=100)
    name = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=AccountKind.choices)
    currency = serializers.ChoiceField(choices=Currency.choices, default=Currency.CNY)
    owner_organisation_id = serializers.IntegerField(required=False, allow_null=True, default=None)
    subject = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    restricted_to = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    no_overdraft = serializers.BooleanField(default=False)


class EntrySerializer(serializers.ModelSerializer):
    debit = serializers.IntegerField(read_only=True)
    credit = serializers.IntegerField(read_only=True)
    memo = serializers.CharField(source="transaction.memo", read_only=True)
    occurred_at = serializers.DateTimeField(source="transaction.occurred_at", read_only=True)

    class Meta:
        model = LedgerEntry
        fields = [
            "id",
            "seq",
            "transaction",
            "account",
            "amount",
            "debit",
            "credit",
            "currency",
            "purpose",
            "memo",
            "occurred_at",
            "hash",
        ]
        read_only_fields = fields


class TransactionEntrySerializer(serializers.ModelSerializer):
    account_code = serializers.CharField(source="account.code", read_only=True)
    account_name = serializers.CharField(source="account.name", read_only=True)
    debit = serializers.IntegerField(read_only=True)
    credit = serializers.IntegerField(read_only=True)

    class Meta:
        model = LedgerEntry
        fields = [
            "id",
            "seq",
            "account",
            "account_code",
            "account_name",
            "amount",
            "debit",
            "credit",
            "purpose",
            "hash",
        ]
        read_only_fields = fields


class TransactionSerializer(serializers.ModelSerializer):
    entries = TransactionEntrySerializer(many=True, read_only=True)
    reversed_by = serializers.SerializerMethodField()
    total = serializers.SerializerMethodField(help_text="fen: the sum of the debits")

    class Meta:
        model = LedgerTransaction
        fields = [
            "id",
            "currency",
            "memo",
            "source",
            "subject",
            "occurred_at",
            "created_at",
            "created_by",
            "reverses",
            "reversed_by",
            "total",
            "entries",
        ]
        read_only_fields = fields

    def get_reversed_by(self, txn: LedgerTransaction) -> int | None:
        reversal = getattr(txn, "reversed_by", None)
        return reversal.pk if reversal is not None else None

    def get_total(self, txn: LedgerTransaction) -> int:
        return sum(entry.debit for entry in txn.entries.all())


class TransactionSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = LedgerTransaction
        fields = ["id", "currency", "memo", "source", "subject", "occurred_at", "created_at", "reverses"]
        read_only_fields = fields


class LineSerializer(serializers.Serializer):
    account = serializers.IntegerField(min_value=1)
    debit = serializers.IntegerField(min_value=0, max_value=MAX_FEN, default=0, help_text="fen")
    credit = serializers.IntegerField(min_value=0, max_value=MAX_FEN, default=0, help_text="fen")
    purpose = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if (attrs["debit"] > 0) == (attrs["credit"] > 0):
            raise serializers.ValidationError(_("每条分录须且只能填写借方或贷方金额之一。"))
        return attrs


class PostTransactionSerializer(serializers.Serializer):
    memo = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    occurred_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    currency = serializers.ChoiceField(choices=Currency.choices, default=Currency.CNY)
    subject = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    lines = serializers.ListField(child=LineSerializer(), min_length=2, max_length=services.MAX_LINES)


class ReverseSerializer(serializers.Serializer):
    memo = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class VerificationSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    entries_checked = serializers.IntegerField()
    head_seq = serializers.IntegerField()
    head_hash = serializers.CharField()
    first_bad = serializers.DictField(allow_null=True)
    problems = serializers.ListField(child=serializers.DictField())


def _posted(result: services.PostingResult) -> Response:
    txn = selectors.transaction_with_entries(pk=result.transaction.pk)
    response = Response(
        TransactionSerializer(txn).data, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
    )
    if not result.created:
        response["Idempotent-Replayed"] = "true"
    return response


class AccountListView(HubAPIView):
    """The chart of accounts with balances (staff, treasurer); the treasurer and hub admins open accounts."""

    hub_roles = LEDGER_READERS
    hub_write_roles = LEDGER_WRITERS
    serializer_class = AccountSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter("subject", str, description="accounts attached to this subject, e.g. project:42"),
            OpenApiParameter("kind", str, enum=AccountKind.values),
        ],
        responses=AccountSerializer(many=True),
        operation_id="ledger_accounts_list",
    )
    def get(self, request: Request) -> Response:
        qs = selectors.account_list(
            subject=request.query_params.get("subject", ""), kind=request.query_params.get("kind", "")
        )
        page = self.paginate_queryset(qs) or []
        context = {"balances": selectors.balances(accounts=page)}
        return self.get_paginated_response(AccountSerializer(page, many=True, context=context).data)

    @extend_schema(
        request=AccountCreateSerializer, responses={201: AccountSerializer}, operation_id="ledger_accounts_create"
    )
    def post(self, request: Request) -> Response:
        data = AccountCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        account = services.account_create(actor=request.user, **data.validated_data)
        return Response(AccountSerializer(account).data, status=status.HTTP_201_CREATED)


class AccountDetailView(HubAPIView):
    """One account with its balance and its entries, newest first (paginated: ``page``, ``page_size``)."""

    hub_roles = LEDGER_READERS
    serializer_class = AccountSerializer

    def get(self, request: Request, pk: int) -> Response:
        account = get_object_or_404(Account, pk=pk)
        page = self.paginate_queryset(selectors.account_entries(account=account)) or []
        entries = self.get_paginated_response(EntrySerializer(page, many=True).data).data
        return Response({**AccountSerializer(account).data, "entries": entries})


class AccountCloseView(HubAPIView):
    """Close an account with a zero balance (treasurer, hub admins)."""

    hub_roles = LEDGER_WRITERS
    serializer_class = AccountSerializer

    @extend_schema(request=None, responses=AccountSerializer, operation_id="ledger_accounts_close")
    def post(self, request: Request, pk: int) -> Response:
        account = services.account_close(account=get_object_or_404(Account, pk=pk), actor=request.user)
        return Response(AccountSerializer(account).data)


class TransactionListView(HubAPIView):
    """Transactions, newest first (staff, treasurer); manual postings (treasurer, hub admins)."""

    hub_roles = LEDGER_READERS
    hub_write_roles = LEDGER_WRITERS
    serializer_class = TransactionSummarySerializer

    @extend_schema(
        parameters=[OpenApiParameter("subject", str), OpenApiParameter("source", str)],
        responses=TransactionSummarySerializer(many=True),
        operation_id="ledger_transactions_list",
    )
    def get(self, request: Request) -> Response:
        qs = selectors.transaction_list(
            subject=request.query_params.get("subject", ""), source=request.query_params.get("source", "")
        )
        page = self.paginate_queryset(qs)
        return self.get_paginated_response(TransactionSummarySerializer(page, many=True).data)

    @extend_schema(
        request=PostTransactionSerializer,
        responses={201: TransactionSerializer, 200: TransactionSerializer},
        parameters=[IDEMPOTENCY_HEADER],
        operation_id="ledger_transactions_post",
    )
    def post(self, request: Request) -> Response:
        key = _idempotency_key(request, "post")
        data = PostTransactionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        lines = [
            services.Line.debit(line["account"], line["debit"], line["purpose"])
            if line["debit"]
            else services.Line.credit(line["account"], line["credit"], line["purpose"])
            for line in values["lines"]
        ]
        result = services.transaction_post(
            idempotency_key=key,
            lines=lines,
            actor=request.user,
            memo=values["memo"],
            occurred_at=values["occurred_at"],
            currency=values["currency"],
            subject=values["subject"],
        )
        return _posted(result)


class TransactionDetailView(HubAPIView):
    hub_roles = LEDGER_READERS
    serializer_class = TransactionSerializer

    def get(self, request: Request, pk: int) -> Response:
        txn = selectors.transaction_with_entries(pk=pk)
        if txn is None:
            raise Http404
        return Response(TransactionSerializer(txn).data)


class TransactionReverseView(HubAPIView):
    """Reverse a transaction once (treasurer, hub admins)."""

    hub_roles = LEDGER_WRITERS
    serializer_class = TransactionSerializer

    @extend_schema(
        request=ReverseSerializer,
        responses={201: TransactionSerializer, 200: TransactionSerializer},
        parameters=[IDEMPOTENCY_HEADER],
        operation_id="ledger_transactions_reverse",
    )
    def post(self, request: Request, pk: int) -> Response:
        original = get_object_or_404(LedgerTransaction, pk=pk)
        key = _idempotency_key(request, f"reverse:{original.pk}")
        data = ReverseSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.transaction_reverse(
            transaction=original, idempotency_key=key, actor=request.user, memo=data.validated_data["memo"]
        )
        return _posted(result)


class LedgerVerifyView(HubAPIView):
    """Recompute the hash chain and the balances now and report (hub admins)."""

    hub_roles = HUB_ADMIN
    serializer_class = VerificationSerializer

    @extend_schema(responses=VerificationSerializer, operation_id="ledger_verify")
    def get(self, request: Request) -> Response:
        return Response(chain_verify().as_dict())
