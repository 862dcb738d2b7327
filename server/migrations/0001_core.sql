-- Core schema: lines, staff, sessions, conversations, messages, audit.
-- A caller is known only by the hash of an opaque token: no IP, no user agent.

CREATE TABLE lines (
    id          text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{0,39}$'),
    name        jsonb NOT NULL,            -- {"sv": "...", "da": "...", "en": "..."}
    audience    jsonb NOT NULL,
    languages   text[] NOT NULL,
    time_zone   text NOT NULL DEFAULT 'Europe/Stockholm',
    emergency   jsonb NOT NULL DEFAULT '{}'::jsonb,  -- {"numbers": [...], "text": {"sv": ...}}
    exit_url    text NOT NULL DEFAULT 'https://www.google.com/',
    settings    jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE staff (
    id              bigserial PRIMARY KEY,
    username        text NOT NULL UNIQUE,
    display_name    text NOT NULL,
    role            text NOT NULL CHECK (role IN ('counsellor', 'supervisor', 'admin')),
    password_hash   text NOT NULL,
    capacity        integer NOT NULL DEFAULT 2 CHECK (capacity BETWEEN 1 AND 10),
    line_ids        text[] NOT NULL DEFAULT '{}',   -- empty: every line
    failed_logins   integer NOT NULL DEFAULT 0,
    locked_until    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE staff_sessions (
    token_hash  bytea PRIMARY KEY,
    staff_id    bigint NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
    csrf_token  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL
);

CREATE TABLE conversations (
    id                      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    line_id                 text NOT NULL REFERENCES lines(id),
    lang                    text NOT NULL CHECK (lang IN ('sv', 'da', 'en')),
    token_hash              bytea NOT NULL UNIQUE,
    state                   text NOT NULL DEFAULT 'queued'
                            CHECK (state IN ('queued', 'active', 'wrapped_up', 'abandoned')),
    risk_tier               smallint NOT NULL DEFAULT 0 CHECK (risk_tier BETWEEN 0 AND 4),
    counsellor_id           bigint REFERENCES staff(id),
    last_seq                bigint NOT NULL DEFAULT 0,
    created_at              timestamptz NOT NULL DEFAULT now(),
    queued_at               timestamptz NOT NULL DEFAULT now(),
    accepted_at             timestamptz,
    caller_ended_at         timestamptz,
    ended_at                timestamptz,
    end_reason              text,
    caller_disconnected_at  timestamptz
);
CREATE INDEX conversations_queued ON conversations (line_id, risk_tier DESC, queued_at)
    WHERE state = 'queued';
CREATE INDEX conversations_counsellor ON conversations (counsellor_id) WHERE state = 'active';

CREATE TABLE messages (
    conversation_id uuid NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    seq             bigint NOT NULL,
    sender          text NOT NULL CHECK (sender IN ('caller', 'counsellor', 'supervisor', 'system')),
    staff_id        bigint REFERENCES staff(id),
    client_id       text,
    body            text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (conversation_id, seq),
    UNIQUE (conversation_id, sender, client_id)
);

CREATE TABLE audit_log (
    id               bigserial PRIMARY KEY,
    at               timestamptz NOT NULL DEFAULT now(),
    staff_id         bigint REFERENCES staff(id),
    action           text NOT NULL,
    conversation_id  uuid,
    detail           jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_log_conversation ON audit_log (conversation_id);
