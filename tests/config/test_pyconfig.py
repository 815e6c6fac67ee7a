"""Python-dialect configs: read without executing, ``_base_`` merging, ``--cfg-options`` typing, dumping."""

from __future__ import annotations

import keyword
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from depthforge.config import dump_pyconfig, load_pyconfig, parse_cfg_options, parse_overrides
from depthforge.errors import ConfigError

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture
def patchrefiner_cfg(tmp_path: Path) -> Path:
    """A base + child pair shaped like the PatchRefiner reference configs."""
    write(tmp_path / "_base_/datasets/u4k.py", """\
        '''U4K dataset base.'''
        max_depth = 40
        network_process_size = (384, 512)
        train_dataloader = dict(batch_size=2, dataset=dict(
            type='U4K', transform_cfg=dict(network_process_size=network_process_size)))
        """)
    write(tmp_path / "_base_/run_time.py", """\
        log = dict(interval=50)
        optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9), clip_grad=dict(max_norm=1))
        """)
    return write(tmp_path / "pr/u4k.py", """\
        _base_ = [
            '../_base_/datasets/u4k.py',
            '../_base_/run_time.py',
        ]
        min_depth = 1e-3
        max_depth = 80
        zoe_depth_config = dict(
            type='ZoeDepth', min_depth=min_depth, max_depth=max_depth,
            n_bins=64, n_attractors=[16, 8, 4, 1], img_size=[384, 512], pretrained_resource=None)
        model = dict(type='PatchRefiner', config=dict(image_raw_shape=(2160, 3840), patch_split_num=[4, 4],
            coarse_branch=zoe_depth_config, refiner=dict(fine_branch=zoe_depth_config,
            fusion_model=dict(type='FusionUnet', input_chl=[32*2, 256*2], temp_chl=[32, 256]))))
        train_dataloader = dict(dataset=dict(transform_cfg=dict(image_raw_shape=[2160, 3840])))
        optim_wrapper = dict(optimizer=dict(_delete_=True, type='AdamW', lr=0.000161, weight_decay=0.01),
            paramwise_cfg=dict(bypass_duplicate=True,
                               custom_keys={'refiner_fine_branch.core': dict(lr_mult=0.1, decay_mult=1.0)}))
        crop = dict(h=network_process_size[0] // 2, w=-network_process_size[-1], scale=2 ** 3 / 4)
        tags = list(('a', 'b')) + ['c'] * 2
        """)


def test_patchrefiner_style_config(patchrefiner_cfg: Path) -> None:
    cfg = load_pyconfig(patchrefiner_cfg)
    assert "_base_" not in cfg
    # every module-level variable, bases' keys first, in definition order
    assert list(cfg) == ["max_depth", "network_process_size", "train_dataloader", "log", "optim_wrapper",
                         "min_depth", "zoe_depth_config", "model", "crop", "tags"]
    assert cfg["max_depth"] == 80 and cfg["min_depth"] == 0.001
    model = cfg["model"]["config"]
    assert model["coarse_branch"] == cfg["zoe_depth_config"] == model["refiner"]["fine_branch"]
    assert model["coarse_branch"]["max_depth"] == 80  # variable substitution
    assert model["refiner"]["fusion_model"]["input_chl"] == [64, 512]  # arithmetic
    assert model["image_raw_shape"] == (2160, 3840) and isinstance(model["patch_split_num"], list)
    # dict-wise merge: the child adds one key, the base keys stay
    loader = cfg["train_dataloader"]
    assert loader["batch_size"] == 2
    assert loader["dataset"] == {"type": "U4K", "transform_cfg": {"network_process_size": (384, 512),
                                                                  "image_raw_shape": [2160, 3840]}}
    # _delete_=True replaces the base dict; siblings still merge
    optim = cfg["optim_wrapper"]
    assert optim["optimizer"] == {"type": "AdamW", "lr": 0.000161, "weight_decay": 0.01}
    assert optim["clip_grad"] == {"max_norm": 1}
    assert optim["paramwise_cfg"]["custom_keys"] == {"refiner_fine_branch.core": {"lr_mult": 0.1,
                                                                                   "decay_mult": 1.0}}
    # base variables are visible in the child; subscripts, unary minus, / and ** work
    assert cfg["crop"] == {"h": 192, "w": -512, "scale": 2.0}
    assert cfg["tags"] == ["a", "b", "c", "c"]
    # the result shares nothing: editing one branch leaves the other alone
    model["coarse_branch"]["n_attractors"].append(0)
    assert model["refiner"]["fine_branch"]["n_attractors"] == [16, 8, 4, 1]


def test_three_level_chain_and_string_base(tmp_path: Path) -> None:
    write(tmp_path / "a.py", "x = dict(a=1, b=dict(c=2))\nname = 'a'\n")
    write(tmp_path / "sub/b.py", "_base_ = '../a.py'\nx = dict(b=dict(d=3))\nname = name + 'b'\n")
    child = write(tmp_path / "c.py", "_base_ = ['sub/b.py']\nx = dict(e=x['b']['c'] * 10)\nname = name + 'c'\n")
    assert load_pyconfig(child) == {"x": {"a": 1, "b": {"c": 2, "d": 3}, "e": 20}, "name": "abc"}


def test_yaml_base(tmp_path: Path) -> None:
    write(tmp_path / "base.yaml", "data:\n  batch_size: 2\n  options: {jitter: 0.3}\n")
    child = write(tmp_path / "c.py", "_base_ = 'base.yaml'\ndata = dict(batch_size=data['batch_size'] * 4)\n")
    assert load_pyconfig(child) == {"data": {"batch_size": 8, "options": {"jitter": 0.3}}}


def test_delete_replaces_and_is_removed(tmp_path: Path) -> None:
    write(tmp_path / "base.py", "model = dict(type='A', depth=dict(min=1, max=2), keep=True)\n")
    child = write(tmp_path / "child.py", "_base_ = 'base.py'\nmodel = dict(depth=dict(_delete_=True, max=9))\n")
    assert load_pyconfig(child) == {"model": {"type": "A", "depth": {"max": 9}, "keep": True}}
    whole = write(tmp_path / "whole.py", "_base_ = 'base.py'\nmodel = dict(_delete_=True, type='B')\n")
    assert load_pyconfig(whole) == {"model": {"type": "B"}}


def test_displays_calls_and_splats(tmp_path: Path) -> None:
    path = write(tmp_path / "c.py", """\
        base = dict(a=1, b=2)
        d = dict(base, c=3)
        e = dict(**base, c=4)
        f = {**base, 'b': 5, 1: 'one', (1, 2): None}
        g = {1, 2} ; h = tuple([1, 2]) ; i = list() ; j = tuple()
        k = l = 'same'
        m = not 0
        n = 7 % 3 + 7 // 2 - 1.5 * 2
        """)
    cfg = load_pyconfig(path)
    assert cfg["d"] == {"a": 1, "b": 2, "c": 3} and cfg["e"] == {"a": 1, "b": 2, "c": 4}
    assert cfg["f"] == {"a": 1, "b": 5, 1: "one", (1, 2): None}
    assert cfg["g"] == {1, 2} and cfg["h"] == (1, 2) and cfg["i"] == [] and cfg["j"] == ()
    assert cfg["k"] == cfg["l"] == "same" and cfg["m"] is True and cfg["n"] == 1 + 3 - 3.0


def test_splat_with_a_repeated_key_is_refused_as_in_python(tmp_path: Path) -> None:
    path = write(tmp_path / "c.py", "base = dict(a=1, b=2)\nx = dict(**base,\n         a=3)\n")
    with pytest.raises(ConfigError, match=r"c\.py:3: dict\(\) got multiple values for keyword argument 'a' "
                                          r"\(as in Python; write dict\(base, key=value\)"):
        load_pyconfig(path)
    write(tmp_path / "c.py", "base = dict(a=1, b=2)\nx = dict(base, a=3)\n")
    assert load_pyconfig(path)["x"] == {"a": 3, "b": 2}


def test_circular_base(tmp_path: Path) -> None:
    write(tmp_path / "a.py", "_base_ = 'b.py'\nx = 1\n")
    write(tmp_path / "b.py", "_base_ = ['a.py']\ny = 1\n")
    with pytest.raises(ConfigError, match=r"circular _base_ inheritance \(a.py -> b.py -> a.py\)"):
        load_pyconfig(tmp_path / "a.py")
    write(tmp_path / "self.py", "_base_ = 'self.py'\n")
    with pytest.raises(ConfigError, match="circular"):
        load_pyconfig(tmp_path / "self.py")


@pytest.mark.parametrize("text", ["_base_ = 3\n", "_base_ = ['a.py', 1]\n", "_base_ = dict(a='b.py')\n"])
def test_bad_base(tmp_path: Path, text: str) -> None:
    with pytest.raises(ConfigError, match=r"c\.py:1: _base_ must be a path or a list of paths"):
        load_pyconfig(write(tmp_path / "c.py", text))


def test_missing_files_and_syntax(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"nope\.py: config file not found$"):
        load_pyconfig(tmp_path / "nope.py")
    child = write(tmp_path / "c.py", "\n_base_ = 'gone.py'\n")
    with pytest.raises(ConfigError, match=r"gone\.py: config file not found .*c\.py:2"):
        load_pyconfig(child)
    (tmp_path / "latin1.py").write_bytes(b"x = '\xe9'\n")
    with pytest.raises(ConfigError, match=r"latin1\.py: not UTF-8 text"):
        load_pyconfig(tmp_path / "latin1.py")
    bad = write(tmp_path / "bad.py", "x = 1\ny = dict(a=\n")
    with pytest.raises(ConfigError, match=r"bad\.py:2: invalid Python syntax \(.+\)$"):
        load_pyconfig(bad)


# (body, what the message says) or (body, line offset of the refused statement in body, what)
REFUSED = [
    ("import os", "import"),
    ("from os import system", "import"),
    ("x = __import__('os')", "a call to __import__"),
    ("x = open('x')", "a call to open()"),
    ("x = os.system", "attribute access"),
    ("x = (lambda: 1)()", "a lambda"),
    ("x = [i for i in range(3)]", "a comprehension"),
    ("x = 2 ** 100000", "exponent above 64"),
    ("x = [0] * 10**9", "more than 1000000 items"),
    ("x = 'ab' * 10**6", "more than 1000000 items"),
    ("def f():\n    pass", "a function definition"),
    ("class A:\n    pass", "a class definition"),
    ("if True:\n    x = 1", "an if statement"),
    ("for i in []:\n    pass", "a loop"),
    ("with a:\n    pass", "a with statement"),
    ("x = 1\nx += 1", 1, "augmented assignment"),
    ("x = dict()\nx.y = 1", 1, "assignment to an attribute"),
    ("x = [1]\nx[0] = 2", 1, "assignment to a subscript"),
    ("a, b = 1, 2", "unpacking assignment"),
    ("a = undefined_name", "name 'undefined_name' is not defined"),
    ("x = f'{1}'", "an f-string"),
    ("x = (y := 1)", "the walrus operator"),
    ("x = [*[1]]", "a starred expression"),
    ("x = 1 if 1 else 2", "a conditional expression"),
    ("x = 1 < 2", "a comparison"),
    ("x = 1 and 2", "and/or"),
    ("x = 1 | 2", "the operator |"),
    ("x = b'raw'", "a bytes literal"),
    ("x = 1j", "a complex number"),
    ("x = [1, 2][0:1]", "a slice"),
    ("x = __builtins__", "'__builtins__'"),
    ("__x = 1", "'__x'"),
    ("dict = 1", "assignment to 'dict'"),
    ("x = getattr(1, 'real')", "a call to getattr()"),
    ("x = ().__class__", "attribute access"),
    ("print(1)", "a call to print()"),
    ("x = 1\nx", 1, "a bare expression"),
    ("x = 1 / 0", "division by zero"),
    ("x = 'a' - 1", "unsupported operand types for -: str and int"),
    ("x = (10 ** 60) ** 60", "exponent|bits"),
    ("x = [1][5]", "out of range"),
    ("x = dict(a=1)['b']", "key 'b' not found"),
    ("x = dict(**[1])", "\\*\\* needs a dict"),
    ("x = {[1]: 2}", "cannot be a dict key"),
    ("x = 2.0 ** 60 * 1e300 ** 2", "numeric overflow"),
]


@pytest.mark.parametrize("case", REFUSED, ids=[r[0] for r in REFUSED])
def test_refused_constructs(tmp_path: Path, case: tuple[Any, ...]) -> None:
    body, offset, what = case if len(case) == 3 else (case[0], 0, case[1])
    path = write(tmp_path / "cfg_under_test.py", '"""doc"""\nok = 1\n\n' + body + "\n")
    with pytest.raises(ConfigError) as info:
        load_pyconfig(path)
    message = str(info.value)
    assert "\n" not in message
    assert f"cfg_under_test.py:{4 + offset}: " in message, message
    assert re.search(what, message), message


def test_refusal_message_format(tmp_path: Path) -> None:
    path = write(tmp_path / "c.py", "x = 1\ny = open('x')\n")
    with pytest.raises(ConfigError) as info:
        load_pyconfig(path)
    assert str(info.value) == (f"{path.resolve()}:2: a call to open() is not allowed in a config "
                               "(only literals, dict/list/tuple, names and arithmetic)")


def test_nothing_is_executed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for body in ("__import__('os').system('touch PWNED')", "x = __import__('os').system('touch PWNED')",
                 "x = open('PWNED', 'w')", "import os\nos.system('touch PWNED')"):
        path = write(tmp_path / "evil.py", body + "\n")
        with pytest.raises(ConfigError):
            load_pyconfig(path)
    assert not (tmp_path / "PWNED").exists()


def test_deep_nesting_is_refused_cleanly(tmp_path: Path) -> None:
    deep = write(tmp_path / "deep.py", "x = " + "-" * 5000 + "1\n")
    with pytest.raises(ConfigError, match="deep.py:"):
        load_pyconfig(deep)
    chain = "".join(f"v{i} = [v{i - 1}]\n" for i in range(1, 150))
    nested = write(tmp_path / "nested.py", "v0 = []\n" + chain)
    with pytest.raises(ConfigError, match=r"nested\.py:\d+: a value nested more than 100 levels"):
        load_pyconfig(nested)
    doubling = "".join(f"v{i} = [v{i - 1}, v{i - 1}]\n" for i in range(1, 40))
    wide = write(tmp_path / "wide.py", "v0 = [0] * 1000\n" + doubling)
    with pytest.raises(ConfigError, match=r"wide\.py:\d+: a (value|config) of more than"):
        load_pyconfig(wide)


# --- --cfg-options -------------------------------------------------------------------------------

CFG_OPTIONS = [
    ("model.edge_loss_weight=7e-2", {"model": {"edge_loss_weight": 0.07}}),
    ("general_dataloader.dataset.rgb_image_dir='./examples/'",
     {"general_dataloader": {"dataset": {"rgb_image_dir": "./examples/"}}}),
    ('a="x"', {"a": "x"}),
    ("a=./examples/", {"a": "./examples/"}),
    ("a=1", {"a": 1}),
    ("a=-3", {"a": -3}),
    ("a=1.5", {"a": 1.5}),
    ("a=1E5", {"a": 100000.0}),
    ("a=True", {"a": True}),
    ("a=false", {"a": False}),
    ("a=None", {"a": None}),
    ("a=none", {"a": None}),
    ("a=null", {"a": None}),
    ("a=[1,2]", {"a": [1, 2]}),
    ("a=(1,2)", {"a": (1, 2)}),
    ("a=1,2", {"a": [1, 2]}),
    ("a=a,b", {"a": ["a", "b"]}),
    ("a=[1,[2,(3,'x,y')],true]", {"a": [1, [2, (3, "x,y")], True]}),
    ("a=[]", {"a": []}),
    ("a=", {"a": ""}),
    ("a=x=y", {"a": "x=y"}),
    ("a=[1]+[2]", {"a": "[1]+[2]"}),
    ("a=__import__('os')", {"a": "__import__('os')"}),
    ("a.b=1", {"a": {"b": 1}}),
]


@pytest.mark.parametrize(("item", "expected"), CFG_OPTIONS, ids=[c[0] for c in CFG_OPTIONS])
def test_parse_cfg_options(item: str, expected: dict[str, Any]) -> None:
    got = parse_cfg_options([item])
    assert got == expected
    assert repr(got) == repr(expected)  # types too: 1 vs 1.0 vs True, list vs tuple


def test_parse_cfg_options_nesting_and_errors() -> None:
    assert parse_cfg_options(["a.b=1", "a.c=2", "d=x"]) == {"a": {"b": 1, "c": 2}, "d": "x"}
    for bad in (["novalue"], ["=1"], ["a..b=1"], ["a.=1"]):
        with pytest.raises(ConfigError) as info:
            parse_cfg_options(bad)
        assert "\n" not in str(info.value)
    with pytest.raises(ConfigError, match="conflicts"):
        parse_cfg_options(["a=1", "a.b=2"])


def test_parse_overrides_reads_exponent_floats() -> None:
    out = parse_overrides(["model.edge_loss_weight=7e-2", "x=abc", "y=-3e+1", "z='1e5'", "w=.5e3"])
    assert out == {"model": {"edge_loss_weight": 0.07}, "x": "abc", "y": -30.0, "z": "1e5", "w": 500.0}
    assert isinstance(out["model"]["edge_loss_weight"], float)


# --- dumping -------------------------------------------------------------------------------------


def test_dump_round_trip(patchrefiner_cfg: Path, tmp_path: Path) -> None:
    cfg = load_pyconfig(patchrefiner_cfg)
    cfg["odd"] = {"not an identifier": 1, 2: (3,), "class": None, "inf": float("inf"), "s": {1}}
    out = tmp_path / "run" / "resolved.py"
    dump_pyconfig(cfg, out)
    text = out.read_text(encoding="utf-8")
    assert text.startswith("# Resolved config")
    assert "model = dict(" in text and "'not an identifier': 1" in text
    assert not (tmp_path / "run" / "resolved.py.tmp").exists()
    assert load_pyconfig(out) == cfg


def test_dump_refuses_what_cannot_be_read_back(tmp_path: Path) -> None:
    for cfg in ({"not-a-name": 1}, {"_base_": "x.py"}, {"a": object()}, {"a": set()}, {"a": b"x"}):
        with pytest.raises(ConfigError):
            dump_pyconfig(cfg, tmp_path / "c.py")


# --- fuzzing -------------------------------------------------------------------------------------

TOKENS = ["x", "y", "dict", "list", "tuple", "open", "__import__", "os", "system", "_base_", "'cfg.py'",
          "'x.py'", "'touch PWNED'", "=", "==", "(", ")", "[", "]", "{", "}", ",", ":", ".", "*", "**", "+",
          "-", "/", "//", "%", "1", "0", "64", "10", "1e3", "'s'", "True", "None", "lambda", "for", "in",
          "import", "def", "if", "not", "\n", "\n", "\n", "    ", "#", "f'{x}'", "_delete_", ";", "...", "@"]


def _load_or_config_error(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    try:
        load_pyconfig(path)
    except ConfigError as exc:
        assert "\n" not in str(exc)


@FUZZ
@given(text=st.one_of(st.text(max_size=200), st.lists(st.sampled_from(TOKENS), max_size=40).map(" ".join)))
def test_fuzz_any_text_loads_or_config_error(tmp_path: Path, text: str) -> None:
    _load_or_config_error(tmp_path / "cfg.py", text)
    assert not (tmp_path / "PWNED").exists() and not Path("PWNED").exists()


_NAMES = st.from_regex(r"[a-z_][a-z0-9_]{0,8}", fullmatch=True).filter(
    lambda k: not keyword.iskeyword(k) and not k.startswith("__") and k not in {"_base_", "_delete_", "dict",
                                                                                 "list", "tuple"})
_LEAVES = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=12))
_VALUES = st.recursive(
    _LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=4).map(tuple),
        st.dictionaries(st.one_of(_NAMES, st.text(max_size=6), st.integers()).filter(lambda k: k != "_delete_"),
                        inner, max_size=4),
    ),
    max_leaves=20,
)


@FUZZ
@given(cfg=st.dictionaries(_NAMES, _VALUES, max_size=6))
def test_fuzz_dump_round_trip(tmp_path: Path, cfg: dict[str, Any]) -> None:
    path = tmp_path / "resolved.py"
    dump_pyconfig(cfg, path)
    loaded = load_pyconfig(path)
    assert loaded == cfg
    assert repr(loaded) == repr(cfg)  # tuple vs list, int vs float vs bool, key order
