-- Open offers, one per conversation across all server processes: a process
-- may offer a caller only if it inserts the row, so no caller is offered to
-- two counsellors at once. Accepting deletes the row in the claim's transaction.
CREATE TABLE offers (
    conversation_id  uuid PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
    staff_id         bigint NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
    expires_at       timestamptz NOT NULL
);
