"""Column positions (0-based) of ``GlInterface.csv``, the FBDI journal import template.

The order follows the GL_INTERFACE template [inferred: several public copies of the FBDI
staging table agree]: STATUS, LEDGER_ID, ACCOUNTING_DATE, USER_JE_SOURCE_NAME,
USER_JE_CATEGORY_NAME, CURRENCY_CODE, DATE_CREATED, ACTUAL_FLAG, SEGMENT1-30, ENTERED_DR,
ENTERED_CR, ACCOUNTED_DR, ACCOUNTED_CR, REFERENCE1-10, REFERENCE21-30, STAT_AMOUNT,
USER_CURRENCY_CONVERSION_TYPE, CURRENCY_CONVERSION_DATE, CURRENCY_CONVERSION_RATE, GROUP_ID,
then the descriptive flexfield columns. The writer and the emulator's reader both use these, so
they cannot drift apart.
"""

from __future__ import annotations

__all__ = [
    "ACCOUNTED_CR",
    "ACCOUNTED_DR",
    "CONVERSION_DATE",
    "CONVERSION_RATE",
    "CONVERSION_TYPE",
    "CURRENCY_CODE",
    "ENTERED_CR",
    "ENTERED_DR",
    "GROUP_ID",
    "LEDGER_ID",
    "REFERENCE1",
    "SOURCE",
    "STAT_AMOUNT",
]

LEDGER_ID = 1
SOURCE = 3
CURRENCY_CODE = 5
ENTERED_DR, ENTERED_CR, ACCOUNTED_DR, ACCOUNTED_CR = 38, 39, 40, 41
#: REFERENCE1 is the journal batch name; REFERENCE1-10 fill 42-51, REFERENCE21-30 52-61.
REFERENCE1 = 42
STAT_AMOUNT = 62
CONVERSION_TYPE, CONVERSION_DATE, CONVERSION_RATE = 63, 64, 65
#: "Interface Group Identifier": the GroupId Journal Import is run for.
GROUP_ID = 66
