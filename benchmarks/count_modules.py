"""How many classes of a source tree nncheck recognises as nn.Modules, with and without following
imports into other files. Usage: python benchmarks/count_modules.py PATH..."""

from __future__ import annotations

import sys

from nncheck.discovery import find_python_files
from nncheck.model import FileModel
from nncheck.parsing import parse
from nncheck.project import Project
from nncheck.source import SourceError, decode, read_bytes


def main(paths: list[str]) -> None:
    project = Project()
    classes = per_file = cross_file = files = 0
    for path in find_python_files(paths):
        try:
            module = parse(decode(read_bytes(path)))
        except (SourceError, RecursionError):
            continue
        files += 1
        alone = FileModel(module)
        linked = project.model_for(module, path)
        classes += len(alone.classes)
        per_file += len(alone.module_classes())
        cross_file += len(linked.module_classes())
    print(f"{files} files, {classes} classes: {per_file} nn.Modules per file, {cross_file} across files")


if __name__ == "__main__":
    main(sys.argv[1:])
