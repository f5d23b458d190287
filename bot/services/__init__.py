"""Behaviour, testable without Telegram: every function takes its database session as the keyword `session`."""
