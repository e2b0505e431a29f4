"""``python -m wall`` runs the ``citywall`` command line."""

from wall.cli import main

raise SystemExit(main())
