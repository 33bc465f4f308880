"""How the hub's Kafka clients authenticate and encrypt: TLS to the brokers, SASL/SCRAM or
mutual TLS per component (docs/operations.md, "Kafka security").

One ``KafkaSecurity`` is built from the settings (HUB_KAFKA_SECURITY_PROTOCOL and the
HUB_KAFKA_SSL_* and HUB_KAFKA_SASL_* files) and turned into each client's arguments:
kafka-python (topic admin, audit checkpoint publisher), aiokafka (the outbox relay) and faust
(the worker). PLAINTEXT, the default and the embedded broker's, adds nothing. The password is
read from a file (a mounted secret), never from the environment, and never logged.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hub.settings import Settings, SettingsError

__all__ = ["KafkaSecurity"]


@dataclass(frozen=True)
class KafkaSecurity:
    protocol: str = "PLAINTEXT"  # PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL
    cafile: Path | None = None  # the brokers' CA (None: the system's CAs)
    certfile: Path | None = None  # this component's client certificate (mutual TLS)
    keyfile: Path | None = None
    mechanism: str = "SCRAM-SHA-512"
    username: str = ""
    password: str = field(default="", repr=False)

    @classmethod
    def from_settings(cls, s: Settings) -> KafkaSecurity:
        """The settings' security, checked: a missing file or credential names its variable."""
        protocol = s.kafka_security_protocol
        if (s.kafka_ssl_certfile is None) != (s.kafka_ssl_keyfile is None):
            raise SettingsError(
                "HUB_KAFKA_SSL_CERTFILE and HUB_KAFKA_SSL_KEYFILE go together (mutual TLS): "
                "set both or neither"
            )
        password = ""
        if protocol.startswith("SASL"):
            if not s.kafka_sasl_username or s.kafka_sasl_password_file is None:
                raise SettingsError(
                    f"HUB_KAFKA_SECURITY_PROTOCOL={protocol} needs HUB_KAFKA_SASL_USERNAME and "
                    "HUB_KAFKA_SASL_PASSWORD_FILE (a file holding the password)"
                )
            password = s.kafka_sasl_password_file.read_text("utf-8").strip()
        return cls(
            protocol, s.kafka_ssl_cafile, s.kafka_ssl_certfile, s.kafka_ssl_keyfile,
            s.kafka_sasl_mechanism, s.kafka_sasl_username, password,
        )  # fmt: skip

    @property
    def uses_tls(self) -> bool:
        return self.protocol in ("SSL", "SASL_SSL")

    @property
    def uses_sasl(self) -> bool:
        return self.protocol.startswith("SASL")

    def ssl_context(self) -> ssl.SSLContext | None:
        """A client TLS context that checks the brokers' certificates and host names."""
        if not self.uses_tls:
            return None
        context = ssl.create_default_context(
            cafile=str(self.cafile) if self.cafile is not None else None
        )
        if self.certfile is not None and self.keyfile is not None:
            context.load_cert_chain(str(self.certfile), str(self.keyfile))
        return context

    def _sasl(self) -> dict[str, Any]:
        if not self.uses_sasl:
            return {}
        return {
            "sasl_mechanism": self.mechanism,
            "sasl_plain_username": self.username,
            "sasl_plain_password": self.password,
        }

    def kafka_python(self) -> dict[str, Any]:
        """Arguments for kafka-python's KafkaProducer, KafkaConsumer and KafkaAdminClient."""
        if self.protocol == "PLAINTEXT":
            return {}
        return {"security_protocol": self.protocol, "ssl_context": self.ssl_context(),
                **self._sasl()}  # fmt: skip

    def aiokafka(self) -> dict[str, Any]:
        """Arguments for aiokafka's producers and consumers (the same names)."""
        return self.kafka_python()

    def faust(self) -> dict[str, Any]:
        """faust.App arguments: broker_credentials, when there are any."""
        if self.protocol == "PLAINTEXT":
            return {}
        from faust.auth import SASLCredentials, SSLCredentials

        context = self.ssl_context()
        if self.uses_sasl:
            credentials: Any = SASLCredentials(
                username=self.username,
                password=self.password,
                ssl_context=context,
                mechanism=self.mechanism,
            )
        else:
            credentials = SSLCredentials(context)
        return {"broker_credentials": credentials}
