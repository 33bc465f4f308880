"""The Kafka security settings become each client's arguments: nothing for PLAINTEXT (the
embedded broker), a verifying TLS context for SSL, the client certificate for mutual TLS,
SASL/SCRAM credentials read from a file; a half-configured setting stops the hub naming it."""

from __future__ import annotations

import asyncio
import ssl
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from hub.adapters.kafka.security import KafkaSecurity
from hub.settings import Settings, SettingsError


def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    """A throwaway certificate and key (PEM), for a CA file and a client certificate."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test-kafka-ca.example.test")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(1)
        .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_plaintext_adds_nothing_to_any_client() -> None:
    security = KafkaSecurity.from_settings(Settings())
    assert security.kafka_python() == security.aiokafka() == security.faust() == {}


def test_sasl_ssl_gives_a_verifying_context_and_scram_credentials(tmp_path: Path) -> None:
    ca, _key = self_signed(tmp_path)
    password = tmp_path / "password"
    password.write_text("test-password-not-real\n")
    settings = Settings(
        kafka_security_protocol="SASL_SSL",
        kafka_ssl_cafile=ca,
        kafka_sasl_username="hub-api",
        kafka_sasl_password_file=password,
    )
    security = KafkaSecurity.from_settings(settings)
    options = security.kafka_python()
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert (options["sasl_plain_username"], options["sasl_plain_password"]) == (
        "hub-api", "test-password-not-real",
    )  # fmt: skip
    context = options["ssl_context"]
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert "test-password-not-real" not in repr(security)

    credentials = security.faust()["broker_credentials"]
    assert credentials.protocol.value == "SASL_SSL"
    assert credentials.mechanism.value == "SCRAM-SHA-512"

    async def relay_producer_accepts_them() -> None:
        from aiokafka import AIOKafkaProducer

        producer = AIOKafkaProducer(bootstrap_servers="127.0.0.1:9", **security.aiokafka())
        assert producer.client._security_protocol == "SASL_SSL"
        await producer.stop()  # never started: nothing to connect

    asyncio.run(relay_producer_accepts_them())


def test_mutual_tls_loads_the_client_certificate(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    settings = Settings(
        kafka_security_protocol="SSL",
        kafka_ssl_cafile=cert,
        kafka_ssl_certfile=cert,
        kafka_ssl_keyfile=key,
    )
    security = KafkaSecurity.from_settings(settings)
    assert security.kafka_python()["security_protocol"] == "SSL"
    assert "sasl_mechanism" not in security.kafka_python()
    assert type(security.faust()["broker_credentials"]).__name__ == "SSLCredentials"


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"kafka_security_protocol": "SASL_SSL"}, "HUB_KAFKA_SASL_USERNAME"),
        ({"kafka_ssl_certfile": Path("/x/client.pem")}, "HUB_KAFKA_SSL_KEYFILE"),
    ],
)
def test_a_half_configured_security_stops_the_hub_naming_what_is_missing(
    changes: dict[str, object], named: str
) -> None:
    with pytest.raises(SettingsError, match=named):
        KafkaSecurity.from_settings(Settings().replace(**changes))
