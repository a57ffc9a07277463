"""Project texts: a project's 资金分配 against its 年度预算总额 and against the cost indicators of its 绩效目标.
(filled in below)"""

from __future__ import annotations


def check_projects(figures, vocab):
    return []
