"""Issue 16, item 7: the case's impact window, and the times an incident update gives customers (impact, detection, next update)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0005_page_indexes'),
    ]

    operations = [
        migrations.AddField(
            model_name='case',
            name='impact_ended_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='impact ended'),
        ),
        migrations.AddField(
            model_name='case',
            name='impact_started_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='impact started'),
        ),
        migrations.AddField(
            model_name='incidentupdate',
            name='detected_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='Detected (UTC)'),
        ),
        migrations.AddField(
            model_name='incidentupdate',
            name='impact_ended_at',
            field=models.DateTimeField(blank=True, help_text='Leave empty while the impact is ongoing.', null=True, verbose_name='Impact ended (UTC)'),
        ),
        migrations.AddField(
            model_name='incidentupdate',
            name='impact_started_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='Impact started (UTC)'),
        ),
        migrations.AddField(
            model_name='incidentupdate',
            name='next_update_by',
            field=models.DateTimeField(blank=True, help_text='When customers can expect the next update; must still be in the future when approved.', null=True, verbose_name='Next update by (UTC)'),
        ),
    ]
