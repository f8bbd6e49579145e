"""A local Bitrix24 portal on loopback: seeded data, the v2 and v3 wire protocol, limits, faults.

Standard library only: it imports nothing else of b24explorer, so it judges the core independently.
"""

from .faults import Fault, Faults
from .server import Sandbox, check_loopback

__all__ = ["Fault", "Faults", "Sandbox", "check_loopback"]
