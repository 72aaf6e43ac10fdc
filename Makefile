# IRT: two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
# Development only: every demo staff user's authenticator secret, so `make demo-code` can sign in.
DEMO_TOTP_SECRET ?= JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP

.PHONY: run test test-faults install migrate seed check clean demo-code

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

# Run a command again whenever it exits (a crash, kill -9), five seconds later: what systemd's
# Restart=always does in production (README, "Running in production").
supervise = while true; do $(1); echo "make run: '$(1)' exited with status $$?; restarting in 5 s" >&2; sleep 5; done

# The web server, the background worker, the sweeper and the alert correlator run side by side; Ctrl-C stops all.
# The worker and the sweeper wait out database outages themselves and are restarted if they exit.
run: seed
	@echo "IRT is starting at http://$(HOST):$(PORT)/ (sign in as manager / irt-demo-password; staff code: make demo-code)"
	@trap 'kill 0' INT TERM EXIT; \
	$(PY) manage.py notify_sweep --schedule; \
	( $(call supervise,$(PY) manage.py run_worker) ) & \
	( $(call supervise,$(PY) manage.py notify_sweep --loop 60) ) & \
	( $(call supervise,$(PY) manage.py correlate_alerts --loop 1) ) & \
	$(PY) manage.py runserver $(HOST):$(PORT)

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

# Only the fault tests (a PostgreSQL cluster of their own stopped under running workers; needs
# DATABASE_URL on PostgreSQL and PostgreSQL 15's binaries). IRT_FAULT_RECIPIENTS=500 for the full fan-out.
test-faults: install
	$(PY) -m pytest -m fault $(PYTEST_ARGS)

# Print the demo staff users' current two-factor code.
demo-code: install
	@$(PY) -c "import base64, time; from django_otp.oath import totp; print(f'{totp(base64.b32decode(\"$(DEMO_TOTP_SECRET)\")):06d}')"

check: install
	$(PY) manage.py check
	$(PY) manage.py makemigrations --check --dry-run

clean:
	rm -rf $(VENV) staticfiles test-artifacts .pytest_cache
