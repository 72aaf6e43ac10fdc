"""The bounds of the copies a process keeps (irt/near_cache.py's ``KeptCopies``): entries, bytes and age."""

from irt.near_cache import KeptCopies


def test_the_copies_never_hold_more_bytes_than_their_budget():
    kept = KeptCopies(limit=1_000, max_bytes=10_000)
    for i in range(100):
        kept.keep(f"page-{i}", "x" * 900, 60)
        assert sum(len(pickled) for pickled, _ in kept.entries.values()) <= 10_000
    assert kept.get("page-99") == "x" * 900, "the latest copy is kept"


def test_the_copies_never_hold_more_entries_than_their_limit():
    kept = KeptCopies(limit=10)
    for i in range(25):
        kept.keep(f"value-{i}", i, 60)
        assert len(kept.entries) <= 10
    assert kept.get("value-24") == 24


def test_a_copy_past_its_time_is_not_served():
    kept = KeptCopies()
    kept.keep("old", "value", 0)
    assert kept.get("old") is None and "old" not in kept.entries
