"""xlbudget.rules."""
