"""Record per-worker gradients from a training loop into a gradquant dump.

The file follows docs/format.md (gradient dump format, version 1):

    /                    gradquant_format="gradients", gradquant_version=1,
                         workers=W, plus any run description you pass as attrs
    /steps               int64   [S]        training step of each record
    /gradients           group, attribute order = parameter names in model order
    /gradients/<name>    float32 [S, W, N]  attribute shape = the parameter's shape
    /loss                float32 [S, W]     only if losses are given

Usage, inside your own data-parallel (or simulated data-parallel) loop::

    from record_gradients import GradientRecorder

    with GradientRecorder("run.h5", model, workers=4,
                          attrs={"model": "resnet18", "lr": 0.1}) as rec:
        for step in range(steps):
            grads, losses = [], []
            for w in range(4):                       # one backward per worker
                model.zero_grad()
                loss = loss_fn(model(x[w]), y[w]); loss.backward()
                grads.append([p.grad.clone() for p in model.parameters()])
                losses.append(loss.item())
            if step % 100 == 0:
                rec.record(step, grads, losses)
            ...                                      # average grads, optimizer step

``per_worker_grads`` holds one entry per worker, each either a list of
gradients in ``model.named_parameters()`` order (parameters with
``requires_grad=False`` excluded) or a dict ``name -> gradient``. Gradients can
be torch tensors (any device or float dtype) or anything ``numpy.asarray``
accepts. Without a model, pass dicts; the first record fixes names and shapes.

The file is written under a hidden temporary name in the target folder and
renamed to its final name by ``close()``, so a run that dies never leaves a
half-written dump under the real name. If the ``with`` block raises, the
temporary file is deleted. (A process killed outright may leave the hidden
``.<name>.<pid>.partial`` file behind; it is safe to delete.)

This module needs numpy and h5py, not torch: tensors are converted by duck
typing, so tools without torch can import it.
"""

import operator
import os
import sys
import warnings
from collections.abc import Mapping

import h5py
import numpy as np

FORMAT_VERSION = 1
MAX_CHUNK = 262144  # elements per chunk along N, as docs/format.md recommends
RESERVED_ATTRS = ("gradquant_format", "gradquant_version", "workers")


def _to_numpy(x):
    """float32 numpy array from a torch tensor or an array-like, without importing torch."""
    if hasattr(x, "detach"):  # torch.Tensor: leave autograd, leave the GPU,
        x = x.detach().cpu()  # and go through float32 because numpy has no bfloat16
        x = x.float().numpy()
    return np.asarray(x, dtype=np.float32)


def _untimed(kind):
    """Creation property list without object timestamps, so that the same run
    gives a byte-identical file (h5py already leaves them off datasets)."""
    plist = h5py.h5p.create(kind)
    plist.set_obj_track_times(False)
    return plist


def _create_file(path):
    # HDF5 1.8 file format: any reader since 2008 opens it, and unlike the
    # "earliest" format it stores attributes over 64 KiB, which `order`
    # needs for models with more than about 4000 parameter tensors.
    fapl = h5py.h5p.create(h5py.h5p.FILE_ACCESS)
    fapl.set_libver_bounds(h5py.h5f.LIBVER_V18, h5py.h5f.LIBVER_V18)
    fid = h5py.h5f.create(os.fsencode(path), h5py.h5f.ACC_TRUNC,
                          fapl=fapl, fcpl=_untimed(h5py.h5p.FILE_CREATE))
    return h5py.File(fid)


class GradientRecorder:
    """Append records of per-worker gradients to a gradquant HDF5 dump.

    path     final file name (overwritten at close, never before).
    model    optional torch.nn.Module: fixes parameter names, order and shapes,
             and lets records be plain lists of gradients.
    workers  number of workers W; None takes it from the first record.
    attrs    free-text run description stored as root attributes
             (model, dataset, partition, batch_size, lr, seed, ...).
    """

    def __init__(self, path, model=None, workers=None, attrs=None):
        self.path = os.fspath(path)
        self.workers = None if workers is None else operator.index(workers)
        if self.workers is not None and self.workers < 1:
            raise ValueError(f"workers must be >= 1, got {self.workers}")

        self.names = None   # sanitized names, model order
        self.shapes = None  # parameter shapes, same order
        if model is not None:
            params = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
            if not params:
                raise ValueError("model has no trainable parameters")
            self._set_layout([n for n, _ in params], [tuple(p.shape) for _, p in params])

        attrs = {k: v for k, v in (attrs or {}).items() if v is not None}
        for key in attrs:
            if key in RESERVED_ATTRS:
                raise ValueError(f"attribute {key!r} is set by the recorder")

        # Same folder as the target, so the final os.replace is a rename, not a copy.
        folder, base = os.path.split(os.path.abspath(self.path))
        self._tmp = os.path.join(folder, f".{base}.{os.getpid()}.partial")
        self._file = _create_file(self._tmp)
        try:
            self._file.attrs["gradquant_format"] = "gradients"
            self._file.attrs["gradquant_version"] = np.int64(FORMAT_VERSION)
            for key, value in attrs.items():
                self._file.attrs[key] = value
        except Exception:  # e.g. an attribute value HDF5 cannot store
            self.abort()
            raise

        self._datasets = None  # name -> h5py.Dataset, created at the first record
        self._has_loss = None
        self._last_step = None
        self.records = 0

    def _set_layout(self, names, shapes):
        # HDF5 forbids '/' in link names; docs/format.md maps it to '.'.
        clean = [str(n).replace("/", ".") for n in names]
        for n in clean:
            if n in ("", ".", ".."):
                raise ValueError(f"parameter name {n!r} cannot be an HDF5 link name")
        if len(set(clean)) != len(clean):
            raise ValueError("parameter names collide after replacing '/' with '.'")
        self.names = clean
        self.shapes = [tuple(int(d) for d in s) for s in shapes]

    def _worker_arrays(self, w, grads):
        """One worker's gradients as float32 arrays in model order, shape-checked."""
        if isinstance(grads, Mapping):
            got = {str(k).replace("/", "."): (None if v is None else _to_numpy(v))
                   for k, v in grads.items()}
            if len(got) != len(grads):
                raise ValueError(f"worker {w}: parameter names collide after "
                                 f"replacing '/' with '.'")
            if self.names is None:  # no model: the first record defines the layout
                self._set_layout(list(got), [np.shape(v) for v in got.values()])
            if set(got) != set(self.names):
                missing = sorted(set(self.names) - set(got))
                extra = sorted(set(got) - set(self.names))
                raise ValueError(f"worker {w}: parameter names differ from the first "
                                 f"record (missing {missing}, unexpected {extra})")
            values = [got[n] for n in self.names]
        else:
            if self.names is None:
                raise ValueError("without a model, gradients must be dicts name -> tensor")
            values = list(grads)
            if len(values) != len(self.names):
                raise ValueError(f"worker {w}: {len(values)} gradients, "
                                 f"expected {len(self.names)}")
        arrays = []
        for name, shape, v in zip(self.names, self.shapes, values):
            if v is None:  # e.g. a parameter that took no part in the forward pass
                raise ValueError(f"worker {w}: {name} has no gradient (None)")
            a = _to_numpy(v)  # no copy if already float32
            if a.shape != shape:
                raise ValueError(f"worker {w}: {name} has shape {a.shape}, expected {shape}")
            arrays.append(a.reshape(-1))  # C order, as the format specifies
        return arrays

    def _create_datasets(self, with_loss):
        f = self._file
        W = self.workers
        f.attrs["workers"] = np.int64(W)
        f.create_dataset("steps", shape=(0,), maxshape=(None,), dtype=np.int64, chunks=(1024,))
        h5py.h5g.create(f.id, b"gradients", gcpl=_untimed(h5py.h5p.GROUP_CREATE))
        group = f["gradients"]
        group.attrs["order"] = np.array(self.names, dtype=h5py.string_dtype("utf-8"))
        self._datasets = {}
        for name, shape in zip(self.names, self.shapes):
            n = int(np.prod(shape, dtype=np.int64))
            # One chunk = one worker's layer at one record, so a reader can
            # fetch it without decompressing anything else.
            d = group.create_dataset(
                name, shape=(0, W, n), maxshape=(None, W, n), dtype=np.float32,
                chunks=(1, 1, max(1, min(n, MAX_CHUNK))),
                compression="gzip", compression_opts=4, shuffle=True)
            d.attrs["shape"] = np.array(shape, dtype=np.int64)
            self._datasets[name] = d
        if with_loss:
            f.create_dataset("loss", shape=(0, W), maxshape=(None, W),
                             dtype=np.float32, chunks=(256, W))
        self._has_loss = with_loss

    def record(self, step, per_worker_grads, losses=None):
        """Append one record: every worker's gradient at training step ``step``."""
        if self._file is None:
            raise ValueError("recorder is closed")
        step = operator.index(step)
        if self._last_step is not None and step <= self._last_step:
            raise ValueError(f"steps must be strictly increasing: {step} after {self._last_step}")

        per_worker_grads = list(per_worker_grads)
        W = len(per_worker_grads)
        if W == 0:
            raise ValueError("record needs at least one worker")
        if self.workers is None:
            self.workers = W
        elif W != self.workers:
            raise ValueError(f"record has {W} workers, expected {self.workers}")

        if losses is not None:
            losses = np.array([float(l) for l in losses], dtype=np.float32)
            if losses.shape != (W,):
                raise ValueError(f"losses has {losses.size} values, expected {W}")
        if self._has_loss is not None and self._has_loss != (losses is not None):
            raise ValueError("give losses either at every record or at none")

        # Convert and check everything before touching the file, so a bad
        # record cannot leave the datasets with different lengths.
        per_worker = [self._worker_arrays(w, g) for w, g in enumerate(per_worker_grads)]
        if self._datasets is None:
            self._create_datasets(losses is not None)

        self._warn_nonfinite(step, per_worker)
        s = self.records
        for i, name in enumerate(self.names):
            d = self._datasets[name]
            d.resize(s + 1, axis=0)
            d[s] = np.stack([arrays[i] for arrays in per_worker])
        steps = self._file["steps"]
        steps.resize((s + 1,))
        steps[s] = step
        if losses is not None:
            loss = self._file["loss"]
            loss.resize(s + 1, axis=0)
            loss[s] = losses
        self.records = s + 1
        self._last_step = step

    def _warn_nonfinite(self, step, per_worker):
        """One stderr line per layer holding NaN or Inf at this step (it is still written)."""
        for i, name in enumerate(self.names):
            bad = [(w, arrays[i]) for w, arrays in enumerate(per_worker)
                   if not np.isfinite(arrays[i]).all()]
            if not bad:
                continue
            nan = sum(int(np.isnan(a).sum()) for _, a in bad)
            inf = sum(int(np.isinf(a).sum()) for _, a in bad)
            w, a = bad[0]
            first = int(np.flatnonzero(~np.isfinite(a))[0])
            print(f"record_gradients: warning: step {step} (record {self.records}), layer {name}: "
                  f"{nan} NaN and {inf} Inf value(s) written (first: worker {w}, index {first}); "
                  f"gradquant rejects them unless run with --nonfinite zero",
                  file=sys.stderr, flush=True)

    def close(self):
        """Finish the file and move it to its final name."""
        if self._file is None:
            return
        self._file.close()
        self._file = None
        if self.records == 0:
            os.remove(self._tmp)
            warnings.warn(f"{self.path}: no records, nothing written")
            return
        os.replace(self._tmp, self.path)  # atomic within one filesystem

    def abort(self):
        """Discard the temporary file; the target path is left untouched."""
        if self._file is not None:
            self._file.close()
            self._file = None
        if os.path.exists(self._tmp):
            os.remove(self._tmp)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
        else:
            self.abort()
        return False
