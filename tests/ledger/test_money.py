"""Money is fen in, fen out: formatting for people and strict parsing of what they type."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hubs.ledger.money import money_format, money_parse
from huoban.errors import ApplicationError


@pytest.mark.parametrize(
    ("fen", "currency", "text"),
    [
        (123456, "CNY", "¥1,234.56"),
        (0, "CNY", "¥0.00"),
        (5, "CNY", "¥0.05"),
        (-123456789, "CNY", "-¥1,234,567.89"),
        (100, "USD", "US$1.00"),
    ],
)
def test_format_shows_yuan_with_separators(fen, currency, text):
    assert money_format(fen, currency) == text


def test_format_without_symbol_and_refuses_floats():
    assert money_format(123456, symbol=False) == "1,234.56"
    with pytest.raises(TypeError):
        money_format(12.5)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("1234.56", 123456),
        ("1,234.56", 123456),
        ("1234.5", 123450),
        ("1234", 123400),
        (".5", 50),
        ("¥12", 1200),
        ("￥ 0.01", 1),
        ("  8  ", 800),
        (Decimal("12.30"), 1230),
    ],
)
def test_parse_reads_yuan_into_fen(text, fen):
    assert money_parse(text) == fen


@pytest.mark.parametrize("text", ["12.345", "1.001", "", "abc", "1,23.00", "1e3", "１２", "12.", "--1", "+", "1,2345"])
def test_parse_rejects_what_is_not_an_amount(text):
    with pytest.raises(ApplicationError) as caught:
        money_parse(text)
    assert caught.value.code == "invalid_amount"


def test_parse_negatives_and_zero_only_when_allowed():
    with pytest.raises(ApplicationError):
        money_parse("-1.00")
    assert money_parse("-1.00", allow_negative=True) == -100
    assert money_parse("-¥1,000", allow_negative=True) == -100000
    with pytest.raises(ApplicationError):
        money_parse("0", allow_zero=False)
    with pytest.raises(TypeError):
        money_parse(1.5)  # type: ignore[arg-type]


def test_parse_rejects_absurd_amounts():
    with pytest.raises(ApplicationError):
        money_parse("10000000000000.00")


def test_round_trip():
    for fen in (0, 1, 99, 100, 123456789):
        assert money_parse(money_format(fen)) == fen


def test_yuan_field_cleans_to_fen():
    from django import forms

    from hubs.ledger.forms import YuanField

    class Form(forms.Form):
        amount = YuanField()
        optional = YuanField(required=False)

    form = Form({"amount": "1,234.5", "optional": ""})
    assert form.is_valid()
    assert form.cleaned_data == {"amount": 123450, "optional": None}
    bad = Form({"amount": "1.234"})
    assert not bad.is_valid()
    assert "两位小数" in bad.errors["amount"][0]
    assert not Form({"amount": "0"}).is_valid()
