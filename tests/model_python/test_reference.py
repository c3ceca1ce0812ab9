"""The reference model: deterministic initialisation, incremental decoding
equal to the full forward pass, batching, both paths, input checks."""

import pytest
import torch

from auroraedge.decoder import decoder_tensor_shapes
from auroraedge.init import random_tensor
from auroraedge.reference import Sequence, build_random, generate
from auroraedge.vision import valid_rows

GRIDS = torch.tensor([[8, 8], [4, 12], [2, 32]])


def images(config, count=3, seed=0):
    generator = torch.Generator().manual_seed(seed)
    grid_hw = GRIDS[:count]
    patches = torch.rand(count, config.vision.max_num_patches, config.vision.patch_dim,
                         generator=generator) * 2 - 1
    return patches * valid_rows(grid_hw, patches.shape[1]).unsqueeze(-1), grid_hw


def image_run(config):
    return ([config.vision_start_token_id] + [config.image_pad_token_id] *
            config.visual_tokens_per_image + [config.vision_end_token_id])


def two_image_prompt(config):
    return [3, 14, 15] + image_run(config) + [92, 65] + image_run(config) + [35, 89, 79, 32]


def full_logits(model, prompt, generated, patches, grid_hw):
    pad = model.config.image_pad_token_id
    visual_mask = torch.tensor([[t == pad for t in prompt] + [False] * len(generated)])
    with torch.no_grad():
        return model(torch.tensor([prompt + generated]), patches, grid_hw,
                     visual_mask=visual_mask)[0]


def test_same_seed_same_weights_other_seed_other_weights(small_config):
    config = small_config()
    a, b, c = build_random(config, 7), build_random(config, 7), build_random(config, 8)
    for name, tensor in a.state_dict().items():
        assert torch.equal(tensor, b.state_dict()[name]), name
        assert not torch.equal(tensor, c.state_dict()[name]), name


def test_streamed_decoder_tensors_equal_the_built_decoder(small_config):
    config = small_config()
    model = build_random(config, 3)
    state = model.decoder.state_dict()
    shapes = decoder_tensor_shapes(config)
    assert [name for name, _ in shapes] == list(state)
    for name, shape in shapes:
        assert torch.equal(random_tensor("decoder." + name, shape, 3, config.initializer_range),
                           state[name]), name


@pytest.mark.parametrize("path", ["compressed", "baseline"])
@pytest.mark.parametrize("chunk_size", [0, 5])
def test_incremental_decoding_equals_full_forward(small_config, path, chunk_size):
    config = small_config(path)
    model = build_random(config, 0)
    patches, grid_hw = images(config, 2)
    prompt = two_image_prompt(config)
    generated, incremental = generate(model, prompt, patches, grid_hw, 20, chunk_size)
    full = full_logits(model, prompt, generated, patches, grid_hw)
    assert incremental.shape == (len(prompt) + 20, config.decoder.vocab_size)
    assert (incremental - full).abs().max() < 1e-5
    assert generated == full[len(prompt) - 1:-1].argmax(-1).tolist()


def test_text_only_prompt_decodes_without_images(small_config):
    model = build_random(small_config(), 0)
    prompt = [5, 6, 7, 8, 9]
    generated, incremental = generate(model, prompt, None, None, 10)
    full = full_logits(model, prompt, generated, None, None)
    assert torch.isfinite(full).all()
    assert (incremental - full).abs().max() < 1e-5


def test_generated_image_pad_token_is_text(small_config):
    config = small_config()
    model = build_random(config, 0)
    patches, grid_hw = images(config, 1)
    prompt = [1, 2] + image_run(config) + [3]
    sequence = Sequence(model, prompt, patches, grid_hw)
    sequence.prefill()
    with torch.no_grad():
        step = sequence.feed([config.image_pad_token_id], [False])[0]
    full = full_logits(model, prompt, [config.image_pad_token_id], patches, grid_hw)[-1]
    assert (step - full).abs().max() < 1e-5


@pytest.mark.parametrize("path", ["compressed", "baseline"])
def test_batch_with_padding_equals_each_sequence_alone(small_config, path):
    config = small_config(path)
    model = build_random(config, 1)
    patches, grid_hw = images(config, 3)
    long_prompt = two_image_prompt(config)
    short_prompt = [4, 5] + image_run(config) + [6]
    ids = torch.zeros(3, len(long_prompt), dtype=torch.long)
    mask = torch.zeros_like(ids)
    for row, prompt in enumerate([long_prompt, short_prompt, [7, 8, 9]]):
        ids[row, :len(prompt)] = torch.tensor(prompt)
        mask[row, :len(prompt)] = 1
    with torch.no_grad():
        batch = model(ids, patches, grid_hw, attention_mask=mask)
        alone = [model(torch.tensor([long_prompt]), patches[:2], grid_hw[:2])[0],
                 model(torch.tensor([short_prompt]), patches[2:], grid_hw[2:])[0],
                 model(torch.tensor([[7, 8, 9]]))[0]]
    assert (batch[0] - alone[0]).abs().max() < 1e-5
    assert (batch[1, :len(short_prompt)] - alone[1]).abs().max() < 1e-5
    assert (batch[2, :3] - alone[2]).abs().max() < 1e-5


def test_baseline_feeds_all_visual_rows_and_has_no_fusion(small_config):
    config = small_config("baseline")
    model = build_random(config, 0)
    patches, grid_hw = images(config, 2)
    visual = model.encode_images(patches, grid_hw)
    assert model.compress_fusion is None
    assert config.visual_tokens_per_image == config.vision.max_num_patches
    assert torch.equal(model.visual_tokens(visual, grid_hw), visual)
    prompt = two_image_prompt(config)
    assert len(prompt) == 9 + 2 * (config.vision.max_num_patches + 2)
    with torch.no_grad():
        assert model(torch.tensor([prompt]), patches, grid_hw).shape == \
            (1, len(prompt), config.decoder.vocab_size)


def test_compressor_gives_num_tokens_per_image(small_config):
    config = small_config()
    model = build_random(config, 0)
    patches, grid_hw = images(config, 3)
    with torch.no_grad():
        tokens = model.visual_tokens(model.encode_images(patches, grid_hw), grid_hw)
    assert tokens.shape == (3, config.compressor.num_tokens, config.decoder.hidden_size)


def test_padded_slots_are_zero_and_ignored(small_config):
    config = small_config()
    model = build_random(config, 0)
    patches, grid_hw = images(config, 3)
    noisy = patches.clone()
    valid = valid_rows(grid_hw, patches.shape[1])
    noisy[~valid] = 5.0
    with torch.no_grad():
        clean_v = model.encode_images(patches, grid_hw)
        noisy_v = model.encode_images(noisy, grid_hw)
    assert (clean_v[~valid] == 0).all()
    assert (clean_v - noisy_v).abs().max() < 1e-5


def test_images_of_a_batch_are_independent(small_config):
    config = small_config()
    model = build_random(config, 0)
    patches, grid_hw = images(config, 3)
    with torch.no_grad():
        together = model.encode_images(patches, grid_hw)
        for i in range(3):
            alone = model.encode_images(patches[i:i + 1], grid_hw[i:i + 1])[0]
            assert (together[i] - alone).abs().max() < 1e-5


@pytest.mark.parametrize("path", ["compressed", "baseline"])
def test_which_text_tokens_see_the_image(small_config, path):
    """Baseline: only tokens after the image (causal). Compressed: every text
    token, since the fusion layer cross-attends to all of the request's V."""
    config = small_config(path)
    model = build_random(config, 0)
    patches, grid_hw = images(config, 1)
    other, _ = images(config, 1, seed=1)
    prompt = [1, 2] + image_run(config) + [3, 4]
    with torch.no_grad():
        a = model(torch.tensor([prompt]), patches, grid_hw)[0]
        b = model(torch.tensor([prompt]), other, grid_hw)[0]
    before = (a[:2] - b[:2]).abs().max()
    assert before > 1e-3 if path == "compressed" else before < 1e-6
    assert (a[-1] - b[-1]).abs().max() > 1e-3


def test_fusion_cross_attention_sees_full_resolution_features(small_config):
    """The fused text changes with V even when the compressed tokens do not."""
    config = small_config()
    model = build_random(config, 0)
    patches, grid_hw = images(config, 1)
    with torch.no_grad():
        visual = model.encode_images(patches, grid_hw)
        fusion = model.compress_fusion
        text = model.decoder.embed_tokens(torch.tensor([[1, 2, 3]]))
        empty = torch.zeros(1, config.fusion.num_heads, 0, config.fusion.head_dim)
        positions = torch.arange(3)
        valid = visual[:, :64]
        with_image = fusion.fuse(text, positions, empty, empty, *fusion.cross_kv(valid))[0]
        without = fusion.fuse(text, positions, empty, empty,
                              *fusion.cross_kv(valid[:, :0]))[0]
    assert (with_image - without).abs().max() > 1e-3
    assert torch.isfinite(without).all()


def test_bad_grid_and_placeholder_counts_are_refused(small_config):
    config = small_config()
    model = build_random(config, 0)
    patches, _ = images(config, 1)
    with pytest.raises(ValueError, match=r"grid_hw\[0\]: 9x9 patches"):
        model.encode_images(patches, torch.tensor([[9, 9]]))
    with pytest.raises(ValueError, match="placeholders for 0 images, patches hold 1"):
        model(torch.tensor([[1, 2, 3]]), patches, GRIDS[:1])
    with pytest.raises(ValueError, match="prompt: 0 image slots for 1 images"):
        Sequence(model, [1, 2, 3], patches, GRIDS[:1])
