"""Settings of the gunicorn workers the needs benchmark starts: the product's settings with the support rate limit
lifted (the benchmark sends every request from 127.0.0.1) and debug off. Everything else comes from the
environment the benchmark passes, as in production."""

from huoban.settings import *  # noqa: F403

DEBUG = False
HUOBAN_NEEDS_SUPPORT_RATE = "1000000/m"
