#!/usr/bin/env python3
"""Regenerate the text-classifier fixtures under models/text/.

Run from the repository root:

    /usr/bin/python3 models/make_text.py

A BERT-style sequence classifier with tiny sizes (token, position and segment embeddings,
LayerNorm, masked multi-head self-attention, erf-GELU feed-forward, pooler Tanh on the first
token, linear classifier), exported by torch.onnx at opsets 13 to 17 with inputs input_ids,
attention_mask and token_type_ids (int64, [N, L]). References are PyTorch float64 autograd with
respect to the word-embedding output (the Gather from the embedding table), Captum's
LayerIntegratedGradients / LayerGradient convention. See models/README.md.
"""
import copy
import json
import math
import os
import shutil

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
import torch
import torch.nn as nn

torch.set_num_threads(2)

HERE = os.path.dirname(os.path.abspath(__file__))
OUT_ROOT = os.path.join(HERE, "text")
VOCAB, HIDDEN, HEADS, FFN, LAYERS, MAX_LEN, CLASSES = 40, 16, 2, 32, 2, 16, 3
SEQ = 8
LN_IG_STEPS = 8


class Layer(nn.Module):
    def __init__(self):
        super().__init__()
        self.qkv = nn.ModuleList(nn.Linear(HIDDEN, HIDDEN) for _ in range(3))
        self.out = nn.Linear(HIDDEN, HIDDEN)
        self.ln1 = nn.LayerNorm(HIDDEN, eps=1e-12)
        self.ffn1, self.ffn2 = nn.Linear(HIDDEN, FFN), nn.Linear(FFN, HIDDEN)
        self.ln2 = nn.LayerNorm(HIDDEN, eps=1e-12)

    def forward(self, h, mask_bias):
        n, l, _ = h.shape
        d = HIDDEN // HEADS
        q, k, v = (m(h).view(n, l, HEADS, d).transpose(1, 2) for m in self.qkv)
        scores = q @ k.transpose(-1, -2) / math.sqrt(d) + mask_bias
        ctx = (torch.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(n, l, HIDDEN)
        h = self.ln1(h + self.out(ctx))
        gelu = nn.functional.gelu(self.ffn1(h))  # erf form
        return self.ln2(h + self.ffn2(gelu))


class Bert(nn.Module):
    """HF BertForSequenceClassification's structure at tiny sizes."""

    def __init__(self):
        super().__init__()
        self.word = nn.Embedding(VOCAB, HIDDEN)
        self.position = nn.Embedding(MAX_LEN, HIDDEN)
        self.segment = nn.Embedding(2, HIDDEN)
        self.ln = nn.LayerNorm(HIDDEN, eps=1e-12)
        self.layers = nn.ModuleList(Layer() for _ in range(LAYERS))
        self.pooler = nn.Linear(HIDDEN, HIDDEN)
        self.classifier = nn.Linear(HIDDEN, CLASSES)
        self.register_buffer("position_ids", torch.arange(MAX_LEN).unsqueeze(0))

    def embeddings(self, input_ids, token_type_ids, word=None, segment=None):
        if word is None:
            word = self.word(input_ids)
        positions = self.position_ids[:, :input_ids.shape[1]]
        return self.ln(word + self.position(positions) + (self.segment(token_type_ids) if segment is None else segment))

    def forward(self, input_ids, attention_mask, token_type_ids, word=None, h=None, segment=None):
        if h is None:
            h = self.embeddings(input_ids, token_type_ids, word, segment)
        mask_bias = (1.0 - attention_mask[:, None, None, :].to(h.dtype)) * -10000.0
        for layer in self.layers:
            h = layer(h, mask_bias)
        pooled = torch.tanh(self.pooler(h[:, 0]))
        return self.classifier(pooled)


def make_inputs():
    r = np.random.RandomState(7)
    ids = r.randint(3, VOCAB, size=(3, SEQ))
    ids[:, 0] = 1  # [CLS]
    mask = np.ones((3, SEQ), np.int64)
    ids[1, 5] = 2  # [SEP], then padding
    ids[1, 6:] = 0
    mask[1, 6:] = 0
    ids[[0, 2], SEQ - 1] = 2
    types = np.zeros((3, SEQ), np.int64)
    types[2, 4:] = 1
    return ids.astype(np.int64), mask, types


def save(d, arrays, meta):
    """Writes each array as NAME.npy (tensors as float32) and meta.json; returns the folder's size."""
    for name, a in arrays.items():
        np.save(os.path.join(d, name + ".npy"), a.detach().numpy().astype(np.float32) if torch.is_tensor(a) else a)
    with open(os.path.join(d, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2)
        f.write("\n")
    return sum(os.path.getsize(os.path.join(d, fn)) for fn in os.listdir(d))


def main():
    # The folders `make_text.py eos`, `bart`, `hashed` and `lookups` write stay (main does not rewrite them).
    for name in os.listdir(OUT_ROOT) if os.path.isdir(OUT_ROOT) else []:
        if name not in ("eos_pool_op14", "bart_op14", "hashed_ids_op14") and not name.startswith(("unk_", "half_")):
            shutil.rmtree(os.path.join(OUT_ROOT, name))
    torch.manual_seed(3)
    model = Bert().eval()
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.LayerNorm):
                m.weight.copy_(torch.rand(HIDDEN) + 0.5)
                m.bias.copy_(torch.randn(HIDDEN) * 0.2)
    ids, mask, types = make_inputs()
    target = np.random.RandomState(0).randint(CLASSES, size=ids.shape[0])
    md = model.double()
    t_ids, t_mask, t_types = (torch.from_numpy(a) for a in (ids, mask, types))
    word = md.word(t_ids).detach().requires_grad_(True)
    logits = md(t_ids, t_mask, t_types, word=word)
    (grad,) = torch.autograd.grad(logits[torch.arange(3), torch.from_numpy(target)].sum(), word)
    # Layer attribution at the embeddings' LayerNorm output (Captum's LayerIntegratedGradients(model,
    # model.embeddings)): its gradient, and integrated gradients from the layer on the baseline
    # tokens (id 0 everywhere, same token types) with numpy's Gauss-Legendre nodes, explicit loop.
    pick = (torch.arange(3), torch.from_numpy(target))
    ln_x = md.embeddings(t_ids, t_types).detach().requires_grad_(True)
    (grad_ln,) = torch.autograd.grad(md(t_ids, t_mask, t_types, h=ln_x)[pick].sum(), ln_x)
    ln_0 = md.embeddings(torch.zeros_like(t_ids), t_types).detach()
    nodes, weights = np.polynomial.legendre.leggauss(LN_IG_STEPS)
    ig_ln = torch.zeros_like(ln_x)
    for node, weight in zip(nodes, weights):
        point = (ln_0 + 0.5 * (1 + node) * (ln_x - ln_0)).detach().requires_grad_(True)
        (g,) = torch.autograd.grad(md(t_ids, t_mask, t_types, h=point)[pick].sum(), point)
        ig_ln += 0.5 * weight * g
    ig_ln = ig_ln * (ln_x - ln_0)
    # Joint attribution to the word and segment (token type) embeddings, Captum's
    # LayerIntegratedGradients(model, [model.word, model.segment]) from ids 0 and token types 0.
    segment = md.segment(t_types).detach().requires_grad_(True)
    (grad_segment,) = torch.autograd.grad(md(t_ids, t_mask, t_types, segment=segment)[pick].sum(), segment)
    word_0, segment_0 = md.word(torch.zeros_like(t_ids)).detach(), md.segment(torch.zeros_like(t_types)).detach()
    ig_word, ig_segment = torch.zeros_like(word), torch.zeros_like(segment)
    for node, weight in zip(nodes, weights):
        a = 0.5 * (1 + node)
        w = (word_0 + a * (word - word_0)).detach().requires_grad_(True)
        t = (segment_0 + a * (segment - segment_0)).detach().requires_grad_(True)
        g_w, g_t = torch.autograd.grad(md(t_ids, t_mask, t_types, word=w, segment=t)[pick].sum(), (w, t))
        ig_word += 0.5 * weight * g_w
        ig_segment += 0.5 * weight * g_t
    ig_word, ig_segment = ig_word * (word - word_0), ig_segment * (segment - segment_0)
    model.float()
    for opset in (13, 14, 15, 16, 17):
        d = os.path.join(OUT_ROOT, "bert_op%d" % opset)
        os.makedirs(d)
        path = os.path.join(d, "model.onnx")
        axes = {0: "batch", 1: "sequence"}
        torch.onnx.export(model, (t_ids, t_mask, t_types), path, opset_version=opset,
                          input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["logits"],
                          dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes, "logits": {0: "batch"}},
                          do_constant_folding=True)
        m = onnx.load(path)
        onnx.checker.check_model(m)
        ops = {n.op_type for n in m.graph.node}
        assert "Erf" in ops and ("LayerNormalization" in ops) == (opset >= 17), ops
        ln_name = [n for n in m.graph.node if n.name.startswith("/ln/")][-1].output[0]
        size = save(d, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types, "output": logits,
                        "embedding": word, "grad_embedding": grad, "grad_ln": grad_ln, "ig_ln": ig_ln,
                        "grad_segment": grad_segment, "ig_joint_word": ig_word, "ig_joint_segment": ig_segment},
                    {"opset": opset, "target": [int(t) for t in target], "vocab": VOCAB, "hidden": HIDDEN,
                     "ln": ln_name, "ln_ig_steps": LN_IG_STEPS,
                     "description": "BERT-style classifier (2 layers, 2 heads, hidden 16); grad_embedding = "
                                    "d logit[target] / d word-embedding output, float64 autograd; grad_ln, ig_ln: "
                                    "the gradient and integrated gradients (baseline token 0, Gauss-Legendre "
                                    "ln_ig_steps) at the embeddings' LayerNorm output `ln`; grad_segment = d logit[target] / "
                                    "d segment-embedding output; ig_joint_word, ig_joint_segment: integrated gradients "
                                    "(ln_ig_steps) to the word and segment embeddings jointly, from ids 0 and token types 0"})
        print("bert_op%d %6d B  %s" % (opset, size, ", ".join(sorted(ops))))
    write_q8(model, (ids, mask, types), target)
    write_ort_optimized(model, (ids, mask, types), target, logits, grad)
    write_masked_models()
    write_past_model()
    write_bag_models()


# ----------------------------------------------------------------------------
# transformers.js' model_quantized.onnx: onnxruntime's quantize_dynamic of the opset-14 export
# ----------------------------------------------------------------------------
def quantize_columns(w):
    """int8, symmetric, one scale per column (per output feature of a MatMul's B)."""
    ws = (np.abs(w).max(axis=0) / 127).astype(np.float32)
    return np.round(w / ws).astype(np.int8), ws


def quantize_table(w):
    """int8, symmetric, one scale for the table (Gather)."""
    ws = np.float32(np.abs(w).max() / 127)
    return np.round(w / ws).astype(np.int8), ws


def quantize_dynamic(m):
    """The graph onnxruntime's quantize_dynamic (IntegerOps, MatMulConstBOnly) writes: a MatMul with
    a constant B becomes DynamicQuantizeLinear of A (one per A), MatMulInteger with int8 per-column
    weights and zero points, Cast to float, Mul by Mul(A's scale, B's scales); a Gather of a constant
    table reads an int8 table, then DequantizeLinear."""
    g = m.graph
    inits = {t.name: t for t in g.initializer}
    nodes, quantized = [], {}
    for n in g.node:
        if n.op_type == "MatMul" and n.input[1] in inits:
            a = n.input[0]
            if a not in quantized:
                quantized[a] = [a + "_quantized", a + "_scale", a + "_zero_point"]
                nodes.append(helper.make_node("DynamicQuantizeLinear", [a], quantized[a], a + "_QuantizeLinear"))
            qa, sa, za = quantized[a]
            wq, ws = quantize_columns(numpy_helper.to_array(inits[n.input[1]]))
            b = n.input[1]
            g.initializer.extend([numpy_helper.from_array(wq, b + "_quantized"), numpy_helper.from_array(ws, b + "_scale"),
                                  numpy_helper.from_array(np.zeros(ws.shape, np.int8), b + "_zero_point")])
            out = n.output[0]
            nodes += [helper.make_node("MatMulInteger", [qa, b + "_quantized", za, b + "_zero_point"], [out + "_output_quantized"], n.name + "_quant"),
                      helper.make_node("Cast", [out + "_output_quantized"], [out + "_output_quantized_cast_output"], out + "_output_quantized_cast", to=TensorProto.FLOAT),
                      helper.make_node("Mul", [sa, b + "_scale"], [n.name + "_quant_scales_mul:0"], n.name + "_quant_scales_mul"),
                      helper.make_node("Mul", [out + "_output_quantized_cast_output", n.name + "_quant_scales_mul:0"], [out], n.name + "_quant_output_scale_mul")]
        elif n.op_type == "Gather" and n.input[0] in inits:
            t = n.input[0]
            tq, ts = quantize_table(numpy_helper.to_array(inits[t]))
            g.initializer.extend([numpy_helper.from_array(tq, t + "_quantized"), numpy_helper.from_array(ts, t + "_scale"),
                                  numpy_helper.from_array(np.int8(0), t + "_zero_point")])
            out = n.output[0]
            nodes += [helper.make_node("Gather", [t + "_quantized", n.input[1]], [out + "_quantized"], n.name, axis=0),
                      helper.make_node("DequantizeLinear", [out + "_quantized", t + "_scale", t + "_zero_point"], [out], out + "_DequantizeLinear")]
        else:
            nodes.append(n)
    used = {i for n in nodes for i in n.input}
    kept = [t for t in g.initializer if t.name in used]
    del g.node[:]
    g.node.extend(nodes)
    del g.initializer[:]
    g.initializer.extend(kept)
    del g.value_info[:]
    return m


def write_ort_optimized(model, inputs, target, logits, grad):
    """The graph onnxruntime's transformer optimiser (optimum --optimize O2) writes for this BERT:
    int64 inputs cast to int32, com.microsoft EmbedLayerNormalization (with the mask's lengths as
    mask_index), Attention (merged QKV weights), SkipLayerNormalization with bias, BiasGelu, at
    opset 12. The same function as the exported model, so its references are reused."""
    d = os.path.join(OUT_ROOT, "bert_ort_opt")
    os.makedirs(d)
    ms = "com.microsoft"
    inits, nodes = [], []

    def const(name, value, dtype=np.float32):
        inits.append(numpy_helper.from_array(np.asarray(value, dtype), name))
        return name

    def param(name, tensor, transpose=False):
        a = tensor.detach().numpy()
        return const(name, a.T if transpose else a)

    for name in ("input_ids", "token_type_ids", "attention_mask"):
        nodes.append(helper.make_node("Cast", [name], [name + "_int32"], to=TensorProto.INT32))
    nodes.append(helper.make_node("EmbedLayerNormalization",
                                  ["input_ids_int32", "token_type_ids_int32", param("word", model.word.weight),
                                   param("position", model.position.weight), param("segment", model.segment.weight),
                                   param("ln.gamma", model.ln.weight), param("ln.beta", model.ln.bias), "attention_mask_int32"],
                                  ["embeddings", "mask_index"], domain=ms, epsilon=1e-12))
    h = "embeddings"
    for i, layer in enumerate(model.layers):
        p = "layer%d." % i
        qkv_w = const(p + "qkv.weight", np.concatenate([m.weight.detach().numpy().T for m in layer.qkv], 1))
        qkv_b = const(p + "qkv.bias", np.concatenate([m.bias.detach().numpy() for m in layer.qkv]))
        nodes += [helper.make_node("Attention", [h, qkv_w, qkv_b, "mask_index"], [p + "attention"], domain=ms, num_heads=HEADS),
                  helper.make_node("MatMul", [p + "attention", param(p + "out.weight", layer.out.weight, True)], [p + "out"]),
                  helper.make_node("SkipLayerNormalization", [p + "out", h, param(p + "ln1.gamma", layer.ln1.weight), param(p + "ln1.beta", layer.ln1.bias),
                                                              param(p + "out.bias", layer.out.bias)], [p + "ln1"], domain=ms, epsilon=1e-12),
                  helper.make_node("MatMul", [p + "ln1", param(p + "ffn1.weight", layer.ffn1.weight, True)], [p + "ffn1"]),
                  helper.make_node("BiasGelu", [p + "ffn1", param(p + "ffn1.bias", layer.ffn1.bias)], [p + "gelu"], domain=ms),
                  helper.make_node("MatMul", [p + "gelu", param(p + "ffn2.weight", layer.ffn2.weight, True)], [p + "ffn2"]),
                  helper.make_node("SkipLayerNormalization", [p + "ffn2", p + "ln1", param(p + "ln2.gamma", layer.ln2.weight), param(p + "ln2.beta", layer.ln2.bias),
                                                              param(p + "ffn2.bias", layer.ffn2.bias)], [p + "ln2"], domain=ms, epsilon=1e-12)]
        h = p + "ln2"
    nodes += [helper.make_node("Gather", [h, const("first", 0, np.int64)], ["cls"], axis=1),
              helper.make_node("Gemm", ["cls", param("pooler.weight", model.pooler.weight), param("pooler.bias", model.pooler.bias)], ["pooled_linear"], transB=1),
              helper.make_node("Tanh", ["pooled_linear"], ["pooled"]),
              helper.make_node("Gemm", ["pooled", param("classifier.weight", model.classifier.weight), param("classifier.bias", model.classifier.bias)], ["logits"], transB=1)]
    io = [helper.make_tensor_value_info(n, TensorProto.INT64, ["batch", "sequence"]) for n in ("input_ids", "attention_mask", "token_type_ids")]
    graph = helper.make_graph(nodes, "bert_ort_optimized", io, [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", CLASSES])], inits)
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 12), helper.make_opsetid(ms, 1)], ir_version=7,
                          producer_name="onnx-explain make_text.py")
    onnx.checker.check_model(m)
    onnx.save(m, os.path.join(d, "model.onnx"))
    ids, mask, types = inputs
    size = save(d, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types, "output": logits, "grad_embedding": grad},
                {"opset": 12, "target": [int(t) for t in target], "vocab": VOCAB, "hidden": HIDDEN,
                 "description": "the BERT fixture as onnxruntime's transformer optimiser writes it (EmbedLayerNormalization, "
                                "Attention, SkipLayerNormalization, BiasGelu); output and grad_embedding as bert_op*"})
    print("bert_ort_opt %6d B  %s" % (size, ", ".join(sorted({n.op_type for n in nodes}))))


class FakeQuantize(torch.autograd.Function):
    """DynamicQuantizeLinear then DequantizeLinear, with the statistics of each row (as each row run
    alone): scale (max(0, max) − min(0, min))/255, zero point round(−min/scale); backward the
    straight-through estimator with the statistics held fixed (PyTorch's fake quantisation)."""

    margins = []

    @staticmethod
    def forward(ctx, x):
        axes = tuple(range(1, x.dim()))
        lo, hi = x.amin(dim=axes, keepdim=True).clamp(max=0), x.amax(dim=axes, keepdim=True).clamp(min=0)
        s = torch.where(hi == lo, torch.ones_like(hi), (hi - lo) / 255)
        zp = torch.round((-lo / s).clamp(0, 255))
        for v in (x / s, -lo / s):
            FakeQuantize.margins.append(float((v - torch.floor(v) - 0.5).abs().min()))
        return (torch.clamp(torch.round(x / s) + zp, 0, 255) - zp) * s

    @staticmethod
    def backward(ctx, g):
        return g


def write_q8(model, inputs, target):
    d = os.path.join(OUT_ROOT, "bert_q8")
    os.makedirs(d)
    ids, mask, types = inputs
    path = os.path.join(d, "model.onnx")
    axes = {0: "batch", 1: "sequence"}
    t_ids, t_mask, t_types = (torch.from_numpy(a) for a in inputs)
    torch.onnx.export(model, (t_ids, t_mask, t_types), path, opset_version=14,
                      input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["logits"],
                      dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes, "logits": {0: "batch"}},
                      do_constant_folding=True)
    m = quantize_dynamic(onnx.load(path))
    onnx.checker.check_model(m)
    onnx.save(m, path)
    # The same function in PyTorch float64: dequantized tables and weights, fake-quantized MatMul inputs.
    md = copy.deepcopy(model).double()
    with torch.no_grad():
        for table in (md.word, md.position, md.segment):
            tq, ts = quantize_table(table.weight.detach().float().numpy())
            table.weight.copy_(torch.from_numpy(tq.astype(np.float64) * ts))
    for layer in md.layers:
        for lin in [*layer.qkv, layer.out, layer.ffn1, layer.ffn2]:
            wq, ws = quantize_columns(lin.weight.detach().float().numpy().T)
            lin.weight.data = torch.from_numpy((wq.astype(np.float64) * ws).T.copy())
            lin.forward = (lambda x, lin=lin: FakeQuantize.apply(x) @ lin.weight.T + lin.bias)
    FakeQuantize.margins = []
    word = md.word(t_ids).detach().requires_grad_(True)
    logits = md(t_ids, t_mask, t_types, word=word)
    (grad,) = torch.autograd.grad(logits[torch.arange(3), torch.from_numpy(target)].sum(), word)
    margin = min(FakeQuantize.margins)
    assert margin > 5e-5, "a quantised value lies within %g steps of a rounding boundary" % margin
    size = save(d, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types, "output": logits, "grad_embedding": grad},
                {"opset": 14, "target": [int(t) for t in target], "vocab": VOCAB, "hidden": HIDDEN,
                 "description": "bert_op14 through onnxruntime's quantize_dynamic (transformers.js' "
                                "model_quantized.onnx): output and grad_embedding (d logit[target] / d "
                                "word-embedding output) from PyTorch float64 with fake quantisation per row "
                                "and the straight-through estimator"})
    ops = sorted({n.op_type for n in m.graph.node})
    print("bert_q8  %6d B  margin %.3g  %s" % (size, margin, ", ".join(ops)))


# ----------------------------------------------------------------------------
# Decoder and -inf-masked encoder classifiers: a GPT-2-style model that pools the last non-pad
# token by logits[arange(N), last] (torch.onnx: Flatten + Gather at indices computed from the ids
# and the batch's size) with finfo.min causal and padding masks (their sum is -inf), and a
# DistilBERT-style model with masked_fill(-inf) and RoBERTa's cumsum position ids.
# ----------------------------------------------------------------------------
MASKED_IG_STEPS = 16


class DecoderAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.c_attn, self.c_proj = nn.Linear(HIDDEN, 3 * HIDDEN), nn.Linear(HIDDEN, HIDDEN)
        self.register_buffer("bias", torch.tril(torch.ones(MAX_LEN, MAX_LEN, dtype=torch.bool)).view(1, 1, MAX_LEN, MAX_LEN))

    def forward(self, x, mask_bias):
        n, l, _ = x.shape
        d = HIDDEN // HEADS
        q, k, v = (t.view(n, l, HEADS, d).permute(0, 2, 1, 3) for t in self.c_attn(x).split(HIDDEN, dim=2))
        w = q @ k.transpose(-1, -2) / math.sqrt(d)
        w = torch.where(self.bias[:, :, :l, :l], w, torch.tensor(torch.finfo(w.dtype).min, dtype=w.dtype))
        w = torch.softmax(w + mask_bias, dim=-1)
        return self.c_proj((w @ v).permute(0, 2, 1, 3).reshape(n, l, HIDDEN))


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class DecoderBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1, self.attn, self.ln2 = nn.LayerNorm(HIDDEN), DecoderAttention(), nn.LayerNorm(HIDDEN)
        self.fc, self.proj = nn.Linear(HIDDEN, FFN), nn.Linear(FFN, HIDDEN)

    def forward(self, x, mask_bias):
        x = x + self.attn(self.ln1(x), mask_bias)
        return x + self.proj(gelu_new(self.fc(self.ln2(x))))


class Decoder(nn.Module):
    """HF GPT2ForSequenceClassification's structure at tiny sizes (pad id 0)."""

    def __init__(self):
        super().__init__()
        self.word, self.position = nn.Embedding(VOCAB, HIDDEN), nn.Embedding(MAX_LEN, HIDDEN)
        self.blocks = nn.ModuleList(DecoderBlock() for _ in range(LAYERS))
        self.ln_f, self.score = nn.LayerNorm(HIDDEN), nn.Linear(HIDDEN, CLASSES, bias=False)

    def forward(self, input_ids, attention_mask, word=None):
        n, l = input_ids.shape
        x = (self.word(input_ids) if word is None else word) + self.position(torch.arange(l).unsqueeze(0))
        mask_bias = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * torch.finfo(x.dtype).min
        for block in self.blocks:
            x = block(x, mask_bias)
        logits = self.score(self.ln_f(x))
        last = (torch.eq(input_ids, 0).long().argmax(-1) - 1) % l
        return logits[torch.arange(n), last]


class InfMaskedLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.q, self.k, self.v, self.o = (nn.Linear(HIDDEN, HIDDEN) for _ in range(4))
        self.ln1, self.ln2 = nn.LayerNorm(HIDDEN, eps=1e-12), nn.LayerNorm(HIDDEN, eps=1e-12)
        self.ffn1, self.ffn2 = nn.Linear(HIDDEN, FFN), nn.Linear(FFN, HIDDEN)

    def forward(self, x, mask):
        n, l, _ = x.shape
        d = HIDDEN // HEADS
        q, k, v = (m(x).view(n, -1, HEADS, d).transpose(1, 2) for m in (self.q, self.k, self.v))
        scores = (q / math.sqrt(d)) @ k.transpose(2, 3)
        scores = scores.masked_fill((mask == 0).view(n, 1, 1, l).expand_as(scores), -float("inf"))
        ctx = (torch.softmax(scores, dim=-1) @ v).transpose(1, 2).contiguous().view(n, -1, HIDDEN)
        x = self.ln1(self.o(ctx) + x)
        return self.ln2(self.ffn2(nn.functional.gelu(self.ffn1(x))) + x)


class InfMasked(nn.Module):
    """DistilBERT's attention (masked_fill with -inf, as its older releases) with RoBERTa's position ids (pad id 1)."""

    def __init__(self):
        super().__init__()
        self.word, self.position = nn.Embedding(VOCAB, HIDDEN, padding_idx=1), nn.Embedding(MAX_LEN + 2, HIDDEN, padding_idx=1)
        self.ln = nn.LayerNorm(HIDDEN, eps=1e-12)
        self.layers = nn.ModuleList(InfMaskedLayer() for _ in range(LAYERS))
        self.pre, self.classifier = nn.Linear(HIDDEN, HIDDEN), nn.Linear(HIDDEN, CLASSES)

    def forward(self, input_ids, attention_mask, word=None):
        real = input_ids.ne(1).int()
        positions = (torch.cumsum(real, dim=1).type_as(real) * real).long() + 1
        x = self.ln((self.word(input_ids) if word is None else word) + self.position(positions))
        for layer in self.layers:
            x = layer(x, attention_mask)
        return self.classifier(torch.relu(self.pre(x[:, 0])))


class RMSNorm(nn.Module):
    def __init__(self):
        super().__init__()
        self.weight = nn.Parameter(torch.rand(HIDDEN) + 0.5)

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + 1e-6))


LLAMA_HEADS, LLAMA_KV = 4, 2


def rotate_half(x):
    a, b = x.chunk(2, dim=-1)
    return torch.cat((-b, a), dim=-1)


class GroupedAttention(nn.Module):
    def __init__(self):
        super().__init__()
        d = HIDDEN // LLAMA_HEADS
        self.q, self.o = nn.Linear(HIDDEN, HIDDEN, bias=False), nn.Linear(HIDDEN, HIDDEN, bias=False)
        self.k, self.v = nn.Linear(HIDDEN, LLAMA_KV * d, bias=False), nn.Linear(HIDDEN, LLAMA_KV * d, bias=False)

    def forward(self, x, cos, sin, mask_bias):
        n, l, _ = x.shape
        d = HIDDEN // LLAMA_HEADS
        q = self.q(x).view(n, l, LLAMA_HEADS, d).transpose(1, 2)
        k, v = (m(x).view(n, l, LLAMA_KV, d).transpose(1, 2) for m in (self.k, self.v))
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        repeat = LLAMA_HEADS // LLAMA_KV
        k, v = (t[:, :, None].expand(n, LLAMA_KV, repeat, l, d).reshape(n, LLAMA_HEADS, l, d) for t in (k, v))
        w = torch.softmax(q @ k.transpose(2, 3) / math.sqrt(d) + mask_bias, dim=-1)
        return self.o((w @ v).transpose(1, 2).reshape(n, l, HIDDEN))


class LlamaBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.norm1, self.attn, self.norm2 = RMSNorm(), GroupedAttention(), RMSNorm()
        self.gate, self.up, self.down = nn.Linear(HIDDEN, FFN, bias=False), nn.Linear(HIDDEN, FFN, bias=False), nn.Linear(FFN, HIDDEN, bias=False)

    def forward(self, x, cos, sin, mask_bias):
        x = x + self.attn(self.norm1(x), cos, sin, mask_bias)
        h = self.norm2(x)
        return x + self.down(nn.functional.silu(self.gate(h)) * self.up(h))


class Llama(nn.Module):
    """HF LlamaForSequenceClassification's structure (RMSNorm, rotary positions from the mask, grouped-query attention, SwiGLU; pad id 0)."""

    def __init__(self):
        super().__init__()
        self.word = nn.Embedding(VOCAB, HIDDEN)
        self.blocks = nn.ModuleList(LlamaBlock() for _ in range(LAYERS))
        self.norm, self.score = RMSNorm(), nn.Linear(HIDDEN, CLASSES, bias=False)

    def forward(self, input_ids, attention_mask, word=None):
        n, l = input_ids.shape
        x = self.word(input_ids) if word is None else word
        d = HIDDEN // LLAMA_HEADS
        positions = (attention_mask.long().cumsum(-1) - 1).clamp(min=0)
        angles = positions[..., None].float() / (10000 ** (torch.arange(0, d, 2).float() / d))
        angles = torch.cat((angles, angles), dim=-1)
        cos, sin = angles.cos()[:, None].to(x.dtype), angles.sin()[:, None].to(x.dtype)
        i = torch.arange(l)
        low = torch.finfo(x.dtype).min
        mask_bias = torch.zeros(l, l, dtype=x.dtype).masked_fill(i[None, :] > i[:, None], low)[None, None]
        mask_bias = mask_bias.masked_fill(attention_mask[:, None, None, :] == 0, low)
        for block in self.blocks:
            x = block(x, cos, sin, mask_bias)
        logits = self.score(self.norm(x))
        last = (torch.eq(input_ids, 0).int().argmax(-1) - 1) % l
        return logits[torch.arange(n), last]


DEBERTA_BUCKETS, DEBERTA_MAX_RELATIVE = 4, 16


def log_bucket_position(relative, buckets, max_position):
    """HF DeBERTa-v2's make_log_bucket_position: relative distances beyond buckets/2 on a log scale."""
    sign = torch.sign(relative)
    mid = buckets // 2
    inside = (relative < mid) & (relative > -mid)
    magnitude = torch.where(inside, torch.tensor(mid - 1).type_as(relative), torch.abs(relative))
    log_pos = torch.ceil(torch.log(magnitude / mid) / torch.log(torch.tensor((max_position - 1) / mid)) * (mid - 1)) + mid
    return torch.where(magnitude <= mid, relative.type_as(log_pos), log_pos * sign)


class DisentangledAttention(nn.Module):
    """HF DeBERTa-v2's DisentangledSelfAttention (share_att_key, c2p and p2c, log buckets)."""

    def __init__(self):
        super().__init__()
        self.q, self.k, self.v, self.o = (nn.Linear(HIDDEN, HIDDEN) for _ in range(4))
        self.ln = nn.LayerNorm(HIDDEN, eps=1e-7)

    def heads(self, x):
        n, l, _ = x.shape
        return x.view(n, l, HEADS, -1).permute(0, 2, 1, 3).contiguous().view(-1, l, HIDDEN // HEADS)

    def forward(self, h, mask, rel_emb):
        q, k, v = self.heads(self.q(h)), self.heads(self.k(h)), self.heads(self.v(h))
        scale = torch.sqrt(torch.tensor(q.size(-1), dtype=torch.float) * 3)
        scores = torch.bmm(q, k.transpose(-1, -2) / scale.to(dtype=q.dtype))
        ids = torch.arange(q.size(-2), dtype=torch.long)
        rel = log_bucket_position(ids[:, None] - ids[None, :], DEBERTA_BUCKETS, DEBERTA_MAX_RELATIVE).to(torch.long)[None, None]
        span = DEBERTA_BUCKETS
        table = rel_emb[0:span * 2, :].unsqueeze(0)
        pos_q = self.heads(self.q(table)).repeat(q.size(0) // HEADS, 1, 1)
        pos_k = self.heads(self.k(table)).repeat(q.size(0) // HEADS, 1, 1)
        c2p = torch.gather(torch.bmm(q, pos_k.transpose(-1, -2)), dim=-1,
                           index=torch.clamp(rel + span, 0, span * 2 - 1).squeeze(0).expand([q.size(0), q.size(1), rel.size(-1)]))
        p2c = torch.gather(torch.bmm(k, pos_q.transpose(-1, -2)), dim=-1,
                           index=torch.clamp(-rel + span, 0, span * 2 - 1).squeeze(0).expand([q.size(0), k.size(-2), k.size(-2)])).transpose(-1, -2)
        scores = (scores + c2p / scale.to(dtype=q.dtype) + p2c / scale.to(dtype=q.dtype)).view(-1, HEADS, q.size(-2), q.size(-2))
        probs = torch.softmax(scores.masked_fill(~(mask.bool()), torch.finfo(q.dtype).min), dim=-1)
        n = h.size(0)
        context = torch.bmm(probs.view(-1, q.size(-2), q.size(-2)), v).view(n, HEADS, -1, HIDDEN // HEADS)
        return self.ln(self.o(context.permute(0, 2, 1, 3).contiguous().view(n, -1, HIDDEN)) + h)


class DebertaLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.attn, self.up, self.down = DisentangledAttention(), nn.Linear(HIDDEN, FFN), nn.Linear(FFN, HIDDEN)
        self.ln = nn.LayerNorm(HIDDEN, eps=1e-7)

    def forward(self, h, mask, rel_emb):
        a = self.attn(h, mask, rel_emb)
        return self.ln(self.down(nn.functional.gelu(self.up(a))) + a)


class Deberta(nn.Module):
    """HF DebertaV2ForSequenceClassification's structure (embedding LayerNorm times the mask, relative
    position buckets gathered at indices computed from the length, c2p and p2c disentangled attention,
    masked_fill(finfo.min), context pooler on the first token; pad id 0)."""

    def __init__(self):
        super().__init__()
        self.word, self.ln = nn.Embedding(VOCAB, HIDDEN), nn.LayerNorm(HIDDEN, eps=1e-7)
        self.rel, self.rel_ln = nn.Embedding(2 * DEBERTA_BUCKETS, HIDDEN), nn.LayerNorm(HIDDEN, eps=1e-7)
        self.layers = nn.ModuleList(DebertaLayer() for _ in range(LAYERS))
        self.pool, self.classifier = nn.Linear(HIDDEN, HIDDEN), nn.Linear(HIDDEN, CLASSES)

    def forward(self, input_ids, attention_mask, word=None):
        x = self.word(input_ids) if word is None else word
        h = self.ln(x) * attention_mask.unsqueeze(2).to(x.dtype)
        extended = attention_mask.unsqueeze(1).unsqueeze(2)
        mask = extended * extended.squeeze(-2).unsqueeze(-1)
        rel_emb = self.rel_ln(self.rel.weight)
        for layer in self.layers:
            h = layer(h, mask, rel_emb)
        return self.classifier(nn.functional.gelu(self.pool(h[:, 0])))


def write_masked_models():
    for name, build, pad, opset in (("gpt2_op14", Decoder, 0, 14), ("distilbert_op14", InfMasked, 1, 14), ("distilbert_op11", InfMasked, 1, 11), ("llama_op14", Llama, 0, 14), ("deberta_op14", Deberta, 0, 14)):
        torch.manual_seed(5)
        model = build().eval()
        r = np.random.RandomState(11)
        ids = r.randint(3, VOCAB, size=(3, SEQ)).astype(np.int64)
        mask = np.ones((3, SEQ), np.int64)
        ids[1, 5:], mask[1, 5:] = pad, 0
        ids[2, 7:], mask[2, 7:] = pad, 0
        target = np.random.RandomState(0).randint(CLASSES, size=3)
        d = os.path.join(OUT_ROOT, name)
        os.makedirs(d)
        path = os.path.join(d, "model.onnx")
        t_ids, t_mask = torch.from_numpy(ids), torch.from_numpy(mask)
        axes = {0: "batch", 1: "sequence"}
        torch.onnx.export(model, (t_ids, t_mask), path, opset_version=opset, input_names=["input_ids", "attention_mask"],
                          output_names=["logits"], dynamic_axes={"input_ids": axes, "attention_mask": axes, "logits": {0: "batch"}})
        m = onnx.load(path)
        onnx.checker.check_model(m)
        md = model.double()
        pick = (torch.arange(3), torch.from_numpy(target))
        word = md.word(t_ids).detach().requires_grad_(True)
        logits = md(t_ids, t_mask, word=word)
        (grad,) = torch.autograd.grad(logits[pick].sum(), word)
        logits_zero = md(t_ids, t_mask, word=torch.zeros_like(word))
        # Integrated gradients from the zero embedding, numpy's Gauss-Legendre nodes, explicit loop.
        nodes, weights = np.polynomial.legendre.leggauss(MASKED_IG_STEPS)
        ig = torch.zeros_like(word)
        for node, weight in zip(nodes, weights):
            point = (0.5 * (1 + node) * word).detach().requires_grad_(True)
            (g,) = torch.autograd.grad(md(t_ids, t_mask, word=point)[pick].sum(), point)
            ig += 0.5 * weight * g
        size = save(d, {"input_ids": ids, "attention_mask": mask, "output": logits, "output_zero": logits_zero,
                        "embedding": word, "grad_embedding": grad, "ig_embedding": ig * word},
                    {"opset": opset, "target": [int(t) for t in target], "pad": pad, "ig_steps": MASKED_IG_STEPS,
                     "description": build.__doc__ + "; grad_embedding = d logit[target] / d word-embedding "
                                    "output, float64 autograd; output_zero: the logits at the zero embedding; "
                                    "ig_embedding: integrated gradients from the zero embedding, Gauss-Legendre "
                                    "ig_steps"})
        print("%-15s %6d B  %s" % (name, size, ", ".join(sorted({n.op_type for n in m.graph.node}))))


class PastAttention(nn.Module):
    """GPT-2 attention with a generation cache: the keys and values of earlier positions come in as past_key/past_value [N, heads, P, d] and leave with the new ones appended."""

    def __init__(self):
        super().__init__()
        self.c_attn, self.c_proj = nn.Linear(HIDDEN, 3 * HIDDEN), nn.Linear(HIDDEN, HIDDEN)
        self.register_buffer("bias", torch.tril(torch.ones(MAX_LEN, MAX_LEN, dtype=torch.bool)).view(1, 1, MAX_LEN, MAX_LEN))

    def forward(self, x, mask_bias, past_key, past_value):
        n, l, _ = x.shape
        d = HIDDEN // HEADS
        q, k, v = (t.view(n, l, HEADS, d).permute(0, 2, 1, 3) for t in self.c_attn(x).split(HIDDEN, dim=2))
        k, v = torch.cat([past_key, k], dim=2), torch.cat([past_value, v], dim=2)
        p = past_key.shape[2]
        w = q @ k.transpose(-1, -2) / math.sqrt(d)
        w = torch.where(self.bias[:, :, p:p + l, :p + l], w, torch.tensor(torch.finfo(w.dtype).min, dtype=w.dtype))
        w = torch.softmax(w + mask_bias, dim=-1)
        return self.c_proj((w @ v).permute(0, 2, 1, 3).reshape(n, l, HIDDEN)), k, v


class PastBlock(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1, self.attn, self.ln2 = nn.LayerNorm(HIDDEN), PastAttention(), nn.LayerNorm(HIDDEN)
        self.fc, self.proj = nn.Linear(HIDDEN, FFN), nn.Linear(FFN, HIDDEN)

    def forward(self, x, mask_bias, past_key, past_value):
        a, k, v = self.attn(self.ln1(x), mask_bias, past_key, past_value)
        x = x + a
        return x + self.proj(gelu_new(self.fc(self.ln2(x)))), k, v


class LanguageModelWithPast(nn.Module):
    """HF GPT2LMHeadModel's structure with past_key_values, as optimum exports decoder_with_past: the LM head tied to the word embeddings, positions from the past length, the mask over past and new tokens."""

    def __init__(self):
        super().__init__()
        self.word, self.position = nn.Embedding(VOCAB, HIDDEN), nn.Embedding(MAX_LEN, HIDDEN)
        self.blocks = nn.ModuleList(PastBlock() for _ in range(LAYERS))
        self.ln_f = nn.LayerNorm(HIDDEN)

    def forward(self, input_ids, attention_mask, *past, word=None):
        n, l = input_ids.shape
        p = past[0].shape[2]
        x = (self.word(input_ids) if word is None else word) + self.position(torch.arange(p, p + l).unsqueeze(0))
        mask_bias = (1.0 - attention_mask[:, None, None, :].to(x.dtype)) * torch.finfo(x.dtype).min
        present = []
        for i, block in enumerate(self.blocks):
            x, k, v = block(x, mask_bias, past[2 * i], past[2 * i + 1])
            present += [k, v]
        return (self.ln_f(x) @ self.word.weight.t(), *present)


def write_past_model():
    """gpt2_past_op14: a decoder language model with generation-cache inputs, references with an empty past."""
    name = "gpt2_past_op14"
    torch.manual_seed(7)
    model = LanguageModelWithPast().eval()
    ids = np.random.RandomState(13).randint(3, VOCAB, size=(2, SEQ)).astype(np.int64)
    mask = np.ones((2, SEQ), np.int64)
    d = os.path.join(OUT_ROOT, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    path = os.path.join(d, "model.onnx")
    t_ids, t_mask = torch.from_numpy(ids), torch.from_numpy(mask)
    empty = [torch.zeros(2, HEADS, 0, HIDDEN // HEADS) for _ in range(2 * LAYERS)]
    past_names = ["past_key_values.%d.%s" % (i, kv) for i in range(LAYERS) for kv in ("key", "value")]
    present_names = ["present.%d.%s" % (i, kv) for i in range(LAYERS) for kv in ("key", "value")]
    cache_axes = {0: "batch_size", 2: "past_sequence_length"}
    torch.onnx.export(model, (t_ids, t_mask, *empty), path, opset_version=14,
                      input_names=["input_ids", "attention_mask", *past_names], output_names=["logits", *present_names],
                      dynamic_axes={"input_ids": {0: "batch_size", 1: "sequence_length"},
                                    "attention_mask": {0: "batch_size", 1: "past_sequence_length + sequence_length"},
                                    "logits": {0: "batch_size", 1: "sequence_length"},
                                    **{k: cache_axes for k in past_names}, **{k: {0: "batch_size", 2: "past_sequence_length + 1"} for k in present_names}})
    m = onnx.load(path)
    onnx.checker.check_model(m)
    md = model.double()
    # The next-token logits at the last position: target token per row.
    target = np.random.RandomState(1).randint(VOCAB, size=2)
    word = md.word(t_ids).detach().requires_grad_(True)
    logits = md(t_ids, t_mask, *[e.double() for e in empty], word=word)[0]
    (grad,) = torch.autograd.grad(logits[torch.arange(2), SEQ - 1, torch.from_numpy(target)].sum(), word)
    size = save(d, {"input_ids": ids, "attention_mask": mask, "output": logits, "embedding": word, "grad_embedding": grad},
                {"opset": 14, "target": [int(t) for t in target], "position": SEQ - 1,
                 "description": LanguageModelWithPast.__doc__ + " grad_embedding = d logits[row, position, target] / "
                                "d word-embedding output with an empty past, float64 autograd"})
    print("%-15s %6d B  %s" % (name, size, ", ".join(sorted({n.op_type for n in m.graph.node}))))
    write_merged_model(model.float(), m, ids, mask, empty, present_names)


class FirstPass(nn.Module):
    """The language model with its cache made empty inside: optimum's decoder_model (no past inputs)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask):
        n = input_ids.shape[0]
        empty = [torch.zeros(n, HEADS, 0, HIDDEN // HEADS) for _ in range(2 * LAYERS)]
        return self.model(input_ids, attention_mask, *empty)


def write_merged_model(model, with_past, ids, mask, empty, present_names):
    """gpt2_merged_op14: optimum's decoder_model_merged form of gpt2_past_op14, an If on the input use_cache_branch between the pass with the cache (then) and the first pass (else)."""
    name = "gpt2_merged_op14"
    d = os.path.join(OUT_ROOT, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    path = os.path.join(d, "model.onnx")
    torch.onnx.export(FirstPass(model), (torch.from_numpy(ids), torch.from_numpy(mask)), path, opset_version=14,
                      input_names=["input_ids", "attention_mask"], output_names=["logits", *present_names],
                      dynamic_axes={"input_ids": {0: "batch_size", 1: "sequence_length"}, "attention_mask": {0: "batch_size", 1: "sequence_length"}})
    first = onnx.load(path)

    def branch(graph, prefix):
        b = copy.deepcopy(graph)
        own = {t.name for t in b.initializer} | {o for n in b.node for o in n.output}
        rename = lambda t: prefix + t if t in own else t
        for n in b.node:
            n.input[:] = [rename(t) for t in n.input]
            n.output[:] = [rename(t) for t in n.output]
            n.name = prefix + n.name
        for t in b.initializer:
            t.name = prefix + t.name
        outputs = []
        for o in graph.output:
            out = copy.deepcopy(o)
            out.name = prefix + "out/" + o.name
            outputs.append(out)
            b.node.append(helper.make_node("Identity", [rename(o.name)], [out.name], name=prefix + "out/" + o.name))
        del b.input[:], b.output[:], b.value_info[:]
        b.output.extend(outputs)
        b.name = prefix.strip("/")
        return b

    switch = helper.make_tensor_value_info("use_cache_branch", TensorProto.BOOL, [1])
    outputs = list(with_past.graph.output)
    node = helper.make_node("If", ["use_cache_branch"], [o.name for o in outputs], name="optimum::if",
                            then_branch=branch(with_past.graph, "with_past/"), else_branch=branch(first.graph, "first_pass/"))
    merged = helper.make_model(helper.make_graph([node], "merged", [*with_past.graph.input, switch], outputs), opset_imports=with_past.opset_import)
    merged.ir_version = with_past.ir_version
    onnx.checker.check_model(merged)
    onnx.save(merged, path)
    size = sum(os.path.getsize(os.path.join(d, fn)) for fn in os.listdir(d))
    print("%-15s %6d B  If (then: with past, else: first pass)" % (name, size))


class BagClassifier(nn.Module):
    """torchtext's TextClassificationModel: nn.EmbeddingBag over [N, L] token ids (equal-length bags, offsets None), a hidden ReLU layer, a linear classifier."""

    def __init__(self, mode, flat_rows=False):
        super().__init__()
        self.word = nn.EmbeddingBag(VOCAB, HIDDEN, mode=mode)
        self.hidden, self.fc = nn.Linear(HIDDEN, FFN), nn.Linear(FFN, CLASSES)
        self.mode, self.flat_rows = mode, flat_rows

    def head(self, bag):
        return self.fc(torch.relu(self.hidden(bag)))

    def forward(self, input_ids, weights=None):
        if self.flat_rows:
            # DLRM's form: the [N, L] ids flattened, bag b starting at b·L.
            n, length = input_ids.size(0), input_ids.size(1)
            return self.head(self.word(input_ids.flatten(), torch.arange(0, n * length, length)))
        return self.head(self.word(input_ids, per_sample_weights=weights))

    def pooled(self, looked, weights=None):
        """The bag from the looked-up rows [N, L, H], as EmbeddingBag reduces them."""
        if self.mode == "max":
            return looked.max(dim=1).values
        if weights is not None:
            looked = looked * weights.unsqueeze(-1)
        return looked.sum(dim=1) if self.mode == "sum" else looked.mean(dim=1)


class OffsetsBagClassifier(BagClassifier):
    """The same over 1-D token ids with offsets (the PyTorch text classification tutorial's call)."""

    def forward(self, text, offsets):
        return self.head(self.word(text, offsets))


def write_bag_models():
    """bag_mean, bag_max, bag_sum_weights: torch.onnx's Loop form of EmbeddingBag over 2-D ids; bag_flat_rows: 2-D ids flattened
    with offsets b·L; bag_offsets: over 1-D ids with offsets."""
    r = np.random.RandomState(17)
    # Distinct ids per row: max mode has no ties between equal rows.
    ids = np.stack([r.permutation(np.arange(3, VOCAB))[:SEQ] for _ in range(3)]).astype(np.int64)
    weights = r.uniform(0.2, 1.5, size=ids.shape).astype(np.float32)
    target = np.random.RandomState(0).randint(CLASSES, size=3)
    pick = (torch.arange(3), torch.from_numpy(target))
    for name, mode, with_weights in (("bag_mean", "mean", False), ("bag_max", "max", False), ("bag_sum_weights", "sum", True), ("bag_flat_rows", "mean", False)):
        torch.manual_seed(9)
        model = BagClassifier(mode, flat_rows=name == "bag_flat_rows").eval()
        d = os.path.join(OUT_ROOT, name)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        path = os.path.join(d, "model.onnx")
        t_ids, t_w = torch.from_numpy(ids), torch.from_numpy(weights)
        args, names = ((t_ids, t_w), ["input_ids", "per_sample_weights"]) if with_weights else ((t_ids,), ["input_ids"])
        axes = {0: "batch", 1: "sequence"}
        torch.onnx.export(model, args, path, opset_version=14, input_names=names, output_names=["logits"],
                          dynamic_axes={**{k: axes for k in names}, "logits": {0: "batch"}})
        m = onnx.load(path)
        onnx.checker.check_model(m)
        assert "Loop" in {n.op_type for n in m.graph.node}
        md = model.double()
        w64 = t_w.double() if with_weights else None
        word = md.word.weight[t_ids].detach().requires_grad_(True)
        logits = md.head(md.pooled(word, w64))
        assert torch.allclose(logits, md(t_ids, w64), atol=1e-12)
        (grad,) = torch.autograd.grad(logits[pick].sum(), word)
        arrays = {"input_ids": ids, "output": logits, "embedding": word, "grad_embedding": grad}
        if with_weights:
            arrays["per_sample_weights"] = weights
        size = save(d, arrays, {"opset": 14, "target": [int(t) for t in target], "mode": mode,
                                "description": BagClassifier.__doc__ + " EmbeddingBag mode '%s'%s; grad_embedding = "
                                "d logit[target] / d looked-up rows [N, L, H], float64 autograd" % (mode, ", input 'per_sample_weights'" if with_weights else ", the ids flattened with offsets b*L" if model.flat_rows else "")})
        print("%-15s %6d B  %s" % (name, size, ", ".join(sorted({n.op_type for n in m.graph.node}))))
    # 1-D ids with offsets: one text of 24 distinct ids (no ties in max mode), bags of 5, 8 and 11 tokens; one sample.
    text = torch.from_numpy(np.random.RandomState(23).permutation(np.arange(3, VOCAB))[:24].astype(np.int64))
    offsets = torch.tensor([0, 5, 13], dtype=torch.int64)
    target = [[1, int(target[1])]]
    for name, mode in (("bag_offsets", "mean"), ("bag_offsets_max", "max")):
        torch.manual_seed(9)
        model = OffsetsBagClassifier(mode).eval()
        d = os.path.join(OUT_ROOT, name)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        torch.onnx.export(model, (text, offsets), os.path.join(d, "model.onnx"), opset_version=14, input_names=["text", "offsets"],
                          output_names=["logits"], dynamic_axes={"text": {0: "tokens"}, "offsets": {0: "bags"}, "logits": {0: "bags"}})
        md = model.double()
        word = md.word.weight[text].detach().requires_grad_(True)
        bounds = offsets.tolist() + [len(text)]
        logits = md.head(torch.stack([md.pooled(word[a:b].unsqueeze(0))[0] for a, b in zip(bounds, bounds[1:])]))
        assert torch.allclose(logits, md(text, offsets), atol=1e-12)
        (grad,) = torch.autograd.grad(logits[target[0][0], target[0][1]], word)
        size = save(d, {"text": text.numpy(), "offsets": offsets.numpy(), "output": logits, "embedding": word, "grad_embedding": grad},
                    {"opset": 14, "target": target, "mode": mode, "description": OffsetsBagClassifier.__doc__ + " EmbeddingBag mode '%s' over one "
                     "text of three bags; grad_embedding = d logits[bag, class] / d looked-up rows [T, H], float64 autograd" % mode})
        print("%-15s %6d B  1-D ids with offsets" % (name, size))


def export_ids_mask(model, name, ids, mask):
    """Exports `model`(input_ids, attention_mask) at opset 14 with batch and sequence dynamic into
    models/text/NAME (emptied first); returns the folder, the checked ONNX model and the inputs as tensors."""
    d = os.path.join(OUT_ROOT, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    path = os.path.join(d, "model.onnx")
    t_ids, t_mask = torch.from_numpy(ids), torch.from_numpy(mask)
    axes = {0: "batch", 1: "sequence"}
    torch.onnx.export(model, (t_ids, t_mask), path, opset_version=14, input_names=["input_ids", "attention_mask"], output_names=["logits"],
                      dynamic_axes={"input_ids": axes, "attention_mask": axes, "logits": {0: "batch"}})
    m = onnx.load(path)
    onnx.checker.check_model(m)
    return d, m, t_ids, t_mask


def save_ids_mask(d, m, ids, mask, target, logits, word, doc, wrt):
    """Writes an export_ids_mask fixture's arrays and meta (grad_embedding = d logit[target] / d `word`,
    float64 autograd; `wrt` says what `word` is) and reports its size and ops."""
    (grad,) = torch.autograd.grad(logits[torch.arange(len(target)), torch.from_numpy(target)].sum(), word)
    size = save(d, {"input_ids": ids, "attention_mask": mask, "output": logits, "embedding": word, "grad_embedding": grad},
                {"opset": 14, "target": [int(t) for t in target], "eos": EOS,
                 "description": doc.replace("\n    ", " ") + " grad_embedding = d logit[target] / d " + wrt + ", float64 autograd"})
    print("%-15s %6d B  %s" % (os.path.basename(d), size, ", ".join(sorted({n.op_type for n in m.graph.node}))))


EOS = 2


class EosPooled(nn.Module):
    """HF BartForSequenceClassification's pooling at tiny sizes: positions, one encoder layer, then the
    hidden state at each row's last <eos> token (hidden[input_ids.eq(eos)].view(N, -1, H)[:, -1]:
    a NonZero over the ids, so tensor shapes follow from the ids' values), a tanh dense layer and a
    linear classifier."""

    def __init__(self):
        super().__init__()
        self.word, self.position = nn.Embedding(VOCAB, HIDDEN), nn.Embedding(MAX_LEN, HIDDEN)
        self.layer = Layer()
        self.dense, self.fc = nn.Linear(HIDDEN, HIDDEN), nn.Linear(HIDDEN, CLASSES)

    def encoded(self, input_ids, attention_mask, word):
        positions = torch.arange(input_ids.shape[1]).unsqueeze(0)
        bias = (1.0 - attention_mask[:, None, None, :].to(torch.float32)) * torch.finfo(torch.float32).min
        return self.layer(word + self.position(positions), bias)

    def head(self, input_ids, hidden):
        eos = hidden[input_ids.eq(EOS), :].view(hidden.size(0), -1, hidden.size(-1))[:, -1, :]
        return self.fc(torch.tanh(self.dense(eos)))

    def forward(self, input_ids, attention_mask):
        return self.head(input_ids, self.encoded(input_ids, attention_mask, self.word(input_ids)))


def write_eos_model():
    """eos_pool_op14: a BART-style classifier pooling at its last <eos> (three per row, as MNLI pairs)."""
    torch.manual_seed(11)
    model = EosPooled().eval()
    ids = np.array([[0, 5, 9, 12, EOS, EOS, 7, 30, 21, EOS],
                    [0, 14, 6, EOS, EOS, 8, 11, EOS, 1, 1],
                    [0, 33, 17, 25, 19, EOS, EOS, 4, EOS, 1]], dtype=np.int64)
    mask = (ids != 1).astype(np.int64)
    target = np.array([2, 0, 1])
    d, m, t_ids, t_mask = export_ids_mask(model, "eos_pool_op14", ids, mask)
    assert "NonZero" in {n.op_type for n in m.graph.node}
    md = model.double()
    word = md.word.weight[t_ids].detach().requires_grad_(True)
    logits = md.head(t_ids, md.encoded(t_ids, t_mask, word))
    assert torch.allclose(logits, md(t_ids, t_mask), atol=1e-12)
    save_ids_mask(d, m, ids, mask, target, logits, word, EosPooled.__doc__, "word embeddings [N, L, H]")


PAD = 1


def shift_tokens_right(ids, start):
    """HF Bart's decoder inputs: the ids shifted one step right, the start token first."""
    shifted = ids.new_zeros(ids.shape)
    shifted[:, 1:] = ids[:, :-1].clone()
    shifted[:, 0] = start
    return shifted


class MiniBart(nn.Module):
    """HF BartForSequenceClassification's data flow at tiny sizes: one shared embedding for the
    encoder's ids and the decoder's (the ids shifted right inside the model), learned positions,
    torch's sequence-first encoder and decoder layers (padding masks, a causal mask), and the <eos>
    pooling and head of EosPooled over the decoder's states."""

    def __init__(self):
        super().__init__()
        self.shared, self.position = nn.Embedding(VOCAB, HIDDEN), nn.Embedding(MAX_LEN, HIDDEN)
        self.encoder = nn.TransformerEncoderLayer(HIDDEN, HEADS, FFN, dropout=0.0)
        self.decoder = nn.TransformerDecoderLayer(HIDDEN, HEADS, FFN, dropout=0.0)
        self.dense, self.fc = nn.Linear(HIDDEN, HIDDEN), nn.Linear(HIDDEN, CLASSES)

    def run(self, input_ids, attention_mask, encoder_words, decoder_words):
        length = input_ids.shape[1]
        positions = self.position(torch.arange(length)).unsqueeze(0)
        padding = attention_mask == 0
        memory = self.encoder((encoder_words + positions).transpose(0, 1), src_key_padding_mask=padding)
        causal = torch.triu(torch.full((length, length), float("-inf")), diagonal=1)
        hidden = self.decoder((decoder_words + positions).transpose(0, 1), memory, tgt_mask=causal, memory_key_padding_mask=padding).transpose(0, 1)
        eos = hidden[input_ids.eq(EOS), :].view(hidden.size(0), -1, hidden.size(-1))[:, -1, :]
        return self.fc(torch.tanh(self.dense(eos)))

    def forward(self, input_ids, attention_mask):
        return self.run(input_ids, attention_mask, self.shared(input_ids), self.shared(shift_tokens_right(input_ids, EOS)))


def write_bart_model():
    """bart_op14: MiniBart, explained at the encoder's lookup of the shared embedding."""
    torch.manual_seed(13)
    model = MiniBart().eval()
    ids = np.array([[0, 5, 9, 12, EOS, EOS, 7, 30, 21, EOS],
                    [0, 14, 6, EOS, EOS, 8, 11, EOS, PAD, PAD]], dtype=np.int64)
    mask = (ids != PAD).astype(np.int64)
    target = np.array([1, 2])
    d, m, t_ids, t_mask = export_ids_mask(model, "bart_op14", ids, mask)
    md = model.double()
    word = md.shared.weight[t_ids].detach().requires_grad_(True)
    logits = md.run(t_ids, t_mask, word, md.shared(shift_tokens_right(t_ids, EOS)))
    assert torch.allclose(logits, md(t_ids, t_mask), atol=1e-12)
    save_ids_mask(d, m, ids, mask, target, logits, word, MiniBart.__doc__, "the encoder's word embeddings [N, L, H] (the decoder's lookup held)")


HASH_PRIMES, HASH_BUCKETS = (31, 43, 59, 61), 60


class HashedIds(Bert):
    """CANINE's character embeddings in the BERT-style classifier: each id (a Unicode code point)
    hashed by four primes ((id + 1) * prime mod 60) into four tables of HIDDEN / 4 columns, their
    rows concatenated (HF CanineEmbeddings._embed_hash_buckets)."""

    def __init__(self):
        super().__init__()
        del self.word
        self.shards = nn.ModuleList(nn.Embedding(HASH_BUCKETS, HIDDEN // len(HASH_PRIMES)) for _ in HASH_PRIMES)

    def hashed(self, ids):
        return torch.cat([e(((ids + 1) * p) % HASH_BUCKETS) for e, p in zip(self.shards, HASH_PRIMES)], dim=-1)

    def forward(self, input_ids, attention_mask, token_type_ids, word=None):
        return super().forward(input_ids, attention_mask, token_type_ids, word=self.hashed(input_ids) if word is None else word)


def write_hashed_model():
    """hashed_ids_op14: CANINE-style hashed code points beside token types (both index tables)."""
    torch.manual_seed(13)
    model = HashedIds().eval()
    ids, mask, types = make_inputs()
    ids = np.where(mask == 1, np.random.RandomState(5).randint(32, 60000, size=ids.shape), 0)
    ids[:, 0] = 0xE000  # CANINE's [CLS]
    target = np.array([1, 2, 0])
    d = os.path.join(OUT_ROOT, "hashed_ids_op14")
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    path = os.path.join(d, "model.onnx")
    t_ids, t_mask, t_types = (torch.from_numpy(a) for a in (ids, mask, types))
    axes = {0: "batch", 1: "sequence"}
    torch.onnx.export(model, (t_ids, t_mask, t_types), path, opset_version=14, input_names=["input_ids", "attention_mask", "token_type_ids"],
                      output_names=["logits"], dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes, "logits": {0: "batch"}})
    m = onnx.load(path)
    onnx.checker.check_model(m)
    assert "Mod" in {n.op_type for n in m.graph.node}
    md = model.double()
    word = md.hashed(t_ids).detach().requires_grad_(True)
    logits = md(t_ids, t_mask, t_types, word=word)
    (grad,) = torch.autograd.grad(logits[torch.arange(3), torch.from_numpy(target)].sum(), word)
    size = save(d, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types, "output": logits, "embedding": word, "grad_embedding": grad},
                {"opset": 14, "target": [int(t) for t in target], "description": HashedIds.__doc__.replace("\n    ", " ") +
                 " grad_embedding = d logit[target] / d the concatenated hashed embeddings [N, L, H], float64 autograd"})
    print("%-15s %6d B  %s" % (os.path.basename(d), size, ", ".join(sorted({n.op_type for n in m.graph.node}))))


UNK, LOOKUP_IG_STEPS = 3, 50


class Looked(nn.Module):
    """A small token classifier whose word-embedding lookup takes one of the forms exporters write:
    `where` torch.where(ids < V, ids, unk), `full_like` the same with torch.full_like(ids, unk),
    `masked_fill` ids.masked_fill(ids >= V, unk) (out-of-vocabulary ids mapped to the unknown token
    in the graph); `half_table` a float16 table cast to float before the lookup, `half_rows` the
    float16 rows cast to float after it (model.half() embeddings in a float model). Then positions,
    LayerNorm, a GELU feed-forward block, the mean over the unmasked tokens and a linear classifier."""

    def __init__(self, form):
        super().__init__()
        self.form = form
        self.word, self.position = nn.Embedding(VOCAB, HIDDEN), nn.Embedding(MAX_LEN, HIDDEN)
        if form.startswith("half"):
            self.word.half()
        self.ln = nn.LayerNorm(HIDDEN)
        self.ffn1, self.ffn2, self.fc = nn.Linear(HIDDEN, FFN), nn.Linear(FFN, HIDDEN), nn.Linear(HIDDEN, CLASSES)

    def lookup(self, ids):
        dtype = self.position.weight.dtype
        if self.form == "where":
            return self.word(torch.where(ids < VOCAB, ids, UNK))
        if self.form == "full_like":
            return self.word(torch.where(ids < VOCAB, ids, torch.full_like(ids, UNK)))
        if self.form == "masked_fill":
            return self.word(ids.masked_fill(ids >= VOCAB, UNK))
        if self.form == "half_table":
            return nn.functional.embedding(ids, self.word.weight.to(dtype))
        return self.word(ids).to(dtype)

    def forward(self, input_ids, attention_mask, word=None):
        word = self.lookup(input_ids) if word is None else word
        h = self.ln(word.to(self.position.weight.dtype) + self.position(torch.arange(input_ids.shape[1]))[None])
        h = h + self.ffn2(nn.functional.gelu(self.ffn1(h)))
        m = attention_mask[:, :, None].to(h.dtype)
        return self.fc((h * m).sum(1) / m.sum(1))


def write_lookup_models():
    """unk_* and half_*: Looked's forms (torch.onnx, opsets 14 and 17; half_table without constant folding,
    which would fold the Cast into a float table), and half_table_bf16: half_table's graph with its table in
    bfloat16 (torch 1.13 does not export one). References: float64 autograd at the lookup's output, and
    integrated gradients from the pad token (id 0 at every position) with 50 Gauss-Legendre points."""
    ids, mask, _ = make_inputs()
    ids[0, 2], ids[0, 5], ids[2, 3] = VOCAB + 7, VOCAB, 60000  # out of the vocabulary: the unknown token's row
    target = np.array([2, 0, 1])
    t_ids, t_mask = torch.from_numpy(ids), torch.from_numpy(mask)
    axes = {0: "batch", 1: "sequence"}
    nodes, weights = np.polynomial.legendre.leggauss(LOOKUP_IG_STEPS)
    pick = (torch.arange(3), torch.from_numpy(target))
    for form, opset in (("where", 14), ("where", 17), ("full_like", 14), ("masked_fill", 17), ("half_table", 14), ("half_rows", 17), ("half_table_bf16", 14)):
        name = "%s_op%d" % (form if form.startswith("half") else "unk_" + form, opset)
        torch.manual_seed(21)
        model = Looked(form.replace("_bf16", "")).eval()
        inputs = t_ids.clamp(max=VOCAB - 1) if form.startswith("half") else t_ids  # nn.Embedding refuses ids past its table
        d = os.path.join(OUT_ROOT, name)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        path = os.path.join(d, "model.onnx")
        torch.onnx.export(model, (inputs, t_mask), path, opset_version=opset, input_names=["input_ids", "attention_mask"], output_names=["logits"],
                          dynamic_axes={"input_ids": axes, "attention_mask": axes, "logits": {0: "batch"}}, do_constant_folding=not form.startswith("half_table"))
        m = onnx.load(path)
        if form == "half_table_bf16":
            table = next(t for t in m.graph.initializer if t.name == "word.weight")
            # The float16 table as bfloat16 (the values rounded to it), Cast to float as before.
            bf16 = torch.from_numpy(numpy_helper.to_array(table).astype(np.float32)).to(torch.bfloat16)
            bits = bf16.view(torch.int16).numpy().tobytes()
            table.CopyFrom(helper.make_tensor("word.weight", TensorProto.BFLOAT16, list(bf16.shape), bits, raw=True))
            onnx.save(m, path)
        onnx.checker.check_model(m)
        ops = [n.op_type for n in m.graph.node]
        gather = next(n for n in m.graph.node if n.op_type == "Gather" and not n.name.startswith("/position/"))
        assert ("Where" in ops) == (not form.startswith("half")), ops
        md = model.double()
        if form == "half_table_bf16":
            md.word.weight.data = bf16.double()
        word = md.lookup(inputs).double().detach().requires_grad_(True)
        logits = md(inputs, t_mask, word=word)
        (grad,) = torch.autograd.grad(logits[pick].sum(), word)
        word_0 = md.lookup(torch.zeros_like(inputs)).double().detach()
        ig = torch.zeros_like(word)
        for node, weight in zip(nodes, weights):
            point = (word_0 + 0.5 * (1 + node) * (word - word_0)).detach().requires_grad_(True)
            (g,) = torch.autograd.grad(md(inputs, t_mask, word=point)[pick].sum(), point)
            ig += 0.5 * weight * g
        ig = ig * (word - word_0)
        size = save(d, {"input_ids": inputs.numpy(), "attention_mask": mask, "output": logits, "embedding": word, "grad_embedding": grad, "ig_embedding": ig},
                    {"opset": opset, "target": [int(t) for t in target], "vocab": VOCAB, "unk": UNK, "pad": 0, "ig_steps": LOOKUP_IG_STEPS, "embedding_output": gather.output[0],
                     "description": "Looked('%s'): " % form + Looked.__doc__.replace("\n    ", " ") + " grad_embedding = d logit[target] / d the looked-up rows "
                                    "[N, L, H] (embedding_output), float64 autograd; ig_embedding: integrated gradients from the pad token's rows "
                                    "(ig_steps Gauss-Legendre points)"})
        print("%-20s %6d B  %s" % (name, size, ", ".join(sorted(set(ops)))))


if __name__ == "__main__":
    import sys
    parts = {"past": write_past_model, "bags": write_bag_models, "eos": write_eos_model, "bart": write_bart_model, "hashed": write_hashed_model, "lookups": write_lookup_models}
    if sys.argv[1:] and " ".join(sys.argv[1:]) not in parts:
        sys.exit("make_text.py: give one of %s, or nothing for all (got %r)" % (", ".join(parts), " ".join(sys.argv[1:])))
    parts.get(" ".join(sys.argv[1:]), main)()
