"""Byte sizes in one unit system, IEC (KiB, MiB, GiB): pages, refusal messages and the upload bar agree.

Django's ``filesizeformat`` divides by 1,024 but writes "KB" and "MB", which are SI's names for
powers of 1,000; a limit of 100 MiB would read "100.0 MB" on a page and mean something else to a
reader checking it against ``ls --si``. static/irt/evidence-upload.js writes the same units.
"""

UNITS = ("bytes", "KiB", "MiB", "GiB", "TiB")


def byte_size(count: int | None) -> str:
    """Return ``count`` bytes as '512 bytes', '1.5 KiB', '100 MiB' (one decimal, none when whole)."""
    if count is None:
        return "—"
    value, unit = float(count), 0
    while value >= 1024 and unit < len(UNITS) - 1:
        value /= 1024
        unit += 1
    if unit == 0:
        return "1 byte" if count == 1 else f"{count:,} bytes"
    text = f"{value:.1f}".removesuffix(".0")
    return f"{text} {UNITS[unit]}"
