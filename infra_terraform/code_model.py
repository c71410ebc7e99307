"""What the Cloud Functions' code asks of the infrastructure, read from the code itself.

The packaging script and the offline infrastructure checks both start here, so neither keeps its
own list of functions, topics or secrets. From ``functions/main.py`` it takes the entry points
(``@functions_framework.http`` or ``.cloud_event``); from each entry point it follows, function by
function, every reference into the ``functions`` package and records what the reached code touches:

- ``<deps>.settings.<field>`` (also through a local alias such as ``settings = deps.settings``),
- ``<deps>.<adapter>`` for the lazily built adapters of ``functions.bootstrap.Deps``, whose own
  settings (``store`` reads ``gcp_project`` ...) are added by reading ``Deps`` the same way,
- event classes of ``schemas.events`` that it constructs (published when it reaches ``publisher``),
- literal ``os.environ`` / ``os.getenv`` reads.

It follows references, not only calls, so callbacks (``for step in (a, b)``) count. It is an
over-approximation at function granularity: a function that *may* publish an event is allowed to.
``functions.bootstrap`` is not walked (its ``deps()`` builds every adapter); adapters count only
where handler code names them.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import re
import sys
import typing
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

PACKAGE = "functions"
BOOTSTRAP = "functions.bootstrap"
ENTRY_MODULE = "functions.main"
_TRIGGERS = {"http": "http", "cloud_event": "event"}
_KEY_FOLDER = re.compile(r"[a-z][a-z0-9_-]*/")  # f"inputs/{job_id}.png": a key in a bucket folder


@dataclass(frozen=True)
class Setting:
    field: str
    env: str
    secret: bool


@dataclass(frozen=True)
class Needs:
    """What one deployed function needs: plain env vars, secret env vars, topics it publishes to."""

    name: str
    trigger: str  # "http" or "event"
    env: frozenset[str]
    secrets: frozenset[str]
    publishes: frozenset[str]
    uses_store: bool
    unknown_events: frozenset[str] = frozenset()  # constructed events that no topic carries


@dataclass
class _Module:
    name: str
    tree: ast.Module
    defs: dict[str, ast.AST] = field(default_factory=dict)
    modules: dict[str, str] = field(default_factory=dict)  # alias -> module name
    names: dict[str, tuple[str, str]] = field(default_factory=dict)  # alias -> (module, name)


@dataclass
class _Reach:
    settings: set[str] = field(default_factory=set)
    adapters: set[str] = field(default_factory=set)
    events: set[str] = field(default_factory=set)
    environ: set[str] = field(default_factory=set)
    whole_settings: bool = False


class CodeModel:
    """The code under ``root`` as the infrastructure sees it. Imports ``schemas`` and ``functions.settings``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        if importlib.util.find_spec("schemas") is None:  # run as a script from anywhere
            sys.path.insert(0, str(self.root))
        paths = {}
        for path in sorted((self.root / PACKAGE).rglob("*.py")):
            parts = path.relative_to(self.root).with_suffix("").parts
            paths[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
        self._module_names = frozenset(paths)
        self._needs: dict[str, Needs] = {}
        self._modules: dict[str, _Module] = {name: self._index(name, path) for name, path in paths.items()}

    # --- the code's registries ---------------------------------------------------------------
    @cached_property
    def entry_points(self) -> dict[str, str]:
        """Entry point name -> "http" or "event", in source order."""
        found: dict[str, str] = {}
        for node in self._modules[ENTRY_MODULE].tree.body:
            if isinstance(node, ast.FunctionDef):
                for decorator in node.decorator_list:
                    target = decorator.func if isinstance(decorator, ast.Call) else decorator
                    if isinstance(target, ast.Attribute) and target.attr in _TRIGGERS:
                        found[node.name] = _TRIGGERS[target.attr]
        return found

    def _load(self, relative: str):
        """A module of this tree, loaded from its file (so a changed copy of the tree is read as is)."""
        path = self.root / relative
        name = f"_infra_code_{hashlib.sha1(str(path).encode()).hexdigest()[:12]}"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    @cached_property
    def settings(self) -> dict[str, Setting]:
        """Settings field -> its env var and whether it is a secret (``SecretStr``)."""
        from pydantic import SecretStr

        Settings = self._load("functions/settings.py").Settings
        result = {}
        for name, info in Settings.model_fields.items():
            annotation = info.annotation
            secret = annotation is SecretStr or SecretStr in typing.get_args(annotation)
            result[name] = Setting(name, (info.alias or name).upper(), secret)
        return result

    @cached_property
    def topics(self) -> dict[str, tuple[str, str]]:
        """Topic name -> (event class name, consumer entry point)."""
        return {t.name: (t.event.__name__, t.consumer) for t in self._topics_module.TOPICS}

    @cached_property
    def topic_events(self) -> dict[str, type]:
        """Topic name -> its event model (to validate bodies the infrastructure sends)."""
        return {t.name: t.event for t in self._topics_module.TOPICS}

    @cached_property
    def delivery(self):
        """``(DELIVERY, DEAD_LETTER_SUFFIX)`` of schemas/topics.py."""
        return self._topics_module.DELIVERY, self._topics_module.DEAD_LETTER_SUFFIX

    @cached_property
    def _topics_module(self):
        return self._load("schemas/topics.py")

    @cached_property
    def event_classes(self) -> frozenset[str]:
        """Names of every ``schemas.events.Event`` subclass in the ``schemas`` package."""
        import importlib
        import pkgutil

        import schemas
        from schemas.events import Event

        for info in pkgutil.iter_modules(schemas.__path__):
            importlib.import_module(f"schemas.{info.name}")
        found, pending = set(), [Event]
        while pending:
            for sub in pending.pop().__subclasses__():
                if sub.__name__ not in found:
                    found.add(sub.__name__)
                    pending.append(sub)
        return frozenset(found)

    @cached_property
    def routes(self):
        """``ROUTES`` of functions/http/routes.py: the public HTTP surface."""
        return self._load("functions/http/routes.py").ROUTES

    @cached_property
    def log_fields(self) -> frozenset[str]:
        """The JSON fields functions/logs.py writes on a log line (what log-based metrics can read)."""
        logs = self._load("functions/logs.py")
        return frozenset({"severity", "message", "logger", *logs._CONTEXT_FIELDS})

    @cached_property
    def r2_key_prefixes(self) -> frozenset[str]:
        """Leading folders of the object keys the functions write (``f"inputs/{job_id}..."``)."""
        found = set()
        for module in self._modules.values():
            for node in ast.walk(module.tree):
                if isinstance(node, ast.JoinedStr) and len(node.values) > 1:
                    head = node.values[0]
                    if isinstance(head, ast.Constant) and isinstance(head.value, str) and _KEY_FOLDER.fullmatch(head.value):
                        found.add(head.value)
        return frozenset(found)

    # --- what each function needs ------------------------------------------------------------
    def needs(self, entry_point: str) -> Needs:
        if entry_point not in self._needs:
            self._needs[entry_point] = self._derive(entry_point)
        return self._needs[entry_point]

    def _derive(self, entry_point: str) -> Needs:
        reach = _Reach()
        for module, node in self._walk(ENTRY_MODULE, entry_point):
            self._scan(module, node, reach, deps_names={"deps"})
        adapters = self._adapter_closure(reach.adapters)
        read = set(self.settings) if reach.whole_settings else set(reach.settings)
        for adapter in adapters:
            read |= self._adapter_reach[adapter].settings
        fields = {f for name in read for f in self._settings_properties.get(name, {name})} & set(self.settings)
        by_event = {event: topic for topic, (event, _) in self.topics.items()}
        published = reach.events if "publisher" in adapters else set()
        return Needs(
            name=entry_point,
            trigger=self.entry_points[entry_point],
            env=frozenset({self.settings[f].env for f in fields if not self.settings[f].secret} | reach.environ),
            secrets=frozenset(self.settings[f].env for f in fields if self.settings[f].secret),
            publishes=frozenset(by_event[e] for e in published if e in by_event),
            uses_store="store" in adapters,
            unknown_events=frozenset(e for e in published if e not in by_event),
        )

    def all_needs(self) -> dict[str, Needs]:
        return {name: self.needs(name) for name in self.entry_points}

    # --- indexing and walking ----------------------------------------------------------------
    def _index(self, name: str, path: Path) -> _Module:
        module = _Module(name, ast.parse(path.read_text(), str(path)))
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in module.tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                module.defs[node.name] = node
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    module.modules[alias.asname or alias.name.split(".")[0]] = alias.name if alias.asname else alias.name.split(".")[0]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
                for alias in node.names:
                    local = alias.asname or alias.name
                    if f"{base}.{alias.name}" in self._module_names:
                        module.modules[local] = f"{base}.{alias.name}"
                    else:
                        module.names[local] = (base, alias.name)
        return module

    def _resolve(self, module: str, name: str, seen: frozenset = frozenset()) -> tuple[str, str] | None:
        """Where ``name`` as seen from ``module`` is defined inside the package, following re-exports."""
        if (module, name) in seen or module not in self._modules:
            return None
        info = self._modules[module]
        if name in info.defs:
            return module, name
        if name in info.names:
            source, original = info.names[name]
            return self._resolve(source, original, seen | {(module, name)})
        return None

    def _walk(self, module: str, name: str) -> Iterator[tuple[str, ast.AST]]:
        pending, seen = [(module, name)], set()
        while pending:
            key = pending.pop()
            if key in seen or key[0] == BOOTSTRAP or key[0] not in self._modules:
                continue
            seen.add(key)
            node = self._modules[key[0]].defs[key[1]]
            yield key[0], node
            for sub in ast.walk(node):
                target = None
                if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Load):
                    target = self._resolve(key[0], sub.id)
                elif isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name):
                    imported = self._modules[key[0]].modules.get(sub.value.id)
                    if imported:
                        target = self._resolve(imported, sub.attr)
                if target and target not in seen:
                    pending.append(target)

    def _scan(self, module: str, node: ast.AST, reach: _Reach, deps_names: set[str], settings_names: set[str] = frozenset()) -> None:
        deps_names, settings_names = set(deps_names), set(settings_names)
        for arg in _arguments(node):
            if arg.arg == "deps" or (arg.annotation is not None and ast.unparse(arg.annotation) == "Deps"):
                deps_names.add(arg.arg)

        def is_deps(expr: ast.AST) -> bool:
            return (isinstance(expr, ast.Name) and expr.id in deps_names) or (
                isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id == "deps"
            )

        def is_settings(expr: ast.AST) -> bool:
            return (isinstance(expr, ast.Attribute) and expr.attr == "settings" and is_deps(expr.value)) or (
                isinstance(expr, ast.Name) and expr.id in settings_names
            ) or (isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name) and expr.func.id == "get_settings")

        nodes = list(ast.walk(node))
        consumed: set[int] = set()  # ``deps.settings`` nodes whose use is understood
        for sub in nodes:  # aliases first: ``d = deps()``, ``settings = deps.settings``
            if isinstance(sub, ast.Assign) and len(sub.targets) == 1 and isinstance(sub.targets[0], ast.Name):
                if is_deps(sub.value):
                    deps_names.add(sub.targets[0].id)
                elif is_settings(sub.value):
                    settings_names.add(sub.targets[0].id)
                    consumed.add(id(sub.value))
        for sub in nodes:
            if isinstance(sub, ast.Attribute):
                if is_settings(sub.value):
                    reach.settings.add(sub.attr)
                    consumed.add(id(sub.value))
                    if isinstance(sub.value, ast.Attribute):
                        consumed.add(id(sub.value))
                elif is_deps(sub.value) and sub.attr in self._adapter_reach:
                    reach.adapters.add(sub.attr)
                elif is_deps(sub.value) and sub.attr == "settings":
                    pass  # decided below: read field by field, or passed whole
            elif isinstance(sub, ast.Call):
                callee = sub.func
                name = callee.id if isinstance(callee, ast.Name) else callee.attr if isinstance(callee, ast.Attribute) else None
                if name in self.event_classes:
                    reach.events.add(name)
                env = _environ_literal(sub)
                if env:
                    reach.environ.add(env)
            elif isinstance(sub, ast.Subscript) and ast.unparse(sub.value) == "os.environ":
                if isinstance(sub.slice, ast.Constant) and isinstance(sub.slice.value, str):
                    reach.environ.add(sub.slice.value)
        for sub in nodes:  # the settings object escaping whole (``f(deps.settings)``): assume every field is read
            if isinstance(sub, ast.Attribute) and sub.attr == "settings" and is_deps(sub.value) and id(sub) not in consumed:
                reach.whole_settings = True
            elif isinstance(sub, ast.Name) and sub.id in settings_names and isinstance(sub.ctx, ast.Load) and id(sub) not in consumed:
                reach.whole_settings = True

    @cached_property
    def _settings_properties(self) -> dict[str, set[str]]:
        """``Settings`` properties (``jwks_url``) -> the fields they read."""
        settings_class = self._modules["functions.settings"].defs["Settings"]
        return {
            node.name: {sub.attr for sub in ast.walk(node) if isinstance(sub, ast.Attribute) and ast.unparse(sub.value) == "self"}
            for node in settings_class.body
            if isinstance(node, ast.FunctionDef) and any(ast.unparse(d) == "property" for d in node.decorator_list)
        }

    @cached_property
    def _adapter_reach(self) -> dict[str, _Reach]:
        """Each ``Deps`` adapter (a cached_property) -> the settings and adapters its builder reads."""
        deps_class = self._modules[BOOTSTRAP].defs["Deps"]
        adapters = {
            node.name: node for node in deps_class.body
            if isinstance(node, ast.FunctionDef) and any(ast.unparse(d) == "cached_property" for d in node.decorator_list)
        }
        self.__dict__["_adapter_reach"] = {name: _Reach() for name in adapters}  # lets _scan recognise them
        for name, node in adapters.items():
            self._scan(BOOTSTRAP, node, self._adapter_reach[name], deps_names={"self"})
        return self._adapter_reach

    def _adapter_closure(self, adapters: set[str]) -> set[str]:
        closed, pending = set(), list(adapters)
        while pending:
            adapter = pending.pop()
            if adapter not in closed:
                closed.add(adapter)
                pending.extend(self._adapter_reach[adapter].adapters)
        return closed


def _arguments(node: ast.AST) -> list[ast.arg]:
    args = getattr(node, "args", None)
    if not isinstance(args, ast.arguments):
        return []
    return [*args.posonlyargs, *args.args, *args.kwonlyargs]


def _environ_literal(call: ast.Call) -> str | None:
    target = ast.unparse(call.func)
    if target in {"os.getenv", "os.environ.get"} and call.args:
        first = call.args[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            return first.value
    return None
