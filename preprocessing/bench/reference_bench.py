"""Times the Python reference (naflex_reference.py) on the benchmark's inputs,
in 1 and 2 processes; prints a table and writes JSON. Called by
auroraedge-preprocess-bench so that both run on the same files in one run.

  reference_bench.py --out FILE --case NAME=PATH[:WxH:PIXEL_FORMAT] ...
"""

import argparse
import json
import multiprocessing
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "python"))
import naflex_reference as reference  # noqa: E402

IMAGES_PER_PROCESS = 3


def parse_case(text):
    name, spec = text.split("=", 1)
    path, *raw = spec.split(":")
    if not raw:
        return name, dict(path=path)
    width, height = map(int, raw[0].split("x"))
    return name, dict(path=path, width=width, height=height, pixel_format=raw[1])


def preprocess_once(case):
    data = pathlib.Path(case["path"]).read_bytes()
    begin, cpu_begin = time.perf_counter(), time.process_time()
    if "pixel_format" in case:
        pixels = reference.raw_frame_to_rgb(data, case["width"], case["height"], case["pixel_format"])
    else:
        pixels = reference.decode(data)
    reference.preprocess(pixels)
    return time.perf_counter() - begin, time.process_time() - cpu_begin


def measure(case, processes):
    jobs = [case] * (IMAGES_PER_PROCESS * processes)
    begin = time.perf_counter()
    with multiprocessing.Pool(processes) as pool:
        times = pool.map(preprocess_once, jobs, chunksize=1)
    wall = time.perf_counter() - begin
    return dict(threads=processes, images=len(jobs), ms_per_image=1000 * sum(t[0] for t in times) / len(jobs),
                cpu_ms_per_image=1000 * sum(t[1] for t in times) / len(jobs), images_per_second=len(jobs) / wall)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--case", action="append", required=True, type=parse_case)
    args = parser.parse_args()
    results = {}
    for name, case in args.case:
        results[name] = []
        for processes in (1, 2):
            result = measure(case, processes)
            print(f"{name:22s} {'python':>8s} {processes:8d} {result['ms_per_image']:10.2f} "
                  f"{result['cpu_ms_per_image']:10.2f} {result['images_per_second']:10.2f}", flush=True)
            results[name].append(result)
    pathlib.Path(args.out).write_text(json.dumps(results))


if __name__ == "__main__":
    main()
