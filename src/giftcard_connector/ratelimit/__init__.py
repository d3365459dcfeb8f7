"""Guessing protection for /balance and /redeem (contract section 10): rate limits per session, per
client address and per card, shared across copies through Redis."""
