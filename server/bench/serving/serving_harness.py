"""What the soak and the serving benchmark share: a server to drive (one they
start, or one already running), its resident memory, and the requests.

They are Python on grpcio because they are clients, like the PLCs and MES
tools the service serves: the load generator must not share the server's
process or libraries, and the plot needs matplotlib anyway. The client and the
process launcher are the integration tests' (tests/integration), so there is
one Python client of auroraedge.v1 in the project.
"""
import argparse
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
INTEGRATION_DIR = os.path.join(REPO, "tests", "integration")


def add_server_arguments(parser: argparse.ArgumentParser, build_dir: str):
    parser.add_argument("--address", help="a running server (host:port); otherwise one is started")
    parser.add_argument("--pid", type=int, help="the running server's process id, for its memory")
    parser.add_argument("--server", default=os.path.join(build_dir, "server/src/app/auroraedge-server"),
                        help="server binary to start when no --address is given")
    parser.add_argument("--model", default=os.path.join(build_dir, "models/auroraedge-v-small"),
                        help="model directory for the started server")
    parser.add_argument("--proto-dir", default=os.path.join(build_dir, "python"),
                        help="generated Python modules of auroraedge.v1")
    parser.add_argument("--server-arg", action="append", default=[],
                        help="extra flag for the started server (repeatable)")


def import_client(args):
    """The integration tests' modules read their settings from the environment."""
    os.environ.setdefault("AURORAEDGE_PYTHON_PROTO_DIR", args.proto_dir)
    os.environ.setdefault("AURORAEDGE_TEST_SERVER", args.server)
    os.environ.setdefault("AURORAEDGE_TEST_MODEL", args.model)
    sys.path.insert(0, INTEGRATION_DIR)
    import aurora_client  # noqa: E402
    return aurora_client


class Target:
    """The server under load: its address and, when known, its pid."""

    def __init__(self, args):
        self.process = None
        if args.address:
            self.address, self.pid = args.address, args.pid
            return
        import server_process  # noqa: E402 - after import_client set the environment
        self.process = server_process.ServerProcess(*args.server_arg, model_dir=args.model,
                                                    threads=None)
        self.process.wait_serving()
        self.address, self.pid = self.process.address, self.process.process.pid

    def rss_bytes(self):
        if self.pid is None:
            return None
        with open(f"/proc/{self.pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        return None

    def thread_cpu_seconds(self):
        """{thread id: user + system CPU seconds} of the server's threads, or {}."""
        if self.pid is None:
            return {}
        ticks = os.sysconf("SC_CLK_TCK")
        seconds = {}
        for tid in os.listdir(f"/proc/{self.pid}/task"):
            try:
                with open(f"/proc/{self.pid}/task/{tid}/stat") as stat:
                    # Fields after the parenthesised name: utime and stime are 14 and 15.
                    fields = stat.read().rsplit(")", 1)[1].split()
            except FileNotFoundError:
                continue  # the thread ended meanwhile
            seconds[tid] = (int(fields[11]) + int(fields[12])) / ticks
        return seconds

    def stop(self):
        """Exit code of the started server (SIGTERM: drain and exit 0), or None."""
        return self.process.terminate() if self.process else None


def raw_image(pb, width=64, height=48, seed=0):
    data = bytes((i * (7 + seed)) % 251 for i in range(width * height * 3))
    return pb.Image(raw=pb.RawFrame(data=data, width=width, height=height,
                                    pixel_format=pb.PIXEL_FORMAT_RGB8))

