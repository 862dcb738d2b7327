"""The rota: staff scheduling, coverage, gaps and alerts as pure functions.

Design note: docs/rota.md. Entry points: ``rota.yaml_format.parse_rota_yaml``,
``rota.coverage.compute_coverage`` / ``on_shift_now``, ``rota.alerts``.
"""

from __future__ import annotations
