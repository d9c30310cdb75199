"""Load a station registry file into ``zones``, ``zone_support_points`` and ``stations``."""

from __future__ import annotations

import asyncpg

from registry.format import Registry


async def import_registry(dsn: str, registry: Registry) -> int:
    """Upsert every zone and station of ``registry``; return the number of stations."""
    connection = await asyncpg.connect(dsn)
    try:
        async with connection.transaction():
            await connection.executemany(
                "INSERT INTO zones (id, network, name, municipality) VALUES ($1, $2, $3, $4)"
                " ON CONFLICT (id) DO UPDATE SET network = EXCLUDED.network,"
                " name = EXCLUDED.name, municipality = EXCLUDED.municipality",
                [(z.id, registry.network, z.name, z.municipality) for z in registry.zones],
            )
            await connection.execute(
                "DELETE FROM zone_support_points WHERE zone_id = ANY($1::text[])",
                [z.id for z in registry.zones],
            )
            await connection.executemany(
                "INSERT INTO zone_support_points (zone_id, position, name, address, lat, lon,"
                " example) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                [
                    (z.id, i, p.name, p.address, p.lat, p.lon, p.example)
                    for z in registry.zones
                    for i, p in enumerate(z.support_points)
                ],
            )
            await connection.executemany(
                """
                INSERT INTO stations (id, network, zone_id, name, lat, lon, elevation_m,
                    slope_deg, soil_depth_m, cohesion_kpa, friction_deg, unit_weight_knm3,
                    vwc_residual, vwc_saturated, sensor_depths_m, expected_interval_s, status)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
                        $17)
                ON CONFLICT (id) DO UPDATE SET network = EXCLUDED.network,
                    zone_id = EXCLUDED.zone_id, name = EXCLUDED.name, lat = EXCLUDED.lat,
                    lon = EXCLUDED.lon, elevation_m = EXCLUDED.elevation_m,
                    slope_deg = EXCLUDED.slope_deg, soil_depth_m = EXCLUDED.soil_depth_m,
                    cohesion_kpa = EXCLUDED.cohesion_kpa, friction_deg = EXCLUDED.friction_deg,
                    unit_weight_knm3 = EXCLUDED.unit_weight_knm3,
                    vwc_residual = EXCLUDED.vwc_residual, vwc_saturated = EXCLUDED.vwc_saturated,
                    sensor_depths_m = EXCLUDED.sensor_depths_m,
                    expected_interval_s = EXCLUDED.expected_interval_s,
                    status = EXCLUDED.status, updated_at = now()
                """,
                [
                    (
                        s.id,
                        registry.network,
                        s.zone,
                        s.name,
                        s.lat,
                        s.lon,
                        s.elevation_m,
                        s.slope_deg,
                        s.soil_depth_m,
                        s.cohesion_kpa,
                        s.friction_deg,
                        s.unit_weight_knm3,
                        s.vwc_residual,
                        s.vwc_saturated,
                        list(s.sensor_depths_m),
                        s.expected_interval_s,
                        s.status,
                    )
                    for s in registry.stations
                ],
            )
    finally:
        await connection.close()
    return len(registry.stations)
