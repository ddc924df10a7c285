"""Seed a database for the load driver: migrate, the two demo hubs, then in one hub an open call, a funded ledger,
NGO accounts with organisations, and API tokens. Writes what the locustfile needs as JSON.

    DATABASE_URL=postgresql://…/huoban_bench python infra/load/seed.py --ngos 60 --out /tmp/load.json

Idempotent enough to run again on the same database (it reuses what exists; tokens are new each time).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import timedelta
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parents[2]), str(Path(__file__).resolve().parents[2] / "platform")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "huoban.settings")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hub", default="sichuan")
    parser.add_argument("--ngos", type=int, default=60)
    parser.add_argument("--out", default="load-seed.json")
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from hubs.calls import services as calls
    from hubs.core.demo import demo_credit_code
    from hubs.ledger import services as ledger
    from hubs.ledger.models import Account
    from huoban.identity.models import Organisation, User
    from huoban.identity.services import api_token_create, organisation_create, user_create
    from tenants.models import Hub

    call_command("hubs_migrate", "--quiet")
    call_command("demo")
    hub = Hub.objects.get(slug=args.hub)
    staff = User.objects.get(email=f"staff@{hub.slug}.demo")
    treasurer = User.objects.get(email=f"treasurer@{hub.slug}.demo")

    ngos = []
    for i in range(args.ngos):
        email = f"load-ngo-{i}@load.test"
        user = User.objects.filter(email=email).first() or user_create(
            name=f"压测机构{i}", email=email, password="load-test-password-2026", email_verified=True
        )
        org = Organisation.objects.filter(members__user=user).first() or organisation_create(
            creator=user,
            name=f"压测社会工作服务中心{i:03d}",
            kind="social_organisation",
            region_code="510107",
            credit_code=demo_credit_code("52", "510107", 500 + i),
        )
        ngos.append({"token": api_token_create(user=user, name="load").secret, "organisation": org.pk})

    with hub:
        call = calls.call_create(
            actor=staff,
            call_type="government_purchase",
            title_zh=f"压测社区服务项目 {timezone.now():%H%M%S}",
            title_en="Load test call",
            description_zh="压测用的项目征集。",
            total_budget=10_000_000_00,
            project_cap=40_000_00,
            service_areas=["elderly"],
            closes_at=timezone.now() + timedelta(days=30),
        )
        calls.call_rubric_set(
            call=call, actor=staff, criteria=[calls.CriterionInput(name_zh="需求与设计", weight=100, max_score=10)]
        )
        calls.call_form_set(
            call=call, actor=staff, fields=[{"key": "plan", "type": "text", "label": "实施方案", "required": True}]
        )
        call = calls.call_transition(call=call, to="open", actor=staff)
        accounts = {}
        for code, kind in (("LOAD-BANK", "asset"), ("LOAD-DONATIONS", "income"), ("LOAD-GRANTS", "expense")):
            accounts[code] = ledger.account_create(code=code, name=code, kind=kind, actor=None, exist_ok=True).pk
        ledger.transaction_post(
            idempotency_key=f"load:fund:{timezone.now().timestamp()}",
            lines=[
                ledger.Line.debit(Account.objects.get(code="LOAD-BANK"), 1_000_000_000_00),
                ledger.Line.credit(Account.objects.get(code="LOAD-DONATIONS"), 1_000_000_000_00),
            ],
            actor=None,
            memo="压测资金",
        )

    seed = {
        "hub_host": hub.host,
        "base_host": hub.host.split(".", 1)[1],
        "call": call.pk,
        "accounts": accounts,
        "staff_token": api_token_create(user=staff, name="load").secret,
        "treasurer_token": api_token_create(user=treasurer, name="load").secret,
        "ngos": ngos,
    }
    Path(args.out).write_text(json.dumps(seed, indent=1), encoding="utf-8")
    print(f"seeded {hub.slug}: call {call.pk}, {len(ngos)} NGO accounts → {args.out}")


if __name__ == "__main__":
    main()
