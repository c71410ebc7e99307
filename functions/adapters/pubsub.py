"""Publishes typed events to the topic the registry assigns them."""

from google.cloud import pubsub_v1

from schemas.events import Event
from schemas.topics import topic_for


class PubSubPublisher:
    def __init__(self, project: str, client: pubsub_v1.PublisherClient | None = None, timeout_s: float = 10.0):
        self._project = project
        self._client = client or pubsub_v1.PublisherClient()
        self._timeout_s = timeout_s

    def publish(self, event: Event) -> str:
        """Publish and wait for the server's acknowledgement; returns the message id."""
        topic = self._client.topic_path(self._project, topic_for(type(event)).name)
        future = self._client.publish(
            topic,
            event.model_dump_json(by_alias=True, exclude_none=True).encode(),
            eventType=type(event).__name__,
            schemaVersion=str(event.schema_version),
            idempotencyKey=event.idempotency_key,
            traceId=event.trace_id or "",
        )
        return future.result(timeout=self._timeout_s)
