from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from wsis_shared.events import utcnow

Clock = Callable[[], datetime]
system_clock: Clock = utcnow
