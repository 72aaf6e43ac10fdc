"""A webhook receiver on 127.0.0.1 for tests and benchmarks: a customer's endpoint without the network."""

import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import standardwebhooks


class LoopbackReceiver:
    """Serve POSTs on a free loopback port; each is answered by ``answer(path, headers, body)``.

    Subclasses decide what a request means (verify a signature, count an id, be slow); the server,
    its threads and its shutdown are the same for all of them.
    """

    def __init__(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                headers = {name.lower(): value for name, value in self.headers.items()}
                status, extra = receiver.answer(self.path, headers, body)
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.end_headers()

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 1024  # a burst of thousands of deliveries queues rather than being refused

        self.server = Server(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.url = f"{self.base}/hooks/irt"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, path: str, headers: dict, body: bytes) -> tuple[int, dict]:
        """Return the status and extra headers to answer with."""
        return 204, {}

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def serving(settings, receiver: LoopbackReceiver):
    """Let webhooks reach the loopback receiver (private addresses are refused otherwise), and stop it after."""
    settings.IRT_WEBHOOK_ALLOW_PRIVATE = True
    try:
        yield receiver
    finally:
        receiver.stop()


class Receiver(LoopbackReceiver):
    """An HTTP receiver on 127.0.0.1 that verifies Standard Webhooks signatures like a customer would."""

    def __init__(self):
        self.secret = None
        self.received = []  # (headers, body) that verified
        self.rejected = []
        self.responses = []  # queued (status, headers) answers; 204 when empty
        super().__init__()

    def answer(self, path, headers, body):
        try:
            # The reference library, as a customer's receiver would verify (5 minutes' tolerance).
            standardwebhooks.Webhook(self.secret).verify(body, headers)
        except standardwebhooks.webhooks.WebhookVerificationError:
            self.rejected.append(headers)
            return 401, {}
        status, extra = self.responses.pop(0) if self.responses else (204, {})
        if 200 <= status < 300:
            self.received.append((headers, body))
        return status, extra


@pytest.fixture
def receiver(settings):
    """A customer's webhook endpoint at ``receiver.url``; set ``receiver.secret`` to the endpoint's secret."""
    with serving(settings, Receiver()) as server:
        yield server
