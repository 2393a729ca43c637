"""One resource class per PayTrace API area; the client exposes each as an attribute."""

from ._batches import Batches
from ._checks import Checks
from ._customers import Customers
from ._exports import Exports, ExportTransactionType
from ._level_three import LevelThree
from ._protect import Protect
from ._transactions import Transactions
from ._windows import date_windows

__all__ = [
    "Batches",
    "Checks",
    "Customers",
    "ExportTransactionType",
    "Exports",
    "LevelThree",
    "Protect",
    "Transactions",
    "date_windows",
]
