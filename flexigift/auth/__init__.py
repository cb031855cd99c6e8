"""Who is asking, and what they may do and see: API tokens and their roles, the
per-request principal, the scopes that narrow what a role sees, the screen
that takes out of a response what a role could not use, rate limits and CSRF.
"""
