"""``scenarios report``: notebooks executed into dated HTML reports; see :mod:`scenarios.report.run`."""

from .run import *  # noqa: F403
from .run import __all__  # noqa: F401
