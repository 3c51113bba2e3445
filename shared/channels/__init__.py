"""Payment channels (seed 003): the agent's rules, a party's node, its peer router.

See docs/channels.md.
"""
