#include "gradquant/pipeline/selection.hpp"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "gradquant/core/error.hpp"

using namespace gradquant;
using Catch::Matchers::Contains;
using Records = std::vector<std::size_t>;

TEST_CASE("Record lists: indices and half-open ranges A:B, sorted and merged", "[selection]") {
  CHECK(SelectRecords(6, "") == Records{0, 1, 2, 3, 4, 5});
  CHECK(SelectRecords(6, "2:4") == Records{2, 3});  // half-open, like a Python slice
  CHECK(SelectRecords(6, "0,4") == Records{0, 4});
  CHECK(SelectRecords(6, "3:") == Records{3, 4, 5});
  CHECK(SelectRecords(6, ":2") == Records{0, 1});
  CHECK(SelectRecords(6, ":") == Records{0, 1, 2, 3, 4, 5});
  CHECK(SelectRecords(6, "5,1:3,2") == Records{1, 2, 5});
  CHECK(SelectRecords(6, "0:6") == Records{0, 1, 2, 3, 4, 5});
  CHECK(SelectRecords(6, "5") == Records{5});
}

TEST_CASE("Record lists past the end name the range and the record count", "[selection]") {
  CHECK_THROWS_WITH(SelectRecords(6, "10:20"),
                    Contains("range 10:20 (records 10 to 19, half-open) is out of range") &&
                        Contains("the dump has 6 records (0 to 5)"));
  CHECK_THROWS_WITH(SelectRecords(6, "4:7"), Contains("range 4:7") && Contains("6 records"));
  CHECK_THROWS_WITH(SelectRecords(6, "6"),
                    Contains("record 6 is out of range (the dump has 6 records (0 to 5))"));
  CHECK_THROWS_WITH(SelectRecords(1, "1"), Contains("the dump has 1 record (0 to 0)"));
}

TEST_CASE("Record lists that overflow are errors, never a wrapped or empty selection",
          "[selection]") {
  for (const char* list : {"18446744073709551615", "18446744073709551616",
                           "99999999999999999999999", "0:18446744073709551615",
                           "18446744073709551615:", "18446744073709551614:18446744073709551615"}) {
    INFO(list);
    CHECK_THROWS_AS(SelectRecords(6, list), SpecError);
    CHECK_THROWS_WITH(SelectRecords(6, list), Contains("out of range"));
  }
}

TEST_CASE("Malformed and empty record lists are errors", "[selection]") {
  CHECK_THROWS_WITH(SelectRecords(6, "3:3"), Contains("range 3:3 is empty (A:B is half-open"));
  CHECK_THROWS_WITH(SelectRecords(6, "4:2"), Contains("is empty"));
  CHECK_THROWS_WITH(SelectRecords(6, "1,,2"), Contains("empty item"));
  CHECK_THROWS_WITH(SelectRecords(6, "1,"), Contains("empty item"));
  CHECK_THROWS_WITH(SelectRecords(6, ","), Contains("empty item"));
  CHECK_THROWS_WITH(SelectRecords(6, "-1"), Contains("'-1' is not a record index"));
  CHECK_THROWS_WITH(SelectRecords(6, "a"), Contains("'a' is not a record index"));
  CHECK_THROWS_WITH(SelectRecords(6, "1:2:3"), Contains("'1:2:3' is not a range A:B"));
  CHECK_THROWS_WITH(SelectRecords(6, " 1"), Contains("is not a record index"));
  CHECK_THROWS_WITH(SelectRecords(0, ""), Contains("no records"));
  CHECK_THROWS_WITH(SelectRecords(0, "0"), Contains("the dump has 0 records"));
}

TEST_CASE("Layer selection by regular expression", "[selection]") {
  const std::vector<LayerInfo> layers = {
      {"conv1.weight", {2}, 2, 0}, {"fc1.weight", {2}, 2, 1}, {"fc1.bias", {2}, 2, 2}};
  CHECK(SelectLayers(layers, "") == Records{0, 1, 2});
  CHECK(SelectLayers(layers, "^fc1") == Records{1, 2});
  CHECK_THROWS_WITH(SelectLayers(layers, "nomatch"), Contains("'nomatch' matches no layer"));
  CHECK_THROWS_WITH(SelectLayers(layers, "("), Contains("not a valid regular expression"));
  const Selection sel = Select(layers, 6, "bias", "1:3");
  CHECK(sel.layers == Records{2});
  CHECK(sel.records == Records{1, 2});
}
