"""xlbudget.io."""
