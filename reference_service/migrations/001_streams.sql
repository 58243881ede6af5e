CREATE TABLE streams (
    id              uuid PRIMARY KEY,
    creator_id      uuid NOT NULL,
    title           text NOT NULL,
    description     text,
    category        text,
    stream_key      text NOT NULL,
    status          text NOT NULL DEFAULT 'preparing'
                    CHECK (status IN ('preparing', 'live', 'ended')),
    publisher_id    text,
    peak_viewers    integer NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL DEFAULT now(),
    started_at      timestamptz,
    ended_at        timestamptz,
    CHECK (status <> 'live' OR started_at IS NOT NULL),
    CHECK (status <> 'ended' OR ended_at IS NOT NULL)
);

CREATE INDEX streams_status ON streams (status);
CREATE INDEX streams_creator ON streams (creator_id);
