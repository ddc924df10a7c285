"""The hub ledger: double-entry, append-only, hash-chained, in fen.

Other apps write through ``hubs.ledger.services`` and read through ``hubs.ledger.selectors``, inside the hub
(``with hub:`` or a hub request)::

    from hubs.ledger import selectors, services
    from hubs.ledger.services import Line

    fund = services.account_create(code="3102/project:42/org:7", name="项目42限定资金", kind="asset",
                                   owner_organisation_id=7, subject="project:42", restricted_to="project:42",
                                   no_overdraft=True, actor=user, exist_ok=True)
    services.transaction_post(
        idempotency_key="project:42/disbursement:3",          # namespaced by the caller; retries reuse it
        lines=[Line.debit(expense, 50000), Line.credit(fund, 50000, purpose="project:42/line:7")],
        memo="第一期拨付", subject="project:42", source="projects", actor=user,
    )
    selectors.account_balance(account=fund)                   # fen, from the entries

Money helpers for forms and pages: ``hubs.ledger.money`` (``money_format``, ``money_parse``) and the template
filter ``{% load ledger_money %}{{ fen|fen }}``.
"""
