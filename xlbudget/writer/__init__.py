"""xlbudget.writer."""
