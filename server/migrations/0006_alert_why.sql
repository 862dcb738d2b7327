-- Why an alert was raised, as a code and parameters the monitor words in the
-- supervisor's language (`alert.why.<code>` in i18n.js), next to the English
-- `reason` (e-mail, logs, and alerts stored before this column existed).
ALTER TABLE alerts ADD COLUMN why jsonb;
