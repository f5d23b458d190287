"""Rangkul: a Telegram bot for Indonesian election organizers to reach youth and community figures."""

import os

# Opt in now to python-telegram-bot's coming switch of durations (RetryAfter.retry_after …) to timedelta,
# which the code already handles, instead of a deprecation warning on every 429.
os.environ.setdefault("PTB_TIMEDELTA", "true")
