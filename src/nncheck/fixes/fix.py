"""What a fix is: edits to nodes of the tree, each a function from the node (as already rewritten by
edits inside it) to its replacement. libcst keeps every byte it is not asked to change."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import libcst as cst

from nncheck.findings import FixSafety

Edit = Callable[[Any], cst.CSTNode]


@dataclass(frozen=True)
class Fix:
    safe: bool
    title: str  # what it does, as an editor lists it: "Rename __call__ to forward"
    edits: tuple[tuple[cst.CSTNode, Edit], ...]

    @property
    def safety(self) -> FixSafety:
        return FixSafety.SAFE if self.safe else FixSafety.UNSAFE


class _ApplyEdits(cst.CSTTransformer):
    def __init__(self, edits: dict[cst.CSTNode, Edit]) -> None:
        self._edits = edits

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode) -> Any:
        edit = self._edits.get(original_node)
        return edit(updated_node) if edit is not None else updated_node


def apply_fixes(module: cst.Module, fixes: Iterable[Fix]) -> tuple[cst.Module, list[Fix]]:
    """Apply the fixes whose edits touch distinct nodes; return the new tree and the fixes applied."""
    edits: dict[cst.CSTNode, Edit] = {}
    applied: list[Fix] = []
    for fix in fixes:
        if any(node in edits for node, _ in fix.edits):
            continue  # another fix rewrites the same node: left for the next round
        edits.update(fix.edits)
        applied.append(fix)
    if not applied:
        return module, []
    return module.visit(_ApplyEdits(edits)), applied
