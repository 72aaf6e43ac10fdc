"""Issue 16, item 2: subscriptions to the emailed follow-ups of one incident or of one service's incidents."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('cases', '0005_page_indexes'),
        ('notifications', '0004_delivery_pending_claim_index'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Subscription',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('receive', models.BooleanField()),
                ('updated_at', models.DateTimeField(auto_now=True)),
                ('case', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='subscriptions', to='cases.case')),
                ('changed_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('organization', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='subscriptions', to='cases.organization')),
                ('service', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='subscriptions', to='cases.service')),
                ('user', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='subscriptions', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'constraints': [models.CheckConstraint(condition=models.Q(models.Q(('case__isnull', True), ('service__isnull', False)), models.Q(('case__isnull', False), ('service__isnull', True)), _connector='OR'), name='subscription_names_an_incident_or_a_service'), models.UniqueConstraint(condition=models.Q(('case__isnull', False), ('user__isnull', False)), fields=('user', 'case'), name='one_subscription_per_user_and_incident'), models.UniqueConstraint(condition=models.Q(('service__isnull', False), ('user__isnull', False)), fields=('user', 'service'), name='one_subscription_per_user_and_service'), models.UniqueConstraint(condition=models.Q(('case__isnull', False), ('user__isnull', True)), fields=('organization', 'case'), name='one_subscription_per_organization_and_incident'), models.UniqueConstraint(condition=models.Q(('service__isnull', False), ('user__isnull', True)), fields=('organization', 'service'), name='one_subscription_per_organization_and_service')],
            },
        ),
    ]
