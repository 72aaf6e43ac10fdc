"""The REST API under /api/v1/: the browser's services and access rules, with token auth and scopes.

One module per sub-domain (``cases.py``, ``evidence.py``, ``alerts.py``) beside the framework:
``authentication`` (Bearer tokens), ``permissions`` (scopes), ``problems`` (RFC 9457 errors),
``throttling`` (per-token rate), ``parsers``/``renderers`` (size limits, no-store), ``schema``.
"""
