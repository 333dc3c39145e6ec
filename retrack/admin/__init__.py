"""Pieces the back office's pages share: pages.py (big tables' lists, read-only pages),
filters.py (typed list filters: country, creation date) and tokens.py (the admin of API
tokens, stores' and partners' alike)."""
