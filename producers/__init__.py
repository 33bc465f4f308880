"""What agency systems run: publishing clients (HTTP and Kafka-direct), adapters from typical
exports, the `hub-send` command, and the synthetic-agency simulator.

    from producers import HubClient, KafkaHubProducer, SendResult
"""

from producers.http_client import HubClient
from producers.kafka_producer import KafkaHubProducer
from producers.results import (
    HubAuthError,
    HubProtocolError,
    HubSendError,
    HubUnavailable,
    SendResult,
)

__all__ = [
    "HubAuthError",
    "HubClient",
    "HubProtocolError",
    "HubSendError",
    "HubUnavailable",
    "KafkaHubProducer",
    "SendResult",
]
