"""Group the alerts that deferred intake stored (``IRT_ALERT_CORRELATION=deferred``) into triage groups."""

from django.core.management.base import BaseCommand

from cases.services.intake import MAX_BULK, correlate_waiting
from irt.resilience import run_forever


class Command(BaseCommand):
    help = (
        "Group waiting alerts once, or keep doing so (--loop SECONDS between idle polls). Several may "
        "run side by side: each takes its own batch (SKIP LOCKED)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--loop", type=float, default=0, metavar="SECONDS",
                            help="Poll every SECONDS while nothing waits; work without pause while alerts arrive.")
        parser.add_argument("--batch", type=int, default=MAX_BULK, help=f"Alerts per transaction (default {MAX_BULK}).")

    def handle(self, *args, loop, batch, **options):
        if not loop:
            self.stdout.write(f"Grouped {self._drain(batch)} alerts.")
            return
        # A database outage is waited out (with backoff) rather than ending the loop.
        run_forever(lambda: self._drain(batch), what="correlate_alerts", pause=loop)

    def _drain(self, batch: int) -> int:
        """Group batches until one comes back short: a backlog is worked off without polling pauses."""
        total = 0
        while True:
            done = correlate_waiting(limit=batch)
            total += done
            if done < batch:
                return total
