// Fuzzes the per-axis cost parser (`AXIS=ALPHA_US:GBPS,...`) and its decimal parser. The first byte picks a mesh
// (named or not, 1 to 8 axes); the rest is the text. Invariants: never crashes; an error names an axis_cost field
// and says what is wrong; what parses names distinct axes of the mesh, one per entry, with figures check_axis_cost
// accepts, and applies to the mesh's default model; every number the decimal parser accepts is one strtod reads the
// same way (to within rounding).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "shardplan/shardplan.hpp"

using namespace shardplan;

namespace {

constexpr std::string_view kMeshes[] = {"2,4", "dp=2,tp=4", "8", "pp=2,dp=2,cp=2,tp=2", "4,4,4", "a=1,b=2,c=3,d=4,e=1,f=2,g=3,h=4"};

/// parse_decimal against strtod (C locale: the fuzzer never calls setlocale).
void check_decimal(std::string_view text) {
  const auto value = parse_decimal(text, "x");
  if (!value.ok()) {
    if (value.error().message.empty() || value.error().field.view() != "x") std::abort();
    return;
  }
  const std::string copy(text);
  char* end = nullptr;
  const double expected = std::strtod(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size()) std::abort();  // we accepted text strtod does not take whole
  const double got = *value;
  if (std::isnan(got)) std::abort();
  if (std::isinf(expected) || std::isinf(got)) {
    // Near the top of the range the two may round to either side of DBL_MAX.
    if (std::isinf(expected) && std::isinf(got) && std::signbit(expected) != std::signbit(got)) std::abort();
    if (!std::isinf(expected) && std::fabs(expected) < 1e307) std::abort();
    if (!std::isinf(got) && std::fabs(got) < 1e307) std::abort();
    return;
  }
  const double scale = std::fmax(std::fabs(expected), 1e-300);
  if (std::fabs(got - expected) > 1e-14 * scale && std::fabs(got - expected) > 1e-300) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const Mesh mesh = parse_mesh(kMeshes[data[0] % (sizeof kMeshes / sizeof kMeshes[0])]).value();
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  check_decimal(text);

  const auto entries = parse_axis_costs(text, mesh);
  CostModel model = CostModel::create(mesh).value();
  const CostModel before = model;
  const Status applied = apply_axis_costs(text, mesh, model);
  if (applied.ok() != entries.ok()) std::abort();
  if (!entries.ok()) {
    const Error& error = entries.error();
    if (error.message.empty() || !error.field.view().starts_with("axis_cost")) std::abort();
    if (!(model == before)) std::abort();  // a refused list changes nothing
    return 0;
  }
  std::size_t commas = 0;
  for (const char c : text) commas += c == ',' ? 1 : 0;
  if (entries->size() != commas + 1) std::abort();
  unsigned seen = 0;
  for (const AxisCostEntry& entry : *entries) {
    if (entry.axis >= mesh.ndim() || (seen & (1U << entry.axis)) != 0) std::abort();
    seen |= 1U << entry.axis;
    if (!check_axis_cost(entry.cost, "x").ok()) std::abort();
    if (!(model.axis(entry.axis) == entry.cost)) std::abort();
  }
  for (std::size_t axis = 0; axis < mesh.ndim(); ++axis) {
    if ((seen & (1U << axis)) == 0 && !(model.axis(axis) == before.axis(axis))) std::abort();
  }
  return 0;
}
