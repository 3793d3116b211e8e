"""gradquant: exact-bit gradient quantizers from Python (docs/python.md).

    import gradquant as gq
    q = gq.Quantizer("tnq:bits=2")
    layer = gq.Layer("fc1.weight", (100, 256), index=4)
    msg = q.encode(g, layer, seed=0, step=50, worker=1, workers=4)   # g: float32 array
    msg.data, msg.bits                                               # the real bytes
    out = q.decode([m0, m1, m2, m3], layer, seed=0, step=50)         # out.aggregate, ...

The bytes are those `gradquant compress --seed <seed>` writes for the same (step, worker,
layer). gradquant.torch holds the DDP communication hook.
"""
import os as _os

# libgomp reads its wait policy when it is loaded: waiting threads that spin take the cores a
# training job needs. A user's own setting wins; a libgomp loaded before us (by torch) keeps its.
_os.environ.setdefault("OMP_WAIT_POLICY", "passive")

from ._gradquant import (  # noqa: E402,F401
    Chain,
    Dump,
    DumpWriter,
    Error,
    FormatError,
    IoError,
    Layer,
    Message,
    NonfiniteError,
    Quantizer,
    RangeError,
    SpecError,
    State,
    __version__,
    quantizers,
)
