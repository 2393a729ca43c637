"""Chargebacks from PayTrace's dispute file: the CSV format, its validation, the canonical
:class:`Chargeback` and the mapping rules to Fusion and Salesforce (use case 4)."""

from ._file import DISPUTE_COLUMNS, DisputeFileError, DisputeRowError, parse_dispute_file
from ._mapping import (
    ChargebackConfig,
    DisputeCaseFields,
    chargeback_category,
    chargeback_to_case,
    chargeback_to_credit_memo,
)
from ._model import Chargeback

__all__ = [
    "DISPUTE_COLUMNS",
    "Chargeback",
    "ChargebackConfig",
    "DisputeCaseFields",
    "DisputeFileError",
    "DisputeRowError",
    "chargeback_category",
    "chargeback_to_case",
    "chargeback_to_credit_memo",
    "parse_dispute_file",
]
