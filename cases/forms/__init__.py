"""Forms by sub-domain: validation of what a person submits, before a service runs."""
