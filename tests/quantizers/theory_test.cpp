// Theory values and kinds (quantizers/quantizer.hpp): which value a report takes, and the kind
// of a sum over slabs of different kinds (docs/quantizers.md#theory-kinds).
#include <catch2/catch.hpp>
#include <cmath>
#include <string>

#include "gradquant/quantizers/quantizer.hpp"

namespace gradquant {

TEST_CASE("Theory takes the exact value, else a bound, else the approximation", "[theory]") {
  Theory t;
  CHECK(std::string(t.Kind()) == "none");
  CHECK(std::isnan(t.Value()));
  t.approx = 4.0;
  CHECK(std::string(t.Kind()) == "approx");
  CHECK(t.Value() == 4.0);
  t.lowerBound = 3.0;
  CHECK(std::string(t.Kind()) == "lower_bound");
  CHECK(t.Value() == 3.0);
  t.bound = 5.0;
  CHECK(std::string(t.Kind()) == "bound");
  CHECK(t.Value() == 5.0);
  t.exact = 4.5;
  CHECK(std::string(t.Kind()) == "exact");
  CHECK(t.Value() == 4.5);
}

TEST_CASE("A sum of theory values has the weaker kind", "[theory]") {
  CHECK(CombineTheoryKinds("", "approx") == "approx");
  CHECK(CombineTheoryKinds("approx", "approx") == "approx");
  CHECK(CombineTheoryKinds("exact", "approx") == "approx");
  CHECK(CombineTheoryKinds("approx", "exact") == "approx");
  CHECK(CombineTheoryKinds("approx", "bound") == "none");
  CHECK(CombineTheoryKinds("lower_bound", "approx") == "none");
  CHECK(CombineTheoryKinds("bound", "lower_bound") == "none");
  CHECK(CombineTheoryKinds("exact", "bound") == "bound");
  CHECK(CombineTheoryKinds("none", "exact") == "none");
}

}  // namespace gradquant
