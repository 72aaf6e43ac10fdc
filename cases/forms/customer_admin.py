"""The forms of a customer administrator's organisation page. Shape only; the rules live in cases/services/customer_admin.py."""

from django import forms


class InviteUserForm(forms.Form):
    email = forms.EmailField(max_length=254, help_text="They get an email with a link to choose their password.")
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    make_admin = forms.BooleanField(
        label="Administrator", required=False,
        help_text="Administrators manage users, security contacts, webhooks and feeds.",
    )


class SecurityContactForm(forms.Form):
    email = forms.EmailField(label="Security contact email", max_length=254,
                             help_text="Breach notices and incident updates are emailed to every security contact.")
