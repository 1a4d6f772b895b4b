"""``python -m matloss`` is the ``matloss`` command."""

import sys

from .cli import main

sys.exit(main())
