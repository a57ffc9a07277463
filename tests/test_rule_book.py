"""A rule book is data of its set, checked when the set loads; the rules code names nothing of a set."""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path

import msgspec.structs
import pytest

from xlbudget.check import check_budget
from xlbudget.errors import DescriptionError
from xlbudget.layout import layout_for
from xlbudget.model import Budget, budget_from_document, load_example
from xlbudget.rules import Context, load_rules
from xlbudget.rules.sheet import sheet_rows
from xlbudget.spec import generic_spec
from xlbudget.tableset import load_tableset

ROOT = Path(__file__).resolve().parents[1]
XJ11 = ROOT / "templates" / "xj11"

RULE = '''
[[rule]]
id = "Y"
kind = "equal"
severity = "error"
left = "{left}"
right = "T5.total.basic"
zh = "y"
en = "y"
'''


@pytest.fixture(autouse=True)
def _fresh_sets():
    load_tableset.cache_clear()
    yield
    load_tableset.cache_clear()


def a_set(tmp_path: Path, rules: str | None = None, *, name: str = "copy", rules_line: bool = True) -> Path:
    folder = tmp_path / name
    shutil.copytree(XJ11, folder)
    meta = folder / "tableset.toml"
    text = meta.read_text(encoding="utf-8").replace('id = "xj11"', f'id = "{name}"')
    if not rules_line:
        text = text.replace('rules = "rules.toml"\n', "")
    meta.write_text(text, encoding="utf-8")
    if rules is not None:
        (folder / "rules.toml").write_text(rules, encoding="utf-8")
    return folder


def seed_in(folder: Path):
    spec, doc = load_example()
    spec = msgspec.structs.replace(spec, tableset=str(folder))
    return budget_from_document({**doc, "spec": spec.to_dict()}, spec)


@pytest.mark.parametrize("left, words", [
    ("T12.total.total", "表样 copy 没有表 T12"),
    ("T6.nosuchrow.total", "表6（T6）没有行 nosuchrow"),
    ("T6.total.nosuchcol", "表6（T6）的行 total 没有列 nosuchcol"),
    ("FA.30231.value", "没有按科目编码排列的行"),
    ("PP.budget_total.value", "按项目分表，应写作 PP_{project}"),
    ("T6.30231.nosuchcol", "没有列 nosuchcol"),
])
def test_a_reference_the_set_lacks_is_an_error_when_the_set_loads(tmp_path, left, words):
    folder = a_set(tmp_path, RULE.format(left=left))
    with pytest.raises(DescriptionError, match=re.escape(words)) as e:
        load_tableset(str(folder))
    assert "规则 Y" in str(e.value)


def test_placeholders_are_checked_for_every_word_of_a_list(tmp_path):
    rules = RULE.format(left="T4.in_{item}.amount").replace('right = "T5.total.basic"',
                                                             'right = "T4.in_gp.amount"\nforeach = "list:gp,nosuch"')
    with pytest.raises(DescriptionError, match="没有行 in_nosuch"):
        load_tableset(str(a_set(tmp_path, rules)))


def test_a_coded_row_a_department_does_not_use_reads_as_blank(tmp_path):
    folder = a_set(tmp_path, RULE.format(left="T6.39999.total").replace("equal", "at_most"))
    assert load_tableset(str(folder)).id == "copy"
    assert check_budget(seed_in(folder)) == []


def test_a_set_without_rules_is_a_finding_not_a_silent_pass(tmp_path):
    for folder in (a_set(tmp_path, rules_line=False, name="norules"), a_set(tmp_path, "# nothing yet\n", name="empty")):
        b = seed_in(folder)
        found = check_budget(b)
        assert [(f.rule, f.severity.value) for f in found] == [("RULES.none", "error")]
        assert folder.name in found[0].message("zh") and "未做任何勾稽校验" in found[0].message("zh")
        assert [r.rule for r in sheet_rows(b)] == ["RULES.none"]


def test_a_rule_book_the_set_names_but_lacks_is_an_error(tmp_path):
    folder = a_set(tmp_path)
    (folder / "rules.toml").unlink()
    with pytest.raises(DescriptionError, match="规则簿 rules.toml 不存在"):
        load_tableset(str(folder))


def test_named_conditions_are_data_of_the_book(tmp_path):
    book = (XJ11 / "rules.toml").read_text(encoding="utf-8")
    with pytest.raises(DescriptionError, match="未在 \\[conditions\\] 中定义"):
        load_tableset(str(a_set(tmp_path, book.replace("[conditions.administrative]", "[conditions.other]"),
                                name="undefined")))
    with pytest.raises(DescriptionError, match="none_of"):
        load_tableset(str(a_set(tmp_path, book.replace('none_of = ["?????50", "2101102"]', 'none_of = ["2[01]"]'),
                                name="badpattern")))
    # the seed uses 事业运行 项 (2014150) and 2101102: not administrative; with a condition on a code it does
    # not use, the precondition of X14.admin holds and the rule applies
    changed = a_set(tmp_path, book.replace('none_of = ["?????50", "2101102"]', 'none_of = ["2019999"]'),
                    name="changed")
    rules = {r.id: r for r in load_rules(load_tableset(str(changed)))}
    assert rules["X14.admin"].condition.holds(Context(seed_in(changed)))
    assert not {r.id: r for r in load_rules("xj11")}["X14.admin"].condition.holds(Context(seed_in(XJ11)))


def test_a_generic_template_counts_the_codes_entered_in_its_spare_rows():
    b = Budget(layout_for(generic_spec()), {"tables": {}})
    (admin,) = [r for r in sheet_rows(b) if r.rule == "X14.admin"]
    assert 'COUNTIF(' in admin.when and '"?????50"' in admin.when and '"2101102"' in admin.when
    assert admin.status == "ok"


# --- the code names no table, row or code of a set --------------------------------------------------------
CORE = ["xlbudget/rules", "xlbudget/tableset.py", "xlbudget/layout.py", "xlbudget/model.py", "xlbudget/expr.py",
        "xlbudget/formulas.py", "xlbudget/classification.py", "xlbudget/reader.py", "xlbudget/writer/template.py",
        "xlbudget/writer/excel.py"]
TABLE_ID = re.compile(r"^(T\d{1,2}|PD|PP|FA|LY)([._].*)?$")
CODE = re.compile(r"(?<!\d)[23]\d{4}(\d{2})?(?!\d)")


def _strings(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docs = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) \
                and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            docs.add(id(body[0].value))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
            yield node.lineno, node.value


def test_the_core_names_no_table_id_and_no_classification_code():
    files = [p for c in CORE for p in ((ROOT / c).glob("*.py") if (ROOT / c).is_dir() else [ROOT / c])]
    assert len(files) > 15
    found = [f"{p.relative_to(ROOT)}:{line}: {text!r}" for p in files for line, text in _strings(p)
             if TABLE_ID.match(text) or CODE.search(text) or text == "50"]
    assert found == []
