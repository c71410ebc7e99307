"""A webhook receiver on loopback for the end-to-end and fault tests: it records every request and
answers each one as the test scripts (a status, or a hang until released)."""

import threading
from dataclasses import dataclass, field

from tests.loopback_http import LoopbackServer, Request, answer


@dataclass
class Receiver:
    """``script`` maps a delivery's ``webhook-id`` (or ``"*"``) to the answers of its attempts, in order."""

    script: dict[str, list] = field(default_factory=dict)
    hang: threading.Event = field(default_factory=threading.Event)  # set: hanging requests give up

    def __post_init__(self) -> None:
        self.lock = threading.Lock()
        self.server = LoopbackServer(self._respond)

    @property
    def requests(self) -> list[Request]:
        return self.server.requests

    def url(self, path: str = "/hooks") -> str:
        return self.server.url(path)

    def close(self) -> None:
        self.hang.set()
        self.server.close()

    def _respond(self, conn, request: Request, stop: threading.Event) -> None:
        with self.lock:
            answers = self.script.get(request.header("webhook-id") or "") or self.script.get("*") or [200]
            status = answers.pop(0) if len(answers) > 1 else answers[0]
        if status == "hang":
            self.hang.wait(60)
            return
        answer(status, b"ok")(conn, request, stop)


def headers_of(request: Request) -> dict[str, str]:
    return {line.partition(":")[0].strip(): line.partition(":")[2].strip() for line in request.head.split("\r\n")[1:] if line}
