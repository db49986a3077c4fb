"""Passwords out of storage URLs, wherever a URL is printed, logged or written."""

from __future__ import annotations

import re

_SECRET_QUERY_KEYS = {"password", "passwd", "pwd", "secret", "token", "sslpassword", "api_key"}


def redact(url: str) -> str:
    """``url`` with every password replaced by ``***``.

    Covers ``user:secret@host``, an empty user (``://:secret@host``), passwords containing ``@``
    (the host starts after the last ``@`` of the authority) and ``?password=secret`` style query
    parameters. A journal path (no ``://``) is returned unchanged.
    """
    match = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*://)([^?#]*?)(/[^?#]*)?([?#].*)?$", url)
    if match is None:
        return url
    scheme, authority, path, query = match.group(1), match.group(2), match.group(3) or "", match.group(4) or ""
    if "@" not in authority and "@" in path:  # a password with "/" in it: the authority ends at the last "@"
        head, _, tail = (authority + path).rpartition("@")
        authority, path = head + "@" + tail.split("/", 1)[0], "/" + tail.split("/", 1)[1] if "/" in tail else ""
    if "@" in authority:
        userinfo, host = authority.rsplit("@", 1)
        if ":" in userinfo:
            userinfo = userinfo.split(":", 1)[0] + ":***"
        authority = f"{userinfo}@{host}"
    keys = "|".join(sorted(_SECRET_QUERY_KEYS))
    query = re.sub(rf"([?&;](?:{keys})=)[^&;#]*", r"\1***", query, flags=re.IGNORECASE)
    return f"{scheme}{authority}{path}{query}"
