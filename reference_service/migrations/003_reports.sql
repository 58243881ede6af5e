-- When the ingest last reported each live stream's publisher (on_update), in a row of its own:
-- a report is recorded at once, never behind a change that holds the stream's row (a join
-- waiting on Redis held it for seconds, and the reports queued behind it went unrecorded).
-- No foreign key: checking one locks the stream's row (FOR KEY SHARE), which a change holds.
CREATE TABLE reports (
    stream_id   uuid PRIMARY KEY,
    seen_at     timestamptz NOT NULL
);
