"""The application form a hub designs for a call: typed fields, required or optional, with limits.

A field is a small dict kept on ``Call.form_fields``::

    {"key": "beneficiaries", "type": "number", "label": "受益人数", "label_en": "Beneficiaries",
     "required": true, "min": 1, "max": 100000, "help": ""}

Types: text (``max`` characters), number (integer, ``min``/``max``), money (yuan in, fen kept, ``min``/``max`` in fen),
choice (``choices``: a list of values), date (ISO, ``min``/``max`` as ISO dates), file (a stored file id of this hub),
budget (a table of item + amount rows, ``max`` rows; its total may not pass the call's per-project cap).
``fields_check`` validates a design; ``answers_check`` validates an applicant's answers against it.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from huoban.errors import ApplicationError

TYPES: dict[str, Any] = {
    "text": gettext_lazy("文本"),
    "number": gettext_lazy("数字"),
    "money": gettext_lazy("金额（元）"),
    "choice": gettext_lazy("单选"),
    "date": gettext_lazy("日期"),
    "file": gettext_lazy("附件"),
    "budget": gettext_lazy("预算表"),
}
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
TEXT_MAX_DEFAULT = 5000
BUDGET_ROWS_DEFAULT = 50
MONEY_MAX = 10**13  # fen; far above any call's budget


def money_parse(value: Any) -> int:
    """Yuan (a string or number, at most two decimals) to fen; ValueError when it is not an amount."""
    if isinstance(value, bool):
        raise ValueError(value)
    text = str(value).strip().replace(",", "").replace("，", "").replace("¥", "").replace("￥", "")
    try:
        amount = Decimal(text)
    except InvalidOperation as exc:
        raise ValueError(value) from exc
    if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")) or amount < 0:
        raise ValueError(value)
    fen = int(amount * 100)
    if fen > MONEY_MAX:
        raise ValueError(value)
    return fen


def yuan(fen: int | None) -> str:
    """Fen shown as yuan with two decimals and thousands separators: 123456 → "1,234.56"."""
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(int(fen)), 100)
    return f"{sign}{whole:,}.{cents:02d}"


def _design_error(message: str, index: int) -> ApplicationError:
    return ApplicationError(message, code="invalid_form_field", extra={"field": "form_fields", "index": index})


def fields_check(fields: Any) -> list[dict[str, Any]]:
    """A form design, normalised, or a translated error naming the first bad field."""
    if not isinstance(fields, list):
        raise _design_error(_("申请表字段应为列表。"), 0)
    seen: set[str] = set()
    out: list[dict[str, Any]] = []
    for index, raw in enumerate(fields):
        if not isinstance(raw, dict):
            raise _design_error(_("第 %(n)s 个字段格式不正确。") % {"n": index + 1}, index)
        key = str(raw.get("key", "")).strip()
        if not _KEY.match(key):
            raise _design_error(
                _("第 %(n)s 个字段的标识应以小写字母开头，只含小写字母、数字和下划线。") % {"n": index + 1}, index
            )
        if key in seen:
            raise _design_error(_("字段标识重复：%(key)s。") % {"key": key}, index)
        seen.add(key)
        kind = raw.get("type")
        if kind not in TYPES:
            raise _design_error(_("字段“%(key)s”的类型未知。") % {"key": key}, index)
        label = str(raw.get("label", "")).strip()
        if not label:
            raise _design_error(_("请填写字段“%(key)s”的名称。") % {"key": key}, index)
        field: dict[str, Any] = {
            "key": key,
            "type": kind,
            "label": label[:200],
            "label_en": str(raw.get("label_en", "")).strip()[:200],
            "required": bool(raw.get("required", False)),
            "help": str(raw.get("help", "")).strip()[:500],
        }
        for bound in ("min", "max"):
            value = raw.get(bound)
            if value in (None, ""):
                continue
            if kind == "date":
                try:
                    field[bound] = date.fromisoformat(str(value)).isoformat()
                except ValueError as exc:
                    raise _design_error(_("字段“%(key)s”的日期范围不正确。") % {"key": key}, index) from exc
            else:
                try:
                    field[bound] = int(value)
                except (TypeError, ValueError) as exc:
                    raise _design_error(_("字段“%(key)s”的范围应为整数。") % {"key": key}, index) from exc
        if "min" in field and "max" in field and field["min"] > field["max"]:
            raise _design_error(_("字段“%(key)s”的下限大于上限。") % {"key": key}, index)
        if kind == "choice":
            choices = [str(c).strip() for c in raw.get("choices") or [] if str(c).strip()]
            if len(choices) < 2:
                raise _design_error(_("单选字段“%(key)s”至少需要两个选项。") % {"key": key}, index)
            field["choices"] = choices
        out.append(field)
    return out


def label_of(field: dict[str, Any], language: str | None) -> str:
    if (language or "").startswith("en") and field.get("label_en"):
        return str(field["label_en"])
    return str(field["label"])


class _Invalid(Exception):
    pass


def _check_text(field: dict[str, Any], value: Any) -> str:
    text = str(value).strip()
    limit = field.get("max") or TEXT_MAX_DEFAULT
    if len(text) > limit:
        raise _Invalid(_("“%(label)s”最多 %(max)s 个字。") % {"label": field["label"], "max": limit})
    if field.get("min") and len(text) < field["min"]:
        raise _Invalid(_("“%(label)s”至少 %(min)s 个字。") % {"label": field["label"], "min": field["min"]})
    return text


def _bounds(field: dict[str, Any], value: Any, shown: str) -> None:
    if "min" in field and value < field["min"]:
        raise _Invalid(
            _("“%(label)s”不能小于 %(min)s。") % {"label": field["label"], "min": shown.format(field["min"])}
        )
    if "max" in field and value > field["max"]:
        raise _Invalid(
            _("“%(label)s”不能大于 %(max)s。") % {"label": field["label"], "max": shown.format(field["max"])}
        )


def _check_number(field: dict[str, Any], value: Any) -> int:
    try:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError(value)
        number = int(str(value).strip())
    except (TypeError, ValueError) as exc:
        raise _Invalid(_("“%(label)s”应为整数。") % {"label": field["label"]}) from exc
    _bounds(field, number, "{}")
    return number


def _check_money(field: dict[str, Any], value: Any) -> int:
    try:
        fen = value if isinstance(value, int) and not isinstance(value, bool) else money_parse(value)
    except ValueError as exc:
        raise _Invalid(_("“%(label)s”应为金额（元，最多两位小数）。") % {"label": field["label"]}) from exc
    if fen < 0:
        raise _Invalid(_("“%(label)s”应为金额（元，最多两位小数）。") % {"label": field["label"]})
    if "min" in field and fen < field["min"]:
        raise _Invalid(_("“%(label)s”不能小于 ¥%(min)s。") % {"label": field["label"], "min": yuan(field["min"])})
    if "max" in field and fen > field["max"]:
        raise _Invalid(_("“%(label)s”不能大于 ¥%(max)s。") % {"label": field["label"], "max": yuan(field["max"])})
    return fen


def _check_choice(field: dict[str, Any], value: Any) -> str:
    text = str(value).strip()
    if text not in field.get("choices", []):
        raise _Invalid(_("“%(label)s”请从选项中选择。") % {"label": field["label"]})
    return text


def _check_date(field: dict[str, Any], value: Any) -> str:
    try:
        day = date.fromisoformat(str(value).strip())
    except ValueError as exc:
        raise _Invalid(_("“%(label)s”应为日期（如 2026-03-01）。") % {"label": field["label"]}) from exc
    _bounds(field, day.isoformat(), "{}")
    return day.isoformat()


def _check_file(field: dict[str, Any], value: Any, hub_id: int | None) -> dict[str, str]:
    from huoban.storage.selectors import file_get

    file_id = value.get("id") if isinstance(value, dict) else value
    stored: Any = None
    try:
        stored = file_get(file_id=str(file_id))
    except (ValueError, TypeError):
        stored = None
    if stored is None or (hub_id is not None and stored.hub_id != hub_id):
        raise _Invalid(_("“%(label)s”的附件无效，请重新上传。") % {"label": field["label"]})
    return {"id": str(stored.pk), "name": stored.original_name}


def _check_budget(field: dict[str, Any], value: Any, cap: int | None) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    if isinstance(value, str):  # one line per row: "item, amount in yuan"
        raw_rows: list[Any] = []
        for line in value.splitlines():
            if not line.strip():
                continue
            item, sep, cell = line.replace("，", ",").rpartition(",")
            if not sep:
                raise _Invalid(_("“%(label)s”每行应为“项目, 金额”。") % {"label": field["label"]})
            try:
                raw_rows.append({"item": item, "amount": money_parse(cell)})
            except ValueError as exc:
                raise _Invalid(
                    _("“%(label)s”中“%(item)s”的金额不正确。") % {"label": field["label"], "item": item.strip()}
                ) from exc
    elif isinstance(value, list):
        raw_rows = value
    else:
        raise _Invalid(_("“%(label)s”格式不正确。") % {"label": field["label"]})
    for row in raw_rows:
        if not isinstance(row, dict):
            raise _Invalid(_("“%(label)s”格式不正确。") % {"label": field["label"]})
        item = str(row.get("item", "")).strip()[:200]
        amount: Any = row.get("amount")
        if not item or not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
            raise _Invalid(_("“%(label)s”每行需要项目名称和大于零的金额。") % {"label": field["label"]})
        rows.append({"item": item, "amount": amount})
    limit = field.get("max") or BUDGET_ROWS_DEFAULT
    if len(rows) > limit:
        raise _Invalid(_("“%(label)s”最多 %(max)s 行。") % {"label": field["label"], "max": limit})
    total = sum(r["amount"] for r in rows)
    if cap is not None and total > cap:
        raise _Invalid(
            _("“%(label)s”合计 ¥%(total)s，超过单个项目上限 ¥%(cap)s。")
            % {"label": field["label"], "total": yuan(total), "cap": yuan(cap)}
        )
    return rows


def _empty(value: Any) -> bool:
    return value is None or (
        isinstance(value, (str, list, dict)) and not (value.strip() if isinstance(value, str) else value)
    )


def answers_check(
    fields: list[dict[str, Any]],
    answers: dict[str, Any],
    *,
    partial: bool,
    hub_id: int | None = None,
    cap: int | None = None,
) -> dict[str, Any]:
    """Clean ``answers`` for ``fields``. ``partial`` (a draft being saved) skips the required check only.

    Unknown keys are dropped. Raises ApplicationError(code="invalid_answers") naming the first bad field, with every
    field's message in ``extra["errors"]``; nothing is cleaned half-way.
    """
    cleaned: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field in fields:
        key = field["key"]
        value = answers.get(key)
        if _empty(value):
            if field.get("required") and not partial:
                errors[key] = _("请填写“%(label)s”。") % {"label": field["label"]}
            continue
        try:
            kind = field["type"]
            if kind == "text":
                cleaned[key] = _check_text(field, value)
            elif kind == "number":
                cleaned[key] = _check_number(field, value)
            elif kind == "money":
                cleaned[key] = _check_money(field, value)
            elif kind == "choice":
                cleaned[key] = _check_choice(field, value)
            elif kind == "date":
                cleaned[key] = _check_date(field, value)
            elif kind == "file":
                cleaned[key] = _check_file(field, value, hub_id)
            elif kind == "budget":
                cleaned[key] = _check_budget(field, value, cap)
        except _Invalid as exc:
            errors[key] = str(exc)
    if errors:
        first = next(iter(errors))
        raise ApplicationError(errors[first], code="invalid_answers", extra={"field": first, "errors": errors})
    return cleaned
