"""shardplan's Python module: the worked examples of docs/layouts.md, PyTorch-style placement objects, and a
property test that cuts real tensors with the returned slices and puts them back together."""

import itertools
import random

import numpy as np
import pytest

import shardplan as sp


def sets(layout, rank, dim=0):
    """A rank's indices on one dim, as a plain list."""
    return [i for begin, end in layout.index_sets(rank)[dim] for i in range(begin, end)]


def by_coordinate(layout):
    mesh = layout.mesh
    return {mesh.coordinate(r): sets(layout, r) for r in range(mesh.world_size)}


# --- worked examples (docs/layouts.md; all checked against torch.chunk) -----------------------------------------


def test_fsdp2_plus_tp_and_nested_shards():
    layout = sp.Layout((16,), "dp=2,tp=2", "_S(0,2),S(0)")
    assert by_coordinate(layout) == {
        (0, 0): list(range(0, 4)), (0, 1): list(range(8, 12)), (1, 0): list(range(4, 8)), (1, 1): list(range(12, 16))}
    nested = sp.Layout((16,), (2, 2), "S(0),S(0)")
    assert [sets(nested, r) for r in range(4)] == [list(range(i, i + 4)) for i in (0, 4, 8, 12)]


def test_uneven_strided_shards():
    assert by_coordinate(sp.Layout((10,), (2, 2), "_S(0,2),S(0)")) == {
        (0, 0): [0, 1, 2], (0, 1): [5, 6, 7], (1, 0): [3, 4], (1, 1): [8, 9]}
    layout = sp.Layout((10,), (2, 2), "S(0),_S(0,2)")
    assert by_coordinate(layout) == {(0, 0): [0, 1, 3], (0, 1): [2, 4], (1, 0): [5, 6, 8], (1, 1): [7, 9]}
    assert layout.slices(0) == ([0, 1, 3],)  # non-contiguous: an index list
    assert layout.index_sets(0) == [[(0, 2), (3, 4)]]


def test_chunk_with_empty_shards_reports_the_dim_size():
    layout = sp.Layout((13, 2), (4, 2), "S(0),S(0)")
    assert layout.local_box(6) == ((1, 2), (12, 0))
    assert layout.local_box(7) == ((0, 2), (13, 0))  # an empty shard sits at the end
    assert sp.compute_local_shape_and_global_offset((13, 2), (4, 2), (3, 1), "S(0),S(0)") == ((0, 2), (13, 0))


def test_two_axes_on_dim_one_and_on_both_dims():
    layout = sp.Layout((2, 5), (2, 2), "S(1),S(1)")
    assert [layout.local_box(r) for r in range(4)] == [
        ((2, 2), (0, 0)), ((2, 1), (0, 2)), ((2, 1), (0, 3)), ((2, 1), (0, 4))]
    layout = sp.Layout((5, 3), (2, 2), "S(0),S(1)")
    assert [layout.local_box(r) for r in range(4)] == [
        ((3, 2), (0, 0)), ((3, 1), (0, 2)), ((2, 2), (3, 0)), ((2, 1), (3, 2))]


def test_strided_shard_on_one_axis_is_a_packed_gate_up():
    assert [sets(sp.Layout((8,), 4, "_S(0,2)"), r) for r in range(4)] == [[0, 4], [1, 5], [2, 6], [3, 7]]
    assert [sets(sp.Layout((9,), 4, "_S(0,2)"), r) for r in range(4)] == [[0, 1, 5], [2, 3, 6], [4, 7], [8]]
    gate_up = sp.Layout((16,), 4, "_S(0,2)")
    assert [sets(gate_up, r) for r in range(4)] == [[2 * r, 2 * r + 1, 8 + 2 * r, 9 + 2 * r] for r in range(4)]


def test_readme_example():
    layout = sp.Layout((39, 2), "4,2,3", "S(0),_S(0,2),S(0)")
    assert layout.local_box(5) == ((0, 2), (39, 0))
    assert layout.index_sets(1) == [[(2, 3), (5, 6)], [(0, 2)]]
    assert repr(layout) == "Layout(shape (39,2)  mesh (4,2,3)  placements S(0),_S(0,2),S(0)  policy chunk)"


def test_policies():
    assert [sp.Layout((10,), 4, "S(0)", policy="balanced").local_shape(r) for r in range(4)] == [
        (3,), (3,), (2,), (2,)]
    assert [sp.Layout((10,), 4, "S(0)").local_shape(r) for r in range(4)] == [(3,), (3,), (3,), (1,)]
    with pytest.raises(ValueError, match="not divisible"):
        sp.Layout((10,), 4, "S(0)", policy="even")


# --- placements as PyTorch writes them -------------------------------------------------------------------------


class Shard:
    def __init__(self, dim):
        self.dim = dim

    def is_shard(self, dim=None):
        return dim is None or dim == self.dim

    def is_replicate(self):
        return False

    def is_partial(self):
        return False


class StridedShard(Shard):  # torch.distributed.tensor._StridedShard
    def __init__(self, dim, split_factor):
        super().__init__(dim)
        self.split_factor = split_factor


class Replicate:
    def is_shard(self, dim=None):
        return False

    def is_replicate(self):
        return True

    def is_partial(self):
        return False


class Partial:
    def __init__(self, reduce_op="sum"):
        self.reduce_op = reduce_op

    def is_shard(self, dim=None):
        return False

    def is_replicate(self):
        return False

    def is_partial(self):
        return True


def test_placement_objects_and_strings_agree():
    objects = [StridedShard(0, 2), Shard(0)]
    assert sp.placements_text(objects) == "_S(0,2),S(0)"
    assert sp.placements_text([Replicate(), Partial("max")]) == "R,P(max)"
    assert sp.placements_text(["Shard(1)", "Replicate()"]) == "S(1),R"
    for coord in itertools.product(range(2), range(2)):
        assert sp.compute_local_shape_and_global_offset([16], [2, 2], coord, objects) == \
            sp.compute_local_shape_and_global_offset((16,), (2, 2), coord, "_S(0,2),S(0)")
    assert sp.Layout((4, 4), (2,), [Partial()]).local_box(1) == ((4, 4), (0, 0))


def test_mesh():
    mesh = sp.Mesh((4, 8), names=("dp", "tp"))
    assert (mesh.shape, mesh.names, mesh.world_size) == ((4, 8), ("dp", "tp"), 32)
    assert mesh.coordinate(13) == (1, 5) and mesh.rank((1, 5)) == 13
    assert sp.Mesh("dp=4,tp=8") == mesh
    assert str(mesh) == "(dp=4,tp=8)"
    assert sp.Layout((8,), mesh, "S(0),R").mesh == mesh


# --- bad input: ValueError with the field and the numbers, never a crash --------------------------------------


@pytest.mark.parametrize("call, message", [
    (lambda: sp.Layout((4,), 2, "S(3)"), "placements[0]"),
    (lambda: sp.Layout((4,), 2, "Q(0)"), "placements"),
    (lambda: sp.Layout((4,), 2, "S(0),S(0)"), "placements"),
    (lambda: sp.Layout((4,), 2, "S(0)").local_box(2), "rank"),
    (lambda: sp.Layout((4,), 2, "S(0)").local_box(-1), "rank"),
    (lambda: sp.Layout((-1,), 2, "S(0)"), "shape[0]"),
    (lambda: sp.Layout((2 ** 63,), 2, "S(0)"), "does not fit in int64"),
    (lambda: sp.Layout((2 ** 62, 4), 2, "S(0)"), "overflow"),
    (lambda: sp.Layout(("a",), 2, "S(0)"), "shape[0]: expected an int"),
    (lambda: sp.Layout((1,) * 9, 2, "S(0)"), "at most 8"),
    (lambda: sp.Layout((4,), 0, "S(0)"), "mesh"),
    (lambda: sp.Layout((4,), "dp=2,dp=2", "S(0),R"), "mesh"),
    (lambda: sp.Layout((4,), 2, "S(0)", policy="fair"), "policy"),
    (lambda: sp.Layout((4,), 2, [object()]), "placements[0]: not a placement"),
    (lambda: sp.Layout((4,), 2, [Partial("median")]), "reduce_op"),
    (lambda: sp.Layout((2 ** 50,), 2, "_S(0,1099511627776)").index_sets(0), "past the limit"),
    (lambda: sp.compute_local_shape_and_global_offset((4,), (2,), (2,), "S(0)"), "coordinate"),
    (lambda: sp.Layout((2 ** 40,), 2, "_S(0,2)").slices(0), "slices: dim 0 holds 549755813888 indices in 2 intervals"),
    (lambda: sp.Layout((2 ** 40,), 2, "_S(0,8388608)").index_sets(0), "index_sets: the rank's sets hold 8388608"),
    (lambda: sp.Mesh((2, 2), names=("a",)), "mesh.names"),
    (lambda: sp.Mesh((2, 2), names=("a" * 30, "b")), "mesh.names[0]: longer than 23"),
    (lambda: sp.Mesh((2,), names=["n%d" % i for i in range(20)]), "mesh.names: 20 entries, at most 16"),
    (lambda: sp.Mesh((2,), names=[3]), "mesh.names[0]: expected a str"),
    (lambda: sp.Mesh((2,) * 17), "shape: 17 entries, at most 16"),
    (lambda: sp.row_major_reads((4,), [[(3, 9)]], 1), "region"),
    (lambda: sp.row_major_reads((4,), [[(0, 4)]], 0), "element_size"),
    (lambda: sp.row_major_reads((2 ** 23, 2), [[(0, 2 ** 23)], [(0, 1)]], 1), "more than 4194304 byte ranges"),
])
def test_bad_input_raises_value_error(call, message):
    with pytest.raises(ValueError) as error:
        call()
    assert message in str(error.value)


# --- property: cut real tensors with the returned slices and put them back -------------------------------------


def random_layout(rng):
    ndim = rng.randint(1, 3)
    shape = tuple(rng.randint(0, 13) for _ in range(ndim))
    mesh = tuple(rng.randint(1, 4) for _ in range(rng.randint(1, 3)))
    placements = []
    for _ in mesh:
        kind = rng.choice("SSSR_P")
        dim = rng.randrange(ndim)
        placements.append({"S": "S(%d)" % dim, "R": "R", "P": "P(sum)",
                           "_": "_S(%d,%d)" % (dim, rng.randint(1, 4))}[kind])
    return shape, mesh, placements, rng.choice(["chunk", "balanced"])


def split(items, k, policy):
    """The k pieces of a list: torch.chunk's (ceil-sized) or balanced (n/k + (i < n%k))."""
    n = len(items)
    if policy == "chunk":
        c = -(-n // k)
        return [items[min(n, i * c):min(n, (i + 1) * c)] for i in range(k)]
    q, r = divmod(n, k)
    starts = [i * q + min(i, r) for i in range(k + 1)]
    return [items[starts[i]:starts[i + 1]] for i in range(k)]


def reference_sets(shape, mesh, placements, policy, coord):
    """docs/layouts.md's composition, on plain lists: each shard placement, in mesh-axis order, splits what the
    earlier axes left of its dim; _S(d, sf) cuts it into sf chunks first and keeps its piece of every chunk."""
    sets = [list(range(n)) for n in shape]
    for axis, placement in enumerate(placements):
        k, member = mesh[axis], coord[axis]
        if placement.startswith("S("):
            d = int(placement[2:-1])
            sets[d] = split(sets[d], k, policy)[member]
        elif placement.startswith("_S("):
            d, sf = (int(x) for x in placement[3:-1].split(","))
            sets[d] = [i for chunk in split(sets[d], sf, "chunk") for i in split(chunk, k, policy)[member]]
    return sets


def test_slices_cut_and_reassemble_real_tensors():
    rng = random.Random(11)
    cases = 0
    while cases < 1500:
        shape, mesh, placement_list, policy = random_layout(rng)
        placements = ",".join(placement_list)
        layout = sp.Layout(shape, mesh, placements, policy=policy)
        full = np.arange(int(np.prod(shape)), dtype=np.int64).reshape(shape)
        copies = np.zeros(shape, dtype=np.int64)
        world = layout.mesh.world_size
        for rank in range(world):
            local_shape, offset = layout.local_box(rank)
            part = full
            for dim, index in enumerate(layout.slices(rank)):  # one dim at a time: numpy and torch alike
                part = part[(slice(None),) * dim + (index,)]
            assert part.shape == local_shape
            boxes = layout.index_sets(rank)
            coord = layout.mesh.coordinate(rank)
            assert [sets(layout, rank, d) for d in range(len(shape))] == \
                reference_sets(shape, mesh, placement_list, policy, coord)
            starts = tuple(b[0][0] if b else shape[d] for d, b in enumerate(boxes))
            assert offset == starts
            if policy == "chunk":  # PyTorch's function knows only torch.chunk's split
                assert sp.compute_local_shape_and_global_offset(
                    shape, mesh, layout.mesh.coordinate(rank), placements) == (local_shape, offset)
            # Local order is increasing global order, and the part is exactly the listed indices.
            grid = np.ix_(*[np.array([i for b, e in dim for i in range(b, e)], dtype=np.int64) for dim in boxes])
            assert np.array_equal(part, full[grid])
            copies[grid] += 1
        # Nothing lost, nothing duplicated: every element is held by as many ranks as the R and P axes replicate.
        replicas = int(np.prod([k for k, p in zip(mesh, placement_list) if p in ("R", "P(sum)")] or [1]))
        assert np.all(copies == replicas), (shape, mesh, placements, policy)
        cases += 1


def test_single_shard_matches_numpy_array_split_chunks():
    # torch.chunk(x, k)[i] is numpy's array_split with ceil-sized pieces: the "chunk" policy.
    for n in range(0, 20):
        for k in range(1, 6):
            layout = sp.Layout((n,), k, "S(0)")
            step = -(-n // k) if n else 0
            for rank in range(k):
                expected = list(range(min(n, rank * step), min(n, (rank + 1) * step)))
                assert sets(layout, rank) == expected


def test_torch_chunk_when_installed():
    torch_module = pytest.importorskip("torch")
    for n in range(1, 17):
        for k in range(1, 6):
            pieces = torch_module.arange(n).chunk(k)
            layout = sp.Layout((n,), k, "S(0)")
            for rank in range(k):
                expected = pieces[rank].tolist() if rank < len(pieces) else []
                assert sets(layout, rank) == expected


def test_docs_example_gate_up_and_fused_qkv():
    # docs/python.md: the packed gate_up_proj at tp=4 and a fused QKV with KV heads replicated.
    F, H, tp = 8, 2, 4
    gate_up = np.arange(2 * F * H).reshape(2 * F, H)
    layout = sp.Layout(gate_up.shape, tp, "_S(0,2)")
    rows, cols = layout.slices(1)
    assert rows == [2, 3, 10, 11] and cols == slice(0, 2)
    assert gate_up[rows][:, cols].tolist() == [[4, 5], [6, 7], [20, 21], [22, 23]]
    qkv = sp.shards((6656, 4), "tp=4", "S(0)", segments="0=6144,256,256/128", segment_policy="replicate")
    assert [r["intervals"][0] for r in qkv["ranks"]] == [
        [[0, 1536], [6144, 6272], [6400, 6528]],
        [[1536, 3072], [6144, 6272], [6400, 6528]],
        [[3072, 4608], [6272, 6400], [6528, 6656]],
        [[4608, 6144], [6272, 6400], [6528, 6656]],
    ]


def test_dtensor_itself_when_installed():
    # PyTorch's own function, on plain data (torch.distributed.tensor._utils, torch >= 2.5); Debian's torch 1.13 has
    # no DTensor, so this runs only where a newer torch is installed.
    utils = pytest.importorskip("torch.distributed.tensor._utils")
    reference = getattr(utils, "_compute_local_shape_and_global_offset", None)
    if reference is None:
        pytest.skip("this torch has no _compute_local_shape_and_global_offset")
    from torch.distributed.tensor.placement_types import Partial as TorchPartial
    from torch.distributed.tensor.placement_types import Replicate as TorchReplicate
    from torch.distributed.tensor.placement_types import Shard as TorchShard
    from torch.distributed.tensor.placement_types import _StridedShard

    rng = random.Random(5)
    for _ in range(500):
        shape, mesh, placement_list, _ = random_layout(rng)
        objects = []
        for text in placement_list:
            if text.startswith("S("):
                objects.append(TorchShard(int(text[2:-1])))
            elif text.startswith("_S("):
                dim, sf = (int(x) for x in text[3:-1].split(","))
                objects.append(_StridedShard(dim, split_factor=sf))
            elif text == "R":
                objects.append(TorchReplicate())
            else:
                objects.append(TorchPartial())
        for coordinate in itertools.product(*(range(k) for k in mesh)):
            ours = sp.compute_local_shape_and_global_offset(shape, mesh, coordinate, objects)
            theirs = reference(shape, mesh, list(coordinate), objects)
            assert ours == (tuple(theirs[0]), tuple(theirs[1])), (shape, mesh, placement_list, coordinate)


JUNK = [None, 3.5, "x", "S(", [None], {}, object(), -1, 2 ** 70, [2 ** 70], b"S(0)", [[1, 2]], (), [], True]


def test_junk_never_crashes_the_interpreter():
    # Every argument of every call, replaced by junk: a ValueError (bad value) or TypeError (wrong type), never a
    # crash. The valid arguments around it keep each call otherwise well-formed.
    layout = sp.Layout((8, 4), (2, 2), "_S(0,2),S(1)")
    calls = [
        lambda j: sp.compute_local_shape_and_global_offset(j, (2, 2), (0, 1), "S(0),R"),
        lambda j: sp.compute_local_shape_and_global_offset((8,), j, (0, 1), "S(0),R"),
        lambda j: sp.compute_local_shape_and_global_offset((8,), (2, 2), j, "S(0),R"),
        lambda j: sp.compute_local_shape_and_global_offset((8,), (2, 2), (0, 1), j),
        lambda j: sp.Layout(j, 2, "S(0)"),
        lambda j: sp.Layout((8,), j, "S(0)"),
        lambda j: sp.Layout((8,), 2, j),
        lambda j: sp.Layout((8,), 2, "S(0)", policy=j),
        lambda j: layout.local_box(j),
        lambda j: layout.index_sets(j),
        lambda j: layout.slices(j),
        lambda j: sp.Mesh(j),
        lambda j: sp.Mesh((2,), names=j),
        lambda j: sp.Mesh((2, 2)).rank(j),
        lambda j: sp.row_major_reads(j, [[(0, 1)]], 1),
        lambda j: sp.row_major_reads((4,), j, 1),
        lambda j: sp.row_major_reads((4,), [[(0, 1)]], j),
        lambda j: sp.placements_text(j),
    ]
    for call in calls:
        for junk in JUNK:
            try:
                call(junk)
            except (ValueError, TypeError):
                pass
