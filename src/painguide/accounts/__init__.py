"""Accounts: password hashing, sign-in throttling, sessions, personal API tokens and their use cases."""

__all__: list[str] = []
