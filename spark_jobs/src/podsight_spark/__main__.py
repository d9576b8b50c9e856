import sys

from podsight_spark.cli import main

sys.exit(main())
