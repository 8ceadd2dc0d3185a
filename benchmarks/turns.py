"""Turn benchmark (`python -m bot perf`): what a buyer's turn costs on the real servers.

Stacks measured in one run, interleaved round by round so that the machine's other load falls
on all of them alike:
- `current`: this checkout (action server + Rasa server over HTTP, SQLite or PostgreSQL);
- `old` (optional): another checkout of the project, e.g. the commit before the performance
  work (`git worktree add /tmp/old <commit>`), with the same model;
- `reference` (optional): a bare `rasa init --no-prompt` bot, created and trained in a
  temporary directory.

Per turn type it reports p50/p95/p99 latency; per concurrency level (buyers talking at once)
the throughput in messages/s and the p95; the resident memory of each process, the start-up
time to ready (the first start in the run is reported as cold, a restart as warm) and the
model size. Figures only: nothing here is a pass/fail check.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence

import requests
import yaml

from bot.launcher import (
    HARNESS_MESSAGES_PER_CLIENT,
    free_port,
    rasa_environment,
    rasa_model_loaded,
    venv_executable,
    wait_until_ready,
)
from bot.services.evidence_store import store_evidence

HEADPHONES_ORDER = "6201458839270153"
PHOTO = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\0" * 40000


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far, from /proc; 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (MB), from /proc."""
    total = 0
    pids = [pid]
    try:
        children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for one in pids:
        try:
            for line in Path(f"/proc/{one}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


# --- the project's orders: one copy of the headphones order per simulated buyer ----------------


def perf_orders(root: Path, count: int, path: Path) -> Path:
    demo = json.loads((root / "shop" / "demo_orders.json").read_text(encoding="utf-8"))
    template = next(order for order in demo["orders"] if order["order_id"] == HEADPHONES_ORDER)
    orders = []
    for index in range(count):
        order = json.loads(json.dumps(template))
        order["order_id"] = f"62019{index:011d}"
        orders.append(order)
    path.write_text(json.dumps({"about": "perf", "orders": orders}, ensure_ascii=False), encoding="utf-8")
    return path


@dataclass
class Stack:
    """One assistant (or the reference bot) started from `root`."""

    name: str
    root: Path
    model: Path
    workdir: Path
    database_url: Optional[str] = None  # None: the reference bot (no orders)
    tracker_url: str = ""
    project: bool = True
    processes: list = field(default_factory=list)
    rest_url: str = ""
    api_url: str = ""
    starts: List[float] = field(default_factory=list)
    orders: List[str] = field(default_factory=list)
    failures: List[str] = field(default_factory=list)
    _next_order: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def endpoints(self, action_port: int, actions_token: str = "") -> Path:
        path = self.workdir / "endpoints.yml"
        endpoints: Dict = {"action_endpoint": {"url": f"http://127.0.0.1:{action_port}/webhook"}}
        if actions_token:
            endpoints["action_endpoint"]["token"] = actions_token
        if self.project:
            own_store = (self.root / "bot" / "rasa_tracker_store.py").exists()
            endpoints["tracker_store"] = {
                "type": "bot.rasa_tracker_store.AfterSalesSQLTrackerStore" if own_store else "SQL",
                "url": self.tracker_url,
            }
        path.write_text(yaml.safe_dump(endpoints), encoding="utf-8")
        return path

    def start(self) -> float:
        self.workdir.mkdir(parents=True, exist_ok=True)
        env = {
            "PYTHONPATH": str(self.root),
            "AFTERSALES_EVIDENCE_DIR": str(self.workdir / "evidence"),
            "RASA_TELEMETRY_ENABLED": "false",
            "AFTERSALES_MESSAGES_PER_CLIENT": HARNESS_MESSAGES_PER_CLIENT,  # every simulated buyer is 127.0.0.1
        }
        if self.database_url:
            env["AFTERSALES_DATABASE_URL"] = self.database_url
        action_port, port = free_port(), free_port()
        # each code's own action server: the project's (bot/action_server.py, which requires a
        # token), else the code's `rasa run actions`
        own_action_server = self.project and (self.root / "bot" / "action_server.py").exists()
        actions_token = f"perf-{uuid.uuid4().hex}" if own_action_server else ""
        if own_action_server:
            env["AFTERSALES_ACTIONS_TOKEN"] = actions_token
            action_command = [venv_executable("python"), "-m", "bot.action_server", "--port", str(action_port)]
        else:
            action_command = [
                venv_executable("rasa"),
                "run",
                "actions",
                "--actions",
                "actions",
                "--port",
                str(action_port),
            ]
        started = time.monotonic()
        actions = _start(
            self.root,
            "action server",
            action_command,
            f"http://127.0.0.1:{action_port}/health",
            env,
            self.workdir / "actions.log",
        )
        rasa = _start(
            self.root,
            "Rasa server",
            [
                venv_executable("rasa"),
                "run",
                "--model",
                str(self.model),
                "--port",
                str(port),
                "--interface",
                "127.0.0.1",
                "--enable-api",
                "--endpoints",
                str(self.endpoints(action_port, actions_token)),
                "--credentials",
                str(self._credentials()),
            ],
            f"http://127.0.0.1:{port}/status",
            env,
            self.workdir / "rasa.log",
        )
        self.processes = [actions, rasa]
        wait_until_ready(actions, 300)
        wait_until_ready(rasa, 600, accept=rasa_model_loaded)
        seconds = time.monotonic() - started
        self.starts.append(seconds)
        self.rest_url = f"http://127.0.0.1:{port}/webhooks/rest/webhook"
        self.api_url = f"http://127.0.0.1:{port}"
        return seconds

    def _credentials(self) -> Path:
        path = self.workdir / "credentials.yml"
        path.write_text("rest:\n", encoding="utf-8")
        return path

    def memory(self) -> Dict[str, float]:
        return {process.name: rss_mb(process.popen.pid) for process in self.processes}

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()
        self.processes = []

    def take_order(self) -> str:
        with self._lock:
            order = self.orders[self._next_order % len(self.orders)]
            self._next_order += 1
            return order


def _start(root: Path, name: str, command: List[str], ready_url: str, env: Dict[str, str], log: Path):
    from bot.launcher import ManagedProcess

    log.parent.mkdir(parents=True, exist_ok=True)
    popen = subprocess.Popen(
        command,
        cwd=root,
        env=rasa_environment(env),
        stdout=open(log, "ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return ManagedProcess(name=name, popen=popen, ready_url=ready_url, log_path=log)


# --- conversations --------------------------------------------------------------------------------


def say(stack: Stack, sender: str, text: str, metadata: Optional[dict] = None, expect: str = "") -> float:
    """One message; seconds until the reply. `expect`: a phrase the reply must hold, else the
    conversation is counted as failed (a fast wrong answer is not a result)."""
    body = {"sender": sender, "message": text}
    if metadata:
        body["metadata"] = metadata
    started = time.perf_counter()
    response = requests.post(stack.rest_url, json=body, timeout=300)
    seconds = time.perf_counter() - started
    response.raise_for_status()
    if expect and expect not in "\n".join(reply.get("text") or "" for reply in response.json()):
        with stack._lock:
            stack.failures.append(f"{sender}: {text!r} → no {expect!r}")
    return seconds


def parse(stack: Stack, text: str) -> float:
    started = time.perf_counter()
    requests.post(f"{stack.api_url}/model/parse", json={"text": text}, timeout=300).raise_for_status()
    return time.perf_counter() - started


def complaint(stack: Stack, record: Callable[[str, float], None]) -> int:
    """One buyer's complaint, turn by turn: greeting, complaint, order number, phone check (the
    order lookup), photo (decision and ticket write), remedy choice (ticket update)."""
    sender = f"perf-{uuid.uuid4().hex[:10]}"
    order = stack.take_order()
    record("greeting", say(stack, sender, "你好"))
    record("complaint", say(stack, sender, "我买的耳机坏了，右边没声音"))
    record("order number", say(stack, sender, f"订单号 {order}"))
    record("order check (phone)", say(stack, sender, "4086"))
    stored = store_evidence(PHOTO + uuid.uuid4().bytes, evidence_dir=stack.workdir / "evidence")
    record(
        "decision + ticket write",
        say(stack, sender, "这是照片", {"attachments": [stored.attachment("耳机.jpg")]}, expect="Q1"),
    )
    record("remedy choice (ticket update)", say(stack, sender, '/inform{"remedy":"exchange"}'))
    record("/model/parse", parse(stack, "我买的耳机坏了，右边没声音"))
    return 6


def reference_conversation(stack: Stack, record: Callable[[str, float], None]) -> int:
    sender = f"ref-{uuid.uuid4().hex[:10]}"
    record("greeting", say(stack, sender, "hello"))
    record("mood (utterance)", say(stack, sender, "I am feeling great"))
    record("trivial custom action", say(stack, sender, "are you a bot?", expect="powered by Rasa"))
    record("goodbye", say(stack, sender, "bye"))
    record("/model/parse", parse(stack, "hello there"))
    return 4


def conversation_for(stack: Stack) -> Callable[[Stack, Callable[[str, float], None]], int]:
    return complaint if stack.project else reference_conversation


def sequential_latencies(stack: Stack, conversations: int) -> Dict[str, List[float]]:
    turns: Dict[str, List[float]] = {}
    run = conversation_for(stack)
    for _ in range(conversations):
        run(stack, lambda kind, seconds: turns.setdefault(kind, []).append(seconds))
    return turns


def load(stack: Stack, buyers: int, conversations: int) -> Dict[str, float]:
    """`buyers` conversations at once until `conversations` are done: messages/s and p95."""
    latencies: List[float] = []
    lock = threading.Lock()
    messages = 0
    run = conversation_for(stack)

    def record(kind: str, seconds: float) -> None:
        if kind != "/model/parse":
            with lock:
                latencies.append(seconds)

    def one(_):
        return run(stack, record)

    cpu_before = {process.name: cpu_seconds(process.popen.pid) for process in stack.processes}
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=buyers) as pool:
        messages = sum(pool.map(one, range(conversations)))
    elapsed = time.perf_counter() - started
    cpu_ms_per_message = {
        process.name: (cpu_seconds(process.popen.pid) - cpu_before[process.name]) * 1000 / max(messages, 1)
        for process in stack.processes
    }
    return {
        "messages_per_s": messages / elapsed,
        "p95_s": percentile(latencies, 0.95),
        "messages": messages,
        "cpu_ms_per_message": cpu_ms_per_message,
    }


# --- the reference bot ----------------------------------------------------------------------------

REFERENCE_ACTION = """from rasa_sdk import Action


class ActionTrivial(Action):
    \"\"\"The reference bot's trivial custom action: one message, no events.\"\"\"

    def name(self):
        return "action_trivial"

    def run(self, dispatcher, tracker, domain):
        dispatcher.utter_message(text="I am a bot, powered by Rasa.")
        return []
"""


def reference_bot(directory: Path) -> Path:
    """`rasa init --no-prompt` in `directory` (it trains there), then one trivial custom action
    answering "are you a bot?" (its rule points at it instead of the response) and a second
    training; returns the model. Both steps are skipped when `directory` has them already."""
    env = rasa_environment()
    if not (directory / "domain.yml").exists():
        directory.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [venv_executable("rasa"), "init", "--no-prompt", "--init-dir", str(directory)],
            cwd=directory,
            env=env,
            check=True,
            capture_output=True,
        )
    domain = directory / "domain.yml"
    if "action_trivial" not in domain.read_text():
        (directory / "actions" / "actions.py").write_text(REFERENCE_ACTION)
        domain.write_text(domain.read_text() + "\nactions:\n  - action_trivial\n")
        rules = directory / "data" / "rules.yml"
        rules.write_text(rules.read_text().replace("action: utter_iamabot", "action: action_trivial"))
        for old in (directory / "models").glob("*.tar.gz"):
            old.unlink()
    models = list((directory / "models").glob("*.tar.gz"))
    if not models:
        subprocess.run([venv_executable("rasa"), "train"], cwd=directory, env=env, check=True, capture_output=True)
        models = list((directory / "models").glob("*.tar.gz"))
    return max(models, key=lambda p: p.stat().st_mtime)


# --- the run --------------------------------------------------------------------------------------


@dataclass
class Results:
    turns: Dict[str, Dict[str, List[float]]] = field(default_factory=dict)  # stack -> kind -> seconds
    load: Dict[str, Dict[int, Dict[str, float]]] = field(default_factory=dict)  # stack -> buyers -> figures
    memory: Dict[str, Dict[str, float]] = field(default_factory=dict)
    starts: Dict[str, List[float]] = field(default_factory=dict)
    model_mb: Dict[str, float] = field(default_factory=dict)
    conversations: Dict[str, int] = field(default_factory=dict)
    failures: Dict[str, List[str]] = field(default_factory=dict)


def run_benchmark(
    stacks: Sequence[Stack],
    rounds: int,
    concurrency: Sequence[int],
    conversations_per_level: Callable[[int], int],
    progress: Callable[[str], None] = print,
) -> Results:
    results = Results()
    for stack in stacks:
        results.model_mb[stack.name] = stack.model.stat().st_size / 1e6
    try:
        for stack in stacks:
            progress(f"[perf] 启动 {stack.name} …")
            progress(f"[perf]   {stack.name} 就绪，用时 {stack.start():.1f} 秒")
        for round_index in range(rounds):
            for stack in stacks:  # interleaved: one round of each stack in turn
                progress(f"[perf] 第 {round_index + 1}/{rounds} 轮：{stack.name} 逐句延迟")
                for kind, values in sequential_latencies(stack, 1).items():
                    results.turns.setdefault(stack.name, {}).setdefault(kind, []).extend(values)
        for buyers in concurrency:
            for stack in stacks:
                progress(f"[perf] {buyers} 个买家同时对话：{stack.name}")
                results.load.setdefault(stack.name, {})[buyers] = load(stack, buyers, conversations_per_level(buyers))
        for stack in stacks:
            results.memory[stack.name] = stack.memory()
        for stack in stacks:  # restart: the warm start
            stack.stop()
            progress(f"[perf] 重启 {stack.name}（热启动）…")
            stack.start()
    finally:
        for stack in stacks:
            stack.stop()
    for stack in stacks:
        results.starts[stack.name] = list(stack.starts)
        results.failures[stack.name] = list(stack.failures)
        results.conversations[stack.name] = stack._next_order
    return results


def prepare_project_stack(
    name: str, root: Path, model: Path, workdir: Path, backend: str, postgres_url: str, buyers: int
) -> Stack:
    workdir.mkdir(parents=True, exist_ok=True)
    if backend == "postgresql":
        database_url, tracker_url = _fresh_postgres(postgres_url, name)
    else:
        database_url = f"sqlite:///{workdir / 'aftersales.db'}"
        tracker_url = f"sqlite:///{workdir / 'tracker.db'}"
    orders_file = perf_orders(root, buyers, workdir / "perf_orders.json")
    subprocess.run(
        [venv_executable("python"), "-m", "bot", "orders", "import", str(orders_file)],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root), "AFTERSALES_DATABASE_URL": database_url},
        check=True,
        capture_output=True,
    )
    stack = Stack(name, root, model, workdir, database_url, tracker_url)
    stack.orders = [f"62019{index:011d}" for index in range(buyers)]
    return stack


CREATED_DATABASES: List[tuple] = []  # (server URL, database) made by this run, dropped at its end


def drop_created_databases() -> None:
    from sqlalchemy import create_engine, text

    while CREATED_DATABASES:
        server_url, database = CREATED_DATABASES.pop()
        admin = create_engine(server_url, future=True, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()


def _fresh_postgres(server_url: str, name: str):
    """Two new databases on the PostgreSQL server: orders and conversations."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    suffix = f"{name.replace('-', '_')}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(server_url, future=True, isolation_level="AUTOCOMMIT")
    urls = []
    with admin.connect() as connection:
        for kind in ("orders", "tracker"):
            database = f"perf_{kind}_{suffix}"
            connection.execute(text(f'CREATE DATABASE "{database}"'))
            CREATED_DATABASES.append((server_url, database))
            urls.append(str(make_url(server_url).set(database=database)))
    admin.dispose()
    return urls[0], urls[1]


def reference_stack(model: Path, workdir: Path) -> Stack:
    return Stack("reference", model.parent.parent, model, workdir, project=False)


def copy_tree_model(model: Path, workdir: Path) -> Path:
    target = workdir / model.name
    if not target.exists():
        shutil.copy(model, target)
    return target


def temporary_directory() -> Path:
    return Path(tempfile.mkdtemp(prefix="aftersales-perf-"))
