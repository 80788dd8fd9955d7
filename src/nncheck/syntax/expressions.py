"""Questions about expressions that the knowledge of values asks (model/knowledge.py), answered for
either tree, as syntax/nodes.py answers its own."""

from __future__ import annotations

import ast

import libcst as cst

from nncheck.syntax.nodes import Expr, Node, is_string


def binary(node: Node) -> tuple[Expr, Expr] | None:
    """(left, right) of `a + b`, `a @ b` and the other binary operators."""
    if isinstance(node, ast.BinOp):
        return node.left, node.right
    if not isinstance(node, ast.AST) and isinstance(node, cst.BinaryOperation):
        return node.left, node.right
    return None


def string_index(node: Node) -> bool:
    """`batch["x"]`: a mapping's key, not a tensor's index."""
    if isinstance(node, ast.Subscript):
        return isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str)
    if isinstance(node, cst.Subscript):
        return any(isinstance(getattr(e.slice, "value", None), (cst.SimpleString, cst.ConcatenatedString))
                   for e in node.slice)
    return False


def constant_index(node: Node) -> int | None:
    if isinstance(node, ast.Subscript):
        index = node.slice
        negative = isinstance(index, ast.UnaryOp) and isinstance(index.op, ast.USub)
        if negative and isinstance(index, ast.UnaryOp) and isinstance(index.operand, ast.Constant):
            value = index.operand.value
            return -value if isinstance(value, int) and not isinstance(value, bool) else None
        if isinstance(index, ast.Constant) and isinstance(index.value, int) and not isinstance(index.value, bool):
            return index.value
        return None
    if isinstance(node, cst.Subscript) and len(node.slice) == 1:
        inner = node.slice[0].slice
        if isinstance(inner, cst.Index):
            number = inner.value
            sign = 1
            if isinstance(number, cst.UnaryOperation) and isinstance(number.operator, cst.Minus):
                sign, number = -1, number.expression
            if isinstance(number, cst.Integer):
                return sign * int(number.value, 0)
    return None


def is_slice(node: Node) -> bool:
    if isinstance(node, ast.Subscript):
        return isinstance(node.slice, ast.Slice)
    if isinstance(node, cst.Subscript):
        return any(isinstance(e.slice, cst.Slice) for e in node.slice)
    return False


def matmul(node: Node) -> bool:
    """`a @ b`: only arrays (torch's, numpy's) multiply so."""
    if isinstance(node, ast.BinOp):
        return isinstance(node.op, ast.MatMult)
    return isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.MatrixMultiply)


def generic(annotation: Node) -> tuple[Expr, list[Expr]] | None:
    """(`List`, [`nn.Module`]) for `List[nn.Module]`, in either tree."""
    if isinstance(annotation, ast.Subscript):
        inner = annotation.slice
        return annotation.value, list(inner.elts) if isinstance(inner, ast.Tuple) else [inner]
    if isinstance(annotation, cst.Subscript):
        arguments: list[Expr] = [e.slice.value for e in annotation.slice if isinstance(e.slice, cst.Index)]
        return (annotation.value, arguments) if len(arguments) == len(annotation.slice) else None
    return None


def is_ellipsis(node: Node) -> bool:
    return (isinstance(node, ast.Constant) and node.value is Ellipsis) or isinstance(node, cst.Ellipsis)


def numeric_arguments(positional: list[Expr]) -> bool:
    """`view(-1, 4)`, `view(b, t)`: some argument, and none a string (`graph.view("file")`)."""
    return bool(positional) and not any(is_string(value) for value in positional)
