"""Requests per second of the customer incident page vs. a trivial Django view, same run.

Usage: .venv/bin/python benchmarks/portal_rps.py [--seconds 15] [--workers 4] [--connections 32]

Starts gunicorn (production-like settings, DEBUG off) on 127.0.0.1, signs in as
customer-contoso, and drives both URLs with wrk (apt-get install wrk). Uses DATABASE_URL when
set, else a throwaway SQLite file. Prints one line per URL and the ratio.
"""

import argparse
import re
import sys
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import manage, require_wrk, scratch_env, serve, wrk  # noqa: E402

PORT = 8765


def login(base: str) -> str:
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/accounts/login/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "username": "customer-contoso", "password": "irt-demo-password"}).encode()
    opener.open(urllib.request.Request(f"{base}/accounts/login/", data=data, headers={"Referer": f"{base}/accounts/login/"}))
    return "; ".join(f"{cookie.name}={cookie.value}" for cookie in jar)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    require_wrk()
    with scratch_env() as (env, _):
        manage(env, "migrate", "-v0")
        manage(env, "seed_demo")
        manage(env, "collectstatic", "--noinput", "-v0")
        with serve(env, port=PORT, workers=args.workers) as base:
            cookie = login(base)
            opener = urllib.request.build_opener()
            opener.addheaders = [("Cookie", cookie)]
            portal = opener.open(f"{base}/portal/").read().decode()
            reference = re.search(r"/portal/incidents/(IRT-\d{4}-\d+)/", portal).group(1)
            incident_url = f"{base}/portal/incidents/{reference}/"
            assert opener.open(incident_url).status == 200
            load = {"seconds": args.seconds, "connections": args.connections, "headers": [f"Cookie: {cookie}"]}
            trivial = wrk(f"{base}/bench/trivial", **load)
            incident = wrk(incident_url, **load)
    print(f"database: {env['DATABASE_URL'].split('://')[0]}, gunicorn workers: {args.workers}, wrk: 2 threads, {args.connections} connections, {args.seconds}s each")
    print(f"trivial view:  {trivial:8.0f} req/s")
    print(f"incident page: {incident:8.0f} req/s")
    print(f"ratio: {incident / trivial:.2f} of the trivial view")


if __name__ == "__main__":
    main()
