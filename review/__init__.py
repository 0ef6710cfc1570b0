"""The review work queue: a web app where coders work the claims the scrubber sent to review.

Its own process beside the workers (``oncoscrub review serve``). Its read model is a
database fed from ``claims.needs-review``, ``claims.scrubbed``, ``claims.audit`` and
``claims.review-actions``; every action a person takes is a hash-chained event on
``claims.review-actions``. Dependencies: review → worker → rules → schemas.
"""
