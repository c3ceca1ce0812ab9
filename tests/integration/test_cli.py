"""auroraedge-cli against the real server: health, info, generate, exit codes."""
import json
import os
import subprocess

import images

CLI_BIN = os.environ["AURORAEDGE_TEST_CLI"]


def cli(*args, timeout=120):
    return subprocess.run([CLI_BIN, *args], capture_output=True, text=True, timeout=timeout)


def test_health_exits_zero_when_serving(server):
    result = cli("--address", server.address, "health")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "SERVING"


def test_health_exits_three_when_unreachable():
    assert cli("--address", "127.0.0.1:1", "--deadline-ms", "2000", "health").returncode == 3


def test_info_prints_json(server):
    result = cli("--address", server.address, "info")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["name"]
    assert int(info["limits"]["context_length"]) > 0


def test_generate_streams_text_and_timings(server, tmp_path):
    part = tmp_path / "part.jpg"
    part.write_bytes(images.encoded("JPEG"))
    result = cli("--address", server.address, "generate", "--image", str(part), "--roi", "0,0,64,48",
                 "--prompt", "Is the plate scratched?", "--max-new-tokens", "4", "--temperature", "0",
                 "--seed", "1", "--deadline-ms", "120000")
    assert result.returncode == 0, result.stderr
    assert "finish=" in result.stderr
    assert "ttft=" in result.stderr and "total=" in result.stderr


def test_generate_raw_frame(server, tmp_path):
    data, width, height, stride = images.raw_bytes("BAYER_RG8")
    frame = tmp_path / "frame.raw"
    frame.write_bytes(data)
    result = cli("--address", server.address, "generate", "--raw-frame", str(frame), "--width",
                 str(width), "--height", str(height), "--stride", str(stride), "--pixel-format",
                 "BAYER_RG8", "--prompt", "Defect?", "--max-new-tokens", "2")
    assert result.returncode == 0, result.stderr


def test_generate_bad_input_exits_one_with_the_message(server, tmp_path):
    junk = tmp_path / "junk.png"
    junk.write_bytes(b"not an image at all")
    result = cli("--address", server.address, "generate", "--image", str(junk), "--prompt", "p")
    assert result.returncode == 1
    assert "INVALID_ARGUMENT" in result.stderr and "images[0]" in result.stderr


def test_usage_error_exits_two():
    assert cli("generate", "--image", "x.png").returncode == 2
