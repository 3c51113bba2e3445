"""Seed 001 (the P2P energy grid) pieces shared by sources, producer, consumer and grid.

- :mod:`shared.energy.messages`: the MAM commands (``hello``, ``goodbye``, ``output``,
  ``usage``, ``payment-request``) as value objects, with JSON/tryte codecs that write the
  seed's bodies to the character and read its documented variants.
- :mod:`shared.energy.slices`: wall-clock time slices (Unix epoch ms, SLICE_SECONDS).
- :mod:`shared.energy.models`: the database tables every energy service shares
  (registrations, reader positions) on one declarative base.
- :mod:`shared.energy.registration`: the registration REST API (router, validation,
  error bodies ``{"success":false,"message":...}`` with a real 4xx) over those tables.
- :mod:`shared.energy.client`: the registration client (PUT/DELETE with retries).
- :mod:`shared.energy.follower`: follows a registrant's MAM channel from its root:
  checks ``hello``, hands every message to the caller in the transaction that moves the
  reader position, stops at ``goodbye``.
"""
