"""Sizes read the same everywhere: IEC units, on pages, in refusals and in the upload bar."""

from pathlib import Path

import pytest

from irt.sizes import byte_size

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("count", "text"), [
    (None, "—"), (0, "0 bytes"), (1, "1 byte"), (1023, "1,023 bytes"), (1024, "1 KiB"), (1536, "1.5 KiB"),
    (100 * 1024 * 1024, "100 MiB"), (5 * 1024**3 + 1024**3 // 10, "5.1 GiB"), (3 * 1024**4, "3 TiB"),
])
def test_byte_size_writes_iec_units(count, text):
    assert byte_size(count) == text


def test_no_page_or_message_uses_djangos_kb_and_mb():
    """``filesizeformat`` writes "MB" for a power of 1,024; every size goes through irt.sizes instead."""
    offenders = [str(path.relative_to(ROOT)) for folder in ("templates", "cases", "notifications", "irt")
                 for path in (ROOT / folder).rglob("*") if path.suffix in {".html", ".py", ".txt"}
                 and "filesizeformat" in path.read_text(errors="ignore") and path.name != "sizes.py"]
    assert offenders == []
    script = (ROOT / "static/irt/evidence-upload.js").read_text()
    assert '"KiB", "MiB", "GiB"' in script and '"MB"' not in script
