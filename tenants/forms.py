from django import forms
from django.utils.translation import gettext_lazy as _

from tenants.models import HubKind, HubStatus


class HubProvisionForm(forms.Form):
    slug = forms.SlugField(label=_("标识"), max_length=30, help_text=_("用作网址：<标识>.平台域名，如 sichuan。"))
    name_zh = forms.CharField(label=_("中文名称"), max_length=200)
    name_en = forms.CharField(label=_("英文名称"), max_length=200, required=False)
    kind = forms.ChoiceField(label=_("类型"), choices=HubKind.choices)
    region_code = forms.CharField(label=_("行政区划代码"), max_length=6, help_text=_("GB/T 2260，如 510000。"))
    admin_email = forms.EmailField(label=_("首位管理员邮箱"))


class HubStatusForm(forms.Form):
    status = forms.ChoiceField(
        label=_("状态"), choices=[c for c in HubStatus.choices if c[0] != HubStatus.PROVISIONING]
    )
    reason = forms.CharField(label=_("说明"), max_length=500, required=False)
