"""The operator's view of messages that were not processed: list them, say why, replay them.

Two places hold such messages:
- **dead letters**: a message whose consumer kept failing is moved, after the subscription's
  delivery attempts (``schemas.topics.DELIVERY``), to ``{topic}-dead-letter`` and kept by the pull
  subscription ``{topic}-dead-letter-hold``;
- **poison records**: a message that can never be parsed is acknowledged, and its exact bytes are
  kept in Firestore ``event_failures`` (kind ``poison``), which also holds the last error of every
  message whose consumer raised (kind ``error``): that is the *why* of a dead letter.

    python -m devstack.deadletters list [--json]
    python -m devstack.deadletters replay (--all | --id MESSAGE_ID ... | --topic TOPIC) [--poison]

``replay`` publishes each selected message again to its original topic (attributes kept, plus
``replayOf``), then acknowledges the dead letter / marks the poison record replayed. It is
idempotent: a replayed message is not replayed again, and if the command dies between publish and
acknowledge, the second copy changes nothing because every consumer deduplicates on the event's
business key. Replay once the cause is fixed (a document repaired, a consumer deployed that reads
the new schema): a message that still fails comes back as a dead letter.

Against the local stack (default: ``make up``'s ports; ``--base-port`` for another) it uses the
emulators; with ``--project`` and no emulator it talks to the real project with the caller's
Google credentials.
"""

import argparse
import base64
import hashlib
import json
import os
import sys
import warnings
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from schemas.topics import DEAD_LETTER_SUFFIX, TOPICS, topic_named

HOLD_SUFFIX = f"{DEAD_LETTER_SUFFIX}-hold"
_DEAD_LETTER_ATTRIBUTE = "CloudPubSubDeadLetter"


@dataclass
class Unprocessed:
    """One message an operator may replay."""

    source: str  # "dead-letter" or "poison"
    topic: str
    message_id: str
    data: str  # base64
    attributes: dict[str, str]
    attempts: int | None
    why: str
    ack_id: str | None = field(default=None, repr=False)
    record_path: str | None = field(default=None, repr=False)

    def summary(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("ack_id"), out.pop("record_path")
        out["data"] = _preview(self.data)
        out["why"] = " ".join(self.why.split())[:500]
        return out


class DeadLetters:
    """Lists and replays; built on the Pub/Sub clients and our store port."""

    def __init__(self, project: str, publisher=None, subscriber=None, store=None) -> None:
        from google.cloud import pubsub_v1

        self.project = project
        self.publisher = publisher or pubsub_v1.PublisherClient()
        self.subscriber = subscriber or pubsub_v1.SubscriberClient()
        if store is None:
            from google.cloud import firestore

            from functions.store.firestore import FirestoreStore

            store = FirestoreStore(firestore.Client(project=project))
        self.store = store

    # --- reading ---------------------------------------------------------------------------------
    def unprocessed(self) -> list[Unprocessed]:
        """Every dead letter (left in place) and every poison record not yet replayed."""
        found = self._pull_dead_letters()
        self._release([m for m in found if m.ack_id])
        return found + self._poison_records()

    def _pull_dead_letters(self) -> list[Unprocessed]:
        found: list[Unprocessed] = []
        for topic in TOPICS:
            hold = self.subscriber.subscription_path(self.project, topic.name + HOLD_SUFFIX)
            seen: set[str] = set()
            while True:
                with warnings.catch_warnings():  # deprecated, yet the only way not to wait on an empty hold
                    warnings.simplefilter("ignore", DeprecationWarning)
                    response = self.subscriber.pull(request={"subscription": hold, "max_messages": 100,
                                                             "return_immediately": True}, timeout=10)
                fresh = [r for r in response.received_messages if r.message.message_id not in seen]
                if not fresh:
                    break
                for received in fresh:
                    seen.add(received.message.message_id)
                    found.append(self._dead_letter(topic.name, received))
        return found

    def _dead_letter(self, topic: str, received) -> Unprocessed:
        message = received.message
        data = base64.b64encode(message.data).decode()
        attributes = dict(message.attributes)
        attempts = attributes.get("CloudPubSubDeadLetterSourceDeliveryCount")
        return Unprocessed(
            source="dead-letter", topic=topic, message_id=message.message_id, data=data,
            attributes={k: v for k, v in attributes.items() if not k.startswith(_DEAD_LETTER_ATTRIBUTE)},
            attempts=int(attempts) if attempts and attempts.isdigit() else None,
            why=self._why(topic, data), ack_id=received.ack_id,
        )

    def _why(self, topic: str, data: str) -> str:
        """The consumer's last recorded error for this message, else what parsing it says."""
        from functions.core.paths import event_failure_path

        consumer = topic_named(topic).consumer
        record = self.store.get(event_failure_path(consumer, hashlib.sha256(data.encode()).hexdigest()[:32]))
        if record:
            return f"{consumer} failed {record.get('attempts')} times; last: {record.get('reason')}"
        try:
            event = topic_named(topic).event.model_validate_json(base64.b64decode(data))
        except ValueError as exc:
            return f"not a valid {topic_named(topic).event.__name__}: {str(exc)[:300]}"
        return f"a valid {type(event).__name__} ({event.idempotency_key}) that {consumer} kept failing; no error recorded"

    def _poison_records(self) -> list[Unprocessed]:
        from functions.core.paths import EVENT_FAILURES
        from functions.store import Query

        by_consumer = {topic.consumer: topic.name for topic in TOPICS}
        found = []
        for path, record in self.store.query(Query(EVENT_FAILURES, where=[("kind", "==", "poison")])):
            if record.get("replayedAt") or record.get("consumer") not in by_consumer:
                continue
            found.append(Unprocessed(
                source="poison", topic=by_consumer[record["consumer"]], message_id=record.get("messageId") or "",
                data=record.get("data", ""), attributes=record.get("attributes") or {}, attempts=record.get("attempts"),
                why=record.get("reason", "") + (" (too large to keep: not replayable)" if record.get("truncated") else ""),
                record_path=path,
            ))
        return found

    # --- replaying -------------------------------------------------------------------------------
    def replay(self, ids: set[str] | None = None, topic: str | None = None, poison: bool = False) -> list[Unprocessed]:
        """Publish the selected messages again; returns those replayed. ``ids``/``topic`` select;
        poison records are replayed only with ``poison`` (they failed to parse once already)."""
        dead = self._pull_dead_letters()
        chosen = [m for m in dead if _selected(m, ids, topic)]
        self._release([m for m in dead if m not in chosen])
        if poison:
            chosen += [m for m in self._poison_records() if _selected(m, ids, topic) and m.data]
        for message in chosen:
            self._publish(message)
            if message.ack_id:
                self.subscriber.acknowledge(request={"subscription": self._hold(message.topic), "ack_ids": [message.ack_id]})
            if message.record_path:
                self._mark_replayed(message.record_path)
        return chosen

    def _publish(self, message: Unprocessed) -> str:
        path = self.publisher.topic_path(self.project, message.topic)
        attributes = {**message.attributes, "replayOf": message.message_id}
        return self.publisher.publish(path, base64.b64decode(message.data), **attributes).result(timeout=30)

    def _mark_replayed(self, path: str) -> None:
        from functions.store.port import Decision, Put

        now = datetime.now(UTC)
        self.store.decide([path], lambda docs: Decision([Put(path, {**docs[path], "replayedAt": now})] if docs[path] else []))

    def _release(self, messages: list[Unprocessed]) -> None:
        """Give pulled dead letters back at once (they stay in the hold subscription)."""
        for message in messages:
            self.subscriber.modify_ack_deadline(request={"subscription": self._hold(message.topic), "ack_ids": [message.ack_id],
                                                         "ack_deadline_seconds": 0})

    def _hold(self, topic: str) -> str:
        return self.subscriber.subscription_path(self.project, topic + HOLD_SUFFIX)


def _selected(message: Unprocessed, ids: set[str] | None, topic: str | None) -> bool:
    return (ids is None or message.message_id in ids) and (topic is None or message.topic == topic)


def _preview(data: str, limit: int = 160) -> str:
    raw = base64.b64decode(data) if data else b""
    text = raw[:limit].decode("utf-8", errors="replace")
    return text + ("…" if len(raw) > limit else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.deadletters", description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["list", "replay"])
    parser.add_argument("--project", default=os.environ.get("GOOGLE_CLOUD_PROJECT"))
    parser.add_argument("--base-port", type=int, default=None, help="a local stack's base port (default: make up's)")
    parser.add_argument("--json", action="store_true", help="list: one JSON object per line")
    parser.add_argument("--all", action="store_true", help="replay: every dead letter")
    parser.add_argument("--id", action="append", dest="ids", help="replay: this message id (repeatable)")
    parser.add_argument("--topic", help="replay: the dead letters of this topic")
    parser.add_argument("--poison", action="store_true", help="replay: poison records too")
    args = parser.parse_args(argv)
    if args.command == "replay" and not (args.all or args.ids or args.topic):
        parser.error("replay needs --all, --id or --topic")

    from devstack.config import StackConfig, environment

    local = StackConfig(base_port=args.base_port) if args.base_port else StackConfig()
    use_emulators = args.base_port is not None or not (args.project and "PUBSUB_EMULATOR_HOST" not in os.environ)
    env = local.emulator_env() if use_emulators and "PUBSUB_EMULATOR_HOST" not in os.environ else {}
    with environment(env):
        tool = DeadLetters(args.project or local.project)
        if args.command == "list":
            messages = tool.unprocessed()
            for message in messages:
                summary = message.summary()
                print(json.dumps(summary) if args.json else
                      f"{summary['source']:11} {summary['topic']:22} {summary['message_id']:>10}  attempts={summary['attempts']}  "
                      f"why: {summary['why']}\n{'':35}data: {summary['data']}")
            print(f"{len(messages)} message(s) not processed", file=sys.stderr)
        else:
            replayed = tool.replay(set(args.ids) if args.ids else None, args.topic, args.poison)
            for message in replayed:
                print(f"replayed {message.source} {message.message_id} to {message.topic}")
            print(f"{len(replayed)} message(s) replayed", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
