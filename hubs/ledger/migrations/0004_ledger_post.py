"""A posting in one statement: ``ledger_post`` inserts the transaction, locks its accounts, checks the rules and
appends the entries to the chain, so a posting outside a caller's transaction is one round trip that commits
as it ends (the locks it takes are held for the server's work and the commit, never for a trip to the client).

The rules are the ones ``hubs.ledger.posting`` documents, in the same order; a refusal raises a class ``HL``
SQLSTATE the posting code turns into its translated error:

- HL001 an account does not exist (DETAIL: the missing ids, comma-separated);
- HL002 an account is closed, HL003 an account is in another currency (DETAIL: the account id);
- HL004 money leaves a restricted account for a purpose outside its restriction (DETAIL: account id);
- HL005 a no-overdraft account would go below zero (DETAIL: account id, available, needed).

A key posted before (``ON CONFLICT`` on the idempotency key, waiting for a concurrent posting of the same key to
finish) returns NULL and writes nothing; the caller replays the first transaction. Schema-local, as 0002.
"""

from django.db import migrations

FORWARD = r"""
CREATE FUNCTION ledger_post(
    p_id bigint, p_key varchar, p_request_hash varchar, p_currency varchar, p_memo varchar, p_source varchar,
    p_subject varchar, p_occurred_at timestamptz, p_created_at timestamptz, p_created_by bigint, p_reverses bigint,
    p_accounts bigint[], p_amounts bigint[], p_purposes varchar[], p_bodies text[]
) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    inserted bigint;
    wanted bigint[];
    locked bigint[];
    bad record;
BEGIN
    -- The transaction first: a concurrent posting of the same key waits on the unique index here, before taking
    -- any account lock, then finds the key taken.
    INSERT INTO ledger_ledgertransaction (id, idempotency_key, request_hash, currency, memo, source, subject,
        occurred_at, created_at, created_by_id, reverses_id)
    VALUES (p_id, p_key, p_request_hash, p_currency, p_memo, p_source, p_subject, p_occurred_at, p_created_at,
        p_created_by, p_reverses)
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id INTO inserted;
    IF inserted IS NULL THEN
        RETURN NULL;
    END IF;
    -- Lock the accounts in id order (concurrent postings queue, never deadlock); the statements after this one
    -- see their current running totals.
    SELECT array_agg(DISTINCT a ORDER BY a) INTO wanted FROM unnest(p_accounts) a;
    SELECT array_agg(id) INTO locked
    FROM (SELECT id FROM ledger_account WHERE id = ANY(wanted) ORDER BY id FOR UPDATE) l;
    IF cardinality(locked) IS DISTINCT FROM cardinality(wanted) THEN
        RAISE EXCEPTION 'ledger accounts not found' USING ERRCODE = 'HL001',
            DETAIL = array_to_string(ARRAY(SELECT w FROM unnest(wanted) w WHERE w <> ALL(coalesce(locked, '{}'))), ',');
    END IF;
    SELECT id INTO bad FROM ledger_account WHERE id = ANY(wanted) AND closed_at IS NOT NULL ORDER BY id LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger account closed' USING ERRCODE = 'HL002', DETAIL = bad.id::text;
    END IF;
    SELECT id INTO bad FROM ledger_account WHERE id = ANY(wanted) AND currency <> p_currency ORDER BY id LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger account in another currency' USING ERRCODE = 'HL003', DETAIL = bad.id::text;
    END IF;
    -- Restrictions bind money leaving a restricted account; a reversal restores an earlier state and is exempt.
    IF p_reverses IS NULL THEN
        SELECT a.id INTO bad
        FROM unnest(p_accounts, p_amounts, p_purposes) WITH ORDINALITY AS u(account_id, amount, purpose, n)
        CROSS JOIN LATERAL (SELECT id, kind, restricted_to FROM ledger_account WHERE id = u.account_id) a
        WHERE a.restricted_to <> ''
          AND CASE WHEN a.kind IN ('asset', 'expense') THEN u.amount ELSE -u.amount END < 0
          AND u.purpose <> a.restricted_to AND NOT starts_with(u.purpose, a.restricted_to || '/')
        ORDER BY u.n LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'restricted funds' USING ERRCODE = 'HL004', DETAIL = bad.id::text;
        END IF;
    END IF;
    -- No-overdraft: an account may not end below zero, unless the posting raises it (a reversal of spending).
    SELECT a.id, a.available, a.available - a.after AS needed INTO bad
    FROM (
        SELECT u.account_id, sum(u.amount) AS delta, min(u.n) AS first
        FROM unnest(p_accounts, p_amounts) WITH ORDINALITY AS u(account_id, amount, n) GROUP BY u.account_id
    ) d
    CROSS JOIN LATERAL (
        SELECT id, s * running_total AS available, s * (running_total + d.delta) AS after
        FROM ledger_account, LATERAL (SELECT CASE WHEN kind IN ('asset', 'expense') THEN 1 ELSE -1 END AS s) k
        WHERE id = d.account_id AND no_overdraft
    ) a
    WHERE a.after < 0 AND a.after < a.available
    ORDER BY d.first LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'insufficient funds' USING ERRCODE = 'HL005',
            DETAIL = bad.id || ',' || bad.available || ',' || bad.needed;
    END IF;
    PERFORM ledger_chain_append(p_id, p_currency, p_accounts, p_amounts, p_purposes, p_bodies);
    RETURN p_id;
END
$$;
"""

BACKWARD = r"""
DROP FUNCTION IF EXISTS ledger_post(
    bigint, varchar, varchar, varchar, varchar, varchar, varchar, timestamptz, timestamptz, bigint, bigint,
    bigint[], bigint[], varchar[], text[]
);
"""


class Migration(migrations.Migration):
    dependencies = [("ledger", "0003_entries_apply_index_driven")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
