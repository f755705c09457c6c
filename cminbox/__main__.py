import sys

from cminbox.cli import main

sys.exit(main())
