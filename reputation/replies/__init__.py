"""The brand's own answers: owned accounts, customer threads, canned replies, repeated requests."""
