from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from huoban.identity.models import OrganisationKind


class LoginForm(forms.Form):
    login = forms.CharField(label=_("邮箱或手机号"), max_length=254)
    password = forms.CharField(label=_("密码"), widget=forms.PasswordInput)


class SignupForm(forms.Form):
    name = forms.CharField(label=_("姓名"), max_length=100)
    email = forms.EmailField(label=_("邮箱"), required=False)
    mobile = forms.CharField(label=_("手机号"), max_length=20, required=False)
    password = forms.CharField(label=_("密码"), widget=forms.PasswordInput, help_text=_("至少 10 位，不能太常见。"))


class MobileResetRequestForm(forms.Form):
    mobile = forms.CharField(label=_("手机号"), max_length=20)


class MobileResetForm(forms.Form):
    code = forms.CharField(label=_("短信验证码"), max_length=6)
    password = forms.CharField(
        label=_("新密码"), widget=forms.PasswordInput, strip=False, help_text=_("至少 10 位，不能太常见。")
    )


class ProfileForm(forms.Form):
    name = forms.CharField(label=_("姓名"), max_length=100)
    preferred_language = forms.ChoiceField(
        label=_("语言"),
        choices=[("", _("默认（简体中文）")), ("zh-hans", "简体中文"), ("en", "English")],
        required=False,
    )


class EraseAccountForm(forms.Form):
    password = forms.CharField(label=_("当前密码"), widget=forms.PasswordInput, strip=False)
    confirm = forms.CharField(label=_("请输入“注销”以确认"), max_length=10)

    def clean_confirm(self) -> str:
        value = self.cleaned_data["confirm"].strip()
        if value not in ("注销", "erase"):
            raise forms.ValidationError(_("请输入“注销”以确认。"))
        return value


class OrganisationForm(forms.Form):
    name = forms.CharField(label=_("名称"), max_length=200)
    name_en = forms.CharField(label=_("英文名称"), max_length=200, required=False)
    kind = forms.ChoiceField(label=_("类型"), choices=OrganisationKind.choices)
    credit_code = forms.CharField(
        label=_("统一社会信用代码"), max_length=30, required=False, help_text=_("18 位；志愿服务队可不填。")
    )
    region_code = forms.CharField(label=_("所在地区代码"), max_length=6, help_text=_("GB/T 2260 六位代码，如 510104。"))
    description = forms.CharField(label=_("简介"), widget=forms.Textarea(attrs={"rows": 4}), required=False)
    website = forms.URLField(label=_("网站"), required=False, assume_scheme="https")
    contact_email = forms.EmailField(label=_("联系邮箱"), required=False)
    contact_phone = forms.CharField(label=_("联系电话"), max_length=30, required=False)


class OrganisationEditForm(OrganisationForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["kind"]
        del self.fields["credit_code"]


class TokenForm(forms.Form):
    name = forms.CharField(label=_("令牌名称"), max_length=100)


class OtpForm(forms.Form):
    code = forms.CharField(
        label=_("验证码"),
        max_length=8,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
