"""Pytest configuration. Shared helpers live in modules of their own (``psm_line``,
``machines``): tests import nothing from here."""
