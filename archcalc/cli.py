"""The ``archcalc`` command: a thin click layer over the library.

This is the only place where exceptions become exit codes: 0 success, 1 a failed check (or --warnings error),
2 bad input (a spec, a model file, an option, a missing dependency), 70 a bug, 130 interrupted.
"""

from __future__ import annotations

import re
import sys
from typing import Any

import click

from . import __version__
from .counters import ComparisonFormat, Convention
from .engine import DType, FlopMode, WarningMode
from .errors import ArchcalcError, CheckFailed, OptionError, TorchRunError
from .explain import ExplainFormat
from .graph import Direction
from .palette import Role
from .rendering import RenderFormat, Style
from .report import TableFormat
from .teaching.formats import GradeFormat
from .torchrun import Device, TorchDType


class _Failure(click.ClickException):
    """An ArchcalcError on its way out: one line on stderr, the error's exit code."""

    def __init__(self, error: ArchcalcError) -> None:
        super().__init__(str(error))
        self.exit_code = error.exit_code

    def show(self, file: Any = None) -> None:
        from .format import visible

        click.echo(f"archcalc: error: {visible(self.format_message())}", err=True)


class _Group(click.Group):
    def main(self, *args: Any, **kwargs: Any) -> Any:
        """Option errors in one line, as every other error (click's own form takes three)."""
        kwargs["standalone_mode"] = False
        try:
            code = super().main(*args, **kwargs)  # without standalone mode, click returns an Exit's code
            if isinstance(code, int) and code:
                sys.exit(code)
            return code
        except click.UsageError as error:
            from .format import visible

            if isinstance(error, getattr(click.exceptions, "NoArgsIsHelpError", ())):
                click.echo(error.format_message(), err=True)  # no arguments at all: the help
                sys.exit(2)
            where = f"{error.ctx.command_path}: " if error.ctx is not None else ""
            click.echo(f"archcalc: error: {where}{visible(error.format_message())}", err=True)
            sys.exit(2)
        except click.ClickException as error:
            error.show()
            sys.exit(error.exit_code)
        except click.exceptions.Exit as stop:
            sys.exit(stop.exit_code)
        except click.Abort:  # Ctrl-C while click itself was reading
            click.echo("archcalc: interrupted", err=True)
            sys.exit(130)

    def invoke(self, ctx: click.Context) -> Any:
        from .fileio import Interrupted

        try:
            return super().invoke(ctx)
        except ArchcalcError as error:
            raise _Failure(error) from None
        except (KeyboardInterrupt, Interrupted) as stop:  # the shell's convention: 128 + the signal
            signum = stop.signum if isinstance(stop, Interrupted) else 2
            click.echo("archcalc: interrupted", err=True)
            raise click.exceptions.Exit(128 + signum) from None


def _quiet() -> bool:
    context = click.get_current_context(silent=True)
    return bool(context and context.find_root().params.get("quiet"))


def _color() -> bool | None:
    """None: click colours a terminal and strips styles elsewhere; False with NO_COLOR set."""
    import os

    return False if os.environ.get("NO_COLOR") else None


_VERDICTS = re.compile(r"\b(MISMATCH|OK)\b|^(Warnings \(\d+\):)", re.M)


def _paint(text: str) -> str:
    """OK green, MISMATCH red, a warnings heading yellow (shown only where colour is, see _color)."""

    def style(match: re.Match[str]) -> str:
        word = match.group(0)
        color = {"OK": "green", "MISMATCH": "red"}.get(word, "yellow")
        return click.style(word, fg=color, bold=word != "OK")

    return _VERDICTS.sub(style, text)


def _say(text: str, err: bool = False) -> None:
    click.echo(_paint(text), nl=False, err=err, color=_color())


def _emit(data: str | bytes, output: str | None) -> None:
    """To stdout, or to OUTPUT as ``fileio.write_output`` writes (saying so on stderr unless --quiet)."""
    if output is None or output == "-":
        if isinstance(data, str):
            _say(data)
        else:
            click.echo(data, nl=False)
        return
    from .fileio import write_output

    write_output(output, data)
    if not _quiet():
        click.echo(f"wrote {output}", err=True)


def _complete_spec(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    """Shell completion of SPEC: the bundled names, then files."""
    from click.shell_completion import CompletionItem

    from .spec import bundled_names

    names = [CompletionItem(name) for name in bundled_names() if name.startswith(incomplete)]
    return names + [CompletionItem(incomplete, type="file")]


def _choice(values: Any) -> click.Choice:
    return click.Choice([v.value for v in values], case_sensitive=False)


def _lang_callback(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    from .i18n import resolve_lang

    return resolve_lang(value)


_lang_option = click.option(
    "--lang",
    metavar="LANG",
    callback=_lang_callback,
    help="Language of the words: en (default) or zh; default from ARCHCALC_LANG.",
)


def _format_options(formats: Any, what: str = "Write to FILE (atomically) instead of stdout.") -> Any:
    """``-f/--format`` among `formats` (an enum; the first is the default) and ``-o FILE``, whose
    extension chooses the format when ``--format`` is not given."""
    from .fileio import suffixes_of

    names = ", ".join(f.value for f in formats)
    extensions = " ".join(f".{suffix}" for suffix in suffixes_of(formats))
    first = next(iter(formats)).value
    format_option = click.option(
        "-f", "--format", "fmt", type=_choice(formats),
        help=f"Output format: {names} (default: from the -o extension, {extensions}; else {first}).",
    )  # fmt: skip
    output_option = click.option("-o", "--output", metavar="FILE", help=what)

    def decorate(command: Any) -> Any:
        return format_option(output_option(command))

    return decorate


_input_option = click.option(
    "--input", "input_shape", metavar="CxHxW", help="Override the spec's input, e.g. 3x224x224."
)


_warnings_option = click.option(
    "--warnings",
    "warning_mode",
    type=_choice(WarningMode),
    default=WarningMode.SHOW.value,
    show_default=True,
    help="error: fail (exit 1) when the analysis has warnings, e.g. a division that is not exact.",
)


_convention_option = click.option(
    "--convention",
    default=Convention.ARCHCALC.value,
    show_default=True,
    type=_choice(Convention),
    help="Whose MACs/FLOPs the table shows: each counter's own rules (see `archcalc conventions SPEC`).",
)


def _network(source: str, input_shape: str | None = None) -> Any:
    """SOURCE (a YAML path, a bundled name or a model file / PyTorch class) as a NetworkSpec."""
    from .importers import load_source
    from .spec import parse_input_shape

    shape = parse_input_shape(input_shape) if input_shape else None
    network = load_source(source, shape)
    return network.with_input(shape) if shape else network


def _analysis(spec: str, input_shape: str | None, warning_mode: str = WarningMode.SHOW, **options: Any) -> Any:
    """Load SOURCE, optionally on another input, and analyse it."""
    from .engine import analyse

    analysis = analyse(_network(spec, input_shape), **options)
    if WarningMode(warning_mode) is WarningMode.ERROR:
        analysis.raise_for_warnings()
    return analysis


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "-V", "--version", prog_name="archcalc")
@click.option("-q", "--quiet", is_flag=True, help="No 'wrote FILE' lines and no progress; results and errors only.")
def main(quiet: bool) -> None:
    """CNN architecture calculator: shapes, parameters, MACs/FLOPs, memory and receptive fields from a YAML spec.

    SPEC arguments take a file path or the name of a bundled spec (see `archcalc list`).
    """


_notation_option = click.option(
    "--notation",
    default="chw",
    show_default=True,
    help="How map shapes are written: chw (96×55×55), hwc (55×55×96) or lenet (96@55×55).",
)


@main.command()
@click.argument("spec", shell_complete=_complete_spec)
@_input_option
@_format_options(TableFormat)
@click.option(
    "--dtype", default="float32", show_default=True, help="Element type for the memory columns.", type=_choice(DType)
)
@click.option(
    "--flops",
    "flop_mode",
    default="matmul",
    show_default=True,
    type=_choice(FlopMode),
    help="matmul: 2 × MACs of conv/linear (torch.utils.flop_counter); all: every operation.",
)
@_warnings_option
@click.option("--collapse", is_flag=True, help="One row per repeat block (text and markdown).")
@click.option(
    "--columns",
    metavar="LIST",
    help="Only these columns, in this order (text and markdown), e.g. layer,output shape,params,macs.",
)
@_convention_option
@_lang_option
@_notation_option
def table(
    spec: str, input_shape: str | None, fmt: str | None, output: str | None, dtype: str, flop_mode: str,
    warning_mode: str, collapse: bool, columns: str | None, convention: str, lang: Any, notation: str = "chw",
) -> None:  # fmt: skip
    """Per-layer table of SPEC: output shapes, the arithmetic, parameters, MACs, receptive field, totals."""
    from .fileio import chosen_format
    from .report import render_table
    from .summary import parse_columns

    chosen = chosen_format(fmt, output, TableFormat)
    chosen_columns = parse_columns(columns) if columns is not None else None
    analysis = _analysis(spec, input_shape, warning_mode, dtype=dtype, flops=flop_mode)
    _emit(render_table(analysis, chosen, collapse, chosen_columns, lang, convention, notation), output)


@main.command()
@click.argument("spec", shell_complete=_complete_spec)
@_input_option
@_format_options(ComparisonFormat)
@_warnings_option
@_lang_option
def conventions(
    spec: str, input_shape: str | None, fmt: str | None, output: str | None, warning_mode: str, lang: Any
) -> None:
    """What each FLOP counter (torch, fvcore, ptflops, thop, torchinfo) reports for SPEC, per layer, and why."""
    from .conventions import render_comparison
    from .fileio import chosen_format

    chosen = chosen_format(fmt, output, ComparisonFormat)
    _emit(render_comparison(_analysis(spec, input_shape, warning_mode), chosen, lang), output)


@main.command()
@click.argument("spec", shell_complete=_complete_spec)
@click.argument("layers", nargs=-1, metavar="[LAYER]...")
@_input_option
@_format_options(ExplainFormat)
@_lang_option
def explain(
    spec: str, layers: tuple[str, ...], input_shape: str | None, fmt: str | None, output: str | None, lang: Any
) -> None:
    """Each stage of SPEC (or only the LAYERs named), as a teacher lays it out: input, kernel, stride,
    padding, output with its arithmetic, biases, parameters, MACs, receptive field, and notes."""
    from .explain import explain as explain_stages
    from .fileio import chosen_format

    chosen = chosen_format(fmt, output, ExplainFormat)
    _emit(explain_stages(_analysis(spec, input_shape), layers, chosen, lang), output)


@main.command()
@click.argument("spec", shell_complete=_complete_spec)
@click.argument("table_file", metavar="TABLE", type=click.Path(dir_okay=False, allow_dash=True))
@_input_option
@_format_options(GradeFormat, "Write the report to FILE (atomically) instead of stdout.")
@_lang_option
def grade(spec: str, table_file: str, input_shape: str | None, fmt: str | None, output: str | None, lang: Any) -> None:
    """Grade a hand-made layer TABLE (CSV, Markdown or text columns) against SPEC: each cell right or
    wrong, with the right value and the known mistakes that reproduce a wrong one (exit 1 if any)."""
    from .errors import GradeFailed
    from .fileio import chosen_format
    from .teaching.grade import grade as grade_table
    from .teaching.report import failure, render_grade

    chosen = chosen_format(fmt, output, GradeFormat)
    result = grade_table(_analysis(spec, input_shape), table_file)
    _emit(render_grade(result, chosen, lang), output)
    if not result.ok:
        raise GradeFailed(failure(result, lang))


@main.command(name="import")
@click.argument("source")
@_input_option
@click.option("-o", "--output", metavar="FILE", help="Write the spec to FILE (atomically) instead of stdout.")
@click.option(
    "--arg", "args", multiple=True, metavar="NAME=VALUE", help="PyTorch: a keyword argument of the class or factory."
)
def import_command(source: str, input_shape: str | None, output: str | None, args: tuple[str, ...]) -> None:
    """Read SOURCE into a spec and print its totals.

    SOURCE: a PyTorch FILE.py:NAME or package.module:NAME (a class or a factory function; importing
    it RUNS THAT CODE, as torch itself would), an .onnx file, a Keras .keras file or model JSON
    config, or a Caffe deploy .prototxt. Weights are never loaded.
    """
    from .engine import analyse
    from .importers import import_mapping, parse_args
    from .spec import from_mapping, parse_input_shape
    from .specwriter import spec_yaml
    from .summary import summary_lines

    shape = parse_input_shape(input_shape) if input_shape else None
    doc = import_mapping(source, shape, parse_args(args))
    analysis = analyse(from_mapping(doc, source))  # validated before anything is written
    _emit(spec_yaml(doc), output)
    lines = [f"{analysis.name}: {len(analysis.layers)} layers from {source}"]
    lines += [f"  {label}: {value}" for label, value in summary_lines(analysis)[:5]]
    click.echo("\n".join(lines), err=output is None)


@main.command(name="list")
def list_specs() -> None:
    """The bundled specs, one line each: name, input, parameters, description."""
    from .engine import analyse
    from .format import fmt_shape
    from .spec import bundled_names, load

    rows = []
    for name in bundled_names():
        network = load(name)
        total = analyse(network).totals.params
        rows.append((name, fmt_shape(network.input_shape), f"{total:,}", network.name))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        click.echo(f"{row[0]:<{widths[0]}}  {row[1]:>{widths[1]}}  {row[2]:>{widths[2]}} params  {row[3]}")


@main.command()
@click.option("-o", "--output", metavar="FILE", help="Write to FILE instead of stdout.")
def schema(output: str | None) -> None:
    """Print the JSON Schema of the spec format (for editors and other tools)."""
    from .schema import schema_text

    _emit(schema_text(), output)


def _scale_option(name: str, help_text: str) -> Any:
    from .figure3d.options import Scale

    return click.option(name, type=_choice(Scale), default=Scale.SQRT.value, show_default=True, help=help_text)


@main.command()
@click.argument("spec", shell_complete=_complete_spec)
@click.option(
    "--style",
    type=_choice(Style),
    default=Style.FIGURE.value,
    show_default=True,
    help="3d: the AlexNet-paper figure; graph: a graphviz graph of the layers.",
)
@click.option(
    "-f",
    "--format",
    "fmt",
    type=_choice(RenderFormat),
    help="Output format (default: from the -o extension, else svg). 3d: svg, pdf, png or tikz; graph: svg, png, pdf or dot "
    "(dot needs no graphviz).",
)
@click.option("-o", "--output", metavar="FILE", help="Write to FILE (atomically) instead of stdout.")
@_input_option
@click.option(
    "--legend/--no-legend",
    default=True,
    show_default=True,
    help="3d: the colour key (the size mappings are in the SVG's <desc>).",
)
@click.option(
    "--labels",
    default="names,ops,dims,streams",
    show_default=True,
    help="3d: which labels to show (comma list of names, ops, dims, streams).",
)
@click.option(
    "--width",
    default="17cm",
    show_default=True,
    metavar="LENGTH",
    help="3d: the printed width (cm, mm, in or pt: 17cm, 8.5cm); text stays ≥ 7 pt, lines ≥ 0.5 pt.",
)
@click.option("--expand", is_flag=True, help="3d: draw every layer, even where repeat blocks could be collapsed.")
@_notation_option
@_scale_option("--spatial-scale", "3d: mapping of height and width to pixels.")
@_scale_option("--channel-scale", "3d: mapping of channels (and FC units) to pixels.")
@click.option(
    "--color",
    "colors",
    multiple=True,
    metavar="ROLE=#RRGGBB",
    help="Colour of a role: " + ", ".join(Role) + " (repeatable).",
)
@click.option(
    "--direction",
    type=_choice(Direction),
    help="Flow of the drawing: left-right, right-left, top-bottom, bottom-top. "
    "3d: lr (default) or rl; graph: any (default tb).",
)
@click.option("--dpi", type=int, help="Resolution of a png (3d: default 300; graph: graphviz's 96).")
@click.option("--fold", is_flag=True, help="graph: draw activations (and other notes) inside their layer's node.")
@_warnings_option
@_lang_option
def render(
    spec: str, style: str, fmt: str | None, output: str | None, input_shape: str | None, legend: bool,
    labels: str, width: str, expand: bool, notation: str, spatial_scale: str, channel_scale: str, colors: tuple[str, ...],
    direction: str | None, warning_mode: str, dpi: int | None = None, fold: bool = False, lang: Any = None,
) -> None:  # fmt: skip
    """Draw SPEC: the 3D figure (SVG, PDF, PNG or TikZ) or the layer graph (SVG, PNG, PDF or DOT text)."""
    from .rendering import check_style_options, render_format
    from .rendering import render as draw

    chosen = render_format(fmt, output)
    check_style_options(Style(style), chosen, dpi, fold)
    analysis = _analysis(spec, input_shape, warning_mode)
    figure = None
    if Style(style) is Style.FIGURE:
        from .figure3d import FlowDirection, figure_options

        if direction is not None and direction not in list(FlowDirection):
            raise OptionError("the 3d figure runs lr or rl; tb and bt are for --style graph", option="--direction")
        figure = figure_options(
            spatial_scale, channel_scale, legend, labels, colors, direction or FlowDirection.LR, width, expand, lang,
            notation,
        )  # fmt: skip
    else:
        context = click.get_current_context()
        figure_only = [
            "/".join(param.opts + param.secondary_opts)
            for param in context.command.params
            if param.name
            in ("legend", "labels", "spatial_scale", "channel_scale", "colors", "width", "expand", "notation")
            and context.get_parameter_source(param.name) is click.core.ParameterSource.COMMANDLINE
        ]
        if figure_only:
            message = f"{', '.join(figure_only)} shape the 3d figure; --style graph does not take them"
            raise OptionError(message, option="--style")
    if output is None and chosen.binary:
        raise OptionError(f"--format {chosen} is binary: give -o FILE", option="--output")
    _emit(draw(analysis, style, chosen, direction, figure, dpi, fold), output)


@main.command()
@click.argument("spec", shell_complete=_complete_spec)
@click.option("-o", "--output", metavar="FILE", required=True, help="Output file: .png, .svg or .pdf.")
@_input_option
@click.option("--dtype", default="float32", show_default=True, type=_choice(DType), help="For the memory panel.")
@click.option("--dpi", type=int, help="Resolution of a png (default 150).")
@_warnings_option
@_lang_option
def chart(
    spec: str, output: str, input_shape: str | None, dtype: str, warning_mode: str, dpi: int | None = None,
    lang: Any = None,
) -> None:  # fmt: skip
    """Charts of SPEC: parameters, MACs and activation memory per layer (linear scales, values on the bars)."""
    from pathlib import Path

    from .charts import FORMATS, check_chart_options, render_chart

    fmt = Path(output).suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise OptionError(f"{output!r}: the extension must be one of {', '.join(FORMATS)}", option="--output")
    check_chart_options(fmt, dpi)
    _emit(render_chart(_analysis(spec, input_shape, warning_mode, dtype=dtype), fmt, dpi, lang), output)


_device_option = click.option(
    "--device",
    type=_choice(Device),
    default=Device.AUTO.value,
    show_default=True,
    help="auto takes CUDA when PyTorch sees a GPU.",
)
_dtype_option = click.option(
    "--dtype",
    "torch_dtype",
    type=_choice(TorchDType),
    default=TorchDType.FLOAT32.value,
    show_default=True,
    help="Element type of the weights and the input in PyTorch.",
)


@main.command()
@click.argument("spec", shell_complete=_complete_spec)
@_input_option
@click.option("-o", "--output", metavar="FILE", help="Write to FILE (atomically) instead of stdout.")
@_warnings_option
def codegen(spec: str, input_shape: str | None, output: str | None, warning_mode: str) -> None:
    """A self-contained PyTorch module for SPEC (imports only torch)."""
    from .codegen import generate

    _emit(generate(_analysis(spec, input_shape, warning_mode)).source, output)


@main.command()
@click.argument("spec", required=False, shell_complete=_complete_spec)
@click.option("--all", "check_all", is_flag=True, help="Check every bundled spec.")
@_input_option
@_device_option
@click.option("--batch", default=2, show_default=True, type=click.IntRange(1), help="Batch size of the test input.")
@_dtype_option
def check(
    spec: str | None, check_all: bool, input_shape: str | None, device: str, batch: int, torch_dtype: str
) -> None:
    """Prove SPEC's numbers in PyTorch: shapes, parameters and FLOPs of every layer (exit 1 on a mismatch)."""
    from .crosscheck import check as run_check
    from .crosscheck import format_report
    from .spec import bundled_names

    if check_all == (spec is not None):
        raise click.UsageError("give either SPEC or --all")
    names = bundled_names() if check_all else [spec]
    failed, unrunnable = [], []
    for index, name in enumerate(names, start=1):
        try:
            report = run_check(_network(name, input_shape), device=device, batch=batch, dtype=torch_dtype)
        except TorchRunError as error:
            if not check_all:
                raise
            click.echo(f"[{index}/{len(names)}] {name}: not run: {error}", err=True)
            unrunnable.append(name)
            continue
        if check_all:
            verdict = "OK" if report.ok else f"{report.mismatches} MISMATCH"
            _say(
                f"[{index}/{len(names)}] {name}: {len(report.layers)} layers, {report.checks} checks on "
                f"{report.device}: {verdict} ({report.seconds:.2f} s)\n",
                err=not report.ok,
            )
            if not report.ok:
                _say(format_report(report))
        else:
            _say(format_report(report))
        if not report.ok:
            failed.append(name)
    if failed:
        raise CheckFailed(f"the engine and PyTorch disagree on {', '.join(failed)}")
    if unrunnable:
        raise TorchRunError(f"PyTorch could not run {', '.join(unrunnable)} as asked; every other spec checked OK")


@main.command()
@click.argument("spec", shell_complete=_complete_spec)
@_input_option
@_device_option
@click.option("--batch", default=32, show_default=True, type=click.IntRange(1), help="Batch size of the timed input.")
@click.option("--steps", default=100, show_default=True, type=click.IntRange(1), help="Timed steps.")
@click.option("--warmup", default=10, show_default=True, type=click.IntRange(0), help="Burn-in steps, not timed.")
@click.option("--backward", is_flag=True, help="Also time forward+backward (an l2 loss on the output).")
@_dtype_option
def bench(
    spec: str,
    input_shape: str | None,
    device: str,
    batch: int,
    steps: int,
    warmup: int,
    backward: bool,
    torch_dtype: str,
) -> None:
    """Time SPEC's forward (and backward) pass in PyTorch: mean ± sd per batch and the FLOP/s achieved."""
    from .bench import bench as run_bench
    from .bench import format_bench

    progress = _bench_progress if sys.stderr.isatty() and not _quiet() else None
    report = run_bench(_network(spec, input_shape), device, batch, steps, warmup, backward, torch_dtype, progress)
    if progress is not None:
        click.echo("\r\033[K", nl=False, err=True)  # clear the progress line
    click.echo(format_bench(report), nl=False)


def _bench_progress(label: str, done: int, total: int, mean: float | None) -> None:
    """One line on the terminal, rewritten in place: steps done and the running mean."""
    running = f", mean {mean * 1000:.1f} ms" if mean is not None else ""
    click.echo(f"\r\033[K{label}: step {done + 1}/{total}{running}", nl=False, err=True)
