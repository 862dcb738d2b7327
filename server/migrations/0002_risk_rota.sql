-- Triage results, supervisor e-mail, and the rota as imported documents.

ALTER TABLE staff ADD COLUMN email text;

-- One row per assessed caller message that had any evidence: why the tier is
-- what it is, kept for counsellors, audits and evaluation exports.
CREATE TABLE risk_assessments (
    conversation_id uuid NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    seq             bigint NOT NULL,
    tier            smallint NOT NULL CHECK (tier BETWEEN 0 AND 4),
    score           real NOT NULL,
    categories      text[] NOT NULL,
    evidence        jsonb NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (conversation_id, seq)
);

-- The rota is imported as a whole YAML document (docs/rota.md); the newest is in force.
CREATE TABLE rota_documents (
    id           bigserial PRIMARY KEY,
    source       text NOT NULL,
    imported_by  bigint REFERENCES staff(id),
    imported_at  timestamptz NOT NULL DEFAULT now()
);

-- Ad-hoc clock-ins: a counsellor asks, a supervisor approves.
CREATE TABLE clock_ins (
    id           bigserial PRIMARY KEY,
    staff_id     bigint NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
    line_id      text NOT NULL,
    role         text NOT NULL CHECK (role IN ('counsellor', 'supervisor')),
    starts_at    timestamptz NOT NULL,
    ends_at      timestamptz NOT NULL,
    approved_by  bigint REFERENCES staff(id),
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- Every alert (risk, gap, understaffing, no-show) is sent once across all
-- processes: whoever inserts its key first sends it.
CREATE TABLE sent_alerts (
    key      text PRIMARY KEY,
    kind     text NOT NULL,
    sent_at  timestamptz NOT NULL DEFAULT now()
);

-- Sign-ups for open shifts, swaps and cover requests; a supervisor decides.
-- Approved ones are merged into the rota in force (docs/rota.md).
CREATE TABLE rota_requests (
    id           bigserial PRIMARY KEY,
    kind         text NOT NULL CHECK (kind IN ('signup', 'swap', 'cover')),
    staff_id     bigint NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
    payload      jsonb NOT NULL,
    status       text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
    decided_by   bigint REFERENCES staff(id),
    decided_at   timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now()
);
