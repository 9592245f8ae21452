"""torch.compile turns ``inp.add(a @ b, alpha=s)`` (and ``(a @ b).add(inp, alpha=s)``) into
``addmm(inp, a, b)``, dropping ``alpha``: the scaled term is added unscaled.

Found by tests/test_sparse_parity_equivalence.py (torch 2.13.0+cpu): sparse parity's compiled step
(gradient and torch.optim's functional update in one graph) moved W1 and w2 by +grad instead of
-lr grad, because ``torch.optim.sgd``'s ``param.add_(grad, alpha=-lr)`` (and, with weight decay,
``grad.add(param, alpha=wd)``) met an mm output. Cause: inductor's post-grad pattern ``addmm``
(torch/_inductor/fx_passes/post_grad.py, ``CallFunction(aten.add, CallFunction(aten.mm, ..),
KeywordArg("inp"))``) matches aten.add whatever its ``alpha`` and replaces it by
``aten.addmm(inp, mat1, mat2)``. On a GPU the same pattern applies unless every use of the sum is
pointwise (``should_prefer_unfused_addmm``). The seed's compiled step has no mm and is unaffected.
Workaround in impls/models/sparse_parity/torch_model.py: compile the step with
``options={"pattern_matcher": False}``. Run: python docs/bugs/inductor_addmm_drops_alpha.py
"""
import torch


def update(W, a, b):
    W.add_(a.T @ b, alpha=-0.5)  # torch.optim.sgd's param.add_(grad, alpha=-lr), grad an mm


def decay(g_a, g_b, W):
    return (g_a.T @ g_b).add(W, alpha=0.01)  # torch.optim's weight decay, grad an mm


torch.manual_seed(0)
W0, a, b = torch.randn(6, 4, dtype=torch.float64), torch.randn(3, 6, dtype=torch.float64), torch.randn(3, 4, dtype=torch.float64)
for options in ({}, {"pattern_matcher": False}):
    torch._dynamo.reset()
    want, got = W0.clone(), W0.clone()
    update(want, a, b)
    torch.compile(update, options=options)(got, a, b)
    err = float((want - got).abs().max())
    print(f"update options={options}: max error {err:.3g} ({'ok' if err < 1e-12 else 'WRONG: alpha dropped'})")
    torch._dynamo.reset()
    err = float((decay(a, b, W0) - torch.compile(decay, options=options)(a, b, W0)).abs().max())
    print(f"decay  options={options}: max error {err:.3g} ({'ok' if err < 1e-12 else 'WRONG: alpha dropped'})")
