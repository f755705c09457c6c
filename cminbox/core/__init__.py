"""The product's brain: models, store, triage, config, secrets, poller, outbox.

Nothing in this package imports Textual, Rich, the TUI, the CLI or a channel module;
an import-linter contract and tests/test_layering.py enforce it.
"""
