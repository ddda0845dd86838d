#!/bin/bash
# Segment validation data with every bundled model on a lent GPU (the `device` tool), to check
# that inference on CUDA gives the scores the cards report and to time it. Run there from the
# repository root with the data carried in .carry/check (see README, Development):
#     bash tools/device_check.sh
# Writes $OUT/check.log (a line per run: model, options, seconds including start-up) and
# $OUT/preds.tar (the labels), to be scored here with `tessella evaluate`.
set -uo pipefail
: "${OUT:?set OUT}"
export PYTHONPATH=src PYTHONUNBUFFERED=1
C=.carry/check
P=$(mktemp -d)
mkdir -p $P
python3 -c "import torch; print(torch.__version__, torch.cuda.is_available() and torch.cuda.get_device_name())" | tee $OUT/check.log
seg() {  # seg NAME ARGS...: time one `tessella segment`
    local name=$1 start end
    shift
    start=$(date +%s.%N)
    python3 -m tessella.cli segment "$@" -q 2>&1 | tail -3
    local rc=${PIPESTATUS[0]}
    end=$(date +%s.%N)
    printf '%s\trc=%s\t%.1f s\t%s\n' "$name" "$rc" "$(echo "$end - $start" | bc)" "$*" | tee -a $OUT/check.log
}
DEV=${DEVICE:-cuda}
seg nuclei2d-auto $C/nuclei/images -o $P/nuclei2d-auto --model nuclei2d --device auto
seg nuclei2d $C/nuclei/images -o $P/nuclei2d --model nuclei2d --device $DEV
seg nuclei2d-tta $C/nuclei/images -o $P/nuclei2d-tta --model nuclei2d --device $DEV --tta
seg worms2d $C/worms/images -o $P/worms2d --model worms2d --device $DEV --stack
seg em-membranes2d $C/isbi/images -o $P/em-membranes2d --model em-membranes2d --device $DEV
seg cells2dt $C/sim/sim_t52-59.tif -o $P/cells2dt.tif --model cells2dt --axes TYX --device $DEV
seg em-mito3d $C/lucchi/image.tif -o $P/em-mito3d.tif --model em-mito3d --device $DEV
seg em-mito3d-tta $C/lucchi/image.tif -o $P/em-mito3d-tta.tif --model em-mito3d --device $DEV --tta
seg em-mito2d-tta $C/lucchi/image.tif -o $P/em-mito2d-tta.tif --model em-mito2d --device $DEV --tta
grep -h '"device"' $P/nuclei2d-auto/*.recipe.json | sort | uniq -c | tee -a $OUT/check.log
tar -cf $OUT/preds.tar -C $P .
