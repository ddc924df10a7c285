"""The entries trigger looks everything up through an index, whatever the planner's statistics say.

0002's version joined the new entries to the transaction and account tables; with statistics that were missing
or stale (a new hub, a busy day before autovacuum analyses the tables) the planner chose sequential scans of
those tables, so each posting got slower as the ledger grew (measured: 0.7 ms per posting at 3,000 transactions
and rising). Driving every lookup from the new entries (LATERAL ... LIMIT 1) and updating running totals row by
row through the primary key keeps a posting's cost flat. Same checks, same errors; schema-local as 0002.
"""

from django.db import migrations

FORWARD = r"""
CREATE OR REPLACE FUNCTION ledger_entries_apply() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad record;
    moved record;
BEGIN
    -- The statements below name tables through the search path (so their plans are cached). They run within the
    -- INSERT, which found ledger_ledgerentry through that same path; refuse if the path points elsewhere (an
    -- INSERT naming another schema explicitly), so they can never touch another hub's tables.
    IF TG_TABLE_SCHEMA IS DISTINCT FROM current_schema() THEN
        RAISE EXCEPTION 'ledger entries of % must be written with the search path set to it', TG_TABLE_SCHEMA
            USING ERRCODE = 'check_violation';
    END IF;
    -- Every lookup below is driven by the new entries and goes through a primary key or the transaction index
    -- (LATERAL ... LIMIT 1 keeps the planner from turning them into scans when its statistics are stale), so a
    -- posting costs the same in a ledger of a hundred entries and of ten million.
    SELECT n.id, n.currency, a.currency AS account_currency INTO bad
    FROM ledger_new_entries n
    CROSS JOIN LATERAL (SELECT currency FROM ledger_account WHERE id = n.account_id LIMIT 1) a
    WHERE n.currency <> a.currency LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger entry % is in %, its account in %', bad.id, bad.currency, bad.account_currency
            USING ERRCODE = 'check_violation';
    END IF;
    -- A transaction's entries are written in one statement and must balance, in its one currency.
    SELECT n.transaction_id AS id INTO bad
    FROM (SELECT DISTINCT transaction_id FROM ledger_new_entries) n
    CROSS JOIN LATERAL (SELECT currency FROM ledger_ledgertransaction WHERE id = n.transaction_id LIMIT 1) t
    CROSS JOIN LATERAL (
        SELECT count(*) AS lines, coalesce(sum(e.amount), 0) AS total, bool_or(e.currency <> t.currency) AS other
        FROM ledger_ledgerentry e WHERE e.transaction_id = n.transaction_id
    ) s
    WHERE s.lines < 2 OR s.total <> 0 OR s.other LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger transaction % does not balance in one currency', bad.id
            USING ERRCODE = 'check_violation';
    END IF;
    FOR moved IN SELECT account_id, sum(amount) AS total FROM ledger_new_entries GROUP BY account_id ORDER BY account_id
    LOOP
        UPDATE ledger_account SET running_total = running_total + moved.total WHERE id = moved.account_id;
    END LOOP;
    RETURN NULL;
END
$$;
"""

BACKWARD = r"""
CREATE OR REPLACE FUNCTION ledger_entries_apply() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    -- The statements below name tables through the search path (so their plans are cached). They run within the
    -- INSERT, which found ledger_ledgerentry through that same path; refuse if the path points elsewhere (an
    -- INSERT naming another schema explicitly), so they can never touch another hub's tables.
    IF TG_TABLE_SCHEMA IS DISTINCT FROM current_schema() THEN
        RAISE EXCEPTION 'ledger entries of % must be written with the search path set to it', TG_TABLE_SCHEMA
            USING ERRCODE = 'check_violation';
    END IF;
    SELECT n.id, n.currency, a.currency AS account_currency INTO bad
    FROM ledger_new_entries n JOIN ledger_account a ON a.id = n.account_id
    WHERE n.currency <> a.currency LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger entry % is in %, its account in %', bad.id, bad.currency, bad.account_currency
            USING ERRCODE = 'check_violation';
    END IF;
    -- A transaction's entries are written in one statement and must balance, in its one currency.
    SELECT t.id INTO bad
    FROM ledger_ledgertransaction t JOIN ledger_ledgerentry e ON e.transaction_id = t.id
    WHERE t.id IN (SELECT transaction_id FROM ledger_new_entries)
    GROUP BY t.id HAVING count(*) < 2 OR sum(e.amount) <> 0 OR bool_or(e.currency <> t.currency) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger transaction % does not balance in one currency', bad.id
            USING ERRCODE = 'check_violation';
    END IF;
    UPDATE ledger_account a SET running_total = a.running_total + n.total
    FROM (SELECT account_id, sum(amount) AS total FROM ledger_new_entries GROUP BY account_id) n
    WHERE a.id = n.account_id;
    RETURN NULL;
END
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("ledger", "0002_database_guards")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
