"""The `nncheck` command as a user runs it: output lines, summary, exit statuses (bad input: test_bad_input.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import nncheck, nncheck_here

BAD = "from torch import nn\n\n\nclass Net(nn.Module):\n    def __call__(self, x):\n        return x\n"
BAD_LINE = "5:5: NNC001 [*] Net.__call__ bypasses forward hooks; rename it to forward"
GOOD = "from torch import nn\n\n\nclass Net(nn.Module):\n    def forward(self, x):\n        return x\n"


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def test_clean_tree_exits_0(tmp_cwd: Path) -> None:
    write(tmp_cwd / "good.py", GOOD)
    result = nncheck_here(cwd=tmp_cwd)
    assert (result.returncode, result.stdout) == (0, "")
    assert result.stderr == "No problems found (1 file checked).\n"


def test_findings_exit_1_with_summary(tmp_cwd: Path) -> None:
    write(tmp_cwd / "b.py", BAD)
    write(tmp_cwd / "a" / "x.py", BAD + "\n\nclass Other(nn.Module):\n    def __init__(self):\n        pass\n")
    write(tmp_cwd / "good.py", GOOD)
    result = nncheck_here(cwd=tmp_cwd)
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"a/x.py:{BAD_LINE}",
        "a/x.py:10:5: NNC002 [*] Other.__init__ never calls the base __init__; "
        "add super().__init__() as its first statement",
        f"b.py:{BAD_LINE}",
    ]
    assert result.stderr == "Found 3 problems in 2 files (3 files checked); 3 fixable with --fix.\n"


def test_output_is_sorted_and_identical_in_parallel(tmp_cwd: Path) -> None:
    for index in range(40):
        write(tmp_cwd / f"pkg{index % 3}" / f"m{index}.py", BAD if index % 2 else GOOD)
    serial = nncheck("--jobs", "1", cwd=tmp_cwd)
    parallel = nncheck("--jobs", "2", cwd=tmp_cwd)
    assert serial.returncode == parallel.returncode == 1
    assert serial.stdout == parallel.stdout
    lines = serial.stdout.splitlines()
    assert len(lines) == 20
    keys = [(line.split(":")[0], int(line.split(":")[1])) for line in lines]
    assert keys == sorted(keys)


def test_select_and_ignore_take_codes_and_prefixes(tmp_cwd: Path) -> None:
    write(tmp_cwd / "x.py", BAD + "\n\nclass Other(nn.Module):\n    def __init__(self):\n        pass\n")
    assert nncheck_here("--select", "NNC002", cwd=tmp_cwd).stdout.count("NNC") == 1
    assert nncheck_here("--ignore", "NNC001", cwd=tmp_cwd).stdout.count("NNC002") == 1
    assert "NNC001" not in nncheck_here("--ignore", "NNC001", cwd=tmp_cwd).stdout
    ignored = nncheck_here("--ignore", "NNC00", cwd=tmp_cwd)
    assert (ignored.returncode, ignored.stdout) == (0, "")
    last_wins = nncheck_here("--select", "NNC", "--ignore", "NNC00", "--select", "NNC001", cwd=tmp_cwd)
    assert last_wins.stdout.count("NNC") == 1


def test_unknown_code_is_a_usage_error(tmp_cwd: Path) -> None:
    result = nncheck_here("--select", "E501", cwd=tmp_cwd)
    assert result.returncode == 2
    assert "unknown code or prefix 'E501'" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_missing_path_is_a_usage_error_with_no_summary(tmp_cwd: Path) -> None:
    write(tmp_cwd / "b.py", BAD)
    result = nncheck_here("nope.py", "b.py", "gone/", cwd=tmp_cwd)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == (
        "nncheck: error: no such file or folder: nope.py\nnncheck: error: no such file or folder: gone/\n"
    )


def test_unsafe_fixes_without_fix_or_diff_is_a_usage_error(tmp_cwd: Path) -> None:
    write(tmp_cwd / "b.py", BAD)
    result = nncheck_here("--unsafe-fixes", "b.py", cwd=tmp_cwd)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines()[-1] == "nncheck: error: --unsafe-fixes needs --fix or --diff"


def test_diff_wins_over_fix_and_writes_nothing(tmp_cwd: Path) -> None:
    target = write(tmp_cwd / "b.py", BAD)
    result = nncheck_here("--fix", "--diff", "b.py", cwd=tmp_cwd)
    assert target.read_text() == BAD
    assert result.returncode == 1
    assert result.stdout.startswith("--- a/b.py\n+++ b/b.py\n")
    assert "+    def forward(self, x):\n" in result.stdout
    assert result.stderr == "Would fix 1 problem in 1 file (1 file checked).\n"


def test_noqa_is_honoured_by_the_command(tmp_cwd: Path) -> None:
    write(tmp_cwd / "x.py", BAD.replace("def __call__(self, x):", "def __call__(self, x):  # noqa: NNC001"))
    write(tmp_cwd / "y.py", BAD.replace("def __call__(self, x):", "def __call__(self, x):  # NOQA:NNC002"))
    result = nncheck_here(cwd=tmp_cwd)
    assert result.stdout == f"y.py:{BAD_LINE}\n"


def test_stdin(tmp_cwd: Path) -> None:
    result = nncheck("-", stdin=BAD, cwd=tmp_cwd)
    assert (result.returncode, result.stdout) == (1, f"-:{BAD_LINE}\n")
    named = nncheck("-", "--stdin-filename", "model.py", stdin=BAD, cwd=tmp_cwd)
    assert named.stdout == f"model.py:{BAD_LINE}\n"
    empty = nncheck("-", stdin="", cwd=tmp_cwd)
    assert (empty.returncode, empty.stdout) == (0, "")


def test_walk_skips_vendored_and_generated_folders(tmp_cwd: Path) -> None:
    for folder in (".git", "__pycache__", "build", "dist", "node_modules", ".venv", "venv", "pkg.egg-info", "skipme"):
        write(tmp_cwd / folder / "x.py", BAD)
    write(tmp_cwd / "env" / "pyvenv.cfg", "home = /usr\n")
    write(tmp_cwd / "env" / "lib" / "x.py", BAD)
    write(tmp_cwd / "src" / "skipme.py", BAD)
    write(tmp_cwd / "src" / "notes.txt", BAD)
    write(tmp_cwd / "src" / "model.py", BAD)
    result = nncheck_here("--exclude", "skipme,skipme.py", cwd=tmp_cwd)
    assert result.stdout == f"src/model.py:{BAD_LINE}\n"
    # A file named on the command line is checked even inside a skipped folder.
    assert nncheck_here("build/x.py", cwd=tmp_cwd).stdout == f"build/x.py:{BAD_LINE}\n"


def test_version_and_help() -> None:
    from nncheck import __version__

    assert nncheck("--version").stdout.strip() == f"nncheck {__version__}"
    assert "Exit status" in nncheck("--help").stdout
    assert nncheck("--jobs", "0").returncode == 2


def test_rule_prints_the_documentation_by_code_or_name() -> None:
    from nncheck.engine.rule_set import all_rules

    for rule in all_rules():
        by_code, by_name = nncheck_here("rule", rule.code.lower()), nncheck_here("rule", rule.name)
        assert by_code.returncode == by_name.returncode == 0
        assert by_code.stdout == by_name.stdout
        assert by_code.stdout.startswith(f"{rule.code} ({rule.name})\n\n")
        assert "**Why is this a bug.**" in by_code.stdout
    unknown = nncheck("rule", "call-overriden")
    assert (unknown.returncode, unknown.stdout) == (2, "")
    assert unknown.stderr.startswith("nncheck rule: error: unknown rule 'call-overriden'; the rules are NNC001 (")
    assert "None" not in unknown.stderr


def test_rule_without_an_argument_lists_the_rules_and_all_prints_every_page() -> None:
    from nncheck.engine.rule_set import all_rules

    listing = nncheck("rule")
    assert listing.returncode == 0
    lines = listing.stdout.splitlines()
    assert [line.split()[:2] for line in lines] == [[rule.code, rule.name] for rule in all_rules()] + [
        ["NNC900", "unparsable-file"], ["NNC901", "internal-error"], ["NNC902", "unsupported-file"]]
    assert lines[6].endswith("is called directly. (off by default)")
    assert sum("off by default" in line for line in lines) == 1
    assert lines[-3:] == [
        "NNC900  unparsable-file              The file could not be read, decoded or parsed, or was not checked "
        "in time. (always reported)",
        "NNC901  internal-error               An internal error in nncheck on this file. (always reported)",
        "NNC902  unsupported-file             Valid Python that nncheck cannot check. (always reported)",
    ]
    every = nncheck_here("rule", "--all")
    assert every.returncode == 0
    assert every.stdout.count("**Why is this a bug.**") == len(all_rules())
    assert every.stdout.count("**What it means.**") == 3
    assert every.stdout.endswith(nncheck_here("rule", "NNC902").stdout)
    assert nncheck_here("rule", "NNC001", "--all").returncode == 2


@pytest.mark.parametrize(("code", "name", "says"), [
    ("NNC900", "unparsable-file", "Mend the syntax error"),
    ("NNC901", "internal-error", "Please file a bug"),
    ("NNC902", "unsupported-file", "libcst cannot parse it"),
])
def test_rule_documents_the_codes_about_a_file_itself(code: str, name: str, says: str) -> None:
    by_code, by_name = nncheck_here("rule", code.lower()), nncheck_here("rule", name)
    assert by_code.returncode == by_name.returncode == 0, by_code.stderr
    assert by_code.stdout == by_name.stdout
    assert by_code.stdout.startswith(f"{code} ({name})\n\n")
    for section in ("**What it means.**", "**What to do.**", "**Always reported.**", says):
        assert section in by_code.stdout


def test_a_file_named_twice_is_checked_once(tmp_cwd: Path) -> None:
    write(tmp_cwd / "pkg" / "m.py", BAD)
    result = nncheck_here("pkg/m.py", "./pkg/m.py", "pkg", cwd=tmp_cwd)
    assert result.stdout == f"pkg/m.py:{BAD_LINE}\n"
    assert result.stderr == "Found 1 problem in 1 file (1 file checked); 1 fixable with --fix.\n"


def test_a_run_that_finds_no_file_warns_and_exits_0(tmp_cwd: Path) -> None:
    (tmp_cwd / "empty").mkdir()
    write(tmp_cwd / "skipped" / "build" / "x.py", BAD)  # only files in a skipped folder
    write(tmp_cwd / "skipped" / "notes.txt", BAD)
    for folder in ("empty/", "skipped"):
        result = nncheck_here(folder, cwd=tmp_cwd)
        assert (result.returncode, result.stdout) == (0, ""), folder
        assert result.stderr == (f"nncheck: warning: no Python files or notebooks found under {folder}\n"
                                 "No problems found (0 files checked).\n")
    both = nncheck_here("--output-format", "json", "empty", "skipped", cwd=tmp_cwd)
    assert (both.returncode, both.stdout) == (0, "[]\n")
    assert both.stderr == "nncheck: warning: no Python files or notebooks found under empty, skipped\n"
    # One file anywhere is enough: no warning.
    write(tmp_cwd / "empty" / "good.py", GOOD)
    assert nncheck_here("empty", "skipped", cwd=tmp_cwd).stderr == "No problems found (1 file checked).\n"
    assert nncheck_here("-", stdin=GOOD, cwd=tmp_cwd / "skipped").stderr == "No problems found (1 file checked).\n"


DROPOUT = ("import torch.nn.functional as F\nfrom torch import nn\n\n\nclass Net(nn.Module):\n"
           "    def forward(self, x):\n        a = F.dropout(x)\n        return F.dropout(a)\n")


def test_fixes_held_back_for_want_of_unsafe_fixes_are_counted(tmp_cwd: Path) -> None:
    write(tmp_cwd / "x.py", DROPOUT)
    diff = nncheck_here("--diff", "x.py", cwd=tmp_cwd)
    assert (diff.returncode, diff.stdout) == (0, "")
    assert diff.stderr == "Nothing to fix (1 file checked); 2 fixable with --unsafe-fixes.\n"
    check = nncheck_here("x.py", cwd=tmp_cwd)
    assert check.returncode == 1
    assert check.stderr == "Found 2 problems in 1 file (1 file checked); 2 fixable with --unsafe-fixes.\n"
    fix = nncheck_here("--fix", "x.py", cwd=tmp_cwd)
    assert fix.stderr == ("Fixed 0 problems in 0 files; 2 problems in 1 file remain (1 file checked); "
                          "2 fixable with --unsafe-fixes.\n")
    write(tmp_cwd / "y.py", BAD)
    both = nncheck_here("--diff", "x.py", "y.py", cwd=tmp_cwd)
    assert both.returncode == 1
    assert both.stderr == "Would fix 1 problem in 1 file (2 files checked); 2 more fixable with --unsafe-fixes.\n"
    assert nncheck_here("x.py", "y.py", cwd=tmp_cwd).stderr == (
        "Found 3 problems in 2 files (2 files checked); 1 fixable with --fix, 2 more with --unsafe-fixes.\n")
    unsafe = nncheck_here("--diff", "--unsafe-fixes", "x.py", cwd=tmp_cwd)
    assert unsafe.returncode == 1
    assert unsafe.stderr == "Would fix 2 problems in 1 file (1 file checked).\n"


def test_stdin_filename_without_stdin_is_a_usage_error(tmp_cwd: Path) -> None:
    write(tmp_cwd / "x.py", GOOD)
    result = nncheck("--stdin-filename", "model.py", stdin=BAD, cwd=tmp_cwd)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == ("nncheck: error: --stdin-filename names the source read from stdin: add '-' to the "
                             "paths (nncheck - --stdin-filename NAME)\n")
    with_path = nncheck_here("x.py", "--stdin-filename", "model.py", stdin=BAD, cwd=tmp_cwd)
    assert (with_path.returncode, with_path.stdout) == (2, "")


STATS_TREE = {
    "a.py": BAD,
    "b.py": BAD + "\n\nclass Other(nn.Module):\n    def __init__(self):\n        pass\n",
    "c.py": BAD.replace("Net", "Net2"),
    "d.py": "from torch import nn\n\n\nclass D(nn.Module):\n    def __init__(self):\n        pass\n",
}


def test_statistics_count_each_code_most_frequent_first(tmp_cwd: Path) -> None:
    for name, content in STATS_TREE.items():
        write(tmp_cwd / name, content)
    result = nncheck_here("--statistics", cwd=tmp_cwd)
    assert result.returncode == 1
    assert result.stdout.splitlines() == ["3  NNC001  call-overridden", "2  NNC002  base-init-not-called"]
    assert result.stderr == "Found 5 problems in 4 files (4 files checked); 5 fixable with --fix.\n"
    concise = nncheck_here("--statistics", "--output-format", "concise", "--exit-zero", cwd=tmp_cwd)
    assert (concise.returncode, concise.stdout, concise.stderr) == (0, result.stdout, "")


def test_statistics_align_counts_and_name_the_codes_about_files(tmp_cwd: Path) -> None:
    for index in range(10):
        write(tmp_cwd / f"m{index}.py", BAD)
    write(tmp_cwd / "broken.py", "def f(:\n")
    result = nncheck_here("--statistics", cwd=tmp_cwd)
    assert result.returncode == 2
    assert result.stdout.splitlines() == ["10  NNC001  call-overridden", " 1  NNC900  unparsable-file"]


def test_statistics_as_json(tmp_cwd: Path) -> None:
    for name, content in STATS_TREE.items():
        write(tmp_cwd / name, content)
    result = nncheck_here("--statistics", "--output-format", "json", cwd=tmp_cwd)
    assert (result.returncode, result.stderr) == (1, "")
    assert json.loads(result.stdout) == [
        {"code": "NNC001", "name": "call-overridden", "count": 3, "fixable": 3},
        {"code": "NNC002", "name": "base-init-not-called", "count": 2, "fixable": 2},
    ]
    assert nncheck_here("--statistics", "--output-format", "json", "--select", "NNC003", cwd=tmp_cwd).stdout == "[]\n"


def test_statistics_after_fix_count_what_is_left(tmp_cwd: Path) -> None:
    write(tmp_cwd / "a.py", BAD + "\n\nclass Net(nn.Module):\n    pass\n")
    result = nncheck_here("--statistics", "--fix", cwd=tmp_cwd)
    assert (result.returncode, result.stdout) == (1, "1  NNC003  module-class-redefined\n")


@pytest.mark.parametrize(("args", "message"), [
    (["--statistics", "--diff"], "--statistics counts findings; --diff does not report them"),
    (["--statistics", "--add-noqa"], "--statistics counts findings; --add-noqa does not report them"),
    (["--statistics", "--output-format", "sarif"],
     "--statistics prints a table (text, concise) or JSON, not --output-format sarif"),
])
def test_statistics_usage_errors(tmp_cwd: Path, args: list[str], message: str) -> None:
    write(tmp_cwd / "a.py", BAD)
    result = nncheck_here(*args, cwd=tmp_cwd)
    assert (result.returncode, result.stdout, result.stderr) == (2, "", f"nncheck: error: {message}\n")
    assert (tmp_cwd / "a.py").read_text() == BAD


def test_exit_zero_reports_but_exits_0_except_for_usage_errors(tmp_cwd: Path) -> None:
    write(tmp_cwd / "a.py", BAD)
    result = nncheck_here("--exit-zero", cwd=tmp_cwd)
    assert (result.returncode, result.stdout) == (0, f"a.py:{BAD_LINE}\n")
    assert result.stderr == "Found 1 problem in 1 file (1 file checked); 1 fixable with --fix.\n"
    assert nncheck_here("--exit-zero", "--diff", cwd=tmp_cwd).returncode == 0
    github = nncheck_here("--exit-zero", "--output-format", "github", cwd=tmp_cwd)
    assert github.returncode == 0 and github.stdout.startswith("::warning file=a.py,line=5,")
    write(tmp_cwd / "broken.py", "def f(:\n")
    assert nncheck_here("--exit-zero", cwd=tmp_cwd).returncode == 0  # as flake8's and ruff's syntax errors
    assert nncheck_here("--exit-zero", "nope.py", cwd=tmp_cwd).returncode == 2
    assert nncheck_here("--exit-zero", "--select", "E501", cwd=tmp_cwd).returncode == 2
