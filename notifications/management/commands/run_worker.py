"""Run django_tasks_db's worker, riding out database outages instead of exiting on them.

``manage.py db_worker`` re-raises any ``OperationalError`` but a locked SQLite file, so a
PostgreSQL restart ends it and queued breach notices wait for a person to notice. This command
takes the same options and runs the same ``Worker``; when its loop fails because the database
went away, it closes the connection, waits (1 s, 2 s, 4 s … up to ``IRT_WORKER_BACKOFF_MAX_SECONDS``)
and runs it again. A task that was running when the database vanished is reclaimed by the
sweeper; its delivery's lease expires and it is sent again.
"""

from django_tasks_db.management.commands import db_worker

from irt.resilience import run_forever


class ResilientWorker(db_worker.Worker):
    """The database worker, restarted in place after a database outage."""

    finished = False

    def run(self) -> None:
        def one_run():
            super(ResilientWorker, self).run()
            # A normal return is --batch or --max-tasks done, or a graceful shutdown: stop.
            self.finished = True

        run_forever(one_run, what=f"worker {self.worker_id}", keep_going=lambda: self.running and not self.finished)


class Command(db_worker.Command):
    help = "Run the database background worker; survive database outages (use this rather than db_worker)."

    def handle(self, *, verbosity, queue_name, interval, batch, backend_name, startup_delay, reload, max_tasks,
               worker_id, exclude_queues, **options):
        self.configure_logging(verbosity)
        excluded = exclude_queues.split(",") if exclude_queues else []
        if excluded and "*" not in queue_name.split(","):
            raise db_worker.CommandError("--exclude-queues can only be used with --queue-name=*")
        worker = ResilientWorker(
            queue_names=queue_name.split(","), interval=interval, batch=batch, backend_name=backend_name,
            startup_delay=startup_delay, max_tasks=max_tasks, worker_id=worker_id, excluded_queue_names=excluded,
        )
        # No autoreload: a supervisor restarts this process, and a reloader child would hide its exit.
        worker.configure_signals()
        worker.run()
