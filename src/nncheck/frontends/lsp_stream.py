"""The language server's input: JSON-RPC messages framed by `Content-Length` headers, read so that one
badly framed message loses no later one, and what JSON-RPC 2.0 says to answer a message that is not a
request, notification or response.

pygls's own reader gives up on the stream after a wrong `Content-Length`, a header block without one,
or bytes glued before a header: each later body ends up on the line of the next header, which then
never matches. This reader finds the next header again. No pygls import: testable on its own.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import BinaryIO, Union

# A header line, with whatever came before it on the line (the end of a body framed too short, or
# garbage) dropped. A raw line break cannot occur inside a JSON string, so a body is never taken for it.
HEADER = re.compile(rb"content-length:[ \t]*(\d{1,15})[ \t]*\r?\n\Z", re.IGNORECASE)
# A body is read in pieces, so that a huge Content-Length costs only the bytes that really come.
CHUNK = 1 << 20

MessageId = Union[int, str, None]
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
INVALID_PARAMS = -32602


@dataclass(frozen=True)
class NotJson:
    """A body that is not one JSON value (after a wrong Content-Length, most often)."""

    reason: str


@dataclass(frozen=True)
class Refusal:
    """The error a message gets instead of being handled; `answer` is False for a notification or a
    response, which are never answered."""

    id: MessageId
    code: int
    message: str
    answer: bool


class MessageReader:
    """Reads message bodies from a binary stream (the server's stdin), one at a time."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.pending = b""  # read already, but not yet used: given back after a body proved too long

    def read(self) -> object:
        """The next message's JSON value, NotJson for a body that does not parse, or None when the
        stream ends."""
        length = self._header()
        if length is None:
            return None
        body = self._take(length)
        if len(body) < length:
            return None  # the client went away in the middle of a message
        try:
            return json.loads(body.decode("utf-8"))
        except ValueError as error:  # UnicodeDecodeError is one too
            # Framed too long, the body holds the start of the next message: read that again.
            self.pending = _after_first_value(body) + self.pending
            return NotJson(str(error).splitlines()[0])

    def _header(self) -> int | None:
        length = None
        while True:
            line = self._line()
            if not line:
                return None
            match = HEADER.search(line)
            if match:
                length = int(match.group(1))
            elif not line.strip() and length is not None:
                return length
            # Any other header is of no use, and a block without Content-Length has no body to find:
            # the next Content-Length line starts the next message.

    def _line(self) -> bytes:
        if not self.pending:
            return self.stream.readline()
        end = self.pending.find(b"\n") + 1
        if end:
            line, self.pending = self.pending[:end], self.pending[end:]
            return line
        line, self.pending = self.pending, b""
        return line + self.stream.readline()

    def _take(self, length: int) -> bytes:
        parts = [self.pending[:length]]
        self.pending = self.pending[length:]
        missing = length - len(parts[0])
        while missing:
            part = self.stream.read(min(missing, CHUNK))
            if not part:
                break
            parts.append(part)
            missing -= len(part)
        return b"".join(parts)


def _after_first_value(body: bytes) -> bytes:
    """The bytes after the first JSON value in `body` (all of them if it has none)."""
    text = body.decode("utf-8", "surrogateescape")
    start = len(text) - len(text.lstrip())
    try:
        _, end = json.JSONDecoder().raw_decode(text, start)
    except ValueError:
        return b""  # the body was cut short: the rest of it comes before the next header
    return text[end:].encode("utf-8", "surrogateescape")


def refusal(data: object) -> Refusal | None:
    """What JSON-RPC 2.0 answers a value that is no valid message (None if it is one). Only the
    envelope is judged here; params of the wrong shape are found when they are read (INVALID_PARAMS)."""
    if isinstance(data, NotJson):
        return Refusal(None, PARSE_ERROR, f"Parse error: {data.reason}", True)
    if not isinstance(data, dict):
        return Refusal(None, INVALID_REQUEST, "Invalid Request: a message must be a JSON object", True)
    if "method" not in data:
        return None  # a response to one of the server's requests: pygls checks its id
    request = "id" in data
    message_id = data.get("id")
    if request and (not isinstance(message_id, (int, str)) or isinstance(message_id, bool)):
        return Refusal(None, INVALID_REQUEST, "Invalid Request: id must be an integer or a string", True)
    if not isinstance(data["method"], str):
        return Refusal(message_id, INVALID_REQUEST, "Invalid Request: method must be a string", request)
    if data.get("jsonrpc") != "2.0":
        return Refusal(message_id, INVALID_REQUEST, 'Invalid Request: jsonrpc must be "2.0"', request)
    return None


def what_is_wrong(error: BaseException) -> str:
    """Where a message's params fail to be read, from cattrs' errors: `params.range.start has the wrong
    type`, `params.textDocument is missing`."""
    path: list[str] = []
    while True:
        for note in getattr(error, "__notes__", []):
            where = re.search(r"@ (attribute|index) (\w+)$", str(note))
            if where:
                name = where.group(2)
                path.append(re.sub(r"_([a-z])", lambda m: m.group(1).upper(), name) if where.group(1) == "attribute"
                            else f"[{name}]")
        inner = getattr(error, "exceptions", None)
        if not inner:
            break
        error = inner[0]
    place = ".".join(path).replace(".[", "[") or "params"
    return f"{place} is missing" if isinstance(error, KeyError) else f"{place} has the wrong type"
