"""What a teacher says about a stage, in words of every language: the labels of the stage-by-stage
rows and the notes of sliding windows and convolutions (a division that is not exact and what it
drops, ceil_mode, SAME's uneven padding, groups, connection tables).

Kinds call these from their own ``stage``, ``derivation`` and ``notes``; the arithmetic is the
engine's, recomputed here from the geometry a kind resolved, so a note never disagrees with a row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from ..fields import PaddingMode
from ..format import fmt_int, fmt_number, fmt_padding
from ..i18n import Phrase, word

if TYPE_CHECKING:
    from ..engine import LayerResult


class Rows:
    """The labels of the stage-by-stage rows (``archcalc explain`` and the HTML derivation view)."""

    input = word("input", "输入大小")
    kernel = word("kernel", "卷积核大小")
    window = word("kernel", "窗口大小")  # a pooling window: not a convolution kernel in Chinese
    stride = word("stride", "步长")
    padding = word("padding", "填充")
    dilation = word("dilation", "膨胀")
    ceil_mode = word("ceil_mode", "ceil_mode（向上取整）")
    kernels = word("kernels", "卷积核个数")
    output = word("output", "输出大小")
    biases = word("biases", "偏置个数")
    parameters = word("parameters", "参数")
    macs = word("MACs", "乘加次数 (MACs)")
    receptive_field = word("receptive field", "感受野")
    warning = word("warning", "警告")
    note = word("note", "说明")


HEIGHT, WIDTH, BOTH = word("height", "高"), word("width", "宽"), word("height and width", "高和宽")
ROW, COLUMN, ROW_COLUMN = word("row", "行"), word("column", "列"), word("row/column", "行/列")
ROWS, COLUMNS, ROWS_COLUMNS = word("rows", "行"), word("columns", "列"), word("rows/columns", "行/列")
PER_GROUP = word("{size} per group", "每组 {size}")
ON = word("on", "开")


def per_group(size: str, groups: int) -> str:
    """``5×5×48 per group`` when the layer is grouped, else the size as it is."""
    return Phrase(PER_GROUP.message, size=size) if groups > 1 else size


SIDES = {
    "en": "top {top}, bottom {bottom}, left {left}, right {right}",
    "zh": "上 {top}，下 {bottom}，左 {left}，右 {right}",
}


def padding_text(padding: tuple[int, int, int, int], same: bool = False) -> str:
    """``2``, ``1×2`` or ``top 3, bottom 4, left 3, right 4`` (as ``format.fmt_padding``), `` (SAME)`` added."""
    top, bottom, left, right = padding
    text: str = fmt_padding(padding)
    if top != bottom or left != right:
        text = Phrase(SIDES, top=top, bottom=bottom, left=left, right=right)
    return Phrase({"en": "{text} (SAME)", "zh": "{text}（SAME）"}, text=text) if same else text


KERNEL_COUNT = {
    "en": "{count} ({groups} groups of {each})",
    "zh": "{count}（{groups} 组，每组 {each} 个）",
}


def kernel_count(count: int, groups: int) -> str:
    return Phrase(KERNEL_COUNT, count=count, groups=groups, each=count // groups) if groups > 1 else str(count)


KERNEL_TEXT = {"en": "{kh}×{kw}×{depth}, {count} kernels", "zh": "{kh}×{kw}×{depth}，{count} 个卷积核"}
KERNEL_TEXT_GROUPS = {
    "en": "{kh}×{kw}×{depth}, {count} kernels in {groups} groups",
    "zh": "{kh}×{kw}×{depth}，{count} 个卷积核，分 {groups} 组",
}
KERNEL_TEXT_DEPTHWISE = {
    "en": "{kh}×{kw}×{depth}, {count} kernels (depthwise)",
    "zh": "{kh}×{kw}×{depth}，{count} 个卷积核（逐通道）",
}
KERNEL_TEXT_TABLE = {
    "en": "{kh}×{kw}, {count} kernels through a connection table",
    "zh": "{kh}×{kw}，{count} 个卷积核，经连接表",
}


def conv_kernel_text(layer: LayerResult, groups: int) -> str:
    """The derivation's kernel row of a convolution: ``5×5×48, 256 kernels in 2 groups``."""
    (kh, kw), c_in = layer.details["kernel"], layer.input_shapes[0][0]
    sizes = {"kh": kh, "kw": kw, "depth": c_in // groups, "count": layer.params_spec["out_channels"]}
    if layer.params_spec["connections"] is not None:
        return Phrase(KERNEL_TEXT_TABLE, **sizes)
    if groups > 1:
        return Phrase(KERNEL_TEXT_DEPTHWISE if groups == c_in else KERNEL_TEXT_GROUPS, **sizes, groups=groups)
    return Phrase(KERNEL_TEXT, **sizes)


# --- sliding windows --------------------------------------------------------------------------

NOT_EXACT = {
    "en": "{axis}: ({n} − {k} + {pad})/{s} = {ratio} is not exact, so the division drops the rest: the last "
    "window ends at {unit} {last} of the input and {dropped} {never}; an input of {lower} or {upper} divides exactly",
    "zh": "{axis}：({n} − {k} + {pad})/{s} = {ratio} 不是整数，除法舍去了余数：最后一个窗口止于输入的第 {last} {unit}，"
    "{dropped}从未被卷积核看到；输入取 {lower} 或 {upper} 才能整除",
}
NEVER_ONE = word("is never seen", "")
NEVER_MANY = word("are never seen", "")
DROPPED_ONE = {"en": "{unit} {first}", "zh": "第 {first} {unit}"}
DROPPED_MANY = {"en": "{units} {first}–{last}", "zh": "第 {first}–{last} {units}"}
ONLY_PADDING = {
    "en": "{axis}: ({n} − {k} + {pad})/{s} = {ratio} is not exact, but what the division drops is padding: "
    "every {unit} of the input is seen",
    "zh": "{axis}：({n} − {k} + {pad})/{s} = {ratio} 不是整数，但舍去的只是填充：输入的每一{unit}都被看到",
}
CEIL = {
    "en": "{axis}: ceil_mode rounds ({n} − {k} + {pad})/{s} = {ratio} up: a last window starts at {unit} {start} "
    "and only {inside} of its {k} {units} lie inside the padded input, so the output is {out}, not {floor}",
    "zh": "{axis}：ceil_mode 把 ({n} − {k} + {pad})/{s} = {ratio} 向上取整：最后一个窗口从第 {start} {unit}开始，"
    "{k} {units}中只有 {inside} {units}在（填充后的）输入内，所以输出是 {out} 而不是 {floor}",
}
CEIL_DROPPED = {
    "en": "{axis}: ceil_mode would add a window starting at {unit} {start}, inside the padding after the input's "
    "{n} {units}; PyTorch drops a last window that starts in the padding, so the output stays {out}",
    "zh": "{axis}：ceil_mode 本会多出一个从第 {start} {unit}开始的窗口，但它落在输入 {n} {units}之后的填充里；"
    "PyTorch 丢弃从填充中开始的最后一个窗口，所以输出仍是 {out}",
}
SAME_UNEVEN = {
    "en": "{axis}: SAME padding (TensorFlow): output ⌈{n}/{s}⌉ = {out} needs ({out} − 1)×{s} + {k} − {n} = {total} "
    "{units} of padding, which do not split evenly: {before} before and {after} after (the odd one goes after)",
    "zh": "{axis}：SAME 填充（TensorFlow）：输出 ⌈{n}/{s}⌉ = {out}，需要 ({out} − 1)×{s} + {k} − {n} = {total} "
    "{units}填充，不能平分：前 {before} 后 {after}（多出的一{unit}放在后面）",
}
SAME_EVEN = {
    "en": "{axis}: SAME padding (TensorFlow): output ⌈{n}/{s}⌉ = {out} needs ({out} − 1)×{s} + {k} − {n} = {total} "
    "{units} of padding, {before} on each side",
    "zh": "{axis}：SAME 填充（TensorFlow）：输出 ⌈{n}/{s}⌉ = {out}，需要 ({out} − 1)×{s} + {k} − {n} = {total} "
    "{units}填充，每边 {before}",
}


class Axis(NamedTuple):
    """One spatial axis of a sliding window, as resolved for a layer."""

    n: int  # input size
    k: int  # dilated kernel
    s: int
    before: int
    after: int
    out: int


def axes(layer: LayerResult) -> tuple[Axis, Axis]:
    (kh, kw), (sh, sw) = layer.details["kernel"], layer.details["stride"]
    top, bottom, left, right = layer.details["padding"]
    dh, dw = layer.params_spec.get("dilation", (1, 1))
    _, h, w = layer.input_shapes[0]
    _, oh, ow = layer.output_shape
    return (
        Axis(h, dh * (kh - 1) + 1, sh, top, bottom, oh),
        Axis(w, dw * (kw - 1) + 1, sw, left, right, ow),
    )


def _ratio(span: int, s: int) -> str:
    from fractions import Fraction

    text = fmt_number(Fraction(span, s))
    return text if "/" not in text else f"{span // s}.{(span % s) * 100 // s:02d}"


def _axis_note(a: Axis, ceil_mode: bool, same: bool) -> tuple[dict, dict[str, object]] | None:
    """The message and fields of one axis' note (axis words left out), or None when it divides exactly."""
    span = a.n + a.before + a.after - a.k
    q, r = divmod(span, a.s)
    base = {"n": a.n, "k": a.k, "pad": a.before + a.after, "s": a.s, "ratio": _ratio(span, a.s), "out": a.out}
    if same and (a.before or a.after):
        message = SAME_UNEVEN if a.before != a.after else SAME_EVEN
        return message, {"n": a.n, "k": a.k, "s": a.s, "out": a.out, "total": a.before + a.after,
                         "before": a.before, "after": a.after}  # fmt: skip
    if not r:
        return None
    if ceil_mode:
        start = (q + 1) * a.s - a.before + 1  # 1-based input row (0 and below: in the padding before)
        if a.out == q + 1:
            return CEIL_DROPPED, {**base, "start": start}
        return CEIL, {**base, "start": start, "inside": r + a.k - a.s, "floor": q + 1}
    uncovered = r - a.after
    if uncovered <= 0:
        return ONLY_PADDING, base
    last = a.n - uncovered
    lower, upper = a.n - r, a.n + a.s - r
    many = uncovered > 1
    fields = {**base, "last": last, "first": last + 1, "end": a.n, "lower": lower, "upper": upper, "many": many}
    return NOT_EXACT, fields


def _said(message: dict, fields: dict[str, object], axis: Phrase, units: tuple[Phrase, Phrase]) -> Phrase:
    unit, plural = units
    extra: dict[str, object] = {"axis": axis, "unit": unit, "units": plural}
    if message is NOT_EXACT:
        first, end = fields["first"], fields["end"]
        dropped = (
            Phrase(DROPPED_MANY, units=plural, first=first, last=end)
            if fields["many"]
            else Phrase(DROPPED_ONE, unit=unit, first=first)
        )
        extra.update(dropped=dropped, never=NEVER_MANY if fields["many"] else NEVER_ONE)
    shown = {key: value for key, value in fields.items() if key not in ("many", "first", "end")}
    return Phrase(message, **shown, **extra)


def sliding_notes(layer: LayerResult) -> list[Phrase]:
    """Per axis (once when both say the same): what is not exact and what it drops, ceil_mode, SAME."""
    p = layer.params_spec
    ceil_mode, same = bool(p.get("ceil_mode", False)), p.get("padding") is PaddingMode.SAME
    h, w = (_axis_note(a, ceil_mode, same) for a in axes(layer))
    if h is not None and h == w:
        return [_said(*h, BOTH, (ROW_COLUMN, ROWS_COLUMNS))]
    notes = []
    if h is not None:
        notes.append(_said(*h, HEIGHT, (ROW, ROWS)))
    if w is not None:
        notes.append(_said(*w, WIDTH, (COLUMN, COLUMNS)))
    return notes


# --- convolutions -----------------------------------------------------------------------------

GROUPS = {
    "en": "groups {g} (AlexNet used 2, one group per GPU): the {c_in} input channels and the {c_out} kernels are split into {g} "
    "groups; each kernel reads only the {depth} channels of its group, so it is {kh}×{kw}×{depth}, and each group "
    "makes {each} of the {c_out} output maps. Without groups the layer would have {kh}×{kw}×{c_in}×{c_out}{bias} = "
    "{full} parameters (what a table that leaves out the split counts)",
    "zh": "分组 {g}（AlexNet 用 2 组，每块 GPU 一组）：{c_in} 个输入通道和 {c_out} 个卷积核分成 {g} 组；每个卷积核只读本组的 {depth} "
    "个通道，所以大小是 {kh}×{kw}×{depth}，每组生成 {c_out} 个输出特征图中的 {each} 个。不分组时参数为 "
    "{kh}×{kw}×{c_in}×{c_out}{bias} = {full}（不考虑分组的表格给出的就是这个数）",
}
DEPTHWISE = {
    "en": "depthwise: one group per input channel, so each of the {c_out} kernels is {kh}×{kw}×1 and reads a single "
    "channel; a full convolution would have {kh}×{kw}×{c_in}×{c_out}{bias} = {full} parameters",
    "zh": "逐通道（depthwise）卷积：每个输入通道一组，{c_out} 个卷积核各为 {kh}×{kw}×1，只读一个通道；"
    "普通卷积的参数为 {kh}×{kw}×{c_in}×{c_out}{bias} = {full}",
}
TABLE = {
    "en": "connection table: each output map sees only the input maps of its row, {links} connections in all instead "
    "of {c_in}×{c_out} = {all_links}, so {kh}×{kw}×{links}{bias} = {params} parameters instead of {full}",
    "zh": "连接表：每个输出特征图只看它那一行列出的输入特征图，共 {links} 个连接而不是 {c_in}×{c_out} = {all_links} 个，"
    "所以参数为 {kh}×{kw}×{links}{bias} = {params}，而不是 {full}",
}
WHOLE_INPUT = {
    "en": "the {kh}×{kw} kernel covers the whole {h}×{w} input, so the output is 1×1 and each of the {c_out} outputs "
    "sees every input value: a fully connected layer written as a convolution",
    "zh": "{kh}×{kw} 的卷积核覆盖了整个 {h}×{w} 输入，输出是 1×1，{c_out} 个输出中的每一个都看到全部输入：这是写成卷积的全连接层",
}


def conv_notes(layer: LayerResult, groups: int) -> list[Phrase]:
    """Groups (or depthwise, or a connection table) and what the layer would cost without them."""
    p = layer.params_spec
    (kh, kw), c_in, c_out = layer.details["kernel"], layer.input_shapes[0][0], layer.output_shape[0]
    bias_text = f" + {c_out}" if p["bias"] else ""
    full = kh * kw * c_in * c_out + (c_out if p["bias"] else 0)
    sizes = {"kh": kh, "kw": kw, "c_in": c_in, "c_out": c_out, "bias": bias_text, "full": fmt_int(full)}
    notes: list[Phrase] = []
    table = p.get("connections")
    if table is not None:
        links = sum(len(row) for row in table)
        notes.append(Phrase(TABLE, **sizes, links=links, all_links=c_in * c_out, params=fmt_int(layer.params)))
    elif groups > 1 and groups == c_in:
        notes.append(Phrase(DEPTHWISE, **sizes))
    elif groups > 1:
        notes.append(Phrase(GROUPS, **sizes, g=groups, depth=c_in // groups, each=c_out // groups))
    _, h, w = layer.input_shapes[0]
    if layer.output_shape[1:] == (1, 1) and (kh, kw) == (h, w) and not any(layer.details["padding"]):
        notes.append(Phrase(WHOLE_INPUT, kh=kh, kw=kw, h=h, w=w, c_out=c_out))
    return notes
