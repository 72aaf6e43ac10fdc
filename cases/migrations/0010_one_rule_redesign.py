# One rule, one place (issue 11): the user manager answers "staff user" and "who may own a case".
# The four-eyes constraints kept their names and conditions (now built by four_eyes_constraint),
# so the database schema does not change.

import cases.models.accounts
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0009_affected_confirmation_and_notices"),
    ]

    operations = [
        migrations.AlterModelManagers(
            name="user",
            managers=[
                ("objects", cases.models.accounts.IrtUserManager()),
            ],
        ),
    ]
