"""Background tasks (Django Tasks API) by sub-domain; each calls a service."""
