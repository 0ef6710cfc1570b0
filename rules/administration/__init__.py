"""Drug administration: one algorithm (spec section 2), split by step.

``normalise`` (steps A-B) turns the MAR into events; ``algorithm.code_events`` runs the
coding steps in order: ``groups`` (C), ``initial`` (D), ``sequential`` and ``hydration``
(E-F), ``pumps`` (G), ``standalone`` (H), the ``addons`` guard and ``place_of_service``;
``supply`` checks the drug lines against the doses. Each step's module declares the rules
it applies.
"""
