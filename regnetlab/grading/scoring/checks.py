"""Checks of measured network facts, with failure messages in the chapter's terms.

Each check takes the facts the trusted side measured on a network's graph
(``measure/network.py``) and either returns quietly or fails the test with a message
naming the principle or quantity, what was expected and what was found, e.g. "stage 2: conv groups = 16 (group width 5),
expected group width 16 (80 bottleneck channels / 16 = 5 conv groups): in d2l `groups`
is the group width, not the number of groups". Instructors' hidden tests can use them.
"""
from ...principles import Design, violated
from .facts import expect, fail

BOOK = "d2l 8.8"


def stages(net):
    if net.get("error"):
        fail(net["error"])
    return net.get("stages", [])


def depths(net):
    return tuple(s["depth"] for s in stages(net))


def widths(net):
    return tuple(s["out_channels"] for s in stages(net))


def _per_stage(net, key):
    """Per stage, the value its blocks share for ``key`` (None where they disagree)."""
    out = []
    for s in stages(net):
        values = {b.get(key) for b in s["blocks"]}
        out.append(values.pop() if len(values) == 1 else None)
    return tuple(out)


def group_widths(net):
    return _per_stage(net, "group_width")


def bot_muls(net):
    return _per_stage(net, "bot_mul")


def each_block(net):
    """(stage number, block number, where, stage facts, block facts) for every block."""
    for i, s in enumerate(stages(net), 1):
        for j, b in enumerate(s["blocks"], 1):
            yield i, j, f"stage {i}" + (f" block {j}" if s["depth"] > 1 else ""), s, b


def _num(v):
    return int(v) if isinstance(v, float) and v.is_integer() else v


def check_layout(net, base):
    """The network has the layout ``base`` (AnyNet or AnyMLP) builds, measured on its graph:
    self.net holds a stem, stage1..stageN and a head (with a linear layer)."""
    lay = net.get("layout") or {}
    stages(net)
    expect(lay.get("ok"),
           f"{net.get('class')} does not have {base}'s layout ("
           + "; ".join(lay.get("problems", ["not measured"])) + f"); expected self.net = "
           f"stem, stage1, ..., stageN, head, as {base} builds (subclass {base})")


def check_num_stages(net, expected):
    found = len(stages(net))
    expect(found == expected,
           f"{net['class']} has {found} stages ({', '.join(s['name'] for s in stages(net))}); "
           f"expected {expected} stages in net (stem, stage1..stage{expected}, head)")


def check_stem(net, channels):
    stem = net.get("stem", {})
    expect(stem.get("out_channels") == channels and stem.get("stride") == 2,
           f"stem: {stem.get('out_channels')} channels with stride {stem.get('stride')}; "
           f"expected the AnyNet stem: {channels} channels, stride 2")


def check_block_kind(net, kind):
    names = {"resnext": "ResNeXtBlock", "residual": "Residual"}
    for i, j, _, _, b in each_block(net):
        expect(b["kind"] == kind,
               f"stage {i} block {j} is a {b['type']}; expected every block to be a "
               f"{names[kind]} (the {'ResNeXt' if kind == 'resnext' else 'ResNet'} block "
               "of d2l 8.6)")


def check_downsampling(net):
    """First block of each stage: stride 2 with a stride-2 1x1 projection; the rest stride 1."""
    for i, j, _, s, b in each_block(net):
        proj = b.get("projection")
        if j > 1:
            expect(b.get("stride") == 1,
                   f"stage {i} block {j}: stride {b.get('stride')}; expected stride 1 "
                   "(only the first block of a stage downsamples)")
            continue
        expect(b.get("stride") == 2,
               f"stage {i} block 1: stride {b.get('stride')}; expected stride 2: the "
               f"first block of each stage halves the resolution ({BOOK}.1)")
        expect(proj is not None,
               f"stage {i} block 1 has no 1x1 conv on its shortcut; expected "
               "use_1x1conv=True so that the shortcut matches the new width and resolution")
        expect(proj.get("stride") == 2 and proj.get("kernel") == 1
               and proj.get("out_channels") == s["out_channels"],
               f"stage {i} block 1: its shortcut conv has kernel {proj.get('kernel')}, "
               f"stride {proj.get('stride')}, {proj.get('out_channels')} channels; "
               f"expected a 1x1 conv with stride 2 and {s['out_channels']} channels")


def check_shortcuts(net):
    for i, j, _, _, b in each_block(net):
        expect(b.get("shortcut") is not False,
               f"stage {i} block {j}: its output does not depend on the shortcut: the "
               "residual connection (Y + X, then ReLU) is missing")
        expect(b.get("shortcut") is not None,
               f"stage {i} block {j} is a {b['type']}, which the grader cannot check "
               "for a residual connection; use the library's blocks")


def check_group_width(net, expected=None):
    """All blocks share one group width (``expected`` if given), named as d2l does."""
    first = None
    for i, j, where, _, b in each_block(net):
        gw = b.get("group_width")
        if gw is None:
            fail(f"stage {i} block {j} is a {b['type']}, not a ResNeXt block: it has no "
                 "grouped convolution")
        if expected is not None and gw != expected:
            fail(f"{where}: conv groups = {b['conv_groups']} (group width {_num(gw)}), "
                 f"expected group width {expected}, i.e. {b['bottleneck']} bottleneck "
                 f"channels / {expected} = {b['bottleneck'] // expected} conv groups: "
                 "in d2l `groups` is the group width, not the number of groups")
        first = first or (where, gw)
        expect(gw == first[1],
               f"{where}: group width {_num(gw)} ({b['bottleneck']} channels in "
               f"{b['conv_groups']} conv groups) differs from {first[0]}'s "
               f"{_num(first[1])}; RegNetX shares one group width g across all stages "
               "(in d2l `groups` is the group width, not the number of groups)")


def check_bot_mul(net, expected=None):
    first = None
    for i, j, where, _, b in each_block(net):
        k = b.get("bot_mul")
        if k is None:
            fail(f"stage {i} block {j} is a {b['type']}: it has no bottleneck")
        expect(expected is None or abs(k - expected) < 1e-9,
               f"{where}: bottleneck ratio {b['bottleneck']}/{b['out_channels']} = "
               f"{k:g}; expected bot_mul = {expected}")
        first = first or (where, k)
        expect(abs(k - first[1]) < 1e-9,
               f"{where}: bottleneck ratio {k:g} differs from {first[0]}'s {first[1]:g}; "
               "RegNetX shares one bottleneck ratio k across all stages")


def check_non_decreasing(values, what, symbol):
    for i in range(1, len(values)):
        expect(values[i] >= values[i - 1],
               f"{what} {tuple(values)}: stage {i + 1} has {values[i]} < stage {i}'s "
               f"{values[i - 1]}; RegNetX {what} must not decrease "
               f"({symbol}_{{i+1}} >= {symbol}_i)")


def check_stages(net, expected_depths, expected_widths):
    expect(depths(net) == tuple(expected_depths),
           f"depths (blocks per stage) {depths(net)}; expected {tuple(expected_depths)}")
    expect(widths(net) == tuple(expected_widths),
           f"widths (channels per stage) {widths(net)}; expected {tuple(expected_widths)}")


def check_outputs(rows, num_classes=10):
    for row in rows:
        case = (f"a batch of {row['batch']} {row['size']}x{row['size']} images"
                + (" in train mode" if row["train_mode"] else ""))
        if "error" in row:
            fail(f"forward pass on {case} failed: {row['error']}")
        expect(row["shape"] == [row["batch"], num_classes],
               f"forward pass on {case}: logits of shape {tuple(row['shape'])}; expected "
               f"({row['batch']}, {num_classes})")
        expect(row["finite"], f"forward pass on {case}: the logits contain NaN or infinity")


def violated_principles(net):
    """Which RegNetX principles (d, c, g, b) a two-or-more-stage network breaks."""
    return violated(Design(depths(net), widths(net), group_widths(net), bot_muls(net)))


def check_gradients(result, label):
    """Every trainable tensor gets a gradient (weights a non-zero one) on a batch."""
    missing = result["without_gradient"]
    expect(not missing,
           f"{label}: {len(missing)} of its {result['params']} trainable tensors get no "
           f"usable (finite, non-zero) gradient on a training batch ({', '.join(missing[:4])}"
           + (", ..." if len(missing) > 4 else "") + "): a frozen, detached or unused part "
           "of the network never learns. The grader trains every tensor itself; do not "
           "detach() or multiply a branch by 0")


def check_accuracy(result, threshold, what):
    """The "learns" line: ``threshold`` is ``{measure: minimum}`` from calibration.json
    (a bare number is a minimum test accuracy). Measures (``training.short_train``):
    ``test_acc``, eval-mode test accuracy; ``loss_drop``, how much training lowered the
    held-out loss (batch statistics), 0 for a network that does not train."""
    minimums = threshold if isinstance(threshold, dict) else {"test_acc": threshold}
    run = (f"the grader's short training ({result['num_train']} images, "
           f"{result['tier']['epochs']} epoch(s), lr {result['lr']})")
    hint = "Does it learn (gradients flow, lr > 0, no frozen layers)?"
    for measure, minimum in minimums.items():
        if measure not in ("test_acc", "loss_drop") or measure not in result:
            raise ValueError(f"calibration.json: unknown 'learns' measure {measure!r} "
                             "(expected test_acc or loss_drop); rerun "
                             "benchmarks/calibrate_thresholds.py")
        if measure == "test_acc":
            expect(result["test_acc"] >= minimum,
                   f"{what} reached {result['test_acc']:.1%} test accuracy after {run}; "
                   f"expected at least {minimum:.1%}. {hint}")
        else:
            b, a = result["before"]["loss"], result["after"]["loss"]
            expect(result["loss_drop"] >= minimum,
                   f"{what}: {run} took its held-out loss from {b:.3f} to {a:.3f}, a drop "
                   f"of {result['loss_drop']:.3f}; expected a drop of at least {minimum:.2f} "
                   f"(test accuracy {result['test_acc']:.1%}). {hint}")
