#!/usr/bin/env bash
# xpnet on a CUDA GPU: the GPU tests, the GPU benchmark and the tutorial network's 500
# full-batch iterations, with a report.
#
#   benchmarks/gpu_check.sh [REPORT_DIR]       # default: $OUT if set, else /tmp/xpnet-gpu-report
#   benchmarks/gpu_check.sh --fetch-wheels     # on a machine with internet: fill .whl/
#
# Made for a machine that has CuPy (for CUDA 13) and PyTorch but not array-api-compat, and no
# internet: the missing pure-Python packages (array-api-compat, array-api-strict, platformdirs;
# hypothesis and pytest if absent) are installed from the wheels in $XPNET_WHEELS (default
# .whl/ in the repository root, which git ignores) into a private folder put on PYTHONPATH;
# nothing is installed system-wide and xpnet itself runs from this checkout. Fill .whl/ first,
# where pip works, with `benchmarks/gpu_check.sh --fetch-wheels`.
#
# Environment: PYTHON (default python3), XPNET_WHEELS, XPNET_BENCH_DATA (a Fashion-MNIST
# directory; synthetic data of the same shape otherwise), GPU_CHECK_EPOCHS (timed epochs per
# contender, default 10), GPU_CHECK_QUICK=1 (2 epochs, 12,000 samples: a smoke run),
# GPU_CHECK_SKIP_TESTS=1 (benchmark and tutorial timing only).
#
# Every step runs even if an earlier one failed; the exit status is non-zero if any failed.
# The report is REPORT_DIR/report.md, with the logs and the benchmark's JSON beside it
# (at most 8 files, so that a tool that copies back a few files gets all of them).
set -uo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$REPO"
PY="${PYTHON:-python3}"
WHEELS="${XPNET_WHEELS:-$REPO/.whl}"
WHEEL_PINS=(array-api-compat==1.16.0 array-api-strict==2.6.1 platformdirs==4.5.0 hypothesis pytest)

if [ "${1:-}" = "--fetch-wheels" ]; then
  mkdir -p "$WHEELS"
  # Pure-Python wheels (py3-none-any): the same files serve any CPython 3.10+.
  exec "$PY" -m pip download --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 -d "$WHEELS" "${WHEEL_PINS[@]}"
fi

REPORT="${1:-${OUT:-${TMPDIR:-/tmp}/xpnet-gpu-report}}"
mkdir -p "$REPORT"
LOG="$REPORT/gpu_check.log"
: >"$LOG"
FAILED=()
say() { echo "== $*" | tee -a "$LOG"; }
step() {  # step NAME COMMAND...: run, log, remember failures
  local name="$1"; shift
  say "$name"
  "$@" 2>&1 | tee -a "$LOG"
  local rc=${PIPESTATUS[0]}
  [ "$rc" -eq 0 ] || { FAILED+=("$name (exit $rc)"); echo "!! $name failed with exit $rc" | tee -a "$LOG"; }
  return 0
}

say "machine"
{ nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>&1 || echo "nvidia-smi unavailable"
  "$PY" - <<'EOF'
import importlib, platform
print("python", platform.python_version())
for name in ("numpy", "cupy", "torch", "array_api_compat", "array_api_strict", "hypothesis", "pytest", "click", "rich", "threadpoolctl"):
    try:
        mod = importlib.import_module(name)
        print(f"{name} {getattr(mod, '__version__', '?')}")
    except Exception as exc:
        print(f"{name} MISSING ({type(exc).__name__})")
try:
    import cupy
    print("CUDA runtime", cupy.cuda.runtime.runtimeGetVersion(), "devices", cupy.cuda.runtime.getDeviceCount())
except Exception as exc:
    print("CuPy CUDA unusable:", exc)
EOF
} 2>&1 | tee -a "$LOG"

# -- packages missing here, from the carried wheels, into a private folder ------------------------
SITE="${XPNET_GPU_SITE:-/tmp/xpnet-gpu-site}"
missing=()
for spec in "${WHEEL_PINS[@]}"; do
  dist="${spec%%==*}"
  module="${dist//-/_}"
  "$PY" -c "import $module" 2>/dev/null || missing+=("$spec")
done
if [ "${#missing[@]}" -gt 0 ]; then
  say "installing ${missing[*]} from $WHEELS into $SITE"
  if ls "$WHEELS"/*.whl >/dev/null 2>&1; then
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
      --find-links "$WHEELS" --target "$SITE" "${missing[@]}" 2>&1 | tee -a "$LOG" \
      || FAILED+=("wheel install")
  else
    echo "!! no wheels in $WHEELS: run benchmarks/gpu_check.sh --fetch-wheels where pip works" | tee -a "$LOG"
    FAILED+=("wheels missing")
  fi
fi
export PYTHONPATH="$REPO:$SITE${PYTHONPATH:+:$PYTHONPATH}"
export PYTHONUNBUFFERED=1

step "xpnet backends" "$PY" -c "
import xpnet
for b in xpnet.available_backends():
    print(f'{b.spec:18s} {\"usable\" if b.usable else \"-\":7s} {b.device:40s} {b.detail}')
print('auto ->', xpnet.get_backend('auto'))"

# -- tests -----------------------------------------------------------------------------------------
# Every test marked gpu (the CuPy cases of the core tests, and any GPU-only test), then the core
# model tests with the GPU as the default backend (models created without a backend use it).
if [ "${GPU_CHECK_SKIP_TESTS:-0}" != "1" ]; then
  step "pytest -m gpu" "$PY" -m pytest -q -m gpu -p no:cacheprovider tests
  step "core tests with XPNET_BACKEND=gpu" env XPNET_BACKEND=gpu "$PY" -m pytest -q -p no:cacheprovider \
    tests/core/test_core_model.py tests/core/test_core_network.py tests/core/test_core_optim.py -k "not strict"
  cp "$LOG" "$REPORT/tests.log" 2>/dev/null
fi

# -- benchmark: xpnet on CuPy against PyTorch CUDA eager, same net, same batches ------------------
EPOCHS="${GPU_CHECK_EPOCHS:-10}"
QUICK=()
[ "${GPU_CHECK_QUICK:-0}" = "1" ] && QUICK=(--quick) && EPOCHS=2
step "benchmark (GPU)" "$PY" benchmarks/bench.py "${QUICK[@]}" --epochs "$EPOCHS" \
  --contenders floor-cupy,xpnet-cupy,torch-cuda --batch-sizes 128,512,full \
  --optimizers sgd,adam --json "$REPORT/bench_gpu.json"
grep -A 200 "^== benchmark (GPU)" "$LOG" >"$REPORT/bench_gpu.txt"

# -- the tutorial network: 500 full-batch iterations on 60,000 images -----------------------------
step "tutorial network, 500 full-batch iterations" "$PY" - "$REPORT/tutorial_500.json" <<'EOF'
import json, sys, time
import cupy
import xpnet
from benchmarks.compare import load_bench_data  # the harness, run from the repository root

data = load_bench_data("auto")  # $XPNET_BENCH_DATA if given, else synthetic, 60,000 × 784
X = cupy.asarray(data.X)        # resident on the device for the whole run
y = cupy.asarray(data.y)
model = xpnet.MLP.tutorial(backend="gpu")  # 784-10-10, SGD α = 0.1, full batch, float32
model.fit(X, y, epochs=5)                  # warm-up: kernels compiled, memory pool filled
cupy.cuda.Device().synchronize()
start, end = cupy.cuda.Event(), cupy.cuda.Event()
t0 = time.perf_counter()
start.record()
history = model.fit(X, y, epochs=500)
end.record()
end.synchronize()
wall = time.perf_counter() - t0
seconds = cupy.cuda.get_elapsed_time(start, end) / 1000
result = {"data": data.source, "n": data.n, "iterations": 500, "cuda_event_s": seconds,
          "wall_s": wall, "target_s": 1.0, "meets_target": seconds < 1.0,
          "final_loss": history.loss[-1], "final_accuracy": history.accuracy[-1],
          "device": model.backend.device_name}
print(json.dumps(result, indent=1))
json.dump(result, open(sys.argv[1], "w"), indent=1)
EOF

# -- report ----------------------------------------------------------------------------------------
"$PY" - "$REPORT" "${FAILED[@]:-}" <<'EOF' | tee "$REPORT/report.md"
import json, sys
from pathlib import Path
report, failed = Path(sys.argv[1]), [f for f in sys.argv[2:] if f]
print("# xpnet GPU check\n")
print("Failed steps: " + (", ".join(failed) if failed else "none") + "\n")
bench = report / "bench_gpu.json"
if bench.exists():
    r = json.loads(bench.read_text())
    env = r["environment"]
    print(f"Data: {r['data']['source']}, {r['data']['n_samples']} samples; median of {r['epochs']} epochs after "
          f"{r['warmup']} warm-up; CUDA-event timing. Libraries: "
          + ", ".join(f"{k} {v}" for k, v in env["libraries"].items()) + "\n")
    print("| network | batch | optimizer | contender | s/epoch | × floor | samples/s | +MiB | loss |")
    print("|---|---|---|---|---:|---:|---:|---:|---:|")
    for res in r["results"]:
        for c in res["contenders"]:
            if c["status"] != "ok":
                print(f"| {res['network']} | {res['batch_size']} | {res['optimizer']} | {c['name']} | {c['status']}: {c['reason']} | | | | |")
                continue
            f = lambda x, spec: "—" if x is None else format(x, spec)  # noqa: E731
            print(f"| {res['network']} | {res['batch_size']} | {res['optimizer']} | {c['name']} | {f(c['median_s'], '.5f')} | "
                  f"{f(c.get('ratio_to_floor'), '.2f')} | {f(c['samples_per_s'], ',.0f')} | {f(c.get('peak_extra_mib'), '.1f')} | "
                  f"{f(c.get('final_loss'), '.4f')} |")
        cs = {c["name"]: c for c in res["contenders"] if c["status"] == "ok"}
        if "xpnet-cupy" in cs and "torch-cuda" in cs:
            ratio = cs["xpnet-cupy"]["median_s"] / cs["torch-cuda"]["median_s"]
            verdict = "at least as fast" if ratio <= 1.0 else "slower"
            print(f"| | | | **xpnet-cupy / torch-cuda** | **{ratio:.2f}** ({verdict}) | | | | |")
tut = report / "tutorial_500.json"
if tut.exists():
    t = json.loads(tut.read_text())
    print(f"\nTutorial network, 500 full-batch iterations on {t['n']} images ({t['data']}): "
          f"{t['cuda_event_s']:.3f} s by CUDA events ({t['wall_s']:.3f} s wall), target < 1 s: "
          f"{'met' if t['meets_target'] else 'NOT met'}; final loss {t['final_loss']:.4f}, "
          f"accuracy {t['final_accuracy']:.4f}, {t['device']}.")
print("\nLogs: gpu_check.log (everything), tests.log, bench_gpu.txt; data: bench_gpu.json, tutorial_500.json.")
EOF

if [ "${#FAILED[@]}" -gt 0 ]; then
  echo "gpu_check: failed steps: ${FAILED[*]}" | tee -a "$LOG"
  exit 1
fi
echo "gpu_check: all steps passed; report in $REPORT/report.md" | tee -a "$LOG"
