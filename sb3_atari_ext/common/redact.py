"""Passwords out of storage URLs, wherever a URL is printed, logged or written."""

from __future__ import annotations

import re
from urllib.parse import unquote_plus

_SECRET_QUERY_KEYS = {"password", "passwd", "pwd", "secret", "token", "sslpassword", "api_key", "sslkey"}
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://)(.*)$", re.DOTALL)
# SQLAlchemy's ``make_url``: the user name runs to the first ``:`` or ``/``; the password follows the
# ``:`` and may hold anything but ``@`` (so a raw ``/``, ``#``, ``?`` or ``:`` belongs to it)
_USER = re.compile(r"^([^:/@]*):")


def redact(url: str) -> str:
    """``url`` with every password replaced by ``***``, as SQLAlchemy would read the URL.

    The password is what follows ``user:`` up to the **last** ``@`` of the URL: SQLAlchemy ends it
    at the first ``@``, but a raw ``@`` in a password would then leak its tail, so masking runs on to
    the last one. Raw ``/``, ``#``, ``?`` and ``:`` inside a password are masked with it. Query
    parameters that carry secrets (``?password=``, also percent-encoded keys such as
    ``?pass%77ord=``, which SQLAlchemy decodes) are masked too. A journal path (no ``://``) is
    returned unchanged.
    """
    match = _SCHEME.match(url)
    if match is None:
        return url
    scheme, rest = match.groups()
    user = _USER.match(rest)
    if user is not None and "@" in rest[user.end() :]:
        rest = f"{user.group(1)}:***@{rest.rpartition('@')[2]}"
    head, sep, query = rest.partition("?")
    return f"{scheme}{head}{sep}{_mask_query(query)}" if sep else f"{scheme}{rest}"


def _mask_query(query: str) -> str:
    """``a=1&password=x`` -> ``a=1&password=***`` (keys compared after percent-decoding)."""
    parts = re.split(r"([&;])", query)
    for i in range(0, len(parts), 2):
        key, eq, _ = parts[i].partition("=")
        if eq and unquote_plus(key).strip().lower() in _SECRET_QUERY_KEYS:
            parts[i] = f"{key}=***"
    return "".join(parts)


_URL_START = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")


def redact_text(text: str) -> str:
    """``text`` with every URL in it masked by :func:`redact` (a URL runs to the next whitespace,
    or to the end of ``text``: pass command-line arguments one at a time, as a password may hold
    a space only inside one argument)."""
    if "://" not in text:
        return text
    out, position = [], 0
    for match in _URL_START.finditer(text):
        if match.start() < position:
            continue
        end = re.compile(r"\s").search(text, match.end())
        stop = len(text) if end is None else end.start()
        out += [text[position : match.start()], redact(text[match.start() : stop])]
        position = stop
    return "".join(out) + text[position:]


def redact_arg(arg: str) -> str:
    """One command-line argument with any URL in it masked, to its end (``--storage=URL`` too)."""
    match = _URL_START.search(arg)
    return arg if match is None else arg[: match.start()] + redact(arg[match.start() :])
