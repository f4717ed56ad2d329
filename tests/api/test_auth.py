"""Off loopback, `titan serve` needs TITAN_API_TOKEN, and then every endpoint but /health
needs the bearer token; set on loopback, it is required there too."""

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from tests.api.conftest import answers, prepare, serving, write_config
from tests.private_pg import free_port
from titan_dagster.api.auth import is_loopback
from titan_dagster.config import load_config

REPO = Path(__file__).resolve().parents[2]
TOKEN = "s3cret-token-for-tests-0123456789"


@pytest.mark.parametrize(("host", "loopback"), [
    ("127.0.0.1", True), ("::1", True), ("localhost", True), ("127.0.0.2", True),
    ("0.0.0.0", False), ("::", False), ("192.168.1.10", False), ("example.org", False)])
def test_what_counts_as_loopback(host, loopback):
    assert is_loopback(host) is loopback


@pytest.fixture
def served_env(tmp_path, sqlite_url) -> dict:
    config = write_config(tmp_path)
    prepare(sqlite_url, load_config(config))
    return {"PATH": "/usr/bin:/bin", "TITAN_CONFIG": str(config),
            "TITAN_DATABASE_URL": sqlite_url}


def titan_serve(env: dict, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "titan_dagster.cli", "serve", *args],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10"])
def test_off_loopback_without_a_token_it_refuses_to_start(served_env, host):
    done = titan_serve(served_env, "--host", host, "--port", str(free_port()))
    out, err = done.communicate(timeout=60)
    assert done.returncode == 2
    assert "TITAN_API_TOKEN" in err and host in err


@contextmanager
def served(env: dict, *args: str) -> Iterator[tuple[str, subprocess.Popen]]:
    port = free_port()
    process = titan_serve(env, "--port", str(port), *args)
    try:
        answers(f"http://127.0.0.1:{port}/health", deadline_s=60)
        yield f"http://127.0.0.1:{port}", process
    finally:
        process.terminate()
        process.wait(timeout=30)


def auth(header: str | bytes) -> dict:
    return {"Authorization": header}


def assert_guarded(base: str) -> None:
    for path in ("/signals", "/signals/1", "/candles", "/performance", "/openapi.json",
                 "/no-such-path"):
        for headers in ({}, auth(f"Bearer {TOKEN[:-1]}"), auth(f"Bearer {TOKEN}x"),
                        auth(f"Basic {TOKEN}"), auth(TOKEN), auth("Bearer \xff\xfe")):
            response = requests.get(f"{base}{path}", headers=headers, timeout=10)
            assert response.status_code == 401, (path, headers)
            assert response.headers["WWW-Authenticate"] == "Bearer"
    assert requests.get(f"{base}/health", timeout=10).status_code == 200
    assert requests.get(f"{base}/signals", headers=auth(f"Bearer {TOKEN}"),
                        timeout=10).status_code == 200
    assert requests.get(f"{base}/openapi.json", headers=auth(f"bearer {TOKEN}"),
                        timeout=10).status_code == 200


def test_off_loopback_with_a_token_every_endpoint_but_health_wants_it(served_env):
    with served({**served_env, "TITAN_API_TOKEN": TOKEN}, "--host", "0.0.0.0") as (base,
                                                                                  process):
        assert_guarded(base)
    out, err = process.communicate(timeout=30)
    assert "bearer token required" in out
    assert TOKEN not in out + err


def test_a_token_set_on_loopback_is_required_too(served_env):
    with served({**served_env, "TITAN_API_TOKEN": TOKEN}) as (base, _):
        assert_guarded(base)


def test_without_a_token_on_loopback_no_header_is_needed(seeded, api_config, warehouse_url):
    with serving(api_config, warehouse_url) as base:
        assert requests.get(f"{base}/signals", timeout=10).status_code == 200
