"""Access queries compiled once per process and thread, then run with each request's values.

Building and compiling an ORM query with three subqueries costs milliseconds of Python on every
request (issue 18), although the SQL is the same each time but for its values. ``PreparedQuery``
builds the queryset with the very same access functions (``querysets.py``: the rule stays where it
is written) once, with placeholder values, keeps the SQL and where each placeholder sits among its
parameters, and then runs that SQL with each request's values. Rows come back through the
compiler's own converters, as the ORM would return them.

Nothing about a user or a case is kept: only SQL text. A placeholder that the compiler put into the
SQL text instead of its parameters would make the SQL differ between two placeholder sets, so the
query is compiled twice with different placeholders and refused unless both compile alike.

A ``values_list`` queryset's rows come back as tuples (``rows``); a model queryset's, with its
``select_related`` and annotations, as model instances built as the ORM builds them (``objects``).
A datetime placeholder is matched, and each call's datetime passed, as the backend adapts it (SQLite
receives text).
"""

import threading
from datetime import datetime
from typing import NamedTuple

from django.core.exceptions import ImproperlyConfigured
from django.db import connections
from django.db.models.query import ModelIterable, get_related_populators


def _db_value(using: str, value):
    """Return ``value`` as the compiler hands it to the database for a datetime column."""
    if isinstance(value, datetime):
        return connections[using].ops.adapt_datetimefield_value(value)
    return value


class _Compiled(NamedTuple):
    compiler: object
    sql: str
    params: tuple
    slots: tuple  # the placeholder each parameter takes its value from, or None for a constant
    converters: dict
    populators: list | None  # how ``select_related`` objects are built; None for a values query


class PreparedQuery:
    """A queryset compiled once, run with new values for named placeholders.

    ``build(**values)`` returns the queryset; ``placeholders`` and ``others`` are two sets of
    distinctive example values for its keyword arguments (never values a real row has). A name in
    ``optional`` may be left out of the query (a superuser's ``visible_cases`` names no user); any
    other placeholder the compiled parameters do not hold is refused.
    """

    def __init__(self, build, *, placeholders: dict, others: dict, optional: tuple = ()):
        if set(placeholders) != set(others):
            raise ImproperlyConfigured("Both placeholder sets must name the same values.")
        self.build = build
        self.placeholders = placeholders
        self.others = others
        self.optional = frozenset(optional)
        self._local = threading.local()

    def _compile(self, using: str, placeholders: dict) -> tuple:
        queryset = self.build(**placeholders)
        compiler = queryset.query.get_compiler(using)
        sql, params = compiler.as_sql()
        slots = []
        db_values = {name: _db_value(using, value) for name, value in placeholders.items()}
        for param in params:
            names = [name for name, value in db_values.items() if type(param) is type(value) and param == value]
            if len(names) > 1:
                raise ImproperlyConfigured(f"Placeholders {names} share a value; give each its own.")
            slots.append(names[0] if names else None)
        if missing := set(placeholders) - set(slots) - self.optional:
            raise ImproperlyConfigured(f"Placeholders {sorted(missing)} are not parameters of the compiled query.")
        return compiler, sql, tuple(params), tuple(slots), queryset._iterable_class is ModelIterable

    def _prepared(self, using: str) -> _Compiled:
        prepared = getattr(self._local, using, None)
        if prepared is None:
            compiler, sql, params, slots, models = self._compile(using, self.placeholders)
            _, other_sql, other_params, other_slots, _ = self._compile(using, self.others)
            constants = [param for param, slot in zip(params, slots) if slot is None]
            other_constants = [param for param, slot in zip(other_params, other_slots) if slot is None]
            if (sql, slots, constants) != (other_sql, other_slots, other_constants):
                raise ImproperlyConfigured("The query compiles differently for other values; it cannot be prepared.")
            fields = [selected[0] for selected in compiler.select[: compiler.col_count]]
            populators = get_related_populators(compiler.klass_info, compiler.select, using) if models else None
            prepared = _Compiled(compiler, sql, params, slots, compiler.get_converters(fields), populators)
            setattr(self._local, using, prepared)
        return prepared

    def rows(self, using: str = "default", **values) -> list[tuple]:
        """Return the rows for these values, converted as ``values_list`` would return them."""
        return self._rows(self._prepared(using), using, values)

    def objects(self, using: str = "default", **values) -> list:
        """Return the model instances for these values, with their ``select_related`` objects and annotations.

        Built as Django's ``ModelIterable`` builds them; ``prefetch_related`` is not run (prefetch on the list).
        """
        prepared = self._prepared(using)
        compiler, populators = prepared.compiler, prepared.populators
        klass_info, select = compiler.klass_info, compiler.select
        if populators is None:
            raise ImproperlyConfigured("objects() needs a model queryset, not values() or values_list().")
        model, columns = klass_info["model"], klass_info["select_fields"]
        start, end = columns[0], columns[-1] + 1
        attnames = [selected[0].target.attname for selected in select[start:end]]
        annotations = compiler.annotation_col_map.items()
        instances = []
        for row in self._rows(prepared, using, values):
            instance = model.from_db(using, attnames, row[start:end])
            for populator in populators:
                populator.populate(row, instance)
            for name, position in annotations:
                setattr(instance, name, row[position])
            instances.append(instance)
        return instances

    def _rows(self, prepared: _Compiled, using: str, values: dict) -> list[tuple]:
        compiler, sql, params, slots, converters, _ = prepared
        if set(values) != set(self.placeholders):
            raise TypeError(f"Expected values for {sorted(self.placeholders)}, got {sorted(values)}.")
        connection = connections[using]
        # Planned once per connection where the backend can (irt/db/postgresql/base.py); else Django's cursor.
        cursor = getattr(connection, "planned_once_cursor", connection.cursor)()
        with cursor:
            cursor.execute(sql, [param if slot is None else _db_value(using, values[slot]) for param, slot in zip(params, slots)])
            rows = cursor.fetchall()
        if converters:
            rows = [tuple(row) for row in compiler.apply_converters(rows, converters)]
        return rows


class PreparedSlice(PreparedQuery):
    """A sorted queryset compiled once and run for one slice of its rows: every page of a list runs the same SQL.

    Django writes a slice's ``LIMIT`` and ``OFFSET`` into the SQL text, so each page of a list would
    compile a query of its own; here they are parameters after the queryset's SQL (``rows_slice``).
    """

    def rows_slice(self, using: str = "default", *, limit: int, offset: int, **values) -> list[tuple]:
        """Return rows ``offset`` to ``offset + limit`` of the query for these values, as ``rows`` returns them."""
        prepared = self._prepared(using)
        if prepared.compiler.query.is_sliced:
            raise ImproperlyConfigured("A sliced queryset cannot be prepared for slices of its own.")
        sliced = prepared._replace(sql=f"{prepared.sql} LIMIT %s OFFSET %s", params=(*prepared.params, limit, offset),
                                   slots=(*prepared.slots, None, None))
        return self._rows(sliced, using, values)
