"""Type stubs of shardplan's C++ extension (shardplan._shardplan); the package re-exports these names."""

from typing import Any, Iterable, Optional, Sequence, Tuple, Union

__version__: str

# A placement: "S(0)", "_S(0,2)", "R", "P(sum)", "Shard(0)", ... or a torch.distributed.tensor placement object
# (Shard, _StridedShard, Replicate, Partial). Placements: a string "S(0),_S(0,2)" or a sequence of placements.
PlacementLike = Any
PlacementsLike = Union[str, Sequence[PlacementLike]]
MeshLike = Union["Mesh", str, int, Sequence[int]]
Interval = Tuple[int, int]

def compute_local_shape_and_global_offset(
    global_shape: Sequence[int],
    mesh_shape: MeshLike,
    coordinate: Sequence[int],
    placements: PlacementsLike,
) -> Tuple[Tuple[int, ...], Tuple[int, ...]]:
    """PyTorch's compute_local_shape_and_global_offset: (local_shape, global_offset) of the rank at `coordinate`."""

def placements_text(placements: PlacementsLike) -> str:
    """The library's text of placements: [Shard(0), Replicate()] -> "S(0),R"."""

class Mesh:
    """An N-d grid of ranks (row-major: the last axis varies fastest)."""
    def __init__(self, shape: Union[str, Sequence[int]], names: Optional[Iterable[str]] = ...) -> None: ...
    @property
    def shape(self) -> Tuple[int, ...]: ...
    @property
    def names(self) -> Tuple[str, ...]: ...
    @property
    def world_size(self) -> int: ...
    def coordinate(self, rank: int) -> Tuple[int, ...]: ...
    def rank(self, coordinate: Sequence[int]) -> int: ...

class Layout:
    """A tensor's layout: global shape, mesh, one placement per mesh axis, split policy ("chunk", "balanced",
    "even")."""
    def __init__(self, shape: Sequence[int], mesh: MeshLike, placements: PlacementsLike, policy: str = ...) -> None: ...
    @property
    def shape(self) -> Tuple[int, ...]: ...
    @property
    def mesh(self) -> Mesh: ...
    @property
    def placements(self) -> str: ...
    def local_box(self, rank: int) -> Tuple[Tuple[int, ...], Tuple[int, ...]]:
        """(local_shape, global_offset) of a rank, in PyTorch's convention."""
    def local_shape(self, rank: int) -> Tuple[int, ...]: ...
    def global_offset(self, rank: int) -> Tuple[int, ...]: ...
    def index_sets(self, rank: int) -> list[list[Interval]]:
        """Per dim, the rank's indices as [begin, end) intervals, in increasing order."""
    def slices(self, rank: int) -> Tuple[Union[slice, list[int]], ...]:
        """Per dim, a slice (one interval) or a list of indices (an _S dim). Index one dim at a time."""

def row_major_reads(
    shape: Sequence[int],
    index_sets: Sequence[Sequence[Interval]],
    element_size: int,
    file_offset: int = ...,
    max_gap: int = ...,
) -> dict[str, Any]:
    """The byte ranges of a row-major tensor that hold a region: reads, segments, bytes_needed, bytes_read."""

def _run_command(args: Sequence[str]) -> str: ...
