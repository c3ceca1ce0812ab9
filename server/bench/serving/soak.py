#!/usr/bin/python3
"""auroraedge-soak: N concurrent clients send a mix of valid, bad, cancelled
and short-deadline requests for T seconds, then the run is checked: no
crash, no lost or duplicated stream, every valid stream ends with exactly one
final message, the KV cache is back to zero, and the server's resident memory
grew less than 5% between the first and the last minute. Writes a JSON report;
exits 1 when a check fails.

Misbehaving clients can join (--never-reading, --oversized-metadata,
--slowloris): they run during every other phase of --phase-seconds (the
first phase without them), so that the well-behaved clients' latency with
and without them is measured in one run, on one machine state. A scraper
reads /metrics every second throughout; every scrape must be answered."""
import argparse
import collections
import json
import os
import random
import socket
import sys
import threading
import time
import urllib.request

import grpc

import serving_harness

KINDS = ("valid", "bad", "cancelled", "short_deadline")
WEIGHTS = (0.6, 0.1, 0.15, 0.15)
PROMPTS = ("Is the part defective?", "Describe the surface of the part.",
           "Count the holes and report any burr.", "Which defect is visible near the edge?")
RSS_WINDOW_S = 60.0
RSS_LIMIT = 0.05


class Tally:
    """Counts, failures and latencies from every client thread."""

    def __init__(self):
        self.lock = threading.Lock()
        self.counts = collections.Counter()
        self.failures = []
        self.ids_seen = set()
        # Seconds of each completed valid stream, by whether misbehaving
        # clients were running when it started.
        self.latency = {False: [], True: []}
        self.scrapes = []  # seconds of each answered scrape

    def record_latency(self, bad_clients_on, seconds):
        with self.lock:
            self.latency[bad_clients_on].append(seconds)

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


class Phases:
    """Misbehaving clients run in every other phase, the first one without."""

    def __init__(self, started, seconds):
        self.started, self.seconds = started, seconds

    def bad_clients_on(self, now=None):
        now = time.monotonic() if now is None else now
        return int((now - self.started) // self.seconds) % 2 == 1

    def phase_end(self, now=None):
        now = time.monotonic() if now is None else now
        return self.started + (int((now - self.started) // self.seconds) + 1) * self.seconds


def client_loop(index, args, aurora, pb, max_images, stop_at, tally, phases):
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
                bad_clients_on = phases.bad_clients_on()
                started = time.monotonic()
                responses, code = read_stream(client.generate_stream(request, timeout=120),
                                              request_id, tally, pb)
                if code == grpc.StatusCode.OK:
                    if check_complete(responses, request_id, tally, pb):
                        tally.count("completed")
                        tally.record_latency(bad_clients_on, time.monotonic() - started)
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


def wait_for_phase(phases, stop_at, on):
    """Sleeps until misbehaving clients are `on` (or the run ends); False at the end."""
    while time.monotonic() < stop_at:
        if phases.bad_clients_on() == on:
            return True
        time.sleep(min(1.0, max(0.0, phases.phase_end() - time.monotonic())))
    return False


def never_reading_loop(args, aurora, pb, stop_at, tally, phases):
    """Opens a Generate stream and never opens its HTTP/2 receive window:
    the server must cut it off (RESOURCE_EXHAUSTED) by itself. At the end of
    its phase the client just goes away."""
    import raw_h2  # tests/integration, on the path once the client is imported
    request = pb.GenerateRequest(prompt=PROMPTS[0], sampling=pb.SamplingParams(
        max_new_tokens=200, temperature=1.0)).SerializeToString()
    while wait_for_phase(phases, stop_at, True):
        try:
            connection = raw_h2.RawConnection(args.address, window=0, read=False)
            stream = connection.call("/auroraedge.v1.Inference/Generate", request)
            end = min(phases.phase_end(), stop_at)
            if connection.wait_ended([stream], max(0.0, end - time.monotonic())):
                status = connection.streams[stream].status
                tally.count("never_reading_cut" if status == 8 else f"never_reading_status_{status}")
                if status != 8:
                    tally.fail(f"a never-reading stream ended with status {status}")
            else:
                tally.count("never_reading_left")
            connection.close()
        except OSError as error:
            tally.count("never_reading_refused")
            tally.fail(f"never-reading client: {error!r}")
            time.sleep(1)


def oversized_metadata_loop(args, aurora, pb, stop_at, tally, phases):
    """Calls with 16 KiB of metadata: each must be refused alone."""
    client = aurora.Client(args.address)
    request = pb.GenerateRequest(prompt="bad", sampling=pb.SamplingParams(max_new_tokens=1))
    try:
        while wait_for_phase(phases, stop_at, True):
            try:
                client.generate(request, metadata=[("x-padding", "a" * (16 << 10))], timeout=30)
                tally.fail("a call with 16 KiB of metadata was served")
            except grpc.RpcError as error:
                if error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED:
                    tally.count("oversized_metadata_refused")
                else:
                    tally.fail(f"a call with 16 KiB of metadata ended with {error.code()}")
            time.sleep(0.1)
    finally:
        client.close()


def slowloris_loop(metrics_address, stop_at, tally, phases):
    """Trickles a request head to the metrics endpoint, a byte every 200 ms,
    until the server closes the connection, then starts again."""
    host, port = metrics_address.rsplit(":", 1)
    while wait_for_phase(phases, stop_at, True):
        try:
            with socket.create_connection((host, int(port)), timeout=5) as connection:
                connection.sendall(b"GET /metrics HTTP/1.1\r\nX-Slow: ")
                while phases.bad_clients_on() and time.monotonic() < stop_at:
                    connection.sendall(b"a")
                    time.sleep(0.2)
                tally.count("slowloris_left")
        except OSError:
            tally.count("slowloris_cut")  # the server closed it: its request deadline


def scrape_loop(metrics_address, stop_event, tally):
    """Scrapes /metrics every second; every scrape must be answered."""
    while not stop_event.is_set():
        started = time.monotonic()
        try:
            with urllib.request.urlopen(f"http://{metrics_address}/metrics", timeout=10) as reply:
                ok = b"auroraedge_build_info" in reply.read()
        except OSError as error:
            ok = False
            tally.fail(f"a scrape failed: {error!r}")
        with tally.lock:
            if ok:
                tally.scrapes.append(time.monotonic() - started)
            else:
                tally.counts["scrape_failed"] += 1
        stop_event.wait(max(0.0, 1.0 - (time.monotonic() - started)))


def percentile(values, fraction):
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def latency_report(tally):
    report = {}
    for on, name in ((False, "without_bad_clients"), (True, "with_bad_clients")):
        values = tally.latency[on]
        report[name] = {"streams": len(values),
                        "p50_s": round(percentile(values, 0.5) or 0, 4),
                        "p99_s": round(percentile(values, 0.99) or 0, 4)}
    off, on = report["without_bad_clients"]["p99_s"], report["with_bad_clients"]["p99_s"]
    report["p99_ratio"] = round(on / off, 3) if off and tally.latency[True] else None
    return report


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


def rss_by_minute(samples):
    """Mean resident memory (MiB) of each minute of the run."""
    minutes = collections.defaultdict(list)
    for t, rss in samples:
        minutes[int(t // 60)].append(rss)
    return [round(sum(v) / len(v) / 2**20, 1) for _, v in sorted(minutes.items())]


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
    parser.add_argument("--never-reading", type=int, default=0,
                        help="clients that open a stream and never read it")
    parser.add_argument("--oversized-metadata", type=int, default=0,
                        help="clients whose calls carry 16 KiB of metadata")
    parser.add_argument("--slowloris", type=int, default=0,
                        help="clients that trickle a request head to /metrics")
    parser.add_argument("--phase-seconds", type=float, default=60,
                        help="misbehaving clients run in every other phase of this length")
    parser.add_argument("--max-p99-ratio", type=float,
                        help="fail when the well-behaved clients' p99 with misbehaving clients "
                             "is more than this times their p99 without")
    parser.add_argument("--metrics", help="the running server's /metrics address (host:port); "
                                          "a started server gets one on a free port")
    args = parser.parse_args()

    aurora = serving_harness.import_client(args)
    pb = aurora.pb
    if not args.address:
        # A later flag wins: the started server serves /metrics on a free port.
        args.server_arg = ["--metrics-listen", "127.0.0.1:0", *args.server_arg]
    target = serving_harness.Target(args)
    args.address = target.address
    metrics_address = args.metrics or (
        f"127.0.0.1:{target.process.metrics_port()}" if target.process else None)
    info_client = aurora.Client(target.address)
    max_images = info_client.info().limits.max_images_per_request
    info_client.close()

    tally = Tally()
    started = time.monotonic()
    stop_at = started + args.seconds
    phases = Phases(started, args.phase_seconds)
    rss_samples = []
    stop_sampling = threading.Event()
    background = [threading.Thread(target=sample_rss,
                                   args=(target, stop_sampling, rss_samples, started))]
    if metrics_address:
        background.append(threading.Thread(target=scrape_loop,
                                           args=(metrics_address, stop_sampling, tally)))
    for thread in background:
        thread.start()
    clients = [threading.Thread(target=client_loop,
                                args=(i, args, aurora, pb, max_images, stop_at, tally, phases))
               for i in range(args.clients)]
    clients += [threading.Thread(target=never_reading_loop,
                                 args=(args, aurora, pb, stop_at, tally, phases))
                for _ in range(args.never_reading)]
    clients += [threading.Thread(target=oversized_metadata_loop,
                                 args=(args, aurora, pb, stop_at, tally, phases))
                for _ in range(args.oversized_metadata)]
    if args.slowloris and not metrics_address:
        parser.error("--slowloris needs the metrics endpoint (--metrics)")
    clients += [threading.Thread(target=slowloris_loop,
                                 args=(metrics_address, stop_at, tally, phases))
                for _ in range(args.slowloris)]
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join()
    elapsed = time.monotonic() - started
    stop_sampling.set()
    for thread in background:
        thread.join()

    kv_used = wait_kv_zero(aurora, target.address)
    if kv_used != 0:
        tally.fail(f"KV cache holds {kv_used} tokens after the run")
    growth = rss_growth(rss_samples, elapsed)
    if growth is not None and growth >= RSS_LIMIT:
        tally.fail(f"resident memory grew {growth:.1%} between the first and the last minute")
    latency = latency_report(tally)
    if args.max_p99_ratio and latency["p99_ratio"] and latency["p99_ratio"] > args.max_p99_ratio:
        tally.fail(f"well-behaved clients' p99 with misbehaving clients is "
                   f"{latency['p99_ratio']}x their p99 without (limit {args.max_p99_ratio}x)")
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
        "rss_mb_by_minute": rss_by_minute(rss_samples),
        "misbehaving_clients": {"never_reading": args.never_reading,
                                "oversized_metadata": args.oversized_metadata,
                                "slowloris": args.slowloris,
                                "phase_seconds": args.phase_seconds},
        "well_behaved_latency": latency,
        "scrapes": {"answered": len(tally.scrapes), "failed": tally.counts["scrape_failed"],
                    "p99_s": round(percentile(tally.scrapes, 0.99) or 0, 4),
                    "max_s": round(max(tally.scrapes, default=0), 4)},
        "failures": tally.failures[:50],
        "passed": not tally.failures,
    }
    with open(args.json, "w") as out:
        json.dump(report, out, indent=2)
    print(json.dumps(report, indent=2))
    return 0 if report["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
