"""Money as integers in fen (分): format for people, parse what people type. No floats anywhere.

money_format(123456)              -> "¥1,234.56"
money_format(-5, "USD")           -> "-US$0.05"
money_parse("1,234.56")           -> 123456
money_parse("12.345")             -> ApplicationError(code="invalid_amount")
"""

from __future__ import annotations

import re
from decimal import Decimal

from django.utils.translation import gettext as _

from huoban.errors import ApplicationError

CURRENCY_SYMBOLS = {"CNY": "¥", "HKD": "HK$", "USD": "US$"}
# Far beyond any hub's money (a trillion yuan) and far below what a bigint sum of many entries can hold.
MAX_FEN = 10**14

# Digits are ASCII only: \d would also accept full-width and other scripts' digits.
_AMOUNT = re.compile(r"^(?P<sign>[+-])?(?P<int>[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)?(?:\.(?P<frac>[0-9]+))?$")


def money_format(fen: int, currency: str = "CNY", *, symbol: bool = True) -> str:
    """Fen as people read it: ``-¥1,234.56``. Without ``symbol``: ``-1,234.56``."""
    if isinstance(fen, bool) or not isinstance(fen, int):
        raise TypeError(f"money is an int of fen, not {type(fen).__name__}")
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    mark = CURRENCY_SYMBOLS.get(currency, f"{currency} ") if symbol else ""
    return f"{sign}{mark}{yuan:,}.{cents:02d}"


def money_parse(text: str | int | Decimal, *, allow_negative: bool = False, allow_zero: bool = True) -> int:
    """Parse an amount in yuan typed by a person (``"1234.56"``, ``"1,234.5"``, ``"¥12"``) into fen.

    At most two decimals; thousands separators must group correctly; negatives only with ``allow_negative``.
    Raises ApplicationError(code="invalid_amount") with a message to show next to the field.
    """
    if isinstance(text, float):
        raise TypeError("amounts are never floats; pass the text the person typed")
    cleaned = str(text if text is not None else "").strip().replace(" ", "")
    sign = ""
    if cleaned.startswith(("+", "-")):
        sign, cleaned = cleaned[0], cleaned[1:]
    if cleaned.startswith(("¥", "￥")):
        cleaned = cleaned[1:]
    cleaned = sign + cleaned
    match = _AMOUNT.match(cleaned)
    if not cleaned or match is None or (match["int"] is None and match["frac"] is None):
        raise ApplicationError(_("请输入有效金额，例如 1234.56。"), code="invalid_amount")
    frac = match["frac"] or ""
    if len(frac) > 2:
        raise ApplicationError(_("金额最多保留两位小数（精确到分）。"), code="invalid_amount")
    fen = int((match["int"] or "0").replace(",", "")) * 100 + int(frac.ljust(2, "0"))
    if match["sign"] == "-":
        fen = -fen
    if fen < 0 and not allow_negative:
        raise ApplicationError(_("金额不能为负数。"), code="invalid_amount")
    if fen == 0 and not allow_zero:
        raise ApplicationError(_("金额必须大于零。"), code="invalid_amount")
    if abs(fen) > MAX_FEN:
        raise ApplicationError(_("金额超出允许范围。"), code="invalid_amount")
    return fen
