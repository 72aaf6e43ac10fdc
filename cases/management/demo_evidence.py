"""Demo evidence for ``seed_demo``: a log excerpt, a packet capture and a screenshot on two cases.

Stored through the evidence services, so each item has its SHA-256, its server-generated name and
its custody trail (added, then verified), as a real upload would. Idempotent: a case that already
holds an item of the same name is left alone.
"""

import struct
import zlib
from datetime import timedelta

from django.core.files.base import ContentFile
from django.utils import timezone

from cases.models import Case, User
from cases.services import evidence

EXPOSURE_LOG = "\n".join(
    f"2026-11-29T02:{10 + i:02d}:00Z GET /contoso-reports/{name} 200 principal=ext-7781 src=198.51.100.23"
    for i, name in enumerate(["q3.xlsx", "payroll-2026-10.csv", "board-minutes.pdf"])
) + "\n"


def _pcap() -> bytes:
    """Return a libpcap file holding one TCP SYN from the beacon host to its command server."""
    header = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)  # Ethernet link type
    ethernet = bytes.fromhex("02420a000002" "02420a000001" "0800")
    ip = bytes.fromhex("4500002c0001000040060000" "0a000005" "cb007107")  # 10.0.0.5 -> 203.0.113.7
    tcp = bytes.fromhex("c35101bb" "00000001" "00000000" "6002ffff00000000" "020405b4")  # :50001 -> :443 SYN
    packet = ethernet + ip + tcp
    return header + struct.pack("<IIII", 1764388800, 0, len(packet), len(packet)) + packet


def _png(width: int = 64, height: int = 40) -> bytes:
    """Return a small PNG: a grey console page with a red banner, as a screenshot stands in for."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(
        b"\x00" + (b"\xb4\x23\x18" if y < 8 else b"\xf6\xf8\xfa") * width for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def seed_evidence(*, manager: User, responder: User) -> int:
    """Add the demo evidence to the breach case and the malware case; return how many items were added."""
    now = timezone.now()
    plan = [
        (Case.objects.filter(title="Object storage listing exposed by a faulty policy rollout").first(), manager, [
            ("object-storage-access.log", EXPOSURE_LOG.encode(), "Access log excerpt: the external principal's reads in the exposure window.",
             "log pipeline, bucket contoso-reports"),
            ("policy-engine-console.png", _png(), "Screenshot of the policy engine console showing the faulty 4.12 rule.",
             "policy engine admin console"),
        ]),
        (Case.objects.filter(title="Malware beacon from a build agent").first(), responder, [
            ("build-agent-07-beacon.pcap", _pcap(), "Packet capture of the beacon's first connection to its command server.",
             "build-agent-07, eth0"),
            ("build-agent-07-edr.log", b"2026-11-30T01:02:03Z process=loader.bin parent=bash action=connect dst=203.0.113.7:443\n",
             "EDR log excerpt of the loader process.", "EDR console export"),
        ]),
    ]
    added = 0
    for case, by, items in plan:
        if case is None:
            continue
        existing = set(case.evidence.values_list("original_name", flat=True))
        for name, content, description, where in items:
            if name in existing:
                continue
            item = evidence.add_evidence(case=case, by=by, content=ContentFile(content, name=name), original_name=name,
                                         description=description, collected_at=now - timedelta(hours=2),
                                         collected_where=where, collected_by=by.display_name)
            evidence.verify_evidence(evidence=item, by=by)
            added += 1
    return added
