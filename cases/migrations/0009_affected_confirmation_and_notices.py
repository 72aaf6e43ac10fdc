"""Affected organisations reach a customer only when a second person confirms them; out-of-band
notices need a second person too; the first view of an incident page per customer user is kept."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def _user_fk():
    return models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL)


class Migration(migrations.Migration):

    dependencies = [
        ("cases", "0008_legal_hold"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterModelOptions(name="affectedcustomer", options={"ordering": ["organization__name", "added_at"]}),
        migrations.RemoveConstraint(model_name="affectedcustomer", name="one_affected_row_per_org_and_case"),
        migrations.AddField(model_name="affectedcustomer", name="edited_by", field=_user_fk()),
        migrations.AddField(model_name="affectedcustomer", name="confirmed_by", field=_user_fk()),
        migrations.AddField(model_name="affectedcustomer", name="pending_impact_statement", field=models.TextField(blank=True)),
        migrations.AddField(model_name="affectedcustomer", name="pending_impact_by", field=_user_fk()),
        migrations.AddField(model_name="affectedcustomer", name="pending_impact_at", field=models.DateTimeField(blank=True, null=True)),
        migrations.AddField(
            model_name="affectedcustomer", name="notified_via",
            field=models.CharField(blank=True, choices=[("delivery", "Delivered breach notice"), ("out_of_band", "Out-of-band notice")], max_length=20),
        ),
        migrations.AddField(model_name="affectedcustomer", name="withdrawn_at", field=models.DateTimeField(blank=True, null=True)),
        migrations.AddField(model_name="affectedcustomer", name="withdrawn_by", field=_user_fk()),
        migrations.AddField(model_name="affectedcustomer", name="withdrawal_reason", field=models.TextField(blank=True)),
        migrations.AddField(model_name="affectedcustomer", name="exposure", field=models.JSONField(blank=True, default=list)),
        migrations.AddConstraint(
            model_name="affectedcustomer",
            constraint=models.UniqueConstraint(
                condition=models.Q(("withdrawn_at__isnull", True)), fields=("case", "organization"),
                name="one_active_affected_row_per_org_and_case",
            ),
        ),
        migrations.AddConstraint(
            model_name="affectedcustomer",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("confirmed_by__isnull", True),
                    models.Q(
                        models.Q(("confirmed_by", models.F("added_by")), _negated=True),
                        models.Q(("edited_by__isnull", True), models.Q(("confirmed_by", models.F("edited_by")), _negated=True), _connector="OR"),
                    ),
                    _connector="OR",
                ),
                name="affected_row_confirmer_is_not_author",
                violation_error_message="Whoever added or edited an affected organisation cannot confirm it.",
            ),
        ),
        migrations.AddField(model_name="deadline", name="met_out_of_band", field=models.BooleanField(default=False)),
        migrations.CreateModel(
            name="OutOfBandNotice",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("channel", models.CharField(choices=[("phone", "Phone call"), ("letter", "Letter"), ("other_email", "Email from another system"), ("ticket", "Support ticket")], max_length=20)),
                ("person_reached", models.CharField(help_text="Name and role of the person at the organisation.", max_length=200)),
                ("reached_at", models.DateTimeField(verbose_name="Reached at (UTC)")),
                ("evidence_reference", models.CharField(help_text="Where the proof is: call log id, letter tracking number, ticket number, message id.", max_length=300)),
                ("recorded_at", models.DateTimeField(auto_now_add=True)),
                ("approved_at", models.DateTimeField(blank=True, null=True)),
                ("approved_by", _user_fk()),
                ("recorded_by", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL)),
                ("row", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="out_of_band_notices", to="cases.affectedcustomer")),
            ],
            options={"ordering": ["recorded_at", "id"]},
        ),
        migrations.AddConstraint(
            model_name="outofbandnotice",
            constraint=models.CheckConstraint(
                condition=models.Q(("approved_by__isnull", True), models.Q(("approved_by", models.F("recorded_by")), _negated=True), _connector="OR"),
                name="out_of_band_notice_approver_is_not_recorder",
                violation_error_message="Whoever recorded an out-of-band notice cannot approve it.",
            ),
        ),
        migrations.CreateModel(
            name="IncidentPageView",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("viewed_at", models.DateTimeField(auto_now_add=True)),
                ("case", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="page_views", to="cases.case")),
                ("organization", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="+", to="cases.organization")),
                ("user", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="+", to=settings.AUTH_USER_MODEL)),
            ],
        ),
        migrations.AddConstraint(
            model_name="incidentpageview",
            constraint=models.UniqueConstraint(fields=("case", "user"), name="one_first_page_view_per_user_and_case"),
        ),
        migrations.AlterField(
            model_name="timelineevent",
            name="kind",
            field=models.CharField(choices=[('opened', 'Case opened'), ('transition', 'Stage changed'), ('refused', 'Action refused'), ('note', 'Note'), ('details_changed', 'Details changed'), ('owner_changed', 'Owner changed'), ('member_added', 'Member added'), ('member_removed', 'Member removed'), ('task_added', 'Task added'), ('task_done', 'Task done'), ('task_reopened', 'Task reopened'), ('customer_added', 'Affected customer added'), ('customer_changed', 'Affected customer changed'), ('customer_removed', 'Affected customer removed'), ('customer_confirmed', 'Affected customer confirmed'), ('customer_withdrawn', 'Affected customer withdrawn'), ('customer_notified', 'Customer notified'), ('notice_recorded', 'Out-of-band notice recorded'), ('notice_approved', 'Out-of-band notice approved'), ('breach_declared', 'Breach declared'), ('delay_requested', 'Deadline delay requested'), ('delay_approved', 'Deadline delay approved'), ('deadline_met', 'Deadline met'), ('review_saved', 'Post-incident review saved'), ('review_approved', 'Post-incident review approved'), ('update_drafted', 'Customer update drafted'), ('update_published', 'Customer update published'), ('public_review_saved', 'Customer review saved'), ('public_review_published', 'Customer review published'), ('repair_changed', 'Repair item changed'), ('legal_hold', 'Legal hold changed'), ('evidence_added', 'Evidence added'), ('evidence_downloaded', 'Evidence downloaded'), ('evidence_verified', 'Evidence verified'), ('evidence_mismatch', 'Evidence failed verification'), ('evidence_superseded', 'Evidence superseded'), ('evidence_exported', 'Evidence exported'), ('evidence_purged', 'Evidence bytes purged')], max_length=30),
        ),
    ]
