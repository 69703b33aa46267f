"""Recording what a run published: a forecast, with the hashes of what made it, into a ledger."""

from __future__ import annotations

from ..engine.checkpoint import fingerprint
from .records import run_record
from .store import Ledger

__all__ = ["params_sha256", "evidence_sha256", "record_forecast", "LEDGER_ENVIRONMENT", "DEFAULT_NAME"]

LEDGER_ENVIRONMENT = "SCENARIOS_LEDGER"
"""The ledger file a report's notebooks read (the report sets it)."""

DEFAULT_NAME = "ledger.sqlite"
"""A report's ledger, in its reports folder unless ``--ledger`` names another."""


def params_sha256(model) -> str:
    """SHA-256 of what defines a model: every params layer's bytes (its SHA-256, base first) and the overrides."""
    return fingerprint([model.doc.sha256.get(f) for f in model.doc.files], [list(o) for o in model.doc.overrides])


def evidence_sha256(evidence, as_of) -> str | None:
    """SHA-256 of the evidence items public by ``as_of`` (everything they say), or None without evidence."""
    if evidence is None:
        return None
    return fingerprint(evidence.public_by(as_of))


def record_forecast(path, model, forecast, evidence=None, *, source: str, label: str = "") -> tuple[str, bool]:
    """Append ``forecast`` (of ``model``, as of ``forecast.as_of``) to the ledger at ``path``.

    Returns ``(run_id, added)``: an identical run already recorded adds nothing.
    """
    items = [it.id for it in evidence.public_by(forecast.as_of)] if evidence is not None else []
    run = run_record(forecast, params_sha256=params_sha256(model), evidence_sha256=evidence_sha256(evidence, forecast.as_of),
                     evidence_items=items, source=source, label=label)
    with Ledger(path) as ledger:
        return ledger.record(run)
