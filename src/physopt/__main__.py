"""``python -m physopt`` (what ``torchrun -m physopt`` runs): the command line."""

import sys

from .cli import main, passive_openmp

passive_openmp()  # before main() imports torch: the OpenMP runtime reads its wait policy when it loads
sys.exit(main())
