import sys

from nncheck.cli import main

sys.exit(main())
