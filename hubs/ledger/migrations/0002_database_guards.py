"""Database-side guarantees of the ledger, kept schema-local (no schema-qualified names) because hub schemas are
cloned from the template and renamed: functions live in the hub schema and django-tenants' clone_schema copies
them and the triggers with it.

- ledger_ledgerentry / ledger_ledgertransaction are append-only: UPDATE, DELETE and TRUNCATE raise.
- Inserting entries (one statement-level trigger) refuses an entry whose currency is not its account's and a
  transaction whose entries, all written in that one statement, do not sum to zero in the transaction's
  currency; then adds them to their accounts' running totals.
- At commit (a deferred constraint trigger) every new transaction must have at least two entries.
- Names resolve through the search path, set to the hub by the code that writes. The deferred check fires at
  commit, when the session may already have left the hub, so it names its table through TG_TABLE_SCHEMA; the
  entries trigger refuses to run unless the search path points at the table's own schema.
- An account's running total can only change through that trigger, and starts at zero; its kind and currency
  are fixed.
- ledger_chain_append numbers, hashes and inserts a transaction's entries under the chain-head lock.
- The single chain-head row exists from the start (cloned with the template's data).
"""

from django.db import migrations

FORWARD = r"""
CREATE FUNCTION ledger_forbid_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the ledger is append-only: % on % refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END
$$;

CREATE TRIGGER ledger_entry_append_only BEFORE UPDATE OR DELETE ON ledger_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION ledger_forbid_change();
CREATE TRIGGER ledger_entry_no_truncate BEFORE TRUNCATE ON ledger_ledgerentry
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_forbid_change();
CREATE TRIGGER ledger_transaction_append_only BEFORE UPDATE OR DELETE ON ledger_ledgertransaction
    FOR EACH ROW EXECUTE FUNCTION ledger_forbid_change();
CREATE TRIGGER ledger_transaction_no_truncate BEFORE TRUNCATE ON ledger_ledgertransaction
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_forbid_change();

CREATE FUNCTION ledger_entries_apply() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE TRIGGER ledger_entries_apply AFTER INSERT ON ledger_ledgerentry
    REFERENCING NEW TABLE AS ledger_new_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_entries_apply();

CREATE FUNCTION ledger_transaction_check_entries() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    lines integer;
BEGIN
    -- Runs at commit, when the session may be anywhere: qualify with the table's own schema.
    EXECUTE format('SELECT count(*) FROM %I.ledger_ledgerentry WHERE transaction_id = $1', TG_TABLE_SCHEMA)
        INTO lines USING NEW.id;
    IF lines < 2 THEN
        RAISE EXCEPTION 'ledger transaction % has % entries', NEW.id, lines USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$$;

CREATE CONSTRAINT TRIGGER ledger_transaction_has_entries AFTER INSERT ON ledger_ledgertransaction
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_transaction_check_entries();

CREATE FUNCTION ledger_account_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.running_total <> 0 THEN
            RAISE EXCEPTION 'a new ledger account starts at zero' USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END IF;
    -- Depth 1 is a statement from a client; the entries trigger updates totals at depth 2.
    IF NEW.running_total IS DISTINCT FROM OLD.running_total AND pg_trigger_depth() < 2 THEN
        RAISE EXCEPTION 'ledger account % running total is kept from its entries', OLD.id
            USING ERRCODE = 'restrict_violation';
    END IF;
    IF NEW.kind IS DISTINCT FROM OLD.kind OR NEW.currency IS DISTINCT FROM OLD.currency THEN
        RAISE EXCEPTION 'ledger account % keeps its kind and currency', OLD.id USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER ledger_account_guard BEFORE INSERT OR UPDATE ON ledger_account
    FOR EACH ROW EXECUTE FUNCTION ledger_account_guard();

-- Append a transaction's entries to the hub's hash chain: lock the chain head, number and hash the entries
-- (sha256 of the previous hash and "<seq>|<body>", the body being the entry's canonical JSON made by
-- hubs.ledger.chain.entry_body), insert them and move the head. The posting service calls it as its last
-- statement, so the head lock, which serialises the hub's postings, is held only from here to commit.
CREATE FUNCTION ledger_chain_append(
    p_transaction bigint, p_currency varchar, p_accounts bigint[], p_amounts bigint[], p_purposes varchar[],
    p_bodies text[]
) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    head_seq bigint;
    head_hash varchar;
    seqs bigint[] := '{}';
    hashes varchar[] := '{}';
BEGIN
    SELECT seq, hash INTO head_seq, head_hash FROM ledger_chainhead WHERE id = 1 FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'the ledger chain head is missing' USING ERRCODE = 'no_data_found';
    END IF;
    FOR i IN 1 .. cardinality(p_accounts) LOOP
        head_seq := head_seq + 1;
        head_hash := encode(sha256(convert_to(head_hash || head_seq::text || '|' || p_bodies[i], 'UTF8')), 'hex');
        seqs := seqs || head_seq;
        hashes := hashes || head_hash;
    END LOOP;
    INSERT INTO ledger_ledgerentry (transaction_id, account_id, amount, currency, purpose, seq, hash)
    SELECT p_transaction, u.account_id, u.amount, p_currency, u.purpose, u.seq, u.hash
    FROM unnest(p_accounts, p_amounts, p_purposes, seqs, hashes) AS u(account_id, amount, purpose, seq, hash);
    UPDATE ledger_chainhead SET seq = head_seq, hash = head_hash WHERE id = 1;
    RETURN head_seq;
END
$$;

INSERT INTO ledger_chainhead (id, seq, hash) VALUES (1, 0, repeat('0', 64)) ON CONFLICT (id) DO NOTHING;
"""

BACKWARD = r"""
DROP TRIGGER IF EXISTS ledger_account_guard ON ledger_account;
DROP TRIGGER IF EXISTS ledger_transaction_has_entries ON ledger_ledgertransaction;
DROP TRIGGER IF EXISTS ledger_entries_apply ON ledger_ledgerentry;
DROP TRIGGER IF EXISTS ledger_transaction_no_truncate ON ledger_ledgertransaction;
DROP TRIGGER IF EXISTS ledger_transaction_append_only ON ledger_ledgertransaction;
DROP TRIGGER IF EXISTS ledger_entry_no_truncate ON ledger_ledgerentry;
DROP TRIGGER IF EXISTS ledger_entry_append_only ON ledger_ledgerentry;
DROP FUNCTION IF EXISTS ledger_chain_append(bigint, varchar, bigint[], bigint[], varchar[], text[]);
DROP FUNCTION IF EXISTS ledger_account_guard();
DROP FUNCTION IF EXISTS ledger_transaction_check_entries();
DROP FUNCTION IF EXISTS ledger_entries_apply();
DROP FUNCTION IF EXISTS ledger_forbid_change();
"""


class Migration(migrations.Migration):
    dependencies = [("ledger", "0001_initial")]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
