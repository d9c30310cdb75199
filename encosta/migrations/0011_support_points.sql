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
