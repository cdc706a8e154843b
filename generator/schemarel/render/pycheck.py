"""Checking every generated Python module before it is written: it parses, and holds only what schemarel writes.

The templates build Python from schema text only through `schemarel.text` (literals, docstrings, comments)
and names from `naming` (identifiers); this is the net under both. Each module is parsed with `ast` (never
imported: importing would run it), and its tree may only use the node kinds, imports, names and attributes
the generator emits: a model module holds a docstring, imports and classes deriving from `Base` whose bodies
are a docstring, `__tablename__`, `__table_args__` and `mapped_column`/`relationship` attributes. A module
that fails is a SchemaError naming the schema file, raised before anything is written.
"""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any

from schemarel.errors import SchemaError

# Every node kind the shipped templates and the migration renderer produce (measured over this repository's
# schemas, the corpus and the evolution tests), plus harmless operators of the same family.
NODES = frozenset({
    "Module", "Expr", "Import", "ImportFrom", "alias", "Assign", "AnnAssign", "ClassDef", "FunctionDef", "Return",
    "If", "With", "withitem", "Try", "AsyncFunctionDef", "Pass", "Assert", "Starred", "ListComp", "arguments",
    "arg", "keyword", "Call",
    "Attribute", "Name",
    "Constant", "Subscript", "Tuple", "List", "Dict", "Set", "GeneratorExp", "comprehension", "IfExp", "BoolOp",
    "BinOp", "UnaryOp", "Compare", "Load", "Store", "And", "Or", "Not", "USub", "UAdd", "Add", "Sub", "Mult", "Div",
    "BitOr", "Eq", "NotEq", "Lt", "LtE", "Gt", "GtE", "In", "NotIn", "Is", "IsNot",
})  # fmt: skip
IMPORTS = frozenset({
    "__future__", "typing", "datetime", "decimal", "uuid", "sqlalchemy", "sqlalchemy.orm", "sqlalchemy.dialects",
    "sqlalchemy.dialects.postgresql", "alembic", "schemarel.support",
})  # fmt: skip
# the Alembic environment (no schema text but the default URL) finds the models and the database itself
ENV_IMPORTS = IMPORTS | {"importlib.util", "os", "sys", "logging.config", "pathlib", "types"}
ENV_MODULE = "migrations/env.py"
# the typed document modules (documents/<schema>.py) also declare types and async methods
DOCUMENT_IMPORTS = IMPORTS | {"typing_extensions", "collections.abc", "sys", "pathlib"}
BUILTINS = frozenset({"bool", "dict", "float", "frozenset", "getattr", "int", "list", "object", "str", "tuple", "set",
                      "property",
                      "len", "isinstance", "__file__"})  # fmt: skip
PUBLIC_DUNDERS = frozenset({"__name__"})  # read by the Alembic environment; names, not code
CLASS_BODY_CALLS = frozenset({"mapped_column", "relationship"})


class _Refused(Exception):
    def __init__(self, node: ast.AST | None, what: str) -> None:
        super().__init__(what)
        self.line = getattr(node, "lineno", 0)


def verify(
    files: Mapping[str, bytes], origins: Mapping[str, str], default_origin: str, model_shape: bool = True
) -> None:
    """Check every `.py` of `files` (generated path → content); `origins` names the schema file of a path.
    `model_shape`: hold models modules to the shipped template's statements (not for a user's own template)."""
    modules = model_modules(files)
    for path, content in files.items():
        verify_module(path, content, modules, origins, default_origin, model_shape)


def model_modules(paths: Iterable[str]) -> set[str]:
    """The stems of the models modules among `paths` (what a models module may import relatively)."""
    return {path[len("models/") : -3] for path in paths if path.startswith("models/") and path.endswith(".py")}


def verify_module(
    path: str,
    content: bytes,
    modules: set[str],
    origins: Mapping[str, str],
    default_origin: str,
    model_shape: bool = True,
) -> None:
    """`verify` of one of the files, `modules` being their `model_modules`."""
    if not path.endswith(".py"):
        return
    try:
        check_module(path, content.decode("utf-8"), modules, model_shape)
    except (SyntaxError, ValueError, UnicodeDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        detail = f"line {line}: {exc.msg}" if isinstance(exc, SyntaxError) and line else str(exc)
        raise _error(path, origins.get(path, default_origin), f"does not parse ({detail})") from None
    except _Refused as exc:
        raise _error(path, origins.get(path, default_origin), f"line {exc.line}: {exc}") from None


def _error(path: str, origin: str, detail: str) -> SchemaError:
    return SchemaError(origin, "#", f"the generated {path} would not be the module schemarel means, {detail}; "
                       "nothing was written (a schemarel bug: please report it with the schema)")  # fmt: skip


def check_module(path: str, source: str, modules: set[str], model_shape: bool = True) -> None:
    """Raise SyntaxError, or _Refused naming the first node the generator does not write."""
    tree = ast.parse(source, filename=path)
    imports = DOCUMENT_IMPORTS if path.startswith("documents/") else IMPORTS
    allowed_imports = ENV_IMPORTS if path == ENV_MODULE else imports
    bound: set[str] = set()
    loaded: list[Any] = []  # checked once every binding is known: one walk of the tree, not two
    scoped: list[ast.stmt] = []  # the top-level statements compiling may refuse though they parsed (`_SCOPED`)
    for statement in tree.body:  # each walked on its own, to know which hold what compiling checks
        if _walk(statement, bound, loaded, modules, allowed_imports):
            scoped.append(statement)
    for name_node in loaded:
        if name_node.id not in bound and name_node.id not in BUILTINS:
            raise _Refused(name_node, f"unexpected name {name_node.id!r}")
    stem = path[len("models/") : -3] if path.startswith("models/") else None
    if model_shape and stem in modules and stem not in ("base", "__init__"):
        _check_model_module(tree)
    # what the parser lets through and compiling refuses (a parameter given twice): compiled, never run; only
    # the statements that hold what compiling checks beyond the parser (the typed documents' store methods:
    # compiling all of that module was a third of its check), with every statement up to the last
    # `from __future__` import (compiling checks where those stand), or the whole module where `__debug__` is
    # in its text (compiling refuses assigning it)
    future = [i for i, s in enumerate(tree.body) if isinstance(s, ast.ImportFrom) and s.module == "__future__"]
    head = tree.body[: future[-1] + 1] if future else []
    if "__debug__" in source:
        compile(tree, path, "exec", dont_inherit=True)
    elif scoped or head:
        kept = ast.Module(body=head + [s for s in scoped if s not in head], type_ignores=[])
        compile(kept, path, "exec", dont_inherit=True)


def _walk(
    statement: ast.stmt, bound: set[str], loaded: list[Any], modules: set[str], allowed_imports: frozenset[str]
) -> bool:
    """Refuse the first node of `statement` the generator does not write, binding and loading names on the way;
    whether it holds what compiling checks beyond the parser (`_SCOPED`)."""
    # `ast.walk`'s breadth-first order within the statement, with each kind's children read from its own
    # fields: the generic walk asks every field of every node, most of them leaves
    todo: deque[Any] = deque([statement])
    popleft, push, extend = todo.popleft, todo.append, todo.extend
    scoped = False
    while todo:
        node: Any = popleft()  # read field by field below, each kind as the generator writes it
        cls = node.__class__
        if cls in _SCOPED or (cls in _FUNCTIONS and node.args.args + node.args.kwonlyargs + node.args.posonlyargs):
            scoped = True
        fields = _CHILD_FIELDS.get(cls)
        if fields is None:
            if node is None:  # a hole in a list of nodes: a keyword-only argument without default, `{**d}`
                continue
            raise _Refused(node, f"unexpected Python construct {cls.__name__}")
        if cls is ast.Name:
            ctx = node.ctx
            if ctx.__class__ is ast.Load:
                loaded.append(node)
            elif ctx.__class__ is ast.Store:
                bound.add(node.id)
            else:
                raise _Refused(ctx, f"unexpected Python construct {ctx.__class__.__name__}")
            continue
        if cls is ast.Constant:
            continue
        for name in fields:
            value = getattr(node, name)
            if value.__class__ is list:
                extend(value)
            elif value is not None:
                push(value)
        if cls in _CTX_FIELD and node.ctx.__class__ not in _CONTEXTS:
            raise _Refused(node.ctx, f"unexpected Python construct {node.ctx.__class__.__name__}")
        if cls is ast.Attribute:
            if node.attr.startswith("_") and node.attr not in PUBLIC_DUNDERS:
                raise _Refused(node, f"unexpected attribute {node.attr!r}")
        elif cls is ast.Call:
            _check_call(node)
        elif cls is ast.Expr:
            if not _is_docstring_or_call(node):
                raise _Refused(node, "an expression statement that is neither a docstring nor a call")
        elif cls is ast.FunctionDef or cls is ast.ClassDef:
            bound.add(node.name)
        elif cls is ast.arg:
            bound.add(node.arg)
        elif cls is ast.alias:
            bound.add(node.asname or node.name.split(".")[0])
        elif cls is ast.Import or cls is ast.ImportFrom:
            _check_import(node, modules, allowed_imports)
    return scoped


# what compiling checks beyond the parser, as the generator writes modules: the parameters of a function (each
# once), statements that must be inside a function or a loop, comprehension scopes, and assigning `__debug__`
# (found in the text); the upgrade() and downgrade() of a revision have no parameter
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_SCOPED = frozenset(
    {
        ast.Lambda, ast.Yield, ast.YieldFrom, ast.Await, ast.Break, ast.Continue, ast.Nonlocal, ast.Global,
        ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.NamedExpr,
    }
)  # fmt: skip


def _node_fields() -> dict[type[ast.AST], tuple[str, ...]]:
    """The fields of each allowed node kind that hold nodes (a node, a list of nodes, or None), `ctx` aside."""
    leaves = {"ctx", "id", "attr", "arg", "name", "asname", "module", "level", "type_comment", "is_async", "simple"}
    result: dict[type[ast.AST], tuple[str, ...]] = {}
    for kind in NODES:
        cls: type[ast.AST] = getattr(ast, kind)
        fields = tuple(f for f in cls._fields if f not in leaves)
        if cls is ast.Constant:
            fields = ()
        result[cls] = fields
    return result


_CHILD_FIELDS = _node_fields()
_CONTEXTS = (ast.Load, ast.Store)
_CTX_FIELD = frozenset(cls for cls in _CHILD_FIELDS if "ctx" in cls._fields and cls is not ast.Name)


def _check_call(node: ast.Call) -> None:
    if isinstance(node.func, ast.Name) and node.func.id == "getattr":
        name = node.args[1] if len(node.args) > 1 else None
        if not (isinstance(name, ast.Constant) and isinstance(name.value, str) and not name.value.startswith("_")):
            raise _Refused(node, "getattr of a private or computed attribute")


def _check_import(node: ast.Import | ast.ImportFrom, modules: set[str], allowed: frozenset[str]) -> None:
    if any(alias.name == "*" for alias in node.names):
        raise _Refused(node, "a star import")
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    elif node.level == 1:
        names = [] if node.module in modules else [f".{node.module}"]
    else:
        names = [node.module or ""] if node.level == 0 else ["." * node.level]
    for name in names:
        if name not in allowed:
            raise _Refused(node, f"an import of {name!r}")


def _is_docstring_or_call(node: ast.Expr) -> bool:
    value = node.value
    # a call, a docstring, or `...` (the body of a Protocol method)
    return isinstance(value, ast.Call) or (isinstance(value, ast.Constant) and isinstance(value.value, str | type(...)))


def _check_model_module(tree: ast.Module) -> None:
    """A models module: docstring, imports, and `class X(Base)` bodies of table attributes only."""
    for i, stmt in enumerate(tree.body):
        if isinstance(stmt, ast.Import | ast.ImportFrom) or (i == 0 and _is_docstring(stmt)):
            continue
        if not isinstance(stmt, ast.ClassDef):
            raise _Refused(stmt, "a statement other than an import or a model class")
        bases = [b.id for b in stmt.bases if isinstance(b, ast.Name)]
        if bases != ["Base"] or len(stmt.bases) != 1 or stmt.keywords or stmt.decorator_list:
            raise _Refused(stmt, f"class {stmt.name} is not a plain subclass of Base")
        for j, item in enumerate(stmt.body):
            if j == 0 and _is_docstring(item):
                continue
            if isinstance(item, ast.Assign) and [_target(t) for t in item.targets] in (
                ["__tablename__"],
                ["__table_args__"],
            ):
                continue
            if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name) and _calls(item.value):
                continue
            raise _Refused(item, f"a statement in class {stmt.name} other than a table attribute")


def _is_docstring(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(stmt.value.value, str)


def _target(node: ast.expr) -> str | None:
    return node.id if isinstance(node, ast.Name) else None


def _calls(value: ast.expr | None) -> bool:
    return isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id in CLASS_BODY_CALLS
