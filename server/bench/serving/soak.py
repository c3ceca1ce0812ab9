#!/usr/bin/python3
"""auroraedge-soak: N concurrent clients send a mix of valid, bad, cancelled
and short-deadline requests for T seconds, then the run is checked: no
crash, no lost or duplicated stream, every valid stream ends with exactly one
final message, the KV cache is back to zero, and the server's resident memory
grew less than 5% between the first and the last minute. Writes a JSON report;
exits 1 when a check fails."""
import argparse
import collections
import json
import os
import random
import sys
import threading
import time

import grpc

import serving_harness

KINDS = ("valid", "bad", "cancelled", "short_deadline")
WEIGHTS = (0.6, 0.1, 0.15, 0.15)
PROMPTS = ("Is the part defective?", "Describe the surface of the part.",
           "Count the holes and report any burr.", "Which defect is visible near the edge?")
RSS_WINDOW_S = 60.0
RSS_LIMIT = 0.05


class Tally:
    """Counts and failures from every client thread."""

    def __init__(self):
        self.lock = threading.Lock()
        self.counts = collections.Counter()
        self.failures = []
        self.ids_seen = set()

    def count(self, key):
        with self.lock:
            self.counts[key] += 1

    def fail(self, message):
        with self.lock:
            self.failures.append(message)

    def new_id(self, request_id):
        with self.lock:
            duplicate = request_id in self.ids_seen
            self.ids_seen.add(request_id)
        if duplicate:
            self.fail(f"{request_id}: request id used twice")


def valid_request(pb, rng, request_id, max_images):
    request = pb.GenerateRequest(request_id=request_id, prompt=rng.choice(PROMPTS))
    for i in range(rng.randint(0, min(2, max_images))):
        request.images.append(serving_harness.raw_image(pb, 32 + 16 * rng.randint(0, 4), 48, seed=i))
    request.sampling.max_new_tokens = rng.randint(4, 32)
    if rng.random() < 0.5:
        request.sampling.temperature = 0.8
        request.sampling.seed = rng.randint(0, 1 << 30)
    request.priority = rng.choice((pb.PRIORITY_LINE_CRITICAL, pb.PRIORITY_NORMAL,
                                   pb.PRIORITY_BACKGROUND))
    return request


def bad_request(pb, rng, request_id, max_images):
    request = pb.GenerateRequest(request_id=request_id, prompt="bad")
    choice = rng.randint(0, 3)
    if choice == 0:
        request.sampling.top_p = 1.5
    elif choice == 1:
        request.sampling.temperature = -1.0
    elif choice == 2:
        request.sampling.max_new_tokens = 1_000_000
    else:
        for i in range(max_images + 1):
            request.images.append(serving_harness.raw_image(pb, 16, 16, seed=i))
    return request


def read_stream(call, request_id, tally, pb):
    """Responses of a call until its end: (responses, grpc code)."""
    responses = []
    try:
        for response in call:
            if response.request_id != request_id:
                tally.fail(f"{request_id}: got a response of {response.request_id}")
            responses.append(response)
        return responses, grpc.StatusCode.OK
    except grpc.RpcError as error:
        return responses, error.code()


def check_complete(responses, request_id, tally, pb):
    """A stream that ended OK: chunks, then exactly one final, last."""
    finals = [r for r in responses if r.WhichOneof("kind") == "final"]
    if len(finals) != 1 or responses[-1].WhichOneof("kind") != "final":
        tally.fail(f"{request_id}: {len(finals)} final messages in {len(responses)} responses")
        tally.count("lost")
        return False
    return True


def client_loop(index, args, aurora, pb, max_images, stop_at, tally):
    rng = random.Random(args.seed * 1000 + index)
    client = aurora.Client(args.address)
    n = 0
    try:
        while time.monotonic() < stop_at:
            kind = rng.choices(KINDS, WEIGHTS)[0]
            request_id = f"soak-{index}-{n}"
            n += 1
            tally.new_id(request_id)
            tally.count(f"sent_{kind}")
            if kind == "bad":
                request = bad_request(pb, rng, request_id, max_images)
                responses, code = read_stream(client.generate_stream(request, timeout=30),
                                              request_id, tally, pb)
                if code != grpc.StatusCode.INVALID_ARGUMENT or responses:
                    tally.fail(f"{request_id}: bad request gave {code} with {len(responses)} responses")
                continue
            request = valid_request(pb, rng, request_id, max_images)
            if kind == "valid":
                responses, code = read_stream(client.generate_stream(request, timeout=120),
                                              request_id, tally, pb)
                if code == grpc.StatusCode.OK:
                    if check_complete(responses, request_id, tally, pb):
                        tally.count("completed")
                elif code == grpc.StatusCode.RESOURCE_EXHAUSTED:
                    tally.count("rejected_queue_full")
                else:
                    tally.count("lost")
                    tally.fail(f"{request_id}: valid request ended with {code}")
            elif kind == "cancelled":
                call = client.generate_stream(request, timeout=120)
                wanted = rng.randint(0, 2)
                got = 0
                try:
                    for _ in call:
                        got += 1
                        if got > wanted:
                            break
                except grpc.RpcError:
                    pass
                call.cancel()
                tally.count("cancelled")
            else:
                responses, code = read_stream(
                    client.generate_stream(request, timeout=rng.uniform(0.01, 0.2)), request_id,
                    tally, pb)
                if code == grpc.StatusCode.OK:
                    check_complete(responses, request_id, tally, pb)
                    tally.count("deadline_met")
                elif code in (grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.RESOURCE_EXHAUSTED):
                    tally.count("deadline_exceeded")
                else:
                    tally.fail(f"{request_id}: short-deadline request ended with {code}")
    except Exception as error:  # noqa: BLE001 - a client crash is a failed check
        tally.fail(f"client {index}: {error!r}")
    finally:
        client.close()


def sample_rss(target, stop_event, samples, started):
    while not stop_event.is_set():
        rss = target.rss_bytes()
        if rss is not None:
            samples.append((time.monotonic() - started, rss))
        stop_event.wait(1.0)


def rss_growth(samples, seconds):
    """Mean RSS of the last minute over the first minute, minus one."""
    if seconds < 2 * RSS_WINDOW_S or not samples:
        return None
    first = [r for t, r in samples if t <= RSS_WINDOW_S]
    last = [r for t, r in samples if t >= seconds - RSS_WINDOW_S]
    if not first or not last:
        return None
    return (sum(last) / len(last)) / (sum(first) / len(first)) - 1.0


def wait_kv_zero(aurora, address, timeout_s=30):
    client = aurora.Client(address)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            used = client.info().kv_cache.tokens_used
            if used == 0 or time.monotonic() > deadline:
                return used
            time.sleep(0.2)
    finally:
        client.close()


def main():
    build_dir = os.environ.get("AURORAEDGE_BUILD_DIR", os.path.join(os.getcwd(), "build"))
    parser = argparse.ArgumentParser(description=__doc__)
    serving_harness.add_server_arguments(parser, build_dir)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default="soak.json", help="report file")
    args = parser.parse_args()

    aurora = serving_harness.import_client(args)
    pb = aurora.pb
    target = serving_harness.Target(args)
    args.address = target.address
    info_client = aurora.Client(target.address)
    max_images = info_client.info().limits.max_images_per_request
    info_client.close()

    tally = Tally()
    started = time.monotonic()
    stop_at = started + args.seconds
    rss_samples = []
    stop_sampling = threading.Event()
    sampler = threading.Thread(target=sample_rss, args=(target, stop_sampling, rss_samples, started))
    sampler.start()
    clients = [threading.Thread(target=client_loop,
                                args=(i, args, aurora, pb, max_images, stop_at, tally))
               for i in range(args.clients)]
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join()
    elapsed = time.monotonic() - started
    stop_sampling.set()
    sampler.join()

    kv_used = wait_kv_zero(aurora, target.address)
    if kv_used != 0:
        tally.fail(f"KV cache holds {kv_used} tokens after the run")
    growth = rss_growth(rss_samples, elapsed)
    if growth is not None and growth >= RSS_LIMIT:
        tally.fail(f"resident memory grew {growth:.1%} between the first and the last minute")
    alive = target.process is None or target.process.process.poll() is None
    if not alive:
        tally.fail("the server died during the run")
    exit_code = target.stop()
    if exit_code not in (None, 0):
        tally.fail(f"the server exited with {exit_code}")

    report = {
        "clients": args.clients,
        "seconds": round(elapsed, 1),
        "counts": dict(sorted(tally.counts.items())),
        "kv_tokens_used_after": kv_used,
        "rss_first_mb": round(rss_samples[0][1] / 2**20, 1) if rss_samples else None,
        "rss_last_mb": round(rss_samples[-1][1] / 2**20, 1) if rss_samples else None,
        "rss_growth_first_to_last_minute": None if growth is None else round(growth, 4),
        "failures": tally.failures[:50],
        "passed": not tally.failures,
    }
    with open(args.json, "w") as out:
        json.dump(report, out, indent=2)
    print(json.dumps(report, indent=2))
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
