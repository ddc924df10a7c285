"""pg_trgm for fuzzy search of partner names, created once in the public schema.

This migration runs in the hub template and in every hub schema (with only that schema on the search path), so it
names the public schema explicitly and must be idempotent: IF NOT EXISTS, and a concurrent creation by another
hub's migration (parallel fleet migration) is ignored. Without the privilege to create extensions (PostgreSQL 13+
lets a database owner create trusted extensions such as pg_trgm; otherwise a superuser must run
``CREATE EXTENSION pg_trgm WITH SCHEMA public`` once), the migration only warns: search then falls back to
substring matching (hubs.partners.selectors.trigram_available). The extension is shared by every hub, so reversing
this migration for one hub leaves it in place.
"""

from django.db import migrations

CREATE = """
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;
EXCEPTION
    WHEN unique_violation OR duplicate_object THEN
        NULL;  -- created at the same moment by another hub's migration
    WHEN insufficient_privilege THEN
        RAISE WARNING 'pg_trgm could not be created (%); partner search falls back to substring matching', SQLERRM;
END
$$;
"""


class Migration(migrations.Migration):
    dependencies = [("partners", "0001_initial")]

    operations = [migrations.RunSQL(CREATE, reverse_sql=migrations.RunSQL.noop, elidable=False)]
