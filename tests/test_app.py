import pytest

from incidents import InsecureSecretKey, create_app


def test_refuses_to_start_in_production_with_default_secret_key(monkeypatch, database_url,
                                                                tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    missing = tmp_path / "instance" / "secret_key"
    with pytest.raises(InsecureSecretKey, match="SECRET_KEY is unset"):
        create_app({"DATABASE_URL": database_url, "SECRET_KEY_FILE": str(missing)})
    assert not missing.exists()  # a server never invents a key of its own


def test_production_reads_the_key_file_when_secret_key_is_unset(monkeypatch, database_url,
                                                               tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    key_file = tmp_path / "secret_key"
    key_file.write_text("f" * 64 + "\n")
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY_FILE": str(key_file)})
    assert app.config["SECRET_KEY"] == "f" * 64
    app.extensions["linecheck.engine"].dispose()
    monkeypatch.setenv("SECRET_KEY", "from-the-environment-" + "e" * 20)
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY_FILE": str(key_file)})
    assert app.config["SECRET_KEY"] == "from-the-environment-" + "e" * 20
    app.extensions["linecheck.engine"].dispose()


def test_starts_in_production_with_a_real_secret_key(monkeypatch, database_url):
    monkeypatch.setenv("SECRET_KEY", "a-long-random-production-value-of-40-chars")
    app = create_app({"DATABASE_URL": database_url})
    assert app.config["SECRET_KEY"] == "a-long-random-production-value-of-40-chars"
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_settings_come_from_the_environment(monkeypatch, database_url):
    monkeypatch.setenv("SLACK_API_URL", "http://127.0.0.1:9/api/")
    monkeypatch.setenv("WATCH_WINDOW_DAYS", "30")
    app = create_app({"TESTING": True, "DATABASE_URL": database_url})
    assert app.config["SLACK_API_URL"] == "http://127.0.0.1:9/api/"
    assert app.config["WATCH_WINDOW_DAYS"] == 30


def test_database_defaults_to_sqlite_under_instance(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    app = create_app({"TESTING": True})
    assert app.config["DATABASE_URL"].startswith("sqlite:///")
    assert app.config["DATABASE_URL"].endswith("instance/linecheck.db")


def test_importing_app_opens_no_database():
    import importlib

    import app as entry

    importlib.reload(entry)
    assert callable(entry.create_app)


def test_security_headers_on_pages(client):
    response = client.get("/login")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self' 'nonce-" in csp and "unsafe-inline" not in csp.split("style-src")[0]


def test_demo_data_is_idempotent(runner, session):
    from sqlalchemy import func, select

    from incidents.models import Incident

    first = runner.invoke(args=["demo"])
    assert first.exit_code == 0, first.output
    assert "demo data loaded" in first.output
    count = session.scalar(select(func.count()).select_from(Incident))
    assert count == 12
    second = runner.invoke(args=["demo"])
    assert "already present" in second.output
    assert session.scalar(select(func.count()).select_from(Incident)) == count
