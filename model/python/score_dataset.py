#!/usr/bin/python3
"""Asks a running server every question of a labelled dataset (finetune.py's
format) and prints the exact-match accuracy per question: how a model
directory does on held-out images, measured through the real server.

  /usr/bin/python3 model/python/score_dataset.py --address 127.0.0.1:50051 \
      --data build-scenario/flange-test --proto-dir build/python
"""

import argparse
import json
import os
import sys
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List, Tuple

PYTHON_DIR = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(PYTHON_DIR))


def client_module(proto_dir: str):
    """tests/integration's gRPC client on the build's generated messages.
    model/python (this script's folder, first on the path when it runs as a
    script) is off the path while it imports: its own `auroraedge` package is
    a regular package, which Python takes before the generated messages'
    namespace package of the same name wherever each sits on the path."""
    os.environ["AURORAEDGE_PYTHON_PROTO_DIR"] = proto_dir
    own = [p for p in sys.path if os.path.abspath(p or os.curdir) == PYTHON_DIR]
    sys.path[:] = [os.path.join(ROOT, "tests", "integration")] + [
        p for p in sys.path if p not in own]
    try:
        import aurora_client  # pylint: disable=import-outside-toplevel
    finally:
        sys.path.extend(own)
    return aurora_client


def read_rows(directory: str) -> List[Tuple[str, str, str]]:
    """(image path, question, answer) of every line of DIR/labels.jsonl."""
    rows = []
    with open(os.path.join(directory, "labels.jsonl"), encoding="utf-8") as f:
        for line in f:
            if line.strip():
                row = json.loads(line)
                rows.append((os.path.join(directory, row["image"]), row["question"],
                             row["answer"]))
    return rows


def ask_all(address: str, rows, proto_dir: str, streams: int = 8,
            max_new_tokens: int = 48) -> List[str]:
    """The server's greedy answer to every row, in order."""
    client_api = client_module(proto_dir)
    pb = client_api.pb
    images = {}
    for path, _, _ in rows:
        if path not in images:
            with open(path, "rb") as f:
                images[path] = f.read()
    client = client_api.Client(address)

    def ask(row):
        request = pb.GenerateRequest(images=[pb.Image(encoded=images[row[0]])], prompt=row[1],
                                     sampling=pb.SamplingParams(max_new_tokens=max_new_tokens,
                                                                temperature=0.0))
        chunks, _ = client_api.split_responses(client.generate(request, timeout=600))
        return "".join(c.text for c in chunks)

    try:
        with ThreadPoolExecutor(streams) as pool:
            return list(pool.map(ask, rows))
    finally:
        client.close()


def accuracy(rows, replies) -> Dict[str, float]:
    right, asked = defaultdict(int), defaultdict(int)
    for (_, question, expected), reply in zip(rows, replies):
        right[question] += reply == expected
        asked[question] += 1
    result = {q: right[q] / asked[q] for q in sorted(asked)}
    result["overall"] = sum(right.values()) / sum(asked.values())
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--address", required=True, help="the server's host:port")
    parser.add_argument("--data", required=True, help="dataset directory with labels.jsonl")
    parser.add_argument("--proto-dir", default=os.path.join(ROOT, "build", "python"),
                        help="the build's generated Python messages (<build>/python)")
    parser.add_argument("--streams", type=int, default=8, help="requests in flight")
    args = parser.parse_args(argv)
    rows = read_rows(args.data)
    result = accuracy(rows, ask_all(args.address, rows, args.proto_dir, args.streams))
    for question, share in result.items():
        print(f"{question}: {100 * share:.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
