"""The built-in demo community: a seeded Mastodon-compatible server with live traffic."""
