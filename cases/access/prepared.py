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
"""

import threading

from django.core.exceptions import ImproperlyConfigured
from django.db import connections


class PreparedQuery:
    """A ``values_list`` queryset compiled once, run with new values for named placeholders.

    ``build(**values)`` returns the queryset; ``placeholders`` and ``others`` are two sets of
    distinctive example values for its keyword arguments (never values a real row has).
    """

    def __init__(self, build, *, placeholders: dict, others: dict):
        if set(placeholders) != set(others):
            raise ImproperlyConfigured("Both placeholder sets must name the same values.")
        self.build = build
        self.placeholders = placeholders
        self.others = others
        self._local = threading.local()

    def _compile(self, using: str, placeholders: dict) -> tuple:
        compiler = self.build(**placeholders).query.get_compiler(using)
        sql, params = compiler.as_sql()
        slots = []
        for param in params:
            names = [name for name, value in placeholders.items() if type(param) is type(value) and param == value]
            if len(names) > 1:
                raise ImproperlyConfigured(f"Placeholders {names} share a value; give each its own.")
            slots.append(names[0] if names else None)
        if missing := set(placeholders) - set(slots):
            raise ImproperlyConfigured(f"Placeholders {sorted(missing)} are not parameters of the compiled query.")
        return compiler, sql, tuple(params), tuple(slots)

    def _prepared(self, using: str) -> tuple:
        prepared = getattr(self._local, using, None)
        if prepared is None:
            compiler, sql, params, slots = self._compile(using, self.placeholders)
            _, other_sql, other_params, other_slots = self._compile(using, self.others)
            constants = [param for param, slot in zip(params, slots) if slot is None]
            other_constants = [param for param, slot in zip(other_params, other_slots) if slot is None]
            if (sql, slots, constants) != (other_sql, other_slots, other_constants):
                raise ImproperlyConfigured("The query compiles differently for other values; it cannot be prepared.")
            fields = [selected[0] for selected in compiler.select[: compiler.col_count]]
            prepared = (compiler, sql, params, slots, compiler.get_converters(fields))
            setattr(self._local, using, prepared)
        return prepared

    def rows(self, using: str = "default", **values) -> list[tuple]:
        """Return the rows for these values, converted as ``values_list`` would return them."""
        compiler, sql, params, slots, converters = self._prepared(using)
        if set(values) != set(self.placeholders):
            raise TypeError(f"Expected values for {sorted(self.placeholders)}, got {sorted(values)}.")
        with connections[using].cursor() as cursor:
            cursor.execute(sql, [param if slot is None else values[slot] for param, slot in zip(params, slots)])
            rows = cursor.fetchall()
        if converters:
            rows = [tuple(row) for row in compiler.apply_converters(rows, converters)]
        return rows
