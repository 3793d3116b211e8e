// Chain: one layer across steps (pipeline/layer_chain.hpp), for training loops. Run is the
// round of all workers in this process; encode/decode are one rank's halves of it.
#include <pybind11/stl.h>

#include "arrays.hpp"
#include "bindings.hpp"
#include "gradquant/core/error.hpp"
#include "gradquant/pipeline/layer_chain.hpp"

namespace gradquant::python {
namespace {

struct Chain {
  QuantizerPtr quantizer;  // outlives the chain, which refers to it
  LayerChain chain;
};

py::object RoundObject(Round round) {
  py::list messages;
  for (auto& msg : round.messages) messages.append(py::cast(std::move(msg)));
  return py::module_::import("types").attr("SimpleNamespace")(
      py::arg("messages") = messages, py::arg("bits") = round.Bits(),
      py::arg("decoded") = DecodedObject(std::move(round.decoded)),
      py::arg("error_sq") = round.errorSq, py::arg("input_norm_sq") = round.inputNormSq,
      py::arg("agg_error_sq") = round.aggErrorSq,
      py::arg("residual_sq") = round.feedback.residualSq,
      py::arg("acc_error_sq") = round.feedback.accErrorSq,
      py::arg("acc_mean_norm_sq") = round.feedback.accMeanNormSq);
}

}  // namespace

void BindChain(py::module_& m) {
  py::class_<Chain>(m, "Chain",
                    "One layer of a run across steps: the quantizer's state and the error "
                    "feedback (ef = none, classic or ef21) of W workers.")
      .def(py::init([](QuantizerPtr q, const LayerInfo& layer, std::uint64_t seed,
                       std::size_t workers, const std::string& ef) {
             if (!q) throw SpecError("Chain: no quantizer");
             const Quantizer& ref = *q;
             return new Chain{std::move(q),
                              LayerChain(ref, layer, seed, workers, ParseFeedback(ef))};
           }),
           py::arg("quantizer"), py::arg("layer"), py::arg("seed") = 0, py::arg("workers") = 1,
           py::arg("ef") = "none")
      .def_property_readonly("layer", [](const Chain& c) { return c.chain.Layer(); })
      .def_property_readonly("workers", [](const Chain& c) { return c.chain.Workers(); })
      .def_property_readonly("ef", [](const Chain& c) { return FeedbackName(c.chain.Mode()); })
      .def(
          "run",
          [](Chain& c, std::uint64_t step, const py::sequence& gradients) {
            std::vector<py::object> keep;
            const std::vector<arma::fvec> g = Views(gradients, "run: gradient", &keep);
            Round round;
            {
              py::gil_scoped_release release;
              round = c.chain.Run(step, g);
            }
            return RoundObject(std::move(round));
          },
          py::arg("step"), py::arg("gradients"),
          "Every worker's round at `step` in this process (compress's round): messages, bits, "
          "decoded (what the server holds), error_sq, agg_error_sq, residual_sq, acc_error_sq.")
      .def(
          "encode",
          [](Chain& c, std::uint64_t step, std::size_t worker, const py::object& gradient) {
            py::object keep;
            const arma::fvec g = View(gradient, "encode: gradient", &keep);
            py::gil_scoped_release release;
            return c.chain.EncodeWorker(step, worker, g);
          },
          py::arg("step"), py::arg("worker"), py::arg("gradient"),
          "Worker `worker`'s message at `step` (its gradient plus its memory, quantized).")
      .def(
          "decode",
          [](Chain& c, std::uint64_t step, const std::vector<Message>& messages) {
            GroupResult decoded;
            {
              py::gil_scoped_release release;
              decoded = c.chain.Decode(step, messages);
            }
            return DecodedObject(std::move(decoded));
          },
          py::arg("step"), py::arg("messages"),
          "The server's side at `step` from all W messages: the same on every rank that has the "
          "same messages. Moves the state and the memories of the workers encoded here on.");
}

}  // namespace gradquant::python
