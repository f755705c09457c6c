"""Headless subcommands of the `cminbox` command (scriptable; also what tests and cron use)."""
