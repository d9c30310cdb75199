"""Pure pieces: configuration from the environment, retry policy, signatures, CAP bodies."""

from __future__ import annotations

from datetime import UTC, datetime
from xml.etree import ElementTree as ET

import pytest
import standardwebhooks

from alerts.config import DispatchConfig, EvaluatorConfig
from alerts.errors import AlertsError, ConfigError, SubscriptionError
from alerts.payload import AlertEvent, render
from alerts.retry import retry_after_s, retryable_status
from alerts.signing import headers, new_secret, secret_key

AT = datetime(2026, 11, 24, 19, 0, tzinfo=UTC)
EVENT = AlertEvent(
    7,
    2,
    "rio",
    "rocinha",
    "Rocinha",
    "risk",
    "escalated",
    1,
    3,
    AT,
    {"model_version": "encosta-risk 1.0.0", "criteria": []},
)


def test_config_from_env_defaults_and_overrides() -> None:
    """Plain dicts configure the services; defaults match docs/alerts.md."""
    evaluator = EvaluatorConfig.from_env({"ENCOSTA_PG_DSN": "postgresql://x/y"})
    assert (evaluator.dsn, evaluator.interval_s, evaluator.network) == (
        "postgresql://x/y",
        5.0,
        "rio",
    )
    dispatch = DispatchConfig.from_env({"ENCOSTA_ALERTS_TIMEOUT_S": "30"})
    assert dispatch.timeout_s == 30.0
    assert dispatch.lease_s == 90.0


def test_bad_config_names_the_variable() -> None:
    """An invalid value raises ConfigError (an AlertsError) naming the variable."""
    with pytest.raises(ConfigError, match="ENCOSTA_ALERTS_INTERVAL_S") as info:
        EvaluatorConfig.from_env({"ENCOSTA_ALERTS_INTERVAL_S": "soon"})
    assert isinstance(info.value, AlertsError)


def test_retry_policy() -> None:
    """5xx/408/429 retry, other 4xx do not; backoff grows, is capped and honours Retry-After."""
    assert [retryable_status(s) for s in (500, 503, 408, 429, 400, 404, 410)] == [
        True,
        True,
        True,
        True,
        False,
        False,
        False,
    ]
    backoff = DispatchConfig(dsn="postgresql://x/y").backoff  # base 2 s, cap 600 s
    assert 1.0 <= backoff.delay_s(1) <= 2.0
    assert 16.0 <= backoff.delay_s(5) <= 32.0
    assert backoff.delay_s(40) <= 600.0
    assert backoff.delay_s(1, at_least_s=120.0) == 120.0
    assert retry_after_s("30") == 30.0
    assert retry_after_s("Tue, 24 Nov 2026 19:01:00 GMT", AT) == 60.0
    assert retry_after_s("whenever") is None


def test_signature_verifies_with_standardwebhooks() -> None:
    """Our headers verify with the reference receiver library; a tampered body does not."""
    secret = new_secret()
    body = b'{"type":"alert.raised"}'
    signed = headers(secret, "msg_1_1_1", int(datetime.now(UTC).timestamp()), body)
    assert standardwebhooks.Webhook(secret).verify(body, signed) == {"type": "alert.raised"}
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(secret).verify(body + b" ", signed)


def test_signature_matches_the_spec_example_and_a_utf8_body() -> None:
    """The spec's published vector, and a non-ASCII CAP body signed over its UTF-8 bytes."""
    assert headers(
        "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "msg_p5jXN8AQM9LWM0D4loKWxJek",
        1614265330,
        b'{"test": 2432232314}',
    ) == {
        "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "webhook-timestamp": "1614265330",
        "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    }
    secret = new_secret()
    body = "<alert><headline>Rocinha: área de risco</headline></alert>".encode()
    signed = headers(secret, "msg_2_1_1", int(datetime.now(UTC).timestamp()), body)
    assert standardwebhooks.Webhook(secret).verify(body, signed, json_parse=False) is None


def test_malformed_secret_is_refused() -> None:
    """A secret without the whsec_ prefix or with a short key is a SubscriptionError."""
    for bad in ("secret", "whsec_!!", "whsec_c2hvcnQ="):
        with pytest.raises(SubscriptionError):
            secret_key(bad)


def test_cap_body_is_cap_1_2() -> None:
    """The CAP rendering is well-formed XML in the CAP 1.2 namespace with the level mapped."""
    content_type, body = render(EVENT, "cap")
    assert content_type == "application/cap+xml"
    ns = {"cap": "urn:oasis:names:tc:emergency:cap:1.2"}
    root = ET.fromstring(body)
    assert root.findtext("cap:msgType", namespaces=ns) == "Update"
    assert root.findtext("cap:sent", namespaces=ns) == "2026-11-24T19:00:00-00:00"
    assert root.findtext("cap:info/cap:severity", namespaces=ns) == "Extreme"
    assert root.findtext("cap:info/cap:area/cap:areaDesc", namespaces=ns) == "Rocinha (rocinha)"


def test_json_body_carries_model_version_and_ids() -> None:
    """The JSON rendering names the transition, levels, zone and model version."""
    content_type, body = render(EVENT, "json")
    assert content_type == "application/json"
    assert '"type":"alert.escalated"' in body
    assert '"event_id":"evt_7_2"' in body
    assert '"model_version":"encosta-risk 1.0.0"' in body
