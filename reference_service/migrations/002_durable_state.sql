-- Durable state: everything Redis holds can be rebuilt from here, and every event is written in
-- the same transaction as the change it tells of (a transactional outbox; see outbox.py).

-- The viewers of live streams (deleted when the stream ends); streams.peak_viewers is kept up to
-- date as they join.
CREATE TABLE viewers (
    stream_id   uuid NOT NULL REFERENCES streams (id),
    user_id     uuid NOT NULL,
    joined_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (stream_id, user_id)
);

-- Events waiting for the broker (sent_at NULL), and those it took, kept for a while so that a
-- broker that comes back without its topic gets them again.
CREATE TABLE outbox (
    id          bigserial PRIMARY KEY,
    event_id    uuid NOT NULL UNIQUE,
    stream_id   uuid NOT NULL,
    payload     text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    sent_at     timestamptz
);
CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at IS NULL;

-- When the ingest last said the stream's publisher is there (on_publish, on_update).
ALTER TABLE streams ADD COLUMN last_seen_at timestamptz;
