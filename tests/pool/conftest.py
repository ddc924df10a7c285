from __future__ import annotations

import pytest

from tests.pool.helpers import World, new_pool


@pytest.fixture
def world(hub_a, cast_a):  # type: ignore[no-untyped-def]
    """Inside hub A: a pool run by A's staff, a committee of three and A's treasurer."""
    with hub_a:
        yield new_pool(staff=cast_a.staff, treasurer=cast_a.treasurer)


@pytest.fixture
def make_world(hub_a, cast_a):  # type: ignore[no-untyped-def]
    def make(**rules) -> World:  # type: ignore[no-untyped-def]
        return new_pool(staff=cast_a.staff, treasurer=cast_a.treasurer, **rules)

    with hub_a:
        yield make
