"""The package's command functions return exactly the `shardplan` command's --json output (run here as a
subprocess, path in $SHARDPLAN_CLI), for layouts, fused dims, redistribution, resharding and the model layer."""

import json
import os
import subprocess

import pytest

import shardplan as sp

CLI = os.environ.get("SHARDPLAN_CLI")
needs_cli = pytest.mark.skipif(not CLI, reason="SHARDPLAN_CLI (the shardplan command) not set")


def cli_json(*args):
    done = subprocess.run([CLI, *args, "--json"], capture_output=True, text=True)
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout)


@needs_cli
def test_shards_and_fused_segments_match_the_command():
    assert sp.shards((16,), "dp=2,tp=2", "_S(0,2),S(0)") == cli_json(
        "shards", "--shape", "16", "--mesh", "dp=2,tp=2", "--placements", "_S(0,2),S(0)")
    # A fused QKV: 48 query heads and 2 KV heads of 128 rows at tp 4, KV heads replicated.
    ours = sp.shards((6656, 4), "tp=4", "S(0)", segments="0=6144,256,256/128", segment_policy="replicate")
    assert ours == cli_json("shards", "--shape", "6656,4", "--mesh", "tp=4", "--placements", "S(0)",
                            "--segments", "0=6144,256,256/128", "--segment-policy", "replicate")


@needs_cli
def test_redistribute_matches_the_command():
    ours = sp.redistribute((8, 8), (2, 2), "S(0),S(1)", "S(1),S(0)", dtype="f32", verify=True)
    assert ours == cli_json("redistribute", "--shape", "8,8", "--mesh", "2,2", "--from", "S(0),S(1)",
                            "--to", "S(1),S(0)", "--dtype", "f32", "--verify")
    assert [step["op"] for step in ours["steps"]] == ["permute"]


@needs_cli
def test_transfer_map_matches_the_command():
    ours = sp.transfer_map((8, 8), 4, "S(0)", (2, 2), "S(0),S(1)", dtype="f32")
    assert ours == cli_json("reshard", "--shape", "8,8", "--from-mesh", "4", "--from", "S(0)", "--to-mesh", "2,2",
                            "--to", "S(0),S(1)", "--dtype", "f32")


@needs_cli
@pytest.mark.parametrize("command, model, flags", [
    ("check", "llama-3.1-70b", {"tp": 8}),
    ("check", "qwen2.5-7b", {"tp": 8}),
    ("plan", "qwen3-30b-a3b", {"tp": 4, "ep": 2, "dp": 2, "rank": 3}),
    ("size", "mixtral-8x7b", {"tp": 8, "dp": 8, "ep": 8, "seq": 4096}),
])
def test_model_commands_match_the_command(command, model, flags):
    args = [command, "--model", model]
    for name, value in flags.items():
        args += ["--" + name, str(value)]
    assert getattr(sp, command)(model, **flags) == cli_json(*args)


def test_check_says_why_a_plan_is_invalid():
    result = sp.check("qwen2.5-7b", tp=8)
    assert result["valid"] is False
    assert sp.check("llama-3.1-70b", tp=8)["valid"] is True


def test_a_config_dict_is_a_model():
    config = {
        "model_type": "llama", "hidden_size": 4096, "intermediate_size": 14336, "num_hidden_layers": 32,
        "num_attention_heads": 32, "num_key_value_heads": 8, "head_dim": 128, "vocab_size": 128256,
        "tie_word_embeddings": False,
    }
    from_dict = sp.size(config, tp=8)
    preset = sp.size("llama-3.1-8b", tp=8)
    assert from_dict["total_params"] == preset["total_params"]
    assert from_dict["per_rank"] == preset["per_rank"]


def test_a_checkpoint_directory_is_read_through_its_config(tmp_path):
    config = {
        "model_type": "llama", "hidden_size": 4096, "intermediate_size": 14336, "num_hidden_layers": 32,
        "num_attention_heads": 32, "num_key_value_heads": 8, "head_dim": 128, "vocab_size": 128256,
        "tie_word_embeddings": False,
    }
    (tmp_path / "config.json").write_text(json.dumps(config))
    assert sp.check(tmp_path, tp=8)["valid"] is True
    assert sp.size(str(tmp_path), tp=8)["total_params"] == sp.size("llama-3.1-8b", tp=8)["total_params"]


def test_command_errors_raise_value_error():
    with pytest.raises(ValueError, match="--model: unknown preset 'nope'"):
        sp.check("nope")
    with pytest.raises(ValueError, match="--tp"):
        sp.check("llama-3.1-8b", tp=0)
    with pytest.raises(ValueError, match="--to"):
        sp.redistribute((8,), 2, "S(0)", "S(3)")
    with pytest.raises(ValueError, match="config"):
        sp.check(3.5)
    with pytest.raises(ValueError, match="unknown"):
        sp.run("no-such-command")
