"""Named configurations and config validation."""

import json

import pytest

from auroraedge.config import ConfigError, config_from_dict, load_config, resolve_config_path
from auroraedge.tokenizer_info import apply_tokenizer, read_tokenizer_info


def test_2b_config_is_the_design_table():
    c = load_config("2b")
    assert (c.vision.hidden_size, c.vision.num_layers, c.vision.num_heads,
            c.vision.intermediate_size, c.vision.patch_size, c.vision.max_num_patches,
            c.vision.position_grid) == (1152, 27, 16, 4304, 16, 256, 16)
    assert (c.projector.hidden_size, c.compressor.num_tokens) == (1536, 64)
    d = c.decoder
    assert (d.hidden_size, d.num_layers, d.num_attention_heads, d.num_key_value_heads,
            d.head_dim, d.intermediate_size, d.vocab_size, d.rope_theta,
            d.tie_word_embeddings) == (1536, 28, 12, 2, 128, 8960, 151936, 1e6, True)
    assert c.path == "compressed" and c.visual_tokens_per_image == 64


def test_small_config_keeps_the_4_to_1_compression():
    c = load_config("small")
    assert c.vision.max_num_patches == 4 * c.compressor.num_tokens
    assert c.vision.position_grid ** 2 == c.vision.max_num_patches
    assert c.decoder.vocab_size == 0  # follows the tokenizer


def test_vocabulary_and_special_ids_follow_the_tokenizer(tokenizer_path):
    small = load_config("small")
    apply_tokenizer(small, read_tokenizer_info(tokenizer_path), tokenizer_path)
    assert small.decoder.vocab_size == 306
    assert (small.vision_start_token_id, small.vision_end_token_id,
            small.image_pad_token_id) == (303, 304, 305)
    big = load_config("2b")
    apply_tokenizer(big, read_tokenizer_info(tokenizer_path), tokenizer_path)
    assert big.decoder.vocab_size == 151936  # padded vocabulary kept


def test_too_small_vocabulary_is_refused(tokenizer_path):
    config = load_config("small")
    config.decoder.vocab_size = 100
    with pytest.raises(ConfigError, match=r"decoder.vocab_size': expected at least the 306 ids"):
        apply_tokenizer(config, read_tokenizer_info(tokenizer_path), tokenizer_path)


def test_tokenizer_without_image_pad_is_refused(tmp_path):
    path = tmp_path / "tokenizer.json"
    path.write_text(json.dumps({"model": {"vocab": {"a": 0}},
                                "added_tokens": [{"id": 1, "content": "<|im_end|>"}]}))
    with pytest.raises(ConfigError, match=r"no '<\|image_pad\|>'"):
        read_tokenizer_info(str(path))


@pytest.mark.parametrize("change, message", [
    ({"fusion": {"num_heads": 5}}, "fusion.num_heads \\* fusion.head_dim': expected "
                                   "decoder.hidden_size \\(1536\\), found 640"),
    ({"decoder": {"num_key_value_heads": 5}}, "decoder.num_attention_heads"),
    ({"path": "llava"}, "'path': expected one of"),
    ({"vision": {"num_layers": 0}}, "'vision.num_layers': expected a positive integer"),
    ({"visual_tokens_per_image": 32}, "'visual_tokens_per_image': expected 64, found 32"),
])
def test_bad_values_are_named(change, message):
    with open(resolve_config_path("2b"), encoding="utf-8") as f:
        data = json.load(f)
    for key, value in change.items():
        if isinstance(value, dict):
            data[key].update(value)
        else:
            data[key] = value
    with pytest.raises(ConfigError, match=message):
        config_from_dict(data)
