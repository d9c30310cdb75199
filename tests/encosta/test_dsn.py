"""Which DSN each command uses: its own variable, then ENCOSTA_PG_DSN, then its local role."""

from __future__ import annotations

from alerts.api.config import ApiConfig
from alerts.config import DispatchConfig, EvaluatorConfig
from encosta import stack
from ingest.config import IngestConfig

LOCAL = {"ENCOSTA_PG_PORT": "5999"}


def test_services_default_to_their_own_role_on_the_local_stack() -> None:
    """Unconfigured, each service logs in as its role; the owner commands as postgres."""
    assert IngestConfig.from_env(LOCAL).dsn == "postgresql://encosta_ingest@127.0.0.1:5999/encosta"
    alerts = "postgresql://encosta_alerts@127.0.0.1:5999/encosta"
    assert EvaluatorConfig.from_env(LOCAL).dsn == alerts
    assert DispatchConfig.from_env(LOCAL).dsn == alerts
    assert ApiConfig.from_env(LOCAL).dsn == "postgresql://encosta_api@127.0.0.1:5999/encosta"
    assert stack.owner_dsn(LOCAL) == "postgresql://postgres@127.0.0.1:5999/encosta"


def test_per_service_dsn_wins_over_the_shared_one() -> None:
    """ENCOSTA_<SERVICE>_PG_DSN beats ENCOSTA_PG_DSN, which beats the local default."""
    shared = {**LOCAL, "ENCOSTA_PG_DSN": "postgresql://shared/db"}
    assert IngestConfig.from_env(shared).dsn == "postgresql://shared/db"
    assert ApiConfig.from_env(shared).dsn == "postgresql://shared/db"
    assert stack.owner_dsn(shared) == "postgresql://shared/db"
    own = {
        **shared,
        "ENCOSTA_INGEST_PG_DSN": "postgresql://i/db",
        "ENCOSTA_ALERTS_PG_DSN": "postgresql://a/db",
        "ENCOSTA_API_PG_DSN": "postgresql://p/db",
        "ENCOSTA_PG_OWNER_DSN": "postgresql://o/db",
    }
    assert IngestConfig.from_env(own).dsn == "postgresql://i/db"
    assert EvaluatorConfig.from_env(own).dsn == "postgresql://a/db"
    assert DispatchConfig.from_env(own).dsn == "postgresql://a/db"
    assert ApiConfig.from_env(own).dsn == "postgresql://p/db"
    assert stack.owner_dsn(own) == "postgresql://o/db"
