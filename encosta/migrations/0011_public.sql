-- 0011: each zone's support points (shelters), from the registry's [[zones.support_points]],
-- shown on the public status page (alerts/api/status_page.py). Written by `encosta stations
-- import` (the schema owner), read by the API and Grafana.
CREATE TABLE zone_support_points (
    zone_id   text NOT NULL REFERENCES zones (id) ON DELETE CASCADE,
    position  integer NOT NULL,  -- order in the registry file
    name      text NOT NULL,
    address   text NOT NULL DEFAULT '',
    lat       double precision NOT NULL,
    lon       double precision NOT NULL,
    example   boolean NOT NULL DEFAULT false,  -- a placeholder, not a real shelter
    PRIMARY KEY (zone_id, position)
);

GRANT SELECT ON zone_support_points TO encosta_api, encosta_reader;

-- 0011: community reports of signs of instability (alerts/reports.py, docs/alerts.md
-- "Community reports"). Personal data is minimal and purged after
-- ENCOSTA_REPORTS_RETENTION_DAYS: the optional contact, the free text and the photo; what
-- stays is the zone, the category, the position, the times and the review.
CREATE TABLE community_reports (
    id           bigserial PRIMARY KEY,
    network      text NOT NULL,
    zone_id      text NOT NULL REFERENCES zones (id),
    category     text NOT NULL CHECK (category IN
                     ('crack', 'leaning', 'spring', 'slide', 'drain', 'other')),
    source       text NOT NULL CHECK (source IN ('resident', 'agent', 'gateway')),
    lat          double precision CHECK (lat BETWEEN -90 AND 90),
    lon          double precision CHECK (lon BETWEEN -180 AND 180),
    description  text NOT NULL DEFAULT '' CHECK (length(description) <= 1000),
    contact      text CHECK (length(contact) <= 100),  -- optional: to call the reporter back
    photo        bytea,
    photo_type   text CHECK (photo_type IN ('image/jpeg', 'image/png', 'image/webp')),
    status       text NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'confirmed', 'dismissed')),
    reviewed_by  text,
    reviewed_at  timestamptz,
    review_note  text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    purged_at    timestamptz  -- personal data (contact, description, photo) removed
);
CREATE INDEX community_reports_zone_idx ON community_reports (zone_id, status, reviewed_at);
CREATE INDEX community_reports_created_idx ON community_reports (created_at);

-- The API takes reports in, shows them to operators and records their review and the purge.
GRANT SELECT, INSERT ON community_reports TO encosta_api;
GRANT UPDATE (status, reviewed_by, reviewed_at, review_note, contact, description, photo,
              photo_type, purged_at) ON community_reports TO encosta_api;
GRANT USAGE ON SEQUENCE community_reports_id_seq TO encosta_api;
-- The evaluator counts confirmed reports per zone; never the personal data.
GRANT SELECT (id, network, zone_id, category, status, reviewed_at, created_at)
    ON community_reports TO encosta_alerts;
-- Grafana: counts and positions, never the contact, the text or the photo.
GRANT SELECT (id, network, zone_id, category, source, lat, lon, status, reviewed_by,
              reviewed_at, created_at) ON community_reports TO encosta_reader;
