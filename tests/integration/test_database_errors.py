"""A database Kash cannot use is one DatabaseError sentence that says what to do, never a crash."""

from __future__ import annotations

import os
import socket
import uuid
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from kash_tui.config import Settings
from kash_tui.db import Database, DatabaseError
from kash_tui.provider import ServiceProvider


def _refusal(url: str) -> str:
    """Open and prepare ``url`` the way Kash does on start; return the error sentence."""
    kash = None
    try:
        with pytest.raises(DatabaseError) as err:
            kash = ServiceProvider(Settings(database_url=url))
            kash.prepare()
    finally:
        if kash is not None:
            kash.close()
    message = str(err.value)
    assert message.strip() == message and "\n" not in message, message
    assert "Traceback" not in message
    assert message.endswith("."), message
    return message


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_folder_that_does_not_exist(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "folder"
    message = _refusal(f"sqlite:///{missing / 'kash.db'}")
    assert str(missing) in message and "does not exist" in message
    assert not (tmp_path / "no").exists()  # and Kash did not create it behind the user's back


def test_bare_path_in_a_missing_folder(tmp_path: Path) -> None:
    message = _refusal(str(tmp_path / "missing" / "team.db"))
    assert "does not exist" in message


def test_path_below_a_file(tmp_path: Path) -> None:
    a_file = tmp_path / "notes.txt"
    a_file.write_text("hello")
    message = _refusal(f"sqlite:///{a_file / 'kash.db'}")
    assert str(a_file) in message and "does not exist" in message
    assert a_file.read_text() == "hello"


def test_folder_kash_cannot_write(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        # root ignores permission bits; /proc refuses new files even to root
        target = Path("/proc/kash-test.db")
        if not Path("/proc").is_dir():
            pytest.skip("no /proc to stand in for a read-only folder")
    else:
        folder = tmp_path / "readonly"
        folder.mkdir()
        folder.chmod(0o500)
        target = folder / "kash.db"
    try:
        message = _refusal(f"sqlite:///{target}")
    finally:
        if os.geteuid() != 0:
            target.parent.chmod(0o700)
    assert str(target) in message
    assert "write" in message.lower()
    assert not target.exists()


def test_corrupt_file(tmp_path: Path) -> None:
    path = tmp_path / "kash.db"
    junk = bytes(range(256)) * 64
    path.write_bytes(junk)
    message = _refusal(f"sqlite:///{path}")
    assert str(path) in message and "corrupt" in message
    assert path.read_bytes() == junk  # the file is left as it was


def test_text_file_given_as_database(tmp_path: Path) -> None:
    path = tmp_path / "readme.db"
    path.write_text("this is not a database\n" * 200)
    message = _refusal(str(path))
    assert "not a Kash database or is corrupt" in message


@pytest.mark.parametrize(
    "url",
    ["://nothing", "postgresql://kash@localhost:notaport/kash", "not a url://x"],
)
def test_malformed_url(url: str) -> None:
    message = _refusal(url)
    assert "malformed" in message
    assert "sqlite:///" in message  # says what a good one looks like


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("mysql://kash@localhost/kash", "supports SQLite and PostgreSQL, not mysql"),
        ("oracle://kash@localhost/kash", "not oracle"),
        ("postgresql+asyncpg://kash@localhost/kash", "psycopg"),
        ("sqlite+pysqlite:///x.db", "plain sqlite:///"),
        ("sqlite://", "in-memory"),
        ("sqlite:///:memory:", "in-memory"),
        ("   ", "empty"),
    ],
)
def test_unsupported_urls(url: str, words: str) -> None:
    assert words in _refusal(url)


def test_unreachable_postgresql_port() -> None:
    port = _free_port()
    password = f"pw-{uuid.uuid4().hex[:12]}"
    message = _refusal(f"postgresql+psycopg://kash:{password}@127.0.0.1:{port}/kash")
    assert f"127.0.0.1:{port}" in message
    assert "Cannot reach the PostgreSQL server" in message
    assert password not in message  # the password is never shown


def test_plain_postgresql_scheme_means_psycopg() -> None:
    db = Database("postgresql://kash:pw@db.example.com/team")
    assert db.url.drivername == "postgresql+psycopg"
    assert "pw" not in db.display_url


def test_postgresql_database_that_does_not_exist(pg_url: str) -> None:
    url = make_url(pg_url).set(database="kash_no_such_database")
    message = _refusal(url.render_as_string(hide_password=False))
    assert "'kash_no_such_database' does not exist" in message
    assert "createdb" in message
