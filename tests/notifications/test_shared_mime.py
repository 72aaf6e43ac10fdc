"""One organisation's notice is made into MIME once and copied per recipient: the copies are the emails
the full build would have written, byte for byte (but for the Date and the MIME boundary)."""

import re

import pytest

from notifications.channels import email as email_channel

MARK = "irt-delivery-0123456789abcdef01234567"
PARTS = (
    "[IRT-2026-0042] Breach notice for Contoso",
    f"Your data was read.\nAcknowledge: https://irt.example/portal/ack/{MARK}/\nÀ bientôt.\n",
    f"<p>Your data was read.</p><p><a href=\"https://irt.example/portal/ack/{MARK}/\">Acknowledge</a> — merci</p>",
)
RECIPIENTS = [
    ("", "sec@contoso.example"),
    ("Zoë Ångström", "zoe@contoso.example"),
    ("Alexandra " + "Featherstonehaugh-" * 4 + "Smythe", "alexandra.featherstonehaugh@contoso.example"),
    ("", "security@bücher.example"),
    ("O'Brien, Pat", "pat@contoso.example"),
]


def normalised(wire: bytes) -> bytes:
    wire = re.sub(rb"^Date: .*\r\n", b"", wire, flags=re.MULTILINE)
    return re.sub(rb"={15}\d+==", b"BOUNDARY", wire)


@pytest.mark.parametrize("to_name, address", RECIPIENTS)
def test_a_copy_is_the_email_the_full_build_writes(to_name, address):
    shared = email_channel.shared_mime(PARTS, mark=MARK, headers={"X-IRT-Delivery-ID": MARK})
    assert shared is not None
    own = tuple(part.replace(MARK, "917") for part in PARTS)
    full = email_channel.message_from_parts(own, to=address, to_name=to_name, message_id="917",
                                            headers={"X-IRT-Delivery-ID": "917"})
    copy = email_channel.message_from_parts(own, to=address, to_name=to_name, message_id="917",
                                            headers={"X-IRT-Delivery-ID": "917"}, shared=shared, mark=MARK)
    assert isinstance(copy, email_channel.PrebuiltEmail) and not isinstance(full, email_channel.PrebuiltEmail)
    expected = full.message().as_bytes(linesep="\r\n")
    assert normalised(copy.message().as_bytes(linesep="\r\n")) == normalised(expected)
    assert copy.to == full.to and copy.body == full.body and copy.alternatives == full.alternatives


def test_a_mark_the_encoding_would_split_falls_back_to_the_full_build():
    # A line over 998 characters is sent quoted-printable, whose soft line breaks may cut the mark.
    long_line = ("x" * 70 + MARK) * 20
    assert email_channel.shared_mime((PARTS[0], long_line, PARTS[2]), mark=MARK) is None
