"""Reporting, facing behave (like support/world.py): what the Allure report is given."""
