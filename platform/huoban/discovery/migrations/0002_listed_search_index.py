"""The full-text index covers listed entries only (open and upcoming), which is all search reads.

The new index is built before the old one is dropped, both without locking out the drain's writes.
"""

import django.contrib.postgres.indexes
from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("discovery", "0001_initial"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="discoveryentry",
            index=django.contrib.postgres.indexes.GinIndex(
                condition=models.Q(("status__in", ("open", "upcoming"))),
                fields=["search_vector"],
                name="discovery_entry_listed_gin",
            ),
        ),
        RemoveIndexConcurrently(
            model_name="discoveryentry",
            name="discovery_entry_search_gin",
        ),
    ]
