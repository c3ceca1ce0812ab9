#!/usr/bin/python3
"""auroraedge-inspect-bench: what issue 18's features cost, against the demo
model through a server it starts (or one already running). Writes JSON.

1. Inspect vs Generate, same question and images, 1 and 16 streams: Inspect
   with 2 and with 8 labels, a one-token Generate (max_new_tokens 1) and the
   Generate of the same one-word answer ("OK"/"NG" and the end of the turn):
   client-side latency p50/p99 and calls/s. The image-feature cache is off
   for this part (every image is new to the server, as on a line).
2. Constrained decoding: the record question at 16 streams, unconstrained vs
   json_schema (the demo's record schema); the server's decode time per token
   (Timings.decode_seconds / (completion_tokens - 1)).
3. Image-feature cache: time to first token of a one-token Generate with a
   cached golden reference and a new test image, against two new images
   (one stream, cache on).

Each part runs its modes in alternating rounds and reports per-round ratios
and their median, so that the load of a shared machine falls on all modes
alike. A benchmark, not a test."""
import argparse
import io
import json
import os
import statistics
import sys
import threading
import time

import serving_harness

REPO = serving_harness.REPO
sys.path.insert(0, os.path.join(REPO, "model", "python", "demo"))

QUESTION = "Is the part OK or NG?"
RECORD_QUESTION = "Give the inspection record as JSON."
EIGHT_LABELS = ["OK", "NG", "none", "scratch", "dent", "crack", "missing hole", "burr"]


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def held_out_pngs(count, seed_split="test"):
    import synthetic_parts  # the demo's generator: held-out parts
    pngs = []
    for image, _ in synthetic_parts.generate(synthetic_parts.split_seed(seed_split), count):
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        pngs.append(buffer.getvalue())
    return pngs


def run_streams(streams, seconds, call):
    """`streams` clients calling call(i) back to back for `seconds`;
    returns (latencies, extra results, wall seconds)."""
    latencies, results, errors = [], [], []
    lock = threading.Lock()
    counter = [0]
    stop_at = time.monotonic() + seconds

    def client_loop():
        while time.monotonic() < stop_at:
            with lock:
                index = counter[0]
                counter[0] += 1
            start = time.monotonic()
            try:
                result = call(index)
            except Exception as error:  # noqa: BLE001 - reported, not hidden
                with lock:
                    errors.append(repr(error))
                continue
            elapsed = time.monotonic() - start
            with lock:
                latencies.append(elapsed)
                results.append(result)

    started = time.monotonic()
    threads = [threading.Thread(target=client_loop) for _ in range(streams)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise RuntimeError(f"{len(errors)} calls failed, e.g. {errors[0]}")
    return latencies, results, time.monotonic() - started


def summary(latencies, wall):
    return {"calls": len(latencies), "p50_ms": 1000 * percentile(latencies, 50),
            "p99_ms": 1000 * percentile(latencies, 99), "calls_per_s": len(latencies) / wall}


def inspect_vs_generate(aurora, pb, address, pngs, seconds, rounds):
    client = aurora.Client(address)
    image = lambda i: pb.Image(encoded=pngs[i % len(pngs)])  # noqa: E731

    def generate(i, max_new_tokens):
        request = pb.GenerateRequest(images=[image(i)], prompt=QUESTION, sampling=pb.SamplingParams(
            max_new_tokens=max_new_tokens, temperature=0.0))
        return list(client.generate_stream(request, timeout=300))

    modes = {
        "inspect_2_labels": lambda i: client.inspect(pb.InspectRequest(
            images=[image(i)], prompt=QUESTION, labels=["OK", "NG"]), timeout=300),
        "inspect_8_labels": lambda i: client.inspect(pb.InspectRequest(
            images=[image(i)], prompt=QUESTION, labels=EIGHT_LABELS), timeout=300),
        "generate_1_token": lambda i: generate(i, 1),
        "generate_answer": lambda i: generate(i, 8),
    }
    report = {}
    try:
        for streams in (1, 16):
            per_round = []
            for _ in range(rounds):
                per_round.append({name: summary(*run_streams(streams, seconds, call)[::2])
                                  for name, call in modes.items()})
            level = {name: {key: statistics.median(r[name][key] for r in per_round)
                            for key in per_round[0][name]} for name in modes}
            for labels in ("inspect_2_labels", "inspect_8_labels"):
                for reference in ("generate_1_token", "generate_answer"):
                    for key in ("p50_ms", "p99_ms"):
                        level[f"{labels}_vs_{reference}_{key}_ratio"] = statistics.median(
                            r[labels][key] / r[reference][key] for r in per_round)
            level["rounds"] = per_round
            report[f"{streams}_streams"] = level
    finally:
        client.close()
    return report


def constrained_overhead(aurora, pb, address, pngs, seconds, rounds):
    client = aurora.Client(address)
    with open(os.path.join(REPO, "model", "python", "demo", "record.schema.json")) as f:
        schema = f.read()

    def record(i, constrained):
        sampling = pb.SamplingParams(max_new_tokens=64, temperature=0.0)
        if constrained:
            sampling.json_schema = schema
        responses = list(client.generate_stream(pb.GenerateRequest(
            images=[pb.Image(encoded=pngs[i % len(pngs)])], prompt=RECORD_QUESTION,
            sampling=sampling), timeout=300))
        final = responses[-1].final
        return final.timings.decode_seconds, final.completion_tokens

    def per_token_ms(results):
        decode = sum(d for d, _ in results)
        tokens = sum(max(0, n - 1) for _, n in results)
        return 1000 * decode / tokens

    per_round = []
    try:
        for _ in range(rounds):
            one = {}
            for name, constrained in (("unconstrained", False), ("json_schema", True)):
                latencies, results, wall = run_streams(16, seconds,
                                                       lambda i, c=constrained: record(i, c))
                one[name] = {**summary(latencies, wall), "decode_ms_per_token": per_token_ms(results),
                             "tokens_per_answer": statistics.mean(n for _, n in results)}
            one["overhead"] = (one["json_schema"]["decode_ms_per_token"] /
                               one["unconstrained"]["decode_ms_per_token"] - 1)
            per_round.append(one)
    finally:
        client.close()
    return {"streams": 16, "overhead_median": statistics.median(r["overhead"] for r in per_round),
            "rounds": per_round}


def cache_ttft(aurora, pb, address, requests_per_mode, rounds):
    client = aurora.Client(address)
    golden = serving_harness.raw_image(pb, seed=1000)
    golden.role = pb.IMAGE_ROLE_REFERENCE
    next_seed = [2000]

    def new_image():
        next_seed[0] += 1
        return serving_harness.raw_image(pb, seed=next_seed[0])

    def ttft(images):
        responses = list(client.generate_stream(pb.GenerateRequest(
            images=images, prompt="Does the part match the reference?",
            sampling=pb.SamplingParams(max_new_tokens=1, temperature=0.0)), timeout=300))
        return responses[-1].final.timings.time_to_first_token_seconds

    per_round = []
    try:
        ttft([golden, new_image()])  # the golden image is cached from here on
        for _ in range(rounds):
            cached = [ttft([golden, new_image()]) for _ in range(requests_per_mode)]
            both_new = []
            for _ in range(requests_per_mode):
                reference = new_image()
                reference.role = pb.IMAGE_ROLE_REFERENCE
                both_new.append(ttft([reference, new_image()]))
            per_round.append({"cached_golden_p50_ms": 1000 * percentile(cached, 50),
                              "both_new_p50_ms": 1000 * percentile(both_new, 50),
                              "ratio": percentile(cached, 50) / percentile(both_new, 50)})
    finally:
        client.close()
    return {"requests_per_mode": requests_per_mode,
            "ratio_median": statistics.median(r["ratio"] for r in per_round), "rounds": per_round}


def main():
    build_dir = os.environ.get("AURORAEDGE_BUILD_DIR", os.path.join(REPO, "build"))
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    serving_harness.add_server_arguments(parser, build_dir)
    parser.set_defaults(model=os.path.join(REPO, "models", "auroraedge-demo"))
    parser.add_argument("--seconds", type=float, default=10, help="per mode and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cache-requests", type=int, default=40)
    parser.add_argument("--parts", default="inspect,constrained,cache")
    parser.add_argument("--json", default="inspect_bench.json")
    args = parser.parse_args()
    aurora = serving_harness.import_client(args)
    pb = aurora.pb
    pngs = held_out_pngs(64)
    parts = args.parts.split(",")
    report = {"model": args.model, "seconds_per_mode": args.seconds, "rounds": args.rounds,
              "machine": f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start"}
    started_cpu = time.process_time()

    def with_server(extra, part):
        args.server_arg = [*args.server_arg, *extra]
        target = serving_harness.Target(args)
        try:
            return part(target.address)
        finally:
            target.stop()
            args.server_arg = args.server_arg[:len(args.server_arg) - len(extra)]

    if "inspect" in parts:
        report["inspect_vs_generate"] = with_server(
            ["--image-feature-cache-bytes", "0"],
            lambda address: inspect_vs_generate(aurora, pb, address, pngs, args.seconds,
                                                args.rounds))
    if "constrained" in parts:
        report["constrained_overhead"] = with_server(
            ["--image-feature-cache-bytes", "0"],
            lambda address: constrained_overhead(aurora, pb, address, pngs, args.seconds,
                                                 args.rounds))
    if "cache" in parts:
        report["image_feature_cache_ttft"] = with_server(
            [], lambda address: cache_ttft(aurora, pb, address, args.cache_requests, args.rounds))
    report["client_cpu_seconds"] = time.process_time() - started_cpu
    report["load_average_at_end"] = os.getloadavg()[0]
    with open(args.json, "w") as f:
        json.dump(report, f, indent=2)
    printable = json.loads(json.dumps(report))
    for part in printable.values():
        if isinstance(part, dict):
            for level in part.values():
                if isinstance(level, dict):
                    level.pop("rounds", None)
            part.pop("rounds", None)
    print(json.dumps(printable, indent=2))


if __name__ == "__main__":
    main()
