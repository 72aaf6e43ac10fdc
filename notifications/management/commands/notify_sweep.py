"""Queue deliveries whose worker died or whose task went missing, write deadline reminders and timeline checkpoints,
and delete expired sessions."""

import logging
import time
from importlib import import_module

from django.conf import settings
from django.core.management.base import BaseCommand

from cases.services.timeline_checkpoints import write_checkpoints
from notifications.services.delivery import sweep
from notifications.services.queue import schedule_sweep
from irt.resilience import DATABASE_OUTAGE, run_forever

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = (
        "Run the notification sweeper once, in a loop (--loop SECONDS; it also writes signed timeline "
        "checkpoints and deletes expired sessions every IRT_TIMELINE_CHECKPOINT_MINUTES), or start its periodic task (--schedule)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--loop", type=int, default=0, metavar="SECONDS", help="Sweep every SECONDS until stopped.")
        parser.add_argument("--schedule", action="store_true",
                            help="Queue the self-rescheduling sweep task (needs a backend that supports run_after).")

    def handle(self, *args, loop, schedule, **options):
        if schedule:
            queued = schedule_sweep()
            self.stdout.write("Periodic sweep queued." if queued else "A periodic sweep is already queued (or the backend cannot defer).")
            return
        if not loop:
            self._sweep_once()
            return
        self._next_checkpoint = time.monotonic()
        # A database outage is waited out (with backoff) rather than ending the loop.
        run_forever(self._sweep_and_checkpoint, what="notify_sweep", pause=loop)

    def _sweep_once(self):
        result = sweep()
        self.stdout.write(f"Re-queued {result['requeued']} deliveries; wrote {result['reminders']} deadline reminders"
                          f"; reclaimed {result['reclaimed']} tasks of dead workers.")

    def _sweep_and_checkpoint(self):
        self._sweep_once()
        if time.monotonic() < self._next_checkpoint:
            return
        period = settings.IRT_TIMELINE_CHECKPOINT_MINUTES * 60
        self._clear_expired_sessions()
        try:
            run = write_checkpoints()
        except DATABASE_OUTAGE:
            raise  # run_forever waits the outage out; the checkpoint is still due afterwards
        except Exception:
            # A storage or key problem must not stop the notices; it is logged and tried next period.
            logger.exception("notify_sweep: writing timeline checkpoints failed; trying again in %d s.", period)
        else:
            # Broken chains left unsigned are logged as errors by write_checkpoints itself.
            self.stdout.write(f"Checkpointed {run.written} timeline heads; {run.unchanged} unchanged"
                              f"; {len(run.refused)} broken chains left unsigned.")
        self._next_checkpoint = time.monotonic() + period

    def _clear_expired_sessions(self):
        """Delete the sessions past their expiry date, as Django's ``clearsessions`` does.

        Every sign-in adds a session row and nothing else removes one that expired: without this
        the table (read on every signed-in request) only grows.
        """
        engine = import_module(settings.SESSION_ENGINE)
        engine.SessionStore.clear_expired()
        self.stdout.write("Deleted expired sessions.")
