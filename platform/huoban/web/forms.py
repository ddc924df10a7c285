from __future__ import annotations

from django import forms

from huoban.errors import ApplicationError


def form_apply_error(form: forms.Form, exc: ApplicationError) -> None:
    """Show a service's error on the form field it names, or on the form as a whole."""
    field = exc.extra.get("field")
    form.add_error(field if field in form.fields else None, str(exc.message))
