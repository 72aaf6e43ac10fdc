"""Load demo data: the personas, two customers and a case in every lifecycle stage.

Idempotent: users and organisations are updated in place; each demo case is created (through
the services, so its timeline is real) only if no case with its title exists yet.
"""

import os
from datetime import timedelta

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from cases.management.demo_alerts import seed_alerts
from cases.management.demo_customers import seed_customer_admins
from cases.management.demo_evidence import seed_evidence
from cases.management.demo_playbooks import ensure_demo_playbooks
from cases.models import ClockDecision
from cases.models import Case, Organization, Service, User, hooks
from cases.services import breach, communications, lifecycle, playbooks, review, tasks, timeline
from cases.services import cases as case_services

DEFAULT_PASSWORD = "irt-demo-password"

SERVICES = ["Compute", "Object Storage", "Identity", "Managed Database", "Console", "Build Service"]

ORGANIZATIONS = [
    ("Contoso", "contoso", "security@contoso.example\nciso@contoso.example"),
    ("Fabrikam", "fabrikam", "secops@fabrikam.example"),
]

STAFF = [
    # username, first, last, team, is_superuser
    ("admin", "Ada", "Admin", None, True),
    ("manager", "Morgan", "Manager", "Incident managers", False),
    ("responder", "Riley", "Responder", "Responders", False),
    ("comms", "Casey", "Comms", "Communications", False),
]

CUSTOMERS = [("customer-contoso", "Connor", "Contoso", "contoso"), ("customer-fabrikam", "Fiona", "Fabrikam", "fabrikam")]


class Command(BaseCommand):
    help = "Create or refresh the demo users, organisations and cases (safe to run repeatedly)."

    def add_arguments(self, parser):
        parser.add_argument("--password", default=os.environ.get("IRT_DEMO_PASSWORD", DEFAULT_PASSWORD))
        parser.add_argument(
            "--totp-secret", default=os.environ.get("IRT_DEMO_TOTP_SECRET") or None,
            help="Base32 TOTP secret for every demo staff user's authenticator (random when not given).",
        )

    @transaction.atomic
    def handle(self, *args, password, totp_secret=None, **options):
        services = {name: Service.objects.get_or_create(name=name)[0] for name in SERVICES}
        orgs = {}
        for name, slug, contacts in ORGANIZATIONS:
            orgs[slug], _ = Organization.objects.update_or_create(slug=slug, defaults={"name": name, "security_contacts": contacts})
        users = {}
        for username, first, last, team, superuser in STAFF:
            user = self._user(username, first, last, password, is_superuser=superuser, is_staff=superuser)
            if team:
                user.groups.set([Group.objects.get(name=team)])
            users[username] = user
        totp_secret = self._enrol_staff([users[row[0]] for row in STAFF], totp_secret)
        for username, first, last, slug in CUSTOMERS:
            users[username] = self._user(username, first, last, password, organization=orgs[slug])
        # Contoso is in the EU: a breach of its data pre-ticks GDPR Art. 33.
        Organization.objects.filter(pk=orgs["contoso"].pk).update(in_eu=True)
        orgs["contoso"].in_eu = True
        versions = ensure_demo_playbooks(by=users["manager"])
        created = self._cases(users, orgs, services, versions)
        seed_alerts(users=users, orgs=orgs)
        self._follow_playbooks(users["manager"], versions)
        seed_evidence(manager=users["manager"], responder=users["responder"])
        seed_customer_admins(password=password)
        # What other apps add (notifications: a subscription example), without ``cases`` importing them.
        for line in hooks.seed_demo_extras(users):
            self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS(
            f"Demo data ready: {len(users)} users, {len(orgs)} organisations, {created} new case(s). "
            f"Password for every demo user: {password}"
        ))
        self.stdout.write(f"TOTP secret of every demo staff user (base32): {totp_secret}")

    def _enrol_staff(self, staff, secret: str | None) -> str:
        """Give each demo staff user an authenticator with one known secret, so demos can sign in."""
        from django_otp.util import random_hex
        from base64 import b32encode

        from cases.services import mfa

        secret = (secret or b32encode(bytes.fromhex(random_hex(20))).decode()).replace(" ", "").upper().rstrip("=")
        for user in staff:
            mfa.enrol_totp_with_secret(user=user, secret_b32=secret)
        return secret

    def _user(self, username, first, last, password, **fields) -> User:
        user, _ = User.objects.get_or_create(username=username)
        user.first_name, user.last_name = first, last
        user.email = f"{username}@irt.example" if not fields.get("organization") else f"{username}@{fields['organization'].slug}.example"
        for name, value in fields.items():
            setattr(user, name, value)
        user.is_active = True
        user.set_password(password)
        user.save()
        return user

    def _follow_playbooks(self, manager, versions) -> None:
        """Give every open demo case without a playbook (an alert promoted to a case) its best match."""
        open_cases = Case.objects.open()
        for case in open_cases.filter(playbook_version__isnull=True):
            version = playbooks.suggest_playbook(case) or versions["customer-data-exposure"]
            playbooks.apply_playbook(case=case, version=version, by=manager)

    def _cases(self, users, orgs, services, versions) -> int:
        manager, responder, comms = users["manager"], users["responder"], users["comms"]
        now = timezone.now()
        created = 0

        def new(title, playbook, **kwargs):
            nonlocal created
            if Case.objects.filter(title=title).exists():
                return None
            created += 1
            return case_services.open_case(by=kwargs.pop("by", responder), title=title,
                                           playbook_version=versions[playbook], **kwargs)

        def advance(case, *steps):
            for action, by, note in steps:
                # The demo team did the playbook's mandatory steps of the stage before leaving it.
                for task in case.tasks.open().filter(mandatory=True, step__stage=case.status):
                    tasks.complete_task(task=task, by=by)
                case = lifecycle.run_action(action_name=action, case=case, by=by, note=note)
            return case

        def triage(case, severity, scope, service_names, **changes):
            return case_services.update_case_details(
                case=case, by=manager, changes={"severity": severity, "scope": scope, **changes},
                services=[services[name] for name in service_names],
            )

        new("Credential-stuffing alerts on the console sign-in", "compromised-credential", source=Case.Source.ALERT,
            internal_summary="Spike of failed sign-ins from a residential proxy network.", detected_at=now - timedelta(minutes=40))

        case = new("Unusual API key use from a new network", "compromised-credential", source=Case.Source.ALERT, owner=responder,
                   internal_summary="An access key created last week is calling ListBuckets from an unfamiliar ASN.",
                   detected_at=now - timedelta(hours=3))
        if case:
            advance(case, ("start_assessment", responder, ""))

        # The exposure: reads began before a customer reported them and stopped with the rollback; the incident is still open.
        detected = (now - timedelta(hours=20)).replace(second=0, microsecond=0)
        impact = {"impact_started_at": detected - timedelta(minutes=50), "impact_ended_at": detected + timedelta(hours=2, minutes=40)}
        window = f"between {impact['impact_started_at']:%H:%M} and {impact['impact_ended_at']:%H:%M} UTC"
        case = new("Object storage listing exposed by a faulty policy rollout", "customer-data-exposure",
                   source=Case.Source.CUSTOMER_REPORT,
                   owner=manager, by=manager, detected_at=detected,
                   internal_summary="Policy engine 4.12 evaluated a deny as allow for cross-account list calls. Contoso buckets were listed and three objects read.")
        if case:
            case_services.add_member(case=case, by=manager, user=responder)
            case = advance(case, ("start_assessment", manager, ""))
            case = triage(case, Case.Severity.CRITICAL, Case.Scope.PROVIDER, ["Object Storage", "Identity"], **impact)
            case = advance(case, ("start_diagnosis", manager, ""))
            tasks.add_task(case=case, by=manager, title="Export access logs for the exposure window", assignee=responder, mandatory=True,
                           due_at=now + timedelta(hours=4))
            contoso_row = breach.add_affected_customer(
                case=case, by=manager, organization=orgs["contoso"], data_disclosed=True,
                impact_statement=f"Three objects in bucket contoso-reports were read by an unknown party {window}.")
            # A second person confirms the row; only then may Contoso read the incident.
            breach.confirm_affected_customer(row=contoso_row, by=comms)
            case = advance(case, ("stabilize", manager, "Rolled the policy engine back to 4.11; cross-account listing denied again."))
            breach.declare_breach(case=case, by=manager, note="Access logs confirm reads of Contoso objects by an external principal.",
                                  regimes=[ClockDecision.Kind.PERSONAL_DATA_BREACH], severity=Case.Severity.CRITICAL,
                                  breach_category=Case.BreachCategory.PRIVACY, accept_conflicts=False)
            update = communications.draft_update(
                case=case, by=responder, status="identified",
                public_title="Unauthorised read access to some Object Storage buckets",
                what_happened=f"A faulty access-policy rollout let another account list and read objects in some of your buckets {window}.",
                what_we_know="We identified the objects that were read and the time of each read. We have no indication that data was altered.",
                what_we_are_doing="We rolled the policy engine back, blocked the external principal and are reviewing every access in the window.",
                what_you_should_do="1. Review the objects listed in your impact statement.\n2. Rotate any credentials stored in them.\n"
                "3. Contact support if you need the full access log.",
                affected_services="Object Storage, Identity",
                **impact, detected_at=detected, next_update_by=(now + timedelta(days=1)).replace(minute=0, second=0, microsecond=0),
            )
            communications.approve_update(update=update, by=comms)

        case = new("Malware beacon from a build agent", "malware-provider-host", source=Case.Source.INTERNAL, owner=responder,
                   detected_at=now - timedelta(days=2))
        if case:
            case = advance(case, ("start_assessment", responder, ""))
            case = triage(case, Case.Severity.HIGH, Case.Scope.PROVIDER, ["Build Service"])
            case = advance(case, ("start_diagnosis", responder, ""))
            tasks.add_task(case=case, by=responder, title="Reimage the affected build agents", assignee=responder, mandatory=True)
            timeline.add_note(case=case, by=responder, text="Beacon matches a known commodity loader; no lateral movement seen so far.")

        case = new("Phishing campaign impersonating our support desk", "compromised-credential", source=Case.Source.RESEARCHER, owner=responder,
                   detected_at=now - timedelta(days=9))
        if case:
            case = advance(case, ("start_assessment", responder, ""))
            case = triage(case, Case.Severity.MEDIUM, Case.Scope.SHARED, ["Console"])
            case = advance(case, ("start_diagnosis", responder, ""),
                           ("stabilize", responder, "Look-alike domains taken down; warning banner published."))
            review.save_review(case=case, by=responder, what_happened="Look-alike domains harvested console passwords for 6 hours.",
                               what_went_wrong="Domain monitoring did not cover homoglyph variants.",
                               how_we_responded="Takedown within 4 hours of the first report.")
            review.approve_review(case=case, by=comms)
            communications.add_repair_item(case=case, by=responder, title="Monitor homoglyph variants of our domains",
                                           estimated_completion=(now + timedelta(days=30)).date())
            item = communications.add_repair_item(case=case, by=responder, title="Take down look-alike domains within one hour")
            communications.set_repair_status(item=item, by=responder, status="done")
            public_review = communications.save_published_review(
                case=case, by=responder, title="Phishing campaign impersonating our support desk", audience="public",
                impact_started_at=now - timedelta(days=9), impact_ended_at=now - timedelta(days=9) + timedelta(hours=6),
                who_was_affected="Customers who followed links in emails that appeared to come from our support desk.",
                what_happened="Attackers registered look-alike domains and sent emails asking customers to sign in again.",
                what_went_wrong="Our domain monitoring did not cover look-alike characters from other alphabets.",
                how_we_responded="We took the domains down within four hours of the first report and warned customers in the console.",
                how_customers_can_reduce_impact="Use phishing-resistant multi-factor authentication and bookmark the console address.",
            )
            communications.approve_published_review(review=public_review, by=comms)
            advance(case, ("close", manager, "Takedowns confirmed; monitoring extended to homoglyphs."))

        case = new("Researcher report: SSRF in the metadata proxy", "researcher-vulnerability-report", source=Case.Source.RESEARCHER,
                   detected_at=now - timedelta(days=4))
        if case:
            lifecycle.dismiss_case(case=case, by=manager, reason=Case.DismissalReason.FALSE_POSITIVE,
                                   note="The proxy rejects the crafted host header; the report tested a staging mock.")
        return created
