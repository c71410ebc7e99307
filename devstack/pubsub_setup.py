"""Creates the topics and push subscriptions of the registry on the emulator, as Terraform does in the cloud."""

from google.api_core import exceptions as gexc
from google.cloud import pubsub_v1
from google.protobuf import duration_pb2

from schemas.topics import DEAD_LETTER_SUFFIX, DELIVERY, TOPICS


def subscription_name(topic: str) -> str:
    return f"{topic}-push"


def dead_letter_subscription_name(topic: str) -> str:
    return f"{topic}{DEAD_LETTER_SUFFIX}-hold"


def create_topology(project: str, events_url: str) -> None:
    publisher = pubsub_v1.PublisherClient()
    subscriber = pubsub_v1.SubscriberClient()
    for topic in TOPICS:
        topic_path = publisher.topic_path(project, topic.name)
        dead_letter_path = publisher.topic_path(project, topic.name + DEAD_LETTER_SUFFIX)
        for path in (topic_path, dead_letter_path):
            _ignore_exists(publisher.create_topic, request={"name": path})
        _ignore_exists(
            subscriber.create_subscription,
            request={
                "name": subscriber.subscription_path(project, subscription_name(topic.name)),
                "topic": topic_path,
                "push_config": {"push_endpoint": f"{events_url}/{topic.consumer}"},
                "ack_deadline_seconds": DELIVERY.ack_deadline_s,
                "retry_policy": {
                    "minimum_backoff": duration_pb2.Duration(seconds=DELIVERY.min_backoff_s),
                    "maximum_backoff": duration_pb2.Duration(seconds=DELIVERY.max_backoff_s),
                },
                "dead_letter_policy": {
                    "dead_letter_topic": dead_letter_path,
                    "max_delivery_attempts": DELIVERY.max_delivery_attempts,
                },
            },
        )
        # Dead letters are kept on a pull subscription so an operator can list and replay them.
        _ignore_exists(
            subscriber.create_subscription,
            request={
                "name": subscriber.subscription_path(project, dead_letter_subscription_name(topic.name)),
                "topic": dead_letter_path,
            },
        )


def _ignore_exists(call, **kwargs) -> None:
    try:
        call(**kwargs)
    except gexc.AlreadyExists:
        pass
