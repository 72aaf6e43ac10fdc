"""Re-hash every stored evidence item and record the result on its custody trail; purged items are reported, not hashed."""

from django.core.management.base import BaseCommand, CommandError

from cases.models import Case
from cases.services.evidence import verify_all


class Command(BaseCommand):
    help = "Verify the SHA-256 of every evidence item of every case; exit non-zero if any item changed or is missing."

    def add_arguments(self, parser):
        parser.add_argument("references", nargs="*", help="Only these cases (default: all).")

    def handle(self, *args, references, **options):
        cases = Case.objects.filter(evidence__isnull=False).distinct().order_by("id")
        if references:
            cases = cases.filter(reference__in=references)
        checked = 0
        failed = []
        purged = 0
        for case in cases.iterator():
            result = verify_all(case=case, by=None)
            checked += result.checked
            purged += len(result.purged)
            for item in result.purged:
                # Purged on purpose by an admin: reported, not a failure.
                self.stdout.write(f"PURGED {case.reference} {item.label} {item.display_name} on {item.purged_at:%Y-%m-%d %H:%M} UTC")
            for item in result.failed:
                failed.append(f"{case.reference} {item.label} {item.display_name}")
                self.stderr.write(f"MISMATCH {case.reference} {item.label} {item.display_name}")
        if failed:
            raise CommandError(f"{len(failed)} of {checked} evidence items no longer match their SHA-256.")
        note = f" {purged} purged item{'s' if purged != 1 else ''} not checked." if purged else ""
        self.stdout.write(self.style.SUCCESS(f"{checked} evidence items: every SHA-256 matches.{note}"))
