"""Test data builders."""

from __future__ import annotations

import itertools

import factory
from stdnum.cn import uscc

from huoban.identity.models import Organisation, User

_serial = itertools.count(1000)


def credit_code(region: str, serial: int | None = None, prefix: str = "52") -> str:
    """A unified social credit code with a correct check character (civil-affairs registered by default)."""
    base = f"{prefix}{region}MJ{(serial if serial is not None else next(_serial)):07d}"
    return base + uscc.calc_check_digit(base)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User

    name = factory.Sequence(lambda n: f"用户{n}")
    email = factory.Sequence(lambda n: f"user{n}@example.test")
    password = factory.django.Password("correct-horse-battery-staple")


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"公益组织{n}")
    kind = "social_organisation"
    region_code = "510104"
    credit_code = factory.LazyFunction(lambda: credit_code("510104"))
    created_by = factory.SubFactory(UserFactory)
