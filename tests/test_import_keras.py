"""The Keras importer against independent figures: the seeds' printed summaries, keras' own
count_params() and output shapes, hand arithmetic for Keras 2 configs; and hostile files refused in one line."""

from __future__ import annotations

import copy
import json
import math
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import archcalc
from archcalc.cli import main
from archcalc.errors import ImportFailure
from archcalc.importers import import_spec

DATA = Path(__file__).parent / "import_data" / "keras"
# keras (on torch) warns from its own weight saving under NumPy 2; nothing of archcalc's
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning"
)

# Seed 000's model.summary() as printed: (layer, output shape (channels last), parameters)
SEED_000 = [
    ("conv2d", (57, 57, 96), 34944),
    ("max_pooling2d", (28, 28, 96), 0),
    ("batch_normalization", (28, 28, 96), 384),
    ("conv2d_1", (28, 28, 256), 614656),
    ("max_pooling2d_1", (13, 13, 256), 0),
    ("batch_normalization_1", (13, 13, 256), 1024),
    ("conv2d_2", (13, 13, 384), 885120),
    ("conv2d_3", (13, 13, 384), 1327488),
    ("conv2d_4", (13, 13, 256), 884992),
    ("max_pooling2d_2", (6, 6, 256), 0),
    ("flatten", (9216,), 0),
    ("dense", (4096,), 37752832),
    ("dropout", (4096,), 0),
    ("dense_1", (4096,), 16781312),
    ("dropout_1", (4096,), 0),
    ("dense_2", (10,), 40970),
]
# Seed 002's AlexNet.summary() as printed
SEED_002 = [
    ("conv2d", (55, 55, 64), 23296),
    ("max_pooling2d", (27, 27, 64), 0),
    ("conv2d_1", (27, 27, 192), 307392),
    ("max_pooling2d_1", (13, 13, 192), 0),
    ("conv2d_2", (13, 13, 384), 663936),
    ("conv2d_3", (13, 13, 256), 884992),
    ("conv2d_4", (13, 13, 256), 590080),
    ("max_pooling2d_2", (6, 6, 256), 0),
    ("flatten", (9216,), 0),
    ("dropout", (9216,), 0),
    ("dense", (4096,), 37752832),
    ("dropout_1", (4096,), 0),
    ("dense_1", (4096,), 16781312),
    ("dropout_2", (4096,), 0),
    ("dense_2", (1000,), 4097000),
]
SEEDS = {
    "alexnet_keras_bn": (SEED_000, 58_323_722, 704),
    "alexnet_tf2": (SEED_002, 61_100_840, 0),
}


def chw(shape: tuple[Any, ...], channels_first: bool = False) -> tuple[int, ...]:
    """A Keras output shape without the batch, as archcalc's [C, H, W] (or [N])."""
    dims = tuple(int(v) for v in shape[1:])
    if len(dims) == 3 and not channels_first:
        return dims[2], dims[0], dims[1]
    return dims


def group(result: archcalc.Analysis, keras_name: str) -> list[Any]:
    """The spec layers one Keras layer became: its own name, and `name/...` (a fused activation, the
    two halves of a separable convolution, a nested model's layers)."""
    return [r for r in result.layers if r.name == keras_name or r.name.startswith(keras_name + "/")]


def assert_summary(result: archcalc.Analysis, rows: list[tuple[str, tuple[int, ...], int]]) -> None:
    for name, shape, params in rows:
        layers = group(result, name)
        assert layers, name
        assert (name, layers[-1].output_shape, sum(r.params for r in layers)) == (name, chw((None, *shape)), params)


# ---------------------------------------------------------------------------------------------------
# the seeds, from the committed configs (no keras needed)


@pytest.mark.parametrize("seed", sorted(SEEDS))
def test_the_committed_seed_configs_reproduce_the_published_summaries(seed: str):
    rows, total, frozen = SEEDS[seed]
    result = archcalc.analyse(import_spec(str(DATA / f"{seed}.json")))
    assert (result.totals.params, result.totals.non_trainable_params) == (total, frozen)
    assert_summary(result, rows)


@pytest.mark.parametrize(
    ("seed", "bundled"), [("alexnet_keras_bn", "alexnet-keras-bn"), ("alexnet_tf2", "alexnet-tf2")]
)
def test_the_imported_seeds_are_the_bundled_specs_layer_for_layer(seed: str, bundled: str):
    imported = archcalc.analyse(import_spec(str(DATA / f"{seed}.json")))
    written = archcalc.analyse(archcalc.load(bundled))
    facts = [[(r.kind, r.output_shape, r.params, r.macs) for r in result.layers] for result in (imported, written)]
    assert facts[0] == facts[1]


def test_seed_000_map_sizes_are_the_posts():
    result = archcalc.analyse(import_spec(str(DATA / "alexnet_keras_bn.json")))
    maps = [r.output_shape[1] for r in result.layers if len(r.output_shape) == 3 and "/" not in r.name]
    assert maps == [57, 28, 28, 28, 13, 13, 13, 13, 13, 6]  # conv, pool, bn, conv, pool, bn, conv ×3, pool


def test_a_keras_2_config_of_seed_000_gives_the_same_summary():
    result = archcalc.analyse(import_spec(str(DATA / "keras2_alexnet_keras_bn.json")))
    assert (result.totals.params, result.totals.non_trainable_params) == (58_323_722, 704)
    assert_summary(result, SEED_000)


def test_a_keras_2_sequential_without_an_input_layer_reads_batch_input_shape(tmp_path: Path):
    doc = json.loads((DATA / "keras2_alexnet_keras_bn.json").read_text())
    doc["config"]["layers"].pop(0)  # Keras ≤ 2.3: the first layer carries batch_input_shape
    path = tmp_path / "old.json"
    path.write_text(json.dumps(doc))
    assert archcalc.analyse(import_spec(str(path))).totals.params == 58_323_722


def test_a_keras_2_functional_config_with_branches_and_a_nested_model():
    spec = import_spec(str(DATA / "keras2_branches.json"))
    result = archcalc.analyse(spec)
    # by hand: stem 3·3·3·16 + 16, 1×1 16·8 + 8, 3×3 9·16·8 + 8, tower 9·16·32 + 32, its BN 4·32, dense 32·10 + 10
    assert result.totals.params == 448 + 136 + 1160 + 4640 + 128 + 330
    assert result.totals.non_trainable_params == 2 * 32
    assert result["concatenate"].inputs == ("branch_1x1", "branch_3x3")
    assert result["concatenate"].output_shape == (16, 32, 32)
    assert result["add"].inputs == ("concatenate", "stem/relu")
    assert result["tower/tower_conv"].output_shape == (32, 16, 16)  # SAME, stride 2: ⌈32/2⌉
    assert result["tower/tower_relu"].kind == "relu6"  # ReLU(max_value=6.0)
    assert result["global_average_pooling2d"].inputs == ("tower/tower_relu",)  # read through node index 1
    assert result["predictions"].output_shape == (10,)


def test_keras_2_hard_sigmoid_is_not_pytorchs(tmp_path: Path):
    doc = json.loads((DATA / "keras2_branches.json").read_text())
    doc["config"]["layers"][1]["config"]["activation"] = "hard_sigmoid"
    path = tmp_path / "k2.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(ImportFailure, match=r"layer 'stem' \(Conv2D\): Keras 2's hard_sigmoid cannot be represented"):
        import_spec(str(path))


def test_a_keras_archive_is_read_from_config_json_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = tmp_path / "model.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("metadata.json", '{"keras_version": "3.15.1"}')
        archive.writestr("config.json", (DATA / "alexnet_tf2.json").read_text())
        archive.writestr("model.weights.h5", b"not HDF5 at all")
    opened: list[str] = []
    real_open = zipfile.ZipFile.open
    monkeypatch.setattr(
        zipfile.ZipFile,
        "open",
        lambda self, name, *a, **k: opened.append(getattr(name, "filename", name)) or real_open(self, name, *a, **k),
    )
    assert archcalc.analyse(import_spec(str(path))).totals.params == 61_100_840
    assert opened == ["config.json"]


def test_the_readme_shows_the_real_import_of_tiny_keras(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A committed 48 kB .keras; its Keras model.summary(): 1,130 parameters, 1,066 trainable, 64 not."""
    section = (Path(__file__).parent.parent / "README.md").read_text().split("\n### Keras\n", 1)[1]
    shown, yaml_text = re.search(r"```\n(.*?)```", section, re.S).group(1).split("$ cat tiny.yaml\n")
    monkeypatch.chdir(tmp_path)
    shutil.copy(DATA / "tiny_mobilenet.keras", "tiny.keras")
    result = CliRunner().invoke(main, ["import", "tiny.keras", "-o", "tiny.yaml"])
    assert shown == "$ archcalc import tiny.keras -o tiny.yaml\n" + result.stderr + result.stdout
    assert yaml_text == Path("tiny.yaml").read_text()
    totals = archcalc.analyse(archcalc.load("tiny.yaml")).totals
    assert (totals.params, totals.trainable_params, totals.non_trainable_params) == (1130, 1066, 64)


def test_reading_a_model_imports_neither_keras_nor_tensorflow_nor_h5py():
    code = (
        "import sys; from archcalc.importers import import_spec; "
        f"import_spec({str(DATA / 'alexnet_keras_bn.json')!r}); "
        "print(sorted({'keras', 'tensorflow', 'h5py', 'torch'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_yaml_it_writes_reads_back_to_the_same_network(tmp_path: Path):
    target = tmp_path / "net.yaml"
    result = CliRunner().invoke(main, ["import", str(DATA / "keras2_branches.json"), "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert "Total params: 6,842" in result.stdout
    again = archcalc.analyse(archcalc.load(target))
    assert again.totals.params == 6842
    assert archcalc.load(target).source == str(DATA / "keras2_branches.json")


# ---------------------------------------------------------------------------------------------------
# against keras itself


@pytest.fixture(scope="module")
def keras() -> Any:
    os.environ["KERAS_BACKEND"] = "torch"  # before keras is imported: the only backend installed here
    return pytest.importorskip("keras")


def weights(variables: list[Any]) -> int:
    return sum(math.prod(v.shape) for v in variables)


def assert_matches_keras(model: Any, tmp_path: Path, keras: Any, channels_first: bool = False) -> archcalc.Analysis:
    """Saved as .keras and as JSON, imported: keras' own parameter counts and every layer's shape."""
    archive, text = tmp_path / f"{model.name}.keras", tmp_path / f"{model.name}.json"
    model.save(archive)
    text.write_text(model.to_json())
    results = [archcalc.analyse(import_spec(str(source))) for source in (archive, text)]
    for result in results:
        assert result.totals.params == model.count_params()
        assert result.totals.trainable_params == weights(model.trainable_weights)
        assert result.totals.non_trainable_params == weights(model.non_trainable_weights)
        for layer in model.layers:
            if isinstance(layer, keras.layers.InputLayer):
                continue
            layers = group(result, layer.name)
            assert layers, layer.name
            assert layers[-1].output_shape == chw(tuple(layer.output.shape), channels_first), layer.name
            assert sum(r.params for r in layers) == layer.count_params(), layer.name
    return results[0]


def alexnet_keras_bn() -> Any:
    """Seed 000 exactly as the post writes it."""
    from keras.layers import BatchNormalization, Conv2D, Dense, Dropout, Flatten, MaxPooling2D
    from keras.models import Sequential

    model = Sequential()
    model.add(Conv2D(96, (11, 11), strides=(4, 4), input_shape=(227, 227, 3), padding='same', activation='relu', kernel_initializer='uniform'))  # fmt: skip
    model.add(MaxPooling2D(pool_size=(3, 3), strides=(2, 2)))
    model.add(BatchNormalization())
    model.add(Conv2D(256, (5, 5), strides=(1, 1), padding='same', activation='relu', kernel_initializer='uniform'))  # fmt: skip
    model.add(MaxPooling2D(pool_size=(3, 3), strides=(2, 2)))
    model.add(BatchNormalization())
    model.add(Conv2D(384, (3, 3), strides=(1, 1), padding='same', activation='relu', kernel_initializer='uniform'))  # fmt: skip
    model.add(Conv2D(384, (3, 3), strides=(1, 1), padding='same', activation='relu', kernel_initializer='uniform'))  # fmt: skip
    model.add(Conv2D(256, (3, 3), strides=(1, 1), padding='same', activation='relu', kernel_initializer='uniform'))  # fmt: skip
    model.add(MaxPooling2D(pool_size=(3, 3), strides=(2, 2)))
    model.add(Flatten())
    model.add(Dense(4096, activation="relu"))
    model.add(Dropout(0.5))
    model.add(Dense(4096, activation="relu"))
    model.add(Dropout(0.5))
    model.add(Dense(10, activation="softmax"))
    return model


def alexnet_tf2() -> Any:
    """Seed 002 exactly as the post writes it (its tensorflow.keras imports as keras')."""
    from keras.layers import Convolution2D, Dense, Dropout, Flatten, MaxPooling2D
    from keras.models import Sequential

    return Sequential([
        Convolution2D(filters=64, kernel_size=11, strides=4, activation='relu',input_shape=(227,227,3)),
        MaxPooling2D(pool_size=3, strides=2),
        Convolution2D(filters=192, kernel_size=5, strides=1, padding='same', activation='relu'),
        MaxPooling2D(pool_size=3, strides=2),
        Convolution2D(filters=384, kernel_size=3, strides=1, padding='same', activation='relu'),
        Convolution2D(filters=256, kernel_size=3, strides=1, padding='same', activation='relu'),
        Convolution2D(filters=256, kernel_size=3, strides=1, padding='same', activation='relu'),
        MaxPooling2D(pool_size=3, strides=2),
        Flatten(),
        Dropout(0.5),
        Dense(units=4096, activation='relu'),
        Dropout(0.5),
        Dense(units=4096, activation='relu'),
        Dropout(0.5),
        Dense(units=1000, activation='softmax')
    ])  # fmt: skip


@pytest.mark.filterwarnings("ignore:Do not pass an `input_shape`")
@pytest.mark.parametrize("seed", sorted(SEEDS))
def test_the_seeds_rebuilt_in_keras_give_the_published_and_keras_own_figures(seed: str, tmp_path: Path, keras: Any):
    keras.backend.clear_session()  # the posts' layer names: conv2d, conv2d_1, ...
    model = {"alexnet_keras_bn": alexnet_keras_bn, "alexnet_tf2": alexnet_tf2}[seed]()
    rows, total, frozen = SEEDS[seed]
    assert model.count_params() == total  # keras agrees with the post
    result = assert_matches_keras(model, tmp_path, keras)
    assert (result.totals.params, result.totals.non_trainable_params) == (total, frozen)
    assert_summary(result, rows)


def test_a_functional_model_with_branches(tmp_path: Path, keras: Any):
    layers = keras.layers
    image = keras.Input((33, 31, 3), name="image")
    stem = layers.Conv2D(16, 3, padding="same", activation="relu", name="stem")(image)
    a = layers.Conv2D(8, 1, name="tower_a")(stem)
    b = layers.Conv2D(8, (5, 3), padding="same", use_bias=False, name="tower_b")(stem)
    merged = layers.Concatenate(name="merged")([a, b])
    residual = layers.Add(name="residual")([merged, stem])
    pooled = layers.MaxPooling2D(name="pool")(residual)
    out = layers.Dense(10, name="logits")(layers.Flatten(name="flat")(pooled))
    result = assert_matches_keras(keras.Model(image, out, name="branches"), tmp_path, keras)
    assert result["merged"].inputs == ("tower_a", "tower_b")
    assert result["residual"].inputs == ("merged", "stem/relu")


def test_depthwise_and_separable_convolutions(tmp_path: Path, keras: Any):
    layers = keras.layers
    model = keras.Sequential(
        [
            keras.Input((15, 15, 6)),
            layers.DepthwiseConv2D(3, depth_multiplier=2, strides=2, padding="same", name="dw"),
            layers.BatchNormalization(name="bn"),
            layers.ReLU(max_value=6, name="relu6"),
            layers.DepthwiseConv2D(3, use_bias=False, dilation_rate=2, name="dw_dilated"),
            layers.SeparableConv2D(20, 3, depth_multiplier=3, padding="same", activation="relu", name="sep"),
        ],
        name="depthwise",
    )
    result = assert_matches_keras(model, tmp_path, keras)
    assert result["dw"].output_shape == (12, 8, 8)  # ⌈15/2⌉ = 8, 6 channels × 2
    assert result["sep/depthwise"].output_shape == (36, 4, 4) and result["sep/pointwise"].output_shape == (20, 4, 4)


def test_same_padding_with_stride_2_on_odd_sizes(tmp_path: Path, keras: Any):
    layers = keras.layers
    model = keras.Sequential(
        [
            keras.Input((15, 17, 3)),
            layers.Conv2D(8, 3, strides=2, padding="same", name="conv"),  # ⌈15/2⌉ × ⌈17/2⌉ = 8 × 9
            layers.Conv2D(8, 4, strides=2, padding="same", name="even_kernel"),  # 4 × 5
            layers.MaxPooling2D(3, strides=2, padding="same", name="max"),  # 2 × 3
            layers.AveragePooling2D(2, padding="same", name="avg"),  # 1 × 2
        ],
        name="same",
    )
    result = assert_matches_keras(model, tmp_path, keras)
    assert [result[n].output_shape[1:] for n in ("conv", "even_kernel", "max", "avg")] == [
        (8, 9),
        (4, 5),
        (2, 3),
        (1, 2),
    ]


def test_transposed_convolutions_and_resampling(tmp_path: Path, keras: Any):
    layers = keras.layers
    model = keras.Sequential(
        [
            keras.Input((9, 7, 4)),
            layers.Conv2DTranspose(8, 3, strides=2, padding="same", name="t_same_odd"),
            layers.Conv2DTranspose(8, 4, strides=2, padding="same", name="t_same_even"),
            layers.Conv2DTranspose(6, 3, strides=2, name="t_valid"),
            layers.Conv2DTranspose(6, 1, strides=3, name="t_small_kernel"),
            layers.Conv2DTranspose(4, 3, strides=2, padding="same", output_padding=1, name="t_output_padding"),
            layers.ZeroPadding2D(((1, 2), (3, 0)), name="pad"),
            layers.UpSampling2D((2, 3), name="up"),
            layers.UpSampling2D(2, interpolation="bilinear", name="up_bilinear"),
            layers.MaxPooling2D(4, name="pool"),
            layers.GlobalMaxPooling2D(keepdims=True, name="gmp"),
        ],
        name="resampling",
    )
    assert_matches_keras(model, tmp_path, keras)


def test_nested_models_are_inlined_under_their_names(tmp_path: Path, keras: Any):
    layers = keras.layers
    block = keras.Sequential([keras.Input((16, 16, 8)), layers.Conv2D(8, 3, padding="same", name="conv"),
                              layers.BatchNormalization(name="bn")], name="block")  # fmt: skip
    inner_in = keras.Input((16, 16, 8), name="inner_in")
    inner_out = layers.Add(name="sum")([block(inner_in), inner_in])
    residual = keras.Model(inner_in, inner_out, name="residual")
    image = keras.Input((16, 16, 3), name="image")
    x = layers.Conv2D(8, 1, name="stem")(image)
    x = residual(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    model = keras.Model(image, layers.Dense(5, name="head")(x), name="outer")
    result = assert_matches_keras(model, tmp_path, keras)
    assert result["residual/sum"].inputs == ("residual/block/bn", "stem")


def test_a_sequential_whose_first_layer_is_a_model(tmp_path: Path, keras: Any):
    layers = keras.layers
    image = keras.Input((20, 20, 3), name="image")
    features = keras.Model(image, layers.Conv2D(6, 5, strides=3, name="conv")(image), name="features")
    model = keras.Sequential([features, layers.Flatten(name="flat"), layers.Dense(3, name="head")], name="outer")
    result = assert_matches_keras(model, tmp_path, keras)
    assert result.spec.input_shape == (3, 20, 20) and result["features/conv"].output_shape == (6, 6, 6)


def test_activations_norms_and_plumbing(tmp_path: Path, keras: Any):
    layers = keras.layers
    image = keras.Input((12, 12, 4), name="image")
    x = layers.Rescaling(1 / 255, name="rescale")(image)
    x = layers.Normalization(mean=[0.5] * 4, variance=[0.25] * 4, name="normalize")(x)
    x = layers.Conv2D(16, 3, activation="gelu", name="c_gelu")(x)
    x = layers.LayerNormalization(name="ln")(x)
    x = layers.Conv2D(16, 1, activation="swish", name="c_swish")(x)
    x = layers.GroupNormalization(groups=4, name="gn")(x)
    x = layers.PReLU(shared_axes=[1, 2], name="prelu")(x)
    x = layers.LeakyReLU(name="leaky")(x)
    x = layers.ELU(alpha=0.5, name="elu")(x)
    x = layers.Activation("hard_swish", name="hswish")(x)
    x = layers.SpatialDropout2D(0.1, name="sdrop")(x)
    se = layers.GlobalAveragePooling2D(name="squeeze")(x)
    se = layers.Reshape((1, 1, 16), name="se_reshape")(se)
    se = layers.Conv2D(16, 1, activation="hard_sigmoid", name="excite")(se)
    x = layers.Multiply(name="scale")([x, se])
    x = layers.Softmax(name="softmax")(x)
    x = layers.Permute((1, 2, 3), name="same_order")(x)
    x = layers.Reshape((-1,), name="flat")(x)
    x = layers.Dense(8, activation="leaky_relu", name="dense")(x)
    x = layers.PReLU(name="prelu_flat")(x)
    x = layers.Activation("linear", name="linear")(x)
    model = keras.Model(image, x, name="zoo")
    result = assert_matches_keras(model, tmp_path, keras)
    assert result["se_reshape"].inputs == ("squeeze",) and result["se_reshape"].kind == "identity"
    assert [result[n].kind for n in ("rescale", "normalize", "linear")] == ["identity"] * 3
    assert result["c_gelu/gelu"].kind == "gelu" and result["excite/hardsigmoid"].kind == "hardsigmoid"


def test_channels_first(tmp_path: Path, keras: Any):
    layers = keras.layers
    image = keras.Input((3, 20, 14), name="image")
    x = layers.Conv2D(8, 3, strides=2, padding="same", data_format="channels_first", name="conv")(image)
    x = layers.BatchNormalization(axis=1, name="bn")(x)
    y = layers.MaxPooling2D(2, data_format="channels_first", name="pool")(x)
    z = layers.AveragePooling2D(2, data_format="channels_first", name="avg")(x)
    x = layers.Concatenate(axis=1, name="cat")([y, z])
    x = layers.GlobalAveragePooling2D(data_format="channels_first", name="gap")(x)
    model = keras.Model(image, x, name="first")
    result = assert_matches_keras(model, tmp_path, keras, channels_first=True)
    assert result["conv"].output_shape == (8, 10, 7)


def test_an_input_of_unknown_size_takes_input(tmp_path: Path, keras: Any):
    model = keras.Sequential([keras.Input((None, None, 3)), keras.layers.Conv2D(4, 3)], name="any_size")
    path = tmp_path / "any.keras"
    model.save(path)
    with pytest.raises(
        ImportFailure, match=r"the model's input is \(None, None, None, 3\): give its size with --input"
    ):
        import_spec(str(path))
    result = CliRunner().invoke(main, ["table", str(path), "--input", "3x10x12"])
    assert result.exit_code == 0, result.output
    assert "4×8×10" in result.stdout


# ---------------------------------------------------------------------------------------------------
# what cannot be represented: a clear no, naming the layer


def config(*layers: tuple[str, dict[str, Any]], shape: list[Any] | None = None) -> dict[str, Any]:
    """A Keras 3 Sequential config of the given (class, config) layers."""
    entries = [{"class_name": "InputLayer", "config": {"batch_shape": [None, *(shape or [8, 8, 3])], "name": "in"}}]
    entries += [{"class_name": cls, "config": {"name": f"l{i}", **cfg}} for i, (cls, cfg) in enumerate(layers, 1)]
    return {"module": "keras", "class_name": "Sequential", "config": {"name": "net", "layers": entries}}


def refusal(tmp_path: Path, doc: Any) -> str:
    path = tmp_path / "net.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(ImportFailure) as caught:
        import_spec(str(path))
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{path}: ")
    return message[len(f"{path}: ") :]


CONV = {"filters": 4, "kernel_size": [3, 3]}


@pytest.mark.parametrize(
    ("layers", "expected"),
    [
        ([("Cropping2D", {"cropping": [[1, 1], [1, 1]]})], "layer 'l1' (Cropping2D): Cropping2D by fixed amounts cannot be represented exactly (archcalc's crop centre-crops to the size of a reference layer"),
        ([("Dense", {"units": 4})], "layer 'l1' (Dense): Dense on a (H, W, C) map cannot be represented exactly"),
        ([("Conv2D", {**CONV, "activation": "selu"})], "layer 'l1' (Conv2D): activation 'selu' cannot be represented exactly"),
        ([("Conv2D", {**CONV, "activation": "mish"})], "layer 'l1' (Conv2D): activation 'mish' cannot be represented exactly"),
        ([("Conv2D", {**CONV, "padding": "causal"})], "layer 'l1' (Conv2D): Conv2D with padding 'causal' cannot be represented exactly (archcalc reads valid or same)"),
        ([("PReLU", {"shared_axes": None})], "layer 'l1' (PReLU): PReLU with shared_axes None cannot be represented exactly"),
        ([("Reshape", {"target_shape": [4, 16, 3]})], "layer 'l1' (Reshape): Reshape to (4, 16, 3) cannot be represented exactly"),
        ([("Permute", {"dims": [3, 1, 2]})], "layer 'l1' (Permute): Permute (3, 1, 2) cannot be represented exactly"),
        ([("Normalization", {"axis": [-1], "mean": None, "variance": None})], "layer 'l1' (Normalization): an adapted Normalization layer cannot be represented exactly (it keeps its mean, variance and count as 2C + 1"),
        ([("BatchNormalization", {"axis": 1})], "layer 'l1' (BatchNormalization): BatchNormalization over axis 1 cannot be represented exactly (archcalc's works on the channels: axis -1)"),
        ([("LayerNormalization", {"axis": [1, 2, 3]})], "layer 'l1' (LayerNormalization): LayerNormalization over axis a list cannot be represented exactly"),
        ([("BatchNormalization", {"center": False, "scale": True})], "layer 'l1' (BatchNormalization): BatchNormalization with only scale cannot be represented exactly"),
        ([("ReLU", {"threshold": 0.5})], "layer 'l1' (ReLU): ReLU with a threshold cannot be represented exactly"),
        ([("Conv2DTranspose", {"filters": 4, "kernel_size": 2, "padding": "same"})], "layer 'l1' (Conv2DTranspose): Conv2DTranspose with padding 'same', stride 1 and an even kernel cannot be represented exactly"),
        ([("Conv2D", {"filters": 4, "kernel_size": [3, 3], "lora_rank": 4})], "layer 'l1' (Conv2D): Conv2D with lora_rank cannot be represented exactly"),
        ([("Conv2D", {"filters": 0, "kernel_size": 3})], "layer 'l1' (Conv2D): 'filters' must be an integer from 1 to 2,147,483,647, got 0"),
        ([("Conv2D", {"filters": 4, "kernel_size": "3"})], "layer 'l1' (Conv2D): 'kernel_size' must be an integer or two, each from 1 to 2,147,483,647, got '3'"),
        ([("Dropout", {"rate": float("inf")})], "layer 'l1' (Dropout): 'rate' must be a finite number, got inf"),
        ([("Conv2D", {"kernel_size": 3})], "layer 'l1' (Conv2D): no 'filters' in its config"),
        ([("Conv3D", {"filters": 4, "kernel_size": 3})], "layer 'l1' (Conv3D): Keras layer class 'Conv3D' cannot be represented exactly (the Keras classes archcalc reads: Activation, Add,"),
    ],
)  # fmt: skip
def test_what_archcalc_cannot_represent_is_refused_by_name(tmp_path: Path, layers: list[Any], expected: str):
    message = refusal(tmp_path, config(*layers))
    assert message.startswith(expected)
    if "cannot be represented exactly" in expected:
        assert message.endswith("; archcalc's kinds: " + ", ".join(archcalc.kinds.KINDS))


def test_a_flat_input_and_an_undeclared_input_are_refused(tmp_path: Path):
    assert refusal(tmp_path, config(("Dense", {"units": 4}), shape=[784])).startswith("the input (None, 784) is flat")
    doc = config(("Conv2D", CONV))
    doc["config"]["layers"].pop(0)
    assert refusal(tmp_path, doc) == "the model's input is not declared: give its size with --input CxHxW"


def functional(*layers: dict[str, Any], inputs: list[Any] | None = None) -> dict[str, Any]:
    entries = [
        {
            "class_name": "InputLayer",
            "name": "in",
            "config": {"batch_shape": [None, 8, 8, 3], "name": "in"},
            "inbound_nodes": [],
        }
    ]
    return {"module": "keras.src.models.functional", "class_name": "Functional",
            "config": {"name": "net", "layers": entries + list(layers), "input_layers": inputs or ["in", 0, 0],
                       "output_layers": [layers[-1]["name"], 0, 0]}}  # fmt: skip


def node(*names: str) -> list[dict[str, Any]]:
    tensors = [{"class_name": "__keras_tensor__", "config": {"keras_history": [n, 0, 0]}} for n in names]
    return [{"args": tensors if len(tensors) == 1 else [tensors], "kwargs": {}}]


def keras3_layer(name: str, cls: str, reads: list[str], **cfg: Any) -> dict[str, Any]:
    return {"class_name": cls, "name": name, "config": {"name": name, **cfg}, "inbound_nodes": node(*reads)}


def test_structural_problems_of_a_functional_model_are_refused(tmp_path: Path):
    conv = keras3_layer("conv", "Conv2D", ["in"], **CONV)
    shared = copy.deepcopy(conv)
    shared["inbound_nodes"] = node("in") + node("in")
    assert (
        refusal(tmp_path, functional(shared))
        == "layer 'conv' (Conv2D): called 2 times with shared weights; archcalc would count them 2 times"
    )
    cycle = [keras3_layer("a", "ReLU", ["b"]), keras3_layer("b", "ReLU", ["a"])]
    assert refusal(tmp_path, functional(*cycle)) == "layer 'a' (ReLU): its inputs depend on its own output (a cycle)"
    two = functional(conv, inputs=[["in", 0, 0], ["in2", 0, 0]])
    assert refusal(tmp_path, two) == "the model has 2 inputs; archcalc's networks have one"
    second_output = functional(conv, keras3_layer("relu", "ReLU", []))
    second_output["config"]["layers"][-1]["inbound_nodes"] = [{"args": [{"class_name": "__keras_tensor__", "config": {"keras_history": ["conv", 0, 1]}}], "kwargs": {}}]  # fmt: skip
    assert (
        refusal(tmp_path, second_output)
        == "layer 'relu' (ReLU): reads output 1 of 'conv', which that layer does not produce"
    )
    fused = functional(keras3_layer("cat", "Concatenate", ["in", "in"], axis=1))
    assert refusal(tmp_path, fused).startswith(
        "layer 'cat' (Concatenate): Concatenate over axis 1 cannot be represented exactly"
    )


def test_a_reshape_read_as_a_flatten_is_proven_by_the_engine(tmp_path: Path):
    path = tmp_path / "flat.json"
    path.write_text(json.dumps(config(("Reshape", {"target_shape": [192]}), ("Dense", {"units": 2}))))
    assert archcalc.analyse(import_spec(str(path)))["l1"].output_shape == (192,)  # 8 × 8 × 3
    wrong = config(("Reshape", {"target_shape": [100]}))
    assert refusal(tmp_path, wrong) == "layer 'l1' (Reshape): reshapes to [100], but archcalc computes [192] here"


def test_frozen_layers_are_named_in_the_description(tmp_path: Path):
    """Keras counts a frozen layer's weights as non-trainable; archcalc's trainable is the architecture's."""
    path = tmp_path / "frozen.json"
    path.write_text(json.dumps(config(("Conv2D", {**CONV, "trainable": False}), ("ReLU", {}))))
    spec = import_spec(str(path))
    assert spec.description.endswith("Frozen in Keras (trainable: false), counted as trainable here: l1.")
    assert archcalc.analyse(spec).totals.trainable_params == 3 * 3 * 3 * 4 + 4


def test_layers_in_any_order_are_read_producers_first(tmp_path: Path):
    doc = functional(keras3_layer("conv", "Conv2D", ["in"], **CONV), keras3_layer("relu", "ReLU", ["conv"]))
    doc["config"]["layers"].reverse()
    path = tmp_path / "reversed.json"
    path.write_text(json.dumps(doc))
    assert [layer.name for layer in import_spec(str(path)).layers] == ["conv", "relu"]


# ---------------------------------------------------------------------------------------------------
# hostile files: one line, exit 2, no traceback, nothing written


def hostile(tmp_path: Path, source: Path) -> str:
    target = tmp_path / "out.yaml"
    result = CliRunner().invoke(main, ["import", str(source), "-o", str(target)])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("archcalc: error: ") and result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.output and not target.exists()
    return result.stderr


def test_a_zip_bomb_is_refused_by_its_declared_size(tmp_path: Path):
    path = tmp_path / "bomb.keras"
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("config.json", "w", force_zip64=True) as entry,
    ):
        for _ in range(40):
            entry.write(b" " * 2**20)  # 40 MiB of spaces: about 40 kB packed
    assert path.stat().st_size < 200_000
    assert "config.json would unpack to 41,943,040 bytes; the limit is 33,554,432" in hostile(tmp_path, path)


def test_an_archive_of_many_entries_is_refused_before_its_directory_is_read(tmp_path: Path):
    path = tmp_path / "many.keras"
    with zipfile.ZipFile(path, "w") as archive:
        for index in range(300):
            archive.writestr(f"f{index}", b"")
    assert "the archive has 300 entries" in hostile(tmp_path, path)


def test_a_zip64_archive_is_refused_by_the_count_its_zip64_record_declares(tmp_path: Path):
    """Only the end records, as a Zip64 archive of 70,000 entries ends: no directory to read at all."""
    import struct

    record = b"PK\x06\x06" + struct.pack("<QHHIIQQQQ", 44, 45, 45, 0, 0, 70_000, 70_000, 46 * 70_000, 0)
    locator = b"PK\x06\x07" + struct.pack("<IQI", 0, 0, 1)
    end = b"PK\x05\x06" + struct.pack("<HHHHIIH", 0, 0, 0xFFFF, 0xFFFF, 0xFFFF_FFFF, 0xFFFF_FFFF, 0)
    path = tmp_path / "zip64.keras"
    path.write_bytes(record + locator + end)
    assert "the archive has 70,000 entries" in hostile(tmp_path, path)


@pytest.mark.parametrize("text", ["[" * 10_000 + "]" * 10_000, '{"a": ' * 10_000 + "1" + "}" * 10_000])
def test_a_config_nested_10000_deep(tmp_path: Path, text: str):
    path = tmp_path / "deep.json"
    path.write_text(text)
    assert "the config nests deeper than a model config can" in hostile(tmp_path, path)


def test_a_model_nested_in_models_too_deep(tmp_path: Path):
    doc: dict[str, Any] = config(("Conv2D", CONV))
    for _ in range(20):
        doc = config(("Sequential", doc["config"]))
    path = tmp_path / "models.json"
    path.write_text(json.dumps(doc))
    assert "models nested more than 16 deep" in hostile(tmp_path, path)


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("notes.json", b"hello, world", "not a Keras model config (JSON): Expecting value: line 1 column 1 (char 0)"),
        ("binary.json", b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe", "not a Keras model config (JSON):"),
        ("list.json", b"[1, 2]", "expected a layer object, got a list"),
        ("layer.json", b'{"class_name": "Conv2D", "config": {}}', "the config is a 'Conv2D', not a Sequential or Functional model"),
        ("zip.keras", b"PK\x03\x04 not really", "not a zip archive (a .keras file is one)"),
    ],
)  # fmt: skip
def test_files_that_are_no_keras_model(tmp_path: Path, name: str, content: bytes, expected: str):
    path = tmp_path / name
    path.write_bytes(content)
    assert expected in hostile(tmp_path, path)


def test_an_archive_without_config_json(tmp_path: Path):
    path = tmp_path / "empty.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("model.weights.h5", b"")
    assert "no config.json in the archive" in hostile(tmp_path, path)


def test_an_unknown_layer_class_and_a_tensor_nobody_produced(tmp_path: Path):
    path = tmp_path / "custom.json"
    path.write_text(json.dumps(config(("MyAttention\x1b]0;owned\x07", {"units": 4}))))
    message = hostile(tmp_path, path)
    assert (
        "layer 'l1' (MyAttention\\x1b]0;owned\\x07): Keras layer class 'MyAttention\\x1b]0;owned\\x07' cannot be"
        in message
    )
    path.write_text(json.dumps(functional(keras3_layer("conv", "Conv2D", ["ghost"], **CONV))))
    assert f"{path}: layer 'conv' (Conv2D): reads 'ghost', which no layer of the model produces" in hostile(
        tmp_path, path
    )


def test_a_missing_file(tmp_path: Path):
    assert "cannot read: No such file or directory" in hostile(tmp_path, tmp_path / "nowhere.keras")
