"""The Kind protocol: everything archcalc knows about a layer kind is declared by its one class.

A kind declares its hyper-parameter fields (which give both validation and the JSON Schema) and
implements ``infer``: from the validated hyper-parameters and the input shapes it returns the
output shape, the arithmetic that produced it, parameters, MACs, the extra FLOPs counted under
``--flops all``, and how it moves the receptive field. It also says how it appears in every view
(its figure appearance and colour role, caption, graph details, derivation rows, whether charts
show it) and how it is written in PyTorch (``torch`` and ``torch_helpers``). Views ask the kind;
they never look at kind names, so adding a kind touches its class only.

Shapes are tuples in PyTorch order without the batch: ``(C, H, W)``, or ``(N,)`` when flat.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from fractions import Fraction
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

from ..errors import LayerError
from ..fields import Field
from ..format import bracketed
from ..i18n import Message
from ..palette import Role
from ..pycode import Call

if TYPE_CHECKING:
    from ..engine import LayerResult

Shape = tuple[int, ...]
Params = Mapping[str, Any]
Q = int | Fraction  # exact numbers of the receptive-field arithmetic


def exact(numerator: int, denominator: int = 1) -> Q:
    """numerator / denominator as an int when it divides, else a Fraction."""
    q, r = divmod(numerator, denominator)
    return q if r == 0 else Fraction(numerator, denominator)


class Window(NamedTuple):
    """How a layer maps positions, per axis (h, w), for the receptive field.

    ``span``: input positions one output sees (the dilated kernel); ``stride``: the step between
    outputs in input positions (a fraction for upsampling); ``offset``: where the first output's
    centre sits, in input positions, relative to the first input's centre.
    """

    span: tuple[Q, Q]
    stride: tuple[Q, Q]
    offset: tuple[Q, Q]

    @staticmethod
    def sliding(kernel: tuple[int, int], stride: tuple[int, int], pad_before: tuple[int, int]) -> Window:
        offset = (exact(kernel[0] - 1, 2) - pad_before[0], exact(kernel[1] - 1, 2) - pad_before[1])
        return Window(kernel, stride, offset)


IDENTITY_WINDOW = Window((1, 1), (1, 1), (0, 0))
GLOBAL = "global"  # the output sees the whole input (flatten, linear, global pooling, ...)


class Appearance(enum.Enum):
    """How a layer appears in the 3D figure."""

    BLOCK = "block"  # its own block: a map cuboid (or, when flat, a dense bar) in its role's colour
    ANNOTATION = "annotation"  # a note on the previous block ("+ ReLU, BN")
    HIDDEN = "hidden"  # not drawn: identity at inference, or a reshape the next block shows anyway


class OpClass(enum.StrEnum):
    """How the established FLOP counters (torchinfo, fvcore, ptflops, thop, torch's FlopCounterMode)
    see a layer: each counter has one rule per class (``archcalc.conventions``)."""

    WEIGHTED = "weighted"  # conv, transposed conv, linear: MACs of a weight tensor, maybe a bias
    MATMUL = "matmul"  # a weight product inside a helper module, no bias (LeNet-5's RBF)
    MAX_POOL = "max_pool"  # max pooling, fixed or adaptive
    AVG_POOL = "avg_pool"  # fixed-window average pooling
    ADAPTIVE_AVG_POOL = "adaptive_avg_pool"  # adaptive (and global) average pooling
    TRAINABLE_POOL = "trainable_pool"  # window sum × coefficient + bias in a helper module
    UPSAMPLE = "upsampling"
    BATCH_NORM = "batch_norm"
    LAYER_NORM = "layer_norm"
    GROUP_NORM = "group_norm"
    INSTANCE_NORM = "instance_norm"
    LRN = "local_response_norm"
    RELU = "relu_like"  # torch modules that call a functional ptflops also patches: ReLU, ELU, GELU
    CLAMP = "clamp"  # ReLU6, LeakyReLU: a module ptflops hooks, a functional it does not patch
    SILU = "silu_like"  # a functional ptflops patches, no module hook
    PRELU = "parametric_activation"  # an activation with parameters
    ACTIVATION = "activation"  # activations no counter counts (tanh, sigmoid, hard-swish, ...)
    SOFTMAX = "softmax_like"
    MERGE = "merge"  # add, multiply, concat
    NONE = "none"  # reshapes, padding, dropout, identity: no arithmetic


class Outcome:
    """What a kind computes for one layer (a plain class: built once per layer, kept cheap)."""

    __slots__ = (
        "shape", "trainable", "non_trainable", "macs", "extra_flops", "formula", "params_formula", "warnings",
        "window", "details",
    )  # fmt: skip

    def __init__(
        self,
        shape: Shape,
        trainable: int = 0,
        non_trainable: int = 0,
        macs: int = 0,
        extra_flops: int = 0,  # counted only with FlopMode.ALL (bias adds, activations, pooling, ...)
        formula: str = "",
        params_formula: str = "",
        warnings: list[str] | None = None,
        window: Window | str | None = None,  # None for kinds that keep positions
        details: dict[str, Any] | None = None,
    ) -> None:
        self.shape, self.trainable, self.non_trainable = shape, trainable, non_trainable
        self.macs, self.extra_flops = macs, extra_flops
        self.formula, self.params_formula = formula, params_formula
        self.warnings = warnings if warnings is not None else []
        self.window = window
        self.details = details if details is not None else {}


class TorchLayer(NamedTuple):
    call: Call
    helpers: tuple[str, ...] = ()


class Kind:
    """Base class of layer kinds; a subclass with a ``name`` registers itself in KINDS."""

    name: ClassVar[str]
    summary: ClassVar[str]
    title: ClassVar[Message] = {}  # what it is called in words, per language: {"en": "convolution", "zh": "卷积"}
    fields: ClassVar[tuple[Field, ...]] = ()
    arity: ClassVar[tuple[int, int | None]] = (1, 1)  # fewest and most inputs (None: no limit)
    inputs_doc: ClassVar[str] = ""  # what its inputs are, when their roles differ ("the map to crop and ...")
    # The leading inputs whose positions reach the output (None: all); the rest lend only their size.
    positional_inputs: ClassVar[int | None] = None
    keeps_positions: ClassVar[bool] = False  # output position (h, w) is input position (h, w)
    # views
    appearance: ClassVar[Appearance] = Appearance.ANNOTATION
    role: ClassVar[Role | None] = None  # colour of its block (and its graph node)
    annotation_text: ClassVar[str] = ""  # its note on the previous block; "" for none
    caption_text: ClassVar[str] = ""  # its caption, for kinds whose caption does not depend on the layer
    merge_mark: ClassVar[str] = ""  # a merge's sign drawn on its block: "⊕" a sum, "‖" a concatenation
    charted: ClassVar[bool] = False  # shown in the charts even with no parameters and no MACs
    mixes_channels: ClassVar[bool] = False  # every output channel reads every input channel (unless grouped)
    counted_as: ClassVar[OpClass | None] = None  # how FLOP counters see it (archcalc.conventions); every kind sets it
    # PyTorch: helper classes this kind's emission may use, copied into generated files
    torch_helpers: ClassVar[dict[str, str]] = {}
    # the smallest use of the kind, for the tests that walk every kind through every view: the
    # values of required fields whose type alone does not give a valid one, and the input it takes
    example: ClassVar[dict[str, Any]] = {}
    example_input: ClassVar[Shape] = (4, 8, 8)

    KINDS: ClassVar[dict[str, Kind]] = {}
    TORCH_HELPERS: ClassVar[dict[str, str]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:
            if cls.name in Kind.KINDS:
                raise TypeError(f"two kinds are named {cls.name!r}")
            Kind.KINDS[cls.name] = cls()
        for helper, source in cls.__dict__.get("torch_helpers", {}).items():
            Kind.TORCH_HELPERS[helper] = source

    @property
    def merges(self) -> bool:
        """Takes two or more inputs."""
        return self.arity[0] >= 2

    def inputs_wanted(self) -> str:
        """What its ``inputs`` must list: ``two or more layer names``."""
        fewest, most = self.arity
        if most is None:
            text = f"{_count(fewest)} or more layer names"
        elif fewest == most:
            text = f"{_count(fewest)} layer name{'s' if most > 1 else ''}"
        else:
            text = f"{_count(fewest)} to {_count(most)} layer names"
        return f"{text}: {self.inputs_doc}" if self.inputs_doc else text

    def inputs_problem(self, count: int) -> str | None:
        """Why `count` inputs are wrong for this kind; None when they are not."""
        fewest, most = self.arity
        if fewest <= count and (most is None or count <= most):
            return None
        if most is None:
            return f"'{self.name}' needs {_count(fewest)} or more inputs, got {count}"
        if most == 1:
            merges = [f"'{kind.name}'" for kind in Kind.KINDS.values() if kind.arity[1] is None]
            either = ", ".join(merges[:-1]) + f" or {merges[-1]}" if len(merges) > 1 else "".join(merges)
            return f"'{self.name}' takes one input, got {count}; merge them with {either} first"
        takes = _count(fewest) if fewest == most else f"{_count(fewest)} to {_count(most)}"
        doc = f": {self.inputs_doc}" if self.inputs_doc else ""
        return f"'{self.name}' takes {takes} inputs{doc}, got {count}"

    # --- the engine ---------------------------------------------------------------------------

    def infer(self, p: Params, inputs: list[Shape]) -> Outcome:
        raise NotImplementedError

    def groups(self, layer: LayerResult) -> int:
        """Into how many independent channel groups the layer splits (AlexNet's two GPUs: 2)."""
        return 1

    # --- views --------------------------------------------------------------------------------

    def caption(self, layer: LayerResult) -> str:
        """Short text under its block in the figure: ``max 3×3 s2``."""
        return self.caption_text

    def annotation(self, layer: LayerResult) -> str:
        """Its note when folded into the previous block."""
        return self.annotation_text

    def graph_details(self, layer: LayerResult) -> str:
        """The hyper-parameter line of its graph node: ``3×3, stride 2, pad 1``."""
        return ""

    def derivation(self, layer: LayerResult) -> list[tuple[str, str]]:
        """Its own rows of the stage-by-stage working (kernel, stride, padding, ...), between input and output."""
        return []

    def stage(self, layer: LayerResult) -> list[tuple[str, str]]:
        """Its rows of ``archcalc explain`` between input and output (kernel with its depth, stride, padding,
        number of kernels, ...): by default its derivation rows."""
        return self.derivation(layer)

    def bias_count(self, layer: LayerResult) -> int | None:
        """How many biases it learns (None: a kind that has no bias to speak of)."""
        return None

    def notes(self, layer: LayerResult) -> list[str]:
        """What a teacher adds about this layer (a division that drops input, groups, SAME's uneven
        padding, ...): Phrases, so that they can be said in every language."""
        return []

    # --- PyTorch ------------------------------------------------------------------------------

    def torch(self, p: Params, inputs: list[Shape], details: dict[str, Any]) -> TorchLayer:
        """The PyTorch module for this layer: a ``torch.nn`` call, or a helper class of ``torch_helpers``."""
        raise NotImplementedError


def _count(n: int) -> str:
    return ("no", "one", "two", "three", "four")[n] if n < 5 else str(n)


KINDS = Kind.KINDS
TORCH_HELPERS = Kind.TORCH_HELPERS


def spatial_input(shape: Shape, kind: str) -> tuple[int, int, int]:
    if len(shape) != 3:
        raise LayerError(f"{kind} needs a [C, H, W] input, got a flat input of {shape[0]:,} features")
    return shape[0], shape[1], shape[2]


def flat_input(shape: Shape, kind: str) -> int:
    if len(shape) != 1:
        raise LayerError(f"{kind} needs a flat input, got {bracketed(shape)}; add a 'flatten' layer before it")
    return shape[0]


def symmetric(padding: tuple[int, int, int, int]) -> tuple[int, int] | None:
    top, bottom, left, right = padding
    return (top, left) if top == bottom and left == right else None


def native_padding(padding: tuple[int, int, int, int], limit: tuple[int, int] | None = None) -> tuple[int, int] | None:
    """(h, w) when the layer's own ``padding`` argument can express it: symmetric, and within `limit`
    (pooling: at most half the kernel); None when an explicit pad layer must go first."""
    both = symmetric(padding)
    if both is None or (limit is not None and (both[0] > limit[0] or both[1] > limit[1])):
        return None
    return both


def with_padding(
    make: Callable[[tuple[int, int]], Call],
    padding: tuple[int, int, int, int],
    fill: float | None = None,
    limit: tuple[int, int] | None = None,
) -> Call:
    """`make(padding)` when PyTorch's own padding can express it, else an explicit pad layer first."""
    both = native_padding(padding, limit)
    if both is not None:
        return make(both)
    top, bottom, left, right = padding
    sides = (left, right, top, bottom)
    pad = Call("nn.ZeroPad2d", sides) if fill is None else Call("nn.ConstantPad2d", sides, fill)
    return Call("nn.Sequential", pad, make((0, 0)))


def options(**values: tuple[Any, Any]) -> dict[str, Any]:
    """Keyword arguments whose value differs from PyTorch's default (value, default)."""
    return {key: value for key, (value, default) in values.items() if value != default}
