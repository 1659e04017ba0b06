"""The purpose guard: scores exist only to target perpetrator-programme referrals.

The check is an exact comparison after trimming surrounding whitespace. No case folding, no
splitting on separators, no prefix matching: ``"Programme_Referral"`` or
``"programme_referral; charging"`` are refused, so a second purpose can never ride along.
"""

from __future__ import annotations

from riskmodel.notice import PERMITTED_PURPOSE, PROHIBITED_USES

_WHY = (
    "the model was built, validated and audited only to decide who is offered a place on a "
    "voluntary perpetrator programme; it predicts *recorded* reoffending, which reflects how "
    "abuse is reported and policed as much as what people do, so it must never inform "
    + ", ".join(PROHIBITED_USES[:-1])
    + " or "
    + PROHIBITED_USES[-1]
)

ERR_PURPOSE_MISSING = (
    "scoring refused: no purpose was declared. Declare --purpose "
    f"{PERMITTED_PURPOSE!s}; it is the only permitted purpose, because {_WHY}."
)
ERR_PURPOSE_REFUSED = (
    "scoring refused: purpose {purpose} is not permitted. The only permitted purpose is "
    f"'{PERMITTED_PURPOSE}' (targeting offers of a perpetrator-programme place), because {_WHY}."
)

_MAX_SHOWN = 80


class PurposeRefused(ValueError):
    """A scoring request for anything other than ``programme_referral``.

    Attributes
    ----------
    purpose : the purpose as it was given (``None`` when missing)
    """

    def __init__(self, message: str, *, purpose: object) -> None:
        super().__init__(message)
        self.purpose = purpose


def _shown(purpose: object) -> str:
    text = repr(purpose)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "...'"


def check_purpose(purpose: str | None) -> str:
    """Return ``"programme_referral"`` or raise :class:`PurposeRefused`.

    Parameters
    ----------
    purpose : the declared purpose of the scoring run

    Raises
    ------
    PurposeRefused
        when the purpose is missing, empty, or anything but ``programme_referral`` (surrounding
        whitespace is ignored; case and every other character count).
    """
    if purpose is None or (isinstance(purpose, str) and not purpose.strip()):
        raise PurposeRefused(ERR_PURPOSE_MISSING, purpose=purpose)
    if not isinstance(purpose, str) or purpose.strip() != PERMITTED_PURPOSE:
        raise PurposeRefused(ERR_PURPOSE_REFUSED.format(purpose=_shown(purpose)), purpose=purpose)
    return PERMITTED_PURPOSE
