"""What an NLU pipeline costs: training time and peak memory, model size, server start-up and
server memory, for two or more config files on the same data, measured interleaved (A, B, A, B
...) so a busy machine weighs on each alike.

    python -m benchmarks.nlu_footprint --config before=/path/old.yml --config after=config.yml --rounds 2
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List

from benchmarks.nlu import DOMAIN_FILE, NLU_DATA_DIR, PROJECT_ROOT, _free_port

PARSE_TEXTS = ["耳机一边没声音了", "退货地址是哪里", "快递三天了还没到", "海淘保修从哪天算", "转人工"]


def _rss_kb(pid: int, field: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def train(config: Path, out_dir: Path, name: str) -> Dict[str, float]:
    command = [
        sys.executable,
        "-m",
        "rasa",
        "train",
        "nlu",
        "-c",
        str(config),
        "-d",
        str(DOMAIN_FILE),
        "--nlu",
        str(NLU_DATA_DIR),
        "--out",
        str(out_dir),
        "--fixed-model-name",
        name,
    ]
    started = time.perf_counter()
    # peak RSS of the training process, from a fresh child so earlier children do not count
    wrapper = [
        sys.executable,
        "-c",
        "import resource,subprocess,sys; r=subprocess.run(sys.argv[1:]).returncode; "
        "print('PEAK_KB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(r)",
    ] + command
    result = subprocess.run(wrapper, cwd=PROJECT_ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    model = out_dir / f"{name}.tar.gz"
    if result.returncode != 0 or not model.exists():
        raise SystemExit(f"training with {config} failed:\n{result.stderr[-2000:]}")
    peak = next((int(line.split()[1]) for line in result.stdout.splitlines() if line.startswith("PEAK_KB")), 0)
    return {
        "train_seconds": seconds,
        "train_peak_mb": peak / 1024,
        "model_mb": model.stat().st_size / 1e6,
        "model": str(model),
    }


def serve(model: Path, timeout: float = 300.0) -> Dict[str, float]:
    """Starts `rasa run --enable-api` with the model, times start-up to a ready /status, parses a
    few messages, reads the server's resident memory, stops it."""
    import requests

    port = _free_port()
    workdir = Path(tempfile.mkdtemp(prefix="nlu-footprint-"))
    (workdir / "endpoints.yml").write_text("{}\n", encoding="utf-8")
    (workdir / "credentials.yml").write_text("rest:\n", encoding="utf-8")
    started = time.perf_counter()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "rasa",
            "run",
            "--enable-api",
            "-m",
            str(model),
            "-i",
            "127.0.0.1",
            "--port",
            str(port),
            "--endpoints",
            str(workdir / "endpoints.yml"),
            "--credentials",
            str(workdir / "credentials.yml"),
        ],
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        while True:
            if server.poll() is not None:
                raise SystemExit(f"rasa run exited with {server.returncode}")
            try:
                status = requests.get(f"{base}/status", timeout=2)
                if status.status_code == 200 and status.json().get("model_file"):
                    break
            except requests.RequestException:
                pass
            if time.perf_counter() - started > timeout:
                raise SystemExit("rasa run did not become ready")
            time.sleep(0.25)
        startup = time.perf_counter() - started
        for text in PARSE_TEXTS * 4:
            requests.post(f"{base}/model/parse", json={"text": text}, timeout=30).raise_for_status()
        tensorflow = "tensorflow" in Path(f"/proc/{server.pid}/maps").read_text()
        return {
            "startup_seconds": startup,
            "server_rss_mb": _rss_kb(server.pid) / 1024,
            "server_peak_rss_mb": _rss_kb(server.pid, "VmHWM") / 1024,
            "tensorflow_loaded": tensorflow,
        }
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", action="append", required=True, help="NAME=PATH, two or more")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    configs = dict(item.split("=", 1) for item in args.config)
    runs: Dict[str, List[Dict]] = {name: [] for name in configs}
    with tempfile.TemporaryDirectory(prefix="nlu-footprint-models-") as models:
        for round_number in range(1, args.rounds + 1):
            for name, path in configs.items():
                measured = train(Path(path).resolve(), Path(models), f"{name}{round_number}")
                measured.update(serve(Path(measured.pop("model"))))
                runs[name].append(measured)
                print(
                    name,
                    round_number,
                    json.dumps({k: round(v, 2) if isinstance(v, float) else v for k, v in measured.items()}),
                    flush=True,
                )
    summary = {
        name: {key: statistics.median(r[key] for r in rows) for key in rows[0] if key != "tensorflow_loaded"}
        | {"tensorflow_loaded": any(r["tensorflow_loaded"] for r in rows)}
        for name, rows in runs.items()
    }
    print(json.dumps(summary, indent=1))
    if args.out:
        args.out.write_text(json.dumps({"runs": runs, "median": summary}, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
