#!/usr/bin/env python3
"""The peer on the GPU machine: AuroraEdge-V-2B's shapes through Hugging Face transformers.

Builds, with random weights, the decoder of model/python/configs/auroraedge-v-2b.json
as a transformers Qwen2ForCausalLM (28 layers, hidden 1536, 12/2 heads of 128,
SwiGLU 8960, vocab 151936, tied embeddings) and a SigLIP2 naflex vision tower of
so400m shapes (Siglip2VisionModel: 27 layers, hidden 1152, 16 heads, MLP 4304,
patch 16, 256 patches), and measures in one run:

  - decoder prefill of --prefill-tokens tokens (64 visual + 32 text + 2 = 98),
    warm, median of --repeats forward passes;
  - decode tokens/s at each --batches size through eager `generate` (SDPA
    attention, greedy, --new-tokens tokens forced by min_new_tokens so that
    EOS cannot stop a row): the time of generate(new_tokens) less that of
    generate(1), i.e. the decode steps alone, median of --repeats;
  - the vision tower at each --vision-batches size on 256 patches (16 x 16).

Prints a table and writes JSON (--json). The weights are random: only the
shapes and the arithmetic matter, as for the engine's own benchmark.

  python3 server/bench/gpu/hf_peer_bench.py --json hf_peer.json           # the GPU machine
  python3 server/bench/gpu/hf_peer_bench.py --dry-run                     # anywhere: plan and shapes
  python3 server/bench/gpu/hf_peer_bench.py --device cpu --tiny --json t.json  # small shapes, CPU

--dry-run needs neither torch nor transformers: it validates the arguments and
prints the shapes and parameter counts the run would use. Written for
transformers 5.x (4.5x also works): attention is chosen through the config's
attn_implementation and the dtype is set as the default while building.
"""

import argparse
import json
import os
import statistics
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
DEFAULT_CONFIG = os.path.join(REPO, "model", "python", "configs", "auroraedge-v-2b.json")

# SigLIP2-so400m-patch16-naflex, the vision tower the model config names.
SO400M = dict(hidden_size=1152, intermediate_size=4304, num_hidden_layers=27, num_attention_heads=16,
              patch_size=16, num_patches=256, layer_norm_eps=1e-6)
# --tiny: the same structure, small enough for a CPU in seconds.
TINY_DECODER = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                    num_key_value_heads=2, head_dim=16, vocab_size=1024)
TINY_VISION = dict(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                   patch_size=16, num_patches=256, layer_norm_eps=1e-6)


def positive_ints(text):
    values = [int(v) for v in text.split(",") if v.strip()]
    if not values or any(v <= 0 for v in values):
        raise argparse.ArgumentTypeError(f"expected positive integers separated by commas, got {text!r}")
    return values


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default=DEFAULT_CONFIG, help="AuroraEdge model config (decoder shapes)")
    parser.add_argument("--device", default="cuda", help="torch device (default cuda)")
    parser.add_argument("--dtype", default="bfloat16", choices=["bfloat16", "float16", "float32"])
    parser.add_argument("--prefill-tokens", type=int, default=98, help="prompt length (default 98 = 64 + 32 + 2)")
    parser.add_argument("--new-tokens", type=int, default=64, help="tokens generated per row (default 64)")
    parser.add_argument("--batches", type=positive_ints, default=[1, 16, 64], help="decode batch sizes")
    parser.add_argument("--vision-batches", type=positive_ints, default=[1, 16], help="vision batch sizes")
    parser.add_argument("--repeats", type=int, default=5, help="timed repeats per figure (median)")
    parser.add_argument("--warmup", type=int, default=2, help="untimed runs before each figure")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tiny", action="store_true", help="small shapes (a CPU check of the script)")
    parser.add_argument("--dry-run", action="store_true", help="print the plan and shapes; import nothing")
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args(argv)
    for name in ("prefill_tokens", "repeats"):
        if getattr(args, name) <= 0:
            parser.error(f"--{name.replace('_', '-')} must be positive")
    if args.new_tokens < 2:
        parser.error("--new-tokens must be at least 2 (decode time is generate(n) less generate(1))")
    if args.warmup < 0:
        parser.error("--warmup must not be negative")
    return args


def decoder_shapes(config_path, tiny):
    """The Qwen2 shapes of the AuroraEdge decoder, as transformers' Qwen2Config names them."""
    with open(config_path) as f:
        decoder = json.load(f)["decoder"]
    shapes = dict(hidden_size=decoder["hidden_size"], intermediate_size=decoder["intermediate_size"],
                  num_hidden_layers=decoder["num_layers"], num_attention_heads=decoder["num_attention_heads"],
                  num_key_value_heads=decoder["num_key_value_heads"], head_dim=decoder["head_dim"],
                  vocab_size=decoder["vocab_size"], rms_norm_eps=decoder["rms_norm_eps"],
                  rope_theta=decoder["rope_theta"], max_position_embeddings=decoder["max_position_embeddings"],
                  tie_word_embeddings=decoder["tie_word_embeddings"])
    if tiny:
        shapes.update(TINY_DECODER)
    if shapes["hidden_size"] != shapes["num_attention_heads"] * shapes["head_dim"]:
        raise ValueError("Qwen2 needs hidden_size == num_attention_heads * head_dim")
    return shapes


def vision_shapes(tiny):
    return dict(TINY_VISION if tiny else SO400M)


def decoder_parameters(s):
    """Parameter count of a Qwen2 decoder with these shapes (QKV biases, tied or not)."""
    h, kv = s["hidden_size"], s["num_key_value_heads"] * s["head_dim"]
    attention = h * h + h + 2 * (h * kv + kv) + h * h  # q (+bias), k and v (+bias), o
    mlp = 3 * h * s["intermediate_size"]
    layer = attention + mlp + 2 * h  # two RMSNorm weights
    embeddings = s["vocab_size"] * h * (1 if s["tie_word_embeddings"] else 2)
    return s["num_hidden_layers"] * layer + embeddings + h


def vision_parameters(s):
    """Parameter count of a Siglip2VisionModel (patch embedding, position grid, layers, post norm, head)."""
    h, m = s["hidden_size"], s["intermediate_size"]
    patch = 3 * s["patch_size"] ** 2 * h + h
    positions = s["num_patches"] * h
    layer = 4 * (h * h + h) + (h * m + m) + (m * h + h) + 4 * h
    # The attention-pooling head: probe, in- and out-projections, norm, MLP.
    head = h + 3 * (h * h + h) + (h * h + h) + 2 * h + (h * m + m) + (m * h + h)
    return patch + positions + s["num_hidden_layers"] * layer + 2 * h + head


def plan(args):
    decoder = decoder_shapes(args.config, args.tiny)
    vision = vision_shapes(args.tiny)
    return {
        "device": args.device, "dtype": args.dtype, "tiny": args.tiny,
        "decoder": decoder, "decoder_parameters": decoder_parameters(decoder),
        "vision": vision, "vision_parameters": vision_parameters(vision),
        "prefill_tokens": args.prefill_tokens, "new_tokens": args.new_tokens,
        "batches": args.batches, "vision_batches": args.vision_batches,
        "repeats": args.repeats, "warmup": args.warmup,
        "vision_input": {"pixel_values": [None, vision["num_patches"], 3 * vision["patch_size"] ** 2],
                         "spatial_shapes": [int(vision["num_patches"] ** 0.5)] * 2},
    }


# ----------------------------------------------------------------------------- measuring (needs torch)

def import_stack():
    try:
        import torch
        import transformers
    except ImportError as error:
        sys.exit(f"hf_peer_bench.py: {error}; the peer benchmark needs torch and transformers "
                 "(use --dry-run to check the plan without them)")
    return torch, transformers


class Timer:
    """Wall time of a callable on a device, synchronised, median of repeats after warm-up."""

    def __init__(self, torch, device, warmup, repeats):
        self.torch, self.device, self.warmup, self.repeats = torch, torch.device(device), warmup, repeats

    def sync(self):
        if self.device.type == "cuda":
            self.torch.cuda.synchronize(self.device)

    def median_seconds(self, fn):
        for _ in range(self.warmup):
            fn()
        times = []
        for _ in range(self.repeats):
            self.sync()
            start = time.perf_counter()
            fn()
            self.sync()
            times.append(time.perf_counter() - start)
        return statistics.median(times)


def build_decoder(torch, transformers, shapes):
    config = transformers.Qwen2Config(
        vocab_size=shapes["vocab_size"], hidden_size=shapes["hidden_size"],
        intermediate_size=shapes["intermediate_size"], num_hidden_layers=shapes["num_hidden_layers"],
        num_attention_heads=shapes["num_attention_heads"], num_key_value_heads=shapes["num_key_value_heads"],
        max_position_embeddings=shapes["max_position_embeddings"], rms_norm_eps=shapes["rms_norm_eps"],
        rope_theta=shapes["rope_theta"], tie_word_embeddings=shapes["tie_word_embeddings"],
        use_sliding_window=False, attn_implementation="sdpa",
        bos_token_id=None, eos_token_id=0, pad_token_id=0)
    # transformers 5 keeps RoPE settings in rope_parameters; 4.x reads rope_theta.
    if isinstance(getattr(config, "rope_parameters", None), dict):
        config.rope_parameters["rope_theta"] = shapes["rope_theta"]
    if getattr(config, "head_dim", shapes["head_dim"]) != shapes["head_dim"]:
        config.head_dim = shapes["head_dim"]
    return transformers.Qwen2ForCausalLM(config).eval()


def build_vision(torch, transformers, shapes):
    config = transformers.Siglip2VisionConfig(
        hidden_size=shapes["hidden_size"], intermediate_size=shapes["intermediate_size"],
        num_hidden_layers=shapes["num_hidden_layers"], num_attention_heads=shapes["num_attention_heads"],
        num_channels=3, num_patches=shapes["num_patches"], patch_size=shapes["patch_size"],
        hidden_act="gelu_pytorch_tanh", layer_norm_eps=shapes["layer_norm_eps"], attn_implementation="sdpa")
    return transformers.Siglip2VisionModel(config).eval()


def count_parameters(model):
    return sum(p.numel() for p in model.parameters())


def measure(args, the_plan):
    torch, transformers = import_stack()
    torch.manual_seed(args.seed)
    device = torch.device(args.device)
    dtype = getattr(torch, args.dtype)
    timer = Timer(torch, device, args.warmup, args.repeats)
    results = dict(the_plan, torch=torch.__version__, transformers=transformers.__version__)
    if device.type == "cuda":
        results["gpu"] = torch.cuda.get_device_name(device)
        torch.backends.cuda.matmul.allow_tf32 = True

    # Build directly on the device in the benchmark's dtype (no fp32 copy on the host).
    previous_dtype = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    with torch.device(device):
        decoder = build_decoder(torch, transformers, the_plan["decoder"])
        vision = build_vision(torch, transformers, the_plan["vision"])
    torch.set_default_dtype(previous_dtype)
    results["decoder_parameters_built"] = count_parameters(decoder)
    results["vision_parameters_built"] = count_parameters(vision)

    vocab = the_plan["decoder"]["vocab_size"]
    with torch.inference_mode():
        prompt = torch.randint(1, vocab, (1, args.prefill_tokens), device=device)
        seconds = timer.median_seconds(lambda: decoder(input_ids=prompt, use_cache=True))
        results["prefill_ms"] = seconds * 1e3

        results["decode"] = []
        for batch in args.batches:
            prompts = torch.randint(1, vocab, (batch, args.prefill_tokens), device=device)
            mask = torch.ones_like(prompts)

            def generate(new_tokens):
                out = decoder.generate(input_ids=prompts, attention_mask=mask, do_sample=False,
                                       max_new_tokens=new_tokens, min_new_tokens=new_tokens,
                                       eos_token_id=0, pad_token_id=0)
                if out.shape[1] != args.prefill_tokens + new_tokens:
                    raise RuntimeError(f"generate stopped at {out.shape[1] - args.prefill_tokens} tokens")

            first = timer.median_seconds(lambda: generate(1))
            full = timer.median_seconds(lambda: generate(args.new_tokens))
            steps = args.new_tokens - 1
            results["decode"].append({
                "batch": batch, "new_tokens": args.new_tokens,
                "generate_ms": full * 1e3, "prefill_and_first_token_ms": first * 1e3,
                "decode_step_ms": (full - first) / steps * 1e3,
                "tokens_per_second": batch * steps / (full - first)})

        results["vision"] = []
        v = the_plan["vision"]
        side = int(v["num_patches"] ** 0.5)
        for batch in args.vision_batches:
            pixels = torch.randn(batch, v["num_patches"], 3 * v["patch_size"] ** 2, device=device, dtype=dtype)
            mask = torch.ones(batch, v["num_patches"], dtype=torch.long, device=device)
            spatial = torch.tensor([[side, side]] * batch, dtype=torch.long, device=device)
            seconds = timer.median_seconds(
                lambda: vision(pixel_values=pixels, pixel_attention_mask=mask, spatial_shapes=spatial))
            results["vision"].append({"batch": batch, "patches": v["num_patches"], "ms": seconds * 1e3})
    return results


def print_table(results):
    print(f"Hugging Face peer: transformers {results.get('transformers', '-')}, torch {results.get('torch', '-')}, "
          f"{results.get('gpu', results['device'])}, {results['dtype']}")
    print(f"decoder {results['decoder_parameters_built'] / 1e9:.3f} B parameters, "
          f"vision {results['vision_parameters_built'] / 1e6:.1f} M")
    print(f"prefill {results['prefill_tokens']} tokens: {results['prefill_ms']:.2f} ms (median)")
    for d in results["decode"]:
        print(f"decode batch {d['batch']:>3}: {d['tokens_per_second']:9.1f} tokens/s "
              f"({d['decode_step_ms']:.2f} ms/step, generate {d['generate_ms']:.1f} ms)")
    for v in results["vision"]:
        print(f"vision batch {v['batch']:>3} x {v['patches']} patches: {v['ms']:.2f} ms")


def main(argv=None):
    args = parse_args(argv)
    the_plan = plan(args)
    if args.dry_run:
        print(json.dumps(the_plan, indent=2))
        results = the_plan
    else:
        results = measure(args, the_plan)
        print_table(results)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
