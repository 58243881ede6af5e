"""Reporting, facing behave (like support/harness/world.py): what the Allure report is given."""
