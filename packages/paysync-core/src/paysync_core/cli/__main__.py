import sys

from paysync_core.cli import main

sys.exit(main())
