"""`python -m triage.native`: build the VNNI embedding engine if this machine can.

Exits 0 when it is built or cannot be built here (the bundled engine then runs;
the reason is printed), and 1 when a compiler was found but failed.
"""

from __future__ import annotations

import sys

from triage.native import BuildError, build, cpu_supports, why_not_buildable


def main() -> int:
    reason = why_not_buildable()
    if reason is not None:
        print(f"triage.native: not built ({reason}); the bundled engine is used", file=sys.stderr)
        return 0
    try:
        path = build()
    except BuildError as error:
        print(f"triage.native: {error}", file=sys.stderr)
        return 1
    use = "used" if cpu_supports() else "not used on this CPU (it lacks AVX-512 VNNI)"
    print(f"triage.native: {path.name} built; {use}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
