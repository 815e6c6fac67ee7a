"""Read and write configs in the mmengine-style Python dialect without executing them.

Reference projects ship ``.py`` configs (``_base_`` lists, ``dict(...)`` calls, shared variables, a little
arithmetic). Executing such a file would run whatever it contains, so the file is parsed with ``ast`` and
only a small, side-effect-free subset is evaluated here: literals, ``dict``/``list``/``tuple`` calls,
displays, names assigned earlier (or by a base), subscripts and arithmetic with size guards. Anything
else is refused with a one-line :class:`~depthforge.errors.ConfigError` naming the file and line.
"""

from __future__ import annotations

import ast
import keyword
import math
import warnings
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, NoReturn

from depthforge.config.loader import BASE_KEY, DELETE_KEY, load_yaml, merge
from depthforge.errors import ConfigError

__all__ = ["dump_pyconfig", "load_pyconfig", "parse_cfg_options"]

ALLOWED = "only literals, dict/list/tuple, names and arithmetic"
MAX_EXPONENT = 64  # ``**`` beyond this is refused: configs never need it and it explodes memory
MAX_INT_BITS = 4096  # integer results above this are refused (repeated squaring would be unbounded)
MAX_ITEMS = 1_000_000  # longest list/tuple/string that concatenation or repetition may build
MAX_NODES = 5_000_000  # total size of all values of one file, counted without sharing
MAX_DEPTH = 100  # deepest nesting of containers a value may have

_BUILTIN_CALLS = ("dict", "list", "tuple")
# Python refuses dict(**base, key=...) when base has key, and so does this reader; this is the form that works
_OVERRIDE_HINT = " (as in Python; write dict(base, key=value) to override keys of base)"
_SCALARS = (int, float, str, bool, type(None))
_CONTAINERS = (list, tuple, dict, set)
_YAML_SUFFIXES = (".yaml", ".yml")

_OPS: dict[type[ast.operator], tuple[str, Callable[[Any, Any], Any]]] = {
    ast.Add: ("+", lambda a, b: a + b),
    ast.Sub: ("-", lambda a, b: a - b),
    ast.Mult: ("*", lambda a, b: a * b),
    ast.Div: ("/", lambda a, b: a / b),
    ast.FloorDiv: ("//", lambda a, b: a // b),
    ast.Mod: ("%", lambda a, b: a % b),
    ast.Pow: ("**", lambda a, b: a**b),
}

_OTHER_OPS: dict[type[ast.operator], str] = {
    ast.MatMult: "@", ast.LShift: "<<", ast.RShift: ">>", ast.BitOr: "|", ast.BitXor: "^", ast.BitAnd: "&",
}

# how a refused construct is named in the error message
_WHAT: dict[type[ast.AST], str] = {
    ast.Import: "import",
    ast.ImportFrom: "import",
    ast.FunctionDef: "a function definition",
    ast.AsyncFunctionDef: "a function definition",
    ast.ClassDef: "a class definition",
    ast.If: "an if statement",
    ast.For: "a loop",
    ast.AsyncFor: "a loop",
    ast.While: "a loop",
    ast.With: "a with statement",
    ast.AsyncWith: "a with statement",
    ast.Try: "a try statement",
    ast.Raise: "a raise statement",
    ast.Assert: "an assert statement",
    ast.Delete: "a del statement",
    ast.Global: "a global statement",
    ast.Nonlocal: "a nonlocal statement",
    ast.Return: "a return statement",
    ast.Pass: "a pass statement",
    ast.Break: "a break statement",
    ast.Continue: "a continue statement",
    ast.AugAssign: "augmented assignment",
    ast.AnnAssign: "an annotated assignment",
    ast.Match: "a match statement",
    ast.Attribute: "attribute access",
    ast.Lambda: "a lambda",
    ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a generator expression",
    ast.NamedExpr: "the walrus operator",
    ast.Starred: "a starred expression",
    ast.JoinedStr: "an f-string",
    ast.FormattedValue: "an f-string",
    ast.Compare: "a comparison",
    ast.BoolOp: "and/or",
    ast.IfExp: "a conditional expression",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
    ast.Slice: "a slice",
}
if hasattr(ast, "TryStar"):  # Python 3.11+
    _WHAT[ast.TryStar] = "a try statement"


def _describe(node: ast.AST) -> str:
    if isinstance(node, ast.Attribute):
        return f"attribute access (.{node.attr})"
    if isinstance(node, ast.Call):
        func = node.func
        return f"a call to {func.id}()" if isinstance(func, ast.Name) else "a call"
    if isinstance(node, ast.BinOp):
        return f"the operator {_OTHER_OPS.get(type(node.op), type(node.op).__name__)}"
    return _WHAT.get(type(node), f"{type(node).__name__}")


class _Evaluator:
    """Evaluate one parsed config module; holds its variables and the size bookkeeping."""

    def __init__(self, path: Path, base_vars: Mapping[str, Any]) -> None:
        self.path = path
        self.base_vars = base_vars
        self.names: dict[str, Any] = {}
        self.line = 1
        self.total = 0
        self._measured: dict[int, tuple[int, int]] = {}
        self._alive: list[Any] = []  # keeps measured objects alive so that their ids stay unique

    # --- errors ----------------------------------------------------------------------------------

    def _lineno(self, node: ast.AST | None) -> int:
        return getattr(node, "lineno", None) or self.line

    def fail(self, node: ast.AST | None, message: str) -> NoReturn:
        raise ConfigError(f"{self.path}:{self._lineno(node)}: {message}")

    def refuse(self, node: ast.AST, what: str | None = None) -> NoReturn:
        self.fail(node, f"{what or _describe(node)} is not allowed in a config ({ALLOWED})")

    # --- size guards -----------------------------------------------------------------------------

    def _measure(self, value: Any) -> tuple[int, int]:
        """(node count, nesting depth) of a value, counting shared parts once per reference."""
        if isinstance(value, str):
            return 1 + len(value) // 64, 0
        if not isinstance(value, _CONTAINERS):
            return 1, 0
        cached = self._measured.get(id(value))
        if cached is not None:
            return cached
        items: Iterable[Any] = (
            (x for kv in value.items() for x in kv) if isinstance(value, dict) else value
        )
        size, depth = 1, 0
        for item in items:
            s, d = self._measure(item)
            size, depth = size + s, max(depth, d + 1)
            if size > MAX_NODES or depth > MAX_DEPTH:
                break
        self._measured[id(value)] = (size, depth)
        self._alive.append(value)
        return size, depth

    def checked(self, node: ast.AST, value: Any) -> Any:
        """``value`` if it is within the size limits: a few lines of config must not exhaust memory."""
        if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_INT_BITS:
            self.fail(node, f"an integer of more than {MAX_INT_BITS} bits is not allowed in a config")
        if isinstance(value, _CONTAINERS):
            size, depth = self._measure(value)
            if depth > MAX_DEPTH:
                self.fail(node, f"a value nested more than {MAX_DEPTH} levels deep is not allowed in a config")
            if size > MAX_NODES:
                self.fail(node, f"a value of more than {MAX_NODES} items is not allowed in a config")
        return value

    # --- statements ------------------------------------------------------------------------------

    def run(self, module: ast.Module) -> dict[str, Any]:
        """The module's variables in assignment order; any other statement is refused."""
        for stmt in module.body:
            self.line = stmt.lineno
            if isinstance(stmt, ast.Expr):
                if isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str):
                    continue  # docstring or a bare string used as a comment
                self.eval(stmt.value)  # names the refused construct inside, if any
                self.refuse(stmt, "a bare expression")
            if not isinstance(stmt, ast.Assign):
                self.refuse(stmt)
            for target in stmt.targets:
                self._check_target(target)
            value = self.eval(stmt.value)
            self.total += self._measure(value)[0]
            if self.total > MAX_NODES:
                self.fail(stmt, f"a config of more than {MAX_NODES} items is not allowed")
            for target in stmt.targets:
                assert isinstance(target, ast.Name)
                self.names[target.id] = value
        return self.names

    def _check_target(self, target: ast.expr) -> None:
        if isinstance(target, ast.Attribute):
            self.refuse(target, "assignment to an attribute")
        if isinstance(target, ast.Subscript):
            self.refuse(target, "assignment to a subscript")
        if isinstance(target, (ast.Tuple, ast.List, ast.Starred)):
            self.refuse(target, "unpacking assignment")
        if not isinstance(target, ast.Name):
            self.refuse(target, "this assignment target")
        if target.id.startswith("__"):
            self.refuse(target, f"the name {target.id!r}")
        if target.id in _BUILTIN_CALLS:
            self.refuse(target, f"assignment to {target.id!r}")

    # --- expressions -----------------------------------------------------------------------------

    def eval(self, node: ast.AST) -> Any:
        """The value of an expression of the allowed subset; plain containers and scalars only."""
        if isinstance(node, ast.Constant):
            if type(node.value) not in _SCALARS:
                kind = {bytes: "a bytes literal", complex: "a complex number", type(...): "..."}.get(type(node.value))
                self.refuse(node, kind or repr(node.value))
            return node.value
        if isinstance(node, ast.Name):
            return self._name(node)
        if isinstance(node, ast.Dict):
            return self.checked(node, self._dict_display(node))
        if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            items = [self.eval(e) for e in node.elts]
            if isinstance(node, ast.Set):
                return self.checked(node, self._hashable(node, set, items))
            return self.checked(node, items if isinstance(node, ast.List) else tuple(items))
        if isinstance(node, ast.Call):
            return self.checked(node, self._call(node))
        if isinstance(node, ast.UnaryOp):
            return self._unary(node)
        if isinstance(node, ast.BinOp):
            return self.checked(node, self._binop(node))
        if isinstance(node, ast.Subscript):
            return self._subscript(node)
        self.refuse(node)

    def _name(self, node: ast.Name) -> Any:
        if node.id.startswith("__"):
            self.refuse(node, f"the name {node.id!r}")
        if node.id in self.names:
            return self.names[node.id]
        if node.id in self.base_vars:
            return self.base_vars[node.id]
        if node.id in _BUILTIN_CALLS:
            self.refuse(node, f"{node.id!r} other than as a call")
        self.fail(node, f"name {node.id!r} is not defined")

    def _hashable(self, node: ast.AST, kind: type, items: list[Any]) -> Any:
        try:
            return kind(items)
        except TypeError as exc:
            self.fail(node, str(exc).splitlines()[0])

    def _key(self, node: ast.AST, key: Any) -> Any:
        try:
            hash(key)
        except TypeError:
            self.fail(node, f"a {type(key).__name__} cannot be a dict key")
        return key

    def _splat(self, node: ast.AST, value: Any) -> dict[Any, Any]:
        if not isinstance(value, dict):
            self.fail(node, f"** needs a dict, got {type(value).__name__}")
        return value

    def _dict_display(self, node: ast.Dict) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        for key_node, value_node in zip(node.keys, node.values):
            if key_node is None:
                out.update(self._splat(value_node, self.eval(value_node)))
            else:
                key = self._key(key_node, self.eval(key_node))
                out[key] = self.eval(value_node)
        return out

    def _call(self, node: ast.Call) -> Any:
        func = node.func
        if not isinstance(func, ast.Name) or func.id not in _BUILTIN_CALLS:
            # name what would be called (``os.system(...)`` -> attribute access, ``(lambda: 1)()`` -> lambda)
            if not isinstance(func, ast.Name) and type(func) in _WHAT:
                self.refuse(func)
            self.refuse(node)
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                self.refuse(arg)
        if func.id == "dict":
            if len(node.args) > 1:
                self.fail(node, "dict() takes at most one positional argument")
            out: dict[Any, Any] = {}
            if node.args:
                out.update(self._splat(node.args[0], self.eval(node.args[0])))
            explicit: set[str] = set()
            for kw in node.keywords:
                if kw.arg is None:
                    extra = self._splat(kw.value, self.eval(kw.value))
                    for key in extra:
                        if not isinstance(key, str):
                            self.fail(kw.value, "keywords must be strings")
                        if key in explicit:
                            self.fail(kw.value, f"dict() got multiple values for keyword argument {key!r}"
                                                f"{_OVERRIDE_HINT}")
                        explicit.add(key)
                    out.update(extra)
                else:
                    if kw.arg in explicit:
                        self.fail(kw, f"dict() got multiple values for keyword argument {kw.arg!r}{_OVERRIDE_HINT}")
                    explicit.add(kw.arg)
                    out[kw.arg] = self.eval(kw.value)
            return out
        if node.keywords:
            self.fail(node, f"{func.id}() takes no keyword arguments")
        if len(node.args) > 1:
            self.fail(node, f"{func.id}() takes at most one argument")
        if not node.args:
            return [] if func.id == "list" else ()
        source = self.eval(node.args[0])
        if not isinstance(source, (list, tuple, str, dict, set)):
            self.fail(node, f"{func.id}() needs a list, tuple, dict, set or string, got {type(source).__name__}")
        if len(source) > MAX_ITEMS:
            self.fail(node, f"a sequence of more than {MAX_ITEMS} items is not allowed in a config")
        return list(source) if func.id == "list" else tuple(source)

    def _unary(self, node: ast.UnaryOp) -> Any:
        if isinstance(node.op, ast.Not):
            return not self.eval(node.operand)
        if not isinstance(node.op, (ast.USub, ast.UAdd)):
            self.refuse(node, "the operator ~")
        value = self.eval(node.operand)
        if not isinstance(value, (int, float)):
            self.fail(node, f"bad operand type for unary {'-' if isinstance(node.op, ast.USub) else '+'}: "
                            f"{type(value).__name__}")
        return -value if isinstance(node.op, ast.USub) else +value

    def _binop(self, node: ast.BinOp) -> Any:
        entry = _OPS.get(type(node.op))
        if entry is None:
            self.refuse(node)
        symbol, func = entry
        left, right = self.eval(node.left), self.eval(node.right)
        number = (int, float)
        if isinstance(left, number) and isinstance(right, number):
            self._guard_numbers(node, symbol, left, right)
            try:
                result = func(left, right)
            except ZeroDivisionError:
                self.fail(node, "division by zero")
            except OverflowError:
                self.fail(node, f"numeric overflow in {symbol}")
            if not isinstance(result, number):
                self.fail(node, f"the result of {symbol} is not a real number")
            return result
        if symbol == "+" and type(left) is type(right) and isinstance(left, (list, tuple, str)):
            if len(left) + len(right) > MAX_ITEMS:
                self.fail(node, f"a sequence of more than {MAX_ITEMS} items is not allowed in a config")
            return left + right
        if symbol == "*":
            seq, count = (left, right) if isinstance(right, int) else (right, left)
            if isinstance(seq, (list, tuple, str)) and isinstance(count, int):
                if count > 0 and len(seq) * count > MAX_ITEMS:
                    self.fail(node, f"a sequence of more than {MAX_ITEMS} items is not allowed in a config")
                return seq * count
        self.fail(node, f"unsupported operand types for {symbol}: "
                        f"{type(left).__name__} and {type(right).__name__}")

    def _guard_numbers(self, node: ast.AST, symbol: str, left: float, right: float) -> None:
        if symbol == "**":
            if right > MAX_EXPONENT:
                self.fail(node, f"an exponent above {MAX_EXPONENT} is not allowed in a config")
            if (isinstance(left, int) and isinstance(right, int) and right > 0
                    and max(abs(left).bit_length(), 1) * right > MAX_INT_BITS):
                self.fail(node, f"an integer of more than {MAX_INT_BITS} bits is not allowed in a config")
        if (symbol == "*" and isinstance(left, int) and isinstance(right, int)
                and abs(left).bit_length() + abs(right).bit_length() > MAX_INT_BITS + 1):
            self.fail(node, f"an integer of more than {MAX_INT_BITS} bits is not allowed in a config")

    def _subscript(self, node: ast.Subscript) -> Any:
        if isinstance(node.slice, ast.Slice):
            self.refuse(node.slice)
        container = self.eval(node.value)
        index = self.eval(node.slice)
        if not isinstance(container, (list, tuple, dict)):
            self.fail(node, f"a {type(container).__name__} cannot be indexed in a config")
        try:
            return container[index]
        except IndexError:
            self.fail(node, f"index {index!r} is out of range ({len(container)} items)")
        except KeyError:
            self.fail(node, f"key {index!r} not found")
        except TypeError as exc:
            self.fail(node, str(exc).splitlines()[0])


# --- loading ------------------------------------------------------------------------------------


def _parse(path: Path) -> ast.Module:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config ({exc.strerror or exc})") from None
    try:
        with warnings.catch_warnings():  # invalid escape sequences etc. are not the reader's concern
            warnings.simplefilter("ignore")
            return ast.parse(text, filename=str(path))
    except SyntaxError as exc:
        msg = (str(exc.msg).splitlines() or ["invalid syntax"])[0]
        raise ConfigError(f"{path}:{exc.lineno or 1}: invalid Python syntax ({msg})") from None
    except ValueError as exc:  # null bytes on some Python versions
        raise ConfigError(f"{path}:1: invalid Python syntax ({str(exc).splitlines()[0]})") from None
    except (RecursionError, MemoryError):
        raise ConfigError(f"{path}:1: invalid Python syntax (expression nested too deeply)") from None


def _bases(path: Path, module: ast.Module) -> tuple[list[str], int]:
    """The ``_base_`` paths of a module and the line that lists them; evaluated with no names in scope."""
    found: list[ast.Assign] = [
        s for s in module.body
        if isinstance(s, ast.Assign) and any(isinstance(t, ast.Name) and t.id == BASE_KEY for t in s.targets)
    ]
    if not found:
        return [], 0
    stmt = found[0]
    if len(found) > 1:
        raise ConfigError(f"{path}:{found[1].lineno}: {BASE_KEY} is assigned more than once")
    evaluator = _Evaluator(path, {})
    evaluator.line = stmt.lineno
    bases = evaluator.eval(stmt.value)
    if isinstance(bases, str):
        bases = [bases]
    if not isinstance(bases, (list, tuple)) or not all(isinstance(b, str) for b in bases):
        raise ConfigError(f"{path}:{stmt.lineno}: {BASE_KEY} must be a path or a list of paths")
    return list(bases), stmt.lineno


def _plain(value: Any) -> Any:
    """An unshared copy (the evaluator reuses objects); ``_delete_`` markers left after merging go."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if k != DELETE_KEY}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    if isinstance(value, set):
        return set(value)
    return value


def _load(path: Path, seen: tuple[Path, ...]) -> dict[str, Any]:
    if path in seen:
        chain = " -> ".join(p.name for p in (*seen, path))
        raise ConfigError(f"{path}: circular {BASE_KEY} inheritance ({chain})")
    if path.suffix in _YAML_SUFFIXES:
        return load_yaml(path, seen)
    module = _parse(path)
    bases, line = _bases(path, module)
    merged: dict[str, Any] = {}
    for base in bases:
        base_path = (path.parent / base).resolve()
        if not base_path.is_file():
            raise ConfigError(f"{base_path}: config file not found (a {BASE_KEY} of {path}:{line})")
        merged = merge(merged, _load(base_path, (*seen, path)))
    evaluator = _Evaluator(path, merged)
    try:
        own = evaluator.run(module)
    except RecursionError:
        raise ConfigError(f"{path}:{evaluator.line}: expression nested too deeply") from None
    own.pop(BASE_KEY, None)
    return _plain(merge(merged, own))


def load_pyconfig(path: str | Path) -> dict[str, Any]:
    """Read a ``.py`` config in the mmengine dialect and resolve its ``_base_`` chain, executing nothing.

    Variables of the bases are visible in the file; the file's variables are merged onto the bases
    dict-wise (``_delete_=True`` replaces instead). Every module-level variable is returned, bases' first.
    A ``.yaml`` base is read with :func:`~depthforge.config.loader.load_yaml`.
    """
    return _load(Path(path).resolve(), ())


# --- --cfg-options ------------------------------------------------------------------------------

_PAIRS = {"[": "]", "(": ")", "{": "}"}
_TRUE, _FALSE, _NONE = ("true",), ("false",), ("none", "null")


def _split_top(text: str) -> list[str] | None:
    """Split at commas outside brackets and quotes; None when brackets or quotes do not balance."""
    parts, stack, quote, start, i = [], [], "", 0, 0
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
        elif ch in _PAIRS:
            stack.append(_PAIRS[ch])
        elif ch in ")]}":
            if not stack or stack.pop() != ch:
                return None
        elif ch == "," and not stack:
            parts.append(text[start:i])
            start = i + 1
        i += 1
    if stack or quote:
        return None
    parts.append(text[start:])
    return parts


def _typed(raw: str) -> Any:
    """A ``--cfg-options`` value typed as a user means it (mmengine DictAction rules)."""
    text = raw.strip()
    if not text:
        return ""
    parts = _split_top(text)
    if parts is not None and len(parts) > 1:
        if parts[-1].strip() == "":  # ``1,`` is a one-item list
            parts = parts[:-1]
        return [_typed(p) for p in parts]
    if parts is not None and text[0] in "[(" and text[-1] == _PAIRS[text[0]]:
        inner = _split_top(text[1:-1])
        if inner is not None:  # balanced as a whole, so the last character closes the first
            items = [] if not text[1:-1].strip() else [_typed(p) for p in inner]
            if len(items) > 1 and inner[-1].strip() == "":
                items = items[:-1]
            return items if text[0] == "[" else tuple(items)
    lowered = text.lower()
    if lowered in _TRUE or lowered in _FALSE:
        return lowered in _TRUE
    if lowered in _NONE:
        return None
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return text[1:-1]
        return value if isinstance(value, str) else text[1:-1]
    if text[0] in "+-.0123456789" and len(text) < 400:
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError, MemoryError, RecursionError, TypeError):
            return text
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value
    return text


def parse_cfg_options(items: Iterable[str]) -> dict[str, Any]:
    """``--cfg-options a.b=v ...`` as a nested dict, values typed like mmengine's DictAction.

    ``7e-2`` -> 0.07, ``true`` -> True, ``none`` -> None, ``'x'`` -> 'x', ``[1,(2,3)]`` -> [1, (2, 3)],
    ``a,b`` -> ['a', 'b'], anything else stays the string given. Nothing is evaluated.
    """
    out: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(f"--cfg-options {item!r} must look like key.path=value")
        key, raw = item.split("=", 1)
        parts = key.strip().split(".")
        if any(not part.strip() for part in parts):
            raise ConfigError(f"--cfg-options {item!r} has an empty key")
        try:
            value = _typed(raw)
        except RecursionError:
            value = raw.strip()
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part.strip(), {})
            if not isinstance(node, dict):
                raise ConfigError(f"--cfg-options {item!r} conflicts with another option setting {part!r}")
        node[parts[-1].strip()] = value
    return out


# --- writing ------------------------------------------------------------------------------------

WIDTH = 100  # one-line values up to this width, wrapped one item a line beyond
_INDENT = "    "


def _is_kwarg(key: Any) -> bool:
    return isinstance(key, str) and key.isidentifier() and key.isascii() and not keyword.iskeyword(key)


def _scalar(value: Any, where: str) -> str:
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, str):
        return repr(str(value))
    if isinstance(value, int):
        return repr(int(value)) if value.bit_length() < 10_000 else hex(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "(1e999 - 1e999)"
        if math.isinf(value):
            return "1e999" if value > 0 else "-1e999"
        return repr(float(value))
    raise ConfigError(f"{where}: a {type(value).__name__} cannot be written to a Python config")


def _parts(value: Any, where: str, indent: int) -> tuple[str, str, list[str]]:
    """Opening, closing and item texts of a container."""
    if isinstance(value, dict):
        if all(_is_kwarg(k) for k in value):
            items = [f"{k}={_fmt(v, f'{where}.{k}', indent)}" for k, v in value.items()]
            return "dict(", ")", items
        items = [f"{_fmt(k, where, indent)}: {_fmt(v, f'{where}[{k!r}]', indent)}" for k, v in value.items()]
        return "{", "}", items
    if isinstance(value, set) and not value:
        raise ConfigError(f"{where}: an empty set cannot be written to a Python config")
    open_, close = {list: ("[", "]"), tuple: ("(", ")"), set: ("{", "}")}[type(value)]
    return open_, close, [_fmt(v, f"{where}[{i}]", indent) for i, v in enumerate(value)]


def _fmt(value: Any, where: str, indent: int) -> str:
    if not isinstance(value, _CONTAINERS):
        return _scalar(value, where)
    plain = next(kind for kind in _CONTAINERS if isinstance(value, kind))
    value = value if type(value) is plain else plain(value)
    open_, close, items = _parts(value, where, indent + 1)
    one_item_tuple = isinstance(value, tuple) and len(items) == 1
    inline = open_ + ", ".join(items) + ("," if one_item_tuple else "") + close
    if len(inline) + indent * len(_INDENT) <= WIDTH and "\n" not in inline:
        return inline
    pad = _INDENT * (indent + 1)
    return open_ + "\n" + "".join(f"{pad}{item},\n" for item in items) + _INDENT * indent + close


def dump_pyconfig(cfg: Mapping[str, Any], path: str | Path) -> None:
    """Write a resolved config as a ``.py`` file that :func:`load_pyconfig` reads back equal (atomically)."""
    lines = ["# Resolved config: every _base_ merged and every option applied.\n"]
    for key, value in cfg.items():
        if not _is_kwarg(key) or key.startswith("__") or key in (BASE_KEY, DELETE_KEY, *_BUILTIN_CALLS):
            raise ConfigError(f"config key {key!r} cannot be a variable of a Python config")
        lines.append(f"{key} = {_fmt(value, key, 0)}\n")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("".join(lines), encoding="utf-8")
    tmp.replace(path)

