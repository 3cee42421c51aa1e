"""Sliding-window arithmetic shared by convolutions and pooling, and how such layers are shown.

``slide`` resolves a window's geometry on an input (output size, the padding actually applied,
the textbook arithmetic, warnings); ``SlidingKind`` gives every sliding-window kind the same
caption, graph details and derivation rows, read from the geometry it resolved.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

from ..errors import LayerError
from ..fields import PaddingMode
from ..format import fmt_number, fmt_padding, fmt_pair
from ..i18n import Phrase, word
from .base import Kind, Params, Window, native_padding
from .stage_notes import (
    BOTH,
    COLUMN,
    COLUMNS,
    HEIGHT,
    ON,
    ROW,
    ROW_COLUMN,
    ROWS,
    ROWS_COLUMNS,
    WIDTH,
    Rows,
    padding_text,
    per_group,
    sliding_notes,
)

if TYPE_CHECKING:
    from ..engine import LayerResult

_AXIS_WORDS = (("height", "row", "rows"), ("width", "column", "columns"))
_AXIS_PHRASES = ((HEIGHT, ROW, ROWS), (WIDTH, COLUMN, COLUMNS))
_NOT_COVERED = {
    "en": "{axis}: ({n} − {k} + {pad})/{s} = {ratio} is not exact; "
    "the last {count} {noun} of the input {verb} never covered by the kernel",
    "zh": "{axis}：({n} − {k} + {pad})/{s} = {ratio} 不能整除；输入的最后 {count} {noun}从未被卷积核覆盖",
}
_PARTIAL = {
    "en": "{axis}: ({n} − {k} + {pad})/{s} = {ratio}; ceil_mode adds a partial last window",
    "zh": "{axis}：({n} − {k} + {pad})/{s} = {ratio}；ceil_mode 多出一个不完整的最后窗口",
}
_VERBS = (word("is", ""), word("are", ""))


def same_padding(n: int, k_eff: int, s: int) -> tuple[int, int]:
    """TensorFlow's SAME rule: output ceil(n/s); the odd pixel of padding goes after."""
    out = -(-n // s)
    total = max((out - 1) * s + k_eff - n, 0)
    return total // 2, total - total // 2


def _ratio(span: int, s: int) -> str:
    """53.25 exactly, or 2.33 rounded: the quotient a learner would write down."""
    from fractions import Fraction

    text = fmt_number(Fraction(span, s))
    return text if "/" not in text else f"{span // s}.{(span % s) * 100 // s:02d}"


def _axis(
    axis: int, n: int, k: int, s: int, pb: int, pa: int, d: int, ceil_mode: bool, native: bool, warnings: list[str]
) -> tuple[int, str]:
    """Output size of one spatial axis and its textbook arithmetic, e.g. ``(227 − 11 + 2×0)/4 + 1 = 55``."""
    k_eff = d * (k - 1) + 1
    padded = n + pb + pa
    word, one, many = _AXIS_WORDS[axis]
    axis_phrase, one_phrase, many_phrase = _AXIS_PHRASES[axis]
    span = padded - k_eff
    q, r = divmod(span, s)
    out = q + 1
    dropped_last = False
    if ceil_mode and r:
        out = q + 2
        # PyTorch drops a last window that would start inside the right/bottom padding. Asymmetric
        # padding is applied as a separate pad layer, so PyTorch then sees it all as input.
        if (out - 1) * s >= (n + pb if native else n + pb + pa):
            out -= 1
            dropped_last = True
    if out < 1:
        what = f"kernel {k}" + (f" (dilated to {k_eff})" if d > 1 else "")
        pad_text = f" ({n} + {pb + pa} padding)" if pb + pa else ""
        raise LayerError(f"{what} is larger than the padded input {word} {padded}{pad_text}", field="kernel")
    pad_text = f"2×{pb}" if pb == pa else f"{pb} + {pa}"
    body = f"({n} − {k_eff} + {pad_text})/{s}"
    if r and not dropped_last:
        body = f"⌈{body}⌉" if ceil_mode else f"⌊{body}⌋"
    elif dropped_last:
        body = f"⌈{body}⌉"
    formula = (
        f"{body} + 1 − 1 = {out} (a last window would start in the padding)" if dropped_last else f"{body} + 1 = {out}"
    )
    if d > 1:
        formula += f" (dilated kernel {d}×({k}−1)+1 = {k_eff})"
    uncovered = r - pa  # rows of real input after the last window; those of padding lose nothing
    if r and not ceil_mode and uncovered > 0:
        noun, verb = (one_phrase, _VERBS[0]) if uncovered == 1 else (many_phrase, _VERBS[1])
        division = {"n": n, "k": k_eff, "pad": pb + pa, "s": s, "ratio": _ratio(span, s)}
        warnings.append(Phrase(_NOT_COVERED, axis=axis_phrase, **division, count=uncovered, noun=noun, verb=verb))
    elif r and ceil_mode and not dropped_last:
        division = {"n": n, "k": k_eff, "pad": pb + pa, "s": s, "ratio": _ratio(span, s)}
        warnings.append(Phrase(_PARTIAL, axis=axis_phrase, **division))
    return out, formula


def _both_axes(warning: str) -> str:
    """The height's warning said of both axes: ``height and width: … the last 1 row/column …``."""
    assert isinstance(warning, Phrase)
    fields = dict(warning.fields, axis=BOTH)
    if "noun" in fields:
        fields["noun"] = ROW_COLUMN if fields["noun"] is ROW else ROWS_COLUMNS
    return Phrase(warning.message, **fields)


class Sliding(NamedTuple):
    """Resolved window geometry of a conv or pool layer on a given input."""

    out_h: int
    out_w: int
    padding: tuple[int, int, int, int]  # top, bottom, left, right
    formula: str
    warnings: list[str]
    window: Window
    kernel: tuple[int, int]
    stride: tuple[int, int]

    def details(self) -> dict[str, Any]:
        """What views and code generation read back: the resolved kernel, stride and padding."""
        return {"kernel": self.kernel, "stride": self.stride, "padding": self.padding}


def slide(
    h: int,
    w: int,
    kernel: tuple[int, int],
    stride: tuple[int, int],
    padding: PaddingMode | tuple[int, int, int, int],
    dilation: tuple[int, int] = (1, 1),
    ceil_mode: bool = False,
    native_limit: tuple[int, int] | None = None,
) -> Sliding:
    """The window's geometry; `native_limit` is the most padding the layer's own argument takes
    (pooling: half the kernel), beyond which the padding is applied by a pad layer before it."""
    k_eff = (dilation[0] * (kernel[0] - 1) + 1, dilation[1] * (kernel[1] - 1) + 1)
    if padding is PaddingMode.SAME:
        top, bottom = same_padding(h, k_eff[0], stride[0])
        left, right = same_padding(w, k_eff[1], stride[1])
    elif padding is PaddingMode.VALID:
        top = bottom = left = right = 0
    else:
        top, bottom, left, right = padding
    warnings: list[str] = []
    native = native_padding((top, bottom, left, right), native_limit) is not None
    out_h, f_h = _axis(0, h, kernel[0], stride[0], top, bottom, dilation[0], ceil_mode, native, warnings)
    out_w, f_w = _axis(1, w, kernel[1], stride[1], left, right, dilation[1], ceil_mode, native, warnings)
    if f_h == f_w:
        formula = f_h
        if len(warnings) == 2:  # the same arithmetic on both axes: say it once
            warnings = [_both_axes(warnings[0])]
    else:
        formula = f"H: {f_h}; W: {f_w}"
    if padding is PaddingMode.SAME:
        formula += " (SAME)"
    window = Window.sliding(k_eff, stride, (top, left))
    return Sliding(out_h, out_w, (top, bottom, left, right), formula, warnings, window, kernel, stride)


CAPTION = {"en": "{prefix}{window}"}  # the figure's caption: "max 3×3 s2"


class SlidingKind(Kind):
    """A kind with a sliding window: its views read the kernel, stride and padding it resolved."""

    caption_prefix: ClassVar[str] = ""  # "max ", "avg ", ...: a Phrase, to be said in every language
    window_word: ClassVar[Phrase] = Rows.window  # what its derivation calls the window (convolutions: kernel)

    def caption(self, layer: LayerResult) -> str:
        kernel, stride = layer.details["kernel"], layer.details["stride"]
        text = f"{kernel[0]}×{kernel[1]}"
        if stride != (1, 1):
            text += f" s{fmt_pair(stride)}"
        return Phrase(CAPTION, prefix=self.caption_prefix, window=text)

    def graph_details(self, layer: LayerResult) -> str:
        kernel, stride, pad = layer.details["kernel"], layer.details["stride"], layer.details["padding"]
        parts = [f"{kernel[0]}×{kernel[1]}"]
        if stride != (1, 1):
            parts.append(f"stride {fmt_pair(stride)}")
        if any(pad):
            same = "same, " if layer.params_spec.get("padding") is PaddingMode.SAME else ""
            parts.append(same + "pad " + fmt_padding(pad))
        if self.groups(layer) > 1:
            parts.append(f"groups {self.groups(layer)}")
        return ", ".join(parts)

    def kernel_text(self, layer: LayerResult) -> str:
        """The derivation's kernel row; convolutions add their depth and count."""
        kernel = layer.details["kernel"]
        return f"{kernel[0]}×{kernel[1]}"

    def derivation(self, layer: LayerResult) -> list[tuple[str, str]]:
        return self._window_rows(layer, self.kernel_text(layer))

    def _window_rows(self, layer: LayerResult, kernel: str) -> list[tuple[str, str]]:
        p: Params = layer.params_spec
        stride, padding = layer.details["stride"], layer.details["padding"]
        rows = [(self.window_word, kernel), (Rows.stride, fmt_pair(stride))]
        rows.append((Rows.padding, padding_text(padding, p.get("padding") is PaddingMode.SAME)))
        if p.get("dilation", (1, 1)) != (1, 1):
            rows.append((Rows.dilation, fmt_pair(p["dilation"])))
        return rows

    def kernel_depth(self, layer: LayerResult) -> int | None:
        """Input channels one kernel reads (per group); None for windows that act on each channel alone."""
        return None

    def stage(self, layer: LayerResult) -> list[tuple[str, str]]:
        (kh, kw), depth = layer.details["kernel"], self.kernel_depth(layer)
        size = f"{kh}×{kw}" + (f"×{depth}" if depth is not None else "")
        rows = self._window_rows(layer, per_group(size, self.groups(layer)))
        if layer.params_spec.get("ceil_mode"):
            rows.append((Rows.ceil_mode, ON))
        return rows

    def notes(self, layer: LayerResult) -> list[str]:
        return list(sliding_notes(layer))
