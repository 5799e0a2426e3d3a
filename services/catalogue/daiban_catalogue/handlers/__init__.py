"""The catalogue's write side: command handlers that apply the domain's rules and commit.

`items` holds one handler per command of `commands`; `rows` stores items, drafts and versions.
"""
