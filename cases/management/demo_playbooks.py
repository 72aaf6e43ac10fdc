"""Demo playbooks for seed_demo: the SOP for the response team's most common kinds of case.

Each has steps in every working stage, with the NIST SP 800-61r3 / CSF 2.0 function each serves.
Created once per slug (a later run leaves playbooks and their versions as they are).
"""

from datetime import timedelta

from cases.models import Case, Playbook, Service
from cases.services import playbooks

S = Case.Status
H = timedelta(hours=1)


def step(stage, title, nist, *, mandatory=False, role="responder", due=None, guidance=""):
    return {"stage": stage, "title": title, "nist_function": nist, "mandatory": mandatory, "expected_role": role,
            "due_offset": due, "guidance": guidance}


PLAYBOOKS = [
    {
        "slug": "customer-data-exposure", "name": "Customer data exposure",
        "purpose": "Customer data may have been read, changed or deleted by someone without the right to: find out whose, "
        "stop it, and tell them within the contractual 72 hours.",
        "criteria": {"source": Case.Source.CUSTOMER_REPORT}, "steps": [
            step(S.DETECTED, "Confirm the report with provider-side logs", "detect", mandatory=True, due=H,
                 guidance="Look for the requests the customer describes in the **storage access logs** and the "
                 "policy engine decision log. Attach what you find as evidence."),
            step(S.DETECTED, "Open a bridge and page the service on-call", "respond", due=H / 2),
            step(S.ASSESSING, "Name the affected services and tenants", "respond", mandatory=True, due=4 * H,
                 guidance="List every tenant whose objects were reachable. Add each as an affected customer; a second "
                 "person confirms before they can read the incident."),
            step(S.ASSESSING, "Decide whether personal data is involved (GDPR, HIPAA)", "respond", role="manager", due=4 * H,
                 guidance="If yes, record the awareness decision on the case: it starts the GDPR Art. 33 clock."),
            step(S.DIAGNOSING, "Export access logs for the exposure window", "respond", mandatory=True, due=8 * H),
            step(S.DIAGNOSING, "Draft the customer notice with comms", "respond", role="comms", due=24 * H),
            step(S.STABILIZING, "Verify the fix holds with a regression test", "recover", mandatory=True),
            step(S.STABILIZING, "Write the post-incident review", "improve", mandatory=True, role="manager"),
        ],
    },
    {
        "slug": "compromised-credential", "name": "Compromised credential or token",
        "purpose": "An access key, token or password is used by someone it was not issued to: revoke, scope the use, rotate.",
        "criteria": {"source": Case.Source.ALERT, "affected_service": "Identity"}, "steps": [
            step(S.DETECTED, "Identify the principal and the credential", "detect", mandatory=True, due=H / 2),
            step(S.ASSESSING, "Revoke or disable the credential", "respond", mandatory=True, due=H,
                 guidance="Revoke first, ask later: a revoked key costs the owner minutes, a live one costs data."),
            step(S.ASSESSING, "List every call made with it since issue", "respond", due=4 * H),
            step(S.DIAGNOSING, "Find how it leaked (repo, log, phishing, endpoint)", "respond", mandatory=True),
            step(S.STABILIZING, "Confirm the owner rotated dependent secrets", "recover", mandatory=True),
            step(S.STABILIZING, "Add a detection for the leak path", "improve"),
        ],
    },
    {
        "slug": "malware-provider-host", "name": "Malware on a provider host",
        "purpose": "Malware runs on a host we operate: isolate it, keep the evidence, rebuild from a known-good image.",
        "criteria": {"source": Case.Source.INTERNAL}, "steps": [
            step(S.DETECTED, "Isolate the host from the network", "respond", mandatory=True, due=H / 2),
            step(S.ASSESSING, "Capture memory and disk images", "respond", mandatory=True, due=2 * H,
                 guidance="Capture **before** reimaging. Upload the images as evidence: the hash is computed on upload."),
            step(S.DIAGNOSING, "Hunt for the same indicators across the fleet", "detect", mandatory=True, due=24 * H),
            step(S.DIAGNOSING, "Check for lateral movement and tenant access", "respond"),
            step(S.STABILIZING, "Reimage the affected hosts", "recover", mandatory=True),
            step(S.STABILIZING, "Block the indicators in the EDR policy", "improve"),
        ],
    },
    {
        "slug": "researcher-vulnerability-report", "name": "Vulnerability report from a security researcher",
        "purpose": "A researcher reports a vulnerability: thank them, reproduce, fix, and agree on disclosure.",
        "criteria": {"source": Case.Source.RESEARCHER}, "steps": [
            step(S.DETECTED, "Acknowledge the report to the researcher", "respond", mandatory=True, due=24 * H, role="comms",
                 guidance="Thank them, give the case reference and a contact. Never ask them to stop testing in scope."),
            step(S.ASSESSING, "Reproduce in a test environment", "detect", mandatory=True, due=72 * H),
            step(S.DIAGNOSING, "Check logs for exploitation before the report", "respond", mandatory=True),
            step(S.STABILIZING, "Ship the fix and confirm with the researcher", "recover", mandatory=True),
            step(S.STABILIZING, "Agree the disclosure date and credit", "improve", role="comms"),
        ],
    },
    {
        "slug": "denial-of-service", "name": "Denial of service",
        "purpose": "A traffic flood or resource exhaustion degrades a service: absorb, filter, and find the source.",
        "criteria": {"source": Case.Source.ALERT, "affected_service": "Console"}, "steps": [
            step(S.DETECTED, "Confirm it is an attack, not a release or load spike", "detect", mandatory=True, due=H / 4),
            step(S.ASSESSING, "Turn on upstream scrubbing and rate limits", "respond", mandatory=True, due=H / 2),
            step(S.DIAGNOSING, "Characterise the traffic and block the sources", "respond", mandatory=True),
            step(S.STABILIZING, "Scale back the emergency limits", "recover", mandatory=True),
            step(S.STABILIZING, "Review capacity and alert thresholds", "improve"),
        ],
    },
]


def ensure_demo_playbooks(*, by) -> dict:
    """Create the demo playbooks that do not exist yet; return the current version of each by slug."""
    versions = {}
    for spec in PLAYBOOKS:
        playbook = Playbook.objects.filter(slug=spec["slug"]).first()
        if playbook is None:
            criteria = dict(spec["criteria"])
            if "affected_service" in criteria:
                criteria["affected_service"] = Service.objects.get_or_create(name=criteria["affected_service"])[0]
            steps = [{**row, "order": i} for i, row in enumerate(spec["steps"], start=1)]
            versions[spec["slug"]] = playbooks.save_playbook(
                by=by, playbook=None, slug=spec["slug"], name=spec["name"], purpose=spec["purpose"],
                auto_apply=False, criteria=criteria, steps=steps,
            )
        else:
            versions[spec["slug"]] = playbook.versions.order_by("-number").first()
    return versions
