"""Validation of the identifiers people type: mainland mobile numbers and unified social credit codes."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum.cn import uscc
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength

_MOBILE = re.compile(r"^1[3-9]\d{9}$")


def normalise_mobile(value: str) -> str:
    """Strip spaces, dashes and a +86/0086 prefix; return the 11-digit number (not yet validated)."""
    digits = re.sub(r"[\s\-()]", "", value or "")
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix):
            digits = digits[len(prefix) :]
    return digits


def validate_mobile(value: str) -> None:
    if not _MOBILE.match(value or ""):
        raise ValidationError(_("请输入有效的中国大陆手机号（11 位，以 1 开头）。"), code="invalid_mobile")


def normalise_credit_code(value: str) -> str:
    return uscc.compact(value or "")


def validate_credit_code(value: str) -> None:
    """Unified social credit code (统一社会信用代码, GB 32100-2015): 18 characters with a check character."""
    try:
        uscc.validate(value)
    except InvalidLength as exc:
        raise ValidationError(_("统一社会信用代码应为 18 位。"), code="invalid_credit_code") from exc
    except InvalidChecksum as exc:
        raise ValidationError(
            _("统一社会信用代码校验位不正确，请核对后重新输入。"), code="invalid_credit_code"
        ) from exc
    except (InvalidFormat, InvalidComponent) as exc:
        raise ValidationError(
            _("统一社会信用代码格式不正确（只能包含数字和大写字母，不含 I、O、Z、S、V）。"),
            code="invalid_credit_code",
        ) from exc
