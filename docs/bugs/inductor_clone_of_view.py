"""torch.compile returns a clone of a view of an input AFTER a later in-place update of that input.

Found by tests/test_equivalence.py (torch 2.13.0+cpu): the compiled step recorded w after its own
update instead of before. Related open report: pytorch/pytorch#198101 (a consumer of a dtype view
of an input computed after a later mutation of the input). The suite writes ``w.clone().reshape(-1)``
(clone, then view), which compiles correctly. Run: python docs/bugs/inductor_clone_of_view.py
"""
import torch

p = torch.nn.Parameter(torch.tensor([[1.5]]))


def view_then_clone():
    w = p.detach()
    before = w.reshape(-1).clone()  # must hold 1.5
    w.add_(1.0)
    return before


def clone_then_view():
    w = p.detach()
    before = w.clone().reshape(-1)
    w.add_(1.0)
    return before


for fn in (view_then_clone, clone_then_view):
    for backend in ("eager", "aot_eager", "inductor"):
        with torch.no_grad():
            p.fill_(1.5)
        torch._dynamo.reset()
        got = torch.compile(fn, backend=backend)().item()
        print(f"{fn.__name__:16} {backend:9} before = {got}  ({'ok' if got == 1.5 else 'WRONG: the updated value'})")
