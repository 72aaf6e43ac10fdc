"""The architecture holds: import-linter's contracts (pyproject.toml) run with the suite.

`cases` never imports `notifications`; inside each app the entry points (urls, views, API, admin,
commands, tasks) sit above forms, forms above services and selectors, those above access and
models, and the pure permission checks below the models; sibling modules import no cycle.
"""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_linter_contracts_are_kept():
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    counted = re.search(r"Contracts: (\d+) kept, 0 broken", result.stdout)
    assert counted and int(counted.group(1)) >= 4, result.stdout[-2000:]


def test_every_module_of_cases_sits_in_a_package():
    loose = sorted(p.name for p in (ROOT / "cases").glob("*.py") if p.name not in {"__init__.py", "apps.py"})
    assert loose == [], f"modules at the root of cases/ (put them in a layer package): {loose}"


def test_the_readme_map_names_every_package_and_module():
    readme = (ROOT / "README.md").read_text()
    missing = []
    for top in ("irt", "cases", "notifications"):
        for path in (ROOT / top).rglob("*.py"):
            rel = path.relative_to(ROOT)
            if "migrations" in rel.parts or path.name == "__init__.py":
                continue
            if f"`{rel.parent}/`" not in readme or f"`{path.name}`" not in readme:
                missing.append(str(rel))
    assert missing == [], f"README's 'Where things live' does not list: {missing}"
