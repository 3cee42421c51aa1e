"""Counter conventions: each established FLOP counter's rules, checked against the counter itself.

The numbers archcalc gives for torchinfo, fvcore, ptflops, thop and torch's FlopCounterMode are
compared, layer by layer and in total, with what those counters report when they run the network
archcalc generates (the tests marked ``torch``; each skips when its counter is not installed).
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import subprocess
import sys
import warnings
from functools import cache
from typing import Any

import pytest
from click.testing import CliRunner

import archcalc
from archcalc.cli import main
from archcalc.conventions import RULES, Convention, count, count_all, count_layer, parse_convention, render_comparison
from archcalc.errors import OptionError
from archcalc.kinds import KINDS
from archcalc.kinds.base import OpClass

from .conftest import ROOT

# Every kind the counters can trace (crop's helper does not survive fvcore's tracer), each in a
# form that matters to some counter: bias or not, groups, a connection table, a transposed
# conv, asymmetric and SAME padding, identity adaptive pooling, affine or not, flat or map.
COUNTED_KINDS = """
name: counted kinds
input: {channels: 4, height: 12, width: 10}
layers:
  - {kind: conv, name: c_bias, out_channels: 6, kernel: 3, padding: 1}
  - {kind: conv, name: c_nobias, out_channels: 6, kernel: 3, padding: 1, bias: false}
  - {kind: conv, name: c_group, out_channels: 6, kernel: 3, padding: 1, groups: 2}
  - {kind: conv, name: c_conn, out_channels: 3, kernel: 1, connections: [[0, 5], [1, 2, 3], [4]], inputs: c_group}
  - {kind: conv, name: c_dw, out_channels: 6, kernel: 3, padding: 1, groups: depthwise, inputs: c_group}
  - {kind: concat, name: keep, inputs: [c_dw, c_conn]}
  - {kind: conv, name: c_pad, out_channels: 6, kernel: 3, padding: [0, 1, 1, 2]}
  - {kind: maxpool, name: mp_pad, kernel: 3, stride: 1, padding: [1, 0, 0, 1]}
  - {kind: avgpool, name: ap_pad, kernel: 3, stride: 1, padding: [1, 0, 0, 1]}
  - {kind: conv_transpose, name: ct, out_channels: 4, kernel: 2, stride: 2}
  - {kind: maxpool, name: mp, kernel: 2}
  - {kind: avgpool, name: ap, kernel: 3, stride: 1, padding: 1}
  - {kind: avgpool, name: ap_same, kernel: 2, stride: 1, padding: same}
  - {kind: adaptive_avgpool, name: aap, output_size: [3, 2]}
  - {kind: adaptive_avgpool, name: aap_id, output_size: [3, 2]}
  - {kind: upsample, name: up_n, scale: 2}
  - {kind: upsample, name: up_b, scale: 2, mode: bilinear}
  - {kind: adaptive_maxpool, name: amp, output_size: [3, 3]}
  - {kind: upsample, name: up_c, size: [12, 8], inputs: amp}
  - {kind: add, name: keep2, inputs: [up_b, up_c]}
  - {kind: subsample, name: sub}
  - {kind: global_maxpool, name: gmp}
  - {kind: multiply, name: keep3, inputs: [sub, gmp]}
  - {kind: zeropad, name: zp, padding: 1}
  - {kind: channel_shuffle, name: cs, groups: 2}
  - {kind: identity, name: idn}
  - {kind: lrn, name: lrn}
  - {kind: batchnorm, name: bn}
  - {kind: batchnorm, name: bn_na, affine: false}
  - {kind: layernorm, name: ln}
  - {kind: groupnorm, name: gn, groups: 2}
  - {kind: instancenorm, name: in_plain}
  - {kind: instancenorm, name: in_aff, affine: true, track_running_stats: true}
  - {kind: dropout, name: do}
  - {kind: dropout2d, name: do2}
  - {kind: relu, name: relu}
  - {kind: relu6, name: relu6}
  - {kind: leaky_relu, name: lrelu}
  - {kind: prelu, name: prelu}
  - {kind: prelu, name: prelu_c, per_channel: true}
  - {kind: elu, name: elu}
  - {kind: gelu, name: gelu}
  - {kind: gelu, name: gelu_t, approximate: tanh}
  - {kind: silu, name: silu}
  - {kind: hardswish, name: hsw}
  - {kind: hardsigmoid, name: hsig}
  - {kind: tanh, name: tanh}
  - {kind: sigmoid, name: sig}
  - {kind: scaled_tanh, name: stanh}
  - {kind: softmax, name: smax}
  - {kind: add, name: add2, inputs: [smax, stanh]}
  - {kind: add, name: add3, inputs: [smax, stanh, sig]}
  - {kind: multiply, name: mul2, inputs: [add3, sig]}
  - {kind: global_avgpool, name: se_pool}
  - {kind: multiply, name: mul_se, inputs: [mul2, se_pool]}
  - {kind: concat, name: cat, inputs: [mul_se, add2]}
  - {kind: flatten, name: fl}
  - {kind: linear, name: fc, out_features: 7}
  - {kind: linear, name: fc_nb, out_features: 5, bias: false}
  - {kind: layernorm, name: ln_flat}
  - {kind: batchnorm, name: bn_flat}
  - {kind: softmax, name: smax_flat}
  - {kind: rbf, name: rbf, out_features: 3}
"""


def alexnet() -> archcalc.Analysis:
    return archcalc.analyse(archcalc.load("alexnet"))


# --- the declarations --------------------------------------------------------------------------


def test_every_kind_declares_how_counters_see_it():
    undeclared = [name for name, kind in KINDS.items() if not isinstance(kind.counted_as, OpClass)]
    assert undeclared == []


def test_every_convention_has_a_rule_for_every_op_class():
    for convention, rules in RULES.items():
        assert set(rules) == set(OpClass), convention


def test_a_kind_without_a_class_is_shown_as_not_counted(monkeypatch):
    analysis = alexnet()
    monkeypatch.setattr(type(KINDS["lrn"]), "counted_as", None)
    found = count_layer(analysis["norm1"], Convention.PTFLOPS)
    assert (found.value, found.known) == (0, False)
    assert found.rule == "not counted by ptflops: no rule for kind 'lrn'"
    assert "not counted by thop: no rule for kind 'lrn'" in render_comparison(analysis)


def test_the_counted_kinds_spec_has_every_kind_but_crop():
    kinds = {layer.kind for layer in archcalc.parse(COUNTED_KINDS).layers}
    assert set(KINDS) - kinds == {"crop"}


# --- the rules, by hand ----------------------------------------------------------------------------


def test_alexnet_by_hand():
    a = alexnet()
    conv1, relu1, norm1, pool1, prob = (a[n] for n in ("conv1", "relu1", "norm1", "pool1", "prob"))
    # conv1: 96×55×55 outputs of 11×11×3 MACs; the bias is one add per output element (290,400)
    assert conv1.macs == 290_400 * 363
    assert count_layer(conv1, "torchinfo").value == 290_400 * 363 + 290_400
    assert count_layer(conv1, "ptflops").value == 290_400 * 363 + 290_400
    assert count_layer(conv1, "fvcore").value == count_layer(conv1, "thop").value == 290_400 * 363
    assert count_layer(conv1, "torch").value == 2 * 290_400 * 363
    # ptflops counts ReLU and pooling twice (module hook and functional): 2 per element of the input
    assert count_layer(relu1, "ptflops").value == 2 * 290_400
    assert count_layer(pool1, "ptflops").value == 2 * 290_400
    # LRN, size 5: x·x, ·α and +k on 290,400 elements, and avg_pool3d over (96 + 4)·55·55
    assert count_layer(norm1, "ptflops").value == 3 * 290_400 + 100 * 55 * 55
    # thop's softmax over 1,000 classes: 1,000 exp, 999 adds, 1,000 divides
    assert count_layer(prob, "thop").value == 2_999
    for convention in ("fvcore", "thop", "torchinfo", "ptflops-aten", "torch", "archcalc"):
        assert count_layer(relu1, convention).value == 0


def test_totals_relate_as_the_rules_say():
    a = alexnet()
    totals = {c.convention: c.total for c in count_all(a)}
    biases = 290_400 + 256 * 27 * 27 + 384 * 13 * 13 * 2 + 256 * 13 * 13 + 4096 * 2 + 1000
    assert totals[Convention.ARCHCALC] == totals[Convention.FVCORE] == a.totals.macs == 724_406_816
    assert totals[Convention.TORCH] == 2 * a.totals.macs
    assert totals[Convention.TORCHINFO] == totals[Convention.PTFLOPS_ATEN] == a.totals.macs + biases
    assert totals[Convention.THOP] == a.totals.macs + 2_999


def test_batchnorm_conventions():
    a = archcalc.analyse(archcalc.load("resnet18"))
    bn1 = a["bn1"]  # 64×112×112 after the stem
    elements = 64 * 112 * 112
    assert count_layer(bn1, "fvcore").value == 2 * elements
    assert count_layer(bn1, "ptflops").value == 2 * elements
    assert count_layer(bn1, "thop").value == 4 * elements
    assert count_layer(bn1, "torchinfo").value == 128  # its parameters γ and β, not per element
    assert count_layer(bn1, "torch").value == 0


def test_parse_convention_lists_the_choices():
    assert parse_convention("FVCORE") is Convention.FVCORE
    with pytest.raises(OptionError, match="allowed: archcalc, torch, fvcore, ptflops, ptflops-aten, thop, torchinfo"):
        parse_convention("flopco")


def test_python_api():
    counted = count(alexnet(), Convention.FVCORE)
    assert counted.total == 724_406_816
    assert counted.by_name()["conv1"] == 105_415_200
    assert counted.counts()["pool1"].rule == "skipped: max pooling is an unsupported op"


# --- the commands ------------------------------------------------------------------------------


def invoke(*args: str) -> Any:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result


def test_table_without_a_convention_is_unchanged():
    assert invoke("table", "alexnet").stdout == invoke("table", "alexnet", "--convention", "archcalc").stdout


def test_table_under_a_convention_text():
    out = invoke("table", "alexnet", "--convention", "fvcore", "--columns", "layer,macs").stdout
    lines = out.splitlines()
    assert lines[2].split() == ["Layer", "flops", "(fvcore)"]
    assert "conv1       105,415,200" in out
    assert "Total flops (fvcore):  724,406,816 (724.41 M; as fvcore's FlopCountAnalysis.total() counts" in out
    assert "archcalc MACs:" in out
    torchinfo = invoke("table", "alexnet", "--convention", "torchinfo").stdout
    assert "Total mult-adds (torchinfo): 725,066,088 (725.07 M; " in torchinfo
    chinese = invoke("table", "alexnet", "--convention", "fvcore", "--lang", "zh").stdout
    assert "flops (fvcore) 总数：" in chinese and "archcalc 的 MACs：" in chinese


def test_table_under_a_convention_collapsed_sums_the_block():
    out = invoke("table", "vgg11", "--convention", "ptflops", "--collapse", "--columns", "layer,macs").stdout
    a = archcalc.analyse(archcalc.load("vgg11"))
    ptflops = count(a, "ptflops")
    total_line = f"Total MACs (ptflops):  {ptflops.total:,}"
    assert total_line in out
    lines = out.splitlines()
    rows = [line.split() for line in lines[5 : lines.index("=" * len(lines[1]), 2)]]
    assert ["block3", "2,779,348,992"] in rows
    assert sum(int(row[-1].replace(",", "")) for row in rows) == ptflops.total


def test_table_under_a_convention_markdown_csv_json_html():
    md = invoke("table", "lenet5-mnist", "--convention", "thop", "-f", "markdown").stdout
    assert "| MACs (thop) |" in md and "- **Total MACs (thop):** 282,760" in md
    rows = invoke("table", "lenet5-mnist", "--convention", "thop", "-f", "csv").stdout.splitlines()
    assert rows[0].endswith(",counted,counted_rule")
    assert rows[3].startswith("pool1,avgpool,") and ",864,1 per output element" in rows[3]
    data = json.loads(invoke("table", "lenet5-mnist", "--convention", "thop", "-f", "json").stdout)
    assert (data["count_convention"], data["count_unit"], data["totals"]["counted"]) == ("thop", "MACs", 282_760)
    assert data["layers"][2]["counted"] == 864 and data["layers"][2]["macs"] == 0
    plain = json.loads(invoke("table", "lenet5-mnist", "-f", "json").stdout)
    assert "count_convention" not in plain and "counted" not in plain["layers"][0]
    html = invoke("table", "lenet5-mnist", "--convention", "thop", "-f", "html").stdout
    assert "Total MACs (thop)" in html and "282,760" in html


def test_a_wrong_convention_lists_the_choices():
    result = CliRunner().invoke(main, ["table", "alexnet", "--convention", "flopco"])
    assert result.exit_code == 2
    assert "'flopco' is not one of 'archcalc', 'torch', 'fvcore', 'ptflops', 'ptflops-aten', 'thop', 'torchinfo'" in (
        result.output
    )


def test_conventions_command(tmp_path):
    out = invoke("conventions", "alexnet").stdout
    lines = out.splitlines()
    assert lines[2].split() == ["Layer", "Kind", *(c.value for c in Convention)]
    assert lines[3].split() == ["MACs", "FLOPs", "flops", "MACs", "MACs", "MACs", "mult-adds"]
    assert (
        "Total             724,406,816  1,448,813,632  724,406,816  729,347,320   725,066,088  724,409,815  725,066,088"
        in out
    )
    assert "maxpool: skipped: max pooling is an unsupported op" in out
    md = invoke("conventions", "alexnet", "-f", "markdown").stdout
    assert "| conv1 | conv | 105,415,200 | 210,830,400 |" in md
    data = json.loads(invoke("conventions", "alexnet", "-f", "json").stdout)
    assert data["layers"][0]["counts"]["torchinfo"] == 105_705_600
    assert data["layers"][0]["counted_as"] == "weighted"
    assert {c["name"]: c["total"] for c in data["conventions"]}["thop"] == 724_409_815
    target = tmp_path / "alexnet.csv"
    invoke("conventions", "alexnet", "-o", str(target))
    assert target.read_text(encoding="utf-8").splitlines()[-1].startswith("total,,724406816,,1448813632,")


def test_readme_quotes_the_real_output():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quoted = re.search(r"<!-- conventions:alexnet -->\n```\n(.*?)```\n<!-- /conventions -->", readme, re.S)
    assert quoted is not None and quoted.group(1) == invoke("conventions", "alexnet").stdout
    example = re.search(
        r"\$ archcalc table alexnet --convention torchinfo --columns layer,kind,macs\n(.*?)```", readme, re.S
    )
    real = invoke("table", "alexnet", "--convention", "torchinfo", "--columns", "layer,kind,macs").stdout.splitlines()
    lines = [line for line in example.group(1).splitlines() if line != "..."]
    assert len(lines) == 8 and all(line in real for line in lines)
    chinese = re.search(r"\$ archcalc conventions alexnet --lang zh\n(.*?)```", readme, re.S).group(1)
    real = invoke("conventions", "alexnet", "--lang", "zh").stdout.splitlines()
    lines = [line for line in chinese.splitlines() if line != "..."]
    assert len(lines) == 5 and all(line in real for line in lines)


def test_table_with_a_convention_does_not_import_torch():
    code = (
        "import sys; from archcalc.cli import main\n"
        "try: main(['table', 'alexnet', '--convention', 'ptflops'])\n"
        "except SystemExit: pass\n"
        "assert 'torch' not in sys.modules, 'torch imported'"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_conventions_in_chinese_keeps_the_numbers():
    english = invoke("conventions", "alexnet").stdout.splitlines()
    chinese = invoke("conventions", "alexnet", "--lang", "zh").stdout.splitlines()
    assert chinese[0] == "AlexNet — 输入 3×227×227：各计数器报告的 MACs/FLOPs"
    assert chinese[2].split() == ["层", "类型", *(c.value for c in Convention)]
    # every number the same, in the same place (a CJK character takes two columns, 层 and 合计 as Layer and Total)
    assert chinese[4:30] == english[4:30]
    assert chinese[30].split()[1:] == english[30].split()[1:] and chinese[30].startswith("合计")
    assert "                  maxpool：跳过：最大池化是不支持的运算" in chinese
    assert "  torchinfo     torchinfo 的 summary() 报告的值（Total mult-adds）" in chinese
    md = invoke("conventions", "alexnet", "-f", "markdown", "--lang", "zh").stdout
    assert "| 层 | 类型 | archcalc (MACs) |" in md and "| **合计** | | **724,406,816** |" in md
    data = json.loads(invoke("conventions", "alexnet", "-f", "json", "--lang", "zh").stdout)
    assert data["layers"][0]["rules"]["fvcore"] == "MACs，不计偏置"
    assert data["layers"][0]["counts"]["thop"] == 105_415_200
    with_env = CliRunner().invoke(main, ["conventions", "alexnet"], env={"ARCHCALC_LANG": "zh"})
    assert with_env.stdout.splitlines() == chinese


def test_every_rule_has_its_chinese():
    from archcalc.conventions import RULES_ZH, Convention, rule_text
    from archcalc.i18n import Lang

    analyses = [archcalc.analyse(archcalc.parse(COUNTED_KINDS)), alexnet(), archcalc.analyse(archcalc.load("lenet5"))]
    rules = {item.count.rule for a in analyses for c in count_all(a) for item in c.layers}
    assert len(rules) > 40
    untranslated = sorted(rule for rule in rules if rule_text(rule, Lang.ZH) == rule)
    assert not untranslated
    assert all(c.source in RULES_ZH for c in Convention)
    assert not set(RULES_ZH) - rules - {c.source for c in Convention}, "a translation no rule uses"


def test_no_rule_in_chinese(monkeypatch):
    from archcalc.conventions import rule_text
    from archcalc.i18n import Lang

    monkeypatch.setattr(KINDS["relu"], "counted_as", None)
    rule = count_layer(alexnet()["relu1"], "thop").rule
    assert rule == "not counted by thop: no rule for kind 'relu'"
    assert rule_text(rule, Lang.ZH) == "thop 不计：没有 'relu' 类型的规则"


def test_html_page_counts_as_the_counter():
    html = invoke("table", "lenet5-mnist", "--convention", "thop", "-f", "html").stdout
    header = re.search(r"<thead>(.*?)</thead>", html, re.S).group(1)
    titles = re.findall(r">([^<>]+)</th>", header)
    assert titles[5:8] == ["Non-trainable", "MACs (thop)", "archcalc MACs"] and "FLOPs" not in titles
    # pool1 (average pooling of 6×28×28 by 2): thop counts 1 per output element, 6×14×14 = 864
    pool1 = re.search(r"<tr>\s*<td class=\"num\" data-v=\"3\">3</td>.*?</tr>", html, re.S).group(0)
    numbers = re.findall(r'<td class="num" data-v="(\d+)">', pool1)
    assert numbers[3:5] == ["864", "0"]
    totals = re.findall(r'<th class="num">([\d,]+)</th>', re.search(r"<tfoot>(.*?)</tfoot>", html, re.S).group(1))
    assert totals[2:4] == ["282,760", f"{archcalc.analyse(archcalc.load('lenet5-mnist')).totals.macs:,}"]
    chinese = invoke("table", "lenet5-mnist", "--convention", "fvcore", "-f", "html", "--lang", "zh").stdout
    assert '<th data-type="num" class="num">flops (fvcore)</th>' in chinese and "archcalc 的 MACs</th>" in chinese
    plain = invoke("table", "lenet5-mnist", "-f", "html").stdout
    assert '<th data-type="num" class="num">MACs</th>\n<th data-type="num" class="num">FLOPs</th>' in plain


# --- against the counters themselves -------------------------------------------------------------

NETS = ("alexnet", "lenet5-mnist", "lenet5", "resnet18", "mobilenet_v2", "counted kinds")


@cache
def built(name: str) -> Any:
    from archcalc.torchrun import build

    spec = archcalc.parse(COUNTED_KINDS) if name == "counted kinds" else archcalc.load(name)
    made = build(spec, "cpu", "float32", batch=1, initialise=False)
    made.model.eval()
    return made


def modules(made: Any) -> dict[str, Any]:
    return {name: getattr(made.model, attribute) for name, attribute in made.attributes.items()}


def fvcore_counts(made: Any) -> tuple[int, dict[str, int]]:
    from fvcore.nn import FlopCountAnalysis

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        analysis = FlopCountAnalysis(made.model, made.inputs)
        analysis.unsupported_ops_warnings(False)
        analysis.uncalled_modules_warnings(False)
        by_module = analysis.by_module()
        total = analysis.total()
    return total, {name: by_module.get(attribute, 0) for name, attribute in made.attributes.items()}


def torchinfo_counts(made: Any) -> tuple[int, dict[str, int]]:
    from torchinfo import summary

    stats = summary(made.model, input_data=made.inputs, verbose=0, device="cpu")
    leaves: dict[int, int] = {}
    for info in stats.summary_list:
        if info.is_leaf_layer:
            leaves[id(info.module)] = leaves.get(id(info.module), 0) + info.macs
    per = {name: sum(leaves.get(id(m), 0) for m in module.modules()) for name, module in modules(made).items()}
    return stats.total_mult_adds, per


def thop_counts(made: Any) -> tuple[int, dict[str, int]]:
    from thop import profile

    with contextlib.redirect_stdout(io.StringIO()):
        total, _, layers = profile(made.model, inputs=(made.inputs,), verbose=False, ret_layer_info=True)
    return int(total), {name: int(layers[attribute][0]) for name, attribute in made.attributes.items()}


def ptflops_total(made: Any, backend: str) -> int:
    from ptflops import get_model_complexity_info

    shape = tuple(made.inputs.shape[1:])
    with contextlib.redirect_stdout(io.StringIO()):
        total, _ = get_model_complexity_info(
            made.model, shape, as_strings=False, print_per_layer_stat=False, backend=backend
        )
    return int(total)


def ptflops_counts(made: Any) -> tuple[int, dict[str, int]]:
    """The default backend's returned total, and per layer its module hook plus the patched functionals
    the layer called while it ran (what the total adds to ptflops' own per-layer table)."""
    import torch
    from ptflops import pytorch_engine as engine

    model = engine.add_flops_counting_methods(made.model)
    model.start_flops_count(ost=io.StringIO(), verbose=False, ignore_list=[])
    functional: list[int] = []
    tensor_ops: list[int] = []
    engine.patch_functional(functional)
    engine.patch_tensor_ops(tensor_ops)
    spans: dict[str, list[int]] = {}
    hooks = []
    for name, module in modules(made).items():

        def before(_m: Any, _i: Any, name: str = name) -> None:
            spans[name] = [len(functional), len(tensor_ops)]

        def after(_m: Any, _i: Any, _o: Any, name: str = name) -> None:
            spans[name] += [len(functional), len(tensor_ops)]

        hooks += [module.register_forward_pre_hook(before), module.register_forward_hook(after)]
    try:
        with torch.no_grad():
            model(torch.ones_like(made.inputs))
        total = model.compute_average_flops_cost()[0] + sum(functional) + sum(tensor_ops)
        per = {}
        for name, module in modules(made).items():
            f0, t0, f1, t1 = spans[name]
            hooked = sum(int(m.__flops__) for m in module.modules() if engine.is_supported_instance(m))
            per[name] = hooked + int(sum(functional[f0:f1])) + int(sum(tensor_ops[t0:t1]))
    finally:
        for hook in hooks:
            hook.remove()
        model.stop_flops_count()
        engine.unpatch_functional()
        engine.unpatch_tensor_ops()
    return int(total), per


def torch_counts(made: Any) -> tuple[int, dict[str, int]]:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        made.model(made.inputs)
    counts = counter.get_flop_counts()
    prefix = made.generated.class_name
    per = {name: sum(counts.get(f"{prefix}.{attribute}", {}).values()) for name, attribute in made.attributes.items()}
    return counter.get_total_flops(), per


COUNTERS = {
    Convention.FVCORE: ("fvcore", fvcore_counts),
    Convention.TORCHINFO: ("torchinfo", torchinfo_counts),
    Convention.THOP: ("thop", thop_counts),
    Convention.PTFLOPS: ("ptflops", ptflops_counts),
    Convention.TORCH: ("torch", torch_counts),
}


@pytest.mark.torch
@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore:This API is being deprecated")
@pytest.mark.parametrize("name", NETS)
@pytest.mark.parametrize("convention", list(COUNTERS), ids=str)
def test_each_layer_as_the_counter_counts_it(convention: Convention, name: str):
    package, measure = COUNTERS[convention]
    pytest.importorskip("torch")
    pytest.importorskip(package)
    made = built(name)
    total, per_layer = measure(made)
    counted = count(made.analysis, convention)
    wrong = {layer: (mine, per_layer[layer]) for layer, mine in counted.by_name().items() if mine != per_layer[layer]}
    assert wrong == {}, f"{convention} on {name}: archcalc, counter"
    assert counted.total == total


@pytest.mark.torch
@pytest.mark.parametrize("name", NETS)
@pytest.mark.parametrize("backend", ["pytorch", "aten"])
def test_ptflops_returned_total(backend: str, name: str):
    pytest.importorskip("torch")
    pytest.importorskip("ptflops")
    convention = Convention.PTFLOPS if backend == "pytorch" else Convention.PTFLOPS_ATEN
    assert count(built(name).analysis, convention).total == ptflops_total(built(name), backend)
