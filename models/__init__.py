"""Encosta landslide risk model: pure numpy/scipy, all stations at once.

Typical use::

    from models import ModelInputs, StationParams, evaluate, load_preset

    config = load_preset("rio")
    result = evaluate(ModelInputs.build(rain_mm, vwc_m3m3, 15, zone, x_m, y_m, params), config)
    result.zone_level, result.zone_unknown, zone_evidence(result, config, 0)

See docs/model.md for the equations, parameters and sources.
"""

from models.config import ModelConfig, load_config, load_preset
from models.errors import ConfigError, InputError, ModelError
from models.evaluate import evaluate, finalize, summarise
from models.evidence import Evidence, station_evidence, zone_evidence
from models.hysteresis import Hysteresis
from models.inputs import ModelInputs, StationParams, StationStatic, StepWindows
from models.interpolation import idw_estimate, project_lonlat
from models.quality import QualityFlag
from models.rainfall import rolling_sum_mm
from models.result import MODEL_VERSION, Criterion, Level, ModelResult
from models.slope import factor_of_safety, vertical_depth_m, water_table_ratio, wetness
from models.state import ModelState
from models.summary import WindowSummary
from models.threshold import id_threshold_mm_h

__all__ = [
    "MODEL_VERSION",
    "ConfigError",
    "Criterion",
    "Evidence",
    "Hysteresis",
    "InputError",
    "Level",
    "ModelConfig",
    "ModelError",
    "ModelInputs",
    "ModelResult",
    "ModelState",
    "QualityFlag",
    "StationParams",
    "StationStatic",
    "StepWindows",
    "WindowSummary",
    "evaluate",
    "factor_of_safety",
    "finalize",
    "id_threshold_mm_h",
    "idw_estimate",
    "load_config",
    "load_preset",
    "project_lonlat",
    "rolling_sum_mm",
    "station_evidence",
    "summarise",
    "vertical_depth_m",
    "water_table_ratio",
    "wetness",
    "zone_evidence",
]
