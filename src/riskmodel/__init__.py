"""riskmodel: 12-month domestic-abuse reoffending and severity predictor.

Trained and audited on synthetic crime histories; restricted by design to targeting
perpetrator-programme referrals (purpose ``programme_referral``).
"""

from importlib import metadata as _metadata

from riskmodel.notice import PERMITTED_PURPOSE, PERMITTED_USE_NOTICE, PROHIBITED_USES

try:
    __version__ = _metadata.version("riskmodel")
except _metadata.PackageNotFoundError:  # running from a source tree without install
    __version__ = "0.0.0+unknown"

__all__ = ["PERMITTED_PURPOSE", "PERMITTED_USE_NOTICE", "PROHIBITED_USES", "__version__"]
