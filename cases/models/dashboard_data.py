"""The generation of the data the staff dashboard's queues are read from (its kept copies are keyed on it).

Any save, deletion or regrouping in the apps it reads draws a new one (``cases/receivers/dashboard.py``);
a service whose bulk ``.update()`` changes what a queue shows (a notice reached, an alert group grown,
a delivery dead or retried) sends no signal, so it calls ``forget_queue_data`` itself.
"""

from irt.cache import Generations

_queue_data = Generations("dashboard")
_QUEUES = "queues"


def queue_data_version() -> str | None:
    """Return the generation of what the queues are read from, or None while the cache is away (render whole)."""
    return _queue_data.get_with_generation(_QUEUES, lambda: True)[1]


def forget_queue_data() -> None:
    _queue_data.forget([_QUEUES])
