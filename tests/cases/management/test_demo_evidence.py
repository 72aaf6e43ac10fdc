"""``seed_demo`` shows evidence at work: a log, a packet capture and a screenshot on two cases, with custody."""

import hashlib

from django.core.management import call_command

from cases.models import Case, Evidence
from cases.models.evidence import evidence_storage
from cases.services.evidence import hash_stored


def test_seed_demo_stores_evidence_on_two_cases_with_hashes_and_custody(db):
    call_command("seed_demo")
    items = list(Evidence.objects.select_related("case"))
    assert len({item.case_id for item in items}) >= 2
    names = {item.original_name for item in items}
    assert {"object-storage-access.log", "build-agent-07-beacon.pcap", "policy-engine-console.png"} <= names
    for item in items:
        assert hash_stored(item) == (item.sha256, item.size), item.original_name
        assert set(item.custody.values_list("action", flat=True)) >= {"evidence_added", "evidence_verified"}
    pcap = next(item for item in items if item.original_name.endswith(".pcap"))
    with evidence_storage().open(pcap.stored_name, "rb") as handle:
        assert handle.read(4) == bytes.fromhex("d4c3b2a1"), "a libpcap file"
    assert hashlib.sha256(b"").hexdigest() not in {item.sha256 for item in items}


def test_seed_demo_adds_the_evidence_once(db):
    call_command("seed_demo")
    count = Evidence.objects.count()
    call_command("seed_demo")
    assert Evidence.objects.count() == count
    assert Case.objects.filter(evidence__isnull=False).distinct().count() >= 2
