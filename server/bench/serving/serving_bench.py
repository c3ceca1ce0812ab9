#!/usr/bin/python3
"""auroraedge-serving-bench: throughput and latency of Generate against
concurrency. For each level (1, 4, 16, 64 streams by default) that many
clients send requests back to back for a fixed time, spread over a few
client processes; the report gives the aggregate decode tokens/s,
requests/s, time to first token and inter-token latency (p50, p99), and the
CPU the server's engine thread, its other threads and the clients used per
token. Writes JSON and a PNG plot. A benchmark, not a test."""
import argparse
import json
import multiprocessing
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


STAGES = ("queued", "preprocessing", "vision", "prefill", "decode")


def one_request(client, request):
    """(ttft_s, per-token gaps, completion tokens, the server's seconds per
    stage) of one streamed call."""
    start = time.monotonic()
    ttft, gaps, last = None, [], None
    completion, stages = 0, None
    for response in client.generate_stream(request, timeout=300):
        now = time.monotonic()
        if response.WhichOneof("kind") == "final":
            completion = response.final.completion_tokens
            timings = response.final.timings
            stages = [getattr(timings, f"{stage}_seconds") for stage in STAGES]
            break
        tokens = max(1, len(response.chunk.token_ids))
        if ttft is None:
            ttft = now - start
        else:
            gaps.extend([(now - last) / tokens] * tokens)
        last = now
    return ttft, gaps, completion, stages


class Level:
    """What one run of a level gave: per-request results, errors, wall time,
    and CPU seconds of the server's busiest thread (the engine's), of its
    other threads, and of the client processes."""

    def __init__(self):
        self.results, self.errors = [], []
        self.wall = self.engine_cpu = self.other_cpu = self.client_cpu = 0.0

    def add(self, other):
        self.results += other.results
        self.errors += other.errors
        self.wall += other.wall
        self.engine_cpu += other.engine_cpu
        self.other_cpu += other.other_cpu
        self.client_cpu += other.client_cpu


_worker = {}


def start_worker(options):
    """Pool initializer: this client process's module and request."""
    aurora = serving_harness.import_client(options)
    pb = aurora.pb
    request = pb.GenerateRequest(prompt="Inspect the part and describe any defect.")
    image = serving_harness.raw_image(pb)
    for _ in range(options.images):
        request.images.append(image)
    request.sampling.max_new_tokens = options.max_new_tokens
    request.sampling.temperature = 0.0
    _worker.update(aurora=aurora, request=request)


def run_streams(address, streams, seconds, tag):
    """In a client process: `streams` threads sending requests back to back
    for `seconds`; (results, errors, CPU seconds of this process)."""
    aurora, template = _worker["aurora"], _worker["request"]
    results, errors = [], []
    lock = threading.Lock()
    cpu_before = sum(os.times()[:2])
    stop_at = time.monotonic() + seconds

    def client_loop(index):
        client = aurora.Client(address)
        n = 0
        try:
            while time.monotonic() < stop_at:
                request = aurora.pb.GenerateRequest()
                request.CopyFrom(template)
                request.request_id = f"bench-{tag}-{index}-{n}"
                result = one_request(client, request)
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
    return results, errors, sum(os.times()[:2]) - cpu_before


def run_level(pool, processes, target, streams, seconds):
    """`streams` concurrent clients spread over up to `processes` client
    processes, so that no one Python interpreter's lock limits the load."""
    level = Level()
    used = min(processes, streams)
    shares = [streams // used + (1 if i < streams % used else 0) for i in range(used)]
    threads_before = target.thread_cpu_seconds()
    started = time.monotonic()
    for results, errors, cpu in pool.starmap(
            run_streams, [(target.address, share, seconds, f"{streams}-{i}")
                          for i, share in enumerate(shares)], chunksize=1):
        level.results += results
        level.errors += errors
        level.client_cpu += cpu
    level.wall = time.monotonic() - started
    used_cpu = sorted((cpu - threads_before.get(tid, 0.0)
                       for tid, cpu in target.thread_cpu_seconds().items()), reverse=True)
    if used_cpu:
        level.engine_cpu, level.other_cpu = used_cpu[0], sum(used_cpu[1:])
    return level


def summarize(streams, level):
    results, wall = level.results, level.wall
    ttfts = [r[0] for r in results if r[0] is not None]
    gaps = [g for r in results for g in r[1]]
    tokens = sum(r[2] for r in results)

    def per_token_ms(cpu):
        return round(1000 * cpu / tokens, 3) if tokens else None

    return {
        "streams": streams,
        "requests": len(results),
        "errors": level.errors,
        "wall_seconds": round(wall, 2),
        "decode_tokens_per_second": round(tokens / wall, 2),
        "requests_per_second": round(len(results) / wall, 3),
        "ttft_p50_ms": round(1000 * percentile(ttfts, 50), 2) if ttfts else None,
        "ttft_p99_ms": round(1000 * percentile(ttfts, 99), 2) if ttfts else None,
        "inter_token_p50_ms": round(1000 * percentile(gaps, 50), 2) if gaps else None,
        "inter_token_p99_ms": round(1000 * percentile(gaps, 99), 2) if gaps else None,
        # Cores busy, and CPU per completion token: the server's engine thread
        # (its busiest), its other threads (gRPC, preprocessing), this client.
        "engine_thread_cores": round(level.engine_cpu / wall, 2),
        "server_other_threads_cores": round(level.other_cpu / wall, 2),
        "client_cores": round(level.client_cpu / wall, 2),
        "engine_thread_cpu_ms_per_token": per_token_ms(level.engine_cpu),
        "server_other_threads_cpu_ms_per_token": per_token_ms(level.other_cpu),
        "client_cpu_ms_per_token": per_token_ms(level.client_cpu),
        "mean_completion_tokens": round(tokens / max(1, len(results)), 1),
        # Where a request's time went in the server, mean ms per stage.
        "server_stage_mean_ms": {stage: round(1000 * mean, 2) for stage, mean in zip(
            STAGES, stage_means([r[3] for r in results if r[3] is not None]))},
    }


def stage_means(stage_seconds):
    if not stage_seconds:
        return [0.0] * len(STAGES)
    return [sum(column) / len(stage_seconds) for column in zip(*stage_seconds)]


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
    parser.add_argument("--seconds", type=float, default=30, help="per level and round")
    parser.add_argument("--rounds", type=int, default=1,
                        help="times the levels run in turn; each level's samples are pooled, "
                             "so that a machine whose load drifts weighs on every level alike")
    parser.add_argument("--client-processes", type=int, default=4,
                        help="client processes the streams of a level are spread over")
    parser.add_argument("--max-new-tokens", type=int, default=32)
    parser.add_argument("--images", type=int, default=1, help="images per request")
    parser.add_argument("--json", default="serving_bench.json")
    parser.add_argument("--plot", default="serving_bench.png")
    args = parser.parse_args()

    aurora = serving_harness.import_client(args)
    target = serving_harness.Target(args)
    info_client = aurora.Client(target.address)
    info = info_client.info()
    info_client.close()
    counts = [int(s) for s in args.streams.split(",")]
    # Spawned, not forked: grpcio does not survive a fork.
    pool = multiprocessing.get_context("spawn").Pool(
        min(args.client_processes, max(counts)), initializer=start_worker, initargs=(args,))
    try:
        run_level(pool, 1, target, 1, min(5.0, args.seconds))  # warm caches
        pooled = {streams: Level() for streams in counts}
        for round_index in range(args.rounds):
            for streams in counts:
                level = run_level(pool, args.client_processes, target, streams, args.seconds)
                pooled[streams].add(level)
                print(json.dumps({"round": round_index + 1, **summarize(streams, level)}),
                      flush=True)
        levels = [summarize(streams, pooled[streams]) for streams in counts]
    finally:
        pool.close()
        pool.join()
        target.stop()

    base = levels[0]
    report = {
        "model": f"{info.name} {info.version}",
        "max_new_tokens": args.max_new_tokens,
        "images_per_request": args.images,
        "client_processes": args.client_processes,
        "seconds_per_level": args.seconds,
        "rounds": args.rounds,
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
