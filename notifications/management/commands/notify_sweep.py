"""Queue deliveries whose worker died or whose task went missing, and write deadline reminders."""

import time

from django.core.management.base import BaseCommand

from notifications.services.delivery import sweep
from notifications.services.queue import schedule_sweep


class Command(BaseCommand):
    help = "Run the notification sweeper once, in a loop (--loop SECONDS), or start its periodic task (--schedule)."

    def add_arguments(self, parser):
        parser.add_argument("--loop", type=int, default=0, metavar="SECONDS", help="Sweep every SECONDS until stopped.")
        parser.add_argument("--schedule", action="store_true",
                            help="Queue the self-rescheduling sweep task (needs a backend that supports run_after).")

    def handle(self, *args, loop, schedule, **options):
        if schedule:
            queued = schedule_sweep()
            self.stdout.write("Periodic sweep queued." if queued else "A periodic sweep is already queued (or the backend cannot defer).")
            return
        while True:
            result = sweep()
            self.stdout.write(f"Re-queued {result['requeued']} deliveries; wrote {result['reminders']} deadline reminders.")
            if not loop:
                return
            time.sleep(loop)
