"""The site's address patterns (irt/urls.py): each is reached at its own addresses, whatever the order they are tried in.

irt/urls.py orders its entries by how often they are read, so that Django, which tries them in order,
reaches the busiest pages first. That is safe only while no entry answers another's addresses: here each
pattern, given sample values, must resolve to itself.
"""

import re

import pytest
from django.urls import get_resolver, resolve

SAMPLES = {"str": "IRT-2026-0001", "int": "7", "slug": "a-slug", "uuid": "12345678-1234-5678-1234-567812345678", "path": "a/b"}


def _patterns(resolver, prefix=""):
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if hasattr(pattern, "url_patterns"):
            yield from _patterns(pattern, route)
        elif "^" not in route:  # Django admin's few regular expressions: its own, and tried only under admin/
            yield route, pattern


ROUTES = list(_patterns(get_resolver()))


def test_every_busy_section_is_there():
    routes = [route for route, _ in ROUTES]
    assert len(routes) > 300
    assert {"", "cases/", "cases/<str:reference>/", "portal/", "lessons/"} <= set(routes)


@pytest.mark.parametrize("route,pattern", ROUTES, ids=[route or "/" for route, _ in ROUTES])
def test_each_pattern_answers_its_own_addresses(route, pattern):
    address = "/" + re.sub(r"<(?:(\w+):)?\w+>", lambda match: SAMPLES.get(match.group(1) or "str", "x"), route)
    found = resolve(address)
    assert (found.func, found.url_name) == (pattern.callback, pattern.name), f"{address} reaches {found.view_name}"
