"""Evaluates the HCL expressions python-hcl2 leaves as text (``${...}`` and templates).

A recursive-descent evaluator for the subset CineWeave's Terraform uses: literals, templates,
``local.*`` / ``var.*`` / ``each.*`` through the configuration it is given, for expressions,
conditionals, operators and a handful of functions. What only the providers know becomes a
:class:`Ref`, a string spelling the reference (``google_service_account.fn["x"].email``).
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any


class Ref(str):
    """A value only known at apply time, spelled as the reference that produces it."""


class EvalError(Exception):
    pass


# --- unknown values --------------------------------------------------------------------------
class RefObject:
    """An unknown object (a resource): attribute and index access extend the reference."""

    def __init__(self, path: str) -> None:
        self.path = path

    def attr(self, name: str) -> RefObject:
        return RefObject(f"{self.path}.{name}")

    def index(self, key: Any) -> RefObject:
        return RefObject(f"{self.path}[{json.dumps(key) if not isinstance(key, Ref) else key}]")

    def ref(self) -> Ref:
        return Ref(self.path)


def parse_expression(text: str, config, scope: dict[str, Any]) -> Any:
    """The value of ``text`` (an expression, or a quoted template); ``config`` resolves
    ``local.*``, ``var.*`` and resource references, ``scope`` the names in view (``each``)."""
    return _Parser(text, config, scope).parse_all()


def _known(value: Any) -> Any:
    return value.ref() if isinstance(value, RefObject) else value


def _is_unknown(value: Any) -> bool:
    return isinstance(value, (Ref, RefObject))


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

    def __init__(self, text: str, config: Any, scope: dict[str, Any]) -> None:
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
            return RefObject(f"data.{dtype}.{self.take()}")
        if name in ("terraform", "each", "count", "self"):
            return RefObject(name)
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
    if isinstance(value, RefObject):
        return value.attr(name)
    if isinstance(value, Ref):
        return Ref(f"{value}.{name}")
    if isinstance(value, dict):
        if name not in value:
            raise EvalError(f"no attribute {name!r} in {sorted(value)}")
        return value[name]
    raise EvalError(f"cannot read .{name} of {value!r}")


def _index(value: Any, key: Any) -> Any:
    if isinstance(value, RefObject):
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
