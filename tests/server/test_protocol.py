"""Frame parsing, table-driven."""

from __future__ import annotations

import pytest

from server import protocol as p


@pytest.mark.parametrize(
    ("raw", "allowed", "code"),
    [
        ("nope", p.CALLER_TYPES, p.BAD_JSON),
        ('"str"', p.CALLER_TYPES, p.BAD_FRAME),
        ('{"type": 3}', p.CALLER_TYPES, p.BAD_FRAME),
        ('{"type": "x"}', p.CALLER_TYPES, p.UNKNOWN_TYPE),
        ('{"type": "accept", "conversation": "x"}', p.CALLER_TYPES, p.FORBIDDEN),
        ('{"type": "start", "line": "a"}', p.CALLER_TYPES, p.BAD_FRAME),
        ('{"type": "resume", "token": "t", "last_seq": -1}', p.CALLER_TYPES, p.BAD_FRAME),
        ('{"type": "resume", "token": "t", "last_seq": true}', p.CALLER_TYPES, p.BAD_FRAME),
        ('{"type": "send", "id": "a", "text": "   "}', p.CALLER_TYPES, p.BAD_FRAME),
        ('{"type": "availability", "status": "asleep"}', p.STAFF_TYPES, p.BAD_FRAME),
        ('{"type": "accept", "conversation": "not-a-uuid"}', p.STAFF_TYPES, p.BAD_FRAME),
        ('{"v": 9, "type": "ping"}', p.CALLER_TYPES, p.UNSUPPORTED_VERSION),
    ],
)
def test_bad_frames(raw: str, allowed: frozenset[str], code: str) -> None:
    with pytest.raises(p.ProtocolError) as err:
        p.parse_frame(raw, allowed, 100)
    assert err.value.code == code


def test_text_limit_counts_characters_and_echoes_the_id() -> None:
    p.parse_frame('{"type": "send", "id": "a", "text": "' + "å" * 100 + '"}', p.CALLER_TYPES, 100)
    with pytest.raises(p.ProtocolError) as err:
        p.parse_frame(
            '{"type": "send", "id": "a", "text": "' + "å" * 101 + '"}', p.CALLER_TYPES, 100
        )
    assert (err.value.code, err.value.ref) == (p.TOO_LARGE, "a")


def test_good_frames_pass() -> None:
    frame = p.parse_frame('{"v": 1, "type": "typing", "on": true}', p.CALLER_TYPES, 10)
    assert frame["on"] is True
