"""xlbudget.commands."""
