"""Running calls in real threads, each with its own database connection, released at one moment."""

import threading

from django.db import connections


def race(*calls, timeout=30):
    """Run each call in its own thread, released together; return each one's result or exception."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            outcomes[index] = call()
        except BaseException as error:  # noqa: BLE001 - the test inspects it
            outcomes[index] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
        assert not thread.is_alive(), "a thread is stuck: a lock was never released"
    return outcomes
