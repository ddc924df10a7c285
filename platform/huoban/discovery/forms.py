"""Forms of the public discovery pages. Amounts are typed in yuan here; everything below the page uses fen."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from huoban.discovery.models import EntryKind, ServiceArea
from huoban.discovery.params import QUERY_MAX, SearchParams, search_params
from huoban.regions import Region, region_get, region_label

YUAN_MAX = 10**12


def provinces() -> list[Region]:
    """Provincial-level regions in force (GB/T 2260 codes NN0000)."""
    return [r for n in range(10, 99) if (r := region_get(f"{n}0000")) is not None and r.in_force]


class IntListField(forms.Field):
    """Repeated integer parameters (``hub=3&hub=7``), carried along as hidden inputs."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[int]:
        if not value:
            return []
        try:
            return sorted({int(v) for v in value})
        except (TypeError, ValueError) as exc:
            raise forms.ValidationError(_("枢纽编号不正确。"), code="invalid") from exc


def _yuan_to_fen(value: int | None) -> int | None:
    return None if value is None else value * 100


class DiscoverForm(forms.Form):
    q = forms.CharField(
        required=False,
        max_length=QUERY_MAX,
        label=_("搜索"),
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "placeholder": _("搜索征集、项目、伙伴……例如：留守儿童、养老"),
                "enterkeyhint": "search",
            }
        ),
    )
    kind = forms.MultipleChoiceField(choices=EntryKind.choices, required=False, widget=forms.MultipleHiddenInput)
    region = forms.CharField(required=False, max_length=6, label=_("地区"))
    area = forms.MultipleChoiceField(choices=ServiceArea.choices, required=False, widget=forms.MultipleHiddenInput)
    amount_min = forms.IntegerField(required=False, min_value=0, max_value=YUAN_MAX, label=_("最低金额（元）"))
    amount_max = forms.IntegerField(required=False, min_value=0, max_value=YUAN_MAX, label=_("最高金额（元）"))
    deadline_before = forms.DateField(
        required=False, label=_("截止日期不晚于"), widget=forms.DateInput(attrs={"type": "date"})
    )
    hub = IntListField(required=False)
    sort = forms.ChoiceField(
        choices=[("relevance", _("按相关度")), ("deadline", _("按截止日期"))], required=False, label=_("排序")
    )
    cursor = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", _("全部地区")), *((r.code, r.name) for r in provinces())]
        current = (self.data.get("region") or "").strip() if self.is_bound else ""
        if current and current not in dict(choices) and region_get(current):
            choices.append((current, region_label(current)))
        self.fields["region"].widget = forms.Select(choices=choices)
        for name in ("amount_min", "amount_max"):
            self.fields[name].widget.attrs.update({"inputmode": "numeric", "placeholder": _("元")})

    def params(self) -> SearchParams:
        """The checked search parameters (raises ApplicationError naming the field)."""
        data = self.cleaned_data
        return search_params(
            query=data["q"],
            kinds=data["kind"],
            region=data["region"],
            service_areas=data["area"],
            amount_min=_yuan_to_fen(data["amount_min"]),
            amount_max=_yuan_to_fen(data["amount_max"]),
            deadline_before=data["deadline_before"],
            hub_ids=data["hub"],
            sort=data["sort"] or "relevance",
        )


class SaveSearchForm(forms.Form):
    name = forms.CharField(max_length=100, label=_("名称"))
    email_digest = forms.BooleanField(required=False, initial=True, label=_("有新结果时每天邮件通知我"))
    search = forms.CharField(required=False, max_length=4000, widget=forms.HiddenInput)


class InterestsForm(forms.Form):
    service_areas = forms.MultipleChoiceField(
        choices=ServiceArea.choices, required=False, widget=forms.CheckboxSelectMultiple, label=_("服务领域")
    )
    region_codes = forms.CharField(
        required=False,
        max_length=200,
        label=_("地区代码"),
        help_text=_("六位行政区划代码，多个用空格分隔，例如 511800（雅安市）。"),
    )
    kinds = forms.MultipleChoiceField(
        choices=EntryKind.choices, required=False, widget=forms.CheckboxSelectMultiple, label=_("类型")
    )
    amount_min = forms.IntegerField(required=False, min_value=0, max_value=YUAN_MAX, label=_("最低金额（元）"))
    amount_max = forms.IntegerField(required=False, min_value=0, max_value=YUAN_MAX, label=_("最高金额（元）"))

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "service_areas": data["service_areas"],
            "region_codes": data["region_codes"].replace(",", " ").replace("，", " ").split(),
            "kinds": data["kinds"],
            "amount_min": _yuan_to_fen(data["amount_min"]),
            "amount_max": _yuan_to_fen(data["amount_max"]),
        }
