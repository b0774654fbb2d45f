"""``python -m physopt`` (what ``torchrun -m physopt`` runs): the command line."""

import sys

from .cli import main

sys.exit(main())
