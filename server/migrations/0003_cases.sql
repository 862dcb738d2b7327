-- Asynchronous cases ("leave a question") and post-chat ratings (docs/widget.md).
-- Neither table holds anything that identifies a caller: no IP address, no
-- user agent, no token. A case is found again only through its word code, of
-- which we keep a slow, deterministic hash (server/cases.py).

CREATE TABLE cases (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    line_id     text NOT NULL REFERENCES lines(id),
    lang        text NOT NULL CHECK (lang IN ('sv', 'da', 'en')),
    code_hash   bytea NOT NULL UNIQUE,
    -- open: waits for staff; answered: waits for the caller; closed: done.
    state       text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'answered', 'closed')),
    last_seq    integer NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX cases_open ON cases (line_id, updated_at) WHERE state = 'open';

CREATE TABLE case_messages (
    case_id     uuid NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
    seq         integer NOT NULL,
    sender      text NOT NULL CHECK (sender IN ('caller', 'counsellor')),
    staff_id    bigint REFERENCES staff(id),
    body        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (case_id, seq)
);

-- One optional rating per conversation, given after it ended.
CREATE TABLE ratings (
    conversation_id  uuid PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
    line_id          text NOT NULL,
    score            smallint CHECK (score BETWEEN 1 AND 5),
    comment          text NOT NULL DEFAULT '',
    created_at       timestamptz NOT NULL DEFAULT now()
);
