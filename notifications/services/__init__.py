"""Telling people: the outbox (``outbox``), delivery and retries (``delivery``), reminders, webhooks."""
