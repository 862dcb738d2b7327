-- The counsellor console and the supervisor monitor (docs/console.md).
-- Staff-only material (notes, whispers) lives in its own tables, never in
-- `messages`, so the caller's sequence numbers stay gapless and nothing here
-- can ever reach a caller's socket through replay.

-- Alerts for supervisors: risk (the triage hook), help requests, long waits,
-- understaffing. `key` deduplicates alerts raised by a periodic check (several
-- processes may run it); NULL for one-off alerts such as a help request.
CREATE TABLE alerts (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    kind             text NOT NULL,
    line_id          text,
    conversation_id  uuid REFERENCES conversations(id) ON DELETE CASCADE,
    tier             text CHECK (tier IN ('none', 'low', 'medium', 'high', 'imminent')),
    reason           text NOT NULL DEFAULT '',
    key              text UNIQUE,
    raised_by        bigint REFERENCES staff(id),
    created_at       timestamptz NOT NULL DEFAULT now(),
    acknowledged_by  bigint REFERENCES staff(id),
    acknowledged_at  timestamptz
);
CREATE INDEX alerts_open ON alerts (created_at) WHERE acknowledged_at IS NULL;

-- Canned responses per line and language, managed by supervisors.
CREATE TABLE canned_responses (
    id          bigserial PRIMARY KEY,
    line_id     text NOT NULL REFERENCES lines(id) ON DELETE CASCADE,
    lang        text NOT NULL CHECK (lang IN ('sv', 'da', 'en')),
    shortcut    text NOT NULL CHECK (shortcut ~ '^[a-z0-9_-]{1,32}$'),
    title       text NOT NULL,
    body        text NOT NULL,
    updated_by  bigint REFERENCES staff(id),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (line_id, lang, shortcut)
);

-- Private notes on a conversation: staff only.
CREATE TABLE conversation_notes (
    id               bigserial PRIMARY KEY,
    conversation_id  uuid NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    staff_id         bigint NOT NULL REFERENCES staff(id),
    body             text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX conversation_notes_conversation ON conversation_notes (conversation_id, id);

-- Whispers between a supervisor and the counsellor: staff only.
CREATE TABLE whispers (
    id               bigserial PRIMARY KEY,
    conversation_id  uuid NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    staff_id         bigint NOT NULL REFERENCES staff(id),
    body             text NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX whispers_conversation ON whispers (conversation_id, id);

-- Where to refer a caller: emergency services, clinics, services, booking links.
CREATE TABLE referrals (
    id           bigserial PRIMARY KEY,
    line_id      text NOT NULL REFERENCES lines(id) ON DELETE CASCADE,
    category     text NOT NULL CHECK (category IN ('emergency', 'clinic', 'service', 'booking')),
    name         jsonb NOT NULL,             -- {"sv": "...", "da": "...", "en": "..."}
    description  jsonb NOT NULL DEFAULT '{}'::jsonb,
    phone        text CHECK (phone ~ '^[0-9 +()-]{2,32}$'),
    url          text CHECK (url ~ '^https://'),
    sort         integer NOT NULL DEFAULT 0
);
CREATE INDEX referrals_line ON referrals (line_id, sort, id);

-- Wrap-up topic categories per line (what callers write about).
CREATE TABLE wrap_up_topics (
    line_id  text NOT NULL REFERENCES lines(id) ON DELETE CASCADE,
    id       text NOT NULL CHECK (id ~ '^[a-z0-9_-]{1,40}$'),
    label    jsonb NOT NULL,
    sort     integer NOT NULL DEFAULT 0,
    PRIMARY KEY (line_id, id)
);

-- The counsellor's wrap-up of a conversation, one per conversation.
CREATE TABLE wrap_ups (
    conversation_id  uuid PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
    staff_id         bigint NOT NULL REFERENCES staff(id),
    topics           text[] NOT NULL DEFAULT '{}',
    outcome          text,
    risk_tier        smallint CHECK (risk_tier BETWEEN 0 AND 4),
    created_at       timestamptz NOT NULL DEFAULT now()
);
