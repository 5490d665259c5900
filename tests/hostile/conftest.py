"""Fixtures the hostile tests share: a real conflict between two phones, with a photo."""

from tests.server.test_review_pages import conflict, phones  # noqa: F401
