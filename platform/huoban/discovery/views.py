"""The public discovery page (no sign-in) and a signed-in person's saved searches and recommendations."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_ratelimit.decorators import ratelimit

from huoban.discovery import matching
from huoban.discovery.forms import DiscoverForm, InterestsForm, SaveSearchForm
from huoban.discovery.models import DiscoveryInterest, EntryKind, SavedSearch, ServiceArea
from huoban.discovery.params import SearchParams, search_params_from_dict, web_query
from huoban.discovery.selectors import (
    MATCH_PARTIAL,
    MATCH_SIMILAR,
    FacetValue,
    SearchResult,
    discovery_interests_for,
    discovery_recommend,
    discovery_search_params,
)
from huoban.errors import ApplicationError
from huoban.identity.models import User
from huoban.regions import region_label
from huoban.web.forms import form_apply_error

PAGE_SIZE = 20
# ApplicationError fields of the search service → the page's form fields
_FORM_FIELDS = {"query": "q", "kinds": "kind", "service_areas": "area", "hub_ids": "hub"}


def _toggle(values: tuple[Any, ...], value: Any) -> tuple[Any, ...]:
    return tuple(v for v in values if v != value) if value in values else (*values, value)


def _facet_url(params: SearchParams, facet: str, value: FacetValue) -> str:
    if facet == "kind":
        changed = params.with_changes(kinds=_toggle(params.kinds, value.value))
    elif facet == "province":
        changed = params.with_changes(region="" if value.selected else value.value)
    elif facet == "service_area":
        changed = params.with_changes(service_areas=_toggle(params.service_areas, value.value))
    else:
        changed = params.with_changes(hub_ids=_toggle(params.hub_ids, int(value.value)))
    return "?" + web_query(changed)


def _facet_groups(result: SearchResult) -> list[dict[str, Any]]:
    titles = {"kind": _("类型"), "province": _("省份"), "service_area": _("服务领域"), "hub": _("枢纽")}
    groups = []
    for key, title in titles.items():
        values = [{"facet": f, "url": _facet_url(result.params, key, f)} for f in (result.facets or {}).get(key, [])]
        if values:
            groups.append({"key": key, "title": title, "values": values})
    return groups


def describe(params: SearchParams) -> str:
    """A saved search in words: 留守儿童 · 项目征集 · 四川省 · 儿童、教育 · 1,000–50,000 元."""
    parts: list[str] = []
    if params.query:
        parts.append(f"“{params.query}”")
    parts += [str(EntryKind(k).label) for k in params.kinds]
    if params.region:
        parts.append(region_label(params.region))
    if params.service_areas:
        parts.append(_("、").join(str(ServiceArea(a).label) for a in params.service_areas))
    if params.amount_min is not None or params.amount_max is not None:
        low = f"{params.amount_min // 100:,}" if params.amount_min is not None else "0"
        high = f"{params.amount_max // 100:,}" if params.amount_max is not None else "∞"
        parts.append(_("%(low)s–%(high)s 元") % {"low": low, "high": high})
    if params.deadline_before:
        parts.append(_("%(date)s 前截止") % {"date": params.deadline_before.isoformat()})
    if params.hub_ids:
        parts.append(_("%(n)d 个枢纽") % {"n": len(params.hub_ids)})
    return " · ".join(parts) or _("全部")


def _discover_rate(group: str, request: HttpRequest) -> str:
    return str(getattr(settings, "HUOBAN_DISCOVER_RATE", "120/m"))


@ratelimit(key="ip", rate=_discover_rate, block=True)
def discover_view(request: HttpRequest) -> HttpResponse:
    """Every hub's open calls, projects seeking funds and partners offering help, in one search."""
    form = DiscoverForm(request.GET)
    params = SearchParams()
    result: SearchResult | None = None
    cursor = ""
    if form.is_valid():
        cursor = form.cleaned_data["cursor"]
        try:
            params = form.params()
            result = discovery_search_params(params=params, cursor=cursor or None, limit=PAGE_SIZE)
        except ApplicationError as exc:
            field = exc.extra.get("field", "")
            exc.extra["field"] = _FORM_FIELDS.get(field, field)
            form_apply_error(form, exc)
    query = web_query(params)
    context = {
        "form": form,
        "result": result,
        "params": params,
        "query": query,
        "next_url": f"?{query}&cursor={result.next_cursor}" if result and result.next_cursor else "",
        "facet_groups": _facet_groups(result) if result and result.facets else [],
        "clear_url": "?" + web_query(SearchParams(query=params.query, sort=params.sort)),
        "fuzzy": result is not None and result.match in (MATCH_SIMILAR, MATCH_PARTIAL),
        "login_next_url": f"{settings.HUOBAN_SITE_URL}/accounts/login/?" + urlencode({"next": request.get_full_path()}),
        "save_form": SaveSearchForm(initial={"name": params.query or describe(params)[:100], "search": query}),
    }
    if getattr(request, "htmx", False) and cursor:
        return render(request, "discovery/_hits.html", context)
    return render(request, "discovery/discover.html", context)


def _saved_rows(user: User) -> list[dict[str, Any]]:
    rows = []
    for saved in SavedSearch.objects.filter(user=user):
        try:
            params = search_params_from_dict(saved.params)
        except ApplicationError:  # e.g. a region code since abolished
            rows.append({"saved": saved, "description": _("条件已失效"), "url": ""})
            continue
        rows.append({"saved": saved, "description": describe(params), "url": "/discover/?" + web_query(params)})
    return rows


@login_required
def saved_view(request: HttpRequest) -> HttpResponse:
    """GET: saved searches, interests and recommendations. POST: save the search the page was showing."""
    user: User = request.user  # type: ignore[assignment]
    if request.method == "POST":
        form = SaveSearchForm(request.POST)
        search = request.POST.get("search", "")
        back = reverse("discovery:discover") + (f"?{search}" if search else "")
        if not form.is_valid():
            messages.error(request, _("请为这个搜索命名。"))
            return redirect(back)
        search_form = DiscoverForm(QueryDict(form.cleaned_data["search"]))
        try:
            if not search_form.is_valid():
                raise ApplicationError(_("搜索条件有误，请重新搜索后再保存。"), code="invalid_search")
            saved = matching.saved_search_create(
                user=user,
                name=form.cleaned_data["name"],
                params=search_form.params(),
                email_digest=form.cleaned_data["email_digest"],
            )
        except ApplicationError as exc:
            messages.error(request, str(exc.message))
            return redirect(back)
        messages.success(request, _("已保存搜索“%(name)s”。") % {"name": saved.name})
        return redirect("discovery:saved")
    interest = DiscoveryInterest.objects.filter(user=user).first()
    current = discovery_interests_for(user=user)
    interests_form = InterestsForm(
        initial={
            "service_areas": current.service_areas,
            "region_codes": " ".join(current.region_codes),
            "kinds": current.kinds,
            "amount_min": current.amount_min // 100 if current.amount_min is not None else None,
            "amount_max": current.amount_max // 100 if current.amount_max is not None else None,
        }
    )
    context = {
        "rows": _saved_rows(user),
        "interests_form": interests_form,
        "interests_set": interest is not None,
        "recommendations": discovery_recommend(user=user, limit=10),
    }
    return render(request, "discovery/saved.html", context)


@login_required
@require_POST
def saved_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    saved = get_object_or_404(SavedSearch, pk=pk, user_id=request.user.pk)
    matching.saved_search_delete(saved=saved)
    messages.success(request, _("已删除搜索“%(name)s”。") % {"name": saved.name})
    return redirect("discovery:saved")


@login_required
@require_POST
def saved_digest_view(request: HttpRequest, pk: int) -> HttpResponse:
    saved = get_object_or_404(SavedSearch, pk=pk, user_id=request.user.pk)
    matching.saved_search_update(saved=saved, email_digest=request.POST.get("email_digest") == "1")
    messages.success(request, _("邮件推送已开启。") if saved.email_digest else _("邮件推送已关闭。"))
    return redirect("discovery:saved")


@login_required
@require_POST
def interests_view(request: HttpRequest) -> HttpResponse:
    form = InterestsForm(request.POST)
    if form.is_valid():
        try:
            matching.interests_set(user=request.user, **form.service_kwargs())  # type: ignore[arg-type]
        except ApplicationError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("关注领域已保存，推荐已更新。"))
    else:
        messages.error(request, _("请检查填写的内容。"))
    return redirect(reverse("discovery:saved") + "#interests")
