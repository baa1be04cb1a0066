"""shardplan: exact sharding math for distributed tensors, from Python.

A thin layer over the C++ library (the extension module ``shardplan._shardplan``):

* per-rank layout math, in PyTorch DTensor's vocabulary: :func:`compute_local_shape_and_global_offset`,
  :class:`Mesh`, :class:`Layout` (``local_box``, ``index_sets``, ``slices``), :func:`row_major_reads`;
* the ``shardplan`` command's computations, run in-process, returning its ``--json`` output as Python objects:
  :func:`shards` (also fused / segmented dims), :func:`redistribute`, :func:`transfer_map`, :func:`check`,
  :func:`plan`, :func:`size`, and :func:`run` for any command.

Every input error raises ``ValueError`` with the library's message, ``"field: message"``.
"""

import json as _json
import os as _os
import tempfile as _tempfile

from ._shardplan import _run_command
from ._shardplan import (  # noqa: F401  (re-exported)
    Layout,
    Mesh,
    __version__,
    compute_local_shape_and_global_offset,
    placements_text,
    row_major_reads,
)

__all__ = [
    "Layout",
    "Mesh",
    "check",
    "compute_local_shape_and_global_offset",
    "placements_text",
    "plan",
    "redistribute",
    "row_major_reads",
    "run",
    "shards",
    "size",
    "transfer_map",
]


def _flag_value(value):
    """A flag's text: sequences joined by commas, meshes and placements in the library's text."""
    if isinstance(value, Mesh):
        return str(value)
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)


def run(command, **flags):
    """Runs ``shardplan <command> --json`` with ``flags`` (``tp=8`` is ``--tp 8``; ``True`` a bare flag; ``None``
    and ``False`` leave the flag out) and returns the parsed JSON."""
    args = [command]
    for name, value in flags.items():
        if value is None or value is False:
            continue
        args.append("--" + name.replace("_", "-"))
        if value is not True:
            args.append(_flag_value(value))
    args.append("--json")
    return _json.loads(_run_command(args))


def _placements(value):
    return value if isinstance(value, str) else placements_text(value)


def shards(shape, mesh, placements, *, policy=None, rank=None, segments=None, segment_policy=None):
    """Every rank's coordinate, local shape, global offset and index sets (``shardplan shards --json``).

    ``segments`` describes a fused dim, e.g. ``"0=4096,4096"`` (gate_up) or ``"0=6144,256,256/128"`` (QKV with
    128-row heads); see docs/fused.md."""
    return run("shards", shape=_flag_value(shape), mesh=_flag_value(mesh), placements=_placements(placements),
               policy=policy, rank=rank, segments=segments, segment_policy=segment_policy)


def redistribute(shape, mesh, from_placements, to_placements, *, dtype=None, policy=None, devices_per_host=None,
                 axis_cost=None, verify=False):
    """The least-cost collectives from one layout to another on the same mesh (``shardplan redistribute
    --json``): its ``"steps"`` (op, mesh_dims, tensor_dims, placements after, bytes, modelled time) and totals."""
    return run("redistribute", shape=_flag_value(shape), mesh=_flag_value(mesh), **{
        "from": _placements(from_placements), "to": _placements(to_placements)},
        dtype=dtype, policy=policy, devices_per_host=devices_per_host, axis_cost=axis_cost, verify=verify)


def transfer_map(shape, from_mesh, from_placements, to_mesh, to_placements, *, dtype=None, policy=None, rank=None,
                 file_offset=None, max_gap=None):
    """For every destination rank, the pieces it needs from each source rank, and the byte ranges to read from a
    row-major file (``shardplan reshard --json``)."""
    return run("reshard", shape=_flag_value(shape), from_mesh=_flag_value(from_mesh),
               to_mesh=_flag_value(to_mesh), **{"from": _placements(from_placements),
                                                "to": _placements(to_placements)},
               dtype=dtype, policy=policy, rank=rank, file_offset=file_offset, max_gap=max_gap)


class _ModelFile:
    """The ``--model`` (or ``--plan``) value for a preset name, a path, or a dict (written to a temporary
    config.json for the duration of the call)."""

    def __init__(self, value, name):
        self._path = None
        if isinstance(value, dict):
            handle, self._path = _tempfile.mkstemp(prefix=name + "_", suffix=".json")
            with _os.fdopen(handle, "w") as out:
                _json.dump(value, out)
            self.text = self._path
        elif isinstance(value, (str, _os.PathLike)):
            self.text = _os.fspath(value)
            if name == "config" and _os.path.isdir(self.text):
                # A downloaded checkpoint directory: its config.json (the command reads no directory yet).
                self.text = _os.path.join(self.text, "config.json")
        elif value is None:
            self.text = None
        else:
            raise ValueError("%s: expected a preset name, a path or a dict, got %s" % (name, type(value).__name__))

    def __enter__(self):
        return self.text

    def __exit__(self, *exc):
        if self._path is not None:
            _os.unlink(self._path)


def _model_command(command, config, plan_file, flags):
    with _ModelFile(config, "config") as model, _ModelFile(plan_file, "plan") as plan_path:
        return run(command, model=model, plan=plan_path, **flags)


def check(config, *, tp=None, ep=None, etp=None, pp=None, dp=None, cp=None, world=None, kv_policy=None,
          vocab_pad=None, quant=None, expert_policy=None, seq=None, batch=None, sp=False, devices_per_host=None,
          plan_file=None):
    """Is this parallel plan valid for this model? (``shardplan check --json``). ``config`` is a preset name
    (``"llama-3.1-8b"``), a config.json path, a checkpoint directory (its config.json), or a config dict. The result's ``"valid"`` says; errors and
    warnings name the rule and the numbers."""
    return _model_command("check", config, plan_file, dict(
        tp=tp, ep=ep, etp=etp, pp=pp, dp=dp, cp=cp, world=world, kv_policy=kv_policy, vocab_pad=vocab_pad,
        quant=quant, expert_policy=expert_policy, seq=seq, batch=batch, sp=sp, devices_per_host=devices_per_host))


def plan(config, *, rank=None, tp=None, ep=None, etp=None, pp=None, dp=None, cp=None, world=None, kv_policy=None,
         vocab_pad=None, quant=None, expert_policy=None, seq=None, batch=None, sp=False, devices_per_host=None,
         plan_file=None):
    """Every parameter one rank holds, with its local shape and index sets (``shardplan plan --json``)."""
    return _model_command("plan", config, plan_file, dict(
        rank=rank, tp=tp, ep=ep, etp=etp, pp=pp, dp=dp, cp=cp, world=world, kv_policy=kv_policy,
        vocab_pad=vocab_pad, quant=quant, expert_policy=expert_policy, seq=seq, batch=batch, sp=sp,
        devices_per_host=devices_per_host))


def size(config, *, tp=None, ep=None, etp=None, pp=None, dp=None, cp=None, world=None, kv_policy=None,
         vocab_pad=None, quant=None, expert_policy=None, seq=None, batch=None, sp=False, devices_per_host=None,
         plan_file=None):
    """Per-rank memory: parameters, gradients, optimizer state, activations (``shardplan size --json``)."""
    return _model_command("size", config, plan_file, dict(
        tp=tp, ep=ep, etp=etp, pp=pp, dp=dp, cp=cp, world=world, kv_policy=kv_policy, vocab_pad=vocab_pad,
        quant=quant, expert_policy=expert_policy, seq=seq, batch=batch, sp=sp, devices_per_host=devices_per_host))
