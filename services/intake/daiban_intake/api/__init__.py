"""HTTP routes: translate requests to commands and queries, answers to responses. No rules here."""
