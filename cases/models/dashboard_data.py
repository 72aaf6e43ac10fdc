"""The generation of the data the staff dashboard's queues are read from (its kept copies are keyed on it).

Any save, deletion or regrouping in the apps it reads draws a new one (``cases/receivers/dashboard.py``);
a service whose bulk ``.update()`` changes what a queue shows (a notice reached, an alert group grown,
a delivery dead or retried) sends no signal, so it calls ``forget_queue_data`` itself.
"""

import hashlib

from irt.cache import Generations

_queue_data = Generations("dashboard")
_QUEUES = "queues"


def queue_data_version() -> str | None:
    """Return the generation of what the queues are read from, or None while the cache is away (render whole)."""
    return _queue_data.get_with_generation(_QUEUES, lambda: True)[1]


def kept_with_queue_data(name: str, compute):
    """Return ``compute()`` as kept until the queues' data changes: for a value read from the same rows (the case list's
    totals), read once per change instead of once per request. ``name`` must name everything the value depends on."""
    return _queue_data.get_with_generation(_QUEUES, compute, kept_as=hashlib.sha256(name.encode()).hexdigest())[0]


def forget_queue_data() -> None:
    _queue_data.forget([_QUEUES])
