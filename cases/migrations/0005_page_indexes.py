"""Indexes the staff pages' plans need at 10,000 cases (docs/benchmarks.md shows EXPLAIN before and after)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0004_customer_questions"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="case",
            index=models.Index(fields=["-detected_at", "-id"], name="case_newest_first"),
        ),
        migrations.AddIndex(
            model_name="case",
            index=models.Index(
                condition=models.Q(("status__in", ["closed", "dismissed"]), _negated=True),
                fields=["-detected_at", "-id"], name="case_open_newest_first",
            ),
        ),
        migrations.AddIndex(
            model_name="timelineevent",
            index=models.Index(fields=["case", "kind", "-sequence"], name="timeline_case_kind"),
        ),
    ]
