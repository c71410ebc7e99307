"""Reads a Terraform directory offline and evaluates what can be known without providers.

python-hcl2 parses the files; this module evaluates the expression subset the CineWeave
configuration uses (literals, templates, ``local.*``, ``var.*`` defaults, ``each.*``, for
expressions, conditionals and a handful of functions) and expands ``for_each`` and ``dynamic``
blocks into instances. Whatever only the providers can know (a resource attribute, a data source)
becomes a :class:`Ref`: a string holding the canonical reference, e.g.
``google_service_account.fn["create_job"].email``, so checks can still ask *which* object a value
points at.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import hcl2
from hcl_expr import EvalError, Ref, RefObject, parse_expression

_OPTIONS = hcl2.SerializationOptions(with_comments=False, preserve_heredocs=False)
_META = {"for_each", "count", "depends_on", "lifecycle", "provider", "provisioner", "connection"}

__all__ = ["Config", "EvalError", "Instance", "Ref"]


@dataclass(frozen=True)
class Instance:
    type: str
    name: str
    key: str | int | None
    attrs: dict[str, Any]

    @property
    def address(self) -> str:
        if self.key is None:
            return f"{self.type}.{self.name}"
        return f"{self.type}.{self.name}[{json.dumps(self.key)}]"

    def block(self, *path: str) -> dict[str, Any]:
        """The first nested block along ``path`` (``{}`` when absent)."""
        node: Any = self.attrs
        for part in path:
            node = node.get(part) if isinstance(node, dict) else None
            if isinstance(node, list):
                node = node[0] if node else None
            if node is None:
                return {}
        return node if isinstance(node, dict) else {}


# --- loading ---------------------------------------------------------------------------------
class Config:
    """All ``.tf`` files of one directory, with lazily evaluated locals and expanded resources."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.resources: dict[tuple[str, str], dict[str, Any]] = {}
        self.data: dict[tuple[str, str], dict[str, Any]] = {}
        self.variables: dict[str, dict[str, Any]] = {}
        self.outputs: dict[str, dict[str, Any]] = {}
        self.providers: dict[str, Any] = {}
        self.terraform: list[dict[str, Any]] = []
        self._raw_locals: dict[str, Any] = {}
        self._locals: dict[str, Any] = {}
        self._evaluating: set[str] = set()
        for path in sorted(self.directory.glob("*.tf")):
            parsed = _parse(path.read_text())
            for block in parsed.get("resource", []):
                for rtype, named in block.items():
                    for rname, body in named.items():
                        self.resources[(_unquote(rtype), _unquote(rname))] = _strip_markers(body)
            for block in parsed.get("data", []):
                for rtype, named in block.items():
                    for rname, body in named.items():
                        self.data[(_unquote(rtype), _unquote(rname))] = _strip_markers(body)
            for block in parsed.get("variable", []):
                for vname, body in block.items():
                    self.variables[_unquote(vname)] = _strip_markers(body)
            for block in parsed.get("output", []):
                for oname, body in block.items():
                    self.outputs[_unquote(oname)] = _strip_markers(body)
            for block in parsed.get("locals", []):
                self._raw_locals.update({k: v for k, v in _strip_markers(block).items()})
            for block in parsed.get("provider", []):
                self.providers.update({_unquote(k): _strip_markers(v) for k, v in block.items()})
            self.terraform.extend(_strip_markers(b) for b in parsed.get("terraform", []))

    # --- values ----------------------------------------------------------------------------
    def local(self, name: str) -> Any:
        if name not in self._locals:
            if name not in self._raw_locals:
                raise EvalError(f"no local named {name}")
            if name in self._evaluating:
                raise EvalError(f"local.{name} refers to itself")
            self._evaluating.add(name)
            try:
                self._locals[name] = self.value(self._raw_locals[name], {})
            finally:
                self._evaluating.discard(name)
        return self._locals[name]

    def var(self, name: str) -> Any:
        if name not in self.variables:
            raise EvalError(f"no variable named {name}")
        body = self.variables[name]
        if "default" not in body:
            return Ref(f"var.{name}")
        return self.value(body["default"], {})

    def value(self, raw: Any, scope: dict[str, Any]) -> Any:
        """Evaluates one attribute value as python-hcl2 serialised it."""
        if isinstance(raw, str):
            if raw.startswith("${") and raw.endswith("}") and _single_interpolation(raw):
                return parse_expression(raw[2:-1], self, scope)
            if len(raw) >= 2 and raw.startswith('"') and raw.endswith('"'):
                return parse_expression(raw, self, scope)
            return raw
        if isinstance(raw, dict):
            return {_unquote(k): self.value(v, scope) for k, v in raw.items()}
        if isinstance(raw, list):
            return [self.value(v, scope) for v in raw]
        return raw

    # --- resources ---------------------------------------------------------------------------
    def instances(self, rtype: str, rname: str | None = None) -> list[Instance]:
        return [i for (t, n), expanded in self._expanded.items() if t == rtype and (rname is None or n == rname) for i in expanded]

    def all_instances(self) -> list[Instance]:
        return [i for expanded in self._expanded.values() for i in expanded]

    @cached_property
    def _expanded(self) -> dict[tuple[str, str], list[Instance]]:
        return {(t, n): self._expand(t, n, body) for (t, n), body in self.resources.items()}

    def _expand(self, rtype: str, rname: str, body: dict[str, Any]) -> list[Instance]:
        if "for_each" in body:
            collection = self.value(body["for_each"], {})
            if isinstance(collection, Ref):
                raise EvalError(f"{rtype}.{rname}: for_each is not known offline ({collection})")
            items = collection.items() if isinstance(collection, dict) else ((k, k) for k in collection)
            return [
                Instance(rtype, rname, key, self._body(body, {"each": {"key": key, "value": value}}))
                for key, value in items
            ]
        if "count" in body:
            count = self.value(body["count"], {})
            return [Instance(rtype, rname, i, self._body(body, {"count": {"index": i}})) for i in range(int(count))]
        return [Instance(rtype, rname, None, self._body(body, {}))]

    def _body(self, body: dict[str, Any], scope: dict[str, Any]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key, raw in body.items():
            if key in _META:
                continue
            if key == "dynamic":
                for dynamic in raw:
                    for label, spec in dynamic.items():
                        label = _unquote(label)
                        iterator = _unquote(self.value(spec.get("iterator", label), scope)) if "iterator" in spec else label
                        collection = self.value(spec["for_each"], scope)
                        items = collection.items() if isinstance(collection, dict) else enumerate(collection) if isinstance(collection, list) else ()
                        if isinstance(collection, list):
                            items = ((v, v) for v in collection) if all(not isinstance(v, (dict, list)) for v in collection) else enumerate(collection)
                        blocks = result.setdefault(label, [])
                        for k, v in items:
                            inner = {**scope, iterator: {"key": k, "value": v}}
                            blocks.extend(self._body(content, inner) for content in spec.get("content", []))
                continue
            if isinstance(raw, list) and raw and all(isinstance(b, dict) for b in raw) and _is_block_list(body, key):
                result[key] = [self._body(b, scope) for b in raw]
            else:
                try:
                    result[key] = self.value(raw, scope)
                except EvalError as exc:
                    result[key] = Ref(f"<cannot evaluate {key}: {exc}>")
        return result

    # --- dependencies --------------------------------------------------------------------------
    def dependency_cycles(self) -> list[list[str]]:
        """Cycles among resources, data sources and locals, as Terraform's graph would have them
        (edges by reference, per block: every instance of a for_each block shares its edges)."""
        nodes: dict[str, Any] = {f"{t}.{n}": body for (t, n), body in self.resources.items()}
        nodes.update({f"data.{t}.{n}": body for (t, n), body in self.data.items()})
        nodes.update({f"local.{n}": raw for n, raw in self._raw_locals.items()})
        edges = {node: {ref for ref in _references(body) if ref in nodes and ref != node} for node, body in nodes.items()}
        return [sorted(c) for c in _cycles(edges)]

    def undefined_references(self, providers: tuple[str, ...] = ("google", "cloudflare", "runpod")) -> list[str]:
        """References to locals, variables, resources or data sources that no block defines."""
        defined = {f"{t}.{n}" for t, n in self.resources} | {f"data.{t}.{n}" for t, n in self.data}
        defined |= {f"local.{n}" for n in self._raw_locals}
        bodies = [*self.resources.values(), *self.data.values(), *self._raw_locals.values(), *self.outputs.values()]
        used = set().union(*(_references(b) | {f"var.{v}" for v in _VARIABLE.findall(json.dumps(b))} for b in bodies))
        missing = []
        for ref in sorted(used):
            head = ref.split(".")[0]
            if ref.startswith("var."):
                if ref[4:] not in self.variables:
                    missing.append(ref)
            elif ref not in defined and (head in ("local", "data") or head.split("_")[0] in providers):
                missing.append(ref)
        return missing

    def resource_value(self, rtype: str, rname: str) -> Any:
        """``google_x.y`` as an expression: a map of instance refs for ``for_each`` resources."""
        body = self.resources.get((rtype, rname))
        if body is None:
            raise EvalError(f"no resource {rtype}.{rname}")
        if "for_each" in body:
            collection = self.value(body["for_each"], {})
            keys = collection.keys() if isinstance(collection, dict) else collection
            return {k: RefObject(f"{rtype}.{rname}[{json.dumps(k)}]") for k in keys}
        return RefObject(f"{rtype}.{rname}")


_VARIABLE = re.compile(r"\bvar\.([A-Za-z0-9_]+)")
_REFERENCE = re.compile(r"\b(local\.[A-Za-z0-9_]+|data\.[a-z0-9_]+\.[A-Za-z0-9_-]+|[a-z][a-z0-9]*_[a-z0-9_]+\.[A-Za-z_][A-Za-z0-9_-]*)")


def _references(raw: Any) -> set[str]:
    if isinstance(raw, str):
        return set(_REFERENCE.findall(raw))
    if isinstance(raw, dict):
        return set().union(*(_references(v) for v in raw.values())) if raw else set()
    if isinstance(raw, list):
        return set().union(*(_references(v) for v in raw)) if raw else set()
    return set()


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in edges[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(component)

    for node in edges:
        if node not in index:
            visit(node)
    return found


_PARSED: dict[str, dict] = {}


def _parse(text: str) -> dict:
    """python-hcl2's reading of one file; copies of a tree share the unchanged files' parse."""
    if text not in _PARSED:
        _PARSED[text] = hcl2.loads(text, serialization_options=_OPTIONS)
    return copy.deepcopy(_PARSED[text])


def _is_block_list(body: dict[str, Any], key: str) -> bool:
    return key not in {"members", "depends_on"}


def _strip_markers(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_markers(v) for k, v in value.items() if k != "__is_block__"}
    if isinstance(value, list):
        return [_strip_markers(v) for v in value]
    return value


def _unquote(text: Any) -> Any:
    if isinstance(text, str) and len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1]
    return text


def _single_interpolation(raw: str) -> bool:
    depth = 0
    for i, char in enumerate(raw):
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0 and i != len(raw) - 1:
                return False
    return True
