-- Rejects that cannot fill a disk: `raw` keeps a bounded prefix of the payload (ingest writes
-- ENCOSTA_INGEST_REJECT_RAW_BYTES, 4096 by default), with the payload's full length and
-- SHA-256 beside it, so an operator still knows what came in and can match it to a sender's copy.

ALTER TABLE rejects
    ADD COLUMN raw_length integer,   -- bytes of the whole payload (or record); raw may be shorter
    ADD COLUMN raw_sha256 bytea;     -- SHA-256 of the whole payload (or record)

UPDATE rejects SET raw_length = length(raw), raw_sha256 = sha256(raw);

-- Defence in depth for writers other than ingest (and rows written before this migration):
-- fill the length and hash from raw when not given, and cap raw at 1 MiB and detail at 4,000
-- characters whoever writes.
CREATE FUNCTION encosta_rejects_bounded() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.raw_length := coalesce(NEW.raw_length, length(NEW.raw));
    NEW.raw_sha256 := coalesce(NEW.raw_sha256, sha256(NEW.raw));
    IF length(NEW.raw) > 1048576 THEN
        NEW.raw := substring(NEW.raw FROM 1 FOR 1048576);
    END IF;
    IF length(NEW.detail) > 4000 THEN
        NEW.detail := left(NEW.detail, 4000);
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER rejects_bounded BEFORE INSERT OR UPDATE ON rejects
    FOR EACH ROW EXECUTE FUNCTION encosta_rejects_bounded();

ALTER TABLE rejects
    ALTER COLUMN raw_length SET NOT NULL,
    ALTER COLUMN raw_sha256 SET NOT NULL,
    ADD CONSTRAINT rejects_raw_is_a_prefix CHECK (length(raw) <= raw_length);

COMMENT ON COLUMN rejects.raw IS 'the first ENCOSTA_INGEST_REJECT_RAW_BYTES bytes of the payload';
COMMENT ON COLUMN rejects.raw_length IS 'length in bytes of the whole payload (or record)';
COMMENT ON COLUMN rejects.raw_sha256 IS 'SHA-256 of the whole payload (or record)';

-- Least privilege (0005): ingest compares a conflicting re-send with what is stored.
GRANT SELECT ON readings TO encosta_ingest;
