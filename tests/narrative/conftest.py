"""Budgets of the three example documents, built once per test run (the narrative tests only read them)."""

from __future__ import annotations

import copy

import pytest

from xlbudget.model import budget_from_document, example_dir, load_example
from xlbudget.narrative_check import check_narrative
from xlbudget.narrative_check.sources import lines_of_text

TEXTS = {"xj11": "disclosure-2025.txt", "sh-budget": "disclosure-2026.txt", "sh-final": "disclosure-2024.txt"}


@pytest.fixture(scope="session")
def examples():
    """set id -> (spec, document) of its example."""
    return {ts: load_example(ts) for ts in TEXTS}


@pytest.fixture(scope="session")
def budgets(examples):
    return {ts: budget_from_document(doc, spec) for ts, (spec, doc) in examples.items()}


@pytest.fixture(scope="session")
def published_text():
    return {ts: (example_dir(ts) / name).read_text(encoding="utf-8") for ts, name in TEXTS.items()}


@pytest.fixture
def budget_with(examples):
    """A budget of an example whose document is changed by ``edit(doc)`` (a deep copy)."""
    def make(ts, edit):
        spec, doc = examples[ts]
        doc = copy.deepcopy(doc)
        edit(doc)
        return budget_from_document(doc, spec)
    return make


@pytest.fixture
def run(budgets):
    """Findings of a text (one line per paragraph as given) against an example's budget."""
    def go(ts, text, budget=None, projects=False):
        return check_narrative(budget or budgets[ts], lines_of_text(text), projects=projects)
    return go
