#include <shardplan/fmt.hpp>
#include <shardplan/shardplan.hpp>

int main() {
  const auto mesh = shardplan::parse_mesh("4,2,3");
  const auto placements = shardplan::parse_placements("S(0),_S(0,2),S(0)");
  if (!mesh.ok() || !placements.ok()) return 1;
  const auto layout = shardplan::Layout::create(shardplan::Shape{39, 2}, *mesh, *placements);
  if (!layout.ok()) {
    fmt::print(stderr, "{}\n", layout.error());
    return 1;
  }
  fmt::print("{}\n", *layout);
  // The same text as the library's to_string.
  return fmt::format("{}", *layout) == shardplan::to_string(*layout).view() ? 0 : 1;
}
