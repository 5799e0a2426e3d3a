"""What a hall's progress board (大厅进度屏) shows: the statuses it counts as open, the ones it
counts as concluded, and how long a concluded case stays on it.

A case is concluded (办结) for the citizen once the result is in their hands: handed over (or
evaluated after that). Until then it is open, in the status routing's events have moved it to.
"""

from __future__ import annotations

from typing import Final

from daiban_intake.domain.progress import CaseStatus

CONCLUDED: Final = (CaseStatus.handed_over, CaseStatus.evaluated)
# In the order of the state machine, so a board lists its columns as a case travels.
OPEN: Final = tuple(sorted((s for s in CaseStatus if s not in CONCLUDED), key=lambda s: s.rank))

# A hall board lists the most recently moved cases; a screen has room for a few dozen.
DEFAULT_LIMIT: Final = 50
MAX_LIMIT: Final = 100
# How many days a concluded case stays on the board under 最近办结.
DEFAULT_CONCLUDED_DAYS: Final = 3
MAX_CONCLUDED_DAYS: Final = 30
