"""xlbudget: Excel-native tooling for 部门预算公开 (departmental budget disclosure) workbooks."""

__version__ = "0.1.0"
