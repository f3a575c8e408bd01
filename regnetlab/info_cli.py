"""``regnetlab info``: the registered models with their parameters and FLOPs."""


def add_arguments(p):
    p.add_argument("--size", type=int, default=28, help="input height and width (default 28)")


def run(args):
    from .models import MODELS, get_model
    from .summary import check_input_size, complexity

    print(f"{'model':<16} {'params':>10} {'FLOPs @' + str(args.size):>14}")
    for name in sorted(MODELS):
        model = get_model(name)
        check_input_size(model, args.size)
        c = complexity(model, (1, args.size, args.size))
        print(f"{name:<16} {c.params:>10,} {c.flops:>14,}")
    return 0
