"""Load test of ``xpnet serve``: a real server, many clients, good and bad uploads, bounded.

Starts ``xpnet serve`` (this tree's code, uvicorn) on a free port of 127.0.0.1 in a child
process, serving a small model trained here into a temporary folder (or ``--model``), then:

1. **Load.** ``--clients`` concurrent HTTP clients (httpx, one connection each) send exactly
   ``--requests`` ``POST /api/predict`` requests between them, in a fixed shuffled order
   (``--seed``) of five kinds:

   ``canvas``
       a 280×280 RGBA PNG of white strokes on black, as the page sends while you draw;
   ``photo``
       a phone photo of a digit in blue ink on lit, noisy paper (``--photo-size``, default
       3000×2000), JPEG;
   ``garbage``
       random bytes that are no image;
   ``empty``
       no body at all;
   ``oversized``
       a ``--oversized-mb`` (default 30 MB) body, alternately announced by Content-Length
       and streamed chunked.

   Every answer must have its kind's status (200, 200, 400, 400, 413) with the JSON error
   body; no 5xx, no dropped connection, no timeout.
2. **Memory.** The server's resident memory (``VmRSS`` of ``/proc/PID/status``) is sampled
   every 0.1 s. After the warm-up requests (``--warmup``, default a fifth), the
   median of the second half of the run may exceed the median of the first half by at most
   ``--rss-tolerance-mb`` (default: the larger of 32 MiB and 10 % of the first half's);
   the peaks, which follow how many photos are decoded at once, are reported.
3. **One client.** ``--single`` requests of one canvas, one after another, after the load:
   the latency of one stroke update of the page.

Latencies are measured by the client (from sending the request to reading the whole answer);
the warm-up requests are checked but not counted in them. The report prints p50 and p99 per
kind and overall, and requests per second (all requests over the load's wall time). The run
stops by itself; past ``--max-seconds`` it stops and fails. Exit status 0 when every check
holds, 1 otherwise.

Run from the repository root (needs the ``serve-test`` extra)::

    python benchmarks/serve_load.py                    # 1,000 requests, 16 clients
    python benchmarks/serve_load.py --requests 60 --clients 4 --single 20   # a quick look
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

KINDS = ("canvas", "photo", "garbage", "empty", "oversized")
EXPECTED_STATUS = {"canvas": 200, "photo": 200, "garbage": 400, "empty": 400, "oversized": 413}
EXPECTED_REASON = {"garbage": "not_an_image", "empty": "empty_body", "oversized": "too_large"}
DEFAULT_MIX = {"canvas": 60, "photo": 15, "garbage": 10, "empty": 10, "oversized": 5}


@dataclass
class LoadConfig:
    requests: int = 1000
    clients: int = 16
    mix: dict = field(default_factory=lambda: dict(DEFAULT_MIX))
    oversized_mb: float = 30.0
    photo_size: tuple = (3000, 2000)
    single: int = 200
    warmup: int | None = None  # default: a fifth of the requests
    seed: int = 0
    backend: str = "cpu"
    model: str | None = None
    timeout: float = 120.0
    max_seconds: float = 1800.0
    rss_tolerance_mb: float | None = None

    def warmup_requests(self) -> int:
        return self.requests // 5 if self.warmup is None else min(self.warmup, self.requests)


@dataclass
class Record:
    index: int
    kind: str
    status: int | None
    seconds: float
    done_at: float
    error: str | None = None
    reason: str | None = None
    chunked: bool = False


# -- the pictures ---------------------------------------------------------------------------------------
def digit_path(digit: int, rng: np.random.Generator, n: int = 60) -> list[list[tuple[float, float]]]:
    """Strokes of a handwritten ``digit`` (0, 1, 2, 3 or 7) in [0, 1]² (y down), jittered."""

    def arc(cx, cy, rx, ry, a0, a1):
        t = np.radians(np.linspace(a0, a1, n))
        return list(zip(cx + rx * np.cos(t), cy + ry * np.sin(t)))

    if digit == 0:
        strokes = [arc(0.5, 0.5, 0.22, 0.32, -90, 275)]
    elif digit == 1:
        strokes = [[(0.38, 0.3), (0.52, 0.18), (0.52, 0.82)]]
    elif digit == 2:
        strokes = [arc(0.5, 0.35, 0.2, 0.17, 200, 380) + [(0.3, 0.8), (0.72, 0.8)]]
    elif digit == 3:
        strokes = [arc(0.5, 0.31, 0.16, 0.176, 205, 445) + arc(0.49, 0.66, 0.19, 0.209, 272, 515)]
    else:
        strokes = [[(0.28, 0.2), (0.72, 0.2), (0.45, 0.82)]]
    slant, scale = rng.uniform(-0.12, 0.12), rng.uniform(0.85, 1.05)
    dx, dy = rng.uniform(-0.06, 0.06, 2)
    out = []
    for stroke in strokes:
        out.append(
            [(0.5 + scale * (x - 0.5) + slant * (0.5 - y) + dx, 0.5 + scale * (y - 0.5) + dy) for x, y in stroke]
        )
    return out


def _draw(size: tuple[int, int], strokes, box: tuple[float, float, float], width: float):
    """An L-mode mask of ``size`` (w, h) with the strokes drawn ``width`` px wide, round ends;
    the unit square maps to a ``box`` = (left, top, side) square in pixels."""
    from PIL import Image, ImageDraw

    mask = Image.new("L", size, 0)
    draw = ImageDraw.Draw(mask)
    left, top, side = box
    r = width / 2
    for stroke in strokes:
        pts = [(left + x * side, top + y * side) for x, y in stroke]
        draw.line(pts, fill=255, width=max(1, round(width)), joint="curve")
        for x, y in (pts[0], pts[-1]):
            draw.ellipse((x - r, y - r, x + r, y + r), fill=255)
    return mask


def canvas_png(digit: int, rng: np.random.Generator) -> bytes:
    """The page's pad: 280×280, white ink 280/13 px wide on opaque black, RGBA PNG."""
    import io

    from PIL import Image

    mask = _draw((280, 280), digit_path(digit, rng), (0, 0, 280), 280 / 13)
    rgba = Image.merge("RGBA", (mask, mask, mask, Image.new("L", mask.size, 255)))
    buffer = io.BytesIO()
    rgba.save(buffer, "PNG")
    return buffer.getvalue()


def photo_jpeg(digit: int, rng: np.random.Generator, size: tuple[int, int]) -> bytes:
    """A phone photo: blue ink on cream paper, light falling off across it, sensor noise."""
    import io

    from PIL import Image

    w, h = size
    side = 0.6 * min(w, h)
    mask = _draw(size, digit_path(digit, rng), ((w - side) / 2, (h - side) / 2, side), side / 28)
    ink = np.asarray(mask, dtype=np.float32)[..., None] / 255
    light = (1.0 - 0.2 * np.linspace(0, 1, w, dtype=np.float32))[None, :, None]
    paper = np.array([236, 228, 208], np.float32) * light
    pen = np.array([40, 60, 150], np.float32)
    img = paper * (1 - ink) + pen * ink
    img += rng.normal(0, 5, img.shape).astype(np.float32)
    buffer = io.BytesIO()
    Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def make_bodies(cfg: LoadConfig, rng: np.random.Generator) -> dict:
    """For each kind, a few (body, Content-Type) to cycle through."""
    return {
        "canvas": [(canvas_png(d, rng), "image/png") for d in (0, 1, 2, 3, 7, 3, 2, 0)],
        "photo": [(photo_jpeg(d, rng, tuple(cfg.photo_size)), "image/jpeg") for d in (3, 7)],
        "garbage": [
            (rng.integers(0, 256, int(n), dtype=np.uint8).tobytes(), t)
            for n, t in zip(rng.integers(2_000, 50_000, 4), ("image/png", "application/octet-stream") * 2)
        ],
        "empty": [(b"", "image/png")],
        "oversized": [(rng.integers(0, 256, int(cfg.oversized_mb * 1e6), dtype=np.uint8).tobytes(), "image/png")],
    }


def job_kinds(cfg: LoadConfig, rng: np.random.Generator) -> list[str]:
    """``cfg.requests`` kinds in the proportions of ``cfg.mix`` (largest remainders), shuffled."""
    weights = {k: float(cfg.mix.get(k, 0)) for k in KINDS}
    total = sum(weights.values())
    exact = {k: cfg.requests * v / total for k, v in weights.items()}
    counts = {k: math.floor(v) for k, v in exact.items()}
    for k in sorted(exact, key=lambda k: exact[k] - counts[k], reverse=True)[: cfg.requests - sum(counts.values())]:
        counts[k] += 1
    kinds = [k for k in KINDS for _ in range(counts[k])]
    rng.shuffle(kinds)
    return kinds


def jobs_for(kinds: list[str], bodies: dict) -> list[tuple[str, bytes, str, bool]]:
    """(kind, body, Content-Type, chunked) per request: each kind cycles through its bodies;
    every second oversized body is streamed chunked (no Content-Length), starting with the second."""
    seen = dict.fromkeys(KINDS, 0)
    jobs = []
    for kind in kinds:
        body, ctype = bodies[kind][seen[kind] % len(bodies[kind])]
        jobs.append((kind, body, ctype, kind == "oversized" and seen[kind] % 2 == 1))
        seen[kind] += 1
    return jobs


# -- the model and the server ----------------------------------------------------------------------------
def train_model(path: Path, seed: int) -> Path:
    """784-100-10 ReLU trained for 2 epochs on synthetic 28×28 bars (the latency does not
    depend on what the weights learnt, only on the shapes)."""
    import xpnet
    from xpnet.model.preprocessing import Preprocessing

    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, 2000)
    x = rng.integers(0, 40, (2000, 28, 28)).astype(np.float64)
    for i, c in enumerate(y):
        x[i, 4 + 2 * c : 7 + 2 * c, 6:22] += 200
    x = np.clip(x, 0, 255).astype(np.uint8).reshape(-1, 784)
    pre = Preprocessing.fit(x)
    model = xpnet.MLP([784, 100, 10], backend="numpy", seed=seed)
    model.fit(pre.transform(x), y, epochs=2, batch_size=64)
    return xpnet.save(
        model, path, preprocessing=pre, dataset={"name": "synthetic bars", "class_names": [str(i) for i in range(10)]}
    )


class ServeProcess:
    """``python -m xpnet.cli serve MODEL --port 0`` with this tree first on the path."""

    def __init__(self, model: Path, backend: str):
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
        cmd = [sys.executable, "-m", "xpnet.cli", "serve", str(model), "--port", "0", "--host", "127.0.0.1"]
        if backend:
            cmd += ["--backend", backend]
        self.proc = subprocess.Popen(
            cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT
        )
        self.lines: list[str] = []
        self.url: str | None = None
        found = threading.Event()

        def read():
            for line in self.proc.stdout:
                self.lines.append(line.rstrip("\n"))
                m = re.search(r"Open (http://127\.0\.0\.1:\d+/)", line)
                if m and self.url is None:
                    self.url = m.group(1)
                    found.set()
            found.set()

        threading.Thread(target=read, daemon=True).start()
        if not found.wait(120) or self.url is None:
            self.stop()
            raise RuntimeError("xpnet serve did not start:\n" + "\n".join(self.lines))

    @property
    def pid(self) -> int:
        return self.proc.pid

    def rss_bytes(self) -> int | None:
        """The server's resident memory, from /proc/PID/status (None where there is no /proc)."""
        try:
            with open(f"/proc/{self.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) * 1024
        except OSError:
            return None
        return None

    def stop(self) -> int | None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)  # as Ctrl-C: uvicorn shuts down cleanly
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        return self.proc.returncode


class RssSampler(threading.Thread):
    """Samples ``server.rss_bytes()`` every ``every`` seconds, with how many requests were done."""

    def __init__(self, server: ServeProcess, progress: list, every: float = 0.1):
        super().__init__(daemon=True)
        self.server, self.progress, self.every = server, progress, every
        self.samples: list[tuple[float, int, int]] = []  # (time, requests done, rss bytes)
        self.stopping = threading.Event()

    def run(self):
        while not self.stopping.is_set():
            rss = self.server.rss_bytes()
            if rss is not None:
                self.samples.append((time.monotonic(), len(self.progress), rss))
            self.stopping.wait(self.every)

    def stop(self):
        self.stopping.set()
        self.join(5)


# -- the clients -------------------------------------------------------------------------------------------
async def _send(client, body: bytes, ctype: str, chunked: bool):
    headers = {"Content-Type": ctype}
    if not chunked:
        return await client.post("/api/predict", content=body, headers=headers)

    async def chunks():
        for i in range(0, len(body), 256 * 1024):
            yield body[i : i + 256 * 1024]

    return await client.post("/api/predict", content=chunks(), headers=headers)


async def load_phase(url: str, jobs: list, cfg: LoadConfig, records: list) -> float:
    """Send every job with ``cfg.clients`` clients; appends a Record per job; returns wall seconds."""
    import httpx

    next_job = iter(range(len(jobs)))
    start = time.perf_counter()

    async def client_loop():
        async with httpx.AsyncClient(base_url=url, timeout=cfg.timeout, limits=httpx.Limits(max_connections=1)) as c:
            for i in next_job:
                kind, body, ctype, chunked = jobs[i]
                t0 = time.perf_counter()
                try:
                    r = await _send(c, body, ctype, chunked)
                    status, error, reason = r.status_code, None, None
                    try:
                        answer = r.json()
                    except ValueError:
                        answer, error = None, f"a {status} answer that is not JSON: {r.text[:80]!r}"
                    if isinstance(answer, dict):
                        reason = answer.get("reason") if status != 200 else None
                        if status == 200 and "prediction" not in answer:
                            error = f"a 200 answer without a prediction: {r.text[:80]!r}"
                except httpx.HTTPError as exc:
                    status, reason, error = None, None, f"{type(exc).__name__}: {exc}"
                t1 = time.perf_counter()
                records.append(Record(i, kind, status, t1 - t0, t1 - start, error, reason, chunked))

    await asyncio.wait_for(asyncio.gather(*(client_loop() for _ in range(cfg.clients))), cfg.max_seconds)
    return time.perf_counter() - start


async def single_client(url: str, body: bytes, n: int, timeout: float) -> list[float]:
    """``n`` canvas requests one after another (after 10 not timed); their latencies."""
    import httpx

    out = []
    async with httpx.AsyncClient(base_url=url, timeout=timeout) as c:
        for i in range(n + 10):
            t0 = time.perf_counter()
            r = await c.post("/api/predict", content=body, headers={"Content-Type": "image/png"})
            dt = time.perf_counter() - t0
            if r.status_code != 200:
                raise RuntimeError(f"one client: answer {r.status_code}: {r.text[:200]}")
            if i >= 10:
                out.append(dt)
    return out


# -- the report ----------------------------------------------------------------------------------------------
def _ms(values) -> dict:
    v = np.asarray(values, dtype=np.float64) * 1000
    if v.size == 0:
        return {"n": 0, "p50_ms": None, "p99_ms": None, "max_ms": None}
    return {
        "n": int(v.size),
        "p50_ms": float(np.percentile(v, 50)),
        "p99_ms": float(np.percentile(v, 99)),
        "max_ms": float(v.max()),
    }


def summarise(cfg: LoadConfig, records: list[Record], wall: float, samples, single: list[float]) -> dict:
    warm = cfg.warmup_requests()
    failures = []
    statuses: dict = {k: {} for k in KINDS}
    for r in sorted(records, key=lambda r: r.index):
        key = str(r.status) if r.status is not None else "no answer"
        statuses[r.kind][key] = statuses[r.kind].get(key, 0) + 1
        if r.error or r.status != EXPECTED_STATUS[r.kind] or r.reason != EXPECTED_REASON.get(r.kind):
            failures.append(f"request {r.index} ({r.kind}): {r.error or f'status {r.status} ({r.reason})'}")
    if len(records) != cfg.requests:
        failures.append(f"{len(records)} of {cfg.requests} requests answered")
    n5xx = sum(1 for r in records if r.status is not None and r.status >= 500)
    counted = [r for r in records if r.index >= warm]
    latency = {k: _ms([r.seconds for r in counted if r.kind == k]) for k in KINDS}
    latency["all"] = _ms([r.seconds for r in counted])

    memory = {"measured": False}
    after = [s for s in samples if s[1] >= warm]
    if len(after) >= 4:
        mid = warm + (cfg.requests - warm) / 2
        first = [s[2] for s in after if s[1] < mid] or [after[0][2]]
        second = [s[2] for s in after if s[1] >= mid] or [after[-1][2]]
        base = float(np.median(first))
        tol = cfg.rss_tolerance_mb * 2**20 if cfg.rss_tolerance_mb is not None else max(32 * 2**20, 0.10 * base)
        growth = float(np.median(second)) - base
        mb = lambda v: float(v) / 2**20  # noqa: E731
        memory = {
            "measured": True,
            "warmup_end_mb": mb(after[0][2]),
            "first_half_median_mb": mb(base),
            "second_half_median_mb": mb(np.median(second)),
            "first_half_peak_mb": mb(max(first)),
            "second_half_peak_mb": mb(max(second)),
            "end_mb": mb(samples[-1][2]),
            "growth_mb": mb(growth),
            "tolerance_mb": mb(tol),
            "settled": bool(growth <= tol),
            "samples": len(samples),
        }
        if growth > tol:
            failures.append(
                f"server memory grew: median {mb(growth):+.1f} MiB from the first half of the run to the second "
                f"(tolerance {mb(tol):.1f} MiB)"
            )
    return {
        "config": asdict(cfg),
        "wall_s": wall,
        "requests_per_s": len(records) / wall if wall > 0 else None,
        "statuses": statuses,
        "n_5xx": n5xx,
        "latency": latency,
        "memory": memory,
        "single_client": _ms(single) | {"median_ms": float(np.median(single) * 1000) if single else None},
        "failures": failures,
        "ok": not failures,
    }


def format_report(s: dict) -> str:
    cfg = s["config"]
    lines = [
        f"{cfg['requests']} requests, {cfg['clients']} concurrent clients, "
        f"{s['wall_s']:.1f} s: {s['requests_per_s']:.1f} requests/s; "
        f"latencies over requests {cfg['warmup'] if cfg['warmup'] is not None else cfg['requests'] // 5} onwards",
        "",
        f"{'kind':<10} {'n':>5} {'status':<22} {'p50 ms':>9} {'p99 ms':>9} {'max ms':>9}",
    ]
    for k in (*KINDS, "all"):
        lat = s["latency"][k]
        if k == "all":
            status = f"{s['n_5xx']} × 5xx"
        else:
            status = ", ".join(f"{n}×{code}" for code, n in sorted(s["statuses"][k].items()))
        fmt = lambda v: f"{v:9.1f}" if v is not None else f"{'–':>9}"  # noqa: E731
        lines.append(
            f"{k:<10} {lat['n']:>5} {status:<22} {fmt(lat['p50_ms'])} {fmt(lat['p99_ms'])} {fmt(lat['max_ms'])}"
        )
    m = s["memory"]
    lines.append("")
    if m.get("measured"):
        lines.append(
            f"server RSS after warm-up: median {m['first_half_median_mb']:.0f} MiB in the first half of the run, "
            f"{m['second_half_median_mb']:.0f} MiB in the second ({m['growth_mb']:+.1f} MiB, tolerance "
            f"{m['tolerance_mb']:.0f}): " + ("settled" if m["settled"] else "NOT settled")
        )
        lines.append(
            f"  peaks {m['first_half_peak_mb']:.0f} and {m['second_half_peak_mb']:.0f} MiB; "
            f"{m['warmup_end_mb']:.0f} MiB when warm-up ended, {m['end_mb']:.0f} MiB at the end"
        )
    else:
        lines.append("server RSS: not measured (no /proc, or too short a run)")
    one = s["single_client"]
    if one["n"]:
        lines.append(
            f"one client, {one['n']} canvas requests in a row: p50 {one['p50_ms']:.1f} ms, p99 {one['p99_ms']:.1f} ms"
        )
    lines.append("")
    if s["ok"]:
        lines.append("OK: every answer had its kind's status, no 5xx, no dropped connection, memory settled")
    else:
        lines.append(f"FAILED ({len(s['failures'])}):")
        lines += [f"  {f}" for f in s["failures"][:20]]
    return "\n".join(lines)


def run(cfg: LoadConfig, log=print) -> dict:
    """The whole test; returns the summary (``summary["ok"]``, ``summary["failures"]``)."""
    rng = np.random.default_rng(cfg.seed)
    with tempfile.TemporaryDirectory(prefix="xpnet-serve-load-") as tmp:
        model = Path(cfg.model) if cfg.model else train_model(Path(tmp) / "model.npz", cfg.seed)
        bodies = make_bodies(cfg, rng)
        jobs = jobs_for(job_kinds(cfg, rng), bodies)
        server = ServeProcess(model, cfg.backend)
        log(f"xpnet serve (pid {server.pid}) on {server.url}: {server.lines[0] if server.lines else ''}")
        records: list[Record] = []
        sampler = RssSampler(server, records)
        sampler.start()
        try:
            wall = asyncio.run(load_phase(server.url, jobs, cfg, records))
            single = asyncio.run(single_client(server.url, bodies["canvas"][3][0], cfg.single, cfg.timeout))
        finally:
            sampler.stop()
            code = server.stop()
        summary = summarise(cfg, records, wall, sampler.samples, single)
        summary["server_exit"] = code
        alive = server.lines[1:]
        errors = [line for line in alive if "Traceback" in line or "ERROR" in line]
        if errors:
            summary["failures"].append(f"the server logged errors: {errors[:3]}")
            summary["ok"] = False
        summary["server_log"] = alive
    return summary


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--requests", type=int, default=1000, help="how many requests in all (default 1000)")
    p.add_argument("--clients", type=int, default=16, help="concurrent clients (default 16)")
    p.add_argument(
        "--mix",
        default=",".join(f"{k}={v}" for k, v in DEFAULT_MIX.items()),
        help="relative share of each kind (default %(default)s)",
    )
    p.add_argument("--oversized-mb", type=float, default=30.0, help="size of the oversized bodies, MB (default 30)")
    p.add_argument("--photo-size", default="3000x2000", help="the photos' width x height (default 3000x2000)")
    p.add_argument("--single", type=int, default=200, help="one-client requests after the load (default 200)")
    p.add_argument("--warmup", type=int, help="requests not counted in latencies (default: a fifth)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--backend", default="cpu", help="xpnet serve --backend (default cpu)")
    p.add_argument("--model", help="serve this checkpoint or run folder instead of training one")
    p.add_argument("--max-seconds", type=float, default=1800.0, help="stop and fail past this (default 1800)")
    p.add_argument(
        "--rss-tolerance-mb", type=float, help="allowed growth of the median RSS, MiB (default max(32, 10%% of it))"
    )
    p.add_argument("--json", type=Path, help="also write the summary as JSON here")
    a = p.parse_args(argv)
    mix = {}
    for part in a.mix.split(","):
        name, _, share = part.partition("=")
        if name.strip() not in KINDS:
            p.error(f"--mix: unknown kind {name!r} (kinds: {', '.join(KINDS)})")
        mix[name.strip()] = float(share)
    w, _, h = a.photo_size.lower().partition("x")
    cfg = LoadConfig(
        requests=a.requests,
        clients=a.clients,
        mix=mix,
        oversized_mb=a.oversized_mb,
        photo_size=(int(w), int(h)),
        single=a.single,
        warmup=a.warmup,
        seed=a.seed,
        backend=a.backend,
        model=a.model,
        max_seconds=a.max_seconds,
        rss_tolerance_mb=a.rss_tolerance_mb,
    )
    summary = run(cfg)
    print(format_report(summary))
    if a.json:
        tmp = a.json.with_suffix(a.json.suffix + ".tmp")
        tmp.write_text(json.dumps(summary, indent=2))
        tmp.replace(a.json)
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
