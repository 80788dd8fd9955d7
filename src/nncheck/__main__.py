import sys

from nncheck.frontends.cli import main

sys.exit(main())
