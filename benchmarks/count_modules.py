"""How many classes of a source tree nncheck recognises as nn.Modules, with and without following
imports into other files. Usage: python benchmarks/count_modules.py PATH..."""

from __future__ import annotations

import sys

from nncheck.engine.parsing import python_parse
from nncheck.files.discovery import find_python_files
from nncheck.files.source import SourceError, decode, read_bytes
from nncheck.model.build import build
from nncheck.model.project import Project


def main(paths: list[str]) -> None:
    project = Project()
    classes = per_file = cross_file = files = 0
    for path in find_python_files(paths):
        try:
            tree = python_parse(decode(read_bytes(path)))
        except SourceError:
            continue
        files += 1
        alone = build(tree, keep_nodes=False)[0]
        linked = build(tree, resolver=project.resolver_for(path), keep_nodes=False)[0]
        classes += len(alone.classes)
        per_file += sum(alone.is_module_class(cls) for cls in alone.classes)
        cross_file += sum(linked.is_module_class(cls) for cls in linked.classes)
    print(f"{files} files, {classes} classes: {per_file} nn.Modules per file, {cross_file} across files")


if __name__ == "__main__":
    main(sys.argv[1:])
