"""A DistributedDataParallel communication hook that sends gradquant's real messages.

    import gradquant.torch
    state = gradquant.torch.State(model)              # the DDP model (or its module)
    model.register_comm_hook(state, gradquant.torch.hook("tnq:bits=2", ef="classic"))

Every step, each rank (= worker, its rank as the worker index) encodes each parameter of the
bucket (= layer, indexed in ``named_parameters()`` order as in the dump format) with the
quantizer under the chosen error feedback, the ranks all-gather the real bytes, and every rank
decodes all W messages the same way (gradquant.Chain), so the same bits give the same update
on every rank. The step counter is the training step (one per backward pass), so the bytes are
those ``gradquant compress --seed <seed>`` writes for the same gradients. ``state`` counts the
exact uplink and downlink bits and can record the raw gradients of chosen steps as a dump.

Methods whose workers need the server between two sends (powersgd, terngrad:scale=shared)
are refused (gradquant.SpecError): one all-gather cannot carry their second round.
Works with any backend that can all-gather uint8 and int64 CPU tensors (gloo on CPU).
"""
import torch
import torch.distributed as dist

from . import Chain, DumpWriter, Layer, Message, Quantizer, SpecError


class State:
    """What the hook keeps across steps: the layers, their chains, the bit counts, recording.

    model: the DDP module (or the module it wraps); its parameters with requires_grad, in
        named_parameters() order, are the layers.
    seed: the shared seed of every message.
    group: the process group (default: the world).
    record_steps, record_path: the raw gradients of these steps (before compression, every
        rank's) are written as a dump to record_path by rank 0 when close() is called.
    """

    def __init__(self, model, seed=0, group=None, record_steps=(), record_path=None):
        module = getattr(model, "module", model)
        self.group = group if group is not None else dist.group.WORLD
        self.rank = dist.get_rank(self.group)
        self.workers = dist.get_world_size(self.group)
        self.seed = int(seed)
        self.layers = {}  # id(parameter) -> Layer
        for index, (name, p) in enumerate(
            (n, p) for n, p in module.named_parameters() if p.requires_grad
        ):
            self.layers[id(p)] = Layer(name, tuple(p.shape), index)
        self.order = sorted(self.layers.values(), key=lambda layer: layer.index)
        self.chains = {}  # layer index -> Chain
        self.step = 0
        self.uplink_bits = 0  # all ranks' messages, every step so far
        self.downlink_bits = 0  # the server's replies (one per layer and step)
        self.last_uplink_bits = 0  # the last complete step's
        self._step_uplink = 0
        self.record_steps = sorted(set(int(s) for s in record_steps))
        self.record_path = record_path
        self._recorded = {}  # step -> {layer index: [W arrays]}
        if self.record_steps and record_path is None:
            raise ValueError("record_steps needs record_path")

    def close(self):
        """Writes the recorded gradients (rank 0); the dump appears only when complete."""
        if not self._recorded or self.rank != 0:
            return
        steps = sorted(self._recorded)
        writer = DumpWriter(
            self.record_path, steps, self.workers, self.order,
            {"recorder": "gradquant.torch", "seed": self.seed},
        )
        for r, step in enumerate(steps):
            for li, layer in enumerate(self.order):
                for w, g in enumerate(self._recorded[step][layer.index]):
                    writer.write(li, r, w, g)
        writer.commit()
        self._recorded = {}


def _all_gather_bytes(payload, group, workers):
    """Every rank's uint8 tensor, gathered (padded to the longest, then cut back)."""
    size = torch.tensor([payload.numel()], dtype=torch.int64)
    sizes = [torch.zeros(1, dtype=torch.int64) for _ in range(workers)]
    dist.all_gather(sizes, size, group=group)
    longest = int(max(s.item() for s in sizes))
    padded = torch.zeros(longest, dtype=torch.uint8)
    padded[: payload.numel()] = payload
    gathered = [torch.zeros(longest, dtype=torch.uint8) for _ in range(workers)]
    dist.all_gather(gathered, padded, group=group)
    return [g[: int(s.item())] for g, s in zip(gathered, sizes)]


def _pack(messages):
    """One rank's messages of a bucket as bytes: per message 8-byte bit count, then bytes."""
    parts = []
    for m in messages:
        parts.append(int(m.bits).to_bytes(8, "little"))
        parts.append(m.data)
    return torch.frombuffer(bytearray(b"".join(parts)), dtype=torch.uint8) if parts else \
        torch.zeros(0, dtype=torch.uint8)


def _unpack(payload, count):
    data = payload.numpy().tobytes()
    out, at = [], 0
    for _ in range(count):
        bits = int.from_bytes(data[at:at + 8], "little")
        length = (bits + 7) // 8
        out.append(Message(data[at + 8:at + 8 + length], bits))
        at += 8 + length
    if at != len(data):
        raise RuntimeError(f"gradquant.torch: a rank sent {len(data)} bytes, {at} expected")
    return out


class _Hook:
    def __init__(self, spec, ef):
        self.quantizer = Quantizer(spec)
        if self.quantizer.needs_round_trip:
            raise SpecError(
                f"{self.quantizer.spec}: its workers need the server between two sends, which "
                "the hook's one all-gather per step cannot carry")
        self.ef = ef
        Chain(self.quantizer, Layer("check", (1,)), 0, 1, ef)  # a bad ef fails here

    def __call__(self, state, bucket):
        params, grads = bucket.parameters(), bucket.gradients()
        layers = [state.layers[id(p)] for p in params]
        step = state.step
        record = step in state.record_steps
        messages = []
        for layer, g in zip(layers, grads):
            if g.dtype != torch.float32 or g.device.type != "cpu":
                raise TypeError(
                    f"gradquant.torch: {layer.name}: float32 CPU gradients only, got "
                    f"{g.dtype} on {g.device}")
            chain = state.chains.get(layer.index)
            if chain is None:
                chain = Chain(self.quantizer, layer, state.seed, state.workers, self.ef)
                state.chains[layer.index] = chain
            flat = g.detach().reshape(-1).contiguous()
            messages.append(chain.encode(step, state.rank, flat))
        gathered = _all_gather_bytes(_pack(messages), state.group, state.workers)
        per_rank = [_unpack(p, len(layers)) for p in gathered]
        if record:
            raw = [torch.cat([g.detach().reshape(-1) for g in grads])]
            everyone = [torch.zeros_like(raw[0]) for _ in range(state.workers)]
            dist.all_gather(everyone, raw[0].contiguous(), group=state.group)
        out = []
        offset = 0
        for i, layer in enumerate(layers):
            group = [per_rank[w][i] for w in range(state.workers)]
            decoded = state.chains[layer.index].decode(step, group)
            state._step_uplink += sum(m.bits for m in group)
            state.downlink_bits += decoded.downlink_bits
            out.append(torch.from_numpy(decoded.aggregate))
            if record:
                slabs = [e[offset:offset + layer.n].numpy().copy() for e in everyone]
                state._recorded.setdefault(step, {})[layer.index] = slabs
            offset += layer.n
        if bucket.is_last():
            state.uplink_bits += state._step_uplink
            state.last_uplink_bits = state._step_uplink
            state._step_uplink = 0
            state.step += 1
        fut = torch.futures.Future()
        fut.set_result(torch.cat(out).view_as(bucket.buffer()))
        return fut


def hook(spec, ef="none"):
    """The comm hook for quantizer `spec` under error feedback `ef` (none, classic, ef21).

    Raises gradquant.SpecError for a bad spec or mode, or a method the hook cannot run."""
    run = _Hook(spec, ef)

    def gradquant_hook(state, bucket):  # DDP inspects the parameter names and __name__
        return run(state, bucket)

    gradquant_hook.quantizer = run.quantizer
    return gradquant_hook
