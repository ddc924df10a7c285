"""Reads on the cross-hub index: search with facets, recommendations.

The index is public data of every hub by design (that is the point of discovery), so these read across hubs;
``hub_ids`` narrows a search to some hubs. Whatever the filters, search only ever shows listed entries: open or
upcoming, not past their deadline, of a hub that is not suspended or archived.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import Any

from django.utils import timezone
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from huoban.db import connection
from huoban.discovery.models import LISTED_STATUSES, DiscoveryEntry, DiscoveryInterest, EntryKind, ServiceArea
from huoban.discovery.params import SearchParams, cursor_decode, cursor_encode, search_params
from huoban.discovery.text import ParsedQuery, highlight, parse_query
from huoban.regions import region_get

LIMIT_MAX = 100
SNIPPET_CHARS = 120
HUB_FACET_MAX = 30

# How the hits were found: every word of the query; titles similar to it (typos); some of its words; no query.
MATCH_FULL_TEXT, MATCH_SIMILAR, MATCH_PARTIAL, MATCH_ALL = "full_text", "similar", "partial", "all"

_T = "discovery_discoveryentry"
# The listed statuses as SQL literals (our own constants), so the planner can match the partial indexes to them.
_LISTED_SQL = "(" + ", ".join(f"'{status}'" for status in LISTED_STATUSES) + ")"
_COLUMNS = ", ".join(
    f"e.{f.column}" for f in DiscoveryEntry._meta.concrete_fields if f.name != "search_vector"
)  # the vector stays in the database: it is large and never shown


@dataclass
class SearchHit:
    entry: DiscoveryEntry
    rank: float
    title_html: SafeString
    snippet_html: SafeString


@dataclass
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool = False


@dataclass
class SearchResult:
    hits: list[SearchHit]
    params: SearchParams
    match: str
    next_cursor: str | None = None
    total: int | None = None  # with the facets: first page only
    facets: dict[str, list[FacetValue]] | None = None
    terms: tuple[str, ...] = ()


@cache
def trigram_available() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        return cursor.fetchone() is not None


# Relevance: ts_rank with the weights title 1.0 (A), summary 0.4 (B), region and service areas 0.2 (C).
# ts_rank_cd (cover density) was measured at 3-5x the cost on broad queries (10,000 matches: ~80 ms against
# ~16 ms on the benchmark corpus) for no visible gain on documents this short (a title and 1,000 characters).
RANK_FUNCTION = "ts_rank"


class _Query:
    """One search as SQL: its FROM and WHERE, the four facet filters kept apart, and named parameters.

    The facet filters (kind, region, service area, hub) become boolean columns of the matching rows instead of
    conditions, so one scan gives both the page (all filters) and each facet's counts under every other filter.
    """

    def __init__(self, params: SearchParams, parsed: ParsedQuery, mode: str, *, today: date):
        self.params = params
        self.mode = mode
        self.values: dict[str, Any] = {"today": today}
        self.sources = [f"{_T} e"]
        self.where = [
            f"e.status IN {_LISTED_SQL}",
            "(e.deadline IS NULL OR e.deadline >= %(today)s)",
            # hidden hubs (suspended, archived): a handful of ids, computed once per query
            "e.hub_id <> ALL (ARRAY(SELECT h.hub_id FROM discovery_discoveryhub h WHERE NOT h.visible))",
        ]
        relevance = params.sort == "relevance"
        if mode in (MATCH_FULL_TEXT, MATCH_PARTIAL):
            self.values["tsq"] = parsed.tsquery if mode == MATCH_FULL_TEXT else parsed.relaxed
            self.sources.append("to_tsquery('simple', %(tsq)s) q")
            self.where.append("e.search_vector @@ q")
            self.rank = f"{RANK_FUNCTION}(e.search_vector, q)" if relevance else "0::real"
        elif mode == MATCH_SIMILAR:
            self.values["qtext"] = parsed.text
            self.where.append("%(qtext)s <%% e.title")  # word_similarity above pg_trgm's threshold, indexed
            self.rank = "word_similarity(%(qtext)s, e.title)" if relevance else "0::real"
        else:
            self.rank = "0::real"
        if params.amount_min is not None:
            self.add("e.amount >= %(amount_min)s", amount_min=params.amount_min)
        if params.amount_max is not None:
            self.add("e.amount <= %(amount_max)s", amount_max=params.amount_max)
        if params.deadline_before is not None:
            self.add("e.deadline <= %(deadline_before)s", deadline_before=params.deadline_before)
        self.facet_conditions = {"kind": "TRUE", "region": "TRUE", "service_area": "TRUE", "hub": "TRUE"}
        if params.kinds:
            self.values["kinds"] = list(params.kinds)
            self.facet_conditions["kind"] = "e.kind = ANY(%(kinds)s)"
        if params.region:
            self.values["region"] = [params.region]
            # the region itself and everything inside it (a province: its cities and districts)
            self.facet_conditions["region"] = "e.region_path @> %(region)s::varchar[]"
        if params.service_areas:
            self.values["areas"] = list(params.service_areas)
            self.facet_conditions["service_area"] = "e.service_areas && %(areas)s::varchar[]"
        if params.hub_ids:
            self.values["hub_ids"] = list(params.hub_ids)
            self.facet_conditions["hub"] = "e.hub_id = ANY(%(hub_ids)s::bigint[])"

    def add(self, condition: str, **values: Any) -> None:
        self.where.append(condition)
        self.values.update(values)

    def order_and_keyset(self, cursor_key: list[Any] | None) -> tuple[str, str]:
        """ORDER BY and the condition for "after the cursor", on columns ``rank``, ``deadline`` and ``id``."""
        if self.params.sort == "deadline":
            order = "deadline ASC NULLS LAST, id ASC"
            if cursor_key is None:
                return order, "TRUE"
            deadline, last_id = cursor_key
            self.values["c_id"] = int(last_id)
            if deadline is None:
                return order, "(deadline IS NULL AND id > %(c_id)s)"
            self.values["c_deadline"] = date.fromisoformat(deadline)
            return order, (
                "(deadline > %(c_deadline)s OR (deadline = %(c_deadline)s AND id > %(c_id)s) OR deadline IS NULL)"
            )
        if cursor_key is None:
            return "rank DESC, id DESC", "TRUE"
        self.values["c_rank"], self.values["c_id"] = float(cursor_key[0]), int(cursor_key[1])
        return "rank DESC, id DESC", "(rank, id) < (%(c_rank)s::real, %(c_id)s)"


# Page and facets from one scan of the matching entries (``m``): the page under every filter, each facet under
# every filter but its own. A facet filter the search has (kind, region, service area, hub) becomes a boolean
# column of ``m`` (``fk``, ``fr``, ``fs``, ``fh``) instead of a condition; one without is left out altogether.
# Only rows that pass every filter can be on the page, so only they are ranked. The four facets are counted in
# one hashed pass over ``m`` (``g``, grouping sets): kinds and service areas as (kind, area bits) pairs, a few
# hundred at most, added up in Python; provinces; hubs, cut in SQL to the ones shown (the largest, and any
# chosen) and named in the same statement.
_FACET_TEMPLATE = """
WITH m AS MATERIALIZED (
    SELECT e.id, e.kind, e.region_path[1] AS province, e.service_area_bits, e.hub_id{columns}
    FROM {sources} WHERE {where}
), g AS MATERIALIZED (
    SELECT grouping(kind, service_area_bits, province, hub_id) AS gs, kind, service_area_bits, province, hub_id,
           count(*){n_kind} AS n_kind, count(*){n_area} AS n_area, count(*){n_province} AS n_province,
           count(*){n_hub} AS n_hub
    FROM m GROUP BY GROUPING SETS ((kind, service_area_bits), (province), (hub_id))
)
SELECT 'page', id, rank, NULL::text, NULL::bigint, NULL::bigint, NULL::text, NULL::text FROM (
    SELECT id, rank FROM m WHERE {on_page} AND {keyset} ORDER BY {order} LIMIT %(limit)s
) page
UNION ALL SELECT 'kind_area', service_area_bits, NULL, kind, n_kind, n_area, NULL, NULL FROM g WHERE gs = 3
UNION ALL SELECT 'province', NULL, NULL, coalesce(province, ''), n_province, NULL, NULL, NULL FROM g
    WHERE gs = 13 AND n_province > 0
UNION ALL SELECT 'hub', h.hub_id, NULL, x.hub_slug, h.n_hub, NULL, x.hub_name, x.hub_name_en FROM (
    SELECT hub_id, n_hub, row_number() OVER (ORDER BY n_hub DESC, hub_id) AS place FROM g WHERE gs = 14 AND n_hub > 0
) h LEFT JOIN LATERAL (
    SELECT hub_slug, hub_name, hub_name_en FROM discovery_discoveryentry
    WHERE hub_id = h.hub_id AND status <> 'withdrawn' LIMIT 1
) x ON TRUE
    WHERE h.place <= %(hub_facet_max)s OR h.hub_id = ANY(%(selected_hubs)s::bigint[])
"""


def _facet_sql(query: _Query, *, keyset: str, order: str) -> str:
    flags = {"kind": "fk", "region": "fr", "service_area": "fs", "hub": "fh"}
    conditions = {flags[name]: c for name, c in query.facet_conditions.items() if c != "TRUE"}

    def under(*names: str) -> str:  # the rows a count or the page is taken from: these filters all passed
        kept = [flags[n] for n in names if flags[n] in conditions]
        return " AND ".join(kept)

    on_page = under("kind", "region", "service_area", "hub")
    rank = f"CASE WHEN {' AND '.join(conditions.values())} THEN {query.rank} END" if conditions else query.rank
    columns = "".join(f", {c} AS {flag}" for flag, c in conditions.items()) + f", {rank} AS rank"
    if query.params.sort == "deadline":
        columns += ", e.deadline"
    counts = {
        "n_kind": under("region", "service_area", "hub"),
        "n_area": under("kind", "region", "hub"),
        "n_province": under("kind", "service_area", "hub"),
        "n_hub": under("kind", "region", "service_area"),
    }
    return _FACET_TEMPLATE.format(
        columns=columns,
        sources=", ".join(query.sources),
        where=" AND ".join(query.where),
        on_page=on_page or "TRUE",
        keyset=keyset,
        order=order,
        **{name: f" FILTER (WHERE {c})" if c else "" for name, c in counts.items()},
    )


_PAGE_ONLY = """
SELECT id, rank, deadline FROM (
    SELECT e.id, e.deadline, {rank} AS rank FROM {sources} WHERE {where}
) s WHERE {keyset} ORDER BY {order} LIMIT %(limit)s
"""

FacetRow = tuple[str, int | None, str | None, int, int | None, str | None, str | None]


def _run(
    query: _Query, *, cursor_key: list[Any] | None, limit: int, with_facets: bool
) -> tuple[list[tuple[int, float]], list[FacetRow] | None]:
    """One scan of the matching entries: the page (ids and ranks, one more than ``limit``) and, with facets,
    the facet rows (see ``_facets``). The page's display columns are read afterwards, by id."""
    order, keyset = query.order_and_keyset(cursor_key)
    values = dict(query.values, limit=limit + 1)
    if with_facets:
        values.update(hub_facet_max=HUB_FACET_MAX, selected_hubs=list(query.params.hub_ids))
        sql = _facet_sql(query, keyset=keyset, order=order)
    else:
        where = " AND ".join(query.where + [c for c in query.facet_conditions.values() if c != "TRUE"])
        fragments = {"rank": query.rank, "sources": ", ".join(query.sources), "keyset": keyset, "order": order}
        sql = _PAGE_ONLY.format(where=where, **fragments)
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        rows = cursor.fetchall()
    if not with_facets:
        return [(int(id_), float(rank)) for id_, rank, _d in rows], None
    page = [(int(id_), float(rank)) for part, id_, rank, *_rest in rows if part == "page"]
    facets = [(part, id_, key, int(n or 0), n2, a, b) for part, id_, _r, key, n, n2, a, b in rows if part != "page"]
    return page, facets


def _facets(params: SearchParams, rows: list[FacetRow]) -> tuple[int, dict[str, list[FacetValue]]]:
    """The number of hits and each facet's values with counts (under every filter but the facet's own, so a
    chosen kind still shows how many there are of the other kinds). Exact counts."""
    facets: dict[str, list[FacetValue]] = {"kind": [], "province": [], "service_area": [], "hub": []}
    kinds = dict.fromkeys(EntryKind.values, 0)
    areas = [0] * len(ServiceArea.values)
    english = _is_english()
    for facet, number, value, count, count_areas, a, b in rows:
        if facet == "kind_area":  # (kind, area bits): its count for the kind facet, and for the area facet
            if value is not None and value in kinds:
                kinds[value] += count
            if number and count_areas:
                for i in range(len(areas)):
                    if number & (1 << i):
                        areas[i] += count_areas
        elif facet == "province":
            region = region_get(value) if value else None
            selected = bool(value) and params.region[:2] == (value or "")[:2]
            facets["province"].append(FacetValue(value or "", region.name if region else _("全国"), count, selected))
        else:  # a hub shown: value is its slug, a and b its names (all NULL if it has no entry left)
            hub = str(number)
            label = (b if english and b else a or value) if value is not None else hub
            facets["hub"].append(FacetValue(hub, label, count, int(hub) in params.hub_ids))
    facets["kind"] = [FacetValue(k, str(EntryKind(k).label), n, k in params.kinds) for k, n in kinds.items() if n]
    facets["service_area"] = [
        FacetValue(a, str(ServiceArea(a).label), n, a in params.service_areas)
        for a, n in zip(ServiceArea.values, areas, strict=True)
        if n
    ]
    # the kind facet counts under every filter but the kind: the hits are the chosen kinds' counts (or all)
    total = sum(f.count for f in facets["kind"] if f.selected or not params.kinds)
    facets["province"].sort(key=lambda f: (-f.count, f.value))
    facets["hub"].sort(key=lambda f: (-f.count, f.label))
    return total, facets


def _is_english() -> bool:
    from django.utils.translation import get_language

    return (get_language() or "").startswith("en")


_FIELDS = [f for f in DiscoveryEntry._meta.concrete_fields if f.name != "search_vector"]
_ENTRIES_SQL = f"SELECT {_COLUMNS} FROM {_T} e WHERE e.id = ANY(%s)"  # noqa: S608 - names are ours


def _entries(ids: list[int]) -> dict[int, DiscoveryEntry]:
    """The page's entries by id, read in one statement (as ``in_bulk``, without the queryset machinery)."""
    if not ids:
        return {}
    names = [f.attname for f in _FIELDS]
    with connection.cursor() as cursor:
        cursor.execute(_ENTRIES_SQL, [ids])
        rows = cursor.fetchall()
    converters = [(i, f.from_db_value) for i, f in enumerate(_FIELDS) if hasattr(f, "from_db_value")]
    entries = {}
    for row in rows:
        values = list(row)
        for i, convert in converters:
            values[i] = convert(values[i], None, connection)
        entry = DiscoveryEntry.from_db(connection.alias, names, values)
        entries[entry.pk] = entry
    return entries


def _hits(page: list[tuple[int, float]], parsed: ParsedQuery) -> list[SearchHit]:
    entries = _entries([id_ for id_, _rank in page])
    hits = []
    for id_, rank in page:
        entry = entries.get(id_)
        if entry is None:  # removed between the two reads
            continue
        entry.rank = rank  # type: ignore[attr-defined]
        hits.append(
            SearchHit(
                entry=entry,
                rank=rank,
                title_html=highlight(entry.title, parsed.terms, prefixes=parsed.prefixes),
                snippet_html=highlight(entry.summary, parsed.terms, prefixes=parsed.prefixes, limit=SNIPPET_CHARS),
            )
        )
    return hits


def _cursor_key(params: SearchParams, hit: SearchHit) -> list[Any]:
    if params.sort == "deadline":
        return [hit.entry.deadline.isoformat() if hit.entry.deadline else None, hit.entry.pk]
    return [hit.rank, hit.entry.pk]


def discovery_search(
    *,
    query: str = "",
    kinds: Sequence[str] | None = None,
    region: str | None = None,
    service_areas: Sequence[str] | None = None,
    amount_min: int | None = None,
    amount_max: int | None = None,
    deadline_before: date | None = None,
    hub_ids: Sequence[int] | None = None,
    sort: str = "relevance",
    cursor: str | None = None,
    limit: int = 20,
    published_between: tuple[datetime, datetime] | None = None,
    with_facets: bool | None = None,
) -> SearchResult:
    """Search every hub's listed entries at once.

    ``query`` is Chinese and/or English (see ``text.parse_query``): every word must match. When nothing matches,
    titles similar to the query are tried (pg_trgm, for typos), then entries with any of its words; ``match``
    says which. Filters: ``kinds``, ``region`` (a GB/T 2260 code: the region and everything inside it),
    ``service_areas`` (any of them), amounts in fen, ``deadline_before`` (inclusive), ``hub_ids``.
    ``sort`` is relevance (rank, then newest) or deadline (soonest first, none last). ``cursor`` is the opaque
    ``next_cursor`` of the previous page, valid only for the same search. Facets and the total come with the
    first page (``with_facets`` overrides). ``published_between`` (after, until]: only entries first published
    then (saved-search digests). Raises ApplicationError (invalid_search, invalid_cursor).
    """
    params = search_params(
        query=query,
        kinds=kinds,
        region=region,
        service_areas=service_areas,
        amount_min=amount_min,
        amount_max=amount_max,
        deadline_before=deadline_before,
        hub_ids=hub_ids,
        sort=sort,
    )
    return discovery_search_params(
        params=params, cursor=cursor, limit=limit, published_between=published_between, with_facets=with_facets
    )


def discovery_search_params(
    *,
    params: SearchParams,
    cursor: str | None = None,
    limit: int = 20,
    published_between: tuple[datetime, datetime] | None = None,
    with_facets: bool | None = None,
) -> SearchResult:
    """``discovery_search`` with parameters already checked by ``params.search_params``."""
    limit = max(1, min(int(limit), LIMIT_MAX))
    facets_wanted = with_facets if with_facets is not None else cursor is None
    parsed = parse_query(params.query)
    today = timezone.localdate()
    cursor_key: list[Any] | None = None
    if cursor:
        mode, cursor_key = cursor_decode(params=params, cursor=cursor)
        modes = [mode]
    elif parsed.is_empty:
        modes = [MATCH_ALL]
    else:
        modes = [MATCH_FULL_TEXT]
        if trigram_available() and len(parsed.text) >= 2:
            modes.append(MATCH_SIMILAR)
        if parsed.relaxed and parsed.relaxed != parsed.tsquery:
            modes.append(MATCH_PARTIAL)
    page: list[tuple[int, float]] = []
    facet_rows: list[FacetRow] | None = None
    mode = modes[0]
    for mode in modes:
        q = _Query(params, parsed, mode, today=today)
        if published_between is not None:
            q.add("e.published_at > %(p_after)s", p_after=published_between[0])
            q.add("e.published_at <= %(p_until)s", p_until=published_between[1])
        page, facet_rows = _run(q, cursor_key=cursor_key, limit=limit, with_facets=facets_wanted)
        if page:
            break
    result = SearchResult(hits=_hits(page[:limit], parsed), params=params, match=mode, terms=parsed.terms)
    if len(page) > limit and result.hits:
        result.next_cursor = cursor_encode(params=params, mode=mode, key=_cursor_key(params, result.hits[-1]))
    if facet_rows is not None:
        result.total, result.facets = _facets(params, facet_rows)
    return result


# --- recommendations ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Interests:
    service_areas: tuple[str, ...] = ()
    region_codes: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    amount_min: int | None = None
    amount_max: int | None = None

    @property
    def is_empty(self) -> bool:
        return not (self.service_areas or self.region_codes)


def discovery_interests_for(*, user: Any) -> Interests:
    """A person's interests: the ones they set; else what their saved searches and organisations suggest."""
    interest = DiscoveryInterest.objects.filter(user=user).first()
    if interest is not None and (interest.service_areas or interest.region_codes):
        return Interests(
            tuple(interest.service_areas),
            tuple(interest.region_codes),
            tuple(interest.kinds),
            interest.amount_min,
            interest.amount_max,
        )
    areas: set[str] = set()
    regions: set[str] = set()
    kinds: set[str] = set()
    for params in user.discovery_saved_searches.values_list("params", flat=True):
        areas.update(a for a in params.get("service_areas", []) if a in ServiceArea.values)
        kinds.update(k for k in params.get("kinds", []) if k in EntryKind.values)
        if params.get("region"):
            regions.add(params["region"])
    regions.update(
        code for code in user.organisation_memberships.values_list("organisation__region_code", flat=True) if code
    )
    return Interests(tuple(sorted(areas)), tuple(sorted(regions)), tuple(sorted(kinds)))


_RECOMMEND_SQL = f"""
SELECT {_COLUMNS}, (
      2.0 * cardinality(ARRAY(SELECT unnest(e.service_areas) INTERSECT SELECT unnest(%(areas)s::varchar[])))
          / greatest(cardinality(%(areas)s::varchar[]), 1)
    + CASE WHEN e.region_path && %(regions)s::varchar[] THEN 1.5       -- in a region they work in
           WHEN e.region_code = ANY(%(ancestors)s::varchar[]) THEN 1.0  -- covers it (a province-wide call)
           WHEN e.region_code = '' THEN 0.5                              -- nationwide
           ELSE 0 END
    + CASE WHEN %(has_amount)s AND e.amount IS NOT NULL
                AND e.amount >= coalesce(%(amount_min)s, 0) AND e.amount <= coalesce(%(amount_max)s, e.amount)
           THEN 1.0 ELSE 0 END
    + exp(-extract(epoch FROM (%(now)s - e.published_at)) / (30 * 86400.0))  -- newer first, halving in ~3 weeks
) AS rank
FROM {_T} e
WHERE e.status = ANY(%(listed)s) AND (e.deadline IS NULL OR e.deadline >= %(today)s)
  AND e.hub_id <> ALL (ARRAY(SELECT h.hub_id FROM discovery_discoveryhub h WHERE NOT h.visible))
  AND (e.service_areas && %(areas)s::varchar[] OR e.region_path && %(regions)s::varchar[]
       OR e.region_code = ANY(%(ancestors)s::varchar[]))
  AND (cardinality(%(kinds)s::varchar[]) = 0 OR e.kind = ANY(%(kinds)s::varchar[]))
ORDER BY rank DESC, e.id DESC
LIMIT %(limit)s
"""  # noqa: S608 - table and column names are ours


def discovery_recommend(*, user: Any, limit: int = 10) -> list[DiscoveryEntry]:
    """ "Projects that fit you": listed entries ranked by overlap with the person's interests (service areas,
    their regions and the regions enclosing them, amount range) and by how new they are. Each entry carries
    ``rank``. Empty without interests."""
    interests = discovery_interests_for(user=user)
    if interests.is_empty:
        return []
    ancestors = sorted({p for code in interests.region_codes if (r := region_get(code)) for p in r.parent_codes})
    values = {
        "areas": list(interests.service_areas),
        "regions": list(interests.region_codes),
        "ancestors": ancestors,
        "kinds": list(interests.kinds),
        "has_amount": interests.amount_min is not None or interests.amount_max is not None,
        "amount_min": interests.amount_min,
        "amount_max": interests.amount_max,
        "now": timezone.now(),
        "today": timezone.localdate(),
        "listed": list(LISTED_STATUSES),
        "limit": max(1, min(int(limit), LIMIT_MAX)),
    }
    return list(DiscoveryEntry.objects.raw(_RECOMMEND_SQL, values))
