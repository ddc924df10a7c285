from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from hubs.partners.models import PartnershipStatus, ServiceArea
from hubs.partners.selectors import SORTS
from huoban.identity.models import Organisation, OrganisationKind
from huoban.storage.models import DocumentStatus

AREA_FIELD_KWARGS: dict[str, Any] = {
    "label": _("服务领域"),
    "choices": ServiceArea.choices,
    "widget": forms.CheckboxSelectMultiple,
    "required": False,
}


class DirectoryFilterForm(forms.Form):
    q = forms.CharField(
        label=_("搜索"),
        required=False,
        max_length=100,
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("名称或信用代码"), "aria-label": _("搜索")}),
    )
    kind = forms.ChoiceField(
        label=_("组织类型"), choices=[("", _("全部类型")), *OrganisationKind.choices], required=False
    )
    tag = forms.ChoiceField(label=_("服务领域"), choices=[("", _("全部领域")), *ServiceArea.choices], required=False)
    status = forms.ChoiceField(
        label=_("状态"), choices=[("", _("全部状态")), *PartnershipStatus.choices], required=False
    )
    region = forms.CharField(
        label=_("地区代码"),
        required=False,
        max_length=6,
        widget=forms.TextInput(
            attrs={
                "placeholder": _("地区代码，如 510000"),
                "aria-label": _("地区代码"),
                "inputmode": "numeric",
                "size": 14,
            }
        ),
    )
    verified = forms.ChoiceField(
        label=_("资质核验"),
        choices=[("", _("核验不限")), ("yes", _("已核验")), ("no", _("未核验"))],
        required=False,
    )
    sort = forms.ChoiceField(
        label=_("排序"),
        choices=[
            ("", _("默认排序")),
            ("name", _("名称")),
            ("-joined", _("最近加入")),
            ("joined", _("最早加入")),
            ("-created", _("最近创建")),
            ("status", _("状态")),
            ("region", _("地区")),
        ],
        required=False,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        assert {v for v, _l in self.fields["sort"].choices if v} <= set(SORTS)  # type: ignore[attr-defined]


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("邮箱"))
    credit_code = forms.CharField(
        label=_("统一社会信用代码"),
        max_length=30,
        required=False,
        help_text=_("已在平台登记的组织可填；不填则由对方接受邀请时登记或选择组织。"),
    )
    message = forms.CharField(label=_("附言"), widget=forms.Textarea(attrs={"rows": 3}), required=False)


class StaffAddForm(forms.Form):
    credit_code = forms.CharField(
        label=_("统一社会信用代码"),
        max_length=30,
        required=False,
        help_text=_("已在平台登记的组织只需填写此项；志愿服务队可不填。"),
    )
    name = forms.CharField(label=_("组织名称"), max_length=200, required=False)
    kind = forms.ChoiceField(label=_("组织类型"), choices=[("", "—"), *OrganisationKind.choices], required=False)
    region_code = forms.CharField(
        label=_("所在地区代码"), max_length=6, required=False, help_text=_("GB/T 2260 六位代码，如 510104。")
    )
    service_areas = forms.MultipleChoiceField(**AREA_FIELD_KWARGS)
    public_profile = forms.CharField(label=_("公开简介"), widget=forms.Textarea(attrs={"rows": 3}), required=False)
    status = forms.ChoiceField(
        label=_("状态"),
        choices=[
            (PartnershipStatus.ACTIVE, PartnershipStatus.ACTIVE.label),
            (PartnershipStatus.UNDER_REVIEW, PartnershipStatus.UNDER_REVIEW.label),
        ],
        initial=PartnershipStatus.ACTIVE,
    )
    contact_name = forms.CharField(label=_("联系人"), max_length=100, required=False)
    contact_role = forms.CharField(label=_("联系人职务"), max_length=100, required=False)
    contact_phone = forms.CharField(label=_("联系电话"), max_length=30, required=False)
    contact_email = forms.EmailField(label=_("联系人邮箱"), required=False)


class PartnershipEditForm(forms.Form):
    service_areas = forms.MultipleChoiceField(**AREA_FIELD_KWARGS)
    public_profile = forms.CharField(label=_("公开简介"), widget=forms.Textarea(attrs={"rows": 4}), required=False)


class ContactForm(forms.Form):
    name = forms.CharField(label=_("姓名"), max_length=100)
    role = forms.CharField(label=_("职务"), max_length=100, required=False)
    phone = forms.CharField(label=_("电话"), max_length=30, required=False)
    email = forms.EmailField(label=_("邮箱"), required=False)


class NoteForm(forms.Form):
    body = forms.CharField(label=_("备注"), widget=forms.Textarea(attrs={"rows": 3}))


class ImportForm(forms.Form):
    file = forms.FileField(label=_("文件（.xlsx 或 .csv）"))
    update_existing = forms.BooleanField(
        label=_("更新已有伙伴的信息"),
        required=False,
        initial=True,
        help_text=_("不勾选时，已是本枢纽伙伴的行会被拒绝。"),
    )


class DocumentReviewForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("审核结果"),
        choices=[(DocumentStatus.VERIFIED, _("通过")), (DocumentStatus.REJECTED, _("不通过"))],
    )
    note = forms.CharField(label=_("审核意见"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ApplyForm(forms.Form):
    organisation = forms.ModelChoiceField(label=_("组织"), queryset=Organisation.objects.none())
    service_areas = forms.MultipleChoiceField(**AREA_FIELD_KWARGS)
    public_profile = forms.CharField(
        label=_("公开简介"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=_("会显示在本枢纽的公开伙伴名录上。"),
    )

    def __init__(self, *args: Any, organisations: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if organisations is not None:
            self.fields["organisation"].queryset = organisations  # type: ignore[attr-defined]


NEW_ORGANISATION = "new"


class JoinForm(forms.Form):
    """Accepting an invitation: an account if needed, then the organisation (picked or registered)."""

    name = forms.CharField(label=_("您的姓名"), max_length=100)
    password = forms.CharField(label=_("设置密码"), widget=forms.PasswordInput, help_text=_("至少 10 位，不能太常见。"))
    organisation = forms.ChoiceField(label=_("代表的组织"), required=False)
    org_name = forms.CharField(label=_("组织名称"), max_length=200, required=False)
    org_kind = forms.ChoiceField(label=_("组织类型"), choices=[("", "—"), *OrganisationKind.choices], required=False)
    org_credit_code = forms.CharField(
        label=_("统一社会信用代码"), max_length=30, required=False, help_text=_("18 位；志愿服务队可不填。")
    )
    org_region_code = forms.CharField(
        label=_("所在地区代码"), max_length=6, required=False, help_text=_("GB/T 2260 六位代码，如 510104。")
    )
    service_areas = forms.MultipleChoiceField(**AREA_FIELD_KWARGS)
    public_profile = forms.CharField(label=_("公开简介"), widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(
        self,
        *args: Any,
        needs_account: bool,
        organisations: list[Organisation],
        fixed_organisation: Organisation | None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        if not needs_account:
            del self.fields["name"]
            del self.fields["password"]
        if fixed_organisation is not None:
            for name in ("organisation", "org_name", "org_kind", "org_credit_code", "org_region_code"):
                del self.fields[name]
        else:
            choices = [(str(o.pk), o.name) for o in organisations] + [(NEW_ORGANISATION, _("登记新组织"))]
            field = self.fields["organisation"]
            field.choices = choices  # type: ignore[attr-defined]
            field.initial = choices[0][0]
            if len(choices) == 1:
                field.widget = forms.HiddenInput()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        picking_new = "organisation" in self.fields and data.get("organisation") in ("", NEW_ORGANISATION)
        if picking_new and not (data.get("org_name") or "").strip():
            self.add_error("org_name", _("请填写组织名称。"))
        return data

    def new_organisation(self) -> dict[str, Any] | None:
        data = self.cleaned_data
        if "organisation" not in self.fields or data.get("organisation") not in ("", NEW_ORGANISATION):
            return None
        return {
            "name": data["org_name"],
            "kind": data["org_kind"],
            "credit_code": data["org_credit_code"],
            "region_code": data["org_region_code"],
        }

    def organisation_id(self) -> int | None:
        value = self.cleaned_data.get("organisation")
        return int(value) if value and value != NEW_ORGANISATION else None
