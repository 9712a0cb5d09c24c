"""The first hour, as README.md tells it: its command examples run from a fresh checkout.

Every README code block that runs `flask --app app …` or `make …` carries a marker on the line
before it, so an example left out is left out on purpose:

    <!-- readme-test: run -->
    <!-- readme-test: run, except `make test`: why that line is not run here -->
    <!-- readme-test: skip: why the block cannot run here (a real vendor, PostgreSQL …) -->

The runnable blocks run in README order, each as one `bash -eo pipefail` script, in a copy of
this worktree (its tracked and unignored files, on the embedded SQLite database) whose .venv
reuses the installed one (nothing is installed), with no SECRET_KEY, against the server the
README's `make run` line starts (on a free port: `127.0.0.1:5000` in a block is read as that
port). curl is given `--fail-with-body`, so an HTTP error fails its block, and every variable a
block assigns from a command must come out non-empty.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

from incidents import create_app

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
MARKER = re.compile(r"<!-- readme-test: (run|skip)(.*?) -->")
RUNS_COMMANDS = re.compile(r"flask --app app|^\s*make\b", re.MULTILINE)
# Settings a developer's shell may hold that a fresh checkout would not have.
UNSET = ("SECRET_KEY", "SECRET_KEY_FILE", "DATABASE_URL", "FLASK_DEBUG", "FLASK_APP",
         "PUBLIC_BASE_URL", "PORT", "HOST", "MAKEFLAGS")


def readme_blocks() -> list[dict]:
    """Each fenced block of README.md that runs commands, with its marker (or None)."""
    lines = (ROOT / "README.md").read_text().splitlines()
    blocks, index = [], 0
    while index < len(lines):
        if not lines[index].startswith("```"):
            index += 1
            continue
        end = next(i for i in range(index + 1, len(lines)) if lines[i].startswith("```"))
        text = "\n".join(lines[index + 1:end])
        if RUNS_COMMANDS.search(text):
            before = next((line for line in reversed(lines[:index]) if line.strip()), "")
            blocks.append({"line": index + 1, "text": text, "marker": MARKER.fullmatch(
                before.strip())})
        index = end + 1
    return blocks


def commands(block: dict) -> list[str]:
    """The block's commands, continuation lines joined, the marker's exception dropped."""
    joined = re.sub(r"\\\n", " ", block["text"])
    except_ = re.match(r", except `([^`]+)`:", block["marker"].group(2))
    return [line for line in joined.splitlines()
            if line.strip() and not (except_ and line.strip().startswith(except_.group(1)))]


def test_every_readme_block_that_runs_commands_says_whether_this_test_runs_it():
    blocks = readme_blocks()
    assert blocks, "README.md has no command examples any more?"
    for block in blocks:
        marker = block["marker"]
        assert marker, f"README.md line {block['line']}: mark the block run or skip (see " \
                       f"tests/test_readme.py)"
        mode, rest = marker.groups()
        if mode == "skip":
            assert re.fullmatch(r": \S.*", rest), f"line {block['line']}: say why it is skipped"
        else:
            assert rest == "" or re.fullmatch(r", except `[^`]+`: \S.*", rest), block["line"]


# --- a fresh checkout --------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def fresh_checkout(target: Path) -> Path:
    """This worktree's files as a clone would have them (uncommitted edits included), with a
    .venv that is the installed one and that make sees as installed."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                             "--exclude-standard"], cwd=ROOT, check=True,
                            capture_output=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    (target / ".venv").mkdir()
    for entry in VENV.iterdir():
        if entry.name != ".installed":
            (target / ".venv" / entry.name).symlink_to(entry)
    (target / ".venv" / ".installed").touch()  # newer than pyproject.toml: make installs nothing
    return target


def checkout_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in UNSET}
    env["PATH"] = f"{VENV / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return {**env, **extra}


def run(args, cwd: Path, env: dict, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=180,
                          **kwargs)


def every_command_group() -> set[str]:
    app = create_app({"TESTING": True, "DATABASE_URL": "sqlite://", "SECRET_KEY": "x" * 32})
    app.extensions["linecheck.engine"].dispose()
    return set(app.cli.commands) | {"run", "shell", "routes"}


def listed_commands(help_text: str) -> set[str]:
    section = help_text.split("Commands:", 1)[1]
    return {line.split()[0] for line in section.splitlines() if line.startswith("  ")}


@pytest.fixture(scope="module")
def checkout(tmp_path_factory) -> Path:
    return fresh_checkout(tmp_path_factory.mktemp("checkout"))


def test_help_lists_every_command_without_secret_key_and_writes_the_local_key(checkout):
    env = checkout_env()
    shown = run(["flask", "--app", "app", "--help"], checkout, env)
    assert shown.returncode == 0, shown.stderr
    assert "Traceback" not in shown.stderr
    assert listed_commands(shown.stdout) == every_command_group()
    # The command line wrote the key `make run` would, readable by its owner only.
    key_file = checkout / "instance" / "secret_key"
    assert len(key_file.read_text().strip()) == 64
    assert key_file.stat().st_mode & 0o777 == 0o600


def test_without_a_key_for_a_shared_database_help_lists_all_and_each_command_refuses(
        checkout, tmp_path):
    # A database of its own (not the local checkout's): no key file is invented for it.
    env = checkout_env(DATABASE_URL=f"sqlite:///{tmp_path / 'shared.db'}",
                       SECRET_KEY_FILE=str(tmp_path / "no-key"))
    shown = run(["flask", "--app", "app", "--help"], checkout, env)
    assert shown.returncode == 0 and "Traceback" not in shown.stderr, shown.stderr
    assert listed_commands(shown.stdout) == every_command_group()
    refused = run(["flask", "--app", "app", "users", "list"], checkout, env)
    assert refused.returncode == 1
    assert refused.stderr.strip().startswith("Error: Refusing to start: SECRET_KEY is unset")
    assert "Traceback" not in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "no-key").exists()


def test_gunicorn_refuses_to_start_without_a_real_secret_key(checkout, tmp_path):
    env = checkout_env(DATABASE_URL=f"sqlite:///{tmp_path / 'prod.db'}",
                       SECRET_KEY_FILE=str(tmp_path / "no-key"))
    served = run([str(VENV / "bin" / "gunicorn"), "--bind", f"127.0.0.1:{_free_port()}",
                  "app:create_app()"], checkout, env)
    assert served.returncode != 0
    assert "Refusing to start: SECRET_KEY is unset" in served.stderr


# --- the README's examples ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The README's `make run`, in a fresh checkout, on a free port; yields (checkout, URL)."""
    checkout = fresh_checkout(tmp_path_factory.mktemp("served"))
    make_run = [line for block in readme_blocks() if block["marker"]
                and block["marker"].group(1) == "run" for line in commands(block)
                if line.strip().startswith("make run")]
    assert len(make_run) == 1, "the README starts the app with one `make run` line"
    port = _free_port()
    command = make_run[0].split("#")[0].strip() + f" PORT={port}"
    log = open(checkout / "make-run.log", "w")  # noqa: SIM115  (closed below)
    server = subprocess.Popen(command, shell=True, cwd=checkout, env=checkout_env(),
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 150
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if requests.get(f"{url}/login", timeout=5).status_code == 200:
                break
        except requests.RequestException:  # still migrating, loading the demo, or booting
            time.sleep(0.5)
    else:
        os.killpg(server.pid, signal.SIGTERM)
        pytest.fail("make run did not serve: " + (checkout / "make-run.log").read_text())
    yield checkout, url
    os.killpg(server.pid, signal.SIGINT)  # Ctrl-C, as the README says: both stop
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
    log.close()


def script(block: dict, url: str) -> tuple[str, list[str]]:
    """The block as a bash script for the served checkout, and the variables it assigns."""
    lines, assigned = ["set -eo pipefail"], []
    for line in commands(block):
        if line.strip().startswith("make run"):
            line = f"curl -s -o /dev/null {url}/login  # make run: serving"
        line = re.sub(r"\bcurl ", "curl --fail-with-body ", line)
        lines.append(line.replace("http://127.0.0.1:5000", url))
        assigned += re.findall(r"^([A-Z_]+)=\$\(", line)
    for name in assigned:
        lines.append(f': "${{{name}:?{name} came out empty}}"; echo "{name}=${name}"')
    return "\n".join(lines) + "\n", assigned


def test_the_readme_examples_run_from_a_fresh_checkout(served):
    checkout, url = served
    runnable = [b for b in readme_blocks() if b["marker"].group(1) == "run"]
    assert len(runnable) >= 3
    outputs = []
    for block in runnable:
        text, assigned = script(block, url)
        done = run(["bash", "-c", text], checkout, checkout_env())
        assert done.returncode == 0, (f"README.md block at line {block['line']} failed:\n"
                                      f"{text}\n{done.stdout}\n{done.stderr}")
        for name in assigned:
            value = re.search(rf"^{name}=(.*)$", done.stdout, re.MULTILINE).group(1)
            if name.endswith("TOKEN"):  # "the token is printed alone on the last line"
                assert re.fullmatch(r"lc_[A-Za-z0-9_-]{40,}", value), (name, value)
        outputs.append(done.stdout)
    everything = "\n".join(outputs)
    # What the README says the examples leave behind.
    assert re.search(r"^\d+\tdana@example\.com\treviewer$", everything, re.MULTILINE)
    assert re.search(r'"title": ?"Checkout errors"', everything)
    assert re.search(r'"status": ?"applied"', everything)  # the CI run, /hooks/ci
    assert "/api/v1/incidents" in json.loads((checkout / "openapi.json").read_text())["paths"]
