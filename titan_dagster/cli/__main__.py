import sys

from titan_dagster.cli import main

sys.exit(main())
