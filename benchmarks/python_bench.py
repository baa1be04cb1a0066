#!/usr/bin/env python3
"""Per-call cost of shardplan's Python module: compute_local_shape_and_global_offset (PyTorch's signature, a layout
built per call) and Layout.local_box (a layout built once), on S/R layouts of a 2-d mesh and on _S layouts.

Run from the repository root after building (the module lands in build/examples/python):
    PYTHONPATH=build/examples/python python3 benchmarks/python_bench.py
Prints the median over 7 repetitions of the time per call, in ns. Figures: docs/performance.md.
"""

import statistics
import timeit

import shardplan as sp

CASES = [
    # (label, global shape, mesh, placements)
    ("2-d mesh dp=4,tp=8, S(0),S(1)", (4096, 4096), (4, 8), "S(0),S(1)"),
    ("2-d mesh dp=4,tp=8, R,S(1)", (4096, 4096), (4, 8), "R,S(1)"),
    ("2-d mesh dp=4,tp=8, _S(0,8),S(0) (FSDP2 + TP)", (4096, 4096), (4, 8), "_S(0,8),S(0)"),
    ("3-d mesh (4,2,3), S(0),_S(0,2),S(0)", (39, 2), (4, 2, 3), "S(0),_S(0,2),S(0)"),
]
REPEAT = 7
NUMBER = 20000


def per_call_ns(statement):
    times = timeit.repeat(statement, repeat=REPEAT, number=NUMBER)
    return statistics.median(times) / NUMBER * 1e9


def main():
    print("%-48s %14s %14s" % ("case", "compute_...", "local_box"))
    for label, shape, mesh, placements in CASES:
        coordinate = (1,) * len(mesh)
        layout = sp.Layout(shape, mesh, placements)
        rank = layout.mesh.rank(coordinate)
        compute = per_call_ns(
            lambda: sp.compute_local_shape_and_global_offset(shape, mesh, coordinate, placements))
        local_box = per_call_ns(lambda: layout.local_box(rank))
        print("%-48s %11.0f ns %11.0f ns" % (label, compute, local_box))


if __name__ == "__main__":
    main()
