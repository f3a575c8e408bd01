"""Rebuild a captured network from plain data, accepting only what these networks need.

The worker (``../worker/capture.py``) sends, per network, a JSON file of graphs and a
safetensors file of tensors (named in ``../protocol.py``). Both are parsed without running code: JSON by ``json`` with
a size cap, tensors by ``safetensors`` (a header and raw bytes; no pickle). Every node's
operation must be on ``ALLOWED`` below, every argument one of a few plain kinds, and
every tensor floating point or integer of a bounded size; anything else is refused with
a message that names it. The graphs (one per ``protocol.Capture``) are then rebuilt as ``torch.fx`` modules whose
tensors live here, in the trusted process, shared by the train-mode and eval graphs.

Schema of a graph: ``{"inputs": [name], "state": {placeholder: tensor key}, "nodes":
[{"name", "target", "args", "kwargs", "module": [[path, type], ...]}], "output": arg}``;
an arg is a JSON scalar, a list, ``{"node": name}``, ``{"float": "inf"}`` or
``{"dtype"|"device"|"memory_format"|"layout": name}``.
"""
import json
import math
import operator
import re

import torch
from torch import fx, nn

from ..protocol import MAX_JSON_BYTES, Capture, capture_name

MAX_TENSOR_BYTES = 256 * 2 ** 20  # all of one network's tensors; RegNetX32's take 0.8 MB
MAX_NODES = 5000
MAX_ELEMENTS = 2 ** 28            # any one tensor, sent or computed
MAX_ACTIVATIONS = 2 ** 29         # all of one forward pass's tensors (2 GiB in float32)
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,199}")

# The operations the measurement looks for by name, each set defined once, here, as
# part of the allowlist below.
CONVOLUTIONS = frozenset({"aten.conv2d.default", "aten.convolution.default"})
BATCH_NORMS = frozenset({"aten.batch_norm.default",
                         "aten._native_batch_norm_legit_no_training.default"})
RELUS = frozenset({"aten.relu.default", "aten.relu_.default"})
RESIDUAL_ADDS = frozenset({"aten.add.Tensor", "aten.add_.Tensor"})   # Y + X
LINEARS = frozenset({"aten.linear.default", "aten.matmul.default", "aten.mm.default",
                     "aten.addmm.default"})

# The operations our networks are made of, by what they do. Left out on purpose:
# anything that reads files or the network, custom (torch.library) operations, and
# window tricks (unfold, im2col, as_strided) that hide a convolution in other clothes.
ALLOWED = {
    "convolution": sorted(CONVOLUTIONS),
    "normalisation": sorted(BATCH_NORMS | {"aten.layer_norm.default",
                                           "aten.group_norm.default"}),
    "activation": sorted(RELUS | {
        "aten.gelu.default", "aten.silu.default", "aten.sigmoid.default",
        "aten.tanh.default", "aten.hardtanh.default", "aten.leaky_relu.default",
        "aten.elu.default", "aten.softmax.int", "aten.log_softmax.int",
        "aten.dropout.default"}),
    "arithmetic": sorted(RESIDUAL_ADDS | {
        "aten.add.Scalar", "aten.sub.Tensor", "aten.mul.Tensor", "aten.mul.Scalar",
        "aten.div.Tensor", "aten.div.Scalar", "aten.neg.default", "aten.mean.dim",
        "aten.sum.dim_IntList"}),
    "pooling": ["aten.adaptive_avg_pool2d.default", "aten.avg_pool2d.default",
                "aten.max_pool2d.default"],
    "linear": sorted(LINEARS | {"aten.t.default", "aten.numpy_T.default"}),
    "shape": ["aten.view.default", "aten.reshape.default", "aten.flatten.using_ints",
              "aten.permute.default", "aten.transpose.int", "aten.contiguous.default",
              "aten.clone.default", "aten.squeeze.dim", "aten.unsqueeze.default",
              "aten.cat.default", "aten.detach.default", "aten.sym_size.int",
              "aten.alias.default"],
    "size arithmetic": ["_operator.mul", "_operator.add", "_operator.sub",
                        "_operator.floordiv", "_operator.getitem"],
}
OPS = {name: category for category, names in ALLOWED.items() for name in names}
PY_OPERATORS = {"_operator.mul": operator.mul, "_operator.add": operator.add,
                "_operator.sub": operator.sub, "_operator.floordiv": operator.floordiv,
                "_operator.getitem": operator.getitem}
DTYPES = {"float32": torch.float32, "float64": torch.float64, "float16": torch.float16,
          "bfloat16": torch.bfloat16, "int64": torch.int64, "int32": torch.int32,
          "bool": torch.bool}
CAPTURES = {c.value for c in Capture}  # a graph of any other name is not looked at
MEMORY_FORMATS = {"contiguous_format": torch.contiguous_format,
                  "channels_last": torch.channels_last,
                  "preserve_format": torch.preserve_format}


class GraphError(ValueError):
    """A captured network the grader refuses, and why (shown to the student)."""


def resolve(target):
    """The callable of an allowed operation name; GraphError for any other."""
    if target not in OPS:
        raise GraphError(f"the network uses {target}, which the grader does not accept "
                         "(allowed: the convolution, normalisation, activation, pooling, "
                         "linear, arithmetic and shape operations these networks need; "
                         "file, custom and sliding-window operations are refused)")
    if target in PY_OPERATORS:
        return PY_OPERATORS[target]
    _, op, overload = target.split(".")
    return getattr(getattr(torch.ops.aten, op), overload)


def _arg(v, names, depth=0):
    if depth > 8:
        raise GraphError("an argument nested more than 8 deep")
    if v is None or isinstance(v, bool):
        return v
    if isinstance(v, int):
        if abs(v) > 2 ** 62:
            raise GraphError(f"an integer argument {v} out of range")
        return v
    if isinstance(v, float):
        return v
    if isinstance(v, str):
        if len(v) > 32:
            raise GraphError("a string argument longer than 32 characters")
        return v
    if isinstance(v, list):
        if len(v) > 64:
            raise GraphError("a list argument of more than 64 items")
        return [_arg(x, names, depth + 1) for x in v]
    if isinstance(v, dict) and len(v) == 1:
        (tag, value), = v.items()
        if tag == "node" and value in names:
            return names[value]
        if tag == "float" and value in ("inf", "-inf", "nan"):
            return float(value)
        if tag == "dtype" and value in DTYPES:
            return DTYPES[value]
        if tag == "device" and value in ("cpu", "meta"):
            return torch.device("cpu")
        if tag == "memory_format" and value in MEMORY_FORMATS:
            return MEMORY_FORMATS[value]
        if tag == "layout" and value == "strided":
            return torch.strided
    raise GraphError(f"an argument the grader does not accept: {str(v)[:100]}")


def _kwargs(v, names):
    if not isinstance(v, dict) or not all(isinstance(k, str) and NAME.fullmatch(k) for k in v):
        raise GraphError("keyword arguments must be a mapping of names")
    return {k: _arg(x, names) for k, x in v.items()}


def build_graph(spec, tensors, state_names):
    """An ``fx.Graph`` from one captured graph; state placeholders become attributes."""
    if not isinstance(spec, dict) or not isinstance(spec.get("nodes"), list):
        raise GraphError("a graph without nodes")
    if len(spec["nodes"]) > MAX_NODES:
        raise GraphError(f"a graph of {len(spec['nodes'])} operations; at most {MAX_NODES}")
    graph, names = fx.Graph(), {}
    inputs = spec.get("inputs")
    if not (isinstance(inputs, list) and len(inputs) == 1 and isinstance(inputs[0], str)):
        raise GraphError("the network must take exactly one input, the images")
    names[inputs[0]] = graph.placeholder("x")
    state = spec.get("state")
    if not isinstance(state, dict):
        raise GraphError("a graph without its state mapping")
    for placeholder, key in state.items():
        if key not in tensors:
            raise GraphError(f"the graph refers to a tensor {str(key)[:80]!r} that was not sent")
        names[placeholder] = graph.get_attr(state_names[key])
    for n in spec["nodes"]:
        if not isinstance(n, dict) or not isinstance(n.get("name"), str) \
                or not NAME.fullmatch(n["name"]) or n["name"] in names:
            raise GraphError("a graph node without a valid, unique name")
        fn = resolve(n.get("target"))
        args = _arg(n.get("args", []), names)
        node = graph.call_function(fn, tuple(args), _kwargs(n.get("kwargs", {}), names))
        node.meta["module"] = _module_stack(n.get("module", []))
        node.meta["target"] = n["target"]
        names[n["name"]] = node
    out = _arg(spec.get("output"), names)
    out = out[0] if isinstance(out, list) and len(out) == 1 else out
    if not isinstance(out, fx.Node):
        raise GraphError("the network must return one tensor of logits")
    graph.output(out)
    graph.lint()
    return graph


def _module_stack(stack):
    """``[(path, type name)]`` from the node's metadata: labels only, never trusted for more."""
    if not isinstance(stack, list):
        return []
    out = []
    for entry in stack[:32]:
        if isinstance(entry, list) and len(entry) == 2 and all(isinstance(s, str) for s in entry):
            out.append((entry[0][:200], entry[1][:200]))
    return out


class CapturedNetwork(nn.Module):
    """A network rebuilt from its graphs: train-mode and eval graphs share one set of tensors.

    ``trainable`` are all floating-point tensors except batch-norm running statistics,
    whatever the student declared (a weight hidden in a buffer, or ``requires_grad=False``,
    is trained like any other): the grader, not the submission, decides what learns.
    """

    def __init__(self, name, graphs, tensors, lr, info=None):
        super().__init__()
        self.name, self.lr, self.info = name, lr, info or {}
        self.graphs = sorted(graphs)
        running = _running_stats(graphs)
        holder = nn.Module()
        self._keys = {}
        for i, (key, t) in enumerate(sorted(tensors.items())):
            attr = f"t{i}"
            self._keys[key] = attr
            if t.is_floating_point() and key not in running:
                holder.register_parameter(attr, nn.Parameter(t.clone()))
            else:
                holder.register_buffer(attr, t.clone())
        self.state = holder
        self.modes = nn.ModuleDict()
        for mode, spec in graphs.items():
            graph = build_graph(spec, tensors, {k: f"state.{a}" for k, a in self._keys.items()})
            self.modes[mode] = fx.GraphModule(self, graph, class_name=f"Captured_{mode}")
        for gm in self.modes.values():  # each GraphModule copied our holder: point back
            gm.state = self.state

    def tensor_name(self, attr):
        """The student's name for one of our tensors (``net.stage1.0.conv1.weight``)."""
        inverse = {v: k for k, v in self._keys.items()}
        return inverse.get(attr.removeprefix("state."), attr)

    def forward(self, X):
        mode = capture_name(self.training, X.shape[-1])
        if mode not in self.modes:
            raise GraphError(f"no {mode} graph captured (have {', '.join(self.graphs)})")
        return self.modes[mode](X)


def check_sizes(net, batches):
    """Refuse a network whose forward pass would allocate more than the caps, found without
    allocating anything: each graph runs on meta tensors (shapes only) at the batch size
    the grader will use it with (``batches``: {mode: batch}), so a graph that asks for
    absurd tensors fails here, not the grader's memory."""
    import copy
    meta = copy.deepcopy(net).to("meta")
    for mode, gm in meta.modes.items():
        size = Capture(mode).size
        batch = batches.get(mode, 4)
        try:
            _Sizes(gm).run(torch.empty(batch, 1, size, size, device="meta"))
        except GraphError as e:  # without the interpreter's notes on where it was
            raise GraphError(f"{mode} graph on {batch} images: " + str(e).splitlines()[0]) \
                from None
        except Exception as e:  # shapes that do not fit: torch's own words
            raise GraphError(f"the {mode} graph does not run on {batch} images of "
                             f"{size}x{size}: {type(e).__name__}: {str(e)[:300]}") from None


class _Sizes(fx.Interpreter):
    def __init__(self, gm):
        super().__init__(gm)
        self.total = 0

    def run_node(self, n):
        out = super().run_node(n)
        for t in (out if isinstance(out, (tuple, list)) else (out,)):
            if torch.is_tensor(t):
                if t.numel() > MAX_ELEMENTS:
                    raise GraphError(f"{n.meta.get('target', n.name)} makes a tensor of "
                                     f"{t.numel():,} elements; at most {MAX_ELEMENTS:,}")
                self.total += t.numel()
        if self.total > MAX_ACTIVATIONS:
            raise GraphError(f"one forward pass makes {self.total:,} elements of tensors; "
                             f"at most {MAX_ACTIVATIONS:,}")
        return out


def _running_stats(graphs):
    """Tensor keys used as batch norm's running mean/var (statistics, not weights)."""
    keys = set()
    for spec in graphs.values():
        state = spec.get("state", {}) if isinstance(spec, dict) else {}
        for n in spec.get("nodes", []) if isinstance(spec, dict) else []:
            if isinstance(n, dict) and n.get("target") in BATCH_NORMS:
                args = n.get("args") or []
                for a in args[3:5]:
                    if isinstance(a, dict) and a.get("node") in state:
                        keys.add(state[a["node"]])
            if isinstance(n, dict) and n.get("target") == "aten.add_.Tensor":
                a = (n.get("args") or [None])[0]  # num_batches_tracked += 1
                if isinstance(a, dict) and a.get("node") in state:
                    keys.add(state[a["node"]])
    return keys


def load_json(data):
    if len(data) > MAX_JSON_BYTES:
        raise GraphError(f"a graph file of {len(data):,} bytes; at most {MAX_JSON_BYTES:,}")
    try:
        return json.loads(data.decode("utf-8"),
                          parse_constant=lambda c: (_ for _ in ()).throw(GraphError(c)))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise GraphError(f"a graph file that is not valid JSON ({type(e).__name__})") from None


def load_tensors(data):
    """Tensors from safetensors bytes, checked for dtype and size (no code runs)."""
    from safetensors import SafetensorError
    from safetensors.torch import load
    if len(data) > MAX_TENSOR_BYTES:
        raise GraphError(f"{len(data):,} bytes of tensors; at most {MAX_TENSOR_BYTES:,}")
    try:
        tensors = load(data)
    except (SafetensorError, ValueError, RuntimeError) as e:
        raise GraphError(f"a tensor file that is not valid safetensors ({e})") from None
    for key, t in tensors.items():
        if t.dtype not in DTYPES.values() or t.numel() > MAX_ELEMENTS:
            raise GraphError(f"tensor {key[:80]!r}: {t.dtype}, {t.numel()} elements; "
                             "expected a float or integer tensor of bounded size")
        if t.is_floating_point() and not torch.isfinite(t).all():
            raise GraphError(f"tensor {key[:80]!r} holds NaN or infinity before training")
    return tensors


def load_network(meta_bytes, tensor_bytes):
    """A ``CapturedNetwork`` from the worker's two files for one network."""
    meta = load_json(meta_bytes)
    if not isinstance(meta, dict) or not isinstance(meta.get("graphs"), dict) \
            or not meta["graphs"]:
        raise GraphError("a network file without graphs")
    lr = meta.get("lr")
    if not isinstance(lr, (int, float)) or isinstance(lr, bool) or not math.isfinite(lr) \
            or not 0 <= lr <= 100:
        raise GraphError(f"the model's lr = {str(lr)[:40]}; expected a learning rate "
                         "between 0 and 100 (the `lr` argument of __init__)")
    tensors = load_tensors(tensor_bytes)
    graphs = {str(k): v for k, v in meta["graphs"].items() if str(k) in CAPTURES}
    info = {"class": str(meta.get("class", "?"))[:100]}
    return CapturedNetwork(str(meta.get("name", "?"))[:100], graphs, tensors, float(lr), info)
