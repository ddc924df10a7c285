"""Seed a database for the load driver: migrate, the two demo hubs, then in one hub
- an open call, NGO accounts with organisations and API tokens (apply);
- a call in review whose applications (from the first NGOs) are assigned to reviewer accounts that declared no
  conflict, so they can score them (review);
- a public-notice round, open for a month, with ideas on notice, and resident accounts (an account counts as a
  verified resident, so no SMS code is needed) with API tokens (support);
- an open fair with an idea whose budget is far beyond what a run can claim, and funder organisations (active
  partners) whose owners have API tokens (claim);
- a funded ledger (disburse).
Writes what the locustfile needs as JSON.

    DATABASE_URL=postgresql://…/huoban_bench python infra/load/seed.py --ngos 60 --out /tmp/load.json

Idempotent enough to run again on the same database (it reuses accounts; calls, rounds, ideas, fairs and tokens are
new each time).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path[:0] = [str(Path(__file__).resolve().parents[2]), str(Path(__file__).resolve().parents[2] / "platform")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "huoban.settings")


# Unlike any seeded e-mail address: Django's similarity check refused "load-test-password-2026" for some of them.
PASSWORD = "k7Vw-pX2m-9rTq-2026"  # noqa: S105 - throwaway accounts in a throwaway load database


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hub", default="sichuan")
    parser.add_argument("--ngos", type=int, default=60)
    parser.add_argument("--reviewers", type=int, default=3)
    parser.add_argument("--review-applications", type=int, default=10, help="applications in review (≤ --ngos)")
    parser.add_argument("--residents", type=int, default=100)
    parser.add_argument("--ideas", type=int, default=10, help="ideas on notice; each resident supports each once")
    parser.add_argument("--funders", type=int, default=3)
    parser.add_argument("--out", default="load-seed.json")
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from hubs.calls import services as calls
    from hubs.core.demo import demo_credit_code
    from hubs.core.services import membership_grant
    from hubs.ledger import services as ledger
    from hubs.needs import services as needs
    from hubs.needs.models import ReviewCriterion
    from hubs.partners.models import Partnership
    from hubs.partners.services import partnership_staff_add
    from huoban.identity.models import Organisation, User
    from huoban.identity.services import api_token_create, organisation_create, user_create
    from tenants.models import Hub

    call_command("hubs_migrate", "--quiet")
    call_command("demo")
    hub = Hub.objects.get(slug=args.hub)
    staff = User.objects.get(email=f"staff@{hub.slug}.demo")
    treasurer = User.objects.get(email=f"treasurer@{hub.slug}.demo")
    expert = User.objects.get(email=f"reviewer@{hub.slug}.demo")

    def account(email: str, name: str) -> User:
        return User.objects.filter(email=email).first() or user_create(
            name=name, email=email, password=PASSWORD, email_verified=True
        )

    ngos, ngo_people = [], []
    for i in range(args.ngos):
        email = f"load-ngo-{i}@load.test"
        user = User.objects.filter(email=email).first() or user_create(
            name=f"压测机构{i}", email=email, password=PASSWORD, email_verified=True
        )
        org = Organisation.objects.filter(members__user=user).first() or organisation_create(
            creator=user,
            name=f"压测社会工作服务中心{i:03d}",
            kind="social_organisation",
            region_code="510107",
            credit_code=demo_credit_code("52", "510107", 500 + i),
        )
        ngos.append({"token": api_token_create(user=user, name="load").secret, "organisation": org.pk})
        ngo_people.append((user, org))
    reviewers = [account(f"load-reviewer-{i}@load.test", f"压测评审专家{i}") for i in range(args.reviewers)]
    residents = [account(f"load-resident-{i}@load.test", f"压测居民{i}") for i in range(args.residents)]
    funders = []
    for i in range(args.funders):
        owner = account(f"load-funder-{i}@load.test", f"压测出资方{i}")
        org = Organisation.objects.filter(members__user=owner).first() or organisation_create(
            creator=owner,
            name=f"压测爱心企业{i:03d}",
            kind="enterprise",
            region_code="510107",
            credit_code=demo_credit_code("91", "510107", 800 + i),
        )
        funders.append((owner, org))
    stamp = f"{timezone.now():%H%M%S}"

    def load_call(title_zh: str, title_en: str, description_zh: str) -> Any:
        return calls.call_create(
            actor=staff,
            call_type="government_purchase",
            title_zh=title_zh,
            title_en=title_en,
            description_zh=description_zh,
            total_budget=10_000_000_00,
            project_cap=40_000_00,
            service_areas=["elderly"],
            closes_at=timezone.now() + timedelta(days=30),
        )

    with hub:
        # review: a call closed for applications and in review, each application assigned to every reviewer
        review_call = load_call(f"压测评审项目 {stamp}", "Load test review", "压测用的评审。")
        criteria = calls.call_rubric_set(
            call=review_call,
            actor=staff,
            criteria=[
                calls.CriterionInput(name_zh="需求与设计", weight=60, max_score=10),
                calls.CriterionInput(name_zh="团队与预算", weight=40, max_score=5),
            ],
        )
        calls.call_form_set(
            call=review_call,
            actor=staff,
            fields=[{"key": "plan", "type": "text", "label": "实施方案", "required": True}],
        )
        review_call = calls.call_transition(call=review_call, to="open", actor=staff)
        applications = []
        for user, org in ngo_people[: args.review_applications]:
            app = calls.application_start(call=review_call, organisation=org, actor=user)
            app = calls.application_save(
                application=app,
                actor=user,
                title="压测长者助餐",
                summary="压测",
                requested_amount=30_000_00,
                answers={"plan": "为社区老人提供助餐服务"},
            )
            applications.append(calls.application_submit(application=app, actor=user))
        review_call = calls.call_transition(call=review_call, to="closed", actor=staff)
        review_call = calls.call_transition(call=review_call, to="in_review", actor=staff)
        assignments: dict[int, list[int]] = {}
        for reviewer in reviewers:
            membership_grant(user=reviewer, roles=["reviewer"], actor=None)
        for app in applications:
            app = calls.application_screen(application=app, actor=staff, eligible=True)
            for reviewer in reviewers:
                assignment = calls.reviewer_assign(application=app, reviewer=reviewer, actor=staff)
                calls.review_declare(assignment=assignment, actor=reviewer, conflict=False)
                assignments.setdefault(reviewer.pk, []).append(assignment.pk)

        # support and claim: ideas made from needs, scored and approved; some on notice in an open round, one
        # through a closed round onto an open fair
        if not ReviewCriterion.objects.filter(active=True).exists():
            needs.criterion_create(name="压测民需程度", weight=1, actor=staff)
        active = list(ReviewCriterion.objects.filter(active=True))

        def approved_idea(title: str, budget: int):  # type: ignore[no-untyped-def]
            need = needs.need_record(
                actor=staff, channel="visit", title=title, body="压测用的民生需求。", category="community"
            )
            idea = needs.idea_create(actor=staff, needs=[need], title=title, category="community", budget=budget)
            needs.idea_score(idea=idea, reviewer=expert, scores={c.pk: c.max_score for c in active})
            return needs.idea_approve(idea=idea, actor=staff)

        now = timezone.now()
        notice_round = needs.notice_round_create(
            actor=staff, title=f"压测公示 {stamp}", starts_at=now - timedelta(hours=1), ends_at=now + timedelta(days=30)
        )
        notice_ideas = [
            needs.notice_round_add_idea(
                notice_round=notice_round, idea=approved_idea(f"压测公示项目 {stamp}-{i}", 100_000_00), actor=staff
            ).pk
            for i in range(args.ideas)
        ]
        past_round = needs.notice_round_create(
            actor=staff,
            title=f"压测已结束公示 {stamp}",
            starts_at=now - timedelta(hours=1),
            ends_at=now + timedelta(days=1),
        )
        # a budget no run can fill with one-yuan claims: the idea stays open for claims
        fair_idea = needs.notice_round_add_idea(
            notice_round=past_round, idea=approved_idea(f"压测认领项目 {stamp}", 10**12), actor=staff
        )
        needs.notice_round_close(notice_round=past_round, actor=staff)
        fair = needs.fair_create(title=f"压测相亲会 {stamp}", held_on=timezone.localdate(), actor=staff)
        needs.fair_add_idea(fair=fair, idea=fair_idea, actor=staff)
        needs.fair_transition(fair=fair, status="open", actor=staff)
        for _owner, org in funders:
            if not Partnership.objects.filter(organisation=org).exists():
                partnership_staff_add(actor=staff, credit_code=org.credit_code)

        call = load_call(f"压测社区服务项目 {stamp}", "Load test call", "压测用的项目征集。")
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
                ledger.Line.debit(accounts["LOAD-BANK"], 1_000_000_000_00),
                ledger.Line.credit(accounts["LOAD-DONATIONS"], 1_000_000_000_00),
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
        "review": {
            "criteria": [{"id": c.pk, "max_score": c.max_score} for c in criteria],
            "reviewers": [
                {"token": api_token_create(user=r, name="load").secret, "assignments": assignments.get(r.pk, [])}
                for r in reviewers
            ],
        },
        "notice": {
            "round": notice_round.pk,
            "ideas": notice_ideas,
            "residents": [api_token_create(user=r, name="load").secret for r in residents],
        },
        "fair": {
            "fair": fair.pk,
            "idea": fair_idea.pk,
            "funders": [
                {"token": api_token_create(user=owner, name="load").secret, "organisation": org.pk}
                for owner, org in funders
            ],
        },
    }
    Path(args.out).write_text(json.dumps(seed, indent=1), encoding="utf-8")
    print(
        f"seeded {hub.slug}: call {call.pk}, {len(ngos)} NGO accounts, {len(applications)} applications in review × "
        f"{len(reviewers)} reviewers, {len(notice_ideas)} ideas on notice × {len(residents)} residents, "
        f"fair {fair.pk} with {len(funders)} funders → {args.out}"
    )


if __name__ == "__main__":
    main()
