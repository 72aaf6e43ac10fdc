"""URL patterns by audience: ``staff`` (staff pages) and ``public`` (everyone else); irt/urls.py mounts each namespace."""
