"""A panel's scrolling body asks for the height its content needs at the width it really has:
with a word-wrapped label, that is the body's height-for-width at its (narrow) width, not its
size hint, which Qt computes at the label's preferred width. Before, a narrow panel asked for
too little height and its last rows scrolled out of view (seen in the Evaluate panel)."""

from __future__ import annotations

NOTE = " ".join(["A long note that is word-wrapped over many lines when the panel is narrow."] * 6)


def test_a_narrow_body_with_a_wrapped_label_asks_for_all_its_height(qtbot):
    from qtpy.QtWidgets import QLabel, QPushButton, QScrollArea, QWidget

    from tessella._widgets._layout import panel_layout

    panel = QWidget()
    qtbot.addWidget(panel)
    body, footer = panel_layout(panel)
    note = QLabel(NOTE)
    note.setWordWrap(True)
    body.addWidget(note)
    last = QPushButton("the last row")
    body.addWidget(last)
    footer.addWidget(QLabel("status"))
    scroll = panel.findChild(QScrollArea)
    inner = scroll.widget()

    panel.resize(200, 1000)  # narrow; the height is capped to the content's
    panel.show()
    qtbot.waitExposed(panel)
    qtbot.waitUntil(lambda: inner.width() < note.sizeHint().width(), timeout=3000)

    needed = inner.heightForWidth(inner.width())
    assert needed > inner.sizeHint().height()  # (the wrapped note needs more lines here)
    frame = 2 * scroll.frameWidth()
    assert scroll.sizeHint().height() - frame >= needed

    panel.resize(200, 1000)  # as tall as it lets itself be (its maximum: the content's)
    qtbot.waitUntil(lambda: panel.height() == panel.maximumHeight(), timeout=3000)

    def last_row_shown() -> bool:  # the whole body in view, its last row included
        return last.visibleRegion().boundingRect().height() == last.height()

    qtbot.waitUntil(last_row_shown, timeout=3000)
    assert not scroll.verticalScrollBar().isVisible()
