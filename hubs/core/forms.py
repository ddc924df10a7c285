from django import forms
from django.utils.translation import gettext_lazy as _

from tenants.models import HubRole


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("邮箱"))
    roles = forms.MultipleChoiceField(label=_("角色"), choices=HubRole.choices, widget=forms.CheckboxSelectMultiple)


class RolesForm(forms.Form):
    roles = forms.MultipleChoiceField(label=_("角色"), choices=HubRole.choices, widget=forms.CheckboxSelectMultiple)


class AcceptForm(forms.Form):
    name = forms.CharField(label=_("姓名"), max_length=100)
    password = forms.CharField(label=_("设置密码"), widget=forms.PasswordInput, help_text=_("至少 10 位，不能太常见。"))
