"""Write docs/rules/NNCxxx.md from the rules' docstrings. Run after changing a rule's documentation:
python scripts/generate_rule_docs.py"""

from __future__ import annotations

from pathlib import Path

from nncheck.frontends.docs import rule_page
from nncheck.engine.rule_set import all_rules

DOCS = Path(__file__).resolve().parent.parent / "docs" / "rules"


def main() -> None:
    DOCS.mkdir(parents=True, exist_ok=True)
    for rule in all_rules():
        (DOCS / f"{rule.code}.md").write_text(rule_page(rule), encoding="utf-8")
    print(f"wrote {len(all_rules())} pages to {DOCS}")


if __name__ == "__main__":
    main()
