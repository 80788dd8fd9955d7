"""The language server's reader without a server: framing found again after bad bytes, and the
JSON-RPC answers to messages that are none (tests/test_lsp.py sends the same bytes to a real server)."""

from __future__ import annotations

import io
import json

import pytest

from nncheck.frontends.lsp_stream import MessageReader, NotJson, Refusal, refusal

FIRST = {"jsonrpc": "2.0", "method": "a", "params": {"text": "é\\r\\n"}}
SECOND = {"jsonrpc": "2.0", "id": 2, "method": "b"}


def framed(message: object, change: int = 0) -> bytes:
    body = json.dumps(message).encode("utf-8")
    return b"Content-Length: %d\r\n\r\n%s" % (len(body) + change, body)


def read_all(data: bytes) -> list[object]:
    reader = MessageReader(io.BytesIO(data))
    messages = []
    while (message := reader.read()) is not None:
        messages.append(message)
    return messages


@pytest.mark.parametrize("first, read_first", [
    (framed(FIRST), [FIRST]),
    (framed(FIRST, 16), [NotJson]),
    (framed(FIRST, 3), [NotJson]),  # the next header's "Con" taken: the rest of it is still found
    (framed(FIRST, -16), [NotJson]),
    (framed(FIRST, -1), [NotJson]),
    (b"Content-Type: application/json\r\n\r\n" + json.dumps(FIRST).encode(), []),
    (b"\x00\xff garbage" + framed(FIRST), [FIRST]),
    (b"garbage line\r\n" + framed(FIRST), [FIRST]),
    (b"content-length:%d\n\n" % len(json.dumps(FIRST)) + json.dumps(FIRST).encode(), [FIRST]),
    (b"Content-Length: " + b"9" * 5000 + b"\r\n\r\n{}", []),  # no such length: not a header
], ids=["good", "16 too many", "3 too many", "16 too few", "1 too few", "no length", "garbage before",
        "garbage line", "lower case, bare newlines", "5000 digits"])
def test_the_next_message_is_found_after_bad_framing(first: bytes, read_first: list[object]) -> None:
    messages = read_all(first + framed(SECOND) + framed(FIRST))
    assert [NotJson if isinstance(m, NotJson) else m for m in messages] == [*read_first, SECOND, FIRST]


def test_a_length_past_the_end_of_the_stream_ends_it_without_reading_it_at_once() -> None:
    assert read_all(b"Content-Length: 999999999999999\r\n\r\n{}") == []


def test_what_json_rpc_answers() -> None:
    assert refusal(NotJson("Expecting value")) == Refusal(None, -32700, "Parse error: Expecting value", True)
    assert refusal([FIRST]) == Refusal(None, -32600, "Invalid Request: a message must be a JSON object", True)
    assert refusal({"jsonrpc": "2.0", "id": True, "method": "a"}) == Refusal(
        None, -32600, "Invalid Request: id must be an integer or a string", True)
    assert refusal({"jsonrpc": "2.0", "id": 3, "method": 4}) == Refusal(
        3, -32600, "Invalid Request: method must be a string", True)
    assert refusal({"jsonrpc": "1.0", "id": "x", "method": "a"}) == Refusal(
        "x", -32600, 'Invalid Request: jsonrpc must be "2.0"', True)
    # Notifications and responses are never answered.
    assert refusal({"jsonrpc": "1.0", "method": "a"}) == Refusal(
        None, -32600, 'Invalid Request: jsonrpc must be "2.0"', False)
    assert refusal({"jsonrpc": "2.0", "id": 1, "result": None}) is None
    assert refusal(FIRST) is None and refusal(SECOND) is None
