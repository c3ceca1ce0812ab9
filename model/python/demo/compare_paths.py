#!/usr/bin/python3
"""The paper's claim in miniature: the demo model trained on the compressed
path against the same training on the baseline path (same data, seed, steps).

For each model directory it reports the held-out accuracy per question type
(from its training report), the decoder's prefill FLOPs for one inspection
question, and, through the real server (one request at a time, greedy), the
median time to first token and decode tokens/s. Prints a Markdown table and
writes JSON.

  /usr/bin/python3 model/python/demo/compare_paths.py \\
      --compressed models/auroraedge-demo --baseline build-demo/auroraedge-demo-baseline \\
      --server build/server/src/app/auroraedge-server --proto-dir build/python --out compare.json
"""

import argparse
import io
import json
import os
import statistics
import sys

DEMO_DIR = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(DEMO_DIR)))
sys.path.insert(0, DEMO_DIR)
from inspection_task import QUESTION_TYPES, QUESTIONS  # noqa: E402
import synthetic_parts  # noqa: E402


def decoder_prefill_flops(config: dict, prompt_length: int) -> int:
    """Multiply-adds x 2 of the decoder over a prompt (projections, causal
    attention, MLP, the last position's LM head); the fusion layer is not
    part of the decoder and is counted separately."""
    d = config["decoder"]
    hidden, heads, kv_heads = d["hidden_size"], d["num_attention_heads"], d["num_key_value_heads"]
    head_dim, inter, layers = d["head_dim"], d["intermediate_size"], d["num_layers"]
    per_token = (hidden * (heads + 2 * kv_heads) * head_dim  # q, k, v
                 + heads * head_dim * hidden                 # o
                 + 3 * hidden * inter)                       # gate, up, down
    attention = heads * head_dim * prompt_length * (prompt_length + 1)  # QK^T and AV, causal
    return 2 * layers * (per_token * prompt_length + attention) + 2 * hidden * d["vocab_size"]


def fusion_prefill_flops(config: dict, text_tokens: int, visual_rows: int) -> int:
    """The compressed path's extra work: the fusion layer over the text tokens
    (self-attention, cross-attention to all visual rows, MLP) and the compressor."""
    if config["path"] != "compressed":
        return 0
    d, f = config["decoder"], config["fusion"]
    hidden, inner = d["hidden_size"], f["num_heads"] * f["head_dim"]
    projections = 2 * 4 * hidden * inner * text_tokens + 2 * 2 * hidden * inner * visual_rows
    attention = 2 * inner * text_tokens * (text_tokens + 1) + 4 * inner * text_tokens * visual_rows
    mlp = 2 * 3 * hidden * f["intermediate_size"] * text_tokens
    p, c = config["vision"]["max_num_patches"], config["compressor"]
    compressor = 2 * hidden * (p * c["hidden_size"] + c["hidden_size"] * c["num_tokens"])
    return projections + attention + mlp + compressor


def served_timings(server_bin: str, model_dir: str, images, question: str):
    """Median TTFT (s) and decode tokens/s over the images, one request at a time
    (tokens/s is None when no answer was longer than one token)."""
    from aurora_client import Client, pb, split_responses  # pylint: disable=import-outside-toplevel
    from server_process import ServerProcess  # pylint: disable=import-outside-toplevel

    # The server's own thread default, as a user runs it: the test harness's
    # --threads 2 without OMP_WAIT_POLICY=PASSIVE let spinning OpenMP workers
    # add 90-140 ms to some requests' time to first token (README, CPU threads).
    process = ServerProcess(model_dir=model_dir, threads=None)
    ttft, decode_rates = [], []
    try:
        process.wait_serving()
        client = Client(process.address)
        for png in images:
            request = pb.GenerateRequest(images=[pb.Image(encoded=png)], prompt=question,
                                         sampling=pb.SamplingParams(max_new_tokens=48,
                                                                    temperature=0.0))
            _, final = split_responses(client.generate(request, timeout=300))
            ttft.append(final.timings.time_to_first_token_seconds)
            if final.completion_tokens > 1 and final.timings.decode_seconds > 0:
                decode_rates.append((final.completion_tokens - 1) / final.timings.decode_seconds)
        client.close()
    finally:
        process.terminate()
    return statistics.median(ttft), statistics.median(decode_rates) if decode_rates else None


def describe(model_dir: str, server_bin: str, images) -> dict:
    from prompt_ids import BpeEncoder, ChatPrompt  # pylint: disable=import-outside-toplevel
    with open(os.path.join(model_dir, "config.json")) as f:
        config = json.load(f)
    with open(os.path.join(model_dir, "training-report", "report.json")) as f:
        report = json.load(f)
    chat = ChatPrompt(BpeEncoder(os.path.join(model_dir, "tokenizer.json")),
                      config["visual_tokens_per_image"])
    prompt = chat.prompt(QUESTIONS["record"])
    visual = config["visual_tokens_per_image"]
    text_tokens = len(prompt) - visual
    ttft, tokens_per_second = served_timings(server_bin, model_dir, images, QUESTIONS["record"])
    return {
        "path": config["path"], "model_dir": model_dir,
        "accuracy_test": report["accuracy"]["test"],
        "prompt_tokens": len(prompt), "visual_tokens": visual,
        "decoder_prefill_flops": decoder_prefill_flops(config, len(prompt)),
        "fusion_and_compressor_flops": fusion_prefill_flops(
            config, text_tokens, config["vision"]["max_num_patches"]),
        "ttft_seconds_median": ttft, "decode_tokens_per_second_median": tokens_per_second,
        "training_wall_seconds": report["wall_seconds"],
        "training_cpu_seconds": report["cpu_seconds"],
    }


def markdown(results) -> str:
    compressed, baseline = results["compressed"], results["baseline"]
    rows = [f"| accuracy: {t} | {100 * compressed['accuracy_test'][t]:.1f}% | "
            f"{100 * baseline['accuracy_test'][t]:.1f}% |" for t in QUESTION_TYPES + ["overall"]]
    rows += [
        f"| decoder input tokens (record question) | {compressed['prompt_tokens']} | "
        f"{baseline['prompt_tokens']} |",
        f"| decoder prefill MFLOPs | {compressed['decoder_prefill_flops'] / 1e6:.1f} | "
        f"{baseline['decoder_prefill_flops'] / 1e6:.1f} |",
        f"| fusion + compressor MFLOPs | {compressed['fusion_and_compressor_flops'] / 1e6:.1f} | "
        f"{baseline['fusion_and_compressor_flops'] / 1e6:.1f} |",
        f"| TTFT through the server, median | {1000 * compressed['ttft_seconds_median']:.1f} ms | "
        f"{1000 * baseline['ttft_seconds_median']:.1f} ms |",
        "| decode tokens/s, median | " + " | ".join(
            "n/a" if r["decode_tokens_per_second_median"] is None
            else f"{r['decode_tokens_per_second_median']:.0f}" for r in (compressed, baseline))
        + " |",
    ]
    return "\n".join(["| | compressed (AuroraEdge-V) | baseline (LLaVA path) |",
                      "| --- | ---: | ---: |"] + rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 2)[2])
    parser.add_argument("--compressed", default=os.path.join(ROOT, "models", "auroraedge-demo"))
    parser.add_argument("--baseline", required=True)
    parser.add_argument("--server", required=True, help="the auroraedge-server binary")
    parser.add_argument("--proto-dir", required=True,
                        help="the build's generated Python messages (<build>/python)")
    parser.add_argument("--requests", type=int, default=30, help="timed requests per model")
    parser.add_argument("--out", default="compare_paths.json")
    args = parser.parse_args()
    # The integration tests' server launcher and client read these.
    os.environ["AURORAEDGE_TEST_SERVER"] = args.server
    os.environ["AURORAEDGE_TEST_MODEL"] = args.compressed
    os.environ["AURORAEDGE_PYTHON_PROTO_DIR"] = args.proto_dir
    sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
    # The generated messages' package is also called "auroraedge", like the
    # reference model's in model/python (which prompt_ids puts on the path):
    # import the messages first.
    import aurora_client  # noqa: F401 pylint: disable=import-outside-toplevel,unused-import

    images = []
    for image, _ in synthetic_parts.generate(synthetic_parts.split_seed("test"), args.requests):
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        images.append(buffer.getvalue())
    results = {"compressed": describe(args.compressed, args.server, images),
               "baseline": describe(args.baseline, args.server, images)}
    with open(args.out, "w") as f:
        json.dump(results, f, indent=1)
        f.write("\n")
    print(markdown(results))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
