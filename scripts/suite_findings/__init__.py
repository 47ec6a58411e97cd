"""The findings of the seven `qbench suite NAME` experiments, one module per suite (its
claim, analysis and figures), the shared machinery in common.py and figures.py. SUITES maps
each suite's name to its class, in the order `qbench suite` lists them."""

from .idle import Idle
from .wakeups import Wakeups
from .burst import Burst
from .sizing import Sizing
from .shutdown import Shutdown
from .stealing import Stealing
from .mailboxes import Mailboxes

SUITES = {cls.name: cls for cls in (Idle, Wakeups, Burst, Sizing, Shutdown, Stealing, Mailboxes)}
