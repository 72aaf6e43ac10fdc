"""Reads by sub-domain: the querysets behind pages, with bounded query counts."""
