from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.http import HttpRequest

from huoban.identity.models import User
from huoban.identity.services import user_find_by_login


class EmailOrMobileBackend(ModelBackend):
    """Sign in with an email address or a mainland mobile number, and a password."""

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> User | None:
        if not username or not password:
            return None
        user = user_find_by_login(username)
        if user is None:
            User().set_password(password)  # same work either way, so timing does not tell whether an account exists
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
