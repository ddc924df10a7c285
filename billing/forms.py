from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from billing.plans import PAID_PLANS, PLANS


def _paid_plan_choices() -> list[tuple[str, str]]:
    return [(code, PLANS[code].display_name) for code in PAID_PLANS]


class PlanChangeForm(forms.Form):
    plan = forms.ChoiceField(label=_("套餐"), choices=_paid_plan_choices)
    seats = forms.IntegerField(
        label=_("工作人员席位"),
        min_value=1,
        max_value=500,
        help_text=_("按席位按月计费，可随时增减，差额按天折算。"),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "pattern": "[0-9]*"}),
    )


class CompForm(forms.Form):
    plan = forms.ChoiceField(label=_("赠送套餐"), choices=_paid_plan_choices)
    seats = forms.IntegerField(
        label=_("席位数"),
        min_value=1,
        max_value=500,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "pattern": "[0-9]*"}),
    )
    reason = forms.CharField(label=_("原因"), max_length=500)


class CompClearForm(forms.Form):
    reason = forms.CharField(label=_("取消原因"), max_length=500)


class CreditForm(forms.Form):
    amount = forms.DecimalField(
        label=_("抵扣金额（元）"),
        min_value=Decimal("0.01"),
        max_digits=12,
        decimal_places=2,
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )
    reason = forms.CharField(label=_("原因"), max_length=500)

    @property
    def amount_fen(self) -> int:
        return int(self.cleaned_data["amount"] * 100)
