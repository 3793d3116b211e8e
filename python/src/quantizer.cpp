// Quantizer: encode, decode, theory, state. Each call takes the context explicitly; Chain
// (chain.cpp) carries it across steps.
#include <pybind11/stl.h>

#include "arrays.hpp"
#include "bindings.hpp"
#include "gradquant/core/error.hpp"
#include "gradquant/pipeline/round.hpp"
#include "gradquant/quantizers/registry.hpp"

namespace gradquant::python {
namespace {

// A layer's cross-record state (GradiVeQ's basis), opaque to Python.
struct State {
  std::unique_ptr<LayerState> state;
};

LayerState* StateOf(const py::object& state) {
  return state.is_none() ? nullptr : state.cast<State&>().state.get();
}

SlabContext Context(const LayerInfo& layer, std::uint64_t seed, std::uint64_t step,
                    std::uint32_t worker, std::uint32_t workers, const py::object& state) {
  if (workers == 0) throw SpecError("workers must be at least 1");
  if (worker >= workers) {
    throw SpecError("worker " + std::to_string(worker) + " of " + std::to_string(workers));
  }
  SlabContext ctx = ItemContext(layer, seed, step, workers, StateOf(state));
  ctx.worker = worker;
  return ctx;
}

// View (arrays.hpp) of one slab of @p layer, checked for its size.
arma::fvec SlabView(const py::handle& g, const LayerInfo& layer, const std::string& what,
                    py::object* keep) {
  arma::fvec x = View(g, what + ": gradient", keep);
  if (x.n_elem != layer.n) {
    throw SpecError(what + ": " + std::to_string(x.n_elem) + " values, layer " + layer.name +
                    " has " + std::to_string(layer.n));
  }
  return x;
}

py::dict TheoryDict(const Theory& t) {
  return py::dict(py::arg("exact") = t.exact, py::arg("bound") = t.bound,
                  py::arg("lower_bound") = t.lowerBound, py::arg("approx") = t.approx,
                  py::arg("value") = t.Value(), py::arg("kind") = std::string(t.Kind()));
}

}  // namespace

py::object DecodedObject(GroupResult decoded) {
  py::list workers;
  for (auto& w : decoded.workers) workers.append(ToNumpy(std::move(w)));
  py::dict stats;
  for (const auto& [key, value] : decoded.stats) stats[py::str(key)] = value;
  return py::module_::import("types").attr("SimpleNamespace")(
      py::arg("workers") = workers, py::arg("aggregate") = ToNumpy(std::move(decoded.aggregate)),
      py::arg("downlink_bits") = decoded.downlinkBits, py::arg("stats") = stats);
}

void BindQuantizer(py::module_& m) {
  py::class_<State>(m, "State", "A layer's cross-record state (Quantizer.new_state).");

  py::class_<Quantizer, QuantizerPtr>(m, "Quantizer",
                                      "A quantizer from its spec, e.g. Quantizer('tnq:bits=2').")
      .def(py::init(
               [](const std::string& spec) { return QuantizerPtr(BuiltinRegistry().Make(spec)); }),
           py::arg("spec"))
      .def_property_readonly("spec", &Quantizer::Spec, "the canonical spec")
      .def_property_readonly("sign_output", &Quantizer::SignOutput,
                             "True for a direction without magnitude (sign, s3gdmv)")
      .def_property_readonly("needs_round_trip", &Quantizer::NeedsRoundTrip,
                             "True when the workers need the server between two sends")
      .def(
          "new_state",
          [](const Quantizer& q, const LayerInfo& layer) -> py::object {
            auto state = q.NewLayerState(layer);
            if (!state) return py::none();
            return py::cast(State{std::move(state)});
          },
          py::arg("layer"), "A fresh cross-record state for the layer, or None (stateless).")
      .def(
          "encode",
          [](const Quantizer& q, const py::object& g, const LayerInfo& layer, std::uint64_t seed,
             std::uint64_t step, std::uint32_t worker, std::uint32_t workers,
             const py::object& state) {
            py::object keep;
            const arma::fvec x = SlabView(g, layer, "encode", &keep);
            const SlabContext ctx = Context(layer, seed, step, worker, workers, state);
            py::gil_scoped_release release;
            return q.Encode(x, ctx, nullptr);
          },
          py::arg("gradient"), py::arg("layer"), py::arg("seed") = 0, py::arg("step") = 0,
          py::arg("worker") = 0, py::arg("workers") = 1, py::arg("state") = py::none(),
          "Worker `worker`'s message for a float32 array (numpy or torch CPU, not copied).")
      .def(
          "encode_group",
          [](const Quantizer& q, const py::sequence& gradients, const LayerInfo& layer,
             std::uint64_t seed, std::uint64_t step, const py::object& state) {
            std::vector<py::object> keep(gradients.size());
            std::vector<arma::fvec> slabs;
            for (std::size_t w = 0; w < gradients.size(); ++w) {
              slabs.push_back(
                  SlabView(gradients[w], layer, "encode_group " + std::to_string(w), &keep[w]));
            }
            const SlabContext ctx =
                Context(layer, seed, step, 0, static_cast<std::uint32_t>(slabs.size()), state);
            py::gil_scoped_release release;
            return q.EncodeGroup(slabs, ctx, nullptr);
          },
          py::arg("gradients"), py::arg("layer"), py::arg("seed") = 0, py::arg("step") = 0,
          py::arg("state") = py::none(),
          "Every worker's message, with the server round trip of methods that need one.")
      .def(
          "decode",
          [](const Quantizer& q, const std::vector<Message>& messages, const LayerInfo& layer,
             std::uint64_t seed, std::uint64_t step, const py::object& state) {
            const SlabContext ctx =
                Context(layer, seed, step, 0, static_cast<std::uint32_t>(messages.size()), state);
            GroupResult decoded;
            {
              py::gil_scoped_release release;
              decoded = DecodeRound(q, messages, ctx);
            }
            return DecodedObject(std::move(decoded));
          },
          py::arg("messages"), py::arg("layer"), py::arg("seed") = 0, py::arg("step") = 0,
          py::arg("state") = py::none(),
          "The server's side from the W messages' bytes: workers' reconstructions, aggregate, "
          "downlink_bits, stats. Moves `state` on to the next step.")
      .def(
          "theory",
          [](const Quantizer& q, const py::object& g, const LayerInfo& layer, std::uint64_t seed,
             std::uint64_t step, std::uint32_t worker, std::uint32_t workers,
             const py::object& state) {
            py::object keep;
            const arma::fvec x = SlabView(g, layer, "theory", &keep);
            const SlabContext ctx = Context(layer, seed, step, worker, workers, state);
            Theory t;
            {
              py::gil_scoped_release release;
              t = q.ExpectedError(x, ctx);
            }
            return TheoryDict(t);
          },
          py::arg("gradient"), py::arg("layer"), py::arg("seed") = 0, py::arg("step") = 0,
          py::arg("worker") = 0, py::arg("workers") = 1, py::arg("state") = py::none(),
          "E||Q(g) - g||^2 for this slab: exact, bound, lower_bound, approx (NaN if not given), "
          "value, kind.");
}

}  // namespace gradquant::python
