"""Paths shared by tests that run the project's commands."""

from __future__ import annotations

import sys
from pathlib import Path

# The installed console script, run as a user runs it. (``python -m cli`` would put the working
# directory first on the path, where a folder named ``index`` or ``config`` would shadow ours.)
QUOTEDESK = str(Path(sys.executable).with_name("quotedesk"))
