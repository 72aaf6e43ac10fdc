"""Django's PostgreSQL backend with a health check that needs no round trip while the server is there.

``CONN_HEALTH_CHECKS`` makes Django run ``SELECT 1`` before the first query of every request on a
kept connection, so that a connection the server dropped (a restart, a failover, an idle timeout)
is replaced instead of failing the request. That round trip is a whole extra query on every
request; on the alert intake path it was about a tenth of the work. A server that ends a
connection says so on the socket (an error message, then end of file), so a socket with nothing
to read belongs to a server that has not hung up: the connection is used as it is. Only when
something is waiting there is ``SELECT 1`` asked, as Django would. A silent network failure
(no message, no FIN) is not seen by either check: the query then fails on its own deadlines
(``connect_timeout``, ``statement_timeout``) and the connection is replaced on the next request.
"""

import select

from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
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
