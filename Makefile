# IRT: two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
# Development only: every demo staff user's authenticator secret, so `make demo-code` can sign in.
DEMO_TOTP_SECRET ?= JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP

.PHONY: run test install migrate seed check clean demo-code

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(PY) manage.py migrate --noinput

seed: migrate
	$(PY) manage.py seed_demo --totp-secret $(DEMO_TOTP_SECRET)

# The web server and the background worker run side by side; Ctrl-C stops both.
run: seed
	@echo "IRT is starting at http://$(HOST):$(PORT)/ (sign in as manager / irt-demo-password; staff code: make demo-code)"
	@trap 'kill 0' INT TERM EXIT; \
	$(PY) manage.py notify_sweep --schedule; \
	$(PY) manage.py db_worker & \
	$(PY) manage.py runserver $(HOST):$(PORT)

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

# Print the demo staff users' current two-factor code.
demo-code: install
	@$(PY) -c "import base64, time; from django_otp.oath import totp; print(f'{totp(base64.b32decode(\"$(DEMO_TOTP_SECRET)\")):06d}')"

check: install
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run

clean:
	rm -rf $(VENV) staticfiles test-artifacts .pytest_cache
