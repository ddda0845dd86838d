"""The argparse set-up of every command, with their examples."""

from __future__ import annotations

import argparse

__all__ = ["_build_parser"]


EPILOG_SEGMENT = """examples:
  tessella segment img.tif -o labels.tif --model nuclei2d
  tessella segment images/ -o labels/ --model nuclei2d --set seed_thresh=0.8 --tta
  tessella segment images/ -o labels/ --model nuclei2d --skip-existing  # go on after a stop
  tessella segment stack.tif -o labels.tif --model nuclei2d --axes TYX
  # an EM stack whose TIFF has no Z spacing: its voxel size Z,Y,X (50 nm sections of
  # 4 nm pixels), written with the labels in nm (plain numbers: µm, 0.05,0.004,0.004)
  tessella segment em.tif -o labels.tif --model em-membranes2d --voxel-size 50nm,4nm,4nm
  # a movie, a folder of frames t000.tif ... (a TIFF stack without axes metadata: add
  # --axes TYX): tracked labels, and the Cell Tracking Challenge format in 01_RES
  tessella segment 01/ -o movie_labels.tif --model cells2dt --ctc 01_RES
  # frames 40 to 49 of it only (their numbers kept: mask040.tif ... in 01_RES)
  tessella segment 01/ -o part_labels.tif --model cells2dt --frames 40:50 --ctc 01_RES
  tessella segment img.tif -o labels.tif --recipe labels_old.recipe.json
  tessella segment big.zarr -o labels.zarr --model nuclei2d --blockwise --block 2048
  tessella segment big.zarr -o labels.zarr --blockwise --scheduler tcp://10.0.0.5:8786

blockwise (bigger than memory, zarr/OME-Zarr in and out): blocks of --block pixels are
segmented with a halo of context, on a local dask cluster (one worker per core by default;
--workers 0: in this process) or on --scheduler's cluster; labels are stitched across blocks
into consistent IDs. Interrupted? Run the same command again: finished blocks are kept.
--recipe of a blockwise run replays it blockwise (its blocks and halo) where the input is one
zarr and the output a .zarr (else in memory, with a warning); --no-blockwise: in memory.
As in memory, a recipe's voxel size (spacing) is used where the zarr has no pixel size.
Convert a big TIFF to chunked zarr once, keeping its axes and pixel size:
  tessella convert big.tif big.zarr
"""


EPILOG_CONVERT = """examples:
  tessella convert slide.tif slide.zarr               # 1024-px chunks in 2D, 128 px in 3D
  tessella convert slide.tif slide.zarr --chunk 512   # half the --block you will segment with
  tessella convert one_chunk.zarr rechunked.zarr      # a zarr stored as one chunk
  tessella segment slide.zarr -o labels.zarr --model nuclei2d --blockwise
"""


EPILOG_EVALUATE = """examples:
  tessella evaluate labels.tif gt.tif
  tessella evaluate predictions/ ground_truth/ --metric ap --json scores.json
  # EM membrane maps (1 = membrane); a ZYX stack of them is scored per 2D section:
  tessella evaluate stack_labels.tif membranes.tif --metric vrand --gt-boundaries
  # a time-lapse whose file names its T axis (ImageJ axes TYX, as tessella segment writes a
  # movie's labels, or whose recipe beside it records TYX) is scored frame by frame, as the
  # Evaluate panel scores it; a stack of unknown axes (a plain 3D TIFF) as one volume; the
  # printout and --json's scored_as say which:
  tessella evaluate movie_labels.tif movie_truth.tif --metric ap --metric seg
  # a plain 3D TIFF movie (saved without axes) frame by frame:
  tessella evaluate movie_labels.tif movie_truth.tif --axes TYX
  # a folder of PNG ground-truth masks, paired with TIFF predictions by name:
  tessella evaluate predictions/ png_masks/
"""


EPILOG_TRAIN = """examples:
  tessella train embedding --data ../shared/data/nuclei2d_dsb2018/train --out my_model
  tessella train embedding --data corrected/ --out finetuned --base nuclei2d --epochs 5
  tessella train boundary --data isbi2012 --out membranes --exclude 16,17,18,19 --holdout 14,15
  # a 2D semantic model on the slices of a volume (symlinks, no copies):
  ln -s $PWD/../shared/data/em_mito_lucchipp/train/image.tif lucchi/images/lucchi.tif
  ln -s $PWD/../shared/data/em_mito_lucchipp/train/mito.tif lucchi/masks/lucchi.tif
  tessella train semantic --data lucchi --holdout "lucchi[z=90:100]" --out mito2d
"""


def _build_parser() -> argparse.ArgumentParser:
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog="tessella", description="Deep-learning instance segmentation for microscopy."
    )
    parser.add_argument("--version", action="version", version=f"tessella {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    models = sub.add_parser("models", help="list bundled and user models")
    models.add_argument("--json", action="store_true", help="print the model cards as JSON")

    segment = sub.add_parser(
        "segment",
        help="segment images",
        epilog=EPILOG_SEGMENT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    segment.add_argument(
        "inputs",
        nargs="+",
        metavar="IN",
        help="TIFF file(s), 2D PNG/JPEG/BMP pictures (no pixel size; JPEG is lossy: warned), a "
        "folder of them, or zarr",
    )
    segment.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="OUT",
        help="output TIFF, or NAME.ome.zarr (OME-Zarr labels with the pixel size) (or folder "
        "for several inputs; zarr for zarr input)",
    )
    segment.add_argument("--model", default=None, help="model name or directory (default nuclei2d)")
    segment.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set a post-processing parameter (repeatable)",
    )
    segment.add_argument(
        "--recipe",
        metavar="FILE",
        help="replay a recipe written earlier: its JSON, or an output NAME.ome.zarr (or a "
        "blockwise zarr), which keeps its recipe in its attributes",
    )
    segment.add_argument(
        "--axes",
        help="axes of the input in the order the file stores them, e.g. YX, YXC, CYX, ZYX, "
        "TYX, TZYX, ZCYX (Fiji's hyperstack order, read as CZYX)",
    )
    segment.add_argument(
        "--voxel-size",
        metavar="Z,Y,X",
        help="the input's voxel size, one size per spatial axis in this order: Z,Y,X for a "
        "stack, Y,X for a 2D image or a movie's frames (not Fiji's width,height,depth: a "
        "warning says so where it looks like X,Y,Z). Plain numbers are in the input's unit, "
        "µm where it names none (0.05,0.004,0.004); or give a unit on each size: "
        "50nm,4nm,4nm (nm, µm or um, mm; NM, UM, µM are read as nm, µm, but Mm, MM are "
        "megametres, refused; sizes in different units are converted to the finest). "
        "Relative sizes are what post-processing uses. It replaces the file's pixel "
        "size (a stack whose TIFF has no Z spacing), is recorded in the recipe with its unit "
        "(--recipe replays it) and written as the output's pixel size and unit (TIFF, zarr, "
        "OME-Zarr; with --blockwise too: the labels zarr's)",
    )
    segment.add_argument(
        "--ignore-axes-metadata",
        action="store_true",
        help="read the input with --axes as given where its ImageJ, OME or zarr metadata name "
        "its axes in another order (metadata known to be wrong; said with a warning)",
    )
    segment.add_argument(
        "--channel",
        type=int,
        metavar="N",
        help="segment channel N (from 0) of a multichannel input alone; without it, the "
        "channels of a colour image are averaged (with a warning where it is no 8-bit RGB)",
    )
    segment.add_argument(
        "--series",
        type=int,
        metavar="N",
        help="read series N (from 0) of a multi-series TIFF (default: the first that is not "
        "a thumbnail, said with a warning)",
    )
    segment.add_argument("--tile", type=int, help="tile edge in pixels (default from the model)")
    segment.add_argument(
        "--invert",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="invert the image's intensities before the network (dark objects on a bright "
        "field for a model trained on bright ones), or --no-invert to keep them. Default: as "
        "the model's card says (nuclei2d inverts bright-background images itself)",
    )
    segment.add_argument(
        "--tta",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="test-time augmentation (8 transforms in 2D, 16 in 3D)",
    )
    segment.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    existing = segment.add_mutually_exclusive_group()
    existing.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    existing.add_argument(
        "--skip-existing",
        action="store_true",
        help="keep each output whose labels and recipe are both there (an interrupted run, or "
        "images added to the folder since) and segment the others; an output whose recipe "
        "records other settings (model, parameters, axes, TTA, tile, inversion, --stack, "
        "--channel, --series) is refused before any work: --overwrite redoes them all",
    )
    segment.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="no progress bar or summary (errors and warnings still print)",
    )
    segment.add_argument(
        "--stack",
        action="store_true",
        help="methods that keep overlapping objects (patches): write OUT as an (N, Y, X) stack "
        "of 0/1 masks, one per object, instead of a label image",
    )
    segment.add_argument(
        "--csv",
        action="store_true",
        help="also write each image's measurements beside its labels (OUT.csv: the columns of "
        "Export's CSV, one row per object (per object and frame in a time-lapse, with a frame "
        "column of the movie's frame numbers where they are known: t052.tif ..., "
        "--first-frame), mean_confidence where the model has a seed map or foreground "
        "probability, objects of overlapping models each whole, 2D objects' length_px along "
        "their skeleton) and, for a folder, one table of them all with an image column "
        "(OUT/measurements.csv) and OUT/images.csv, one row per image (status ok/empty/"
        "failed, n_objects, warning, labels, model, recipe: blank images and failures "
        "included); with --blockwise, the finished labels zarr is measured piece by piece, "
        "never read whole (mean_confidence empty: no confidence map is kept); a CSV there is "
        "replaced only with --overwrite",
    )
    segment.add_argument(
        "--ctc",
        metavar="DIR",
        help="time-lapse models: also write the tracked cells in the Cell Tracking Challenge "
        "format (DIR/maskTTT.tif + DIR/res_track.txt; with --blockwise, frame by frame)",
    )
    segment.add_argument(
        "--first-frame",
        type=int,
        metavar="N",
        help="a movie file (a TYX stack; a TYX zarr with --blockwise) whose frames are frames "
        "N, N+1, ... of a time-lapse: "
        "--ctc names its masks from maskN.tif, and the recipe records the frame numbers, so "
        "Export of the labels reopened in napari does too (default: from 0; a folder "
        "t052.tif ... is numbered by its file names)",
    )
    segment.add_argument(
        "--frames",
        metavar="A:B",
        help="a time-lapse (a folder of frames, a movie file): segment frames A to B - 1 only "
        "(A: that frame alone), by frame number (a folder t052.tif ...: its files' numbers; "
        "a movie file: from --first-frame, else 0), as evaluate --frames; the labels, the "
        "recipe's frame_numbers and --ctc's maskTTT.tif keep their numbers. A time-lapse "
        "model reads the frames around them as the whole movie's run does (its window and "
        "smoothing along time), so each frame is segmented as in the whole movie",
    )
    segment.add_argument(
        "--blockwise",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="segment a zarr bigger than memory block by block (resumable); default: as the "
        "--recipe replayed was run, else in memory",
    )
    segment.add_argument(
        "--scheduler", metavar="ADDRESS", help="with --blockwise: a dask scheduler to run on"
    )
    segment.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="with --blockwise: local worker processes (default: one per core; 0: this process)",
    )
    segment.add_argument(
        "--block",
        metavar="N[,N...]",
        help="with --blockwise: block edge in pixels, or one per spatial axis (default 2048 in "
        "2D, 256 in 3D)",
    )

    evaluate = sub.add_parser(
        "evaluate",
        help="score labels against ground truth",
        epilog=EPILOG_EVALUATE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    evaluate.add_argument(
        "pred",
        help="predicted labels: a TIFF, a labels zarr/OME-Zarr (as tessella segment writes "
        "them), a 2D PNG/BMP picture of labels, or a folder of them (TIFF, zarr, PNG) paired "
        "with the ground truth's by name (a stack with a T axis, as ImageJ axes TYX, is "
        "scored frame by frame; another stack as one volume; see --axes)",
    )
    evaluate.add_argument(
        "gt",
        help="ground-truth labels: a TIFF, a labels zarr, a 2D PNG/BMP label mask (8-/16-bit; a "
        "palette PNG read as its indices, the label IDs; a 1-bit one as 0/1), or a folder "
        "of them (TIFF, zarr, PNG masks) with the prediction's names (or a CTC SEG/NN_GT "
        "folder)",
    )
    evaluate.add_argument(
        "--metric",
        action="append",
        choices=["ap", "seg", "iou", "vrand", "voi"],
        help="metrics to report (repeatable; default ap; vrand and voi both give V_rand, "
        "higher is better, and VOI, in nats (natural logarithms; skimage gives bits, 1.443 "
        "times as large), lower is better)",
    )
    evaluate.add_argument(
        "--gt-boundaries",
        action="store_true",
        help="GT files are boundary maps (1 = membrane): objects are their connected insides; "
        "a stack (ZYX, TYX) was annotated section by section, so each 2D section is scored as "
        "an image of its own",
    )
    evaluate.add_argument(
        "--gt-boundaries-3d",
        action="store_true",
        help="GT files are 3D boundary maps: objects are insides connected in 3D, and each "
        "volume is scored as one (of a TZYX time-lapse: each time point's)",
    )
    evaluate.add_argument(
        "--gt-binary",
        action="store_true",
        help="GT files are binary masks: objects are their connected components (3D in volumes)",
    )
    evaluate.add_argument(
        "--annotated-only",
        choices=["frames", "slices", "off"],
        metavar="{frames,slices,off}",
        help="score sparse ground truth only where it is annotated: frames (slices): the frames "
        "(2D slices) of the first axis that hold a ground-truth object; a Cell Tracking "
        "Challenge SEG folder given as GT is scored so by itself (off: score it whole, empty "
        "frames included)",
    )
    evaluate.add_argument(
        "--overlapping",
        action="store_true",
        help="objects may overlap: PRED and GT files are (N, Y, X) mask stacks (label images "
        "are read as stacks); each GT mask is matched one-to-one against predicted masks",
    )
    evaluate.add_argument(
        "--ctc",
        action="store_true",
        help="PRED is a Cell Tracking Challenge result folder (maskTTT.tif + res_track.txt) and "
        "GT its NN_GT folder: reports SEG and the fraction of TRA links reproduced",
    )
    evaluate.add_argument(
        "--frames", metavar="A:B", help="with --ctc: score frames A to B - 1 only"
    )
    evaluate.add_argument(
        "--ignore-label",
        type=int,
        metavar="N",
        help="sparse ground truth: GT pixels of value N were not annotated (also in membrane "
        "maps, binary masks and, with --overlapping, any plane of a mask stack); predictions "
        "there are not scored (objects lying mostly there "
        "are left out unless they overlap an annotated one; all are cut at its edge), as "
        "`tessella train --ignore-label` validates",
    )
    evaluate.add_argument(
        "--axes",
        metavar="AXES",
        help="the axes of PRED's and GT's files where they name none, e.g. TYX: a plain 3D "
        "TIFF (read as ZYX) is then a time-lapse scored frame by frame; refused where a file's "
        "own metadata name other axes (without it, a labels file naming none takes the axes "
        "of the recipe beside it, NAME.recipe.json, as the Evaluate panel does)",
    )
    evaluate.add_argument("--json", metavar="FILE", help="also write the scores as JSON")
    evaluate.add_argument("-q", "--quiet", action="store_true")

    train = sub.add_parser(
        "train",
        help="train or fine-tune a model",
        epilog=EPILOG_TRAIN,
        formatter_class=_TrainHelpFormatter,
    )
    train.add_argument(
        "method", choices=["embedding", "boundary", "semantic", "temporal", "patches"]
    )
    train.add_argument(
        "--data",
        required=True,
        action="append",
        help="folder with images/ and masks/ (instance labels or binary masks) or boundaries/ "
        "(boundary maps); files may be symlinks; with --ndim 2 a ZYX volume is cut into slices. "
        "temporal: a Cell Tracking Challenge sequence folder (NN, with NN_GT next to it) or "
        "images/ + masks/ of TYX stacks; repeat --data to train on several",
    )
    train.add_argument("--out", required=True, help="model directory to write")
    train.add_argument("--val-data", help="validation folder (default: hold out part of --data)")
    train.add_argument("--base", help="start from this model (fine-tuning)")
    train.add_argument("--name", help="model name in the card (default: the folder name)")
    train.add_argument("--ndim", type=int, choices=[2, 3], default=2, help="2D or 3D model")
    train.add_argument("--epochs", type=int, default=50, help="default: %(default)s")
    train.add_argument("--steps-per-epoch", type=int, default=100, help="default: %(default)s")
    train.add_argument(
        "--batch-size",
        type=int,
        default=None,
        help="crops per step (default: {batch_size}, as the Train panel's)",
    )
    train.add_argument("--accumulate", type=int, default=1, help="gradient accumulation steps")
    train.add_argument(
        "--patch", type=int, default=256, help="training crop edge in pixels (default: %(default)s)"
    )
    train.add_argument(
        "--window", type=int, default=3, help="temporal: frames per window (odd; centred)"
    )
    train.add_argument(
        "--patch-size", type=int, default=41, help="patches: shape patch edge in pixels (odd)"
    )
    train.add_argument(
        "--code", type=int, default=32, help="patches: channels of the per-pixel shape code"
    )
    train.add_argument(
        "--features",
        help="U-Net channels per level, comma-separated (default 16,32,64,128,256)",
    )
    train.add_argument(
        "--one-decoder",
        action="store_true",
        help="embedding: one decoder for offsets, sigmas and seeds instead of two (about a "
        "third less work per pixel, so faster segmentation); with --base, a two-decoder base is "
        "merged: its encoder and offset decoder are kept and the seed output starts from a "
        "least-squares fit to the base's seed map (add --distil to follow the base closely)",
    )
    train.add_argument(
        "--distil",
        type=float,
        default=0.0,
        metavar="WEIGHT",
        help="also pull the outputs towards the --base model's on the same crops (mean squared "
        "difference of the activated outputs, times WEIGHT): knowledge distillation, e.g. to "
        "teach a --one-decoder model its base's seed map quickly. Default 0: none",
    )
    train.add_argument(
        "--fg-dice",
        type=float,
        default=0.0,
        metavar="WEIGHT",
        help="patches: add WEIGHT x a soft Dice loss of the predicted foreground (1+ "
        "instances) to the cross-entropy, which averages over mostly background and leaves "
        "the edges of thin objects a pixel off. Default 0: none",
    )
    train.add_argument(
        "--elastic",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="random rotation, elastic deformation and blur of the crops (default: on for "
        "boundary, off for the others)",
    )
    train.add_argument(
        "--lr",
        type=float,
        default=None,
        help="learning rate (default: {lr_fine_tune} with --base, {lr_new} for a new model, "
        "as the Train panel proposes)",
    )
    train.add_argument(
        "--border-crops",
        type=float,
        default=0.0,
        metavar="FRACTION",
        help="this fraction of the crops reaches past the image's edge (along one axis, up to "
        "a third of the crop), padded as inference pads (the base card's defaults.pad, else "
        "mirrored): for 3D models, whose first and last slices otherwise do worst. Default 0",
    )
    train.add_argument(
        "--colour-weight",
        type=float,
        default=1.0,
        metavar="W",
        help="draw each colour (RGB) training image W times as often as a single-channel one, "
        "for a mix where colour images are rare. Default 1",
    )
    train.add_argument(
        "--ignore-label",
        type=int,
        default=None,
        metavar="N",
        help="sparse annotations: mask pixels of value N mark where nothing was annotated; "
        "they are left out of the loss and of validation (objects there are not taught as "
        "background). Paint them over the unannotated parts. Default: none (every unlabelled "
        "pixel is background). For the patches method, pixels of N in any plane of a mask "
        "stack are the unannotated part",
    )
    train.add_argument(
        "--invert-bright-background",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="invert each image whose background is bright (brightfield, H&E: its normalised "
        "median above 0.3) so that every image reaches the network with bright objects on a "
        "dark background, in training and, through the card, at inference. Default: as the "
        "--base model's card says (off for a new model)",
    )
    train.add_argument(
        "--ema",
        type=float,
        default=0.0,
        metavar="DECAY",
        help="validate, keep and write an exponential moving average of the weights with this "
        "decay per step (e.g. 0.998: about the last 500 steps); steadier epoch to epoch. "
        "Default 0: the raw weights",
    )
    train.add_argument("--workers", type=int, default=0, help="data loader processes")
    train.add_argument("--val-fraction", type=float, default=0.1)
    train.add_argument(
        "--holdout",
        help="comma-separated file stems held out for model selection (e.g. 14,15), or slices "
        "of a volume as STEM[z=N] / STEM[z=A:B] (B excluded)",
    )
    train.add_argument(
        "--exclude", help="comma-separated file stems never used (e.g. test slices 16,17,18,19)"
    )
    train.add_argument("--max-val-images", type=int, default=64)
    train.add_argument(
        "--val-orientations",
        action="store_true",
        help="score each hold-out image in all its dihedral orientations (8 in 2D, 16 in 3D): "
        "a less noisy choice of epoch, at 8x or 16x the validation time",
    )
    train.add_argument("--data-citation", default="", help="citation of the training data")
    train.add_argument("--data-license", default="", help="licence of the training data")
    train.add_argument("--time-budget", type=float, help="stop after this many seconds")
    train.add_argument(
        "--resume",
        action="store_true",
        help="continue from OUT/checkpoint.pt, with its run's settings for the options not "
        "given again (all but --data, --device, --workers, --time-budget)",
    )
    train.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("-q", "--quiet", action="store_true")
    _note_given(train)  # --resume takes the checkpoint's settings of the options not given

    convert = sub.add_parser(
        "convert",
        help="write a TIFF or zarr as a chunked zarr for --blockwise",
        description="Write IN (a TIFF, or a zarr/OME-Zarr image) into the zarr array OUT, "
        "chunk by chunk (never held whole), with its axes, pixel size and unit in OUT's "
        "attributes, which `tessella segment --blockwise` reads (a plain dask to_zarr copy "
        "keeps none of them). One frame along T and every channel per chunk.",
        epilog=EPILOG_CONVERT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    convert.add_argument("image", metavar="IN", help="a TIFF file or a zarr/OME-Zarr image")
    convert.add_argument("out", metavar="OUT", help="the zarr to write (.zarr)")
    convert.add_argument(
        "--chunk",
        type=int,
        metavar="N",
        help="chunk edge in pixels along each spatial axis (default: half --block's default, "
        "1024 in 2D, 128 in 3D: a block reads its halo too)",
    )
    convert.add_argument("--overwrite", action="store_true", help="replace an existing OUT")
    convert.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")

    export = sub.add_parser(
        "export-bioimageio",
        help="write a model as a bioimage.io package (.zip) and validate it",
        description="Write MODEL as a bioimage.io model package (format 0.5: PyTorch state dict, "
        "our U-Net source, percentile preprocessing, test tensors, card attached), validated "
        "with bioimageio.spec. `tessella segment --model OUT.zip` opens it again.",
    )
    export.add_argument("model", help="a model name or folder")
    export.add_argument("out", help="the package to write (.zip)")
    export.add_argument("--overwrite", action="store_true", help="replace an existing OUT")
    export.add_argument(
        "--test-image",
        metavar="FILE",
        help="the package's test input: an image of the kind the model segments (a central "
        "crop; a 2D model takes a volume's middle plane). Default: the shipped nuclei sample, "
        "on which a model of other images may find nothing, which bioimage.io refuses",
    )
    return parser


class _TrainHelpFormatter(argparse.RawDescriptionHelpFormatter):
    """``tessella train --help`` with the engine's defaults in ``--batch-size``'s and
    ``--lr``'s help ({batch_size}, {lr_fine_tune}, {lr_new}): filled in as the help is
    printed, so that building the parser does not import the training engine (half a second
    on every command). Those options default to None, which :func:`.._train._cmd_train` reads
    as the engine's defaults."""

    def _expand_help(self, action: argparse.Action) -> str:
        text = super()._expand_help(action)
        if action.dest not in ("batch_size", "lr"):
            return text
        return text.format(**train_defaults())


def train_defaults() -> dict[str, str]:
    """The engine's training defaults as ``tessella train --help`` says them.

    >>> train_defaults()
    {'batch_size': '8', 'lr_fine_tune': '0.0003', 'lr_new': '0.001'}
    """
    from ..engine.train._config import DEFAULT_BATCH_SIZE, default_lr

    return {
        "batch_size": str(DEFAULT_BATCH_SIZE),
        "lr_fine_tune": repr(default_lr(True)),
        "lr_new": repr(default_lr(False)),
    }


def _note_given(parser: argparse.ArgumentParser) -> None:
    """Each option of ``parser`` adds its ``dest`` to ``given_options`` (a frozenset in the
    parsed namespace) when it is on the command line, however spelt (``--feat 8,16``,
    ``--features=8,16``), so that ``tessella train --resume`` tells an option left out (the
    checkpoint's setting is taken) from one given with its default value."""
    parser.set_defaults(given_options=frozenset())
    for action in parser._actions:  # argparse has no public way to list them
        if action.option_strings and action.dest != "help":
            action.__class__ = _noting_given(type(action))


_NOTING: dict[type, type] = {}


def _noting_given(action_class: type) -> type:
    """``action_class`` that also notes its ``dest`` in ``namespace.given_options``."""
    if action_class not in _NOTING:

        class NotingGiven(action_class):  # type: ignore[valid-type,misc]
            def __call__(self, parser, namespace, values, option_string=None):
                given = getattr(namespace, "given_options", frozenset())
                namespace.given_options = given | {self.dest}
                super().__call__(parser, namespace, values, option_string)

        _NOTING[action_class] = NotingGiven
    return _NOTING[action_class]
