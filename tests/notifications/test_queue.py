"""Queueing: services reach the worker through one queue module, and nothing imports in a circle."""

import ast
import importlib
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from cases.services import queue
from notifications.services import queue as notification_queue

ROOT = Path(__file__).resolve().parent.parent.parent
PROJECT_PACKAGES = ("cases", "notifications", "irt")


def imports_inside_functions(path: Path) -> list[str]:
    """Return ``line: module`` for each import of a project module written inside a function."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for inner in ast.walk(node):
            names = []
            if isinstance(inner, ast.ImportFrom) and inner.module:
                names = [inner.module]
            elif isinstance(inner, ast.Import):
                names = [alias.name for alias in inner.names]
            found += [f"{inner.lineno}: {name}" for name in names if name.split(".")[0] in PROJECT_PACKAGES]
    return found


@pytest.mark.parametrize("folder", ["notifications", "cases/services"])
def test_services_and_tasks_import_project_modules_only_at_the_top(folder):
    # A project import inside a function is how a cycle hides; the app registries (apps.py) are the exception.
    offenders = {
        str(path.relative_to(ROOT)): lines
        for path in sorted((ROOT / folder).rglob("*.py"))
        if "migrations" not in path.parts and path.name != "apps.py" and (lines := imports_inside_functions(path))
    }
    assert offenders == {}


@pytest.mark.parametrize("module", ["notifications.tasks", "notifications.services.delivery", "notifications.services.outbox",
                                    "cases.tasks.security", "cases.services.sessions", "cases.services.mfa"])
def test_each_task_and_service_module_imports_first_in_a_fresh_interpreter(module):
    # Importing a module of a cycle first is what fails; a fresh process per module tries each one first.
    code = f"import django; django.setup(set_prefix=False); import {module}"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env={"DJANGO_SETTINGS_MODULE": "irt.settings", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr


def test_every_queued_name_has_a_registered_task():
    importlib.import_module("notifications.tasks")
    for name in (notification_queue.DELIVER, notification_queue.DELIVER_MANY, notification_queue.DRAIN,
                 notification_queue.FAN_OUT, notification_queue.SWEEP,
                 "cases.send_password_reset"):
        assert queue.get(name).module_path.endswith("_task")


def test_an_unknown_task_name_is_a_clear_error():
    with pytest.raises(LookupError, match="No task is registered as 'nope'"):
        queue.get("nope")


def test_a_queue_that_is_down_is_logged_and_not_raised(monkeypatch, caplog):
    task_ = queue.get(notification_queue.DELIVER)

    class Down:
        module_path = task_.module_path

        def enqueue(self, *args):
            raise ConnectionError("queue down")

        def using(self, **kwargs):
            return self

    monkeypatch.setitem(queue._tasks, notification_queue.DELIVER, Down())
    with caplog.at_level(logging.ERROR, logger="cases.services.queue"):
        assert queue.enqueue(notification_queue.DELIVER, "some-id") is False
    assert "Could not queue the task notifications.deliver" in caplog.text


def test_fan_out_queues_drains_for_the_emails_and_for_the_webhooks(db, monkeypatch, manager, contoso, settings):
    from notifications.models import Delivery, Notification, WebhookEndpoint
    from notifications.services.outbox import create_notification

    settings.IRT_NOTIFY_DRAIN_TASKS = 3
    queued, drains = [], []
    monkeypatch.setattr(notification_queue, "enqueue_deliveries", lambda ids, **kw: queued.append((list(ids), kw)))
    monkeypatch.setattr(notification_queue, "enqueue_drain", lambda pk, *, channel: drains.append((pk, channel)))
    endpoint = WebhookEndpoint.objects.create(organization=contoso, url="https://hooks.contoso.example/irt", secret="whsec_x")
    notification = create_notification(kind=Notification.Kind.CASE_ASSIGNED, title="t", deliveries=[
        Delivery(channel=Delivery.Channel.EMAIL, user=manager, address="a@irt.example"),
        Delivery(channel=Delivery.Channel.WEBHOOK, organization=contoso, endpoint=endpoint, address=endpoint.url),
        Delivery(channel=Delivery.Channel.INBOX, user=manager),
    ])
    queued.clear()
    assert notification_queue.fan_out(notification.pk) == 3 + 3
    assert queued == []
    assert drains == [(notification.pk, "email")] * 3 + [(notification.pk, "webhook")] * 3


def test_emails_are_queued_in_batches_and_webhooks_one_by_one(db, monkeypatch, settings):
    settings.IRT_NOTIFY_BATCH_SIZE = 2
    calls = []
    monkeypatch.setattr(queue, "enqueue", lambda name, *args, run_after=None: calls.append((name, *args)))
    notification_queue.enqueue_deliveries(["a", "b", "c"])
    notification_queue.enqueue_deliveries(["d", "e"], together=False)
    assert calls == [(notification_queue.DELIVER_MANY, ["a", "b"]), (notification_queue.DELIVER_MANY, ["c"]),
                     (notification_queue.DELIVER, "d"), (notification_queue.DELIVER, "e")]
