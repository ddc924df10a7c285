"""Search parameters: one validated shape for the page, the API, saved searches and digests; and cursors."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, replace
from datetime import date
from typing import Any
from urllib.parse import urlencode

from django.core import signing
from django.utils.translation import gettext as _

from huoban.discovery.models import EntryKind, ServiceArea
from huoban.errors import ApplicationError
from huoban.regions import region_get

QUERY_MAX = 200
SORTS = ("relevance", "deadline")
CURSOR_SALT = "huoban.discovery.cursor"


def _error(message: str, field: str) -> ApplicationError:
    return ApplicationError(message, code="invalid_search", extra={"field": field})


@dataclass(frozen=True)
class SearchParams:
    query: str = ""
    kinds: tuple[str, ...] = ()
    region: str = ""
    service_areas: tuple[str, ...] = ()
    amount_min: int | None = None  # fen
    amount_max: int | None = None  # fen
    deadline_before: date | None = None
    hub_ids: tuple[int, ...] = ()
    sort: str = "relevance"

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe, defaults left out (what a saved search stores)."""
        out: dict[str, Any] = {}
        for key, value in asdict(self).items():
            if value in ((), "", None) or (key == "sort" and value == "relevance"):
                continue
            out[key] = (
                value.isoformat() if isinstance(value, date) else list(value) if isinstance(value, tuple) else value
            )
        return out

    def fingerprint(self) -> str:
        """Binds a cursor to the search it came from (sort included)."""
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()[:16]

    def with_changes(self, **changes: Any) -> SearchParams:
        return replace(self, **changes)

    @property
    def has_filters(self) -> bool:
        return bool(set(self.to_dict()) - {"query", "sort"})


def search_params(
    *,
    query: str | None = "",
    kinds: Any = None,
    region: str | None = "",
    service_areas: Any = None,
    amount_min: Any = None,
    amount_max: Any = None,
    deadline_before: Any = None,
    hub_ids: Any = None,
    sort: str | None = "relevance",
) -> SearchParams:
    """Check and normalise search parameters; raises ApplicationError(code="invalid_search") naming the field."""
    query = " ".join((query or "").split())
    if len(query) > QUERY_MAX:
        raise _error(_("搜索词太长（最多 %(n)d 个字符）。") % {"n": QUERY_MAX}, "query")
    kinds_t = tuple(sorted(set(kinds or ())))
    if any(k not in EntryKind.values for k in kinds_t):
        raise _error(_("未知的条目类型。"), "kinds")
    region = (region or "").strip()
    if region and region_get(region) is None:
        raise _error(_("未知的地区代码：%(code)s。") % {"code": region}, "region")
    areas_t = tuple(sorted(set(service_areas or ())))
    if any(a not in ServiceArea.values for a in areas_t):
        raise _error(_("未知的服务领域。"), "service_areas")
    amounts: dict[str, int | None] = {}
    for name, value in (("amount_min", amount_min), ("amount_max", amount_max)):
        if value in (None, ""):
            amounts[name] = None
            continue
        try:
            number = int(value)
        except (TypeError, ValueError):
            number = -1
        if isinstance(value, (bool, float)) or number < 0:
            raise _error(_("金额应为以分计的非负整数。"), name)
        amounts[name] = number
    low, high = amounts["amount_min"], amounts["amount_max"]
    if low is not None and high is not None and low > high:
        raise _error(_("最低金额不能高于最高金额。"), "amount_min")
    deadline: date | None = None
    if isinstance(deadline_before, date):
        deadline = deadline_before
    elif deadline_before:
        try:
            deadline = date.fromisoformat(str(deadline_before))
        except ValueError as exc:
            raise _error(_("日期格式应为 YYYY-MM-DD。"), "deadline_before") from exc
    try:
        hubs_t = tuple(sorted({int(h) for h in (hub_ids or ())}))
    except (TypeError, ValueError) as exc:
        raise _error(_("枢纽编号不正确。"), "hub_ids") from exc
    sort = sort or "relevance"
    if sort not in SORTS:
        raise _error(_("排序方式应为相关度或截止日期。"), "sort")
    return SearchParams(
        query=query,
        kinds=kinds_t,
        region=region,
        service_areas=areas_t,
        amount_min=amounts["amount_min"],
        amount_max=amounts["amount_max"],
        deadline_before=deadline,
        hub_ids=hubs_t,
        sort=sort,
    )


def search_params_from_dict(data: dict[str, Any]) -> SearchParams:
    """The parameters a saved search stored (unknown keys ignored: the stored shape may grow)."""
    allowed = {"query", "kinds", "region", "service_areas", "amount_min", "amount_max", "deadline_before", "hub_ids"}
    return search_params(**{k: v for k, v in data.items() if k in allowed}, sort=data.get("sort") or "relevance")


def web_query(params: SearchParams) -> str:
    """The query string of the public discovery page for ``params`` (short names; amounts in yuan there)."""
    data = params.to_dict()
    items: list[tuple[str, str]] = []
    if data.get("query"):
        items.append(("q", data["query"]))
    items += [("kind", k) for k in data.get("kinds", [])]
    if data.get("region"):
        items.append(("region", data["region"]))
    items += [("area", a) for a in data.get("service_areas", [])]
    for key in ("amount_min", "amount_max"):
        if data.get(key) is not None:
            items.append((key, str(data[key] // 100)))
    if data.get("deadline_before"):
        items.append(("deadline_before", data["deadline_before"]))
    items += [("hub", str(h)) for h in data.get("hub_ids", [])]
    if data.get("sort"):
        items.append(("sort", data["sort"]))
    return urlencode(items)


# --- cursors ------------------------------------------------------------------------------------------------


def cursor_encode(*, params: SearchParams, mode: str, key: list[Any]) -> str:
    """An opaque, signed cursor: the sort key of the last hit shown, bound to this search."""
    return signing.dumps({"f": params.fingerprint(), "m": mode, "k": key}, salt=CURSOR_SALT, compress=True)


def cursor_decode(*, params: SearchParams, cursor: str) -> tuple[str, list[Any]]:
    try:
        data = signing.loads(cursor, salt=CURSOR_SALT)
    except signing.BadSignature as exc:
        raise ApplicationError(
            _("分页参数无效，请重新搜索。"), code="invalid_cursor", extra={"field": "cursor"}
        ) from exc
    if not isinstance(data, dict) or data.get("f") != params.fingerprint() or not isinstance(data.get("k"), list):
        raise ApplicationError(_("分页参数无效，请重新搜索。"), code="invalid_cursor", extra={"field": "cursor"})
    return str(data.get("m")), data["k"]
