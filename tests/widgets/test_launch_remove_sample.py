"""``make run``'s napari survives removing the sample after opening an image in micrometres.

Removing the nuclei sample (pixels) from under an image in micrometres made napari 0.9.2 /
vispy 0.17 segfault on Mesa's software OpenGL (user test s31/t8, finding 2): the redraws
that follow (a notification of inconsistent units sliding in) drew the layer left with the
removed layer's GL program deleted. A crash would end pytest too, so the launcher runs in
a child process, on the display pytest-xvfb gives the tests."""

import os
import subprocess
import sys
import textwrap

import pytest

# what `python -m tessella.launch` does, with napari.run replaced by what a user then does
SCRIPT = textwrap.dedent(
    """
    import time

    import numpy as np
    import napari
    from qtpy.QtWidgets import QApplication

    import tessella.launch


    def pump(seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            QApplication.processEvents()
            time.sleep(0.01)


    def as_a_user():
        viewer = napari.current_viewer()
        pump(0.5)
        viewer.add_image(
            np.random.default_rng(0).random((8, 128, 128), np.float32),
            name="em", scale=(0.05, 0.004, 0.004), units=("um",) * 3,
        )
        pump(0.5)  # (the notification has slid in)
        viewer.layers.remove("nuclei")
        canvas = viewer.window._qt_viewer.canvas.native
        for _ in range(40):  # redraws, as a notification sliding in makes them
            canvas.update()
            pump(0.02)
        pump(0.5)
        print("survived", [layer.name for layer in viewer.layers], flush=True)


    napari.run = as_a_user
    # the sample without the docks (they take most of the start-up and play no part here)
    tessella.launch.set_up = lambda viewer: viewer.open_sample("tessella", "nuclei")
    tessella.launch.main()
    """
)


@pytest.mark.skipif(not os.environ.get("DISPLAY"), reason="needs an X display (pytest-xvfb)")
def test_removing_the_sample_under_an_image_in_micrometres_does_not_crash(tmp_path):
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path / "config"))
    run = subprocess.run(
        [sys.executable, "-X", "faulthandler", "-c", SCRIPT],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert run.returncode == 0, (run.returncode, run.stdout[-2000:], run.stderr[-4000:])
    assert "survived ['nuclei ground truth', 'em']" in run.stdout
