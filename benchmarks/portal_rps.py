"""Requests per second of the customer incident page vs. a trivial Django view, same run.

Usage: .venv/bin/python benchmarks/portal_rps.py [--seconds 15] [--workers 4] [--connections 32]

Starts gunicorn (production-like settings, DEBUG off) on 127.0.0.1, signs in as
customer-contoso, and drives both URLs with wrk (apt-get install wrk). Uses DATABASE_URL when
set, else a throwaway SQLite file. Prints one line per URL and the ratio.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PORT = 8765


def run(cmd, env):
    subprocess.run(cmd, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def login(base: str) -> str:
    jar = CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/accounts/login/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "username": "customer-contoso", "password": "irt-demo-password"}).encode()
    opener.open(urllib.request.Request(f"{base}/accounts/login/", data=data, headers={"Referer": f"{base}/accounts/login/"}))
    return "; ".join(f"{cookie.name}={cookie.value}" for cookie in jar)


def wrk(url: str, cookie: str, seconds: int, connections: int) -> float:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-H", f"Cookie: {cookie}", url],
        check=True, capture_output=True, text=True,
    ).stdout
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if non_2xx:
        raise SystemExit(f"{url}: {non_2xx.group(1)} failed responses\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--connections", type=int, default=32)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    tmp = tempfile.mkdtemp()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "benchmarks.settings", "PYTHONPATH": str(ROOT)}
    env.setdefault("DATABASE_URL", f"sqlite:///{tmp}/bench.sqlite3")
    python = sys.executable
    run([python, "manage.py", "migrate", "-v0"], env)
    run([python, "manage.py", "seed_demo"], env)
    run([python, "manage.py", "collectstatic", "--noinput", "-v0"], env)
    server = subprocess.Popen(
        [python, "-m", "gunicorn", "benchmarks.wsgi", "-b", f"127.0.0.1:{PORT}", "-w", str(args.workers), "--log-level", "warning"],
        cwd=ROOT, env=env,
    )
    base = f"http://127.0.0.1:{PORT}"
    try:
        for _ in range(50):
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        cookie = login(base)
        opener = urllib.request.build_opener()
        opener.addheaders = [("Cookie", cookie)]
        portal = opener.open(f"{base}/portal/").read().decode()
        reference = re.search(r"/portal/incidents/(IRT-\d{4}-\d+)/", portal).group(1)
        incident_url = f"{base}/portal/incidents/{reference}/"
        assert opener.open(incident_url).status == 200
        trivial = wrk(f"{base}/bench/trivial", cookie, args.seconds, args.connections)
        incident = wrk(incident_url, cookie, args.seconds, args.connections)
        print(f"database: {env['DATABASE_URL'].split('://')[0]}, gunicorn workers: {args.workers}, wrk: 2 threads, {args.connections} connections, {args.seconds}s each")
        print(f"trivial view:  {trivial:8.0f} req/s")
        print(f"incident page: {incident:8.0f} req/s")
        print(f"ratio: {incident / trivial:.2f} of the trivial view")
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
