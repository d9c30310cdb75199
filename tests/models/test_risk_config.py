"""Configuration loading: presets validate, and errors name the field and allowed range."""

from __future__ import annotations

import tomllib
from importlib import resources
from typing import TYPE_CHECKING, Any

import pytest

from models import ConfigError, ModelConfig, ModelError, load_config, load_preset

if TYPE_CHECKING:
    from pathlib import Path


def _preset_text(name: str) -> str:
    return resources.files("models.config").joinpath(f"{name}.toml").read_text(encoding="utf-8")


def _rio() -> dict[str, Any]:
    return tomllib.loads(_preset_text("rio"))


def test_presets_load() -> None:
    """Both shipped presets load; the siren preset carries the A2C2 alert trigger."""
    rio, sirens = load_preset("rio"), load_preset("sirens")
    assert rio.intensity_duration.a == 14.82
    assert rio.intensity_duration.b == 0.39
    assert sirens.rain_levels.rain_1h_mm[1] == 40.0
    assert sirens.rain_levels.rain_24h_mm[1] == 125.0
    assert rio.slope.water_unit_weight_knm3 == 9.81


@pytest.mark.parametrize(
    ("section", "key", "value", "field", "allowed"),
    [
        ("antecedent", "k_daily", 1.5, "antecedent.k_daily", "0.5 <= value <= 0.99"),
        ("slope", "friction_deg", -3, "slope.friction_deg", "0.0 <= value <= 60.0"),
        ("rain_levels", "rain_1h_mm", [30, 10, 50], "rain_levels.rain_1h_mm", "increasing"),
        ("slope", "fs_levels", [1.0, 1.2, 1.3], "slope.fs_levels", "decreasing"),
        ("quality", "offline_intervals", 0, "quality.offline_intervals", "1..1000"),
        ("event", "dry_spell_h", "6h", "event.dry_spell_h", "0.0 < value <= 240.0"),
    ],
)
def test_error_names_field_and_range(
    section: str, key: str, value: object, field: str, allowed: str
) -> None:
    """A bad value raises ConfigError whose field and message name the field and the range."""
    data = _rio()
    data[section][key] = value
    with pytest.raises(ConfigError) as info:
        ModelConfig.from_mapping(data, "test.toml")
    assert info.value.field == field
    assert allowed in info.value.allowed
    assert field in str(info.value)
    assert "test.toml" in str(info.value)


def test_missing_field_is_named() -> None:
    """A missing key is reported by its dotted name."""
    data = _rio()
    del data["intensity_duration"]["a"]
    with pytest.raises(ConfigError, match=r"intensity_duration\.a"):
        ModelConfig.from_mapping(data)


def test_saturated_must_exceed_residual() -> None:
    """Cross-field rule: saturated water content above residual."""
    data = _rio()
    data["slope"]["vwc_saturated"] = 0.04
    with pytest.raises(ConfigError) as info:
        ModelConfig.from_mapping(data)
    assert info.value.field == "slope.vwc_saturated"


def test_unreadable_file_is_a_model_error(tmp_path: Path) -> None:
    """Broken TOML raises the package's root exception with the file named."""
    path = tmp_path / "bad.toml"
    path.write_text("network = ", encoding="utf-8")
    with pytest.raises(ModelError, match=r"bad\.toml"):
        load_config(path)


def test_unknown_preset() -> None:
    """Asking for a preset that does not exist lists the ones that do."""
    with pytest.raises(ConfigError, match=r"rio or sirens"):
        load_preset("lisbon")


def test_a_preset_can_be_an_engineers_own_file(tmp_path: Path) -> None:
    """A tuned copy of a preset loads by its path, validated like the shipped ones."""
    text = _preset_text("rio").replace("rain_1h_mm = [10.0, 30.0", "rain_1h_mm = [10.0, 35.0")
    path = tmp_path / "tuned.toml"
    path.write_text(text, encoding="utf-8")
    assert load_preset(str(path)).rain_levels.rain_1h_mm == (10.0, 35.0, 50.0)
    assert load_preset(str(path)).slope == load_preset("rio").slope
    path.write_text(text.replace("hold_minutes = ", "hold_minutes = 9999 #"), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"hysteresis\.hold_minutes.* in .*tuned\.toml"):
        load_preset(str(path))
    with pytest.raises(ConfigError, match=r"missing\.toml"):
        load_preset(str(tmp_path / "missing.toml"))


@pytest.mark.parametrize(
    ("old", "new", "field", "words"),
    [
        ("friction_deg = ", "friction_dg = ", "slope.friction_dg", "unknown field"),
        ('network = "rio"', 'network = "rio"\nzones = 3', "zones", "unknown field"),
        ("offline_intervals = ", "offline_intervals = 1.5 #", "quality.offline_intervals", "int"),
        ("power = ", 'power = "two" #', "interpolation.power", "float"),
        ("hold_minutes = ", "hold_minutes = 9999 #", "hysteresis.hold_minutes", "<= 1440.0"),
        ("rain_1h_mm = [", "rain_1h_mm = [900, ", "rain_levels.rain_1h_mm", "<= 500.0"),
    ],
)
def test_a_bad_file_names_the_file_and_the_key(
    tmp_path: Path, old: str, new: str, field: str, words: str
) -> None:
    """An unknown key, a wrong type and an out-of-range value each fail naming file and key."""
    source = resources.files("models.config").joinpath("rio.toml").read_text(encoding="utf-8")
    assert old in source
    path = tmp_path / "broken.toml"
    path.write_text(source.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.field == field
    assert str(path) in str(info.value)
    assert words in str(info.value)


def test_cross_field_rule_names_the_key() -> None:
    """A rule across two fields is checked too, and names the later one."""
    data = _rio()
    data["intensity_duration"]["max_duration_h"] = 1.0
    data["intensity_duration"]["min_duration_h"] = 2.0
    with pytest.raises(ConfigError) as info:
        ModelConfig.from_mapping(data, "x.toml")
    assert info.value.field == "intensity_duration.max_duration_h"
    assert "> min_duration_h (2.0)" in info.value.allowed
