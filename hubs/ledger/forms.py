"""Form fields for money, for any app's forms."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from hubs.ledger.money import money_parse
from huoban.errors import ApplicationError


class YuanField(forms.CharField):
    """An amount typed in yuan (``1,234.56``), cleaned to an int of fen; at most two decimals."""

    def __init__(self, *, allow_negative: bool = False, allow_zero: bool = False, **kwargs: Any) -> None:
        self.allow_negative = allow_negative
        self.allow_zero = allow_zero
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}))
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> int | None:  # type: ignore[override]
        text = super().to_python(value)
        if text is None or text in self.empty_values:
            return None
        try:
            return money_parse(text, allow_negative=self.allow_negative, allow_zero=self.allow_zero)
        except ApplicationError as exc:
            raise ValidationError(str(exc.message), code=exc.code) from exc
