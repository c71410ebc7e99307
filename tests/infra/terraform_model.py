"""The Terraform of infra_terraform/ as the checks ask about it: instances, IAM grants, identities."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from hcl_eval import Config, Instance


@dataclass(frozen=True)
class Finding:
    check: str
    subject: str
    message: str

    def __str__(self) -> str:
        return f"[{self.check}] {self.subject}: {self.message}"


@dataclass(frozen=True)
class Grant:
    resource: str  # address of the IAM resource
    target: str  # what it grants on (text holding the target's reference)
    role: str
    member: str


class Infra:
    """The Terraform directory, indexed the way the checks ask about it."""

    def __init__(self, directory: Path) -> None:
        self.config = Config(directory)

    def instances(self, rtype: str) -> list[Instance]:
        return self.config.instances(rtype)

    def local(self, name: str, default=None):
        try:
            return self.config.local(name)
        except Exception:  # noqa: BLE001 - a missing or broken local is reported by the check using it
            return default

    @cached_property
    def functions(self) -> dict[str, Instance]:
        """Entry point -> its google_cloudfunctions2_function instance."""
        found = {}
        for fn in self.instances("google_cloudfunctions2_function"):
            entry = fn.block("build_config").get("entry_point")
            if isinstance(entry, str):
                found[entry] = fn
        return found

    @cached_property
    def topics(self) -> dict[str, Instance]:
        """Topic name -> google_pubsub_topic instance."""
        return {t.attrs["name"]: t for t in self.instances("google_pubsub_topic") if isinstance(t.attrs.get("name"), str)}

    @cached_property
    def subscriptions(self) -> list[Instance]:
        return self.instances("google_pubsub_subscription")

    @cached_property
    def grants(self) -> list[Grant]:
        found = []
        for inst in self.config.all_instances():
            if not (inst.type.endswith("_iam_member") or inst.type.endswith("_iam_binding")):
                continue
            members = inst.attrs.get("members") if inst.type.endswith("_binding") else [inst.attrs.get("member")]
            target = " ".join(str(v) for k, v in inst.attrs.items() if k not in {"role", "member", "members", "condition"})
            for member in members or []:
                found.append(Grant(inst.address, target, str(inst.attrs.get("role")), str(member)))
        return found

    def grants_on(self, target_address: str, role: str) -> list[Grant]:
        return [g for g in self.grants if g.role == role and refers(g.target, target_address)]

    @cached_property
    def function_identities(self) -> dict[str, str]:
        """Service account address -> entry point whose runtime identity it is."""
        result = {}
        for entry, fn in self.functions.items():
            sa = service_account_address(fn.block("service_config").get("service_account_email", ""))
            if sa:
                result[sa] = entry
        return result


def refers(text: object, address: str) -> bool:
    """Whether a value (a Ref or a string with references) points at the resource ``address``."""
    return isinstance(text, str) and re.search(re.escape(address) + r"(?=[.\[\]$}\s]|$)", text) is not None


_SA = re.compile(r'google_service_account\.[A-Za-z0-9_-]+(?:\["[^"]+"\])?')


def service_account_address(text: object) -> str | None:
    match = _SA.search(text) if isinstance(text, str) else None
    return match.group(0) if match else None
