# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?= -n 2
export FLASK_APP := app

.PHONY: run test install install-dev browser alertmanager migrate demo lint bench serve clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

install-dev: install

# Debian's Chromium for the browser tests; Playwright drives it, nothing is downloaded.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

# Debian's Alertmanager (and amtool): the hook tests drive a real one. Tests fail without it.
alertmanager:
	@command -v prometheus-alertmanager >/dev/null 2>&1 && command -v amtool >/dev/null 2>&1 || { \
	  echo "installing Debian's prometheus-alertmanager for the hook tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    prometheus-alertmanager >/dev/null; }

instance/secret_key:
	mkdir -p instance
	$(BIN)/python -c 'import secrets; print(secrets.token_hex(32))' > $@

migrate: install
	$(BIN)/alembic upgrade head

demo: migrate instance/secret_key
	SECRET_KEY=$$(cat instance/secret_key) $(BIN)/flask demo

# Serve on SQLite with demo data at http://127.0.0.1:5000, with one worker beside the web
# server (it posts to Slack); Ctrl-C stops both, and when either stops the other follows.
run: demo
	@echo "Linecheck at http://127.0.0.1:5000 — sign in as admin@linecheck.test / linecheck-demo"
	@echo "A worker runs beside it (flask worker); Ctrl-C stops both."
	@SECRET_KEY=$$(cat instance/secret_key) bash -c ' \
	  $(BIN)/flask worker & worker=$$!; \
	  $(BIN)/flask run --host 127.0.0.1 --port 5000 & web=$$!; \
	  trap "kill -TERM $$worker $$web 2>/dev/null" INT TERM; \
	  wait -n; kill -TERM $$worker $$web 2>/dev/null; wait'

# Production-style serving (set DATABASE_URL and SECRET_KEY first).
serve: install
	$(BIN)/gunicorn --workers 4 --bind 0.0.0.0:8000 "app:create_app()"

test: install browser alertmanager
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .

bench: install
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) instance .pytest_cache
