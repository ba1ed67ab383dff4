"""`python -m nim_widget` runs the same CLI as the `nim-widget` command."""

import sys

from nim_widget.cli import main

sys.exit(main())
