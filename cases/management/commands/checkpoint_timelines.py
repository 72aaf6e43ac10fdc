"""Sign the head of every case timeline that moved since its last checkpoint and add it to the checkpoint log."""

from django.core.management.base import BaseCommand, CommandError

from cases.services.timeline_checkpoints import write_checkpoints


class Command(BaseCommand):
    help = (
        "Write a signed checkpoint (reference, event count, head hash, time) for every case whose timeline moved "
        "since its last one; exit non-zero if a chain was broken and so left unsigned."
    )

    def handle(self, *args, **options):
        run = write_checkpoints()
        where = f" to {run.segment}" if run.segment else ""
        self.stdout.write(f"Checkpointed {run.written} timeline heads{where}; {run.unchanged} unchanged.")
        if run.refused:
            raise CommandError("Not checkpointed, the chain is broken: " + "; ".join(run.refused))
