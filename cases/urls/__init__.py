"""URL patterns by sub-domain; irt/urls.py includes each module."""
