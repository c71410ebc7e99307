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

import base64
import copy
import json
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import hcl2

_OPTIONS = hcl2.SerializationOptions(with_comments=False, preserve_heredocs=False)
_META = {"for_each", "count", "depends_on", "lifecycle", "provider", "provisioner", "connection"}


class Ref(str):
    """A value only known at apply time, spelled as the reference that produces it."""


class EvalError(Exception):
    pass


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
                return _Parser(raw[2:-1], self, scope).parse_all()
            if len(raw) >= 2 and raw.startswith('"') and raw.endswith('"'):
                return _Parser(raw, self, scope).parse_all()
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
            return {k: _RefObject(f"{rtype}.{rname}[{json.dumps(k)}]") for k in keys}
        return _RefObject(f"{rtype}.{rname}")


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


# --- unknown values --------------------------------------------------------------------------
class _RefObject:
    """An unknown object: attribute and index access extend the reference."""

    def __init__(self, path: str) -> None:
        self.path = path

    def attr(self, name: str) -> _RefObject:
        return _RefObject(f"{self.path}.{name}")

    def index(self, key: Any) -> _RefObject:
        return _RefObject(f"{self.path}[{json.dumps(key) if not isinstance(key, Ref) else key}]")

    def ref(self) -> Ref:
        return Ref(self.path)


def _known(value: Any) -> Any:
    return value.ref() if isinstance(value, _RefObject) else value


def _is_unknown(value: Any) -> bool:
    return isinstance(value, (Ref, _RefObject))


# --- expressions -----------------------------------------------------------------------------
_TOKEN = re.compile(
    r"""\s*(?:
      (?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
    | (?P<string>")
    | (?P<op>\.\.\.|=>|==|!=|<=|>=|&&|\|\||[-+*/%<>!?:=.,\[\](){}])
    | (?P<ident>[A-Za-z_][A-Za-z0-9_-]*)
    )""",
    re.X,
)
_FUNCTIONS = {}


def _function(name):
    def register(fn):
        _FUNCTIONS[name] = fn
        return fn

    return register


class _Parser:
    """A recursive-descent evaluator: parses and evaluates in one pass."""

    def __init__(self, text: str, config: Config, scope: dict[str, Any]) -> None:
        self.text, self.pos, self.config, self.scope = text, 0, config, scope

    # --- scanning ------------------------------------------------------------------------------
    def _skip(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in " \t\r\n":
            self.pos += 1

    def peek(self) -> str | None:
        self._skip()
        if self.pos >= len(self.text):
            return None
        match = _TOKEN.match(self.text, self.pos)
        if not match:
            raise EvalError(f"cannot read {self.text[self.pos:self.pos + 20]!r}")
        return match.group(match.lastgroup).strip()

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            raise EvalError(f"expected {expected!r}, found {token!r} in {self.text!r}")
        self.pos = _TOKEN.match(self.text, self.pos).end()
        return token

    def parse_all(self) -> Any:
        value = self.expression()
        if self.peek() is not None:
            raise EvalError(f"unexpected {self.peek()!r} in {self.text!r}")
        return _known(value)

    # --- grammar -------------------------------------------------------------------------------
    def expression(self) -> Any:
        condition = self.binary(0)
        if self.peek() == "?":
            self.take("?")
            yes = self.expression()
            self.take(":")
            no = self.expression()
            if _is_unknown(condition):
                return Ref(f"({condition} ? ... : ...)")
            return yes if condition else no
        return condition

    _LEVELS = [("||",), ("&&",), ("==", "!="), ("<", ">", "<=", ">="), ("+", "-"), ("*", "/", "%")]

    def binary(self, level: int) -> Any:
        if level == len(self._LEVELS):
            return self.unary()
        left = self.binary(level + 1)
        while self.peek() in self._LEVELS[level]:
            op = self.take()
            right = self.binary(level + 1)
            left = _apply(op, _known(left), _known(right))
        return left

    def unary(self) -> Any:
        if self.peek() == "!":
            self.take()
            value = _known(self.unary())
            return Ref(f"!{value}") if _is_unknown(value) else not value
        if self.peek() == "-":
            self.take()
            value = _known(self.unary())
            return Ref(f"-{value}") if _is_unknown(value) else -value
        return self.postfix(self.primary())

    def postfix(self, value: Any) -> Any:
        while True:
            token = self.peek()
            if token == ".":
                self.take(".")
                if self.peek() == "*":
                    self.take("*")
                    name = None
                else:
                    name = self.take()
                value = _attr(value, name)
            elif token == "[":
                self.take("[")
                if self.peek() == "*":
                    self.take("*")
                    self.take("]")
                    value = _Splat(value)
                else:
                    key = _known(self.expression())
                    self.take("]")
                    value = _index(value, key)
            else:
                return value

    def primary(self) -> Any:
        token = self.peek()
        if token is None:
            raise EvalError(f"unexpected end of {self.text!r}")
        match = _TOKEN.match(self.text, self.pos)
        if match.lastgroup == "number":
            self.take()
            return float(token) if any(c in token for c in ".eE") else int(token)
        if match.lastgroup == "string":
            return self.template()
        if token == "(":
            self.take("(")
            value = self.expression()
            self.take(")")
            return value
        if token == "[":
            return self.tuple_or_for()
        if token == "{":
            return self.object_or_for()
        if match.lastgroup == "ident":
            self.take()
            if token in ("true", "false"):
                return token == "true"
            if token == "null":
                return None
            if self.peek() == "(":
                return self.call(token)
            return self.identifier(token)
        raise EvalError(f"unexpected {token!r} in {self.text!r}")

    def identifier(self, name: str) -> Any:
        if name in self.scope:
            return self.scope[name]
        if name == "local":
            self.take(".")
            return self.config.local(self.take())
        if name == "var":
            self.take(".")
            return self.config.var(self.take())
        if name == "path":
            self.take(".")
            return str(self.config.directory) if self.take() in ("module", "root", "cwd") else Ref("path")
        if name == "data":
            self.take(".")
            dtype = self.take()
            self.take(".")
            return _RefObject(f"data.{dtype}.{self.take()}")
        if name in ("terraform", "each", "count", "self"):
            return _RefObject(name)
        self.take(".")
        rname = self.take()
        return self.config.resource_value(name, rname)

    def call(self, name: str) -> Any:
        self.take("(")
        args, expand = [], False
        while self.peek() != ")":
            args.append(_known(self.expression()))
            if self.peek() == "...":
                self.take("...")
                expand = True
            if self.peek() == ",":
                self.take(",")
        self.take(")")
        if expand:
            args = [*args[:-1], *args[-1]]
        if name not in _FUNCTIONS or any(_is_unknown(a) for a in args):
            return Ref(f"{name}(...)")
        return _FUNCTIONS[name](*args)

    def tuple_or_for(self) -> Any:
        self.take("[")
        if self.peek() == "for":
            return self.for_expression("]")
        items = []
        while self.peek() != "]":
            items.append(_known(self.expression()))
            if self.peek() == ",":
                self.take(",")
        self.take("]")
        return items

    def object_or_for(self) -> Any:
        self.take("{")
        if self.peek() == "for":
            return self.for_expression("}")
        result = {}
        while self.peek() != "}":
            match = _TOKEN.match(self.text, self.pos)
            after = _TOKEN.match(self.text, match.end()) if match.lastgroup == "ident" else None
            if after and after.group("op") in ("=", ":"):
                key = self.take()  # a bare name is the key itself, not a reference
            else:
                key = _known(self.expression())
            if self.peek() not in ("=", ":"):
                raise EvalError(f"expected '=' in object {self.text!r}")
            self.take()
            result[key] = _known(self.expression())
            if self.peek() == ",":
                self.take(",")
        self.take("}")
        return result

    def for_expression(self, closing: str) -> Any:
        self.take("for")
        names = [self.take()]
        if self.peek() == ",":
            self.take(",")
            names.append(self.take())
        self.take("in")
        collection = _known(self.expression())
        self.take(":")
        body_start = self.pos
        if _is_unknown(collection):
            self._skip_to(closing)
            return Ref(f"for ... in {collection}")
        pairs = list(collection.items()) if isinstance(collection, dict) else list(enumerate(collection))
        if not pairs:
            self._skip_to(closing)
            return [] if closing == "]" else {}
        results: list[Any] = []
        grouped = False
        for k, v in pairs:
            self.pos = body_start
            scope = dict(self.scope)
            if len(names) == 2:
                scope[names[0]], scope[names[1]] = k, v
            else:
                scope[names[0]] = v
            saved, self.scope = self.scope, scope
            try:
                first = _known(self.expression())
                second = None
                if closing == "}":
                    self.take("=>")
                    second = _known(self.expression())
                    if self.peek() == "...":
                        self.take("...")
                        grouped = True
                keep = True
                if self.peek() == "if":
                    self.take("if")
                    keep = _known(self.expression())
                if keep and not _is_unknown(keep):
                    results.append((first, second) if closing == "}" else first)
            finally:
                self.scope = saved
        self.take(closing)
        if closing == "]":
            return results
        if grouped:
            out: dict[Any, list] = {}
            for k, v in results:
                out.setdefault(k, []).append(v)
            return out
        return dict(results)

    def _skip_to(self, closing: str) -> None:
        depth = 1
        while self.pos < len(self.text) and depth:
            char = self.text[self.pos]
            depth += char in "[{("
            depth -= char in "]})"
            self.pos += 1

    def template(self) -> Any:
        """A quoted string with ``${...}`` interpolations; the cursor is on the opening quote."""
        self._skip()
        self.pos += 1
        parts: list[Any] = []
        buffer = []
        while True:
            if self.pos >= len(self.text):
                raise EvalError(f"unterminated string in {self.text!r}")
            char = self.text[self.pos]
            if char == "\\":
                escape = self.text[self.pos + 1]
                buffer.append({"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}.get(escape, "\\" + escape))
                self.pos += 2
            elif self.text.startswith("$${", self.pos):
                buffer.append("${")
                self.pos += 3
            elif self.text.startswith("${", self.pos):
                parts.append("".join(buffer))
                buffer = []
                self.pos += 2
                parts.append(_known(self.expression()))
                self.take("}")
            elif char == '"':
                self.pos += 1
                parts.append("".join(buffer))
                break
            else:
                buffer.append(char)
                self.pos += 1
        if len(parts) == 1:
            return parts[0]
        if any(_is_unknown(p) for p in parts):
            return Ref("".join(f"${{{p}}}" if _is_unknown(p) else _to_text(p) for p in parts))
        return "".join(_to_text(p) for p in parts)


class _Splat:
    def __init__(self, items: Any) -> None:
        self.items = items


def _attr(value: Any, name: str | None) -> Any:
    if isinstance(value, _Splat):
        items = value.items.values() if isinstance(value.items, dict) else value.items
        return [_attr(item, name) for item in items]
    if isinstance(value, _RefObject):
        return value.attr(name)
    if isinstance(value, Ref):
        return Ref(f"{value}.{name}")
    if isinstance(value, dict):
        if name not in value:
            raise EvalError(f"no attribute {name!r} in {sorted(value)}")
        return value[name]
    raise EvalError(f"cannot read .{name} of {value!r}")


def _index(value: Any, key: Any) -> Any:
    if isinstance(value, _RefObject):
        return value.index(key)
    if isinstance(value, Ref) or _is_unknown(key):
        return Ref(f"{value}[{key}]")
    try:
        return value[key]
    except (KeyError, IndexError, TypeError) as exc:
        raise EvalError(f"no element {key!r} in {value!r}") from exc


def _apply(op: str, left: Any, right: Any) -> Any:
    if op in ("==", "!=") and (left is None or right is None) and (_is_unknown(left) or _is_unknown(right)):
        return op == "!="  # a reference to an attribute or a required variable is never null
    if _is_unknown(left) or _is_unknown(right):
        return Ref(f"({left} {op} {right})")
    return {
        "||": lambda: left or right, "&&": lambda: left and right,
        "==": lambda: left == right, "!=": lambda: left != right,
        "<": lambda: left < right, ">": lambda: left > right, "<=": lambda: left <= right, ">=": lambda: left >= right,
        "+": lambda: left + right, "-": lambda: left - right, "*": lambda: left * right,
        "/": lambda: left / right, "%": lambda: left % right,
    }[op]()


def _to_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


_function("merge")(lambda *maps: {k: v for m in maps for k, v in m.items()})
_function("concat")(lambda *lists: [x for lst in lists for x in lst])
_function("contains")(lambda items, item: item in items)
_function("toset")(lambda items: sorted(set(items), key=str))
_function("tolist")(lambda items: list(items))
_function("tomap")(lambda m: dict(m))
_function("keys")(lambda m: sorted(m))
_function("values")(lambda m: [m[k] for k in sorted(m)])
_function("length")(lambda x: len(x))
_function("lookup")(lambda m, k, *default: m.get(k, *default) if default else m[k])
_function("jsonencode")(lambda v: json.dumps(_jsonable(v), separators=(",", ":")) if not _is_unknown(v) else Ref("jsonencode(...)"))
_function("base64encode")(lambda s: base64.b64encode(s.encode()).decode())
_function("replace")(lambda s, old, new: s.replace(old, new))
_function("lower")(lambda s: s.lower())
_function("upper")(lambda s: s.upper())
_function("join")(lambda sep, items: Ref("join(...)") if any(_is_unknown(i) for i in items) else sep.join(_to_text(i) for i in items))
_function("split")(lambda sep, s: s.split(sep))
_function("format")(lambda fmt, *args: re.sub(r"%[sd]", lambda _m, it=iter(args): _to_text(next(it)), fmt))
_function("coalesce")(lambda *args: next((a for a in args if a not in (None, "")), None))
_function("sort")(lambda items: sorted(items))
_function("distinct")(lambda items: list(dict.fromkeys(items)))
_function("flatten")(lambda items: [y for x in items for y in (x if isinstance(x, list) else [x])])
_function("tostring")(lambda v: _to_text(v))
_function("tonumber")(lambda v: float(v) if "." in str(v) else int(v))
_function("startswith")(lambda s, p: s.startswith(p))
_function("endswith")(lambda s, p: s.endswith(p))
_function("trimsuffix")(lambda s, p: s[: -len(p)] if p and s.endswith(p) else s)
_function("substr")(lambda s, o, n: s[o : o + n] if n >= 0 else s[o:])
_function("min")(lambda *a: min(a))
_function("max")(lambda *a: max(a))
