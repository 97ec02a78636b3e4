#!/usr/bin/env python3
"""Writes the NumPy reference fixtures that OpValueTests.swift checks every op against.

Run from anywhere with `python3 generate.py` (NumPy and SciPy required); the JSON files land
next to this script and are committed, so `swift test` never needs Python.

Each file holds {"description": ..., "cases": [...]}; each case is

    {"name": unique name, "op": op name, "params": {...}, "inputs": [array, ...], "expected": array}

and each array is {"dtype": ..., "shape": [...], "data": [row-major elements]}. Floats that
JSON cannot spell are the strings "nan", "inf" and "-inf". float32 elements are written as
the shortest decimal that reads back as the same float32.

Expected values follow NumPy, with three documented exceptions where the library follows
Theano instead and says so in its doc comments:
  * float functions of small integers (int8, int16, uint8, bool) compute in float32
    (Theano's upgrade_to_float), where NumPy would use float16;
  * sums and products of uint8 are int64, where NumPy keeps them unsigned (uint64);
  * floor and ceil of integers and booleans give the float type Theano upgrades them to
    (int8, int16, uint8, bool -> float32; int32, int64 -> float64), where NumPy 2 keeps the
    integer dtype (numpy_semantics.json holds these cases; round of an integer is an error).
"""

import json
import math
import pathlib
import warnings

import numpy as np
from scipy import special

SEED = 20240517
OUTPUT_DIRECTORY = pathlib.Path(__file__).resolve().parent
FLOAT_DTYPES = ("float32", "float64")
NAN, INF = math.nan, math.inf


# MARK: - Encoding


def encode_element(value, dtype):
    """One element as JSON: bools and integers exactly, floats with nan/inf as strings."""
    if dtype == "bool":
        return bool(value)
    if dtype.startswith("int") or dtype.startswith("uint"):
        return int(value)
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if dtype == "float32":
        return float(str(np.float32(value)))
    return float(value)


def encode_array(array):
    """An array as {dtype, shape, data}, data flattened in row-major order."""
    array = np.asarray(array)
    dtype = str(array.dtype)
    return {
        "dtype": dtype,
        "shape": list(array.shape),
        "data": [encode_element(v, dtype) for v in array.reshape(-1).tolist()],
    }


class FixtureFile:
    """The cases of one JSON fixture file; names must be unique within the file."""

    def __init__(self, stem, description):
        self.stem = stem
        self.description = description
        self.cases = []
        self.names = set()

    def add(self, name, op, inputs, expected, params=None):
        """Records a case; `inputs` are arrays of their final dtypes, `expected` likewise."""
        if name in self.names:
            raise ValueError(f"duplicate case name {name!r} in {self.stem}")
        self.names.add(name)
        case = {
            "name": name,
            "op": op,
            "params": params or {},
            "inputs": [encode_array(a) for a in inputs],
            "expected": encode_array(expected),
        }
        self.cases.append(case)

    def write(self):
        """Writes one case per line, so that regenerated files diff readably."""
        path = OUTPUT_DIRECTORY / f"{self.stem}.json"
        lines = [json.dumps(case, separators=(",", ":"), allow_nan=False) for case in self.cases]
        header = json.dumps(self.description)
        path.write_text('{"description":' + header + ',"cases":[\n' + ",\n".join(lines) + "\n]}\n")
        print(f"{path.name}: {len(self.cases)} cases, {path.stat().st_size} bytes")


# MARK: - Inputs


rng = np.random.default_rng(SEED)


def dyadic(values, denominator=64):
    """Values rounded to multiples of 1/denominator: exact in float32 and short in JSON."""
    return np.round(np.asarray(values, dtype=np.float64) * denominator) / denominator


def normal(shape, scale=1.0):
    return dyadic(rng.normal(size=shape) * scale)


def uniform(shape, low, high):
    return dyadic(rng.uniform(low, high, size=shape))


def integers(shape, low, high, dtype):
    """Uniform integers in [low, high]."""
    return rng.integers(low, high, size=shape, endpoint=True).astype(dtype)


def array(values, dtype):
    return np.asarray(values, dtype=dtype)


def theano_float(dtype):
    """The float dtype a float function computes in for inputs of `dtype` (Theano's rule)."""
    if dtype in ("float32", "float64"):
        return dtype
    return "float32" if dtype in ("bool", "int8", "int16", "uint8") else "float64"


def in_float64(function, dtype):
    """`function` evaluated in float64 and rounded to `dtype`: the correctly rounded result."""

    def evaluate(*operands):
        with np.errstate(all="ignore"):
            result = function(*[np.asarray(x, dtype=np.float64) for x in operands])
            return np.asarray(result).astype(dtype)

    return evaluate


def native(function):
    """`function` evaluated by NumPy in the operands' own dtypes."""

    def evaluate(*operands):
        with np.errstate(all="ignore"):
            return np.asarray(function(*operands))

    return evaluate


# MARK: - Elementwise

# Unary float functions: reference in float64, the edge values that matter for each, and
# the interval random matrices are drawn from.
UNARY_FLOAT_OPS = {
    "exp": (np.exp, [-100, -10, -1, -1e-8, 0, 1e-8, 0.5, 1, 10, 80, 100, 800, NAN, INF, -INF], (-4, 4)),
    "expm1": (np.expm1, [-100, -1, -1e-10, -0.0, 0, 1e-10, 1e-5, 0.5, 10, 100, 800, NAN, INF, -INF], (-4, 4)),
    "log": (np.log, [0, -0.0, 1e-30, 0.5, 1, 2, 10, 1e30, -1, NAN, INF, -INF], (0.1, 10)),
    "log1p": (np.log1p, [-1, -0.999, -0.5, -1e-10, 0, 1e-10, 1, 1e10, -2, NAN, INF, -INF], (-0.9, 10)),
    "log2": (np.log2, [0, 1e-30, 0.5, 1, 2, 1024, 1e30, -1, NAN, INF, -INF], (0.1, 10)),
    "log10": (np.log10, [0, 1e-30, 0.5, 1, 10, 1000, 1e30, -1, NAN, INF, -INF], (0.1, 10)),
    "sqrt": (np.sqrt, [0, -0.0, 1e-10, 0.25, 2, 1e10, -1, NAN, INF, -INF], (0, 10)),
    "reciprocal": (np.reciprocal, [0, -0.0, 2, -4, 1e-3, 3, 1e10, NAN, INF, -INF], (0.5, 4)),
    "sin": (np.sin, [-math.pi, -1, 0, 1e-8, 0.5, 1, 1.5, 3, 100, 1e4, NAN, INF, -INF], (-4, 4)),
    "cos": (np.cos, [-math.pi, -1, 0, 1e-8, 0.5, 1, 1.5, 3, 100, 1e4, NAN, INF, -INF], (-4, 4)),
    "tan": (np.tan, [-math.pi, -1, 0, 1e-8, 0.5, 1, 1.5, 3, 100, NAN, INF, -INF], (-1.5, 1.5)),
    "tanh": (np.tanh, [-1000, -20, -1, -1e-8, 0, 1e-8, 0.5, 20, 1000, NAN, INF, -INF], (-4, 4)),
    "sinh": (np.sinh, [-1000, -100, -1, 0, 1e-8, 1, 10, 89, 100, 1000, NAN, INF, -INF], (-4, 4)),
    "cosh": (np.cosh, [-1000, -100, -1, 0, 1e-8, 1, 10, 89, 100, 1000, NAN, INF, -INF], (-4, 4)),
    "arcsin": (np.arcsin, [-1, -0.5, 0, 1e-8, 0.5, 0.999, 1, 1.5, -2, NAN, INF], (-1, 1)),
    "arccos": (np.arccos, [-1, -0.5, 0, 1e-8, 0.5, 0.999, 1, 1.5, -2, NAN, INF], (-1, 1)),
    "arctan": (np.arctan, [-INF, -1e10, -1, 0, 1e-8, 1, 1e10, INF, NAN], (-4, 4)),
    "erf": (special.erf, [-INF, -30, -10, -5, -3, -1, -0.5, -1e-8, 0, 1e-8, 0.5, 1, 3, 5, 10, 30, INF, NAN], (-3, 3)),
    "erfc": (special.erfc, [-INF, -30, -10, -5, -3, -1, -0.5, -1e-8, 0, 1e-8, 0.5, 1, 3, 5, 10, 30, INF, NAN], (-3, 3)),
    "erfinv": (special.erfinv, [-INF, -1.5, -1, -0.9999999, -0.999, -0.9, -0.5, -1e-8, 0, 1e-8, 0.3, 0.5, 0.7, 0.999, 0.9999999, 1, 1.5, INF, NAN], (-0.95, 0.95)),
    "sigmoid": (special.expit, [-1000, -100, -30, -10, -1, -1e-8, 0, 1e-8, 1, 10, 30, 100, 1000, NAN, INF, -INF], (-6, 6)),
    "softplus": (lambda x: np.logaddexp(0, x), [-1000, -100, -30, -10, -1, -1e-8, 0, 1e-8, 1, 10, 30, 100, 1000, NAN, INF, -INF], (-6, 6)),
}

# Unary functions that keep the operand's dtype, with their integer edge values.
UNARY_NUMERIC_OPS = {
    "neg": np.negative,
    "abs": np.absolute,
    "sign": np.sign,
    "sqr": np.square,
    "floor": np.floor,
    "ceil": np.ceil,
    "round": np.round,
}
NUMERIC_FLOAT_EDGES = [-2.5, -1.5, -0.5, -0.49999997, -0.0, 0, 0.5, 1.5, 2.5, 3.7, -3.7, 1e20, -1e20, NAN, INF, -INF]
INTEGER_EDGES = {
    "int8": [-128, -127, -100, -1, 0, 1, 12, 100, 127],
    "int16": [-32768, -300, -1, 0, 1, 300, 32767],
    "int32": [-2147483648, -70000, -1, 0, 1, 70000, 2147483647],
    "int64": [-9223372036854775808, -5000000000, -1, 0, 1, 5000000000, 9223372036854775807],
    "uint8": [0, 1, 15, 16, 127, 128, 200, 255],
}


def add_unary_float_ops(fixtures):
    for op, (function, edges, (low, high)) in UNARY_FLOAT_OPS.items():
        for dtype in FLOAT_DTYPES:
            reference = in_float64(function, dtype)
            x = array(edges, dtype)
            fixtures.add(f"{op}/{dtype}/edges", op, [x], reference(x))
            x = array(uniform((3, 4), low, high), dtype)
            fixtures.add(f"{op}/{dtype}/matrix", op, [x], reference(x))
        # Integers compute in float64 (int32) or float32 (int8), as Theano upgrades them.
        for dtype in ("int32", "int8"):
            x = array(np.clip(np.round(uniform((2, 3), low, high)), max(low, -5), min(high, 5)), dtype)
            fixtures.add(f"{op}/{dtype}", op, [x], in_float64(function, theano_float(dtype))(x))


def add_unary_numeric_ops(fixtures):
    for op, function in UNARY_NUMERIC_OPS.items():
        for dtype in FLOAT_DTYPES:
            x = array(NUMERIC_FLOAT_EDGES, dtype)
            fixtures.add(f"{op}/{dtype}/edges", op, [x], native(function)(x))
            x = array(normal((3, 4), 3), dtype)
            fixtures.add(f"{op}/{dtype}/matrix", op, [x], native(function)(x))
        if op in ("floor", "ceil", "round"):
            continue  # float functions of integers: see numpy_semantics_fixtures
        for dtype, edges in INTEGER_EDGES.items():
            x = array(edges, dtype)
            fixtures.add(f"{op}/{dtype}", op, [x], native(function)(x))


def add_predicates(fixtures):
    for dtype in FLOAT_DTYPES:
        x = array([0, -1.5, NAN, INF, -INF, 1e30, -0.0, NAN], dtype)
        fixtures.add(f"isnan/{dtype}", "isnan", [x], np.isnan(x))
        fixtures.add(f"isinf/{dtype}", "isinf", [x], np.isinf(x))
    ints = array([0, -5, 7], "int32")
    fixtures.add("isnan/int32", "isnan", [ints], np.isnan(ints))
    fixtures.add("isinf/int32", "isinf", [ints], np.isinf(ints))
    flags = array([[True, False], [False, True]], "bool")
    fixtures.add("not/bool", "not", [flags], np.logical_not(flags))


# Binary ops: the NumPy function, the interval of random left and right operands, and the
# edge pairs (left, right) checked in float32 and float64.
GENERIC_FLOAT_PAIRS = [
    (0, 0), (-0.0, 0), (1, -1), (2.5, 1e10), (-1e10, 1e-10), (NAN, 1), (1, NAN), (INF, 1),
    (INF, -INF), (-INF, -INF), (INF, 0), (3e38, 3e38), (-3e38, 3e38), (1e-30, 1e-30), (7, 7), (-2, 3),
]
DIVISION_PAIRS = [
    (7.5, 2), (-7.5, 2), (7.5, -2), (-7.5, -2), (0, 3), (-0.0, 3), (6, 3), (-6, 3), (1, 0), (-1, 0),
    (0, 0), (1, 0.1), (5, INF), (-5, INF), (5, -INF), (INF, 3), (NAN, 2), (2, NAN), (1e30, 1e-30),
]
POWER_PAIRS = [
    (2, 3), (-2, 3), (-2, 2), (-2, 0.5), (0, 0), (0, -1), (0, 2.5), (NAN, 0), (1, NAN), (1, INF),
    (-1, INF), (4, 0.5), (-8, 1 / 3), (INF, -1), (-INF, 3), (0.5, INF), (2, -2), (10, 40),
]
ARCTAN2_PAIRS = [
    (0, 0), (0, -0.0), (-0.0, -0.0), (-0.0, 0), (1, 0), (-1, 0), (INF, INF), (-INF, INF), (INF, -INF),
    (1, -INF), (-1, -INF), (NAN, 1), (1, NAN), (3, 4), (-3, -4), (1e-30, 1e30),
]

BINARY_OPS = {
    "add": (np.add, (-4, 4), (-4, 4), GENERIC_FLOAT_PAIRS),
    "sub": (np.subtract, (-4, 4), (-4, 4), GENERIC_FLOAT_PAIRS),
    "mul": (np.multiply, (-4, 4), (-4, 4), GENERIC_FLOAT_PAIRS),
    "true_div": (np.true_divide, (-4, 4), (0.5, 4), GENERIC_FLOAT_PAIRS + DIVISION_PAIRS),
    "int_div": (np.floor_divide, (-8, 8), (0.5, 3), DIVISION_PAIRS),
    "mod": (np.mod, (-8, 8), (0.5, 3), DIVISION_PAIRS),
    "pow": (np.power, (0.1, 4), (-3, 3), POWER_PAIRS),
    "maximum": (np.maximum, (-4, 4), (-4, 4), GENERIC_FLOAT_PAIRS),
    "minimum": (np.minimum, (-4, 4), (-4, 4), GENERIC_FLOAT_PAIRS),
    "arctan2": (np.arctan2, (-4, 4), (-4, 4), ARCTAN2_PAIRS),
    "eq": (np.equal, (-2, 2), (-2, 2), GENERIC_FLOAT_PAIRS),
    "neq": (np.not_equal, (-2, 2), (-2, 2), GENERIC_FLOAT_PAIRS),
    "lt": (np.less, (-2, 2), (-2, 2), GENERIC_FLOAT_PAIRS),
    "le": (np.less_equal, (-2, 2), (-2, 2), GENERIC_FLOAT_PAIRS),
    "gt": (np.greater, (-2, 2), (-2, 2), GENERIC_FLOAT_PAIRS),
    "ge": (np.greater_equal, (-2, 2), (-2, 2), GENERIC_FLOAT_PAIRS),
}
# Ops whose float32 results are computed in float64 and rounded (transcendental ones);
# the others are exact IEEE operations or follow NumPy's float32 semantics.
BINARY_FLOAT64_REFERENCE = {"pow", "arctan2"}
# Operand shapes of the broadcasting cases: matrix with row vector, column with row,
# scalar with matrix, and two 3-d tensors stretched along different axes.
BROADCAST_SHAPES = {
    "matrix_row": ((3, 4), (4,)),
    "column_row": ((3, 1), (1, 4)),
    "scalar_matrix": ((), (3, 4)),
    "matrix_scalar": ((3, 4), ()),
    "tensor3": ((2, 1, 4), (3, 1)),
}

# Integer edge pairs per op family (NumPy's integer semantics: wraparound, floor division
# and remainder by the sign of the divisor, division by zero gives 0).
INTEGER_PAIRS = {
    "arithmetic": {
        "int8": ([100, -100, 127, -128, 5, 0, -7], [100, 100, 1, -1, -3, 0, 7]),
        "int16": ([30000, -30000, 200, -7], [30000, 10, 200, 3]),
        "int32": ([2147483647, -2147483648, 70000, -7, 0], [1, -1, 70000, 3, 0]),
        "int64": ([9223372036854775807, -9223372036854775808, 5000000000, -7], [1, -1, 5000000000, 3]),
        "uint8": ([250, 7, 0, 255, 16], [10, 2, 3, 255, 16]),
    },
    "division": {
        "int8": ([7, -7, 7, -7, 0, 5, -128, 9, -1], [2, 2, -2, -2, 3, 0, -1, 3, 5]),
        "int16": ([7, -7, 7, -7, -32768, 1000], [2, 2, -2, -2, -1, 0]),
        "int32": ([7, -7, 7, -7, 0, 5, -2147483648, 2147483647], [2, 2, -2, -2, 3, 0, -1, -1]),
        "int64": ([7, -7, 7, -7, 0, 5, -9223372036854775808, 123456789012345], [2, 2, -2, -2, 3, 0, -1, 1000]),
        "uint8": ([250, 7, 0, 255, 9], [10, 2, 3, 0, 4]),
    },
    "power": {
        "int8": ([3, -3, 2, 0, 1, -1, 5], [5, 3, 7, 0, 9, 9, 3]),
        "int32": ([-3, -2, 0, 1, 2, 3, 10, 7], [3, 2, 0, 5, 10, 0, 9, 20]),
        "int64": ([3, -2, 10, 7], [40, 63, 18, 30]),
        "uint8": ([2, 3, 255, 0], [8, 5, 2, 0]),
    },
}
INTEGER_FAMILY = {
    "add": "arithmetic", "sub": "arithmetic", "mul": "arithmetic", "maximum": "arithmetic",
    "minimum": "arithmetic", "int_div": "division", "mod": "division", "pow": "power",
    "eq": "arithmetic", "neq": "arithmetic", "lt": "arithmetic", "le": "arithmetic",
    "gt": "arithmetic", "ge": "arithmetic",
}


def binary_reference(op, dtype):
    function = BINARY_OPS[op][0]
    if op in BINARY_FLOAT64_REFERENCE and dtype in FLOAT_DTYPES:
        return in_float64(function, dtype)
    return native(function)


def add_binary_ops(fixtures):
    for op, (function, left_range, right_range, pairs) in BINARY_OPS.items():
        for dtype in FLOAT_DTYPES:
            reference = binary_reference(op, dtype)
            left = array([a for a, _ in pairs], dtype)
            right = array([b for _, b in pairs], dtype)
            fixtures.add(f"{op}/{dtype}/edges", op, [left, right], reference(left, right))
            for layout, (left_shape, right_shape) in BROADCAST_SHAPES.items():
                left = array(uniform(left_shape, *left_range), dtype)
                right = array(uniform(right_shape, *right_range), dtype)
                fixtures.add(f"{op}/{dtype}/{layout}", op, [left, right], reference(left, right))
        family = INTEGER_FAMILY.get(op)
        if family is None:
            continue
        for dtype, (left, right) in INTEGER_PAIRS[family].items():
            left, right = array(left, dtype), array(right, dtype)
            fixtures.add(f"{op}/{dtype}/edges", op, [left, right], native(function)(left, right))
        left = integers((3, 1), 1, 9, "int32")
        right = integers((4,), 1, 5, "int32")
        fixtures.add(f"{op}/int32/column_row", op, [left, right], native(function)(left, right))


def add_mixed_dtype_cases(fixtures):
    """Operands of different dtypes are promoted as NumPy does."""
    int8s = array([-128, -1, 0, 100, 127], "int8")
    uint8s = array([255, 255, 0, 200, 1], "uint8")
    int32s = array([[16777217, -3, 7]], "int32")
    float32s = array([[0.5, 0.25, -1.5], [1, 2, 3]], "float32")
    float64s = array([0.5, NAN, -2.25], "float64")
    bools = array([True, False, True], "bool")
    cases = [
        ("add/int8+uint8", "add", int8s, uint8s),
        ("mul/int8+uint8", "mul", int8s, uint8s),
        ("lt/int8_vs_uint8", "lt", int8s, uint8s),
        ("add/int32+float32", "add", int32s, float32s),
        ("maximum/int32+float64", "maximum", int32s, float64s),
        ("mul/bool+int32", "mul", bools, int32s),
        ("true_div/int32", "true_div", int32s, array([[2, 0, -2]], "int32")),
        ("true_div/int64_by_zero", "true_div", array([1, -1, 0, 7], "int64"), array([0, 0, 0, 2], "int64")),
        ("eq/int64+float64", "eq", array([1, 2, 3], "int64"), float64s),
        ("arctan2/int32", "arctan2", array([1, -1, 0], "int32"), array([0, -1, -5], "int32")),
        ("add/float32+float64", "add", float32s, float64s),
        ("add/int16+float32", "add", array([[-300], [7]], "int16"), float32s),
        ("mul/uint8+float32", "mul", array([255, 0, 3], "uint8"), float32s),
        ("sub/int64+uint8", "sub", array([1, -1, 300], "int64"), array([255, 255, 0], "uint8")),
        ("add/bool+float32", "add", bools, float32s),
    ]
    for name, op, left, right in cases:
        fixtures.add(name, op, [left, right], native(BINARY_OPS[op][0])(left, right))


# Ops with a Swift number on one side: (op, tensor dtype, number, side, NumPy function).
LITERAL_CASES = [
    ("add", "float32", 2.5, "right", np.add),
    ("add", "float64", 2.5, "left", np.add),
    ("sub", "float32", 3.0, "left", np.subtract),
    ("sub", "float64", 0.125, "right", np.subtract),
    ("mul", "float32", 0.5, "right", np.multiply),
    ("mul", "int8", 3, "left", np.multiply),
    ("true_div", "float64", 4.0, "right", np.true_divide),
    ("true_div", "float32", 10.0, "left", np.true_divide),
    ("mod", "float64", 3.0, "right", np.mod),
    ("mod", "int32", 3, "right", np.mod),
    ("add", "int32", 2, "right", np.add),
    ("add", "int32", 2.5, "right", np.add),
    ("pow", "float32", 2.0, "right", np.power),
    ("pow", "float64", 0.5, "right", np.power),
    ("eq", "float32", 1.0, "right", np.equal),
    ("lt", "int32", 2, "right", np.less),
    ("ge", "float64", -0.5, "right", np.greater_equal),
    ("lt", "int32", 2.5, "right", np.less),
    ("add", "bool", 2, "right", np.add),
    ("sub", "uint8", 3, "right", np.subtract),
    ("mod", "int32", 2.5, "right", np.mod),
    ("true_div", "int32", 4.0, "right", np.true_divide),
    # NumPy (and the doc comment of the Swift operators) make a float literal beside an
    # integer tensor give a float result, whole-valued or not.
    ("mul", "int32", 2.0, "right", np.multiply),
]
# A tensor of each dtype for the cases above.
LITERAL_OPERANDS = {
    "bool": [[True, False, True], [False, False, True]],
    "uint8": [[0, 1, 2], [3, 200, 255]],
    "int8": [[-7, 0, 1], [5, 50, 3]],
    "int32": [[-7, 0, 1], [5, 50, 3]],
    "float32": [[-1.5, 0, 0.25], [2, 4, NAN]],
    "float64": [[-1.5, 0, 0.25], [2, 4, NAN]],
}


def add_literal_cases(fixtures):
    """NumPy 2's rule for a Python number beside an array: the array's dtype wins when it
    holds the number, else a float64 result for integer arrays."""
    for op, dtype, number, side, function in LITERAL_CASES:
        x = array(LITERAL_OPERANDS[dtype], dtype)
        operands = (x, number) if side == "right" else (number, x)
        expected = native(function)(*operands)
        if dtype == "float32" and op == "pow":
            expected = in_float64(function, dtype)(*operands)
        fixtures.add(f"{op}/{dtype}/literal_{side}_{number}", op, [x], expected,
                     params={"scalar": number, "side": side, "integer_literal": isinstance(number, int)})


def add_ternary_cases(fixtures):
    for dtype in FLOAT_DTYPES:
        condition = array([[True], [False], [True]], "bool")
        a = array(normal((3, 4)), dtype)
        b = array(-7.5, dtype)
        for op in ("switch", "where"):
            fixtures.add(f"{op}/{dtype}/broadcast", op, [condition, a, b], np.where(condition, a, b))
        x = array([[-3, -0.5, 0, 0.5], [2, 3, NAN, INF], [-INF, 1.25, -1.25, 10]], dtype)
        low, high = array(-1, dtype), array([0, 1, 2, 3], dtype)
        fixtures.add(f"clip/{dtype}/tensor_bounds", "clip", [x, low, high], np.clip(x, low, high))
        fixtures.add(f"clip/{dtype}/literal_bounds", "clip", [x], np.clip(x, -1.0, 2.5).astype(dtype),
                     params={"low": -1.0, "high": 2.5})
        fixtures.add(f"clip/{dtype}/low_above_high", "clip", [x], np.clip(x, 2.0, 1.0).astype(dtype),
                     params={"low": 2.0, "high": 1.0})
    condition = array([[True, False, True], [False, False, True]], "bool")
    ints, floats = array([[1, 2, 3], [4, 5, 6]], "int32"), array([0.5, -0.5, 1.5], "float64")
    fixtures.add("switch/int32_float64_promotes", "switch", [condition, ints, floats], np.where(condition, ints, floats))
    numeric_condition = array([0.0, NAN, -2.0, 0.5, -0.0], "float64")
    a, b = array([1, 2, 3, 4, 5], "int64"), array([-1, -2, -3, -4, -5], "int64")
    fixtures.add("where/float_condition", "where", [numeric_condition, a, b], np.where(numeric_condition, a, b))
    ints = array([-100, -3, 0, 4, 100], "int32")
    fixtures.add("clip/int32/literal_bounds", "clip", [ints], np.clip(ints, -5, 5).astype("int32"),
                 params={"low": -5, "high": 5, "integer_literal": True})
    fixtures.add("clip/int32/tensor_bounds", "clip", [ints, array(-3, "int32"), array(50, "int32")],
                 np.clip(ints, -3, 50))


def add_logical_cases(fixtures):
    left = array([[True, True, False, False]], "bool")
    right = array([[True], [False]], "bool")
    for op, function in (("and", np.logical_and), ("or", np.logical_or), ("xor", np.logical_xor)):
        fixtures.add(f"{op}/bool/column_row", op, [left, right], function(left, right))


def add_cast_cases(fixtures):
    casts = [
        ("float64_to_float32", array([0.1, 1e39, -1e39, 1e-46, 16777217, NAN, INF, -0.0], "float64"), "float32"),
        ("float32_to_float64", array([0.1, -2.5, 3e38, NAN, -INF], "float32"), "float64"),
        ("float64_to_int32_truncates", array([2.9, -2.9, 0.5, -0.5, 2147483647.0, -2147483648.0], "float64"), "int32"),
        ("float32_to_int8_truncates", array([127.9, -128.9, 3.5, -3.5, 0], "float32"), "int8"),
        ("float64_to_int64", array([1e15, -1e15, 9.99, -9.99], "float64"), "int64"),
        ("int64_to_int8_wraps", array([300, -129, 127, -128, 255, 256], "int64"), "int8"),
        ("int32_to_uint8_wraps", array([-1, 256, 300, 255, 0], "int32"), "uint8"),
        ("int64_to_int16_wraps", array([40000, -40000, 32767], "int64"), "int16"),
        ("int64_to_float32_rounds", array([16777217, 16777219, -16777217, 3], "int64"), "float32"),
        ("int64_to_float64", array([9007199254740993, -5, 0], "int64"), "float64"),
        ("float64_to_bool", array([0.0, -0.0, NAN, INF, 1e-300, -2], "float64"), "bool"),
        ("int8_to_bool", array([0, -1, 5], "int8"), "bool"),
        ("bool_to_float32", array([True, False], "bool"), "float32"),
        ("bool_to_int64", array([[True, False], [False, True]], "bool"), "int64"),
        ("uint8_to_int8", array([0, 127, 128, 255], "uint8"), "int8"),
    ]
    for name, x, dtype in casts:
        with np.errstate(all="ignore"):
            fixtures.add(f"cast/{name}", "cast", [x], x.astype(dtype), params={"dtype": dtype})


def add_degenerate_shapes(fixtures):
    """Scalars with scalars, empty tensors, and ops that return their input."""
    cases = [
        ("add/float64/scalar_scalar", "add", [array(1.5, "float64"), array(-4, "float64")], np.add),
        ("exp/float32/empty", "exp", [array(np.zeros((0, 3)), "float32")], np.exp),
        ("add/float64/empty_with_row", "add", [array(np.zeros((0, 3)), "float64"), array([1, 2, 3], "float64")], np.add),
        ("mul/int32/empty_with_column", "mul", [array(np.zeros((2, 0)), "int32"), array([[1], [2]], "int32")], np.multiply),
        ("where/bool_branches", "where", [array([0, 5, -1], "int32"), array([True, True, False], "bool"),
                                          array([False, False, False], "bool")], np.where),
    ]
    for name, op, inputs, function in cases:
        fixtures.add(name, op, inputs, native(function)(*inputs))
    same = array([[0.5, -1], [NAN, 2]], "float32")
    fixtures.add("cast/float32_to_float32_is_identity", "cast", [same], same, params={"dtype": "float32"})


def elementwise_fixtures():
    fixtures = FixtureFile("elementwise", "Elementwise ops in float32, float64 and integer dtypes, "
                           "with broadcasting and edge values.")
    add_unary_float_ops(fixtures)
    add_unary_numeric_ops(fixtures)
    add_predicates(fixtures)
    add_binary_ops(fixtures)
    add_mixed_dtype_cases(fixtures)
    add_literal_cases(fixtures)
    add_ternary_cases(fixtures)
    add_logical_cases(fixtures)
    add_cast_cases(fixtures)
    add_degenerate_shapes(fixtures)
    return fixtures


# MARK: - Reductions

# Axis selections: None (every axis), one axis, a negative one and several.
AXIS_CHOICES = [None, 0, 1, -1, [0, 2], [2, 0, 1]]


def axis_label(axis):
    if axis is None:
        return "all"
    if isinstance(axis, list):
        return "axes_" + "_".join(str(a) for a in axis)
    return f"axis_{axis}"


def numpy_axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


def logsumexp(x, axis=None, keepdims=False):
    with np.errstate(all="ignore"):
        return special.logsumexp(x, axis=numpy_axis(axis), keepdims=keepdims)


REDUCTIONS = {
    "sum": lambda x, axis, keep: np.sum(x, axis=numpy_axis(axis), keepdims=keep),
    "prod": lambda x, axis, keep: np.prod(x, axis=numpy_axis(axis), keepdims=keep),
    "max": lambda x, axis, keep: np.max(x, axis=numpy_axis(axis), keepdims=keep),
    "min": lambda x, axis, keep: np.min(x, axis=numpy_axis(axis), keepdims=keep),
    "mean": lambda x, axis, keep: np.mean(x, axis=numpy_axis(axis), keepdims=keep),
    "var": lambda x, axis, keep: np.var(x, axis=numpy_axis(axis), keepdims=keep),
    "std": lambda x, axis, keep: np.std(x, axis=numpy_axis(axis), keepdims=keep),
    "logsumexp": logsumexp,
}


def reduction_input(op, dtype):
    """A (2, 3, 4) tensor; products use values near 1 so that they neither overflow nor vanish."""
    if op == "prod":
        return array(uniform((2, 3, 4), 0.5, 1.5), dtype)
    return array(normal((2, 3, 4), 2), dtype)


def add_float_reductions(fixtures):
    for op, function in REDUCTIONS.items():
        for dtype in FLOAT_DTYPES:
            x = reduction_input(op, dtype)
            for axis in AXIS_CHOICES:
                for keep in (False, True):
                    expected = in_float64(lambda v: function(v, axis, keep), dtype)(x)
                    fixtures.add(f"{op}/{dtype}/{axis_label(axis)}/keepdims_{str(keep).lower()}", op, [x], expected,
                                 params={"axis": axis, "keepdims": keep})


def add_integer_reductions(fixtures):
    x = integers((2, 3, 4), -9, 9, "int32")
    small = integers((2, 3, 4), -3, 3, "int32")
    for op in ("sum", "prod", "max", "min", "mean"):
        source = small if op == "prod" else x
        for axis in (None, 1, [0, 2]):
            for keep in (False, True):
                expected = REDUCTIONS[op](source, axis, keep)
                fixtures.add(f"{op}/int32/{axis_label(axis)}/keepdims_{str(keep).lower()}", op, [source], expected,
                             params={"axis": axis, "keepdims": keep})
    bytes_ = array([[200, 255, 100], [1, 2, 3]], "uint8")
    fixtures.add("sum/uint8_widens_to_int64", "sum", [bytes_], np.sum(bytes_, axis=1).astype("int64"),
                 params={"axis": 1, "keepdims": False})
    int8s = array([[100, 100, 100], [-128, -128, 1]], "int8")
    fixtures.add("sum/int8_widens_to_int64", "sum", [int8s], np.sum(int8s, axis=1), params={"axis": 1, "keepdims": False})
    fixtures.add("prod/int64_wraps", "prod", [array([3037000500, 3037000500, 7], "int64")],
                 native(np.prod)(array([3037000500, 3037000500, 7], "int64")), params={"axis": None, "keepdims": False})
    fixtures.add("mean/int64_to_float64", "mean", [array([[1, 2], [4, 8]], "int64")],
                 np.mean(array([[1, 2], [4, 8]], "int64"), axis=0), params={"axis": 0, "keepdims": False})
    fixtures.add("var/int32_to_float64", "var", [x], np.var(x, axis=-1), params={"axis": -1, "keepdims": False})


def add_boolean_reductions(fixtures):
    flags = array(rng.random((2, 3, 4)) < 0.7, "bool")
    flags[0, 0, :] = True
    flags[1, 2, :] = False
    for op, function in (("all", np.all), ("any", np.any)):
        for axis in AXIS_CHOICES:
            for keep in (False, True):
                fixtures.add(f"{op}/bool/{axis_label(axis)}/keepdims_{str(keep).lower()}", op, [flags],
                             function(flags, axis=numpy_axis(axis), keepdims=keep),
                             params={"axis": axis, "keepdims": keep})
        numbers = array([[0.0, NAN, 2], [-0.0, 0, 0]], "float64")
        fixtures.add(f"{op}/float64_nonzero_is_true", op, [numbers], function(numbers, axis=1),
                     params={"axis": 1, "keepdims": False})
        ints = array([[0, 3], [1, 2]], "int32")
        fixtures.add(f"{op}/int32", op, [ints], function(ints, axis=0), params={"axis": 0, "keepdims": False})


def add_arg_reductions(fixtures):
    for op, function in (("argmax", np.argmax), ("argmin", np.argmin)):
        for dtype in FLOAT_DTYPES:
            x = array(normal((3, 4, 5)), dtype)
            for axis in (None, 0, 1, -1):
                for keep in (False, True):
                    fixtures.add(f"{op}/{dtype}/{axis_label(axis)}/keepdims_{str(keep).lower()}", op, [x],
                                 function(x, axis=axis, keepdims=keep), params={"axis": axis, "keepdims": keep})
            # The first extreme wins a tie; NaN counts as both the largest and the smallest.
            special_rows = array([[1, 3, 3, 0], [2, NAN, 5, NAN], [-INF, -INF, INF, INF], [4, 4, 4, 4]], dtype)
            fixtures.add(f"{op}/{dtype}/ties_nan_inf", op, [special_rows], function(special_rows, axis=1),
                         params={"axis": 1, "keepdims": False})
        ints = array([[5, -3, 5], [-128, 127, -128]], "int8")
        fixtures.add(f"{op}/int8", op, [ints], function(ints, axis=1), params={"axis": 1, "keepdims": False})
        fixtures.add(f"{op}/int32/all", op, [array([[4, 9], [9, -1]], "int32")],
                     function(array([[4, 9], [9, -1]], "int32")), params={"axis": None, "keepdims": False})
        nan_first = array([[NAN, 1, 2], [3, 2, NAN], [NAN, NAN, 0]], "float64")
        fixtures.add(f"{op}/float64/nan_first", op, [nan_first], function(nan_first, axis=1),
                     params={"axis": 1, "keepdims": False})


def add_argsort_cases(fixtures):
    for dtype in FLOAT_DTYPES:
        x = array(normal((3, 4, 5)), dtype)
        for axis in (0, 1, -1):
            fixtures.add(f"argsort/{dtype}/{axis_label(axis)}", "argsort", [x], np.argsort(x, axis=axis, kind="stable"),
                         params={"axis": axis})
        # Ties keep their order; NaN sorts last, infinities at their ends.
        special_rows = array([[3, 1, 3, 1], [NAN, 2, NAN, -1], [INF, -INF, 0, -0.0]], dtype)
        fixtures.add(f"argsort/{dtype}/ties_nan_inf", "argsort", [special_rows], np.argsort(special_rows, axis=1, kind="stable"),
                     params={"axis": 1})
    ints = array([[5, -3, 5, 0], [-128, 127, -128, 1]], "int8")
    fixtures.add("argsort/int8", "argsort", [ints], np.argsort(ints, axis=1, kind="stable"), params={"axis": 1})
    empty = array(np.zeros((2, 0)), "float64")
    fixtures.add("argsort/float64/empty", "argsort", [empty], np.argsort(empty, axis=1), params={"axis": 1})


def add_reduction_edges(fixtures):
    for dtype in FLOAT_DTYPES:
        with_nan = array([[1, NAN, 3], [INF, 2, -INF], [-1, -2, -3]], dtype)
        for op in ("sum", "prod", "max", "min", "mean"):
            fixtures.add(f"{op}/{dtype}/nan_inf_rows", op, [with_nan],
                         in_float64(lambda v: REDUCTIONS[op](v, 1, False), dtype)(with_nan),
                         params={"axis": 1, "keepdims": False})
        # Large values must not overflow; an all -inf row gives -inf, not nan.
        rows = array([[1000, 0, -1000], [-INF, -INF, -INF], [-INF, 0, 1], [1e30, 1e30, 0], [INF, 0, 1]], dtype)
        fixtures.add(f"logsumexp/{dtype}/extreme_rows", "logsumexp", [rows],
                     in_float64(lambda v: logsumexp(v, 1), dtype)(rows), params={"axis": 1, "keepdims": False})
        x = array(normal((4, 5)), dtype)
        for op in ("var", "std"):
            fixtures.add(f"{op}/{dtype}/ddof_1", op, [x],
                         in_float64(lambda v: getattr(np, op)(v, axis=0, ddof=1), dtype)(x),
                         params={"axis": 0, "keepdims": False, "ddof": 1})
        # An offset much larger than the spread: a one-pass formula would cancel badly.
        shifted = array(1000 + normal((6,)), dtype)
        fixtures.add(f"var/{dtype}/large_offset", "var", [shifted], in_float64(np.var, dtype)(shifted),
                     params={"axis": None, "keepdims": False})
    fixtures.add("logsumexp/int32_to_float64", "logsumexp", [array([[1, 2, 3], [0, -5, 700]], "int32")],
                 logsumexp(array([[1, 2, 3], [0, -5, 700]], "float64"), 1), params={"axis": 1, "keepdims": False})


def add_degenerate_reductions(fixtures):
    """Empty axes (the identity of the reduction), 0-d inputs, and booleans and small
    integers counted as numbers."""
    empty = array(np.zeros((0, 3)), "float64")
    for op, function in (("sum", np.sum), ("prod", np.prod), ("mean", np.mean), ("all", np.all), ("any", np.any)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # the mean of nothing is nan
            fixtures.add(f"{op}/float64/empty_axis", op, [empty], function(empty, axis=0),
                         params={"axis": 0, "keepdims": False})
    fixtures.add("sum/float64/all_of_empty_rows", "sum", [array(np.zeros((2, 0)), "float64")], np.zeros(2),
                 params={"axis": 1, "keepdims": False})
    scalar = array(-2.5, "float64")
    for op in ("sum", "max", "mean", "logsumexp"):
        fixtures.add(f"{op}/float64/scalar_input", op, [scalar], REDUCTIONS[op](scalar, None, False),
                     params={"axis": None, "keepdims": False})
    fixtures.add("argmax/float64/scalar_input", "argmax", [scalar], np.argmax(scalar), params={"axis": None, "keepdims": False})
    flags = array(rng.random((2, 3, 4)) < 0.5, "bool")
    fixtures.add("sum/bool_counts_as_int64", "sum", [flags], np.sum(flags, axis=-1), params={"axis": -1, "keepdims": False})
    fixtures.add("mean/bool_to_float64", "mean", [flags], np.mean(flags, axis=(0, 2)), params={"axis": [0, 2], "keepdims": False})
    for dtype, values in (("int8", [[-128, 127, 5], [0, -1, -128]]), ("uint8", [[0, 255, 7], [200, 100, 1]])):
        x = array(values, dtype)
        fixtures.add(f"max/{dtype}", "max", [x], np.max(x, axis=1), params={"axis": 1, "keepdims": False})
        fixtures.add(f"min/{dtype}", "min", [x], np.min(x, axis=0, keepdims=True), params={"axis": 0, "keepdims": True})


def reduction_fixtures():
    fixtures = FixtureFile("reductions", "Reductions over no, one and several axes, with and without keepdims.")
    add_float_reductions(fixtures)
    add_integer_reductions(fixtures)
    add_boolean_reductions(fixtures)
    add_arg_reductions(fixtures)
    add_reduction_edges(fixtures)
    add_degenerate_reductions(fixtures)
    add_argsort_cases(fixtures)
    return fixtures


# MARK: - Linear algebra


def exact_dot(a, b):
    """np.dot without BLAS, so that 0 * inf and nan propagate as IEEE arithmetic says."""
    with np.errstate(all="ignore"):
        left = a if a.ndim == 2 else a[None, :]
        right = b if b.ndim == 2 else b[:, None]
        product = (left[:, :, None] * right[None, :, :]).sum(axis=1)
        shape = a.shape[:-1] + b.shape[1:]
        return product.reshape(shape)


DOT_SHAPES = {
    "vector_vector": ((5,), (5,)),
    "matrix_vector": ((3, 5), (5,)),
    "vector_matrix": ((5,), (5, 4)),
    "matrix_matrix": ((3, 5), (5, 4)),
    "matrix_matrix_large": ((20, 33), (33, 12)),
    "empty_inner": ((3, 0), (0, 2)),
}


def linalg_fixtures():
    fixtures = FixtureFile("linalg", "dot for every vector/matrix combination and outer.")
    for dtype in FLOAT_DTYPES + ("int32", "int64"):
        for name, (left_shape, right_shape) in DOT_SHAPES.items():
            if dtype in FLOAT_DTYPES:
                a, b = array(normal(left_shape), dtype), array(normal(right_shape), dtype)
            else:
                a, b = integers(left_shape, -9, 9, dtype), integers(right_shape, -9, 9, dtype)
            expected = in_float64(np.dot, dtype)(a, b) if dtype in FLOAT_DTYPES else np.dot(a, b)
            fixtures.add(f"dot/{dtype}/{name}", "dot", [a, b], expected)
        a = array(normal((4,)), dtype) if dtype in FLOAT_DTYPES else integers((4,), -9, 9, dtype)
        b = array(normal((3,)), dtype) if dtype in FLOAT_DTYPES else integers((3,), -9, 9, dtype)
        fixtures.add(f"outer/{dtype}", "outer", [a, b], np.outer(a, b))
    fixtures.add("outer/int32_float32_promotes_to_float64", "outer", [array([1, -2], "int32"), array([0.5, 3], "float32")],
                 np.outer(array([1, -2], "int32"), array([0.5, 3], "float32")))
    ints, floats = integers((3, 4), -5, 5, "int32"), array(normal((4, 2)), "float32")
    fixtures.add("dot/int32_float32_promotes_to_float64", "dot", [ints, floats], np.dot(ints, floats))
    matrix = array(normal((2, 3)), "float64")
    fixtures.add("dot/scalar_matrix_multiplies", "dot", [array(2.5, "float64"), matrix], np.dot(2.5, matrix))
    # A zero times inf or nan is nan, whatever else the row holds.
    for dtype in FLOAT_DTYPES:
        a = array([[0, 1, 2], [1, 0, 0], [1, 1, 1]], dtype)
        b = array([[INF, 1], [2, NAN], [1, 1]], dtype)
        fixtures.add(f"dot/{dtype}/zero_times_inf_is_nan", "dot", [a, b], exact_dot(a, b))
        v = array([0, 2], dtype)
        fixtures.add(f"dot/{dtype}/vector_zero_times_nan", "dot", [v, array([NAN, 1], dtype)],
                     exact_dot(v, array([NAN, 1], dtype)))
    bytes_ = array([[100, -100], [127, 2]], "int8")
    fixtures.add("dot/int8_wraps", "dot", [bytes_, bytes_], np.dot(bytes_, bytes_))
    large = array([3000000000, 4000000000], "int64")
    fixtures.add("dot/int64_wraps", "dot", [large, large], native(lambda a, b: (a * b).sum())(large, large))
    return fixtures


# MARK: - Matrix algebra


def matrix_algebra_fixtures():
    """Dense linear algebra against NumPy and SciPy (LAPACK from their OpenBLAS). A local
    generator keeps the other files' draws unchanged. float32 cases are computed in float64
    and rounded, as the library does."""
    import scipy.linalg as sl

    fixtures = FixtureFile("matrix_algebra", "Decompositions, solves, inverses, determinants, eigenvalues, the SVD, "
                           "QR, least squares, expm, triangles, diagonals and the matrix functions built from them.")
    r = np.random.default_rng(SEED + 16)

    def general(*shape):
        return dyadic(r.normal(size=shape))

    def well_conditioned(*shape):
        """Square matrices with a dominant diagonal: far from singular."""
        n = shape[-1]
        return dyadic(r.normal(size=shape) + 3 * np.eye(n))

    def positive_definite(*shape):
        m = r.normal(size=shape)
        return dyadic(m @ np.swapaxes(m, -1, -2) + shape[-1] * np.eye(shape[-1]))

    def stacked(function, *arrays):
        """`function` applied to each matrix of stacks of matrices (SciPy does not batch)."""
        batch = arrays[0].shape[:-2]
        if not batch:
            return function(*arrays)
        results = [function(*[a[index] for a in arrays]) for index in np.ndindex(*batch)]
        return np.stack(results).reshape(batch + np.asarray(results[0]).shape)

    def add(name, op, inputs, compute, params=None, dtypes=FLOAT_DTYPES):
        for dtype in dtypes:
            cast = [np.asarray(x, dtype=dtype) if np.asarray(x).dtype.kind == "f" else np.asarray(x) for x in inputs]
            expected = np.asarray(compute(*[np.asarray(x, dtype=np.float64) if np.asarray(x).dtype.kind == "f" else x
                                           for x in cast]))
            out = dtype if dtype in FLOAT_DTYPES else "float64"
            fixtures.add(f"{name}/{dtype}", op, cast, expected.astype(out), params=params)

    spd, spd_stack = positive_definite(4, 4), positive_definite(2, 3, 3)
    # The triangle not read holds noise: only the one read may matter.
    noisy_spd = np.tril(spd) + np.triu(general(4, 4), 1)
    add("cholesky/lower", "cholesky", [spd], lambda a: sl.cholesky(a, lower=True), {"lower": True})
    add("cholesky/upper", "cholesky", [spd], lambda a: sl.cholesky(a, lower=False), {"lower": False})
    add("cholesky/reads_lower_triangle", "cholesky", [noisy_spd], lambda a: sl.cholesky(np.tril(a) + np.tril(a, -1).T, lower=True),
        {"lower": True})
    add("cholesky/stack", "cholesky", [spd_stack], lambda a: np.linalg.cholesky(a), {"lower": True})
    add("cholesky/integers", "cholesky", [np.array([[4, 2], [2, 3]], "int64")], lambda a: np.linalg.cholesky(a.astype(float)),
        {"lower": True}, dtypes=("int64",))

    a, b, v = well_conditioned(4, 4), general(4, 3), general(4)
    a_stack, b_stack = well_conditioned(2, 3, 3), general(2, 3, 2)
    add("solve/general_matrix", "solve", [a, b], lambda a, b: sl.solve(a, b), {"assume": "general"})
    add("solve/general_vector", "solve", [a, v], lambda a, b: sl.solve(a, b), {"assume": "general"})
    add("solve/stack", "solve", [a_stack, b_stack], lambda a, b: np.linalg.solve(a, b), {"assume": "general"})
    noisy_upper_spd = np.triu(spd) + np.tril(general(4, 4), -1)
    add("solve/positive_definite_upper", "solve", [noisy_upper_spd, b], lambda a, b: sl.solve(a, b, assume_a="pos", lower=False),
        {"assume": "positiveDefinite", "lower": False})
    add("solve/positive_definite_lower", "solve", [noisy_spd, b], lambda a, b: sl.solve(a, b, assume_a="pos", lower=True),
        {"assume": "positiveDefinite", "lower": True})
    symmetric = a + a.T
    add("solve/symmetric_lower", "solve", [np.tril(symmetric) + np.triu(general(4, 4), 1), b],
        lambda a, b: sl.solve(a, b, assume_a="sym", lower=True), {"assume": "symmetric", "lower": True})
    add("solve/lower_triangular", "solve", [a, b], lambda a, b: sl.solve_triangular(a, b, lower=True), {"assume": "lowerTriangular"})
    add("solve/upper_triangular", "solve", [a, v], lambda a, b: sl.solve_triangular(a, b, lower=False), {"assume": "upperTriangular"})
    for lower in (True, False):
        for trans in (0, 1):
            for unit in (False, True):
                name = f"solve_triangular/{'lower' if lower else 'upper'}{'_transposed' if trans else ''}{'_unit' if unit else ''}"
                add(name, "solve_triangular", [a, b],
                    lambda a, b, lower=lower, trans=trans, unit=unit: sl.solve_triangular(a, b, lower=lower, trans=trans, unit_diagonal=unit),
                    {"lower": lower, "transposed": bool(trans), "unit": unit})
    add("solve_triangular/stack_of_vectors", "solve_triangular", [a_stack, general(2, 3)],
        lambda a, b: np.stack([sl.solve_triangular(a[i], b[i], lower=True) for i in range(2)]), {"lower": True, "transposed": False, "unit": False})
    factor = sl.cholesky(spd, lower=True)
    add("cho_solve/lower", "cho_solve", [factor, b], lambda c, b: sl.cho_solve((c, True), b), {"lower": True})
    add("cho_solve/upper_vector", "cho_solve", [factor.T, v], lambda c, b: sl.cho_solve((c, False), b), {"lower": False})

    lu, pivots = sl.lu_factor(a)
    add("lu_factor/lu", "lu_factor", [a], lambda a: sl.lu_factor(a)[0], {"output": 0})
    fixtures.add("lu_factor/pivots", "lu_factor", [a], sl.lu_factor(a)[1].astype("int32"), params={"output": 1})
    for trans in (0, 1):
        fixtures.add(f"lu_solve/{'transposed' if trans else 'plain'}", "lu_solve", [lu, pivots.astype("int32"), b],
                     sl.lu_solve((lu, pivots), b, trans=trans), params={"transposed": bool(trans)})

    add("inv/matrix", "inv", [a], np.linalg.inv)
    add("inv/stack", "inv", [a_stack], np.linalg.inv)
    wide, tall = general(3, 5), general(5, 3)
    add("pinv/wide", "pinv", [wide], np.linalg.pinv)
    add("pinv/tall", "pinv", [tall], np.linalg.pinv)
    rank_one = np.outer(general(4), general(3))
    add("pinv/rank_deficient", "pinv", [rank_one], np.linalg.pinv, dtypes=("float64",))

    add("det/matrix", "det", [a], np.linalg.det)
    add("det/stack", "det", [a_stack], np.linalg.det)
    add("det/singular", "det", [np.array([[1.0, 2.0], [2.0, 4.0]])], np.linalg.det)
    add("det/integers", "det", [np.array([[2, 1], [7, 4]], "int32")], lambda a: np.linalg.det(a.astype(float)), dtypes=("int32",))
    permuted = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]) * 2
    add("det/permutation", "det", [permuted], np.linalg.det)
    for output, label in ((0, "sign"), (1, "logabsdet")):
        add(f"slogdet/{label}", "slogdet", [-a], lambda a, output=output: np.linalg.slogdet(a)[output], {"output": output})
        add(f"slogdet/stack_{label}", "slogdet", [a_stack], lambda a, output=output: np.linalg.slogdet(a)[output], {"output": output})
        add(f"slogdet/singular_{label}", "slogdet", [np.array([[1.0, 2.0], [2.0, 4.0]])],
            lambda a, output=output: np.linalg.slogdet(a)[output], {"output": output})

    sym = a + a.T
    noisy_sym = np.tril(sym) + np.triu(general(4, 4), 1)

    def signed_columns(vectors):
        return vectors * np.sign(vectors[..., :1, :])

    add("eigh/values", "eigh", [sym], lambda a: np.linalg.eigh(a)[0], {"output": 0, "lower": True})
    add("eigh/vectors", "eigh", [sym], lambda a: signed_columns(np.linalg.eigh(a)[1]), {"output": 1, "lower": True})
    add("eigh/reads_lower_triangle", "eigh", [noisy_sym], lambda a: np.linalg.eigh(a, UPLO="L")[0], {"output": 0, "lower": True})
    add("eigh/upper_vectors", "eigh", [noisy_sym.T], lambda a: signed_columns(np.linalg.eigh(a, UPLO="U")[1]), {"output": 1, "lower": False})
    add("eigvalsh/stack", "eigvalsh", [spd_stack], np.linalg.eigvalsh)
    rotation = np.array([[0.0, -2.0, 0.0], [2.0, 0.0, 0.0], [0.0, 0.0, 3.0]])
    for output, part in ((0, np.real), (1, np.imag)):
        add(f"eigvals/{'real' if output == 0 else 'imaginary'}", "eigvals", [rotation],
            lambda a, part=part: part(np.linalg.eigvals(a)), {"output": output})
    upper_triangular = np.triu(general(3, 3))
    add("eigvals/triangular_real", "eigvals", [upper_triangular], lambda a: np.real(np.linalg.eigvals(a)), {"output": 0})

    def signed_svd(a, full, output):
        """u with each column, vt with each row, starting positive (signs are arbitrary)."""
        u, _, vt = np.linalg.svd(a, full_matrices=full)
        return u * np.sign(u[..., :1, :]) if output == 0 else vt * np.sign(vt[..., :, :1])

    for label, x in (("tall", tall), ("wide", wide)):
        add(f"svd/{label}_values", "svdvals", [x], lambda a: np.linalg.svd(a, compute_uv=False))
        for output, part in ((0, "u"), (2, "vt")):
            for full in (False, True):
                add(f"svd/{label}_{part}{'_full' if full else ''}", "svd", [x],
                    lambda a, full=full, output=output: signed_svd(a, full, output), {"output": output, "full": full})
    add("svd/stack_values", "svdvals", [general(2, 3, 4)], lambda a: np.linalg.svd(a, compute_uv=False))

    for label, x in (("tall", tall), ("wide", wide)):
        for mode in ("reduced", "complete"):
            for output in (0, 1):
                add(f"qr/{label}_{mode}_{'q' if output == 0 else 'r'}", "qr", [x],
                    lambda a, mode=mode, output=output: np.linalg.qr(a, mode=mode)[output], {"output": output, "mode": mode})

    add("lstsq/overdetermined", "lstsq", [tall, general(5, 2)], lambda a, b: np.linalg.lstsq(a, b, rcond=None)[0])
    add("lstsq/vector", "lstsq", [tall, general(5)], lambda a, b: np.linalg.lstsq(a, b, rcond=None)[0])
    add("lstsq/underdetermined_minimum_norm", "lstsq", [wide, general(3, 2)], lambda a, b: np.linalg.lstsq(a, b, rcond=None)[0])
    add("lstsq/rank_deficient", "lstsq", [rank_one, general(4)], lambda a, b: np.linalg.lstsq(a, b, rcond=None)[0], dtypes=("float64",))

    add("expm/small", "expm", [general(3, 3) / 4], sl.expm)
    add("expm/scaled_and_squared", "expm", [general(4, 4) * 3], sl.expm)
    add("expm/nilpotent", "expm", [np.triu(general(3, 3), 1)], sl.expm)
    add("expm/stack", "expm", [general(2, 3, 3)], lambda a: stacked(sl.expm, a))

    rect, cube = general(3, 5), general(2, 3, 4)
    for k in (-1, 0, 2):
        add(f"tril/k{k}", "tril", [rect], lambda x, k=k: np.tril(x, k), {"k": k})
        add(f"triu/k{k}", "triu", [rect], lambda x, k=k: np.triu(x, k), {"k": k})
    add("tril/stack", "tril", [cube], np.tril, {"k": 0})
    small = r.integers(-5, 5, size=(3, 3), endpoint=True).astype("int32")
    fixtures.add("tril/int32", "tril", [small], np.tril(small, -1), params={"k": -1})
    for offset in (-2, 0, 1, 4):
        add(f"diagonal/offset{offset}", "diagonal", [rect], lambda x, o=offset: np.diagonal(x, o).copy(),
            {"offset": offset, "axis1": 0, "axis2": 1})
    add("diagonal/axes_2_0", "diagonal", [cube], lambda x: np.diagonal(x, 1, 2, 0).copy(), {"offset": 1, "axis1": 2, "axis2": 0})
    add("diag/vector", "diag", [general(3)], lambda x: np.diag(x), {"k": 0})
    add("diag/vector_above", "diag", [general(3)], lambda x: np.diag(x, 2), {"k": 2})
    add("diag/matrix_below", "diag", [rect], lambda x: np.diag(x, -1), {"k": -1})
    add("trace/matrix", "trace", [rect], np.trace, {"offset": 0})
    add("trace/offset", "trace", [rect], lambda x: np.trace(x, 2), {"offset": 2})
    add("trace/tensor3", "trace", [cube], np.trace, {"offset": 0})

    add("kron/matrices", "kron", [general(2, 3), general(3, 2)], np.kron)
    add("kron/vector_matrix", "kron", [general(3), general(2, 2)], np.kron)
    for n in (0, 1, 3, 6, -2):
        add(f"matrix_power/{n}", "matrix_power", [a / 2], lambda x, n=n: np.linalg.matrix_power(x, n), {"n": n})
    vector, tensor = general(5), general(2, 3, 4)
    for order in (None, 1, 2, 3, 0, "inf", "-inf", 0.5):
        value = {"inf": np.inf, "-inf": -np.inf}.get(order, order)
        add(f"norm/vector_{order}", "norm", [vector], lambda x, value=value: np.linalg.norm(x, value), {"order": order})
    for order in (None, "fro", "nuc", 1, -1, 2, -2, "inf", "-inf"):
        value = {"inf": np.inf, "-inf": -np.inf}.get(order, order)
        add(f"norm/matrix_{order}", "norm", [rect], lambda x, value=value: np.linalg.norm(x, value), {"order": order})
    add("norm/flattened_tensor", "norm", [tensor], np.linalg.norm, {"order": None})
    add("norm/axis_1_keepdims", "norm", [tensor], lambda x: np.linalg.norm(x, axis=1, keepdims=True),
        {"order": None, "axis": [1], "keepdims": True})
    add("norm/matrix_axes_keepdims", "norm", [tensor], lambda x: np.linalg.norm(x, 1, axis=(2, 0), keepdims=True),
        {"order": 1, "axis": [2, 0], "keepdims": True})
    add("tensorinv/ind2", "tensorinv", [well_conditioned(6, 6).reshape(2, 3, 6)], lambda x: np.linalg.tensorinv(x, ind=2), {"ind": 2})
    add("tensorsolve/default", "tensorsolve", [well_conditioned(6, 6).reshape(2, 3, 2, 3), general(2, 3)], np.linalg.tensorsolve)
    for left, right in (((3, 4), (4, 2)), ((2, 3, 4), (2, 4, 2)), ((3, 4), (2, 4, 5)), ((2, 3, 4), (4, 2)), ((4,), (2, 4, 3)),
                        ((2, 2, 3, 4), (2, 2, 4, 1))):
        add(f"matmul/{'x'.join(map(str, left))}@{'x'.join(map(str, right))}", "matmul", [general(*left), general(*right)], np.matmul)
    return fixtures


# MARK: - Einsum

# Subscripts and operand shapes: every form of np.einsum (explicit and implicit outputs,
# diagonals, sums, outer products, transposes, batches, ellipses, size-1 broadcasting,
# scalars, chains of up to five operands).
EINSUM_CASES = [
    ("matmul", "ij,jk->ik", [(3, 4), (4, 5)]),
    ("matmul_implicit", "ij,jk", [(3, 4), (4, 5)]),
    ("transpose", "ij->ji", [(3, 4)]),
    ("trace", "ii", [(4, 4)]),
    ("diagonal", "ii->i", [(4, 4)]),
    ("diagonal_of_tensor3", "iij->ji", [(3, 3, 2)]),
    ("diagonal_of_three_axes", "iii->i", [(3, 3, 3)]),
    ("sum_all", "ij->", [(3, 4)]),
    ("sum_rows", "ij->j", [(3, 4)]),
    ("outer", "i,j->ij", [(3,), (4,)]),
    ("inner", "i,i", [(5,), (5,)]),
    ("hadamard", "ij,ij->ij", [(3, 4), (3, 4)]),
    ("batch_matmul", "bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("batch_matvec", "bij,bj->bi", [(2, 3, 4), (2, 4)]),
    ("batch_row_dots", "bi,bi->b", [(4, 3), (4, 3)]),
    ("batch_summed_out", "bij,bjk->k", [(2, 3, 4), (2, 4, 5)]),
    ("ellipsis_matmul", "...ij,...jk->...ik", [(2, 3, 4), (4, 5)]),
    ("ellipsis_implicit_broadcast", "...ij,...jk", [(2, 1, 3, 4), (5, 4, 2)]),
    ("ellipsis_in_the_middle", "i...j->...", [(2, 3, 4)]),
    ("ellipsis_outer_broadcast", "...,...", [(2, 1), (3,)]),
    ("size_one_index_broadcasts", "ij,jk->ik", [(3, 1), (4, 5)]),
    ("scalar_operand", ",ij->ij", [(), (2, 3)]),
    ("chain_of_three", "ij,jk,kl->il", [(2, 3), (3, 4), (4, 2)]),
    ("chain_of_four", "ab,bc,cd,de->ae", [(2, 3), (3, 4), (4, 3), (3, 2)]),
    ("chain_of_five", "ab,bc,cd,de,ef->af", [(2, 3), (3, 4), (4, 3), (3, 2), (2, 3)]),
    ("bilinear_form", "i,ij,j->", [(3,), (3, 4), (4,)]),
    ("diagonal_times_matrix", "ii,ij->j", [(3, 3), (3, 4)]),
    ("capitals_sort_first", "Ba,a", [(2, 3), (3,)]),
    ("spaces_ignored", "i j -> j i", [(2, 3)]),
    ("empty_inner", "ij,jk->ik", [(2, 0), (0, 3)]),
]

# The cases also checked in float32.
EINSUM_FLOAT32_CASES = {"matmul", "trace", "diagonal", "outer", "batch_matmul", "ellipsis_implicit_broadcast",
                        "size_one_index_broadcasts", "chain_of_three", "bilinear_form", "batch_row_dots"}


def einsum_fixtures():
    fixtures = FixtureFile("einsum", "einsum in every form np.einsum takes, in float64, float32, integers and booleans.")
    for name, subscripts, shapes in EINSUM_CASES:
        for dtype in FLOAT_DTYPES:
            if dtype == "float32" and name not in EINSUM_FLOAT32_CASES:
                continue
            operands = [array(normal(shape), dtype) for shape in shapes]
            expected = in_float64(lambda *x: np.einsum(subscripts, *x), dtype)(*operands)
            fixtures.add(f"einsum/{dtype}/{name}", "einsum", operands, expected, {"subscripts": subscripts})
    # Integers multiply and sum in their own dtype (wrapping), mixed dtypes promote, and
    # booleans give whether some product is true.
    integer_cases = [
        ("int32/matmul", "ij,jk->ik", [integers((3, 4), -9, 9, "int32"), integers((4, 2), -9, 9, "int32")]),
        ("int64/trace", "ii", [integers((3, 3), -9, 9, "int64")]),
        ("int8_int64/promotes", "ij,jk", [integers((2, 3), -9, 9, "int8"), integers((3, 2), -9, 9, "int64")]),
        ("int8/wraps", "i,i", [array([100, 100, -128], "int8"), array([3, 2, 1], "int8")]),
        ("bool/matmul", "ij,jk", [integers((3, 4), 0, 1, "bool"), integers((4, 2), 0, 1, "bool")]),
    ]
    for name, subscripts, operands in integer_cases:
        fixtures.add(f"einsum/{name}", "einsum", operands, np.einsum(subscripts, *operands), {"subscripts": subscripts})
    return fixtures


# MARK: - Sparse


def sparse_fixtures():
    """Sparse matrices against SciPy: each input is a dense matrix with zeros, which the
    case's graph stores as CSR or CSC; results are compared densely. A local generator keeps
    the other files' draws unchanged."""
    import scipy.sparse as sp

    fixtures = FixtureFile("sparse", "CSR and CSC matrices: conversions, transposes and products with dense matrices.")
    r = np.random.default_rng(SEED + 17)

    def sparse_like(rows, columns, density=0.3):
        values = dyadic(r.normal(size=(rows, columns)))
        values[r.random((rows, columns)) > density] = 0
        return values

    for dtype in FLOAT_DTYPES:
        for fmt in ("csr", "csc"):
            s, d = sparse_like(5, 4).astype(dtype), array(dyadic(r.normal(size=(4, 3))), dtype)
            matrix = sp.csr_matrix(s) if fmt == "csr" else sp.csc_matrix(s)
            fixtures.add(f"to_dense/{fmt}/{dtype}", "to_dense", [s], matrix.toarray(), params={"format": fmt})
            fixtures.add(f"structured_dot/{fmt}/{dtype}", "structured_dot", [s, d], in_float64(lambda a, b: a @ b, dtype)(s, d),
                         params={"format": fmt})
            fixtures.add(f"dense_dot_sparse/{fmt}/{dtype}", "dense_dot_sparse", [d.T, s.T],
                         in_float64(lambda a, b: a @ b, dtype)(d.T, s.T), params={"format": fmt})
            fixtures.add(f"sparse_transpose/{fmt}/{dtype}", "sparse_transpose", [s], matrix.T.toarray(), params={"format": fmt})
            g = array(dyadic(r.normal(size=(5, 4))), dtype)
            fixtures.add(f"sample_at_structure/{fmt}/{dtype}", "sample_at_structure", [s, g], np.where(s != 0, g, 0).astype(dtype),
                         params={"format": fmt})
            a, b = array(dyadic(r.normal(size=(5, 3))), dtype), array(dyadic(r.normal(size=(4, 3))), dtype)
            fixtures.add(f"sampled_product/{fmt}/{dtype}", "sampled_product", [s, a, b],
                         np.where(s != 0, in_float64(lambda x, y: x @ y.T, dtype)(a, b), 0).astype(dtype), params={"format": fmt})
        x = sparse_like(3, 5).astype(dtype)
        fixtures.add(f"change_format/{dtype}", "change_format", [x], sp.csr_matrix(x).tocsc().toarray())
    for fmt in ("csr", "csc"):
        x, y = sparse_like(4, 5), sparse_like(4, 5)
        y[0, :] = x[0, :]  # shared positions add up
        fixtures.add(f"sparse_add/{fmt}", "sparse_add", [x, y], x + y, params={"format": fmt})
    for dtype in FLOAT_DTYPES:
        for fmt in ("csr", "csc"):
            x, row = sparse_like(4, 5).astype(dtype), array(dyadic(r.normal(size=5)), dtype)
            stored = x != 0
            sigmoid = in_float64(lambda v: 1 / (1 + np.exp(-v)), dtype)(x)
            fixtures.add(f"structured_sigmoid/{fmt}/{dtype}", "structured_sigmoid", [x], np.where(stored, sigmoid, 0).astype(dtype),
                         params={"format": fmt})
            fixtures.add(f"structured_add/{fmt}/{dtype}", "structured_add", [x, row], np.where(stored, x + row, 0).astype(dtype),
                         params={"format": fmt})
            fixtures.add(f"structured_scale/{fmt}/{dtype}", "structured_scale", [x], (x * 2.5).astype(dtype), params={"format": fmt})
    x = sparse_like(4, 5)
    for fmt, matrix in (("csr", sp.csr_matrix(x)), ("csc", sp.csc_matrix(x))):
        lines = np.repeat(np.arange(matrix.indptr.size - 1), np.diff(matrix.indptr))
        rows, columns = (lines, matrix.indices) if fmt == "csr" else (matrix.indices, lines)
        for axis, positions in ((0, rows), (1, columns)):
            fixtures.add(f"stored_positions/{fmt}/axis{axis}", "stored_positions", [x], positions.astype("int64"),
                         params={"format": fmt, "axis": axis})
    sparse_vocabulary_fixtures(fixtures, sparse_like)
    empty = np.zeros((3, 4))
    fixtures.add("structured_dot/nothing_stored", "structured_dot", [empty, np.ones((4, 2))], np.zeros((3, 2)), params={"format": "csr"})
    fixtures.add("structured_dot/empty_rows", "structured_dot", [np.zeros((0, 4)), np.ones((4, 2))], np.zeros((0, 2)),
                 params={"format": "csr"})
    return fixtures


def sparse_vocabulary_fixtures(fixtures, sparse_like):
    """Sparse · sparse products, sums over axes, subscripts and triplets, against SciPy."""
    import scipy.sparse as sp

    r = np.random.default_rng(SEED + 18)
    for dtype in FLOAT_DTYPES:
        for formats in (("csr", "csr"), ("csc", "csc"), ("csr", "csc"), ("csc", "csr")):
            x, y = sparse_like(4, 5).astype(dtype), sparse_like(5, 3, density=0.5).astype(dtype)
            fixtures.add(f"sparse_product/{'_'.join(formats)}/{dtype}", "sparse_product", [x, y], in_float64(lambda a, b: a @ b, dtype)(x, y),
                         params={"format": formats[0], "format_b": formats[1]})
    for fmt in ("csr", "csc"):
        x = sparse_like(4, 5)
        x[2, :] = 0  # an empty row
        for axis in (None, 0, 1, -1):
            for keepdims in (False, True):
                params = {"format": fmt, "keepdims": keepdims} | ({} if axis is None else {"axis": axis})
                fixtures.add(f"sparse_sum/{fmt}/axis{axis}/keepdims{keepdims}", "sparse_sum", [x], np.asarray(x.sum(axis=axis, keepdims=keepdims)),
                             params=params)

    def index(spec, lists):
        if spec == "list":
            return lists.pop(0)
        if ":" in spec:
            return slice(*[int(part) if part else None for part in spec.split(":")])
        return int(spec)

    subscripts = [("rows", "1:4", ":", []), ("step_rows", "::-2", ":", []), ("columns", ":", "1:-1", []),
                  ("both_slices", "0:3", "3:0:-1", []), ("row", "-1", ":", []), ("row_and_columns", "2", "1:4", []),
                  ("row_list", "list", ":", [[3, 0, 0, -1]]), ("column_list", ":", "list", [[4, 1, 1]]),
                  ("list_and_slice", "list", "::2", [[2, 1]]), ("slice_and_list", "1:", "list", [[0, 4, -2]]),
                  ("element", "1", "2", []), ("empty_element", "0", "-1", []), ("pairs", "list", "list", [[0, 3, 3, -1], [1, 2, 2, 0]]),
                  ("no_rows", "list", ":", [[]])]
    for fmt in ("csr", "csc"):
        x = sparse_like(4, 5, density=0.5)
        x[0, 4] = 0
        matrix = sp.csr_matrix(x) if fmt == "csr" else sp.csc_matrix(x)
        assert (matrix[1:4, 1:-1].toarray() == x[1:4, 1:-1]).all() and (matrix[[3, 0], :].toarray() == x[[3, 0]]).all()
        for name, rows, columns, lists in subscripts:
            arrays = [np.array(list_, dtype="int64") for list_ in lists]
            remaining = list(arrays)
            key = (index(rows, remaining), index(columns, remaining))
            if name in ("pairs", "element", "empty_element"):
                expected = np.asarray(matrix[key]).reshape(-1 if name == "pairs" else ())
            else:
                # SciPy's matrix subscript (a position keeps its axis), taken on the dense matrix:
                # SciPy 1.17 fails on a list with a stepped slice.
                lines = [np.arange(size)[k] if isinstance(k, slice) else np.atleast_1d(k) for k, size in zip(key, x.shape)]
                expected = x[np.ix_(*lines)]
            fixtures.add(f"sparse_select/{name}/{fmt}", "sparse_select", [x] + arrays, expected.astype("float64"),
                         params={"format": fmt, "rows": rows, "columns": columns})
        rows, columns = np.array([0, 3, 3, -1, 1], "int64"), np.array([1, 2, 2, 0, 0], "int64")
        values = dyadic(r.normal(size=5))
        sums = np.zeros_like(x)
        np.add.at(sums, (rows, columns), values)
        fixtures.add(f"sparse_elements_adjoint/{fmt}", "sparse_elements_adjoint", [x, values, rows, columns], np.where(x != 0, sums, 0),
                     params={"format": fmt})
    for fmt in ("csr", "csc"):
        x, y = sparse_like(4, 5, density=0.5), sparse_like(4, 5, density=0.5)
        d = dyadic(r.normal(size=(4, 5)))
        matrix = sp.csr_matrix(x) if fmt == "csr" else sp.csc_matrix(x)
        fixtures.add(f"sparse_multiply/{fmt}/dense", "sparse_multiply", [x, d], matrix.multiply(d).toarray(), params={"format": fmt, "other": "dense"})
        fixtures.add(f"sparse_multiply/{fmt}/sparse", "sparse_multiply", [x, y], matrix.multiply(sp.csc_matrix(y)).toarray(),
                     params={"format": fmt, "other": "sparse"})
        fixtures.add(f"sparse_multiply/{fmt}/scalar", "sparse_multiply", [x, np.array(-1.5)], (matrix * -1.5).toarray(),
                     params={"format": fmt, "other": "scalar"})
    for fmt in ("csr", "csc"):
        for dtype in FLOAT_DTYPES:
            rows, columns = np.array([2, 0, 2, 1, 2, 0], "int64"), np.array([3, 1, 3, 0, 0, 2], "int64")
            values = array(dyadic(r.normal(size=6)), dtype)
            values[3] = 0  # a zero given stays stored
            expected = sp.coo_matrix((values.astype("float64"), (rows, columns)), shape=(3, 4)).toarray().astype(dtype)
            fixtures.add(f"from_triplets/{fmt}/{dtype}", "from_triplets", [values, rows, columns], expected,
                         params={"format": fmt, "shape": [3, 4]})


# MARK: - Shape


def shape_fixtures():
    fixtures = FixtureFile("shape", "dimshuffle, transpose, reshape, flatten, squeeze, expandDims, shape, "
                           "size and the constructors alloc, zeros, ones, arange and eye.")
    matrix = array(normal((2, 3)), "float64")
    tensor3 = array(normal((2, 3, 4)), "float32")
    row = array(normal((1, 3)), "float64")
    middle_one = array(np.arange(6).reshape(2, 1, 3), "int32")
    dimshuffles = [
        ("matrix_1_x_0", matrix, [1, "x", 0], matrix.T[:, None, :]),
        ("tensor3_2_0_1", tensor3, [2, 0, 1], np.transpose(tensor3, (2, 0, 1))),
        ("row_drops_broadcastable", row, [1], row[0]),
        ("int32_drops_middle_adds_front", middle_one, ["x", 2, 0], np.transpose(middle_one[:, 0, :])[None]),
        ("scalar_to_matrix", array(4.5, "float64"), ["x", "x"], array([[4.5]], "float64")),
    ]
    for name, x, pattern, expected in dimshuffles:
        fixtures.add(f"dimshuffle/{name}", "dimshuffle", [x], expected, params={"pattern": pattern})
    fixtures.add("transpose/matrix", "transpose", [matrix], matrix.T, params={"axes": None})
    fixtures.add("transpose/tensor3_reversed", "transpose", [tensor3], tensor3.T, params={"axes": None})
    fixtures.add("transpose/tensor3_1_0_2", "transpose", [tensor3], np.transpose(tensor3, (1, 0, 2)),
                 params={"axes": [1, 0, 2]})
    fixtures.add("T/matrix", "T", [matrix], matrix.T)
    reshapes = [
        ("tensor3_to_4_by_inferred", tensor3, [4, -1]),
        ("tensor3_to_inferred_vector", tensor3, [-1]),
        ("tensor3_to_2_inferred_2", tensor3, [2, -1, 2]),
        ("vector_to_matrix", array(np.arange(12), "int64"), [3, 4]),
        ("scalar_to_1_1", array(7, "int32"), [1, 1]),
        ("bool_matrix", array([[True, False, True], [False, False, True]], "bool"), [3, 2]),
        ("to_empty", array(np.zeros((0, 4)), "float64"), [2, 0, 2]),
    ]
    for name, x, shape in reshapes:
        fixtures.add(f"reshape/{name}", "reshape", [x], x.reshape(shape), params={"shape": shape})
    tensor4 = array(normal((2, 3, 2, 2)), "float64")
    for x, label in ((tensor3, "tensor3"), (tensor4, "tensor4")):
        for ndim in range(1, x.ndim + 1):
            fixtures.add(f"flatten/{label}/ndim_{ndim}", "flatten", [x], x.reshape(x.shape[:ndim - 1] + (-1,)),
                         params={"ndim": ndim})
    ones = array(normal((1, 3, 1, 2)), "float32")
    for axis in (None, [0], [2], [-2], [0, 2]):
        expected = np.squeeze(ones, axis=numpy_axis(axis))
        fixtures.add(f"squeeze/{axis_label(axis)}", "squeeze", [ones], expected, params={"axis": axis})
    for axis in (0, 1, 2, -1, -3):
        fixtures.add(f"expand_dims/matrix/axis_{axis}", "expand_dims", [matrix], np.expand_dims(matrix, axis),
                     params={"axis": axis})
    fixtures.add("flatten/scalar", "flatten", [array(2.5, "float32")], array([2.5], "float32"), params={"ndim": 1})
    fixtures.add("expand_dims/scalar", "expand_dims", [array(3, "int64")], array([3], "int64"), params={"axis": 0})
    for name, x in (("tensor3", tensor3), ("scalar", array(1.5, "float64")), ("empty", array(np.zeros((3, 0)), "float64"))):
        fixtures.add(f"shape/{name}", "shape", [x], array(x.shape, "int64"))
        fixtures.add(f"size/{name}", "size", [x], array(x.size, "int64"))
    add_constructors(fixtures)
    return fixtures


def add_constructors(fixtures):
    allocs = [
        ("scalar_float32", array(1.5, "float32"), [2, 3]),
        ("vector_to_matrix", array([1, 2, 3], "int32"), [2, 3]),
        ("column_to_matrix", array([[1.5], [-2.5]], "float64"), [2, 3]),
        ("matrix_to_tensor3", array([[1, 2], [3, 4]], "int64"), [3, 2, 2]),
        ("empty", array(0.5, "float64"), [0, 3]),
    ]
    for name, value, shape in allocs:
        fixtures.add(f"alloc/{name}", "alloc", [value], np.broadcast_to(value, shape).copy(), params={"shape": shape})
    like = [("zeros_like", array(normal((3, 2)), "float32"), None), ("ones_like", array([[1, -2, 3]], "int32"), None),
            ("ones_like", array([False, True], "bool"), None), ("full_like", array(normal((2, 2)), "float64"), 2.5),
            ("full_like", array([4, 5, 6], "int64"), 7.0)]
    for op, x, value in like:
        expected = np.full_like(x, 0 if op == "zeros_like" else 1 if op == "ones_like" else value)
        fixtures.add(f"{op}/{x.dtype}", op, [x], expected, params={} if value is None else {"value": value})
    for dtype in ("float32", "float64", "int32", "bool"):
        fixtures.add(f"zeros/{dtype}", "zeros", [], np.zeros((2, 3), dtype), params={"shape": [2, 3], "dtype": dtype})
        fixtures.add(f"ones/{dtype}", "ones", [], np.ones((3, 1, 2), dtype), params={"shape": [3, 1, 2], "dtype": dtype})
    for start, stop, step in ((0, 5, 1), (2, 11, 3), (10, 0, -2), (-3, 3, 2), (5, 5, 1), (5, 0, 1), (7, -8, -5)):
        fixtures.add(f"arange/{start}_{stop}_{step}", "arange", [], np.arange(start, stop, step, dtype="int64"),
                     params={"start": start, "stop": stop, "step": step})
    for stop in (4, 0, -3):
        fixtures.add(f"arange/symbolic_stop_{stop}", "arange_symbolic", [array(stop, "int64")],
                     np.arange(stop, dtype="int64"))
    fixtures.add("arange/symbolic_float64_stop", "arange_symbolic", [array(2.5, "float64")], np.arange(2.5))
    eyes = [(3, None, 0, "float32"), (3, 4, 1, "float64"), (4, 3, -1, "float64"), (3, 3, 5, "float32"),
            (2, 5, 2, "int32"), (3, 2, -2, "int64")]
    for rows, columns, k, dtype in eyes:
        fixtures.add(f"eye/{rows}_{columns}_k{k}_{dtype}", "eye", [], np.eye(rows, columns, k, dtype=dtype),
                     params={"rows": rows, "columns": columns, "k": k, "dtype": dtype})


# MARK: - Indexing

# Index entries as the fixtures spell them: {"at": i}, {"slice": [start, stop, step]} (null
# for a default), {"newaxis": true}, {"input": k} (the k-th input of the case, a symbolic
# index) and {"arange_rows": true} (arange of the tensor's first dimension, built in the graph).


def at(i):
    return {"at": i}


def span(start=None, stop=None, step=None):
    return {"slice": [start, stop, step]}


NEWAXIS = {"newaxis": True}
ROWS = {"arange_rows": True}


def tensor_index(k):
    return {"input": k}


def numpy_index(entries, x, inputs):
    """The NumPy subscript that `entries` spell, given the case's inputs."""
    result = []
    for entry in entries:
        if "at" in entry:
            result.append(entry["at"])
        elif "slice" in entry:
            result.append(slice(*entry["slice"]))
        elif "newaxis" in entry:
            result.append(None)
        elif "input" in entry:
            result.append(inputs[entry["input"]])
        else:
            result.append(np.arange(x.shape[0]))
    return tuple(result)


def indexing_fixtures():
    fixtures = FixtureFile("indexing", "Basic and advanced subscripts, boolean masks, setSubtensor and "
                           "incSubtensor (repeated integer indices accumulate like np.add.at).")
    x = array(np.arange(20).reshape(4, 5) * 1.5 - 7, "float64")
    x3 = array(normal((3, 4, 5)), "float32")
    ints = array(np.arange(20).reshape(4, 5) - 10, "int32")
    flags = array(rng.random((4, 5)) < 0.5, "bool")
    basic = [
        ("row", x, [at(1)]),
        ("negative_row", x, [at(-1)]),
        ("element", x, [at(1), at(2)]),
        ("negative_element", x, [at(-4), at(-1)]),
        ("rows_1_3", x, [span(1, 3)]),
        ("reversed", x, [span(step=-1)]),
        ("reverse_step_2_column", x, [span(step=-2), at(1)]),
        ("negative_bounds_step_2", x, [span(-3, -1), span(step=2)]),
        ("negative_step_with_bounds", x, [span(4, 0, -2), span(-4, None)]),
        ("negative_step_past_start", x, [span(-1, -10, -3), span(3, 0, -1)]),
        ("last_column", x, [span(), at(-1)]),
        ("columns_reversed", x, [span(), span(step=-1)]),
        ("out_of_range_slice_empty", x, [span(10, None)]),
        ("clamped_bounds", x, [span(-100, 100)]),
        ("empty_forward", x, [span(3, 1)]),
        ("newaxis_first", x, [NEWAXIS, at(1)]),
        ("newaxis_middle", x, [span(), NEWAXIS, at(2)]),
        ("tensor3_mixed", x3, [at(1), span(step=-1), span(1, 4, 2)]),
        ("tensor3_trailing_implicit", x3, [span(None, None, 2)]),
        ("int32_slice", ints, [span(1, None, 2), span(None, -1)]),
        ("bool_row", flags, [at(2)]),
    ]
    for name, source, entries in basic:
        fixtures.add(f"subtensor/{name}", "subtensor", [source], source[numpy_index(entries, source, [])],
                     params={"indices": entries})
    index_vector = array([2, 0, 2, -1], "int64")
    index_matrix = array([[0, 3], [-1, 1]], "int64")
    labels = array([2, 0, 1, 2], "int64")
    rows, columns = array([[0], [2], [3]], "int64"), array([[1, -1]], "int64")
    row_mask = array([True, False, True, True], "bool")
    probabilities = array(uniform((4, 3), 0.05, 1), "float64")
    advanced = [
        ("integer_vector_rows", [x, index_vector], [tensor_index(1)]),
        ("int32_vector_rows", [x, array([3, 1], "int32")], [tensor_index(1)]),
        ("integer_matrix_rows", [x, index_matrix], [tensor_index(1)]),
        ("integer_vector_then_full_slice", [x, index_vector], [tensor_index(1), span()]),
        ("arange_rows_labels", [probabilities, labels], [ROWS, tensor_index(1)]),
        ("row_and_column_vectors", [x, index_vector, array([1, 4, 0, -2], "int64")], [tensor_index(1), tensor_index(2)]),
        ("broadcast_row_column_indices", [x, rows, columns], [tensor_index(1), tensor_index(2)]),
        ("constant_row_integer_columns", [x, array([0, 4, 4], "int64")], [at(1), tensor_index(1)]),
        ("tensor3_integer_vector", [x3, array([2, 0], "int64")], [tensor_index(1)]),
        ("symbolic_scalar", [x, array(-2, "int64")], [tensor_index(1)]),
        ("symbolic_scalar_and_slice", [x3, array(1, "int32")], [tensor_index(1), span(step=-1)]),
        ("mask_2d", [x, flags], [tensor_index(1)]),
        ("mask_rows", [x, row_mask], [tensor_index(1)]),
        ("mask_rows_then_full_slice", [x, row_mask], [tensor_index(1), span()]),
        ("mask_tensor3_leading", [x3, array(flags[:3, :4], "bool")], [tensor_index(1)]),
        ("mask_all_false", [x, array(np.zeros((4, 5)), "bool")], [tensor_index(1)]),
    ]
    for name, inputs, entries in advanced:
        source = inputs[0]
        fixtures.add(f"subtensor/{name}", "subtensor", inputs, source[numpy_index(entries, source, inputs)],
                     params={"indices": entries})
    add_writes(fixtures, x, ints, flags, probabilities, labels)
    return fixtures


def add_writes(fixtures, x, ints, flags, probabilities, labels):
    """setSubtensor and incSubtensor: inputs are the tensor, the values, then index tensors."""
    repeated = array([1, 1, 3, 1], "int64")
    writes = [
        ("set", "rows_1_3", x, array(normal((2, 5)), "float64"), [span(1, 3)], []),
        ("set", "reversed_columns_scalar", x, array(0.5, "float64"), [span(), span(step=-2)], []),
        ("set", "element", x, array(99, "float64"), [at(-1), at(0)], []),
        ("inc", "row_vector", x, array(normal((5,)), "float64"), [at(1)], []),
        ("inc", "strided_region_broadcast_row", x, array(normal((1, 3)), "float64"), [span(step=2), span(1, 4)], []),
        ("inc", "negative_step_region", x, array(normal((2, 5)), "float64"), [span(3, None, -2)], []),
        ("set", "int32_from_float_values", ints, array([[2.7, -2.7, 0.5, 9.9, -0.1]], "float64"), [span(1, 3)], []),
        ("inc", "int32_region", ints, array([[1], [2]], "int32"), [span(0, 2), span(3, None)], []),
        ("set", "integer_rows_distinct", x, array(normal((2, 5)), "float64"), [tensor_index(2)], [array([3, 0], "int64")]),
        ("inc", "integer_rows_repeated", x, array(normal((4, 5)), "float64"), [tensor_index(2)], [repeated]),
        ("inc", "integer_rows_repeated_scalar", x, array(1.0, "float64"), [tensor_index(2)], [array([0, 0, 2, 0], "int64")]),
        ("inc", "element_pairs_repeated", x, array([1, 2, 3, 4], "float64"), [tensor_index(2), tensor_index(3)],
         [array([0, 0, 3, 0], "int64"), array([1, 1, -1, 1], "int64")]),
        ("inc", "arange_rows_labels", probabilities, array(-1, "float64"), [ROWS, tensor_index(2)], [labels]),
        ("set", "mask", x, array(0, "float64"), [tensor_index(2)], [flags]),
        ("inc", "mask_rows", x, array(normal((5,)), "float64"), [tensor_index(2)], [array([True, False, False, True], "bool")]),
        ("set", "symbolic_row", x, array(normal((5,)), "float64"), [tensor_index(2)], [array(-3, "int64")]),
        ("inc", "int32_repeated_rows", ints, array(10, "int32"), [tensor_index(2)], [array([2, 2, 2], "int64")]),
    ]
    for mode, name, source, values, entries, index_inputs in writes:
        inputs = [source, values] + index_inputs
        expected = source.copy()
        subscript = numpy_index(entries, source, inputs)
        if mode == "set":
            expected[subscript] = values
        else:
            uses_arrays = any(isinstance(entry, np.ndarray) and entry.ndim > 0 for entry in subscript)
            if uses_arrays:
                np.add.at(expected, subscript, values.astype(source.dtype))
            else:
                expected[subscript] += values.astype(source.dtype)
        fixtures.add(f"{mode}_subtensor/{name}", f"{mode}_subtensor", inputs, expected, params={"indices": entries})


# MARK: - Neural networks


def stable_softmax(x):
    return special.softmax(x, axis=-1)


def stable_log_softmax(x):
    return special.log_softmax(x, axis=-1)


def add_softmax_along_axes(fixtures, dtype, extreme_rows):
    """softmax and log_softmax along every axis of matrices and 3-d tensors (negative axes too).
    Draws from a generator of its own, so the cases of the other ops stay as they were."""
    local = np.random.default_rng(SEED + 1)
    inputs = [
        ("matrix", array(dyadic(local.normal(size=(3, 4)) * 2), dtype), (0, 1, -2)),
        ("tensor3", array(dyadic(local.normal(size=(2, 3, 4))), dtype), (0, 1, 2, -1)),
        ("extreme_columns", extreme_rows.T.copy(), (0,)),
        ("wide_columns", array(dyadic(local.normal(size=(3, 300)) * 3), dtype), (0,)),
    ]
    for name, x, axes in inputs:
        for axis in axes:
            params = {"axis": axis}
            fixtures.add(f"softmax/{dtype}/{name}/axis{axis}", "softmax_axis", [x],
                         in_float64(lambda v: special.softmax(v, axis=axis), dtype)(x), params=params)
            fixtures.add(f"log_softmax/{dtype}/{name}/axis{axis}", "log_softmax_axis", [x],
                         in_float64(lambda v: special.log_softmax(v, axis=axis), dtype)(x), params=params)


def nnet_fixtures():
    fixtures = FixtureFile("nnet", "softmax, logSoftmax, relu, cross-entropies and oneHot.")
    for dtype in FLOAT_DTYPES:
        extreme_rows = array([[1000, 0, 0], [0, -1000, -2000], [-INF, 0, 1], [1, 1, 1], [-1e30, 1e30, 0], [50, 50, -50],
                              [NAN, 1, 2]], dtype)
        inputs = [
            ("matrix", array(normal((3, 4), 2), dtype)),
            ("vector", array(normal((5,)), dtype)),
            ("tensor3", array(normal((2, 2, 3)), dtype)),
            ("extreme_rows", extreme_rows),
            ("single_column", array([[3.5], [-INF]], dtype)),
        ]
        for name, x in inputs:
            fixtures.add(f"softmax/{dtype}/{name}", "softmax", [x], in_float64(stable_softmax, dtype)(x))
            fixtures.add(f"log_softmax/{dtype}/{name}", "log_softmax", [x], in_float64(stable_log_softmax, dtype)(x))
        add_softmax_along_axes(fixtures, dtype, extreme_rows)
        x = array([[-2, -0.0, 0, 1e-30, 3.5], [NAN, -INF, INF, -1e30, 7]], dtype)
        fixtures.add(f"relu/{dtype}", "relu", [x], native(lambda v: np.maximum(v, 0))(x))
        add_crossentropies(fixtures, dtype)
    ints = array([[-3, 0, 4]], "int32")
    fixtures.add("relu/int32", "relu", [ints], np.maximum(ints, 0).astype("int32"))
    fixtures.add("softmax/int32_to_float64", "softmax", [array([[1, 2, 3], [0, 0, 700]], "int32")],
                 stable_softmax(array([[1, 2, 3], [0, 0, 700]], "float64")))
    for labels, classes, dtype in ((array([0, 3, 1, 1, 2], "int64"), 4, "float32"),
                                   (array([[1, 0, 2], [2, 2, 0]], "int32"), 3, "float64"),
                                   (array([4, 0], "int8"), 5, "int64")):
        expected = (labels[..., None] == np.arange(classes)).astype(dtype)
        fixtures.add(f"one_hot/{labels.dtype}_{classes}_classes_{dtype}", "one_hot", [labels], expected,
                     params={"classes": classes, "dtype": dtype})
    return fixtures


def add_crossentropies(fixtures, dtype):
    logits = normal((4, 3), 2)
    probabilities = array(stable_softmax(logits), dtype)
    labels = array([2, 0, 1, 1], "int64")
    one_hot = array(np.eye(3)[labels], dtype)
    soft_targets = array(stable_softmax(normal((4, 3))), dtype)
    reference = in_float64(lambda p, t: -np.sum(t * np.log(p), axis=-1), dtype)
    fixtures.add(f"categorical_crossentropy/{dtype}/int64_labels", "categorical_crossentropy", [probabilities, labels],
                 in_float64(lambda p: -np.log(p[np.arange(4), labels]), dtype)(probabilities))
    fixtures.add(f"categorical_crossentropy/{dtype}/int32_labels", "categorical_crossentropy",
                 [probabilities, labels.astype("int32")],
                 in_float64(lambda p: -np.log(p[np.arange(4), labels]), dtype)(probabilities))
    fixtures.add(f"categorical_crossentropy/{dtype}/one_hot", "categorical_crossentropy", [probabilities, one_hot],
                 reference(probabilities, one_hot))
    fixtures.add(f"categorical_crossentropy/{dtype}/soft_targets", "categorical_crossentropy",
                 [probabilities, soft_targets], reference(probabilities, soft_targets))
    # Integer targets promote the result to float64; the logarithms are still taken in the
    # probabilities' dtype (correctly rounded here).
    log = in_float64(np.log, dtype)
    integer_one_hot = one_hot.astype("int64")
    fixtures.add(f"categorical_crossentropy/{dtype}/int64_one_hot_promotes", "categorical_crossentropy",
                 [probabilities, integer_one_hot], -np.sum(integer_one_hot * log(probabilities), axis=-1))
    p = array([[0.5, 0.1, 0.9, 1e-7], [0.999, 0.25, 0.75, 1 - 1e-7]], dtype)
    targets = array([[1, 0, 1, 0], [0.5, 1, 0, 1]], dtype)
    fixtures.add(f"binary_crossentropy/{dtype}", "binary_crossentropy", [p, targets],
                 in_float64(lambda q, t: -(t * np.log(q) + (1 - t) * np.log(1 - q)), dtype)(p, targets))
    integer_targets = array([[1, 0, 1, 0], [0, 1, 0, 1]], "int64")
    fixtures.add(f"binary_crossentropy/{dtype}/int64_targets_promote", "binary_crossentropy", [p, integer_targets],
                 -(integer_targets * log(p) + (1 - integer_targets) * log(1 - p)))


# MARK: - NumPy semantics

# Integer dtypes with edge values for the bitwise functions (two's complement at the ends).
BITWISE_EDGES = {
    "int8": ([-128, -1, 0, 1, 85, 127, -86, 15], [127, -1, -128, 3, -86, 0, 85, -16]),
    "int16": ([-32768, -1, 0, 300, 32767, -21846], [32767, 255, -1, -300, 21845, -1]),
    "int32": ([-2147483648, -1, 0, 70000, 2147483647], [2147483647, -65536, 12345, -70000, 1]),
    "int64": ([-9223372036854775808, -1, 0, 5000000000, 9223372036854775807], [9223372036854775807, 255, -1, -5000000000, 1]),
    "uint8": ([0, 1, 15, 128, 255, 170], [255, 254, 240, 127, 255, 85]),
}
BITWISE_OPS = {"and": np.bitwise_and, "or": np.bitwise_or, "xor": np.bitwise_xor}
OPERATOR_SYMBOLS = {"and": "&", "or": "|", "xor": "^"}


def batched_dot(a, b):
    """dot(a[i], b[i]) for each i of the shared first dimension (also when it is empty)."""
    item_shape = np.dot(np.zeros(a.shape[1:], a.dtype), np.zeros(b.shape[1:], b.dtype)).shape
    dtype = np.result_type(a, b)
    if a.shape[0] == 0:
        return np.zeros((0,) + item_shape, dtype)
    return np.stack([np.dot(a[i], b[i]) for i in range(a.shape[0])]).astype(dtype)


def round_half_away_from_zero(x):
    """Exact rounding of each element, ties away from zero (C's round), through decimal."""
    import decimal

    def one(value):
        if not math.isfinite(value):
            return value
        rounded = float(decimal.Decimal(value).to_integral_value(rounding=decimal.ROUND_HALF_UP))
        return math.copysign(rounded, value) if rounded == 0 else rounded

    return np.asarray([one(float(v)) for v in x.reshape(-1)], dtype=x.dtype).reshape(x.shape)


def add_float_rounding_of_integers(fixtures):
    """floor and ceil of integers and booleans give Theano's float type; floats round both ways."""
    for op, function in (("floor", np.floor), ("ceil", np.ceil)):
        for dtype, edges in INTEGER_EDGES.items():
            x = array(edges, dtype)
            fixtures.add(f"{op}/{dtype}_to_{theano_float(dtype)}", op, [x], function(x).astype(theano_float(dtype)))
        flags = array([[True, False, True]], "bool")
        fixtures.add(f"{op}/bool_to_float32", op, [flags], function(flags.astype("float32")))
    # Just below a half, and the largest halves each type holds, where floor(x + 0.5) goes wrong.
    near_halves = {"float32": [0.49999997, -0.49999997, 8388607.5, -8388607.5],
                   "float64": [0.49999999999999994, -0.49999999999999994, 4503599627370495.5, -4503599627370495.5]}
    for dtype in FLOAT_DTYPES:
        x = array(NUMERIC_FLOAT_EDGES + [4.5, -4.5] + near_halves[dtype], dtype)
        fixtures.add(f"round_half_away_from_zero/{dtype}/edges", "round_half_away_from_zero", [x],
                     round_half_away_from_zero(x))
        x = array(normal((3, 4), 3) + 0.5, dtype)
        fixtures.add(f"round_half_away_from_zero/{dtype}/halves", "round_half_away_from_zero", [x],
                     round_half_away_from_zero(x))
        fixtures.add(f"round/{dtype}/halves", "round", [x], np.round(x))


def add_bitwise_cases(fixtures):
    """Bitwise and/or/xor/invert of integers (NumPy's bitwise_* and ~), logical on booleans."""
    for dtype, (left, right) in BITWISE_EDGES.items():
        left, right = array(left, dtype), array(right, dtype)
        for op, function in BITWISE_OPS.items():
            fixtures.add(f"{op}/{dtype}/edges", op, [left, right], function(left, right))
            fixtures.add(f"{OPERATOR_SYMBOLS[op]}/{dtype}/edges", OPERATOR_SYMBOLS[op], [left, right], function(left, right))
        fixtures.add(f"not/{dtype}/edges", "not", [left], np.invert(left))
        fixtures.add(f"~/{dtype}/edges", "~", [left], np.invert(left))
    column = integers((3, 1), -100, 100, "int32")
    row = integers((1, 4), -100, 100, "int32")
    flags = array([[True, False, True, False]], "bool")
    mixed = [
        ("int32/column_row", column, row),
        ("int8+uint8_promotes_to_int16", array([-128, -1, 5, 127], "int8"), array([255, 128, 3, 1], "uint8")),
        ("int64+int8_scalar", array([[-5, 6], [7, -8]], "int64"), array(-2, "int8")),
        ("bool+int32_is_bitwise", flags, array([[3], [-2]], "int32")),
        ("bool/column_row", array([[True], [False]], "bool"), flags),
        ("int16/empty", np.zeros((0, 3), "int16"), array([1, 2, 3], "int16")),
    ]
    for name, left, right in mixed:
        for op, function in BITWISE_OPS.items():
            fixtures.add(f"{op}/{name}", op, [left, right], function(left, right))
    x = integers((3, 4), 0, 255, "uint8")
    fixtures.add("not/uint8_matrix", "not", [x], np.invert(x))
    fixtures.add("~/bool_matrix", "~", [array([[True, False], [False, False]], "bool")],
                 np.invert(array([[True, False], [False, False]], "bool")))
    fixtures.add("not/int32_scalar", "not", [array(-7, "int32")], np.invert(array(-7, "int32")))


# dot shapes beyond vectors and matrices: (name, left shape, right shape).
DOT_ANY_RANK_SHAPES = [
    ("tensor3_tensor3", (2, 3, 4), (5, 4, 6)),
    ("vector_tensor3", (4,), (2, 4, 3)),
    ("matrix_tensor3", (3, 4), (2, 4, 5)),
    ("tensor3_vector", (2, 3, 4), (4,)),
    ("tensor4_matrix", (2, 1, 3, 4), (4, 2)),
    ("matrix_tensor4", (2, 3), (2, 1, 3, 4)),
    ("tensor3_tensor4", (2, 2, 3), (1, 2, 3, 2)),
    ("scalar_tensor3", (), (2, 3, 4)),
    ("tensor3_scalar", (2, 3, 4), ()),
    ("size_one_inner", (2, 3, 1), (2, 1, 4)),
    ("empty_free_axis", (2, 0, 3), (4, 3, 2)),
    ("empty_contracted_axis", (2, 0), (3, 0, 4)),
]
# batchedDot shapes: (name, left shape, right shape); the first dimension is the batch.
BATCHED_DOT_SHAPES = [
    ("rows", (4, 3), (4, 3)),
    ("matrix_stack_vector_stack", (3, 2, 4), (3, 4)),
    ("vector_stack_matrix_stack", (3, 4), (3, 4, 2)),
    ("matrix_stacks", (2, 3, 4), (2, 4, 5)),
    ("tensor4_tensor3", (2, 3, 2, 4), (2, 4, 3)),
    ("tensor3_tensor4", (2, 3, 4), (2, 2, 4, 3)),
    ("tensor4_tensor4", (2, 2, 3, 4), (2, 3, 4, 2)),
    ("vector_stack_tensor4", (2, 4), (2, 3, 4, 2)),
    ("tensor4_vector_stack", (2, 3, 2, 4), (2, 4)),
    ("size_one_batch", (1, 3, 4), (1, 4, 2)),
    ("size_one_inner", (3, 2, 1), (3, 1, 4)),
    ("empty_batch", (0, 3, 4), (0, 4, 2)),
    ("empty_inner", (2, 3, 0), (2, 0, 4)),
]


def add_any_rank_products(fixtures):
    """dot, outer and batchedDot of tensors of any rank, in float64, float32 and integers."""
    for dtype in FLOAT_DTYPES + ("int32",):
        def sample(shape):
            return array(normal(shape), dtype) if dtype in FLOAT_DTYPES else integers(shape, -9, 9, dtype)

        exact = in_float64(np.dot, dtype) if dtype in FLOAT_DTYPES else np.dot
        for name, left, right in DOT_ANY_RANK_SHAPES:
            a, b = sample(left), sample(right)
            fixtures.add(f"dot/{dtype}/{name}", "dot", [a, b], exact(a, b))
        for name, left, right in BATCHED_DOT_SHAPES:
            a, b = sample(left), sample(right)
            reference = in_float64(batched_dot, dtype) if dtype in FLOAT_DTYPES else batched_dot
            fixtures.add(f"batched_dot/{dtype}/{name}", "batched_dot", [a, b], reference(a, b))
        for name, left, right in [("matrix_vector", (2, 3), (4,)), ("scalar_tensor3", (), (2, 1, 3)),
                                  ("matrix_matrix", (2, 2), (3, 1)), ("empty", (0, 2), (3,))]:
            a, b = sample(left), sample(right)
            fixtures.add(f"outer/{dtype}/{name}", "outer", [a, b], np.outer(a, b))
    ints, floats = integers((2, 3, 4), -5, 5, "int8"), array(normal((3, 4, 2)), "float32")
    fixtures.add("dot/int8_float32_tensor3_promotes", "dot", [ints, floats], in_float64(np.dot, "float32")(ints, floats))
    ints, longs = integers((2, 3), -5, 5, "int8"), integers((2, 3, 2), -5, 5, "int64")
    fixtures.add("batched_dot/int8_int64_promotes", "batched_dot", [ints, longs], batched_dot(ints, longs))


def add_leaky_relu_cases(fixtures):
    """relu(x, alpha:) as np.where(x > 0, x, alpha * x), with a number or a tensor alpha."""
    for dtype in FLOAT_DTYPES:
        x = array([[-2, -0.0, 0, 1e-30, 3.5], [NAN, -INF, INF, -1e30, 7]], dtype)
        for alpha in (0.1, -0.5, 2.0):
            fixtures.add(f"leaky_relu/{dtype}/alpha_{alpha}", "leaky_relu", [x],
                         native(lambda v: np.where(v > 0, v, alpha * v))(x), params={"alpha": alpha})
        matrix = array(normal((3, 4)), dtype)
        for name, slopes in (("row", array(uniform((4,), 0, 1), dtype)), ("column", array(uniform((3, 1), 0, 1), dtype)),
                             ("scalar", array(0.2, dtype))):
            fixtures.add(f"leaky_relu_tensor/{dtype}/{name}_slopes", "leaky_relu_tensor", [matrix, slopes],
                         np.where(matrix > 0, matrix, slopes * matrix))
    column = array(normal((3, 1)), "float64")
    row_slopes = array([0.1, 0.2, 0.3, 0.4], "float64")
    fixtures.add("leaky_relu_tensor/float64/column_x_row_slopes_broadcast", "leaky_relu_tensor", [column, row_slopes],
                 np.where(column > 0, column, row_slopes * column))
    ints = array([[-7, 0, 3], [100, -100, 1]], "int32")
    fixtures.add("leaky_relu/int32_float_alpha_to_float64", "leaky_relu", [ints],
                 np.where(ints > 0, ints, 0.1 * ints), params={"alpha": 0.1})
    bytes_ = array([[-7, 0, 3], [100, -100, 127]], "int8")
    fixtures.add("leaky_relu/int8_integer_alpha_wraps", "leaky_relu", [bytes_],
                 native(lambda v: np.where(v > 0, v, 2 * v))(bytes_), params={"alpha": 2, "integer_literal": True})
    fixtures.add("leaky_relu/float32_alpha_0_is_relu", "leaky_relu", [array([-1, -INF, 0, 2], "float32")],
                 np.maximum(array([-1, -INF, 0, 2], "float32"), 0), params={"alpha": 0.0})


def add_repeat_counts_cases(fixtures):
    """np.repeat with an array of counts along an axis, or of the flattened tensor."""
    matrix = array(normal((3, 4)), "float64")
    tensor3 = integers((2, 3, 2), -9, 9, "int32")
    cases = [
        ("vector", array([1.5, -2, 3], "float32"), array([2, 0, 3], "int64"), 0),
        ("matrix_rows", matrix, array([1, 3, 0], "int64"), 0),
        ("matrix_columns", matrix, array([0, 2, 1, 1], "int32"), 1),
        ("matrix_last_axis", matrix, array([2, 2, 0, 1], "int8"), -1),
        ("tensor3_middle_axis_int32", tensor3, array([3, 0, 1], "uint8"), 1),
        ("flattened", matrix, array([1, 0, 2, 1, 0, 0, 3, 1, 1, 0, 2, 1], "int64"), None),
        ("single_count_broadcasts", matrix, array([2], "int64"), 1),
        ("scalar_count", matrix, array(2, "int32"), 0),
        ("all_zero_counts", matrix, array([0, 0, 0], "int64"), 0),
        ("empty_axis", np.zeros((0, 3), "float32"), array([], "int64"), 0),
        ("size_one_axis", array([[4.5, -1, 2]], "float64"), array([3], "int64"), 0),
        ("bool", array([[True, False], [False, True]], "bool"), array([1, 2], "int64"), 1),
    ]
    for name, x, counts, axis in cases:
        fixtures.add(f"repeat_counts/{name}", "repeat_counts", [x, counts], np.repeat(x, counts, axis=axis),
                     params={"axis": axis})


def numpy_semantics_fixtures():
    fixtures = FixtureFile("numpy_semantics", "NumPy's rules where an outside conformance run found ours wrong: "
                           "float floor/ceil of integers, round half away from zero, bitwise and/or/xor/invert, "
                           "dot/outer/batchedDot of any rank, leaky relu and repeat with an array of counts.")
    add_float_rounding_of_integers(fixtures)
    add_bitwise_cases(fixtures)
    add_any_rank_products(fixtures)
    add_leaky_relu_cases(fixtures)
    add_repeat_counts_cases(fixtures)
    return fixtures


# MARK: - Stabilized forms

# log1mexp, and the naive formulas the stabilize phase rewrites (log(1 - exp(x)),
# log(1 + exp(x)), 1 - sigmoid(x), log(exp(x)), exp(log(x))), at the points where NumPy's own
# float64 value overflows, underflows or cancels. The references are the true values, from
# 60-digit arithmetic (mpmath, which SymPy installs), rounded to the result's dtype.

STABILIZED_EDGES = [-INF, -1000, -745, -200, -40, -20, -1, -math.log(2), -0.5, -1e-3, -1e-10, -1e-20, -1e-300, -0.0, 0,
                    1e-10, 0.5, 20, 40, 1000, INF, NAN]


def exactly(function, dtype):
    """`function` of each element in 60-digit arithmetic, rounded to `dtype`; NaN where the
    true value is not a real number."""
    import mpmath

    def evaluate(x):
        values = []
        with mpmath.workdps(60):
            for v in np.asarray(x, dtype=np.float64).reshape(-1).tolist():
                result = NAN if math.isnan(v) else function(mpmath, mpmath.mpf(v))
                values.append(NAN if isinstance(result, mpmath.mpc) else float(result))
        return np.asarray(values).reshape(np.shape(x)).astype(dtype)

    return evaluate


def exact_log1mexp(mp, x):
    """log(1 - eˣ), by the branch that keeps 60 digits (eˣ near 1 or tiny)."""
    return mp.log1p(-mp.exp(x)) if x < -1 else mp.log(-mp.expm1(x))


STABILIZED_OPS = {
    "log1mexp": exact_log1mexp,
    "log_one_minus_exp": exact_log1mexp,
    "log1p_neg_exp": exact_log1mexp,
    "log_one_plus_exp": lambda mp, x: mp.log1p(mp.exp(x)),
    "log1p_exp": lambda mp, x: mp.log1p(mp.exp(x)),
    "one_minus_sigmoid": lambda mp, x: 1 / (1 + mp.exp(x)),
    "log_exp": lambda mp, x: x,
    "exp_log": lambda mp, x: x if x >= 0 else mp.mpc(NAN),
}


def stabilize_fixtures():
    fixtures = FixtureFile("stabilize", "log1mexp, and the formulas the stabilize phase rewrites, against their true values.")
    for op, function in STABILIZED_OPS.items():
        for dtype in FLOAT_DTYPES:
            x = array(STABILIZED_EDGES, dtype)
            fixtures.add(f"{op}/{dtype}/edges", op, [x], exactly(function, dtype)(x))
            x = array(uniform((3, 4), -5, -0.01), dtype)
            fixtures.add(f"{op}/{dtype}/matrix", op, [x], exactly(function, dtype)(x))
    # Integers compute in float64 (int32) or float32 (int8), as Theano upgrades them.
    for dtype in ("int32", "int8"):
        x = array([[-40, -5, -1], [0, 1, 3]], dtype)
        fixtures.add(f"log1mexp/{dtype}", "log1mexp", [x], exactly(exact_log1mexp, theano_float(dtype))(x))
    return fixtures


# MARK: - Convolution and pooling


def conv_padding(padding, window, dilation):
    """(low, high) padding lists for a padding mode (as in ConvolutionPadding)."""
    dilated = [(k - 1) * d + 1 for k, d in zip(window, dilation)]
    if padding == "valid":
        return [0] * len(window), [0] * len(window)
    if padding == "full":
        return [k - 1 for k in dilated], [k - 1 for k in dilated]
    if padding == "half":
        return [k // 2 for k in dilated], [k // 2 for k in dilated]
    return padding  # explicit (low, high)


def conv_windows(x, window, strides, dilation, low, high):
    """Every window of the zero-padded images: (N, C, positions..., taps...)."""
    rank = len(window)
    pads = [(0, 0), (0, 0)] + list(zip(low, high))
    padded = np.pad(x, pads)
    dilated = [(k - 1) * d + 1 for k, d in zip(window, dilation)]
    views = np.lib.stride_tricks.sliding_window_view(padded, dilated, axis=tuple(range(2, 2 + rank)))
    positions = tuple(slice(None, None, s) for s in strides)
    taps = tuple(slice(None, None, d) for d in dilation)
    return views[(slice(None), slice(None)) + positions + taps]


def conv_reference(x, w, strides, dilation, low, high, groups, flip):
    """The convolution as NumPy sums over windows (float64), group by group."""
    rank = w.ndim - 2
    kernel = w[(slice(None), slice(None)) + (slice(None, None, -1),) * rank] if flip else w
    windows = conv_windows(x, w.shape[2:], strides, dilation, low, high)
    cg, fg = x.shape[1] // groups, w.shape[0] // groups
    letters = "xyz"[:rank]
    taps = "klm"[:rank]
    spec = f"nc{letters}{taps},fc{taps}->nf{letters}"
    return np.concatenate([np.einsum(spec, windows[:, g * cg:(g + 1) * cg], kernel[g * fg:(g + 1) * fg]) for g in range(groups)], axis=1)


def conv_grad_filters_reference(x, gy, window, strides, dilation, low, high, groups, flip):
    rank = len(window)
    windows = conv_windows(x, window, strides, dilation, low, high)
    cg, fg = x.shape[1] // groups, gy.shape[1] // groups
    letters = "xyz"[:rank]
    taps = "klm"[:rank]
    spec = f"nf{letters},nc{letters}{taps}->fc{taps}"
    gw = np.concatenate([np.einsum(spec, gy[:, g * fg:(g + 1) * fg], windows[:, g * cg:(g + 1) * cg]) for g in range(groups)], axis=0)
    return gw[(slice(None), slice(None)) + (slice(None, None, -1),) * rank] if flip else gw


def conv_grad_inputs_reference(gy, w, image_shape, strides, dilation, low, high, groups, flip):
    """The adjoint: each output gradient spread over the taps its window read."""
    rank = w.ndim - 2
    kernel = w[(slice(None), slice(None)) + (slice(None, None, -1),) * rank] if flip else w
    padded = np.zeros(tuple(image_shape[:2]) + tuple(n + a + b for n, a, b in zip(image_shape[2:], low, high)))
    cg, fg = image_shape[1] // groups, w.shape[0] // groups
    letters = "xyz"[:rank]
    for tap in np.ndindex(*w.shape[2:]):
        target = tuple(slice(t * d, t * d + (o - 1) * s + 1, s) for t, d, o, s in zip(tap, dilation, gy.shape[2:], strides))
        for g in range(groups):
            contribution = np.einsum(f"nf{letters},fc->nc{letters}", gy[:, g * fg:(g + 1) * fg],
                                     kernel[(slice(g * fg, (g + 1) * fg), slice(None)) + tap])
            padded[(slice(None), slice(g * cg, (g + 1) * cg)) + target] += contribution
    inner = tuple(slice(a, a + n) for a, n in zip(low, image_shape[2:]))
    return padded[(slice(None), slice(None)) + inner]


def conv_params(window, padding, strides, dilation, groups, flip):
    low, high = conv_padding(padding, window, dilation)
    params = {"strides": list(strides), "dilation": list(dilation), "groups": groups, "flip": flip,
              "pad_low": list(low), "pad_high": list(high)}
    if isinstance(padding, str):
        params["padding"] = padding
    return params, low, high


def add_convolutions(fixtures, local):
    cases = [
        # name, image shape, filter shape, padding, strides, dilation, groups, flip
        ("valid", (2, 3, 6, 5), (4, 3, 3, 2), "valid", (1, 1), (1, 1), 1, True),
        ("valid_correlation", (2, 3, 6, 5), (4, 3, 3, 2), "valid", (1, 1), (1, 1), 1, False),
        ("full", (1, 2, 4, 4), (3, 2, 3, 3), "full", (1, 1), (1, 1), 1, True),
        ("half", (2, 2, 5, 6), (2, 2, 3, 3), "half", (1, 1), (1, 1), 1, False),
        ("half_even_window", (1, 1, 5, 6), (2, 1, 4, 2), "half", (1, 1), (1, 1), 1, True),
        ("explicit_asymmetric", (1, 2, 5, 5), (2, 2, 2, 3), ([1, 0], [2, 1]), (1, 1), (1, 1), 1, False),
        ("strided", (2, 2, 7, 8), (3, 2, 3, 3), "valid", (2, 3), (1, 1), 1, False),
        ("strided_padded", (1, 3, 7, 7), (2, 3, 3, 3), ([1, 1], [1, 1]), (2, 2), (1, 1), 1, True),
        ("dilated", (1, 2, 9, 8), (2, 2, 3, 2), "valid", (1, 1), (2, 3), 1, False),
        ("dilated_strided_half", (2, 1, 9, 9), (2, 1, 3, 3), "half", (2, 1), (2, 2), 1, True),
        ("grouped", (2, 4, 5, 5), (6, 2, 3, 3), "valid", (1, 1), (1, 1), 2, False),
        ("depthwise", (1, 3, 5, 4), (6, 1, 2, 2), "half", (1, 1), (1, 1), 3, True),
        ("one_by_one", (2, 5, 3, 3), (4, 5, 1, 1), "valid", (1, 1), (1, 1), 1, True),
        ("window_as_large_as_image", (2, 2, 3, 4), (3, 2, 3, 4), "valid", (1, 1), (1, 1), 1, False),
    ]
    for dtype in FLOAT_DTYPES:
        for name, xs, ws, padding, strides, dilation, groups, flip in cases:
            x = array(dyadic(local.normal(size=xs)), dtype)
            w = array(dyadic(local.normal(size=ws)), dtype)
            params, low, high = conv_params(ws[2:], padding, strides, dilation, groups, flip)
            y = conv_reference(x.astype("float64"), w.astype("float64"), strides, dilation, low, high, groups, flip)
            fixtures.add(f"conv2d/{dtype}/{name}", "conv2d", [x, w], y.astype(dtype), params=params)
            gy = array(dyadic(local.normal(size=y.shape)), dtype)
            gx = conv_grad_inputs_reference(gy.astype("float64"), w.astype("float64"), xs, strides, dilation, low, high, groups, flip)
            fixtures.add(f"conv2d_grad_inputs/{dtype}/{name}", "conv2d_grad_inputs", [gy, w], gx.astype(dtype),
                         params=dict(params, image_shape=list(xs)))
            gw = conv_grad_filters_reference(x.astype("float64"), gy.astype("float64"), ws[2:], strides, dilation, low, high, groups, flip)
            fixtures.add(f"conv2d_grad_filters/{dtype}/{name}", "conv2d_grad_filters", [x, gy], gw.astype(dtype),
                         params=dict(params, filter_shape=list(ws)))
    for name, xs, ws, padding, strides, flip in [
        ("valid", (2, 2, 4, 5, 4), (3, 2, 2, 3, 2), "valid", (1, 1, 1), True),
        ("strided_half", (1, 3, 5, 5, 6), (2, 3, 3, 3, 3), "half", (2, 1, 2), False),
    ]:
        x = array(dyadic(local.normal(size=xs)), "float64")
        w = array(dyadic(local.normal(size=ws)), "float64")
        params, low, high = conv_params(ws[2:], padding, strides, (1, 1, 1), 1, flip)
        fixtures.add(f"conv3d/float64/{name}", "conv3d", [x, w], conv_reference(x, w, strides, (1, 1, 1), low, high, 1, flip), params=params)


def pool_size(n, k, s, p, ignore_border):
    if n == 0:
        return 0
    if ignore_border:
        return 0 if n + 2 * p < k else (n + 2 * p - k) // s + 1
    return (n - 1) // s + 1 if s >= k else max(0, (n - 1 - k + s) // s) + 1


def pool_reference(x, window, strides, padding, mode, ignore_border):
    """Theano's pooling, window by window, over the trailing len(window) axes."""
    rank = len(window)
    spatial = x.shape[-rank:]
    outs = [pool_size(n, k, s, p, ignore_border) for n, k, s, p in zip(spatial, window, strides, padding)]
    y = np.zeros(x.shape[:-rank] + tuple(outs))
    for o in np.ndindex(*outs):
        starts = [i * s - p for i, s, p in zip(o, strides, padding)]
        ends = [a + k for a, k in zip(starts, window)]
        inside = tuple(slice(max(a, 0), min(b, n)) for a, b, n in zip(starts, ends, spatial))
        taps = x[(Ellipsis,) + inside].reshape(x.shape[:-rank] + (-1,))
        padded_count = np.prod([min(b, n + p) - a for a, b, n, p in zip(starts, ends, spatial, padding)])
        if mode == "max":
            value = taps.max(axis=-1)
        elif mode == "sum":
            value = taps.sum(axis=-1)
        elif mode == "averageIncludingPadding":
            value = taps.sum(axis=-1) / padded_count
        else:
            value = taps.sum(axis=-1) / taps.shape[-1]
        y[(Ellipsis,) + o] = value
    return y


def pool_grad_reference(x, gy, window, strides, padding, mode, ignore_border):
    """Each window's gradient to its first largest tap, or spread over its taps."""
    rank = len(window)
    spatial = x.shape[-rank:]
    gx = np.zeros(x.shape)
    for lead in np.ndindex(*x.shape[:-rank]):
        for o in np.ndindex(*gy.shape[-rank:]):
            starts = [i * s - p for i, s, p in zip(o, strides, padding)]
            ends = [a + k for a, k in zip(starts, window)]
            ranges = [range(max(a, 0), min(b, n)) for a, b, n in zip(starts, ends, spatial)]
            taps = [tuple(t) for t in np.array(np.meshgrid(*ranges, indexing="ij")).reshape(rank, -1).T]
            g = gy[lead + o]
            if mode == "max":
                values = [x[lead + t] for t in taps]
                gx[lead + taps[int(np.argmax(values))]] += g
            else:
                count = {"sum": 1, "averageExcludingPadding": len(taps),
                         "averageIncludingPadding": np.prod([min(b, n + p) - a for a, b, n, p in zip(starts, ends, spatial, padding)])}[mode]
                for t in taps:
                    gx[lead + t] += g / count
    return gx


def max_pool_rop_reference(x, t, window, strides, padding, ignore_border):
    """Max pooling's pushforward: each window takes the tangent at its first largest tap."""
    rank = len(window)
    spatial = x.shape[-rank:]
    outs = [pool_size(n, k, s, p, ignore_border) for n, k, s, p in zip(spatial, window, strides, padding)]
    y = np.zeros(x.shape[:-rank] + tuple(outs))
    for lead in np.ndindex(*x.shape[:-rank]):
        for o in np.ndindex(*outs):
            starts = [i * s - p for i, s, p in zip(o, strides, padding)]
            ranges = [range(max(a, 0), min(a + k, n)) for a, k, n in zip(starts, window, spatial)]
            taps = [tuple(v) for v in np.array(np.meshgrid(*ranges, indexing="ij")).reshape(rank, -1).T]
            best = taps[int(np.argmax([x[lead + v] for v in taps]))]
            y[lead + o] = t[lead + best]
    return y


def add_pooling(fixtures, local):
    cases = [
        # name, shape, window, strides, padding, ignore_border
        ("2x2", (2, 3, 4, 6), (2, 2), None, (0, 0), True),
        ("3x3_stride_2_overlapping", (1, 2, 7, 7), (3, 3), (2, 2), (0, 0), True),
        ("keep_border", (1, 2, 5, 5), (2, 2), None, (0, 0), False),
        ("keep_border_overlapping", (2, 1, 6, 5), (3, 2), (1, 1), (0, 0), False),
        ("keep_border_stride_smaller", (1, 1, 7, 6), (3, 3), (2, 2), (0, 0), False),
        ("padded", (1, 2, 5, 6), (3, 3), (2, 2), (1, 1), True),
        ("padded_unit_stride", (2, 1, 4, 4), (2, 3), (1, 1), (1, 2), True),
        ("3d_input", (3, 5, 4), (2, 2), None, (0, 0), True),
        ("5d_input", (2, 1, 2, 4, 4), (2, 2), (1, 2), (0, 0), False),
    ]
    modes = ("max", "sum", "averageIncludingPadding", "averageExcludingPadding")
    for dtype in FLOAT_DTYPES:
        for name, shape, window, strides, padding, ignore_border in cases:
            strides = strides or window
            # Distinct values, so that the largest tap is unambiguous... except where ties are wanted.
            x = array(dyadic(local.permutation(np.prod(shape)).reshape(shape) / 8 - 3), dtype)
            for mode in modes:
                params = {"window": list(window), "strides": list(strides), "padding": list(padding),
                          "mode": mode, "ignore_border": ignore_border}
                y = pool_reference(x.astype("float64"), window, strides, padding, mode, ignore_border)
                fixtures.add(f"pool2d/{dtype}/{name}/{mode}", "pool2d", [x], y.astype(dtype), params=params)
                gy = array(dyadic(local.normal(size=y.shape)), dtype)
                gx = pool_grad_reference(x.astype("float64"), gy.astype("float64"), window, strides, padding, mode, ignore_border)
                fixtures.add(f"pool2d_grad/{dtype}/{name}/{mode}", "pool2d_grad", [x, gy], gx.astype(dtype), params=params)
    for name, shape, window, strides, padding, ignore_border in cases[:4] + cases[5:6]:
        strides = strides or window
        x = array(dyadic(local.permutation(np.prod(shape)).reshape(shape) / 8 - 3), "float64")
        t = array(dyadic(local.normal(size=shape)), "float64")
        params = {"window": list(window), "strides": list(strides), "padding": list(padding), "ignore_border": ignore_border}
        fixtures.add(f"max_pool_rop/{name}", "max_pool_rop", [x, t],
                     max_pool_rop_reference(x, t, window, strides, padding, ignore_border), params=params)
    ties = array([[[[1, 3, 3, 0], [3, 2, 1, 1], [-1, -1, 5, 5], [-1, -2, 5, 5]]]], "float64")
    gy = array([[[[1, 2], [4, 8]]]], "float64")
    params = {"window": [2, 2], "strides": [2, 2], "padding": [0, 0], "mode": "max", "ignore_border": True}
    fixtures.add("pool2d_grad/float64/ties_go_to_the_first_maximum", "pool2d_grad", [ties, gy],
                 pool_grad_reference(ties, gy, (2, 2), (2, 2), (0, 0), "max", True), params=params)
    for mode in modes:
        x = array(dyadic(local.normal(size=(1, 2, 4, 5, 4))), "float64")
        params = {"window": [2, 3, 2], "strides": [1, 2, 2], "padding": [0, 1, 0], "mode": mode, "ignore_border": True}
        fixtures.add(f"pool3d/float64/{mode}", "pool3d", [x], pool_reference(x, (2, 3, 2), (1, 2, 2), (0, 1, 0), mode, True), params=params)


def neighbourhoods(x, window, strides, mode):
    """Theano's images2neibs: rows of windows, per image and channel, positions row-major."""
    pad = {"valid": (0, 0), "ignoreBorders": (0, 0), "half": tuple(k // 2 for k in window),
           "full": tuple(k - 1 for k in window)}[mode]
    padded = np.pad(x, ((0, 0), (0, 0), (pad[0], pad[0]), (pad[1], pad[1])))
    rows = []
    for n in range(x.shape[0]):
        for c in range(x.shape[1]):
            for i in range(0, padded.shape[2] - window[0] + 1, strides[0]):
                for j in range(0, padded.shape[3] - window[1] + 1, strides[1]):
                    rows.append(padded[n, c, i:i + window[0], j:j + window[1]].reshape(-1))
    return np.array(rows)


def unneighbourhoods(rows, window, strides, shape):
    images = np.zeros(shape)
    index = 0
    for n in range(shape[0]):
        for c in range(shape[1]):
            for i in range(0, shape[2] - window[0] + 1, strides[0]):
                for j in range(0, shape[3] - window[1] + 1, strides[1]):
                    images[n, c, i:i + window[0], j:j + window[1]] += rows[index].reshape(window)
                    index += 1
    return images


def bilinear_upsampling_reference(x, ratio):
    """Theano's bilinear_upsampling: edge rows and columns repeated, then each axis spread
    by the triangular kernel at stride `ratio` (a transposed convolution), rows first."""
    kernel = np.concatenate([np.arange(1, ratio + 1), np.arange(ratio - 1, 0, -1)]) / ratio
    pad = 2 * ratio - (ratio - 1) // 2 - 1

    def along(values, axis, size):
        moved = np.moveaxis(values, axis, -1)
        out = np.zeros(moved.shape[:-1] + (size + 2 * pad,))
        for position in range(moved.shape[-1]):
            out[..., position * ratio:position * ratio + len(kernel)] += moved[..., position:position + 1] * kernel
        return np.moveaxis(out[..., pad:pad + size], -1, axis)

    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), mode="edge")
    rows = along(padded, 2, x.shape[2] * ratio)
    return along(rows[:, :, :, :], 3, x.shape[3] * ratio)[:, :, :, :]


def add_neighbourhoods_and_upsampling(fixtures, local):
    for name, shape, window, strides, mode in [
        ("valid", (2, 2, 4, 6), (2, 3), None, "valid"),
        ("valid_overlapping", (1, 2, 5, 5), (3, 3), (1, 2), "valid"),
        ("ignore_borders", (1, 1, 5, 7), (2, 3), None, "ignoreBorders"),
        ("half", (1, 2, 4, 4), (3, 3), (1, 1), "half"),
        ("full", (1, 1, 3, 3), (2, 2), (1, 1), "full"),
    ]:
        strides = strides or window
        x = array(dyadic(local.normal(size=shape)), "float64")
        params = {"window": list(window), "strides": list(strides), "mode": mode}
        fixtures.add(f"images2neibs/{name}", "images2neibs", [x], neighbourhoods(x, window, strides, mode), params=params)
        if mode in ("valid", "ignoreBorders") and name != "ignore_borders":
            rows = array(dyadic(local.normal(size=neighbourhoods(x, window, strides, mode).shape)), "float64")
            fixtures.add(f"neibs2images/{name}", "neibs2images", [rows], unneighbourhoods(rows, window, strides, shape),
                         params=dict(params, image_shape=list(shape)))
    for dtype in FLOAT_DTYPES:
        for ratio, shape in ((2, (1, 2, 3, 4)), (3, (2, 1, 2, 3)), (1, (1, 1, 3, 2)), (4, (1, 1, 2, 2))):
            x = array(dyadic(local.normal(size=shape)), dtype)
            fixtures.add(f"bilinear_upsampling/{dtype}/ratio{ratio}", "bilinear_upsampling", [x],
                         bilinear_upsampling_reference(x.astype("float64"), ratio).astype(dtype), params={"ratio": ratio})


def convolution_fixtures():
    fixtures = FixtureFile("convolution", "conv2d/conv3d and their gradients, pooling and its gradient, images2neibs, "
                                          "neibs2images and bilinear upsampling, against sums over NumPy windows.")
    local = np.random.default_rng(SEED + 14)
    add_convolutions(fixtures, local)
    add_pooling(fixtures, local)
    add_neighbourhoods_and_upsampling(fixtures, local)
    return fixtures



def numpy_files():
    """Files NumPy writes, which the library must read (NumPyFileTests), and the bytes
    numpy.save makes for arrays the tests encode too."""
    import os
    folder = os.path.join(os.path.dirname(os.path.abspath(__file__)), "NumPyFiles")
    os.makedirs(folder, exist_ok=True)
    arrays = {
        "float32_2x3": np.arange(6, dtype="<f4").reshape(2, 3) / 4,
        "float64_vector": np.array([0.5, -1.25, np.inf, 3e300]),
        "int64_scalar": np.array(-7, dtype="<i8"),
        "bool_2x2": np.array([[True, False], [False, True]]),
        "uint8_empty": np.zeros((0, 3), dtype="u1"),
        "int8_3x1x2": np.arange(-3, 3, dtype="i1").reshape(3, 1, 2),
    }
    for name, array in arrays.items():
        np.save(os.path.join(folder, f"{name}.npy"), array)
    # Orders and byte orders the writer never makes but the reader must take.
    np.save(os.path.join(folder, "float64_fortran_3x2.npy"), np.asfortranarray(np.arange(6, dtype="<f8").reshape(3, 2)))
    np.save(os.path.join(folder, "int32_big_endian.npy"), np.array([1, -2, 70000], dtype=">i4"))
    np.save(os.path.join(folder, "int16_big_endian_2x2.npy"), np.array([[1, -2], [300, -400]], dtype=">i2"))
    np.savez(os.path.join(folder, "stored.npz"), W=np.arange(12, dtype="<f4").reshape(3, 4), b=np.array([1.5, -2.5], dtype="<f4"))
    big = np.tile(np.arange(100, dtype="<f8"), 50).reshape(50, 100)
    np.savez_compressed(os.path.join(folder, "compressed.npz"), big=big, small=np.array([7, 8, 9], dtype="<i8"),
                        noise=np.random.default_rng(5).integers(0, 256, size=300).astype("u1"))
    print(f"NumPyFiles: {len(os.listdir(folder))} files")


def main():
    files = [elementwise_fixtures(), reduction_fixtures(), shape_fixtures(), indexing_fixtures(),
             linalg_fixtures(), nnet_fixtures(), numpy_semantics_fixtures(), stabilize_fixtures(), convolution_fixtures(),
             matrix_algebra_fixtures(), einsum_fixtures(), sparse_fixtures()]
    for fixtures in files:
        fixtures.write()
    total = sum((OUTPUT_DIRECTORY / f"{f.stem}.json").stat().st_size for f in files)
    print(f"total: {sum(len(f.cases) for f in files)} cases, {total} bytes")
    numpy_files()


if __name__ == "__main__":
    main()
