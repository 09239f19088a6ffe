#!/usr/bin/env bash
# Everything this project runs on a lent GPU, as one script: the CUDA tests, the paired CIFAR run
# (ResNet-20 and ResNet-20-PP trained on the JPEG-75 copy of CIFAR-10, tested on CIFAR-10-C made on
# the GPU beside the authors' checkpoints), and the GPU benchmarks (layer, training step, profile,
# corruption engine). Each step has a time limit and the whole run a deadline, so the script always
# ends by packing what it has.
#
# Usage (from the repository root):   bash benchmarks/gpu_checks.sh OUTDIR
#   DEADLINE=570   seconds for the whole script (steps still due after it are skipped)
#   TRAIN_BUDGET=170  seconds for training both models (the epochs follow from a timed probe)
#   DRY=1          a CPU dry run on a few hundred images (checks the plumbing, measures nothing)
#   ONLY="env data test_gpu"   run only these steps (a rerun after a fix)
#
# Inputs, in the git-ignored folder .gpu/ (the device machine has no ../shared):
#   .gpu/cifar10-jpeg75.tar.xz      the JPEG files of ../shared/data/cifar10-jpeg75/cifar10-jpeg75.zip,
#                                   byte for byte, repacked solid (18.5 MB instead of 62 MB):
#                                   (cd unzipped && tar -cf - train test | xz -9e) > .gpu/cifar10-jpeg75.tar.xz
#   .gpu/official/<model>/model_best.pth.tar   the authors' four CIFAR checkpoints
#   .gpu/imagecorruptions_imaug-*.whl           for frost's photographs
# Output: OUTDIR/bundle.tar.gz (logs, CSVs, run checkpoints; refreshed after every step) and
# OUTDIR/summary.txt.
set -u
OUTDIR=${1:?usage: bash benchmarks/gpu_checks.sh OUTDIR}
DRY=${DRY:-0}
DEADLINE=${DEADLINE:-570}
TRAIN_BUDGET=${TRAIN_BUDGET:-170}
ROOT=$(pwd)
WORK=${WORK:-/tmp/gpuwork}
START=$(date +%s)
PY=${PY:-python3}
rm -rf "$WORK" && mkdir -p "$WORK/logs" "$OUTDIR"
export PYTHONUNBUFFERED=1 MPLBACKEND=Agg PYTHONPATH="$ROOT:$WORK/site" PUSHPULL_DATA="$WORK/data" \
       PUSHPULL_CACHE="$WORK/cache"
if [ "$DRY" = 1 ]; then DEVICE=cpu; else DEVICE=cuda; fi

elapsed() { echo $(( $(date +%s) - START )); }
pack() { tar -czf "$OUTDIR/bundle.tar.gz.tmp" -C "$WORK" logs results 2>/dev/null; mv "$OUTDIR/bundle.tar.gz.tmp" "$OUTDIR/bundle.tar.gz"; }
step() {  # step NAME LIMIT command...: run with a limit cut to the deadline; log to logs/NAME.log
  local name=$1 limit=$2; shift 2
  if [ -n "${ONLY:-}" ] && [[ " $ONLY " != *" $name "* ]]; then return; fi
  local left=$(( DEADLINE - $(elapsed) - 15 ))
  if [ "$left" -lt 20 ]; then echo "== $name: SKIPPED (deadline)" | tee -a "$OUTDIR/summary.txt"; return; fi
  [ "$limit" -gt "$left" ] && limit=$left
  echo "== [$(elapsed) s] $name (limit ${limit} s)"
  timeout --kill-after=5 "$limit" "$@" > "$WORK/logs/$name.log" 2>&1
  local rc=$?
  echo "== $name: rc=$rc, done at $(elapsed) s" | tee -a "$OUTDIR/summary.txt"
  tail -n 6 "$WORK/logs/$name.log"
  pack
}
mkdir -p "$WORK/results"

# ---------------------------------------------------------------- 0. the machine, the inputs
step env 30 bash -c "nvidia-smi; $PY -c 'import torch, sys; print(sys.version); print(\"torch\", torch.__version__, \"cuda\", torch.version.cuda, torch.cuda.is_available() and torch.cuda.get_device_name())'; nproc; free -g"
step install 60 $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target "$WORK/site" .gpu/imagecorruptions_imaug-*.whl
step data 120 $PY - <<'EOF'
import io, os, tarfile, time, zipfile
from pathlib import Path
start = time.perf_counter()
target = Path(os.environ["PUSHPULL_DATA"]) / "cifar10-jpeg75" / "cifar10-jpeg75.zip"
target.parent.mkdir(parents=True, exist_ok=True)
with tarfile.open(".gpu/cifar10-jpeg75.tar.xz") as tar, zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as zf:
    for member in tar:
        if member.isfile():
            zf.writestr(member.name, tar.extractfile(member).read())
print(f"zip rebuilt: {target.stat().st_size:,} bytes in {time.perf_counter() - start:.1f} s")
from pushpull_viz.data import _content_digest, load_cifar10_jpeg75
expected = {"train": "4810777a4e18bbab6853e46b6dc5d647352bcc7ec2885864055ee2428c19d5a4",
            "test": "621deb7111df4c1d5c453fb93c59908ecad9dc45f24b987a290122f63d5cb372"}
for split in ("train", "test"):
    images, labels = load_cifar10_jpeg75(split)
    digest = _content_digest(images, labels)
    print(split, tuple(images.shape), "decoded tensors identical to the CPU machine's:", digest == expected[split])
print(f"done in {time.perf_counter() - start:.1f} s")
EOF

# ---------------------------------------------------------------- 1. the CUDA tests
GPU_ENV=""
[ "$DRY" = 1 ] && GPU_ENV="PUSHPULL_GPU_TEST_DEVICE=cpu"
step test_gpu 150 env $GPU_ENV PUSHPULL_GPU_REPORT="$WORK/results/corruption_parity.csv" \
  $PY -m pytest -m gpu tests/test_gpu.py -q -p no:cacheprovider -rfE -o addopts="" --junitxml="$WORK/results/test_gpu.xml"
if [ "$DRY" != 1 ]; then
  # every test parametrised over devices, on CUDA (modules needing packages the GPU machine lacks are skipped)
  step test_cuda_params 60 $PY -m pytest tests -k cuda -m "not slow" -q -p no:cacheprovider -rfE -o addopts="" \
    -n 8 --continue-on-collection-errors
fi

# ---------------------------------------------------------------- 2. the paired CIFAR run
PROBE_ARGS=""
[ "$DRY" = 1 ] && PROBE_ARGS="--batch 32 --steps 3"
step probe 60 $PY benchmarks/gpu_train_probe.py --device $DEVICE --budget "$TRAIN_BUDGET" $PROBE_ARGS \
  --out "$WORK/results/epochs.txt"
EPOCHS=$(cat "$WORK/results/epochs.txt" 2>/dev/null || echo 20)
SUBSETS=""
[ "$DRY" = 1 ] && SUBSETS="--train-subset 512 --test-subset 100" && EPOCHS=1
# the authors' ResNet-20 pair on the same corrupted batches (their DenseNets cost more GPU time than is lent here)
COMPARE=("ResNet-20 (authors)=.gpu/official/resnet-20/model_best.pth.tar"
         "ResNet-20-PP (authors)=.gpu/official/resnet-20-pp/model_best.pth.tar")
step cifar $(( TRAIN_BUDGET + 150 )) $PY -m pushpull_viz.cli reproduce cifar10-jpeg75 --out "$WORK/results/cifar10-jpeg75" \
  --runs "$WORK/results/runs" --epochs "$EPOCHS" --device $DEVICE --no-progress $SUBSETS --compare "${COMPARE[@]}"
# the optimizer state stays behind: weights and logs come back
rm -f "$WORK"/results/runs/*/best.pt
pack

# ---------------------------------------------------------------- 3. benchmarks
ROUNDS=20; BATCHES="128 512"
[ "$DRY" = 1 ] && ROUNDS=2 && BATCHES="16 32"
AMP="--amp"; [ "$DRY" = 1 ] && AMP=""
step bench_layer 90 $PY benchmarks/bench_layer.py --device $DEVICE $AMP --batch $BATCHES --rounds $ROUNDS \
  --csv "$WORK/results/bench_layer.csv"
N=10000; [ "$DRY" = 1 ] && N=200
step bench_corruptions 90 $PY benchmarks/bench_corruptions.py --device $DEVICE --n $N --batch 2000 --repeats 3 \
  --skip-baselines
step profile 60 $PY benchmarks/gpu_train_probe.py --device $DEVICE --profile $PROBE_ARGS
step bench_compiled 150 $PY benchmarks/bench_layer.py --device $DEVICE $AMP --batch ${BATCHES##* } --rounds $ROUNDS \
  --formats channels_last --compile --csv "$WORK/results/bench_compiled.csv"
# ImageNet scale (docs/scaling.md): the tv-resnet50 training step, plain and push-pull, AMP + channels_last
STEP_BATCH=256; STEP_REPEATS=10; [ "$DRY" = 1 ] && STEP_BATCH=2 && STEP_REPEATS=1
step bench_scaling 90 $PY benchmarks/bench_scaling.py --device $DEVICE --skip-pipeline --batch $STEP_BATCH \
  --repeats $STEP_REPEATS --csv "$WORK/results/bench_scaling.csv"

echo "== finished at $(elapsed) s" | tee -a "$OUTDIR/summary.txt"
pack
