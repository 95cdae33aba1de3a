-- One DLQ row per line and drain: a line redelivered after a rebalance (or a worker's restart) and
-- parked again by its new owner must not be stored, and so retried and sent, twice. The key is the
-- line's Kafka position; lines without one (an empty topic) are not constrained.
-- Taken before the dedupe so a node still running the previous version cannot add a duplicate
-- between the DELETE and the index build.
LOCK TABLE drain_dlq IN SHARE ROW EXCLUSIVE MODE;

-- Keep the oldest row of each line (the first park, with its first attempt and its id).
DELETE FROM drain_dlq d
 USING drain_dlq keep
 WHERE keep.drain_id = d.drain_id
   AND keep.line->>'kafka_topic' = d.line->>'kafka_topic'
   AND keep.line->>'kafka_partition' = d.line->>'kafka_partition'
   AND keep.line->>'kafka_offset' = d.line->>'kafka_offset'
   AND d.line->>'kafka_topic' <> ''
   AND keep.id < d.id;

CREATE UNIQUE INDEX drain_dlq_line_position ON drain_dlq (drain_id, (line->>'kafka_topic'), (line->>'kafka_partition'), (line->>'kafka_offset'))
  WHERE line->>'kafka_topic' <> '';
