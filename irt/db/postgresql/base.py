"""Django's PostgreSQL backend with a health check that needs no round trip, and queries planned once per connection.

``CONN_HEALTH_CHECKS`` makes Django run ``SELECT 1`` before the first query of every request on a
kept connection, so that a connection the server dropped (a restart, a failover, an idle timeout)
is replaced instead of failing the request. That round trip is a whole extra query on every
request; on the alert intake path it was about a tenth of the work. A server that ends a
connection says so on the socket (an error message, then end of file), so a socket with nothing
to read belongs to a server that has not hung up: the connection is used as it is. Only when
something is waiting there is ``SELECT 1`` asked, as Django would. A silent network failure
(no message, no FIN) is not seen by either check: the query then fails on its own deadlines
(``connect_timeout``, ``statement_timeout``) and the connection is replaced on the next request.

Every statement passes ``irt.watched_reads``, which forgets this process's kept renderings when
the statement writes to a table they may have read.

``planned_once_cursor`` serves the queries run on every request with the same SQL
(``cases/access/prepared.py``): Django binds values into the SQL text on the client, so the server
plans each one afresh, and planning the signed-in read (a session, its user and four subqueries)
cost the server about 1 ms of its 1.2 ms (issue 18). Sent with server-side binding and prepared,
each is planned once per connection and then only run. Everything else stays Django's: its cursor
wrapper (query logging, execute wrappers, error translation), its health check, its connection.
Django's connections turn psycopg's prepared statements off (``prepare_threshold`` None); here the
threshold is out of reach instead, so nothing is prepared unless asked (Django's cursors bind on
the client and never are). Behind a transaction-pooling PgBouncer, use 1.21 or later with
``max_prepared_statements`` set.
"""

import datetime
import select

from django.conf import settings
from django.db.backends.postgresql import base, operations, psycopg_any
from psycopg import adapters
from psycopg.pq import Format

_TIMESTAMPTZ_OID = adapters.types["timestamptz"].oid
_COMPILED_TIMESTAMPTZ_LOADER = adapters.get_loader(_TIMESTAMPTZ_OID, Format.TEXT)  # psycopg's own: compiled with psycopg[binary]

# psycopg prepares a statement on its own once it has run this many times; None would refuse even when asked.
_ONLY_WHEN_ASKED = 2**31 - 1


class _PlannedOnceCursor(base.ServerBindingCursor):
    """psycopg's server-binding cursor, asking the server to keep the plan of every statement it runs."""

    def execute(self, query, params=None, *, prepare=None, binary=None):
        return super().execute(query, params, prepare=True, binary=binary)


class DatabaseOperations(operations.DatabaseOperations):
    def last_executed_query(self, cursor, sql, params):
        """The SQL with its values, as Django logs a client-bound query (a prepared one has no text of its own)."""
        if isinstance(cursor, _PlannedOnceCursor):
            try:
                return self.compose_sql(sql, params)
            except Exception:  # a value psycopg cannot write as a literal: the SQL as sent is still worth logging
                return sql
        return super().last_executed_query(cursor, sql, params)


def _reads_utc(connection, timezone) -> bool:
    """Whether the connection reads timestamps in UTC, as Django asks: psycopg's own loader then gives Django's datetimes."""
    return timezone is datetime.UTC and connection.info.parameter_status("TimeZone") == "UTC"


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from irt.watched_reads import watched_reads  # noqa: PLC0415 - Django loads backends before the project's modules

        # This process's own writes forget the renderings it kept at once (the notification comes after the commit).
        self.execute_wrappers.append(watched_reads.forget_on_write)

    def init_connection_state(self):
        """Django's connection, reading ``timestamptz`` with psycopg's compiled loader where Django's answer is the same.

        Django registers a subclass of psycopg's pure-Python loader so that every datetime carries the
        connection's time zone; psycopg's compiled one (``psycopg[binary]``) gives the very same
        datetimes when both are UTC, at a tenth of the cost: a list of fifty cases read fifty-five
        timestamps, 0.7 ms of its time (issue 18). Any other time zone keeps Django's loader.
        """
        super().init_connection_state()  # sets the connection's time zone to Django's
        if self.connection is not None and settings.USE_TZ and _reads_utc(self.connection, self.timezone):
            self.connection.adapters.register_loader("timestamptz", _COMPILED_TIMESTAMPTZ_LOADER)

    def create_cursor(self, name=None):
        """Django's cursor; Django's check of its loader's time zone is made here for the compiled loader."""
        if self.connection.adapters.get_loader(_TIMESTAMPTZ_OID, Format.TEXT) is not _COMPILED_TIMESTAMPTZ_LOADER:
            return super().create_cursor(name)
        utc = _reads_utc(self.connection, self.timezone)
        if name is None and utc:
            return self.connection.cursor()  # what Django's does for an unnamed cursor when the time zones agree
        # A named cursor (.iterator()), or the time zone changed since: Django's loader, where Django looks for it.
        psycopg_any.register_tzloader(self.timezone, self.connection)
        try:
            return super().create_cursor(name)
        finally:
            if utc:
                self.connection.adapters.register_loader("timestamptz", _COMPILED_TIMESTAMPTZ_LOADER)

    def get_connection_params(self):
        params = super().get_connection_params()
        if params.get("prepare_threshold") is None:
            params["prepare_threshold"] = _ONLY_WHEN_ASKED
        return params

    def is_usable(self):
        connection = self.connection
        if connection is None or connection.closed or connection.broken:
            return False
        try:
            # poll, not select: a worker holding hundreds of sockets may have its connection above fd 1024.
            poller = select.poll()
            poller.register(connection.fileno(), select.POLLIN)
            waiting = poller.poll(0)
        except (OSError, ValueError):
            return super().is_usable()
        return not waiting or super().is_usable()

    def planned_once_cursor(self):
        """Return a cursor, wrapped as ``cursor()`` wraps one, whose statements the server prepares (kept per connection).

        For SQL run again and again with new values only: psycopg keeps a connection's most recent
        hundred prepared statements and the server a plan for each.
        """
        self.close_if_health_check_failed()
        self.ensure_connection()
        with self.wrap_database_errors:
            return self._prepare_cursor(_PlannedOnceCursor(self.connection))
