"""Why a second intra-op thread does not help today's decoder: runs the
decoder layer's LibTorch calls as model/src/engine/qwen2_decoder.cc makes
them (RMSNorm, q/k/v/o at::linear, attention over a short cache, SwiGLU) on
random weights of a config's shapes, at 1 and 2 threads, under each thread
pool set-up, each in its own process (libgomp reads OMP_WAIT_POLICY when it
is loaded; the BLAS flavour is the libblas.so.3 on the library path):

  pthread  Debian's default libopenblas0-pthread: OpenBLAS's own pool next
           to LibTorch's OpenMP pool
  openmp   libopenblas0-openmp: OpenBLAS runs on the same libgomp pool

with OMP_WAIT_POLICY unset (spin: libgomp spins 300,000 rounds before it
sleeps), GOMP_SPINCOUNT=10000 (short) or OMP_WAIT_POLICY=PASSIVE (it
sleeps at once). Prints and writes, per case, the
best wall time per decode step (1 row) and per prefill (--rows rows), and
the process's CPU time (user, system) and context switches over the run:
spinning shows as CPU time well above the wall time, OpenBLAS's
sched_yield loop as system time.

  /usr/bin/python3 model/bench/linear/thread_pools.py [--config 0.5b.json]
      [--rows 128] [--layers 6] [--repeats 5] [--out thread_pools.json]
"""

import argparse
import ctypes
import json
import os
import resource
import subprocess
import sys
import time

OPENMP_BLAS_DIR = "/usr/lib/x86_64-linux-gnu/openblas-openmp"
DEFAULT_CONFIG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "python",
                              "configs", "auroraedge-v-0.5b.json")


def child(args):
    import torch  # pylint: disable=import-outside-toplevel
    import torch.nn.functional as F  # pylint: disable=import-outside-toplevel

    torch.set_num_threads(args.threads)
    # As SetIntraOpThreads does (model/src/engine/runtime_info.cc); the
    # soname is the copy LibTorch already loaded.
    ctypes.CDLL("libopenblas.so.0").openblas_set_num_threads(args.threads)
    with open("/proc/self/maps", encoding="utf-8") as maps:
        blas = sorted({line.split()[-1] for line in maps if "libopenblas" in line})
    with open(args.config, encoding="utf-8") as f:
        d = json.load(f)["decoder"]
    hidden, head = d["hidden_size"], d["head_dim"]
    q_heads, kv_heads = d["num_attention_heads"], d["num_key_value_heads"]
    mlp = d["intermediate_size"]
    torch.manual_seed(0)

    def weight(out, inp):
        return (torch.rand(out, inp) - 0.5) * 0.05

    layers = [dict(norm=torch.ones(hidden), post_norm=torch.ones(hidden),
                   q=weight(q_heads * head, hidden), qb=torch.zeros(q_heads * head),
                   k=weight(kv_heads * head, hidden), kb=torch.zeros(kv_heads * head),
                   v=weight(kv_heads * head, hidden), vb=torch.zeros(kv_heads * head),
                   o=weight(hidden, q_heads * head), gate=weight(mlp, hidden),
                   up=weight(mlp, hidden), down=weight(hidden, mlp))
              for _ in range(args.layers)]
    cache = 64  # keys already in the cache

    def rms_norm(x, w):
        return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6))

    def layer(w, x):
        rows = x.shape[0]
        h = rms_norm(x, w["norm"])
        q = F.linear(h, w["q"], w["qb"]).view(rows, q_heads, head).transpose(0, 1)
        k = F.linear(h, w["k"], w["kb"]).view(rows, kv_heads, head).transpose(0, 1)
        v = F.linear(h, w["v"], w["vb"]).view(rows, kv_heads, head).transpose(0, 1)
        k = torch.cat([torch.zeros(kv_heads, cache, head), k], 1)
        v = torch.cat([torch.zeros(kv_heads, cache, head), v], 1)
        group = q_heads // kv_heads
        qg = q.reshape(kv_heads, group * rows, head)
        scores = torch.matmul(qg, k.transpose(1, 2)) / head ** 0.5
        attended = torch.matmul(torch.softmax(scores, -1), v)
        attended = attended.view(q_heads, rows, head).transpose(0, 1).reshape(rows, -1)
        x = x + F.linear(attended, w["o"])
        h = rms_norm(x, w["post_norm"])
        return x + F.linear(F.silu(F.linear(h, w["gate"])) * F.linear(h, w["up"]), w["down"])

    def run(rows):
        x = torch.randn(rows, hidden)
        for w in layers:
            x = layer(w, x)

    def best(rows):
        run(rows)
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            run(rows)
            times.append(time.perf_counter() - start)
        return min(times) / args.layers

    with torch.inference_mode():
        before = resource.getrusage(resource.RUSAGE_SELF)
        wall = time.perf_counter()
        decode = best(1)
        prefill = best(args.rows)
        wall = time.perf_counter() - wall
        after = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"blas_loaded": blas, "decode_layer_s": decode, "prefill_layer_s": prefill, "wall_s": wall,
                      "user_s": after.ru_utime - before.ru_utime,
                      "system_s": after.ru_stime - before.ru_stime,
                      "voluntary_switches": after.ru_nvcsw - before.ru_nvcsw,
                      "involuntary_switches": after.ru_nivcsw - before.ru_nivcsw}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default=DEFAULT_CONFIG)
    parser.add_argument("--rows", type=int, default=128)
    parser.add_argument("--layers", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", default="thread_pools.json")
    parser.add_argument("--child-threads", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_threads:
        args.threads = args.child_threads
        child(args)
        return

    setups = {"pthread": {}, "openmp": {"LD_LIBRARY_PATH": OPENMP_BLAS_DIR}}
    policies = {"spin": {}, "short": {"GOMP_SPINCOUNT": "10000"},
                "passive": {"OMP_WAIT_POLICY": "PASSIVE"}}
    results = []
    for blas, blas_env in setups.items():
        if blas == "openmp" and not os.path.isdir(OPENMP_BLAS_DIR):
            print(f"skipping openmp: {OPENMP_BLAS_DIR} missing (apt-get install libopenblas0-openmp)")
            continue
        for policy, policy_env in policies.items():
            for threads in (1, 2):
                env = dict(os.environ)
                env.pop("OMP_WAIT_POLICY", None)
                env.pop("GOMP_SPINCOUNT", None)
                env.update(blas_env)
                env.update(policy_env)
                command = [sys.executable, os.path.abspath(__file__), "--config", args.config,
                           "--rows", str(args.rows), "--layers", str(args.layers), "--repeats",
                           str(args.repeats), "--child-threads", str(threads)]
                out = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
                r = json.loads(out.stdout.strip().splitlines()[-1])
                r.update(blas=blas, wait=policy, threads=threads)
                results.append(r)
                print(f"{blas:8} {policy:8} {threads}t: decode layer {r['decode_layer_s'] * 1e3:7.2f} ms"
                      f"  prefill layer {r['prefill_layer_s'] * 1e3:7.2f} ms"
                      f"  wall {r['wall_s']:5.1f} s user {r['user_s']:5.1f} s sys {r['system_s']:5.1f} s"
                      f"  switches {r['voluntary_switches']}/{r['involuntary_switches']}", flush=True)
    for blas in setups:
        for policy in policies:
            pair = {r["threads"]: r for r in results if r["blas"] == blas and r["wait"] == policy}
            if len(pair) == 2:
                print(f"{blas:8} {policy:8} 2t/1t: decode "
                      f"{pair[1]['decode_layer_s'] / pair[2]['decode_layer_s']:.2f}x  prefill "
                      f"{pair[1]['prefill_layer_s'] / pair[2]['prefill_layer_s']:.2f}x")
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump({"load_average": os.getloadavg(), "rows": args.rows, "results": results}, f,
                  indent=2)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
