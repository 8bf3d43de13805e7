"""MedStation's own evaluator for the ``$`` expressions of MONAI bundle configs.

MONAI evaluates ``$`` strings with Python's ``eval``; MedStation never does. An expression is parsed with ``ast``
and walked node by node: literals, arithmetic, comparisons, boolean logic, conditional expressions, list/tuple/dict
displays, subscripts and ``@`` references are evaluated; a short list of idioms that published bundles use for
plumbing get fixed meanings (``$@network_def.to(@device)`` is the network, ``$torch.device(...)`` is the device
MedStation chose, ``$numpy.float32`` is that dtype, ``$torch.cuda.is_available()`` says whether it is a GPU).
Every other node - names, attribute access, calls, lambdas, comprehensions, imports - refuses the expression,
quoting it.
"""
from __future__ import annotations

import ast
import operator
import re
from typing import Any, Callable

REF = re.compile(r"@([A-Za-z0-9_]+(?:(?:#|::)[A-Za-z0-9_]+)*)")
_MAX_SIZE = 100_000  # longest string/list an expression may build
_MAX_POWER = 64

_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
           ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Not: operator.not_}
_COMPARE = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
            ast.Gt: operator.gt, ast.GtE: operator.ge, ast.In: lambda a, b: a in b,
            ast.NotIn: lambda a, b: a not in b, ast.Is: operator.is_, ast.IsNot: operator.is_not}
_PURE_CALLS = {"int": int, "float": float, "bool": bool, "str": str, "len": len, "min": min, "max": max,
               "abs": abs, "round": round, "list": list, "tuple": tuple}
DTYPE_NAMES = ("float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool")


class ExpressionError(Exception):
    """An expression MedStation will not evaluate; the message quotes it and names the construct."""


def dotted(node: ast.AST) -> str | None:
    """``numpy.float32`` -> "numpy.float32"; None for anything that is not a plain dotted name."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


class Evaluator:
    """Evaluate one expression. ``lookup(id)`` resolves an ``@`` reference; ``env`` holds the fixed meanings:
    ``device`` (what ``torch.device(...)`` means), ``cuda`` (bool) and ``dtype(name)`` (a dtype by name)."""

    def __init__(self, lookup: Callable[[str], Any], device: Any, cuda: bool, dtype: Callable[[str], Any]):
        self.lookup, self.device, self.cuda, self.dtype = lookup, device, cuda, dtype

    def evaluate(self, text: str, where: str) -> Any:
        source = text[1:]
        refs: list[str] = []

        def name_for(match: re.Match) -> str:
            refs.append(match.group(1))
            return f" __ref{len(refs) - 1}__ "

        try:
            tree = ast.parse(REF.sub(name_for, source).strip(), mode="eval")
        except SyntaxError:
            raise ExpressionError(f"{where}: expression {text!r} is not valid syntax") from None
        self._refs, self._text, self._where = refs, text, where
        return self._eval(tree.body)

    def _refuse(self, what: str) -> ExpressionError:
        what = re.sub(r"__ref(\d+)__", lambda m: "@" + self._refs[int(m.group(1))], what)
        return ExpressionError(f"{self._where}: expression {self._text!r} uses {what}; MedStation evaluates only "
                               "literals, arithmetic, comparisons, conditional expressions and @references")

    def _ref(self, node: ast.AST) -> str | None:
        if isinstance(node, ast.Name) and node.id.startswith("__ref") and node.id.endswith("__"):
            return self._refs[int(node.id[5:-2])]
        return None

    def _eval(self, node: ast.AST) -> Any:
        handler = getattr(self, f"_{type(node).__name__}", None)
        if handler is None:
            raise self._refuse(_describe(node))
        return handler(node)

    # leaves ---------------------------------------------------------------------------------------------------
    def _Constant(self, node: ast.Constant) -> Any:
        return node.value

    def _Name(self, node: ast.Name) -> Any:
        ref = self._ref(node)
        if ref is None:
            raise self._refuse(f"the name {node.id!r}")
        return self.lookup(ref)

    def _Attribute(self, node: ast.Attribute) -> Any:
        name = dotted(node)
        module, _, attr = (name or "").rpartition(".")
        if module in ("numpy", "np", "torch") and attr in DTYPE_NAMES:
            return self.dtype(f"{'numpy' if module == 'np' else module}.{attr}")
        raise self._refuse(f"the attribute {name or node.attr!r}")

    # operators ------------------------------------------------------------------------------------------------
    def _BinOp(self, node: ast.BinOp) -> Any:
        op = _BINARY.get(type(node.op))
        if op is None:
            raise self._refuse(f"the operator {type(node.op).__name__}")
        left, right = self._eval(node.left), self._eval(node.right)
        if isinstance(node.op, ast.Pow) and isinstance(right, (int, float)) and abs(right) > _MAX_POWER:
            raise self._refuse(f"a power above {_MAX_POWER}")
        if isinstance(node.op, ast.Mult) and _too_big(left, right):
            raise self._refuse(f"a repetition longer than {_MAX_SIZE}")
        try:
            return op(left, right)
        except (TypeError, ValueError, ZeroDivisionError, OverflowError) as exc:
            raise ExpressionError(f"{self._where}: expression {self._text!r} failed ({exc})") from None

    def _UnaryOp(self, node: ast.UnaryOp) -> Any:
        op = _UNARY.get(type(node.op))
        if op is None:
            raise self._refuse(f"the operator {type(node.op).__name__}")
        return op(self._eval(node.operand))

    def _BoolOp(self, node: ast.BoolOp) -> Any:
        value = None
        for item in node.values:
            value = self._eval(item)
            if isinstance(node.op, ast.And) and not value or isinstance(node.op, ast.Or) and value:
                return value
        return value

    def _Compare(self, node: ast.Compare) -> bool:
        left = self._eval(node.left)
        for op, comparator in zip(node.ops, node.comparators):
            right = self._eval(comparator)
            try:
                if not _COMPARE[type(op)](left, right):
                    return False
            except TypeError as exc:
                raise ExpressionError(f"{self._where}: expression {self._text!r} failed ({exc})") from None
            left = right
        return True

    def _IfExp(self, node: ast.IfExp) -> Any:
        return self._eval(node.body) if self._eval(node.test) else self._eval(node.orelse)

    # displays and subscripts ----------------------------------------------------------------------------------
    def _List(self, node: ast.List) -> list:
        return [self._eval(e) for e in node.elts]

    def _Tuple(self, node: ast.Tuple) -> tuple:
        return tuple(self._eval(e) for e in node.elts)

    def _Dict(self, node: ast.Dict) -> dict:
        if any(k is None for k in node.keys):
            raise self._refuse("dictionary unpacking")
        return {self._eval(k): self._eval(v) for k, v in zip(node.keys, node.values)}

    def _Subscript(self, node: ast.Subscript) -> Any:
        value = self._eval(node.value)
        if not isinstance(value, (list, tuple, dict, str)):
            raise self._refuse(f"a subscript of {type(value).__name__}")
        index = self._eval(node.slice)
        try:
            return value[index]
        except (KeyError, IndexError, TypeError) as exc:
            raise ExpressionError(f"{self._where}: expression {self._text!r} failed ({exc!r})") from None

    def _Slice(self, node: ast.Slice) -> slice:
        parts = [None if p is None else self._eval(p) for p in (node.lower, node.upper, node.step)]
        return slice(*parts)

    # the fixed idioms -----------------------------------------------------------------------------------------
    def _Call(self, node: ast.Call) -> Any:
        if node.keywords and any(k.arg is None for k in node.keywords):
            raise self._refuse("argument unpacking")
        func = node.func
        name = dotted(func)
        if name == "torch.device":
            return self.device  # whatever the bundle asks for, the model runs where MedStation placed it
        if name == "torch.cuda.is_available" and not node.args and not node.keywords:
            return self.cuda
        if (isinstance(func, ast.Attribute) and func.attr == "to" and self._ref(func.value) is not None
                and len(node.args) == 1 and not node.keywords):
            self._eval(node.args[0])
            return self._eval(func.value)  # the network; MedStation moves it to the device itself
        if name in _PURE_CALLS and not node.keywords:
            args = [self._eval(a) for a in node.args]
            if name in ("list", "tuple") and args and not isinstance(args[0], (list, tuple, str)):
                raise self._refuse(f"{name}() of {type(args[0]).__name__}")
            try:
                return _PURE_CALLS[name](*args)
            except (TypeError, ValueError, OverflowError) as exc:
                raise ExpressionError(f"{self._where}: expression {self._text!r} failed ({exc})") from None
        raise self._refuse(f"a call of {name or ast.unparse(func)[:60]}")


def _too_big(left: Any, right: Any) -> bool:
    for seq, count in ((left, right), (right, left)):
        if isinstance(seq, (str, list, tuple)) and isinstance(count, int) and len(seq) * count > _MAX_SIZE:
            return True
    return False


def _describe(node: ast.AST) -> str:
    names = {"Lambda": "a lambda", "ListComp": "a comprehension", "GeneratorExp": "a generator",
             "DictComp": "a comprehension", "SetComp": "a comprehension", "NamedExpr": "an assignment",
             "Await": "await", "Yield": "yield", "JoinedStr": "an f-string", "Starred": "unpacking"}
    return names.get(type(node).__name__, f"a {type(node).__name__} expression")
