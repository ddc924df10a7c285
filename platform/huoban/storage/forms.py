from __future__ import annotations

from typing import Any

from django import forms
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from huoban.storage.models import DocumentKind, DocumentStatus


class DocumentUploadForm(forms.Form):
    kind = forms.ChoiceField(label=_("文件类型"), choices=DocumentKind.choices)
    year = forms.IntegerField(
        label=_("年度"),
        required=False,
        min_value=1949,
        help_text=_("年度报告和审计报告请填写所属年度。"),
        # a text box with the numeric keypad: styled like the other fields and easy on a phone
        widget=forms.TextInput(attrs={"inputmode": "numeric", "pattern": "[0-9]*", "maxlength": "4"}),
    )
    file = forms.FileField(
        label=_("文件"),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.png,.jpg,.jpeg,.webp,.docx,.xlsx,.csv,.txt"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from huoban.storage.services import max_upload_bytes

        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = gettext("PDF、图片（PNG/JPEG/WebP）、Word 或 Excel，不超过 %(limit)s。") % {
            "limit": filesizeformat(max_upload_bytes())
        }


class DocumentReviewForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("审核结果"),
        choices=[(DocumentStatus.VERIFIED, _("通过")), (DocumentStatus.REJECTED, _("不通过"))],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("审核意见"), required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text=_("不通过时必填。")
    )
