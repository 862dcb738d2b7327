"""Cases (leave a question, come back with a word code) and ratings, over real HTTP."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from server import cases
from server.models import StaffRole
from tests.server.conftest import Running
from tests.server.test_console import open_staff

# -- the code itself (pure) ------------------------------------------------------------


def test_word_list_is_2048_distinct_plain_words() -> None:
    assert len(cases.WORDS) == cases.WORD_COUNT == len(set(cases.WORDS))
    assert all(len(w) == 4 and w.isascii() and w.isalpha() for w in cases.WORDS)
    assert not set(cases.WORDS) & cases._DENIED


def test_codes_are_three_words_and_normalise_however_written() -> None:
    code = cases.new_code()
    words = code.split("-")
    assert len(words) == cases.WORDS_PER_CODE and all(w in cases.WORDS for w in words)
    assert cases.normalise_code(f"  {words[0].upper()} {words[1]}.{words[2]} ") == code
    assert cases.normalise_code("only two") is None
    assert cases.normalise_code("a b c d") is None


def test_the_stored_hash_is_not_the_code() -> None:
    code = cases.new_code()
    digest = cases.hash_code(code)
    assert len(digest) == 32 and code.encode() not in digest
    assert digest == cases.hash_code(code)  # deterministic, so it can be looked up


# -- HTTP ------------------------------------------------------------------------------


@pytest.fixture
async def http(running: Running) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=running.http) as client:
        yield client


@contextlib.asynccontextmanager
async def staff_client(
    running: Running, line: str, role: StaffRole = StaffRole.COUNSELLOR
) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    member = await running.staff(line, role=role)
    async with httpx.AsyncClient(base_url=running.http) as client:
        login = await client.post(
            "/api/login", json={"username": member.username, "password": running.password}
        )
        login.raise_for_status()
        yield client, login.json()["csrf_token"]


async def test_leave_a_question_answer_it_and_follow_up(
    running: Running, http: httpx.AsyncClient
) -> None:
    line = await running.line()
    created = await http.post("/api/cases", json={"line": line, "lang": "sv", "text": "Hej?"})
    assert created.status_code == 201
    code = created.json()["code"]

    found = await http.post("/api/cases/lookup", json={"code": code.upper().replace("-", " ")})
    assert found.status_code == 200
    case = found.json()["case"]
    assert case["state"] == "open" and [m["text"] for m in case["messages"]] == ["Hej?"]

    async with staff_client(running, line) as (staff, csrf):
        listed = (await staff.get("/api/staff/cases")).json()["cases"]
        mine = [c for c in listed if c["line"] == line]
        assert len(mine) == 1
        case_id = mine[0]["id"]
        no_csrf = await staff.post(f"/api/staff/cases/{case_id}/answer", json={"text": "Hej!"})
        assert no_csrf.status_code == 403
        answered = await staff.post(
            f"/api/staff/cases/{case_id}/answer",
            json={"text": "Hej! Berätta mer."},
            headers={"X-CSRF-Token": csrf},
        )
        assert answered.status_code == 200
        assert answered.json()["case"]["state"] == "answered"
        listed = (await staff.get("/api/staff/cases")).json()["cases"]
        assert not [c for c in listed if c["line"] == line]  # answered: no longer open

    seen = (await http.post("/api/cases/lookup", json={"code": code})).json()["case"]
    assert [(m["from"], m["text"]) for m in seen["messages"]] == [
        ("caller", "Hej?"),
        ("counsellor", "Hej! Berätta mer."),
    ]
    assert "staff" not in str(seen) and "Counsellor" not in str(seen)

    reply = await http.post("/api/cases/reply", json={"code": code, "text": "Tack, mer här."})
    assert reply.status_code == 200
    assert reply.json()["case"]["state"] == "open"
    assert [m["seq"] for m in reply.json()["case"]["messages"]] == [1, 2, 3]

    stored = await running.services.pool.fetchrow(
        "SELECT * FROM cases WHERE id = $1", uuid.UUID(case_id)
    )
    assert code.encode() not in bytes(stored["code_hash"])
    assert set(stored.keys()) == {
        "id",
        "line_id",
        "lang",
        "code_hash",
        "state",
        "last_seq",
        "created_at",
        "updated_at",
    }


async def test_closed_case_refuses_follow_ups(running: Running, http: httpx.AsyncClient) -> None:
    line = await running.line()
    code = (
        await http.post("/api/cases", json={"line": line, "lang": "en", "text": "Question"})
    ).json()["code"]
    async with staff_client(running, line) as (staff, csrf):
        case_id = next(
            c["id"]
            for c in (await staff.get("/api/staff/cases")).json()["cases"]
            if c["line"] == line
        )
        closed = await staff.post(
            f"/api/staff/cases/{case_id}/answer",
            json={"text": "All the best.", "close": True},
            headers={"X-CSRF-Token": csrf},
        )
        assert closed.json()["case"]["state"] == "closed"
    refused = await http.post("/api/cases/reply", json={"code": code, "text": "one more"})
    assert refused.status_code == 409


async def test_case_input_is_checked(running: Running, http: httpx.AsyncClient) -> None:
    line = await running.line(languages=["sv"])
    too_long = "x" * (running.services.settings.max_text_chars + 1)
    for body, status in [
        ({"line": line, "lang": "sv", "text": "  "}, 400),
        ({"line": line, "lang": "sv", "text": too_long}, 400),
        ({"line": line, "lang": "en", "text": "hi"}, 400),
        ({"line": "no-such-line", "lang": "sv", "text": "hi"}, 404),
        ({"line": line, "lang": "sv"}, 400),
    ]:
        assert (await http.post("/api/cases", json=body)).status_code == status, body
    foreign = await http.post(
        "/api/cases",
        json={"line": line, "lang": "sv", "text": "hi"},
        headers={"Origin": "https://evil.example"},
    )
    assert foreign.status_code == 403
    assert (await http.post("/api/cases/lookup", json={"code": "two words"})).status_code == 400


async def test_lookups_are_rate_limited(running: Running, http: httpx.AsyncClient) -> None:
    statuses = [
        (await http.post("/api/cases/lookup", json={"code": cases.new_code()})).status_code
        for _ in range(cases.LOOKUP_PER_CLIENT_BURST + 2)
    ]
    assert statuses[0] == 404
    assert statuses[-1] == 429


async def test_staff_endpoints_need_a_session_and_the_line(
    running: Running, http: httpx.AsyncClient
) -> None:
    assert (await http.get("/api/staff/cases")).status_code == 401
    line, other = await running.line(), await running.line()
    await http.post("/api/cases", json={"line": line, "lang": "sv", "text": "Hej"})
    async with staff_client(running, other) as (staff, csrf):
        listed = (await staff.get("/api/staff/cases")).json()["cases"]
        assert not [c for c in listed if c["line"] == line]
        case_id = await running.services.pool.fetchval(
            "SELECT id FROM cases WHERE line_id = $1", line
        )
        denied = await staff.post(
            f"/api/staff/cases/{case_id}/answer",
            json={"text": "not my line"},
            headers={"X-CSRF-Token": csrf},
        )
        assert denied.status_code == 404
    async with staff_client(running, line, StaffRole.SUPERVISOR) as (client, _csrf):
        listed = (await client.get("/api/staff/cases")).json()["cases"]
        assert [c for c in listed if c["line"] == line]


async def test_staff_sockets_hear_of_cases_on_their_lines_only(
    running: Running, http: httpx.AsyncClient
) -> None:
    line, other = await running.line(), await running.line()
    serving = await open_staff(running, await running.staff(line))
    elsewhere = await open_staff(running, await running.staff(other))
    created = await http.post("/api/cases", json={"line": line, "lang": "da", "text": "Hjælp?"})
    code = created.json()["code"]
    hint = await serving.expect("case", line=line)
    assert (hint["change"], hint["state"], hint["lang"]) == ("created", "open", "da")
    # A hint only: the caller's words stay off the bus, staff fetch the list.
    assert "Hjælp" not in str(hint) and code not in str(hint)
    await elsewhere.nothing_of("case", wait=0.5)

    async with staff_client(running, line) as (staff, csrf):
        answered = await staff.post(
            f"/api/staff/cases/{hint['case']}/answer",
            json={"text": "Vi er her."},
            headers={"X-CSRF-Token": csrf},
        )
        assert answered.status_code == 200
    done = await serving.expect("case", case=hint["case"], change="answered")
    assert done["state"] == "answered"
    await http.post("/api/cases/reply", json={"code": code, "text": "Tak. Mere her."})
    again = await serving.expect("case", case=hint["case"], change="followed_up")
    assert again["state"] == "open"
    await elsewhere.nothing_of("case", wait=0.3)


# -- ratings ---------------------------------------------------------------------------------


async def test_a_chat_is_rated_once_after_it_ended(
    running: Running, http: httpx.AsyncClient
) -> None:
    line = await running.line()
    caller = await running.caller()
    await caller.start(line, "sv")
    token = caller.token
    early = await http.post("/api/rating", json={"token": token, "score": 5})
    assert early.status_code == 409
    await caller.send({"type": "end"})
    await caller.expect("ended")
    for body in (
        {"token": token, "score": 6},
        {"token": token, "score": True},
        {"token": token},
        {"token": "short", "score": 3},
    ):
        assert (await http.post("/api/rating", json=body)).status_code == 400, body
    unknown = await http.post("/api/rating", json={"token": "x" * 32, "score": 3})
    assert unknown.status_code == 404
    rated = await http.post("/api/rating", json={"token": token, "score": 3, "comment": " ok "})
    assert rated.status_code == 201
    again = await http.post("/api/rating", json={"token": token, "score": 1})
    assert again.status_code == 409
    row = await running.services.pool.fetchrow(
        "SELECT * FROM ratings WHERE conversation_id = $1", uuid.UUID(caller.conversation)
    )
    assert (row["score"], row["comment"], row["line_id"]) == (3, "ok", line)
    await caller.close()
