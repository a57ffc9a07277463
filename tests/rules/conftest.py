"""Fixtures of the rule tests: the seed department and a clean variant (helpers in rulecase.py).

Every rule has at least one test marked ``@pytest.mark.rule("ID")`` that takes the clean budget, breaks
exactly the relation of rule ID and asserts the finding with its cells (see test_meta.py).
"""

from __future__ import annotations

import pytest

from rulecase import Case, clean_document
from xlbudget.model import load_example


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "rule(id, tableset=\"xj11\"): a mutation test of the rule with this id of that table set (see test_meta.py)")


@pytest.fixture
def clean() -> Case:
    return Case(*clean_document())


@pytest.fixture
def seed() -> Case:
    return Case(*load_example())
