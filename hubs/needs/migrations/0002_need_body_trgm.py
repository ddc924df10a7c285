"""A trigram index for duplicate suggestions (hubs.needs.selectors.need_similar), only where pg_trgm exists (see
hubs/partners/migrations/0002_pg_trgm.py: without the privilege to create it, suggestions are simply off)."""

from django.db import migrations

CREATE = """
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        CREATE INDEX IF NOT EXISTS needs_need_body_trgm ON needs_need USING gin (body public.gin_trgm_ops);
    END IF;
END
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("needs", "0001_initial")]

    operations = [migrations.RunSQL(CREATE, reverse_sql="DROP INDEX IF EXISTS needs_need_body_trgm", elidable=False)]
