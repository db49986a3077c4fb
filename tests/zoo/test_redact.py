"""Storage URLs are masked as SQLAlchemy reads them: no form of password survives."""

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import make_url

from sb3_atari_ext.common.redact import redact


@pytest.mark.parametrize(
    "url, masked",
    [
        ("postgresql://user:p@ss/word@host/db", "postgresql://user:***@host/db"),  # "@" then "/"
        ("postgresql://user:pa#ss@host/db", "postgresql://user:***@host/db"),  # raw "#"
        ("postgresql://user:pa?ss@host/db", "postgresql://user:***@host/db"),  # raw "?"
        ("postgresql://user:pa:s?s#x/y@host:5432/db?sslmode=require", "postgresql://user:***@host:5432/db?sslmode=require"),
        ("postgresql://user@host/db?pass%77ord=secret", "postgresql://user@host/db?pass%77ord=***"),
        ("postgresql://user@host/db?a=1&PASSWORD=secret&b=2", "postgresql://user@host/db?a=1&PASSWORD=***&b=2"),
        ("postgresql://user@host/db?pass+word=x", "postgresql://user@host/db?pass+word=x"),  # "pass word" is no key
        ("postgresql://host:5432/db", "postgresql://host:5432/db"),
        ("sqlite:///runs/study.db", "sqlite:///runs/study.db"),
    ],
)
def test_the_forms_that_leaked(url, masked):
    assert redact(url) == masked


SECRET_CHARS = string.ascii_letters + string.digits + "@/#?:;&=%+!$*~-_."


@settings(max_examples=300, deadline=None)
@given(password=st.text(SECRET_CHARS, min_size=1, max_size=20), query=st.sampled_from(["", "?sslmode=require"]))
def test_no_password_sqlalchemy_would_read_is_left(password, query):
    url = f"postgresql+psycopg://sb3user:Pw{password}QZX@127.0.0.1:5432/db{query}"
    try:
        secret = make_url(url).password  # what SQLAlchemy would send: "Pw..." up to the first "@"
    except ValueError:  # e.g. a port that is no number: the URL cannot connect, and is masked all the same
        secret = "Pw"
    masked = redact(url)
    assert secret.startswith("Pw") and secret not in masked, (url, masked)
    assert f"Pw{password}QZX" not in masked and "QZX" not in masked, (url, masked)
    assert masked.startswith("postgresql+psycopg://sb3user:***@")


@settings(max_examples=100, deadline=None)
@given(key=st.sampled_from(["password", "passwd", "sslpassword"]), value=st.text(string.ascii_letters, min_size=6))
def test_secret_query_keys_are_masked_however_encoded(key, value):
    encoded = "".join(f"%{ord(c):02x}" if i % 2 else c for i, c in enumerate(key))
    url = f"postgresql://u@h/db?{encoded}={value}"
    assert make_url(url).query.get(key) == value  # SQLAlchemy decodes the key: it is a password
    masked = redact(url)
    assert make_url(masked).query.get(key) == "***"
    # after the "?": the scheme may hold the value by chance ("postgr" in "postgresql")
    assert value not in masked.split("?", 1)[1]
