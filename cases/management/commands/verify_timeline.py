"""Walk every case's timeline and report the first broken link of its hash chain."""

from django.core.management.base import BaseCommand, CommandError

from cases.models import Case
from cases.selectors.timeline import first_broken_link


class Command(BaseCommand):
    help = "Verify the hash chain of every case timeline; exit non-zero at the first broken link."

    def add_arguments(self, parser):
        parser.add_argument("references", nargs="*", help="Only these cases (default: all).")

    def handle(self, *args, references, **options):
        cases = Case.objects.order_by("id")
        if references:
            cases = cases.filter(reference__in=references)
        checked = events = 0
        for case in cases.iterator():
            broken, count = first_broken_link(case)
            checked += 1
            events += count
            if broken:
                raise CommandError(f"{case.reference}: {broken}")
        self.stdout.write(self.style.SUCCESS(f"{checked} timelines, {events} events: every link holds."))
