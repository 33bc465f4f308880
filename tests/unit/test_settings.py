"""Settings read from the environment (a plain dict here) with errors that name the variable."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hub.settings import Settings, SettingsError, load_settings

INTEGER_VARIABLES = [
    "HUB_EMBEDDED_BROKER_PORT",
    "HUB_API_PORT",
    "HUB_TOPIC_PARTITIONS",
    "HUB_FUTURE_TOLERANCE_SECONDS",
]


def test_defaults_when_nothing_is_set() -> None:
    s = load_settings({})
    assert s == Settings()
    assert s.data_dir == Path(".hub-data")
    assert s.kafka_bootstrap == ""  # the hub starts its embedded broker
    assert (s.api_host, s.api_port) == ("127.0.0.1", 8000)
    assert s.clock_check_seconds == 30.0
    assert s.topic_partitions == 4
    assert s.future_tolerance_seconds == 300
    assert s.log_level == "INFO"
    assert s.embedded_broker is False


def test_given_mapping_is_used_instead_of_the_process_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HUB_API_PORT", "9999")
    monkeypatch.setenv("HUB_KAFKA_BOOTSTRAP", "env-broker:9092")
    s = load_settings({})
    assert s.api_port == 8000
    assert s.kafka_bootstrap == ""


def test_process_environment_is_read_when_no_mapping_is_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HUB_API_PORT", "8123")
    assert load_settings().api_port == 8123


def test_values_are_read() -> None:
    s = load_settings(
        {
            "HUB_KAFKA_BOOTSTRAP": "broker-a:9092,broker-b:9092",
            "HUB_API_PORT": "8081",
            "HUB_CLOCK_CHECK_SECONDS": "5",
            "HUB_RELAY_POLL_SECONDS": "0.5",
            "HUB_TOPIC_PREFIX": "test.",
            "HUB_LOG_LEVEL": "debug",
            "HUB_EMBEDDED_BROKER": "1",
        }
    )
    assert s.kafka_bootstrap == "broker-a:9092,broker-b:9092"
    assert s.api_port == 8081
    assert s.clock_check_seconds == 5.0
    assert s.relay_poll_seconds == 0.5
    assert s.topic("hub.events.v1") == "test.hub.events.v1"
    assert s.log_level == "DEBUG"
    assert s.embedded_broker is True


@pytest.mark.parametrize("name", INTEGER_VARIABLES)
def test_integer_variable_set_to_empty_takes_the_default(name: str) -> None:
    assert load_settings({name: ""}) == Settings()


@pytest.mark.parametrize("name", INTEGER_VARIABLES)
@pytest.mark.parametrize("raw", ["eight", "1.5", "8O"])
def test_bad_integer_names_the_variable(name: str, raw: str) -> None:
    expected = re.escape(f"{name}='{raw}' is not a whole number")
    with pytest.raises(SettingsError, match=f"^{expected}"):
        load_settings({name: raw})


def test_bad_number_names_the_variable() -> None:
    with pytest.raises(SettingsError, match=r"^HUB_RELAY_POLL_SECONDS='soon' is not a number"):
        load_settings({"HUB_RELAY_POLL_SECONDS": "soon"})


def test_settings_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        load_settings({"HUB_API_PORT": "x"})


@pytest.mark.parametrize("value", ["0", "-3"])
def test_clock_check_interval_must_be_positive(value: str) -> None:
    with pytest.raises(SettingsError, match=r"HUB_CLOCK_CHECK_SECONDS=.* must be more than 0"):
        load_settings({"HUB_CLOCK_CHECK_SECONDS": value})


def test_zero_partitions_is_refused() -> None:
    with pytest.raises(SettingsError, match="HUB_TOPIC_PARTITIONS"):
        load_settings({"HUB_TOPIC_PARTITIONS": "0"})


def test_default_database_is_sqlite_under_the_data_dir(tmp_path: Path) -> None:
    s = load_settings({"HUB_DATA_DIR": str(tmp_path / "data")})
    assert s.data_dir == tmp_path / "data"
    assert s.effective_database_url == f"sqlite:///{(tmp_path / 'data' / 'hub.db').resolve()}"


def test_relative_data_dir_gives_an_absolute_sqlite_path() -> None:
    url = load_settings({}).effective_database_url
    assert url.startswith("sqlite:////")
    assert url.endswith("/.hub-data/hub.db")


def test_database_url_given_is_used() -> None:
    url = "postgresql+psycopg://hub@db.test:5432/hub"
    assert load_settings({"HUB_DATABASE_URL": url}).effective_database_url == url


def test_the_audit_signing_key_can_be_shared_between_processes() -> None:
    from hub.adapters.audit_wiring import signing_key_path

    assert signing_key_path(load_settings({})) == Path(".hub-data/keys/audit-checkpoint.key")
    shared = load_settings({"HUB_AUDIT_SIGNING_KEY_FILE": "/srv/hub/audit-signing.key"})
    assert signing_key_path(shared) == Path("/srv/hub/audit-signing.key")


def _every_field_changed(tmp_path: Path) -> Settings:
    """Settings with no field at its default, so a field a child misses shows."""
    return Settings(
        data_dir=tmp_path / "data",
        database_url=f"sqlite:///{tmp_path / 'elsewhere.db'}",
        kafka_bootstrap="broker-a.test:9092,broker-b.test:9092",
        embedded_broker_port=19092,
        api_host="0.0.0.0",
        api_port=8123,
        topic_partitions=7,
        topic_prefix="test.child.",
        future_tolerance_seconds=60,
        clock_check_seconds=2.5,
        relay_poll_seconds=0.05,
        relay_lease_seconds=12.5,
        key_dir=tmp_path / "key-dir",
        master_key_file=tmp_path / "keys" / "master.key",
        max_batch_events=12,
        max_event_bytes=2048,
        sharing_policy_file=tmp_path / "policy.toml",
        rules_file=tmp_path / "areas.toml",
        audit_checkpoint_every=3,
        audit_signing_key_file=tmp_path / "keys" / "audit.key",
        log_level="DEBUG",
        embedded_broker=True,
        web_assets_dir=tmp_path / "govuk",
        web_session_idle_minutes=5,
        web_session_max_hours=2,
        web_login_max_failures=3,
        web_lockout_minutes=60,
        log_format="json",
        readiness_interval_seconds=1.5,
        ready_relay_lag_seconds=10,
        ready_worker_lag_seconds=20,
        worker_metrics_port=9464,
        kafka_security_protocol="SASL_SSL",
        kafka_ssl_cafile=tmp_path / "ca.pem",
        kafka_ssl_certfile=tmp_path / "client.pem",
        kafka_ssl_keyfile=tmp_path / "client.key",
        kafka_sasl_mechanism="SCRAM-SHA-256",
        kafka_sasl_username="hub-api",
        kafka_sasl_password_file=tmp_path / "kafka-password",
        ig_name_resolvers="IG Example,IG Other",
        egress_agencies="TEST-POLICE-A,TEST-HOUSING-A",
        egress_poll_seconds=0.5,
    )


def test_every_setting_reaches_a_child_process(tmp_path: Path) -> None:
    from hub.entrypoints.stack import child_env

    parent = _every_field_changed(tmp_path)
    defaults = Settings().model_dump()
    assert all(parent.model_dump()[name] != defaults[name] for name in defaults)
    assert load_settings(child_env(parent)) == parent


def test_settings_the_parent_left_unset_read_back_as_defaults_in_a_child(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from hub.entrypoints.stack import child_env

    monkeypatch.setenv("HUB_MASTER_KEY_FILE", "/stale/from/the/shell.key")
    child = load_settings(child_env(Settings()))
    assert child.master_key_file is None
    assert child.data_dir == Path(".hub-data").resolve()


def test_replace_checks_values_like_the_environment_does() -> None:
    assert Settings().replace(api_port=9000).api_port == 9000
    with pytest.raises(SettingsError, match="HUB_TOPIC_PARTITIONS"):
        Settings().replace(topic_partitions=0)


def test_the_readme_lists_every_setting() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    missing = [name for name in Settings.model_fields if f"`HUB_{name.upper()}`" not in readme]
    assert missing == []


def test_every_setting_is_described() -> None:
    assert [n for n, f in Settings.model_fields.items() if not f.description] == []
