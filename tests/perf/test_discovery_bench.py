"""Cross-hub discovery benchmark: one public index against looping over hub schemas, measured in one run.

1,000 hubs × 100 published items. The index gets them through the outbox (as hub code would publish them) and
the drain; the same items, with the same jieba-segmented vectors, go into a small ``items`` table in each of
1,000 plain schemas for the baseline: one UNION ALL query over the 1,000 tables with the same filters, either
ILIKE on title and summary, or per-schema full text (a GIN index in every schema). The baseline fetches only a
page of 20; the index answers the whole ``discovery_search`` (the page, exact total, four facets, highlights).
Then the index's catch-up after 10,000 publishes: outbox rows written by ``discovery_publish`` → drained.

    make bench PYTEST_ARGS="-k discovery"
    # or: HUOBAN_TESTING=1 DATABASE_URL=postgresql://postgres@127.0.0.1:5432/huoban \\
    #         .venv/bin/pytest tests/perf/test_discovery_bench.py -s -p no:cacheprovider

Prints figures and ratios; asserts nothing about time. Cleans up everything it created.
"""

from __future__ import annotations

import os
import random
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection as db_connection
from django.db import connections, transaction
from django.utils import timezone

from huoban.db import connection
from huoban.discovery import services
from huoban.discovery.models import DiscoveryEntry, DiscoveryHub, DiscoveryOutbox, OutboxOp
from huoban.discovery.outbox import discovery_outbox_drain
from huoban.discovery.selectors import RANK_FUNCTION, discovery_search
from huoban.discovery.services import HubRef, discovery_publish, publish_payload
from huoban.discovery.text import _jieba, parse_query
from huoban.regions import region_get

pytestmark = [pytest.mark.timeout(3600), pytest.mark.slow]

# HUOBAN_BENCH_HUBS makes a quicker, smaller run (the catch-up stays at 100 items per hub published)
N_HUBS = int(os.environ.get("HUOBAN_BENCH_HUBS", "1000"))
PER_HUB, REPEAT, BASELINE_REPEAT = 100, 5, 2
N_CATCHUP = min(10_000, N_HUBS * PER_HUB)
HUB_BASE = 900_000_000  # ids no real hub has
SCHEMA = "bench_disc_{:04d}"

TOPICS: list[tuple[str, list[str], list[str], str]] = [
    # service area, Chinese title stems, English title stems, a sentence for summaries
    (
        "children",
        ["农村留守儿童关爱", "困境儿童心理支持", "儿童之家建设", "课后托管与阅读陪伴"],
        ["Left-behind children care", "Children's reading programme"],
        "为农村留守儿童和困境儿童提供陪伴、课业辅导与心理支持。",
    ),
    (
        "elderly",
        ["社区居家养老服务", "独居老人探访", "老年食堂助餐", "智慧养老平台"],
        ["Elderly care at home", "Meals for older people"],
        "为独居和高龄老人提供助餐、助浴、陪伴就医等居家养老服务。",
    ),
    (
        "disability",
        ["助残就业支持", "残疾人康复服务", "无障碍环境改造"],
        ["Disability employment support", "Accessible community spaces"],
        "帮助残疾人康复训练、技能培训与就业，推动无障碍改造。",
    ),
    (
        "disaster_relief",
        ["地震灾后重建", "防灾减灾培训", "应急救援队伍建设"],
        ["Disaster relief and recovery", "Emergency response teams"],
        "开展灾后重建、社区防灾减灾演练和应急救援志愿者培训。",
    ),
    (
        "education",
        ["乡村教师培训", "青少年科学教育", "职业技能培训"],
        ["Rural teacher training", "Science education for youth"],
        "支持乡村学校教师成长，开展青少年科学与职业教育。",
    ),
    (
        "community",
        ["社区治理创新", "邻里互助计划", "公益创投"],
        ["Community development", "Neighbourhood mutual aid"],
        "培育社区社会组织，推动居民参与社区治理与邻里互助。",
    ),
    (
        "environment",
        ["垃圾分类宣传", "河流保护志愿者", "乡村环境整治"],
        ["River protection volunteers", "Waste sorting campaign"],
        "组织志愿者开展河流巡护、垃圾分类宣传和乡村环境整治。",
    ),
    (
        "health",
        ["心理健康服务", "慢病管理", "乡村医生培训"],
        ["Mental health services", "Chronic disease care"],
        "提供心理健康咨询、慢病随访管理和乡村医生能力培训。",
    ),
    (
        "poverty",
        ["乡村振兴产业帮扶", "困难家庭救助"],
        ["Rural revitalisation", "Support for families in hardship"],
        "通过产业帮扶与临时救助，帮助困难家庭增收和渡过难关。",
    ),
    (
        "culture",
        ["非遗传承", "社区文化活动"],
        ["Intangible heritage", "Community culture events"],
        "传承非物质文化遗产，丰富社区居民文化生活。",
    ),
    (
        "legal_aid",
        ["法律援助进社区", "农民工维权服务"],
        ["Legal aid clinics", "Migrant worker rights"],
        "为困难群众和农民工提供法律咨询、法律援助与维权服务。",
    ),
    (
        "volunteering",
        ["志愿者招募与培训", "志愿服务站"],
        ["Volunteer recruitment", "Volunteer service stations"],
        "招募和培训志愿者，建设社区志愿服务站点。",
    ),
]
GENERIC = [
    "欢迎符合条件的社会组织申报。",
    "项目周期一年，按进度拨付资金。",
    "申报材料请通过枢纽平台提交。",
    "Applications are open to registered organisations.",
    "优先支持有社区服务经验的团队。",
]
KINDS = ["call"] * 4 + ["project_seeking_funds"] * 3 + ["partner"] * 2 + ["funded_project", "project_notice", "fair"]
SUFFIXES = ["项目", "项目征集", "计划", "服务项目", "（第二期）", "行动"]

QUERIES: list[tuple[str, dict[str, Any]]] = [
    ("留守儿童", {}),
    ("养老", {}),
    ("社区居家养老", {}),
    ("灾后重建", {}),
    ("心理健康", {"region": "510000"}),
    ("助残 就业", {}),
    ("乡村振兴", {"kinds": ["call"]}),
    ("环保 志愿者", {}),
    ("法律援助", {"sort": "deadline"}),
    ("儿童 教育", {"amount_min": 1_000_000}),
    ("雅安", {}),
    ("公益创投", {"service_areas": ["community"]}),
    ("elderly care", {}),
    ("children", {"region": "330000"}),
    ("disaster relief", {}),
    ("volunteer", {"sort": "deadline"}),
    ("mental health", {}),
    ("river", {"kinds": ["project_seeking_funds"]}),
    ("legal aid", {}),
    ("community", {"amount_max": 5_000_000}),
]


def _counties() -> dict[str, list[str]]:
    """County-level codes in force, by province (from the GB/T 2260 table python-stdnum ships)."""
    out: dict[str, list[str]] = {}
    for p in range(11, 66):
        province = f"{p}0000"
        if region_get(province) is None:
            continue
        codes = [
            f"{p}{c:02d}{d:02d}"
            for c in range(1, 30)
            for d in range(1, 30)
            if (r := region_get(f"{p}{c:02d}{d:02d}")) and r.in_force and r.level == "county"
        ]
        if codes:
            out[province] = codes
    return out


def _items(rng: random.Random, hub: int, province: str, counties: list[str]) -> Iterator[dict[str, Any]]:
    today = timezone.localdate()
    for n in range(PER_HUB):
        area, zh, en, sentence = rng.choice(TOPICS)
        code = rng.choice(counties) if rng.random() < 0.8 else province
        place = (region_get(code).name if region_get(code) else "") if rng.random() < 0.6 else ""  # type: ignore[union-attr]
        title = (
            f"{rng.choice(en)} programme {hub}-{n}"
            if rng.random() < 0.2
            else f"{place}{rng.choice(zh)}{rng.choice(SUFFIXES)}"
        )
        other = rng.choice(TOPICS)
        r = rng.random()
        yield {
            "source": ("bench", f"{hub}-{n}"),
            "kind": rng.choice(KINDS),
            "title": title,
            "summary": sentence + rng.choice(GENERIC) + (other[3] if rng.random() < 0.3 else ""),
            "region_code": code,
            "service_areas": sorted({area, other[0]} if rng.random() < 0.3 else {area}),
            "amount": rng.randrange(10, 500) * 10_000 if rng.random() < 0.7 else None,
            "deadline": None if r < 0.2 else today + timedelta(days=rng.randrange(-10, 90)),
            "status": "open" if rng.random() < 0.9 else rng.choice(["upcoming", "closed"]),
        }


def _phase(capsys: Any, text: str) -> None:
    with capsys.disabled():
        print(f"  … {text}", flush=True)


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]


def _timed(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


# --- the baseline: one UNION ALL over every hub schema ----------------------------------------------------------


def _baseline_sql(mode: str, query: str, filters: dict[str, Any], *, facets: bool) -> tuple[str, dict[str, Any]]:
    """The same search answered from every hub's own table in one UNION ALL statement: a page of 20 and, with
    ``facets``, the hit count and the four facets' counts (under all filters, which is cheaper than the index's)."""
    parsed = parse_query(query)
    values: dict[str, Any] = {"today": timezone.localdate(), "tsq": parsed.tsquery}
    where = ["status IN ('open', 'upcoming')", "(deadline IS NULL OR deadline >= %(today)s)"]
    if mode == "ilike":
        # every word the user typed (as jieba splits it), in the title or the summary
        for i, word in enumerate(parsed.text.split()):
            values[f"w{i}"] = f"%{word}%"
            where.append(f"(title ILIKE %(w{i})s OR summary ILIKE %(w{i})s)")
        rank = "0::real"
    else:
        where.append("search_vector @@ to_tsquery('simple', %(tsq)s)")
        rank = f"{RANK_FUNCTION}(search_vector, to_tsquery('simple', %(tsq)s))"
    if filters.get("kinds"):
        values["kinds"] = filters["kinds"]
        where.append("kind = ANY(%(kinds)s)")
    if filters.get("region"):
        values["region"] = [filters["region"]]
        where.append("region_path @> %(region)s::varchar[]")
    if filters.get("service_areas"):
        values["areas"] = filters["service_areas"]
        where.append("service_areas && %(areas)s::varchar[]")
    if filters.get("amount_min") is not None:
        values["amin"] = filters["amount_min"]
        where.append("amount >= %(amin)s")
    if filters.get("amount_max") is not None:
        values["amax"] = filters["amount_max"]
        where.append("amount <= %(amax)s")
    cond = " AND ".join(where)
    branches = " UNION ALL ".join(
        f"(SELECT id, deadline, kind, region_path[1] AS province, service_areas, {h} AS hub, {rank} AS rank "
        f"FROM {SCHEMA.format(h)}.items WHERE {cond})"
        for h in range(N_HUBS)
    )
    order = (
        "deadline ASC NULLS LAST, id" if filters.get("sort") == "deadline" or mode == "ilike" else "rank DESC, id DESC"
    )
    if not facets:
        return f"SELECT id, rank FROM ({branches}) u ORDER BY {order} LIMIT 20", values
    return (
        f"WITH u AS MATERIALIZED ({branches}) "
        f"SELECT 'page', id::text, 0 FROM (SELECT id, rank, deadline FROM u ORDER BY {order} LIMIT 20) p "
        "UNION ALL SELECT 'total', '', count(*) FROM u "
        "UNION ALL SELECT 'kind', kind, count(*) FROM u GROUP BY kind "
        "UNION ALL SELECT 'province', province, count(*) FROM u GROUP BY province "
        "UNION ALL SELECT 'area', a, count(*) FROM (SELECT unnest(service_areas) a FROM u) x GROUP BY a "
        "UNION ALL SELECT 'hub', hub::text, count(*) FROM u GROUP BY hub",
        values,
    )


def _build_schemas() -> None:
    for start in range(0, N_HUBS, 100):
        with transaction.atomic(), db_connection.cursor() as cursor:
            for h in range(start, start + 100):
                schema = SCHEMA.format(h)
                cursor.execute(f"CREATE SCHEMA {schema}")
                cursor.execute(
                    f"CREATE TABLE {schema}.items AS SELECT id, kind, title, summary, region_code, region_path, "
                    "service_areas, amount, deadline, status, search_vector FROM discovery_discoveryentry "
                    "WHERE hub_id = %s",
                    [HUB_BASE + h],
                )
                cursor.execute(f"ALTER TABLE {schema}.items ADD PRIMARY KEY (id)")
                cursor.execute(f"CREATE INDEX ON {schema}.items USING gin (search_vector)")
                cursor.execute(f"ANALYZE {schema}.items")


def _cleanup() -> None:
    connection.set_schema_to_public()
    with db_connection.cursor() as cursor:
        for start in range(0, N_HUBS, 100):
            with transaction.atomic():
                for h in range(start, start + 100):
                    cursor.execute(f"DROP SCHEMA IF EXISTS {SCHEMA.format(h)} CASCADE")
    bench = {"hub_id__gte": HUB_BASE, "hub_id__lt": HUB_BASE + N_HUBS}
    DiscoveryOutbox.objects.filter(**bench).delete()
    DiscoveryEntry.objects.filter(**bench).delete()
    DiscoveryHub.objects.filter(**bench).delete()


@pytest.fixture
def bench_env(committed_db, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # Drains are run by hand here; in production a worker picks them up after each commit.
    monkeypatch.setattr(services, "_enqueue_drain", lambda: None)
    _cleanup()
    try:
        yield
    finally:
        _cleanup()


def _drain_in_threads(workers: int) -> float:
    def work() -> None:
        try:
            connection.set_schema_to_public()
            discovery_outbox_drain()
        finally:
            connections.close_all()

    started = time.perf_counter()
    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def test_discovery_against_union_all(bench_env, capsys):  # type: ignore[no-untyped-def]
    rng = random.Random(2026)
    counties = _counties()
    provinces = sorted(counties)
    _jieba()  # load the dictionary outside the timings

    # 1. 100,000 items published through the outbox, drained into the index
    started = time.perf_counter()
    hub_items: dict[int, list[dict[str, Any]]] = {}
    for h in range(N_HUBS):
        province = provinces[h % len(provinces)]
        hub = HubRef(HUB_BASE + h, f"bench{h:04d}", f"基准枢纽{h:04d}", f"Bench hub {h:04d}")
        items = list(_items(rng, h, province, counties[province]))
        hub_items[h] = items
        DiscoveryOutbox.objects.bulk_create(
            DiscoveryOutbox(
                op=OutboxOp.PUBLISH,
                hub_id=hub.id,
                source_app=it["source"][0],
                source_id=it["source"][1],
                payload=publish_payload(hub=hub, **{k: v for k, v in it.items() if k != "source"}),
            )
            for it in items
        )
    outbox_write = time.perf_counter() - started
    _phase(capsys, f"outbox written in {outbox_write:.1f} s")
    initial_drain = _drain_in_threads(2)
    _phase(capsys, f"drained in {initial_drain:.1f} s")
    with db_connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE discovery_discoveryentry")
    indexed = DiscoveryEntry.objects.filter(hub_id__gte=HUB_BASE).count()

    # 2. the same rows and vectors in 1,000 hub schemas
    schemas_time = _timed(_build_schemas)
    _phase(capsys, f"schemas built in {schemas_time:.1f} s")

    # 3. the 20 queries, against the index and against the UNION ALL, interleaved in the same run (so a busy
    #    machine slows both alike). Like for like: the results page alone, and the page with count and facets.
    index_full: list[float] = []
    index_page: list[float] = []
    baseline: dict[tuple[str, bool], list[float]] = {(m, f): [] for m in ("ilike", "fts") for f in (False, True)}
    hits = [discovery_search(query=q, **f).total or 0 for q, f in QUERIES]  # warm up, and the hit counts
    load_before = os.getloadavg()[0]
    with db_connection.cursor() as cursor:
        for rep in range(REPEAT):
            for query, filters in QUERIES:
                index_full.append(_timed(lambda q=query, f=filters: discovery_search(query=q, **f)))
                index_page.append(_timed(lambda q=query, f=filters: discovery_search(query=q, with_facets=False, **f)))
                if rep >= BASELINE_REPEAT:
                    continue
                cursor.execute("SET jit = off")  # the baseline's best case: no JIT of a 1,000-branch plan
                for mode, facets in baseline:
                    sql, values = _baseline_sql(mode, query, filters, facets=facets)
                    baseline[mode, facets].append(
                        _timed(lambda s=sql, v=values: (cursor.execute(s, v), cursor.fetchall()))
                    )
                cursor.execute("RESET jit")
    load_after = os.getloadavg()[0]
    _phase(capsys, f"queries done, index p95 {_percentile(index_full, 0.95) * 1000:.1f} ms")

    # 4. catch-up: 10,000 publishes (half updates, half new items) in hubs' transactions, then drained
    publish_started = time.perf_counter()
    for h in range(N_CATCHUP // 100):
        hub = HubRef(HUB_BASE + h, f"bench{h:04d}", f"基准枢纽{h:04d}")
        with transaction.atomic():
            for n, it in enumerate(hub_items[h]):
                fields = {k: v for k, v in it.items() if k not in ("source", "kind")}
                source = it["source"] if n % 2 else ("bench", f"{h}-new-{n}")
                discovery_publish(
                    hub_id=hub.id, hub_slug=hub.slug, hub_name=hub.name, kind=it["kind"], source=source, **fields
                )
    publish_time = time.perf_counter() - publish_started
    catchup_one = _drain_in_threads(1)
    for h in range(N_CATCHUP // 100):  # the same again, drained by two workers at once
        hub = HubRef(HUB_BASE + h, f"bench{h:04d}", f"基准枢纽{h:04d}")
        with transaction.atomic():
            for n, it in enumerate(hub_items[h]):
                fields = {k: v for k, v in it.items() if k not in ("source", "kind")}
                fields["title"] = fields["title"] + "（更新）"
                source = it["source"] if n % 2 else ("bench", f"{h}-new-{n}")
                discovery_publish(
                    hub_id=hub.id, hub_slug=hub.slug, hub_name=hub.name, kind=it["kind"], source=source, **fields
                )
    catchup_two = _drain_in_threads(2)
    assert not DiscoveryOutbox.objects.filter(hub_id__gte=HUB_BASE).exists()

    def figures(values: list[float]) -> tuple[float, float]:
        return statistics.median(values) * 1000, _percentile(values, 0.95) * 1000

    full, page = figures(index_full), figures(index_page)
    with capsys.disabled():
        print(f"\ncross-hub discovery: {N_HUBS} hubs × {PER_HUB} items = {indexed} entries indexed")
        print(f"  machine: {os.cpu_count()} CPUs, load average {load_before:.1f} → {load_after:.1f} during the queries")
        print(
            f"  initial load: outbox written in {outbox_write:.1f} s, drained by 2 workers in {initial_drain:.1f} s "
            f"({indexed / initial_drain:,.0f} entries/s); {N_HUBS} baseline schemas built in {schemas_time:.1f} s"
        )
        print(
            f"  20 queries (zh and en, some with filters), hits per query: median {statistics.median(hits):,.0f}, "
            f"max {max(hits):,}"
        )
        print("                                              p50 ms    p95 ms   ratio p50  ratio p95")
        print(f"  index, results page                      {page[0]:8.1f}  {page[1]:8.1f}")
        print(f"  index, page + count + 4 exact facets     {full[0]:8.1f}  {full[1]:8.1f}")
        for (mode, facets), values in baseline.items():
            ours = full if facets else page
            b = figures(values)
            how = "ILIKE" if mode == "ilike" else "FTS+GIN"
            label = f"UNION ALL {N_HUBS} schemas, {how}, {'+ facets' if facets else 'page'}"
            print(f"  {label:40s} {b[0]:8.1f}  {b[1]:8.1f}   {b[0] / ours[0]:8.0f}x  {b[1] / ours[1]:8.0f}x")
        print(
            f"  catch-up: {N_CATCHUP:,} publishes written in {publish_time:.1f} s "
            f"({publish_time / N_CATCHUP * 1000:.2f} ms each in the hub's transaction); drained by 1 worker in "
            f"{catchup_one:.1f} s ({N_CATCHUP / catchup_one:,.0f}/s), by 2 workers in {catchup_two:.1f} s "
            f"({N_CATCHUP / catchup_two:,.0f}/s)"
        )
    assert indexed == N_HUBS * PER_HUB  # the figures above are the result
