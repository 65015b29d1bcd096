"""Lenient JSON: the published example body carries `//` comments, curl sends it as a form."""

from __future__ import annotations

from typing import Any

import orjson

from ordersearch.errors import InvalidRequest


def strip_comments(text: str) -> str:
    """Remove `//` line comments and `/* */` block comments that stand outside strings."""
    if "/" not in text:
        return text
    out: list[str] = []
    i, n = 0, len(text)
    in_string = False
    while i < n:
        ch = text[i]
        if in_string:
            out.append(ch)
            if ch == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 2
                continue
            if ch == '"':
                in_string = False
            i += 1
        elif ch == '"':
            in_string = True
            out.append(ch)
            i += 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end == -1 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end == -1:
                raise InvalidRequest.single("body", "unterminated /* comment")
            out.append(" ")
            i = end + 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


MAX_DEPTH = 32


def _check_depth(value: Any) -> None:
    """No body the API takes nests deeper than a few levels; deeper ones are refused here
    rather than met by recursion in every parser and error message downstream."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > MAX_DEPTH:
                raise InvalidRequest.single("body", f"is nested deeper than {MAX_DEPTH} levels")
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)


def parse_body(raw: bytes) -> Any:
    """Parse a request body as JSON, comments allowed; 400 naming the problem otherwise."""
    body = _parse(raw)
    _check_depth(body)
    return body


def _parse(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        pass
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidRequest.single("body", "is not UTF-8 text") from None
    if not text.strip():
        raise InvalidRequest.single("body", "is empty; send a JSON object")
    try:
        return orjson.loads(strip_comments(text))
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest.single("body", f"is not valid JSON ({exc})") from None
