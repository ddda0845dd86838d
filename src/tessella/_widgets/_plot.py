"""A small line plot drawn with QPainter (no matplotlib): AP curves, training loss."""

from __future__ import annotations

import numpy as np
from qtpy.QtCore import QPointF, QRectF, QSize, Qt
from qtpy.QtGui import QColor, QPainter, QPainterPath, QPalette, QPen
from qtpy.QtWidgets import QWidget

__all__ = ["COLORS", "LinePlot"]

COLORS = ("#f5a623", "#4fc3f7", "#ef5350", "#9ccc65")


def _ticks(low: float, high: float, count: int = 5) -> list[float]:
    """About ``count`` round tick values covering ``[low, high]``."""
    if high <= low:
        return [low]
    step = 10 ** np.floor(np.log10((high - low) / count))
    for factor in (1, 2, 2.5, 5, 10):
        if (high - low) / (step * factor) <= count:
            step *= factor
            break
    first = np.ceil(low / step) * step
    # + 0.0 turns -0.0 (ceil of a small negative) into 0, which is printed without a sign
    return [float(v) + 0.0 for v in np.arange(first, high + step * 1e-6, step)]


class LinePlot(QWidget):
    """Series of ``(x, y)`` points as lines (with dots when there are few) on labelled axes.

    Axes are fixed by ``x_range``/``y_range`` or fit the data. ``height``: the height it asks
    for (at least its minimum, 170), where a panel has little to spare. ``colors``: a fixed
    colour per series name, drawn (and named in the legend) in that order, whichever series
    comes first; other series take the colours of :data:`COLORS` left, in order of arrival.
    """

    def __init__(
        self,
        x_label: str,
        y_label: str,
        x_range: tuple[float, float] | None = None,
        y_range: tuple[float, float] | None = None,
        parent: QWidget | None = None,
        height: int = 200,
        colors: dict[str, str] | None = None,
    ):
        super().__init__(parent)
        self.x_label, self.y_label = x_label, y_label
        self.x_range, self.y_range = x_range, y_range
        self.colors = dict(colors or {})
        self.series: dict[str, list[tuple[float, float]]] = {}
        self.setMinimumSize(240, 170)
        self._height = max(height, self.minimumHeight())

    def sizeHint(self) -> QSize:
        return QSize(320, self._height)

    @property
    def points(self) -> list[tuple[float, float]]:
        """The first series' points."""
        return next(iter(self.series.values()), [])

    def set_series(self, name: str, points) -> None:
        """Plot ``points`` as the series ``name`` (replacing it); empty removes it."""
        points = [(float(x), float(y)) for x, y in points]
        if points:
            self.series[name] = points
        else:
            self.series.pop(name, None)
        self.update()

    def drawn(self) -> list[tuple[str, str]]:
        """``(series name, colour)`` of the series in the order they are drawn and named in
        the legend: those given a colour first, in the order given, then the others."""
        fixed = [name for name in self.colors if name in self.series]
        others = [name for name in self.series if name not in self.colors]
        free = [c for c in COLORS if c not in self.colors.values()] or list(COLORS)
        return [(name, self.colors[name]) for name in fixed] + [
            (name, free[index % len(free)]) for index, name in enumerate(others)
        ]

    def clear(self) -> None:
        self.series = {}
        self.update()

    def _ranges(self) -> tuple[tuple[float, float], tuple[float, float]]:
        xs = [x for pts in self.series.values() for x, _ in pts]
        ys = [y for pts in self.series.values() for _, y in pts]

        def fit(values, fixed):
            if fixed is not None:
                return fixed
            if not values:
                return (0.0, 1.0)
            low, high = min(values), max(values)
            pad = 0.08 * (high - low) if high > low else 0.5
            return (low - pad, high + pad)

        return fit(xs, self.x_range), fit(ys, self.y_range)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        metrics = painter.fontMetrics()
        text = self.palette().color(QPalette.ColorRole.WindowText)
        line_height = metrics.height()
        (x0, x1), (y0, y1) = self._ranges()
        y_ticks, x_ticks = _ticks(y0, y1, 4), _ticks(x0, x1, 5)
        widest = max(metrics.horizontalAdvance(f"{v:g}") for v in y_ticks)
        left = line_height + widest + 10
        top = line_height // 2 + 4 + (line_height if len(self.series) > 1 else 0)
        area = QRectF(
            left, top, self.width() - left - 14, self.height() - top - 2 * line_height - 8
        )

        def to_screen(x: float, y: float) -> QPointF:
            return QPointF(
                area.left() + (x - x0) / (x1 - x0) * area.width(),
                area.bottom() - (y - y0) / (y1 - y0) * area.height(),
            )

        faint = QColor(text)
        faint.setAlpha(60)
        for y in y_ticks:
            painter.setPen(QPen(faint, 1, Qt.PenStyle.DashLine))
            painter.drawLine(to_screen(x0, y), to_screen(x1, y))
        painter.setPen(QPen(text, 1))
        painter.drawLine(area.bottomLeft(), area.bottomRight())
        painter.drawLine(area.bottomLeft(), area.topLeft())
        for y in y_ticks:
            point, label = to_screen(x0, y), f"{y:g}"
            painter.drawLine(point, point - QPointF(4, 0))
            painter.drawText(
                QPointF(point.x() - 7 - metrics.horizontalAdvance(label), point.y() + 4), label
            )
        for x in x_ticks:
            point, label = to_screen(x, y0), f"{x:g}"
            painter.drawLine(point, point + QPointF(0, 4))
            painter.drawText(
                QPointF(
                    point.x() - metrics.horizontalAdvance(label) / 2, point.y() + line_height + 2
                ),
                label,
            )
        painter.drawText(
            QPointF(
                area.center().x() - metrics.horizontalAdvance(self.x_label) / 2,
                self.height() - 4,
            ),
            self.x_label,
        )
        painter.save()
        painter.translate(
            line_height - 2, area.center().y() + metrics.horizontalAdvance(self.y_label) / 2
        )
        painter.rotate(-90)
        painter.drawText(QPointF(0, 0), self.y_label)
        painter.restore()
        legend_x = area.left() + 4
        for name, hex_color in self.drawn():
            points, color = self.series[name], QColor(hex_color)
            screen = [to_screen(x, y) for x, y in points]
            path = QPainterPath(screen[0])
            for point in screen[1:]:
                path.lineTo(point)
            painter.setPen(QPen(color, 2))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(path)
            if len(screen) <= 30:
                painter.setBrush(color)
                for point in screen:
                    painter.drawEllipse(point, 3.5, 3.5)
            if len(self.series) > 1:
                painter.drawText(QPointF(legend_x, line_height), name)
                legend_x += metrics.horizontalAdvance(name) + 16
        painter.end()
