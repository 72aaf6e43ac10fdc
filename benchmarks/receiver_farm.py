"""Many customers' webhook receivers in one process of their own, as they would be on other machines.

Run by ``benchmarks/notify_webhooks.py`` (``python benchmarks/receiver_farm.py SLOW_SECONDS``; it
prints its port on its first line). One asyncio server answers every endpoint: ``/slow/…`` after
``SLOW_SECONDS``, anything else at once, so a thousand slow answers cost a thousand sleeping
coroutines, not a thousand threads in the process that measures IRT. It counts each
``webhook-id`` it answers and when (``time.monotonic()``, one clock for every process on Linux).
``GET /stats`` returns ``{"answered": n}``; ``GET /take`` returns the counts and times as JSON
(``{id: [count, last answer]}``) and starts again from none.
"""

import asyncio
import json
import sys
import time

HEAD_LIMIT = 16 * 1024


class Farm:
    def __init__(self, slow_seconds: float):
        self.slow_seconds = slow_seconds
        self.answered: dict[str, list] = {}

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            if len(head) > HEAD_LIMIT:
                raise ValueError("head too large")
            request_line, *header_lines = head.decode("latin-1").split("\r\n")
            method, path, _ = request_line.split(" ", 2)
            headers = {}
            for line in header_lines:
                if ":" in line:
                    name, value = line.split(":", 1)
                    headers[name.strip().lower()] = value.strip()
            await reader.readexactly(int(headers.get("content-length", 0)))
            if method == "GET":
                await self.answer_get(path, writer)
                return
            if path.startswith("/slow/"):
                await asyncio.sleep(self.slow_seconds)
            seen = self.answered.setdefault(headers.get("webhook-id", "?"), [0, 0.0])
            seen[0] += 1
            seen[1] = time.monotonic()
            writer.write(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
            await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()

    async def answer_get(self, path: str, writer: asyncio.StreamWriter) -> None:
        if path == "/take":
            body, self.answered = json.dumps(self.answered).encode(), {}
        else:
            body = json.dumps({"answered": len(self.answered)}).encode()
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
                     b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        await writer.drain()


async def serve(slow_seconds: float) -> None:
    farm = Farm(slow_seconds)
    server = await asyncio.start_server(farm.handle, "127.0.0.1", 0, backlog=4096, limit=HEAD_LIMIT * 2)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(serve(float(sys.argv[1])))
