-- The operator's note on an acknowledgement (docs/alerts.md "Ops API"), kept with the event.
-- alert_events stays append-only: the trigger refuses UPDATE and DELETE of any column,
-- this one included, so a note is written once with its acknowledgement.
ALTER TABLE alert_events ADD COLUMN note text CHECK (length(note) <= 2000);
