"""Settings for the webhook benchmark: ``benchmarks.settings`` plus receivers on loopback over plain http."""

from benchmarks.settings import *  # noqa: F403

# The benchmark's receivers listen on 127.0.0.1; production never sets this (see the SSRF guard).
IRT_WEBHOOK_ALLOW_PRIVATE = True
