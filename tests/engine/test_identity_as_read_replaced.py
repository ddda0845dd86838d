"""The recipe's identity of an input file (``identity_as_read``) is of the file it hashed: one
replaced by a rename while it is hashed, by a file of the same size and time (as ``cp -p`` or
``rsync -t`` make it, here in another process), is no identity. Its path's size and time,
compared before and after, matched, and the hash of the old bytes was kept as the new file's."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from tessella.engine.input_record import HASH_STEP, file_as_read, identity_as_read

#: argv[1] replaced by a rename with other bytes of its size and modification time
REPLACE = """
import os, sys
path = sys.argv[1]
stat = os.stat(path)
data = bytearray(open(path, "rb").read())
data[-1] ^= 0xFF
with open(path + ".new", "wb") as new:
    new.write(data)
os.utime(path + ".new", ns=(stat.st_atime_ns, stat.st_mtime_ns))
os.replace(path + ".new", path)
"""


def test_a_file_replaced_while_it_is_hashed_has_no_identity(tmp_path):
    image = tmp_path / "stack.tif"
    image.write_bytes(np.random.default_rng(3).bytes(HASH_STEP + HASH_STEP // 2))
    read = file_as_read(image)
    steps = identity_as_read(image, read)
    assert next(steps) == (HASH_STEP, image.stat().st_size)  # the first part hashed
    subprocess.run([sys.executable, "-c", REPLACE, str(image)], check=True, timeout=60)
    assert file_as_read(image) == read  # (the same size and time: only the file differs)
    try:
        while True:
            next(steps)
    except StopIteration as end:
        result = end.value
    assert result == (None, "replaced while it was hashed for the recipe")
    # and as it is now, the identity is the new file's
    steps = identity_as_read(image, read)
    try:
        while True:
            next(steps)
    except StopIteration as end:
        identity, why = end.value
    assert why == "" and identity["size"] == read["size"]
