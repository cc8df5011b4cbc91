import sys

from globalfit.cli import main

sys.exit(main())
