"""Write docs/rules/NNCxxx.md from the rules' docstrings (and the documentation of NNC900-NNC902). Run
after changing a rule's documentation: python scripts/generate_rule_docs.py"""

from __future__ import annotations

from pathlib import Path

from nncheck.frontends.docs import pages

DOCS = Path(__file__).resolve().parent.parent / "docs" / "rules"


def main() -> None:
    DOCS.mkdir(parents=True, exist_ok=True)
    written = pages()
    for code, page in written.items():
        (DOCS / f"{code}.md").write_text(page, encoding="utf-8")
    print(f"wrote {len(written)} pages to {DOCS}")


if __name__ == "__main__":
    main()
