"""Insert many plain rows without building a model instance for each: the correlator's link tables.

``bulk_create`` builds and prepares a model instance per row, which at thousands of rows a second
cost the correlator more than the database did. These rows have no defaults, signals or
``save()`` to honour: ids, strings and one timestamp column.
"""

from django.db import connection
from django.db.models import DateTimeField

BATCH = 2000


def insert_rows(model, columns: list[str], rows: list[tuple], *, ignore_conflicts: bool = False) -> None:
    """Insert ``rows`` (tuples in the order of ``columns``) into ``model``'s table, in batches."""
    if not rows:
        return
    fields = [model._meta.get_field(name) for name in columns]
    quote = connection.ops.quote_name
    table, names = quote(model._meta.db_table), ", ".join(quote(field.column) for field in fields)
    prepared = [isinstance(field, DateTimeField) for field in fields]
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), BATCH):
            chunk = rows[start:start + BATCH]
            columns_of_chunk = [
                [field.get_db_prep_save(value, connection) for value in column] if prepare else list(column)
                for field, prepare, column in zip(fields, prepared, zip(*chunk))
            ]
            if postgres:
                # One array per column: the statement's size does not grow with the rows.
                arrays = ", ".join(f"%s::{field.db_type(connection)}[]" for field in fields)
                sql = f"INSERT INTO {table} ({names}) SELECT * FROM UNNEST({arrays})"
                sql += " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
                cursor.execute(sql, columns_of_chunk)
            else:
                row = "(" + ", ".join(["%s"] * len(fields)) + ")"
                verb = "INSERT OR IGNORE" if ignore_conflicts else "INSERT"
                sql = f"{verb} INTO {table} ({names}) VALUES {', '.join([row] * len(chunk))}"
                cursor.execute(sql, [value for values in zip(*columns_of_chunk) for value in values])
