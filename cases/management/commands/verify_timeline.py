"""Walk every case's timeline and report the first broken link of its keyed chain or a checkpoint it lost."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cases.models import Case
from cases.selectors.timeline import first_broken_link
from cases.services.timeline_checkpoints import export_log, read_log


class Command(BaseCommand):
    help = (
        "Verify every case timeline: the keyed hash chain, and every signed checkpoint in the checkpoint log; "
        "exit non-zero at the first problem."
    )

    def add_arguments(self, parser):
        parser.add_argument("references", nargs="*", help="Only these cases (default: all).")
        parser.add_argument("--export", metavar="FOLDER",
                            help="First write the checkpoint log and its public key into FOLDER, for auditors.")

    def handle(self, *args, references, export, **options):
        if export:
            for path in export_log(Path(export)):
                self.stdout.write(f"Wrote {path}")
        log = read_log()
        if log.problem:
            raise CommandError(f"checkpoint log: {log.problem}")
        cases = Case.objects.order_by("id")
        if references:
            cases = cases.filter(reference__in=references)
        checked = events = 0
        seen = set()
        for case in cases.iterator():
            broken, count = first_broken_link(case, checkpoints=log.heads.get(case.reference))
            checked += 1
            events += count
            seen.add(case.reference)
            if broken:
                raise CommandError(f"{case.reference}: {broken}")
        wanted = set(references) if references else set(log.heads)
        if gone := sorted(wanted.intersection(log.heads) - seen):
            raise CommandError(f"{gone[0]}: a signed checkpoint records this case, but it is gone from the database.")
        self.stdout.write(self.style.SUCCESS(
            f"{checked} timelines, {events} events: every link holds. "
            f"{log.lines} signed checkpoints read; every one still on its chain."
        ))
