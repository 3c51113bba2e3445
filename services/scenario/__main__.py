import sys

from services.scenario.cli import main

sys.exit(main())
