from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from hubs.ledger.money import money_parse
from hubs.pool.models import Contribution, PoolRules
from hubs.pool.services import RULE_FIELDS
from huoban.errors import ApplicationError


class MoneyField(forms.CharField):
    """An amount in yuan as people type it (1,234.56), cleaned to fen."""

    def clean(self, value: Any) -> int:
        text = super().clean(value)
        try:
            return money_parse(text, allow_zero=False)
        except ApplicationError as exc:
            raise forms.ValidationError(str(exc.message)) from exc


class PoolCreateForm(forms.Form):
    name = forms.CharField(label=_("名称"), max_length=200)
    description = forms.CharField(label=_("说明"), widget=forms.Textarea(attrs={"rows": 3}), required=False)


class RulesForm(forms.ModelForm):
    class Meta:
        model = PoolRules
        fields = [*RULE_FIELDS, "one_open_loan", "note"]


class LoanApplyForm(forms.Form):
    amount = MoneyField(label=_("借款金额（元）"))
    purpose = forms.CharField(label=_("用途"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
    receivable_payer = forms.CharField(label=_("应收款付款方"), max_length=200)
    receivable_contract = forms.CharField(label=_("合同或项目"), max_length=200)
    receivable_expected_on = forms.DateField(label=_("预计回款日期"), widget=forms.DateInput(attrs={"type": "date"}))
    document = forms.FileField(label=_("合同或拨款文件"), required=False)
    guarantors = forms.MultipleChoiceField(label=_("担保成员"), required=False, choices=[])


class ContributionForm(forms.Form):
    amount = MoneyField(label=_("金额（元）"))
    kind = forms.ChoiceField(label=_("类型"), choices=Contribution.Kind.choices)
    received_on = forms.DateField(label=_("到账日期"), widget=forms.DateInput(attrs={"type": "date"}))
    reference = forms.CharField(label=_("银行流水号"), max_length=100, required=False)
    proof = forms.FileField(label=_("转账凭证"), required=False)


class RepaymentForm(forms.Form):
    amount = MoneyField(label=_("还款金额（元）"))
    received_on = forms.DateField(label=_("到账日期"), widget=forms.DateInput(attrs={"type": "date"}), required=False)
    reference = forms.CharField(label=_("银行流水号"), max_length=100, required=False)
    proof = forms.FileField(label=_("转账凭证"), required=False)


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("原因或决议"), max_length=500)


class VoteForm(forms.Form):
    approve = forms.TypedChoiceField(
        label=_("表决"), choices=[("1", _("赞成")), ("0", _("反对"))], coerce=lambda v: v == "1"
    )
    comment = forms.CharField(label=_("意见"), max_length=500, required=False)
