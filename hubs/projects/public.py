"""What the public transparency pages, the PDF report and the public API show about a project.

Built from an explicit allow-list: organisations by name (they are public bodies), people only by masked name,
free text with phone numbers, emails and ID numbers masked; never private notes, survey comments, receipts or
anyone's contact details.
"""

from __future__ import annotations

from typing import Any

from hubs.projects import selectors
from hubs.projects.models import Project, ReportKind, TrancheStatus
from hubs.projects.selectors import mask_text


def public_detail_context(project: Project) -> dict[str, Any]:
    money = selectors.project_money(project=project)
    visits = list(project.visits.all())
    people = selectors.user_labels([v.ambassador_id for v in visits], masked=True)
    orgs = selectors.organisations_by_id([project.implementer_id])
    implementer = orgs.get(project.implementer_id)
    reports = [
        {
            "kind": r.kind,
            "kind_label": r.get_kind_display(),
            "period_end": r.period_end,
            "text": mask_text(r.text),
            "figures": r.figures,
            "fund_usage": mask_text(r.fund_usage) if r.kind == ReportKind.FINAL else "",
            "photos": len(r.photo_ids),
        }
        for r in project.reports.all()
    ]
    findings = [
        {
            "visited_at": v.visited_at,
            "ambassador": people.get(v.ambassador_id or 0, "*"),
            "findings": mask_text(v.findings),
            "checklist": v.checklist,
            "photos": len(v.photo_ids),
        }
        for v in visits
    ]
    tranches = [
        {
            "title": mask_text(t.title),
            "amount": t.amount,
            "status": t.get_status_display(),
            "released_at": t.released_at,
        }
        for t in project.tranches.exclude(status=TrancheStatus.REJECTED)
    ]
    return {
        "project": project,
        "title": project.title_zh,
        "title_en": project.title_en,
        "summary": mask_text(project.summary),
        "implementer": implementer.name if implementer else "",
        "money": money,
        "timeline": [
            {**row.__dict__, "label": mask_text(row.label)} for row in selectors.funds_timeline(project=project)
        ],
        "budget": sum(line.amount for line in project.budget_lines.all()),
        "lines": [(line.name, line.amount) for line in project.budget_lines.all()],
        "milestones": list(project.milestones.all()),
        "tranches": tranches,
        "reports": reports,
        "findings": findings,
        "indicators": list(project.indicators.all()),
        "evaluations": [
            {
                "kind": e.get_evaluator_kind_display(),
                "organisation": e.evaluator_organisation,
                "score": e.score,
                "summary": mask_text(e.summary),
                "created_at": e.created_at,
            }
            for e in project.evaluations.all()
        ],
        "survey": selectors.survey_summary(project=project),
        "photos": [
            {"url": f"/projects/public/{project.pk}/photos/{p.file_id}/", "source": p.source, "on": p.on}
            for p in selectors.public_photos(project=project)
        ],
    }
