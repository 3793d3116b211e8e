#include "gradquant/quantizers/spec.hpp"

#include <catch2/catch.hpp>

#include "gradquant/core/error.hpp"
#include "gradquant/quantizers/registry.hpp"

namespace gradquant {

TEST_CASE("ParseSpec splits name and key=value pairs", "[spec]") {
  const ParsedSpec p = ParseSpec("qsgd:s=4,bucket=512");
  CHECK(p.name == "qsgd");
  CHECK(p.values.at("s") == "4");
  CHECK(p.values.at("bucket") == "512");
  CHECK(ParseSpec("fp32").values.empty());
}

TEST_CASE("ParseSpec rejects malformed specs", "[spec]") {
  for (const char* bad : {"", ":s=1", "qsgd:", "qsgd:s", "qsgd:s=", "qsgd:s=1,s=2", "Qsgd",
                          "qsgd:S=1", "qsgd:s=1,", "qs gd"}) {
    INFO(bad);
    CHECK_THROWS_AS(ParseSpec(bad), SpecError);
  }
}

TEST_CASE("Registry errors name the problem", "[spec]") {
  const Registry& r = BuiltinRegistry();
  CHECK_THROWS_WITH(r.Make("qsdg"),
                    Catch::Contains("unknown quantizer 'qsdg'") && Catch::Contains("qsgd"));
  CHECK_THROWS_WITH(r.Make("qsgd:bits=3"), Catch::Contains("unknown parameter 'bits'") &&
                                               Catch::Contains("known: bucket, coding, norm, s"));
  CHECK_THROWS_WITH(r.Make("qsgd:s=0"), Catch::Contains("s=0 out of range [1, 1048576]"));
  CHECK_THROWS_WITH(r.Make("qsgd:s=2.5"), Catch::Contains("is not an integer"));
  CHECK_THROWS_WITH(r.Make("qsgd:norm=l1"), Catch::Contains("not one of l2|max"));
}

TEST_CASE("Canonical specs sort keys and fill defaults", "[spec]") {
  const Registry& r = BuiltinRegistry();
  CHECK(r.Make("qsgd:s=4,bucket=512")->Spec() == "qsgd:bucket=512,coding=elias,norm=l2,s=4");
  CHECK(r.Make("dqsg")->Spec() == "dqsg:bucket=0,s=3");
  CHECK(r.Make("fp32")->Spec() == "fp32");
}

TEST_CASE("Real parameters keep full precision in the canonical form", "[spec]") {
  Params p(ParseSpec("x:a=0.1,b=1e-7"));
  CHECK(p.Real("a", 1, 0, 1, "") == 0.1);
  CHECK(p.Real("b", 1, 0, 1, "") == 1e-7);
  CHECK(std::isnan(p.AutoOrReal("c", 0, 1, "")));
  CHECK(p.Canonical() == "x:a=0.1,b=1e-07,c=auto");
  Params bad(ParseSpec("x:a=nan"));
  CHECK_THROWS_AS(bad.Real("a", 1, 0, 1, ""), SpecError);
}

}  // namespace gradquant
