"""The `nncheck` command as a user runs it: output lines, summary, exit statuses (bad input: test_bad_input.py)."""

from __future__ import annotations

from pathlib import Path

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
    assert [line.split()[:2] for line in lines] == [[rule.code, rule.name] for rule in all_rules()]
    assert lines[6].endswith("is called directly. (off by default)")
    assert sum("off by default" in line for line in lines) == 1
    every = nncheck_here("rule", "--all")
    assert every.returncode == 0
    assert every.stdout.count("**Why is this a bug.**") == len(all_rules())
    assert nncheck_here("rule", "NNC001", "--all").returncode == 2


def test_a_file_named_twice_is_checked_once(tmp_cwd: Path) -> None:
    write(tmp_cwd / "pkg" / "m.py", BAD)
    result = nncheck_here("pkg/m.py", "./pkg/m.py", "pkg", cwd=tmp_cwd)
    assert result.stdout == f"pkg/m.py:{BAD_LINE}\n"
    assert result.stderr == "Found 1 problem in 1 file (1 file checked); 1 fixable with --fix.\n"
