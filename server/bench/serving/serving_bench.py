#!/usr/bin/python3
"""auroraedge-serving-bench: throughput and latency of Generate against
concurrency. For each level (1, 4, 16, 64 streams by default) that many
clients send requests back to back for a fixed time; the report gives the
aggregate decode tokens/s, requests/s, time to first token and inter-token
latency (p50, p99). Writes JSON and a PNG plot. A benchmark, not a test."""
import argparse
import json
import os
import sys
import threading
import time

import grpc

import serving_harness


def percentile(values, p):
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def one_request(client, request):
    """(ttft_s, per-token gaps, completion tokens) of one streamed call."""
    start = time.monotonic()
    ttft, gaps, last = None, [], None
    completion = 0
    for response in client.generate_stream(request, timeout=300):
        now = time.monotonic()
        if response.WhichOneof("kind") == "final":
            completion = response.final.completion_tokens
            break
        tokens = max(1, len(response.chunk.token_ids))
        if ttft is None:
            ttft = now - start
        else:
            gaps.extend([(now - last) / tokens] * tokens)
        last = now
    return ttft, gaps, completion


def run_level(aurora, address, make_request, streams, seconds):
    results = []
    lock = threading.Lock()
    errors = []
    started = time.monotonic()
    stop_at = started + seconds

    def client_loop(index):
        client = aurora.Client(address)
        n = 0
        try:
            while time.monotonic() < stop_at:
                result = one_request(client, make_request(f"bench-{streams}-{index}-{n}"))
                n += 1
                with lock:
                    results.append(result)
        except grpc.RpcError as error:
            with lock:
                errors.append(f"{error.code()}: {error.details()}")
        finally:
            client.close()

    threads = [threading.Thread(target=client_loop, args=(i,)) for i in range(streams)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.monotonic() - started
    ttfts = [r[0] for r in results if r[0] is not None]
    gaps = [g for r in results for g in r[1]]
    tokens = sum(r[2] for r in results)
    return {
        "streams": streams,
        "requests": len(results),
        "errors": errors,
        "wall_seconds": round(wall, 2),
        "decode_tokens_per_second": round(tokens / wall, 2),
        "requests_per_second": round(len(results) / wall, 3),
        "ttft_p50_ms": round(1000 * percentile(ttfts, 50), 2) if ttfts else None,
        "ttft_p99_ms": round(1000 * percentile(ttfts, 99), 2) if ttfts else None,
        "inter_token_p50_ms": round(1000 * percentile(gaps, 50), 2) if gaps else None,
        "inter_token_p99_ms": round(1000 * percentile(gaps, 99), 2) if gaps else None,
        "mean_completion_tokens": round(tokens / max(1, len(results)), 1),
    }


def plot(levels, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    streams = [level["streams"] for level in levels]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    left.plot(streams, [level["decode_tokens_per_second"] for level in levels], "o-")
    left.set_xscale("log", base=2)
    left.set_xlabel("concurrent streams")
    left.set_ylabel("aggregate decode tokens/s")
    left.set_title("Throughput")
    for key, label in (("ttft_p50_ms", "TTFT p50"), ("ttft_p99_ms", "TTFT p99"),
                       ("inter_token_p50_ms", "inter-token p50"),
                       ("inter_token_p99_ms", "inter-token p99")):
        right.plot(streams, [level[key] for level in levels], "o-", label=label)
    right.set_xscale("log", base=2)
    right.set_yscale("log")
    right.set_xlabel("concurrent streams")
    right.set_ylabel("ms")
    right.set_title("Latency")
    right.legend()
    for axis in (left, right):
        axis.set_xticks(streams)
        axis.set_xticklabels([str(s) for s in streams])
        axis.grid(True, alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    build_dir = os.environ.get("AURORAEDGE_BUILD_DIR", os.path.join(os.getcwd(), "build"))
    parser = argparse.ArgumentParser(description=__doc__)
    serving_harness.add_server_arguments(parser, build_dir)
    parser.add_argument("--streams", default="1,4,16,64", help="concurrency levels")
    parser.add_argument("--seconds", type=float, default=30, help="per level")
    parser.add_argument("--max-new-tokens", type=int, default=32)
    parser.add_argument("--images", type=int, default=1, help="images per request")
    parser.add_argument("--json", default="serving_bench.json")
    parser.add_argument("--plot", default="serving_bench.png")
    args = parser.parse_args()

    aurora = serving_harness.import_client(args)
    pb = aurora.pb
    target = serving_harness.Target(args)
    image = serving_harness.raw_image(pb)

    def make_request(request_id):
        request = pb.GenerateRequest(request_id=request_id,
                                     prompt="Inspect the part and describe any defect.")
        for _ in range(args.images):
            request.images.append(image)
        request.sampling.max_new_tokens = args.max_new_tokens
        request.sampling.temperature = 0.0
        return request

    info_client = aurora.Client(target.address)
    info = info_client.info()
    info_client.close()
    levels = []
    try:
        run_level(aurora, target.address, make_request, 1, min(5.0, args.seconds))  # warm caches
        for streams in [int(s) for s in args.streams.split(",")]:
            level = run_level(aurora, target.address, make_request, streams, args.seconds)
            print(json.dumps(level), flush=True)
            levels.append(level)
    finally:
        target.stop()

    base = levels[0]
    report = {
        "model": f"{info.name} {info.version}",
        "max_new_tokens": args.max_new_tokens,
        "images_per_request": args.images,
        "seconds_per_level": args.seconds,
        "levels": levels,
    }
    for level in levels[1:]:
        level["tokens_per_second_vs_1_stream"] = round(
            level["decode_tokens_per_second"] / base["decode_tokens_per_second"], 2)
        if level["inter_token_p99_ms"] and base["inter_token_p99_ms"]:
            level["inter_token_p99_vs_1_stream"] = round(
                level["inter_token_p99_ms"] / base["inter_token_p99_ms"], 2)
    with open(args.json, "w") as out:
        json.dump(report, out, indent=2)
    plot(levels, args.plot)
    print(f"wrote {args.json} and {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
