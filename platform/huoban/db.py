"""The default database connection, typed for what django-tenants adds to it (set_tenant, schema_name, ...).

django.db.connection is a proxy to the current thread's connection; this is the same proxy, typed loosely so
the tenant methods type-check.
"""

from typing import Any

from django.db import connection as _connection

connection: Any = _connection
