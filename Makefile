# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?= -n 2
# `make run PORT=8080 HOST=0.0.0.0`: where the development server listens.
PORT ?= 5000
HOST ?= 127.0.0.1
# The address to open: a server on every interface is reached through loopback here.
RUN_URL := http://$(if $(filter 0.0.0.0,$(HOST)),127.0.0.1,$(HOST)):$(PORT)
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

# The key every command and server here reads when SECRET_KEY is unset (incidents/config.py).
instance/secret_key: | install
	$(BIN)/python -c 'from incidents.config import secret_key; secret_key("$@", create=True)'

migrate: install
	$(BIN)/alembic upgrade head

demo: migrate instance/secret_key
	$(BIN)/flask demo

# Serve on SQLite with demo data at $(RUN_URL), with one worker beside the web
# server (it posts to Slack); Ctrl-C stops both, and when either stops the other follows.
# Links the app gives out name the same address (unless PUBLIC_BASE_URL is set).
run: demo
	@echo "Linecheck at $(RUN_URL) — sign in as admin@linecheck.test / linecheck-demo"
	@echo "A worker runs beside it (flask worker); Ctrl-C stops both."
	@PUBLIC_BASE_URL=$${PUBLIC_BASE_URL:-$(RUN_URL)} bash -c ' \
	  $(BIN)/flask worker & worker=$$!; \
	  $(BIN)/flask run --host $(HOST) --port $(PORT) & web=$$!; \
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
