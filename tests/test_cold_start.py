"""What one ``xlbudget check FILE`` loads in a fresh process: the work of a set checked once is not done
again, and a workbook without a narrative does not load the narrative checker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from xlbudget import tableset
from xlbudget.narrative_check import set_narrative_sheets
from xlbudget.tableset import installed_tableset, installed_tablesets, load_tableset, set_facts

STABLE = Path(__file__).parent / "data" / "stable"

# Run the command line as the program does and print, at exit, the modules it loaded and whether the garbage
# collector was on. Modules are counted from the probe's start: a .pth file of the interpreter's site-packages
# may load some before any xlbudget code runs (certifi's, for one, loads importlib.resources and tempfile).
PROBE = ("import atexit, gc, json, sys\n"
         "before = set(sys.modules)\n"
         "loaded = lambda names: sorted(m for m in set(sys.modules) - before if names(m))\n"
         "atexit.register(lambda: print(json.dumps({'gc': gc.isenabled(),"
         " 'modules': loaded(lambda m: m.startswith(('xlbudget', 'tomllib'))),"
         " 'stdlib': loaded(lambda m: m in ('importlib.resources', 'tempfile', 'difflib', 'pickle', 'html',"
         " 'dataclasses'))}),"
         " file=sys.stderr))\n"
         "from xlbudget.cli import main\n"
         "sys.argv = ['xlbudget'] + sys.argv[1:]\n"
         "main()\n")


def _run(args: list[str], home: Path) -> dict:
    env = {**os.environ, "XLBUDGET_HOME": str(home), "XLBUDGET_NO_ISOLATION": "1"}
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stderr.strip().splitlines()[-1])


def _modules(args: list[str], home: Path) -> list[str]:
    return _run(args, home)["modules"]


def test_a_second_check_parses_no_toml_and_loads_no_narrative_checker(tmp_path):
    args = ["check", str(STABLE / "small-1.xlsx"), "--format", "json", "-o", str(tmp_path / "r.json")]
    first = _modules(args, tmp_path / "home")
    assert "tomllib" in first                       # a fresh home: the set's files are parsed and the set checked
    second = _modules(args, tmp_path / "home")
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert report["files"][0]["readable"] and report["summary"]["files"] == 1
    assert "tomllib" not in second
    for heavy in ("xlbudget.narrative_check.vocabulary", "xlbudget.narrative_check.statements",
                  "xlbudget.narrative_check.sources", "xlbudget.setdata", "xlbudget.narrative", "xlbudget.cache",
                  "xlbudget.build", "xlbudget.writer"):
        assert heavy not in second, heavy
    assert "xlbudget.narrative_check" in second     # its light part: is there a narrative file or sheet?


def test_a_check_printed_to_the_terminal_loads_no_module_it_does_not_use(tmp_path):
    # importlib.resources (5 ms), tempfile (with random), difflib, pickle and html: loaded where they serve (a
    # file written, a spec with a mistake, an isolated child, an entity in the XML), not at every start; and
    # no dataclass on the way (each compiles its generated methods at import, about 1 ms a class: the value
    # classes are msgspec Structs)
    args = ["check", str(STABLE / "small-1.xlsx")]
    _run(args, tmp_path / "home")
    assert _run(args, tmp_path / "home")["stdlib"] == []


def test_the_narrative_sheets_recorded_when_a_set_was_checked_are_the_sets():
    for tid in installed_tablesets():
        ts = installed_tableset(tid)
        assert set_facts(ts)["narrative_sheets"] == list(set_narrative_sheets(ts))
        assert set_facts(ts)["id"] == tid


def test_a_broken_stamp_means_the_set_is_checked_again(monkeypatch):
    import xlbudget.setdata as setdata

    ts = load_tableset("xj11")
    stamp = tableset._stamp(ts)
    assert stamp is not None
    stamp.parent.mkdir(parents=True, exist_ok=True)
    checked: list[str] = []
    real = setdata.validate_set
    monkeypatch.setattr(setdata, "validate_set", lambda s: checked.append(s.id) or real(s))
    for broken in ("xj11 2025.1\n", "{", '{"id": "another"}'):
        stamp.write_text(broken, encoding="utf-8")
        monkeypatch.setattr(tableset, "_FACTS", {})
        checked.clear()
        tableset._validate(ts)
        assert checked == ["xj11"]
        assert json.loads(stamp.read_text(encoding="utf-8"))["narrative_sheets"] == list(set_narrative_sheets(ts))
        assert set_facts(ts)["narrative_sheets"] == list(set_narrative_sheets(ts))
    checked.clear()
    tableset._validate(ts)      # a good stamp: not checked again
    assert checked == []


def test_clicks_modules_imported_on_first_use_are_translated_when_imported():
    code = ("import sys, xlbudget.cli\n"
            "from xlbudget.commands import base\n"
            "print('click._termui_impl' in sys.modules, 'click.shell_completion' in sys.modules)\n"
            "import click._termui_impl as t, click.shell_completion as s\n"
            "print(t._ is base._gettext, s._ is base._gettext, t._('Aborted!'))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "XLBUDGET_LANG": "zh"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["False False", "True True 已中止！"]


def test_one_file_from_the_command_line_ends_without_collecting_a_batch_collects(tmp_path):
    one = ["check", str(STABLE / "small-1.xlsx"), "--format", "json", "-o", str(tmp_path / "one.json")]
    two = ["check", str(STABLE / "small-1.xlsx"), str(STABLE / "small-2.xlsx"), "--format", "json",
           "-o", str(tmp_path / "two.json")]
    assert _run(one, tmp_path / "home")["gc"] is False
    assert _run(two, tmp_path / "home")["gc"] is True
    assert json.loads((tmp_path / "one.json").read_text(encoding="utf-8"))["summary"]["files"] == 1


def test_the_command_called_in_a_process_that_goes_on_leaves_the_collector_on(tmp_path):
    import gc

    from click.testing import CliRunner

    from xlbudget.cli import cli

    result = CliRunner().invoke(cli, ["check", str(STABLE / "small-1.xlsx"), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert gc.isenabled()


def _ended(code: str) -> subprocess.CompletedProcess:
    prelude = "import atexit, sys, threading, time\nfrom xlbudget.commands.base import end_process\n"
    return subprocess.run([sys.executable, "-c", prelude + code], capture_output=True, text=True, timeout=60)


def test_the_program_ends_with_its_exit_handlers_run_and_its_output_flushed():
    done = _ended("atexit.register(lambda: print('handler'))\nsys.stdout.write('x' * 200000)\nend_process(3)\n")
    assert done.returncode == 3
    assert done.stdout == "x" * 200000 + "handler\n"
    assert _ended("end_process(None)").returncode == 0
    message = _ended("end_process('停止：原因')")
    assert message.returncode == 1 and message.stderr == "停止：原因\n"


def test_the_program_waits_for_a_thread_still_running_as_the_interpreter_does():
    done = _ended("t = threading.Thread(target=lambda: (time.sleep(0.3), print('thread done')))\nt.start()\n"
                  "end_process(4)\n")
    assert done.returncode == 4
    assert done.stdout == "thread done\n"


def test_the_command_line_exits_with_the_commands_code(tmp_path):
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"not a workbook")
    run = [sys.executable, "-m", "xlbudget"]
    assert subprocess.run(run + ["--version"], capture_output=True, timeout=60).returncode == 0
    done = subprocess.run(run + ["check", str(bad)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "无法读取" in done.stdout     # a submission unreadable
    assert subprocess.run(run + ["check", str(tmp_path / "missing.xlsx")], capture_output=True,
                          timeout=60).returncode == 2                # bad usage
