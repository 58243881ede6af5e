-- A reconnect window: a stream whose publisher goes away is interrupted, not ended, for this many
-- seconds (0: ended at once), and its publisher may come back with the same key meanwhile.
ALTER TABLE streams ADD COLUMN reconnect_window_seconds integer NOT NULL DEFAULT 0
    CHECK (reconnect_window_seconds BETWEEN 0 AND 1800);
-- When the publisher of an interrupted stream went away (its media stopped).
ALTER TABLE streams ADD COLUMN interrupted_at timestamptz;
-- How long the stream was interrupted before it resumed, all its gaps together: not counted in
-- its duration.
ALTER TABLE streams ADD COLUMN interrupted_seconds double precision NOT NULL DEFAULT 0;
ALTER TABLE streams DROP CONSTRAINT streams_status_check;
ALTER TABLE streams ADD CONSTRAINT streams_status_check
    CHECK (status IN ('preparing', 'live', 'interrupted', 'ended'));
ALTER TABLE streams ADD CHECK (status <> 'interrupted' OR interrupted_at IS NOT NULL);
