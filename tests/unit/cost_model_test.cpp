// The alpha-beta cost model (default topology, overrides, group bottleneck, the time formula) and the text form of
// per-axis overrides (`AXIS=ALPHA_US:GBPS,...`).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <string_view>

#include "shardplan/shardplan.hpp"

namespace shardplan {
namespace {

Mesh mesh_of(std::string_view text) { return parse_mesh(text).value(); }

CostModel default_model(std::string_view mesh, Index devices_per_host = kDefaultDevicesPerHost) {
  return CostModel::create(mesh_of(mesh), devices_per_host).value();
}

bool contains(std::string_view text, std::string_view part) { return text.find(part) != std::string_view::npos; }

// ---------------------------------------------------------------------------------------------------------------
// Default topology

TEST(CostModel, Figures) {
  EXPECT_EQ(kDefaultDevicesPerHost, 8);
  EXPECT_EQ(kIntraHostCost.alpha_us, 0.6);
  EXPECT_EQ(kIntraHostCost.gbps, 87.7);
  EXPECT_EQ(kInterHostCost.alpha_us, 2.7);
  EXPECT_EQ(kInterHostCost.gbps, 0.22 * 87.7);
  EXPECT_NEAR(kInterHostCost.gbps, 19.294, 1e-12);
  // The defaults of an AxisCost are the intra-host figures.
  EXPECT_EQ(AxisCost{}, kIntraHostCost);
}

TEST(CostModel, DefaultTopologyWithinOneHost) {
  const CostModel model = default_model("2,4");  // 8 devices: one host
  ASSERT_EQ(model.ndim(), 2u);
  EXPECT_EQ(model.axis(0), kIntraHostCost);
  EXPECT_EQ(model.axis(1), kIntraHostCost);
  const CostModel three = default_model("2,2,2");
  for (std::size_t axis = 0; axis < 3; ++axis) EXPECT_EQ(three.axis(axis), kIntraHostCost) << axis;
  EXPECT_EQ(default_model("8").axis(0), kIntraHostCost);
  EXPECT_EQ(default_model("1").axis(0), kIntraHostCost);
}

TEST(CostModel, DefaultTopologyAcrossHosts) {
  // (4,4): the inner axis (4 devices) stays within a host, the outer one takes the count to 16 and crosses hosts.
  const CostModel model = default_model("4,4");
  EXPECT_EQ(model.axis(1), kIntraHostCost);
  EXPECT_EQ(model.axis(0), kInterHostCost);
  // A single axis of 16 spans two hosts.
  EXPECT_EQ(default_model("16").axis(0), kInterHostCost);
  // (2,8): the inner axis fills a host exactly.
  const CostModel filled = default_model("2,8");
  EXPECT_EQ(filled.axis(1), kIntraHostCost);
  EXPECT_EQ(filled.axis(0), kInterHostCost);
  // Once crossed, every outer axis crosses, even of size 1.
  const CostModel outer = default_model("1,16");
  EXPECT_EQ(outer.axis(1), kInterHostCost);
  EXPECT_EQ(outer.axis(0), kInterHostCost);
  // (2,2,4): the inner two axes make 8, the outer one crosses.
  const CostModel three = default_model("2,2,4");
  EXPECT_EQ(three.axis(2), kIntraHostCost);
  EXPECT_EQ(three.axis(1), kIntraHostCost);
  EXPECT_EQ(three.axis(0), kInterHostCost);
  // Named meshes and device orders change nothing.
  EXPECT_EQ(default_model("dp=4,tp=4"), model);
}

TEST(CostModel, DevicesPerHost) {
  const CostModel big_host = default_model("4,4", 16);
  EXPECT_EQ(big_host.axis(0), kIntraHostCost);
  EXPECT_EQ(big_host.axis(1), kIntraHostCost);
  // One device per host: every axis of size > 1 crosses hosts.
  const CostModel single = default_model("2,2", 1);
  EXPECT_EQ(single.axis(0), kInterHostCost);
  EXPECT_EQ(single.axis(1), kInterHostCost);
  EXPECT_EQ(default_model("1", 1).axis(0), kIntraHostCost);
  // Sizes near the int64 limit.
  const CostModel huge = default_model("4294967296,2147483647", Index{1} << 40);
  EXPECT_EQ(huge.axis(1), kIntraHostCost);
  EXPECT_EQ(huge.axis(0), kInterHostCost);

  for (const Index bad : {Index{0}, Index{-1}}) {
    const auto model = CostModel::create(mesh_of("2,2"), bad);
    ASSERT_FALSE(model.ok()) << bad;
    EXPECT_EQ(model.error().code, ErrorCode::invalid_argument);
    EXPECT_EQ(model.error().field.view(), "devices_per_host");
    EXPECT_TRUE(contains(model.error().message.view(), "must be >= 1, got " + std::to_string(bad)))
        << model.error().what();
  }
}

TEST(CostModel, CreateIsConstexpr) {
  constexpr auto model = CostModel::create(parse_mesh("4,4").value());
  static_assert(model.ok());
  static_assert(model->axis(0) == kInterHostCost);
  static_assert(model->axis(1) == kIntraHostCost);
  static_assert(model->group(AxisList{0, 1}) == AxisCost{2.7, 0.22 * 87.7});
  SUCCEED();
}

// ---------------------------------------------------------------------------------------------------------------
// Overrides

TEST(CostModel, SetAxis) {
  CostModel model = default_model("4,4");
  ASSERT_TRUE(model.set_axis(0, AxisCost{5, 25}).ok());
  EXPECT_EQ(model.axis(0), (AxisCost{5, 25}));
  EXPECT_EQ(model.axis(1), kIntraHostCost);
  ASSERT_TRUE(model.set_axis(1, AxisCost{0.001, 1e6}).ok());
  EXPECT_EQ(model.axis(1), (AxisCost{0.001, 1e6}));
}

TEST(CostModel, SetAxisRefusesBadFigures) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  struct Case {
    AxisCost cost;
    std::string_view message;
  };
  const Case cases[] = {
      {{0, 87.7}, "latency must be a positive number of microseconds, got 0"},
      {{-0.5, 87.7}, "latency must be a positive number of microseconds, got -0.5"},
      {{nan, 87.7}, "latency must be a positive number of microseconds, got nan"},
      {{inf, 87.7}, "latency must be a positive number of microseconds, got inf"},
      {{-inf, 87.7}, "latency must be a positive number of microseconds, got -inf"},
      {{0.6, 0}, "bandwidth must be a positive number of GB/s, got 0"},
      {{0.6, -87.7}, "bandwidth must be a positive number of GB/s, got -87.7"},
      {{0.6, nan}, "bandwidth must be a positive number of GB/s, got nan"},
      {{0.6, inf}, "bandwidth must be a positive number of GB/s, got inf"},
      {{0, 0}, "latency"},  // the latency is checked first
  };
  for (const Case& c : cases) {
    CostModel model = default_model("4,4");
    const CostModel before = model;
    const Status status = model.set_axis(1, c.cost);
    ASSERT_FALSE(status.ok()) << c.message;
    EXPECT_EQ(status.error().code, ErrorCode::invalid_argument);
    EXPECT_EQ(status.error().field.view(), "axis_cost[1]");
    EXPECT_TRUE(contains(status.error().message.view(), c.message)) << status.error().what();
    EXPECT_EQ(model, before) << "a refused override must change nothing";
    // check_axis_cost is the same check, with the caller's field.
    const Status direct = check_axis_cost(c.cost, "x");
    ASSERT_FALSE(direct.ok());
    EXPECT_EQ(direct.error().field.view(), "x");
  }
  EXPECT_TRUE(check_axis_cost(AxisCost{1e-9, 1e-9}, "x").ok());
}

TEST(CostModel, FiguresThatWouldMakeATimeNonFiniteAreRefused) {
  // The window's edges are accepted, and with them every time stays finite for any int64 hops and bytes.
  EXPECT_TRUE(check_axis_cost(AxisCost{kMaxLatencyUs, kMinBandwidthGbps}, "x").ok());
  const double worst = CostModel::time_us(AxisCost{kMaxLatencyUs, kMinBandwidthGbps},
                                          std::numeric_limits<Index>::max(), std::numeric_limits<Index>::max());
  EXPECT_TRUE(worst < 1e34) << worst;
  EXPECT_GT(worst, 9e33);
  struct Case {
    AxisCost cost;
    std::string_view message;
  };
  const Case cases[] = {
      {{1e299, 87.7}, "latency must be at most 1e15 microseconds (31 years) so that times stay finite, got 1e299"},
      {{1.01e15, 87.7}, "latency must be at most 1e15 microseconds (31 years) so that times stay finite, got 1.01e15"},
      {{0.6, 1e-320},
       "bandwidth must be at least 1e-9 GB/s (1 byte per second) so that times stay finite, got 1e-320"},
      {{0.6, 9e-10}, "bandwidth must be at least 1e-9 GB/s (1 byte per second) so that times stay finite, got 9e-10"},
      {{0.6, 1e-300}, "bandwidth must be at least 1e-9 GB/s (1 byte per second) so that times stay finite, got 1e-300"},
  };
  for (const Case& c : cases) {
    const Status status = check_axis_cost(c.cost, "axis_cost[0]");
    ASSERT_FALSE(status.ok()) << c.message;
    EXPECT_EQ(status.error().code, ErrorCode::invalid_argument);
    EXPECT_EQ(status.error().what(), "axis_cost[0]: " + std::string(c.message));
  }
  // Huge bandwidths only make times small: they stay allowed.
  EXPECT_TRUE(check_axis_cost(AxisCost{0.6, 1e300}, "x").ok());
  // The parser applies the same window.
  const Mesh mesh = parse_mesh("2,2").value();
  const auto parsed = parse_axis_costs("0=1:1e-320", mesh);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().what(),
            "axis_cost[0]: mesh axis 0: bandwidth must be at least 1e-9 GB/s (1 byte per second) so that times stay "
            "finite, got 1e-320");
}

TEST(CostModel, SetAxisRefusesAxesOutsideTheMesh) {
  CostModel model = default_model("4,4");
  const Status status = model.set_axis(2, AxisCost{1, 1});
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::out_of_range);
  EXPECT_EQ(status.error().field.view(), "axis_cost[2]");
  EXPECT_EQ(status.error().message.view(), "axis 2 is outside a 2-axis mesh");
}

TEST(CostModel, LaunchUs) {
  CostModel model = default_model("2,2");
  EXPECT_EQ(model.launch_us(), 0);
  ASSERT_TRUE(model.set_launch_us(3.5).ok());
  EXPECT_EQ(model.launch_us(), 3.5);
  ASSERT_TRUE(model.set_launch_us(0).ok());
  ASSERT_TRUE(model.set_launch_us(kMaxLatencyUs).ok());
  EXPECT_EQ(model.set_launch_us(2e15).error().what(),
            "launch_us: must be at most 1e15 microseconds (31 years) so that times stay finite, got 2e15");
  for (const double bad : {-1.0, std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity(),
                           1e299}) {
    const Status status = model.set_launch_us(bad);
    ASSERT_FALSE(status.ok()) << bad;
    EXPECT_EQ(status.error().field.view(), "launch_us");
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Group figures and the time formula

TEST(CostModel, GroupRunsAtTheBottleneck) {
  CostModel model = default_model("2,2,2");
  ASSERT_TRUE(model.set_axis(0, AxisCost{1, 50}).ok());
  ASSERT_TRUE(model.set_axis(1, AxisCost{3, 100}).ok());
  ASSERT_TRUE(model.set_axis(2, AxisCost{2, 25}).ok());
  EXPECT_EQ(model.group(AxisList{0}), (AxisCost{1, 50}));
  EXPECT_EQ(model.group(AxisList{1}), (AxisCost{3, 100}));
  // The largest latency and the smallest bandwidth, possibly from different axes.
  EXPECT_EQ(model.group(AxisList{0, 1}), (AxisCost{3, 50}));
  EXPECT_EQ(model.group(AxisList{0, 2}), (AxisCost{2, 25}));
  EXPECT_EQ(model.group(AxisList{0, 1, 2}), (AxisCost{3, 25}));
  // The default (4,4): a group spanning both axes runs at the inter-host figures.
  EXPECT_EQ(default_model("4,4").group(AxisList{0, 1}), kInterHostCost);
  EXPECT_EQ(default_model("4,4").group(AxisList{1}), kIntraHostCost);
}

TEST(CostModel, TimeFormula) {
  // hops x alpha + bytes / (GB/s x 1e3): 1 GB/s moves 1e3 bytes per µs.
  EXPECT_DOUBLE_EQ(CostModel::time_us(AxisCost{0.6, 87.7}, 1, 64), 0.6 + 64 / 87700.0);
  EXPECT_DOUBLE_EQ(CostModel::time_us(AxisCost{0.6, 87.7}, 3, 877000), 1.8 + 10);
  EXPECT_DOUBLE_EQ(CostModel::time_us(AxisCost{2.7, 0.22 * 87.7}, 6, 1 << 20),
                   6 * 2.7 + (1 << 20) / (0.22 * 87.7 * 1e3));
  EXPECT_DOUBLE_EQ(CostModel::time_us(AxisCost{5, 10}, 0, 0), 0);
  EXPECT_DOUBLE_EQ(CostModel::time_us(AxisCost{5, 10}, 2, 0), 10);
  EXPECT_DOUBLE_EQ(CostModel::time_us(AxisCost{5, 10}, 0, 10000), 1);
  static_assert(CostModel::time_us(AxisCost{1, 1}, 2, 3000) == 5);
}

TEST(CostModel, PlannerTimesFollowTheModel) {
  // An all_gather of S(0) over an axis of 4 (3 hops); each rank receives 3/4 of a 16x16 bf16 tensor.
  const Mesh mesh = mesh_of("4,4");
  const Layout from = Layout::create(Shape{16, 16}, mesh, parse_placements("S(0),R").value()).value();
  const Layout to = Layout::create(Shape{16, 16}, mesh, parse_placements("R,R").value()).value();
  for (const Index hosts : {Index{8}, Index{16}}) {
    const CostModel costs = CostModel::create(mesh, hosts).value();
    const auto plan = plan_redistribution(from, to, costs, 2);
    ASSERT_TRUE(plan.ok()) << plan.error().what();
    ASSERT_EQ(plan->steps.size(), 1u);
    EXPECT_EQ(plan->steps[0].op, StepOp::all_gather);
    EXPECT_EQ(plan->steps[0].bytes_received, 384);
    const AxisCost axis = hosts == 8 ? kInterHostCost : kIntraHostCost;
    EXPECT_DOUBLE_EQ(plan->steps[0].time_us, 3 * axis.alpha_us + 384 / (axis.gbps * 1e3));
    EXPECT_DOUBLE_EQ(plan->time_us, plan->steps[0].time_us);
  }
}

TEST(CostModel, DecimalText) {
  EXPECT_EQ(decimal_text(2.7).view(), "2.7");
  EXPECT_EQ(decimal_text(87.7).view(), "87.7");
  EXPECT_EQ(decimal_text(0).view(), "0");
  EXPECT_EQ(decimal_text(-0.5).view(), "-0.5");
  EXPECT_EQ(decimal_text(19.294).view(), "19.294");
  // Magnitudes 3 decimals cannot show get a power of ten instead of reading 0 or inf.
  EXPECT_EQ(decimal_text(0.0004).view(), "4e-4");
  EXPECT_EQ(decimal_text(0.0005).view(), "0.001");
  EXPECT_EQ(decimal_text(1.5e-9).view(), "1.5e-9");
  EXPECT_EQ(decimal_text(1e-320).view(), "1e-320");  // subnormal
  EXPECT_EQ(decimal_text(9.99996e-5).view(), "1e-4");  // rounds up into the next power
  EXPECT_EQ(decimal_text(-2.5e-7).view(), "-2.5e-7");
  EXPECT_EQ(decimal_text(1e15).view(), "1000000000000000");
  EXPECT_EQ(decimal_text(1.25e16).view(), "1.25e16");
  EXPECT_EQ(decimal_text(std::numeric_limits<double>::max()).view(), "1.798e308");
  EXPECT_EQ(decimal_text(std::numeric_limits<double>::quiet_NaN()).view(), "nan");
  EXPECT_EQ(decimal_text(std::numeric_limits<double>::infinity()).view(), "inf");
  EXPECT_EQ(decimal_text(1e300).view(), "1e300");
  EXPECT_EQ(decimal_text(-std::numeric_limits<double>::infinity()).view(), "-inf");
}

// ---------------------------------------------------------------------------------------------------------------
// parse_decimal

TEST(CostModelParse, DecimalValidForms) {
  struct Case {
    std::string_view text;
    double value;
  };
  const Case cases[] = {
      {"0", 0},          {"87.7", 87.7},   {"0.6", 0.6},     {"2.7", 2.7},       {"19.294", 19.294},
      {".5", 0.5},       {"5.", 5},        {"+2", 2},        {"-1.5", -1.5},     {"007", 7},
      {"1e3", 1000},     {"1E-2", 0.01},   {"2.5e+1", 25},   {"1e0", 1},         {"0.000001", 1e-6},
      {"123456.789", 123456.789},          {"0.1", 0.1},     {"1e22", 1e22},     {"1e-22", 1e-22},
      {"450", 450},      {"0e5", 0},       {"000.000", 0},   {"3.14159265358979", 3.14159265358979},
  };
  for (const Case& c : cases) {
    const auto value = parse_decimal(c.text, "x");
    ASSERT_TRUE(value.ok()) << c.text << ": " << value.error().what();
    EXPECT_EQ(*value, c.value) << c.text;  // exact: the same double as the literal
  }
  // More digits than a double holds, and powers past 10^22: within an ulp or two.
  const auto long_digits = parse_decimal("1234567890123456789012345", "x");
  ASSERT_TRUE(long_digits.ok());
  EXPECT_NEAR(*long_digits, 1.234567890123456789e24, 1e10);
  const auto long_fraction = parse_decimal("0.1000000000000000000000000001", "x");
  ASSERT_TRUE(long_fraction.ok());
  EXPECT_DOUBLE_EQ(*long_fraction, 0.1);
  const auto big = parse_decimal("1.5e100", "x");
  ASSERT_TRUE(big.ok());
  EXPECT_DOUBLE_EQ(*big, 1.5e100);
  const auto small = parse_decimal("2.5e-100", "x");
  ASSERT_TRUE(small.ok());
  EXPECT_DOUBLE_EQ(*small, 2.5e-100);
  // Past the double range: infinity or zero, for callers to refuse.
  EXPECT_TRUE(std::isinf(parse_decimal("1e400", "x").value()));
  EXPECT_TRUE(std::isinf(parse_decimal("1e999999999999", "x").value()));
  EXPECT_EQ(parse_decimal("1e-400", "x").value(), 0);
  static_assert(parse_decimal("87.7", "x").value() == 87.7);
  static_assert(!parse_decimal("x", "x").ok());
}

TEST(CostModelParse, DecimalInvalidForms) {
  for (const std::string_view text : {"", " ", ".", "+", "-", "e3", ".e3", "1e", "1e+", "1e-", "1.2.3", " 1", "1 ",
                                      "nan", "NaN", "inf", "-inf", "infinity", "0x10", "1,5", "--1", "+-1", "1e2.5",
                                      "1..2", "1e3e4", "1f", "one", "\xff"}) {
    const auto value = parse_decimal(text, "axis_cost[3]");
    ASSERT_FALSE(value.ok()) << "'" << text << "' parsed as " << *value;
    EXPECT_EQ(value.error().code, ErrorCode::parse_error);
    EXPECT_EQ(value.error().field.view(), "axis_cost[3]");
    EXPECT_TRUE(contains(value.error().message.view(), "is not a decimal number")) << value.error().what();
  }
  const auto long_text = parse_decimal(std::string(100, 'x'), "f");
  ASSERT_FALSE(long_text.ok());
  EXPECT_TRUE(contains(long_text.error().message.view(), "xxx...'")) << long_text.error().what();
}

// ---------------------------------------------------------------------------------------------------------------
// parse_axis_costs

TEST(CostModelParse, AxisCostsByIndex) {
  const auto entries = parse_axis_costs("0=2.7:19.3", mesh_of("2,4"));
  ASSERT_TRUE(entries.ok()) << entries.error().what();
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ((*entries)[0], (AxisCostEntry{0, AxisCost{2.7, 19.3}}));

  // Entries keep their order; spaces around tokens are fine.
  const auto two = parse_axis_costs(" 1 = 0.6 : 450 , 0=5:12.5 ", mesh_of("2,4"));
  ASSERT_TRUE(two.ok()) << two.error().what();
  ASSERT_EQ(two->size(), 2u);
  EXPECT_EQ((*two)[0], (AxisCostEntry{1, AxisCost{0.6, 450}}));
  EXPECT_EQ((*two)[1], (AxisCostEntry{0, AxisCost{5, 12.5}}));

  const auto exponent = parse_axis_costs("2=1e-1:1E3", mesh_of("2,2,2"));
  ASSERT_TRUE(exponent.ok()) << exponent.error().what();
  EXPECT_EQ((*exponent)[0], (AxisCostEntry{2, AxisCost{0.1, 1000}}));
  static_assert(parse_axis_costs("0=2.7:19.3", parse_mesh("2").value()).value()[0].cost.gbps == 19.3);
}

TEST(CostModelParse, AxisCostsByName) {
  const Mesh mesh = mesh_of("dp=2,tp=4");
  const auto entries = parse_axis_costs("tp=0.6:450,dp=5:25", mesh);
  ASSERT_TRUE(entries.ok()) << entries.error().what();
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0], (AxisCostEntry{1, AxisCost{0.6, 450}}));
  EXPECT_EQ((*entries)[1], (AxisCostEntry{0, AxisCost{5, 25}}));
  // Indices still work on a named mesh, and mix with names.
  const auto mixed = parse_axis_costs("0=1:2,tp=3:4", mesh);
  ASSERT_TRUE(mixed.ok()) << mixed.error().what();
  EXPECT_EQ((*mixed)[0].axis, 0u);
  EXPECT_EQ((*mixed)[1].axis, 1u);
}

TEST(CostModelParse, ApplyAxisCosts) {
  const Mesh mesh = mesh_of("dp=4,tp=4");
  CostModel model = CostModel::create(mesh).value();
  ASSERT_TRUE(apply_axis_costs("tp=0.5:400", mesh, model).ok());
  EXPECT_EQ(model.axis(0), kInterHostCost);  // the default topology stays where not overridden
  EXPECT_EQ(model.axis(1), (AxisCost{0.5, 400}));

  // A bad entry anywhere leaves the model as it was, even after good ones.
  const CostModel before = model;
  const Status status = apply_axis_costs("dp=1:1,tp=0:1", mesh, model);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().field.view(), "axis_cost[1]");
  EXPECT_EQ(model, before);
}

struct ErrorCase {
  std::string_view text;
  std::string_view mesh;
  ErrorCode code;
  std::string_view field;
  std::string_view message;  // a part of it
};

TEST(CostModelParse, AxisCostErrors) {
  const ErrorCase cases[] = {
      // The whole list, then single entries.
      {"", "2,2", ErrorCode::parse_error, "axis_cost", "no entries; expected AXIS=ALPHA_US:GBPS"},
      {"  ", "2,2", ErrorCode::parse_error, "axis_cost", "no entries"},
      {"0=1:2,", "2,2", ErrorCode::parse_error, "axis_cost[1]", "empty entry in '0=1:2,'"},
      {",0=1:2", "2,2", ErrorCode::parse_error, "axis_cost[0]", "empty entry"},
      {"0=1:2,,1=1:2", "2,2", ErrorCode::parse_error, "axis_cost[1]", "empty entry"},
      {"0=1:2, ,1=1:2", "2,2", ErrorCode::parse_error, "axis_cost[1]", "empty entry"},
      // Missing separators.
      {"0", "2,2", ErrorCode::parse_error, "axis_cost[0]", "'0' has no '='"},
      {"0:1:2", "2,2", ErrorCode::parse_error, "axis_cost[0]", "'0:1:2' has no '='"},
      {"0=1", "2,2", ErrorCode::parse_error, "axis_cost[0]", "'0=1' has no ':' between latency and bandwidth"},
      {"0=1:2,1=3", "2,2", ErrorCode::parse_error, "axis_cost[1]", "'1=3' has no ':'"},
      {"=1:2", "2,2", ErrorCode::parse_error, "axis_cost[0]", "names no axis before '='"},
      // Axes.
      {"2=1:2", "2,2", ErrorCode::out_of_range, "axis_cost[0]", "axis 2 is outside a 2-axis mesh (valid: 0..1)"},
      {"99999999999999999999999=1:2", "2,2", ErrorCode::out_of_range, "axis_cost[0]",
       "axis 99999999999999999999999 is outside a 2-axis mesh"},
      {"-1=1:2", "2,2", ErrorCode::out_of_range, "axis_cost[0]", "axis -1 is outside a 2-axis mesh"},
      {"1.5=1:2", "2,2", ErrorCode::invalid_argument, "axis_cost[0]", "no mesh axis is named '1.5'"},
      {"tp=1:2", "2,2", ErrorCode::invalid_argument, "axis_cost[0]",
       "no mesh axis is named 'tp' (the mesh has no axis names)"},
      {"pp=1:2", "dp=2,tp=2", ErrorCode::invalid_argument, "axis_cost[0]",
       "no mesh axis is named 'pp' (axes: dp tp)"},
      {"TP=1:2", "dp=2,tp=2", ErrorCode::invalid_argument, "axis_cost[0]", "no mesh axis is named 'TP'"},
      // Each axis once, however it is named.
      {"0=1:2,0=3:4", "2,2", ErrorCode::invalid_argument, "axis_cost[1]",
       "mesh axis 0 is already set by axis_cost[0]"},
      {"1=1:2,0=1:1,tp=3:4", "dp=2,tp=2", ErrorCode::invalid_argument, "axis_cost[2]",
       "mesh axis 1 ('tp') is already set by axis_cost[0]"},
      // Numbers.
      {"0=abc:1", "2,2", ErrorCode::parse_error, "axis_cost[0]",
       "latency ALPHA_US: 'abc' is not a decimal number"},
      {"0=1:abc", "2,2", ErrorCode::parse_error, "axis_cost[0]",
       "bandwidth GBPS: 'abc' is not a decimal number"},
      {"0=:1", "2,2", ErrorCode::parse_error, "axis_cost[0]", "latency ALPHA_US: '' is not a decimal number"},
      {"0=1:", "2,2", ErrorCode::parse_error, "axis_cost[0]", "bandwidth GBPS: '' is not a decimal number"},
      {"0=1:2:3", "2,2", ErrorCode::parse_error, "axis_cost[0]", "bandwidth GBPS: '2:3' is not a decimal number"},
      {"0=nan:1", "2,2", ErrorCode::parse_error, "axis_cost[0]", "'nan' is not a decimal number"},
      {"0=1:inf", "2,2", ErrorCode::parse_error, "axis_cost[0]", "'inf' is not a decimal number"},
      {"0=1:1e", "2,2", ErrorCode::parse_error, "axis_cost[0]", "'1e' is not a decimal number"},
      // Values check_axis_cost refuses.
      {"0=0:1", "2,2", ErrorCode::invalid_argument, "axis_cost[0]",
       "mesh axis 0: latency must be a positive number of microseconds, got 0"},
      {"1=-0.5:1", "2,2", ErrorCode::invalid_argument, "axis_cost[0]",
       "mesh axis 1: latency must be a positive number of microseconds, got -0.5"},
      {"0=1:0", "2,2", ErrorCode::invalid_argument, "axis_cost[0]",
       "bandwidth must be a positive number of GB/s, got 0"},
      {"0=1:-87.7", "2,2", ErrorCode::invalid_argument, "axis_cost[0]",
       "bandwidth must be a positive number of GB/s, got -87.7"},
      {"0=1:1e400", "2,2", ErrorCode::invalid_argument, "axis_cost[0]",
       "bandwidth must be a positive number of GB/s, got inf"},
      {"0=1e999:1", "2,2", ErrorCode::invalid_argument, "axis_cost[0]",
       "latency must be a positive number of microseconds, got inf"},
      {"0=1e-400:1", "2,2", ErrorCode::invalid_argument, "axis_cost[0]",
       "latency must be a positive number of microseconds, got 0"},
      {"0=-0:1", "2,2", ErrorCode::invalid_argument, "axis_cost[0]", "latency must be a positive number"},
      {"tp=1:1,dp=1:0", "dp=2,tp=2", ErrorCode::invalid_argument, "axis_cost[1]",
       "mesh axis 0: bandwidth must be a positive number of GB/s, got 0"},
  };
  for (const ErrorCase& c : cases) {
    const auto entries = parse_axis_costs(c.text, mesh_of(c.mesh));
    ASSERT_FALSE(entries.ok()) << "'" << c.text << "' on " << c.mesh;
    EXPECT_EQ(entries.error().code, c.code) << c.text << ": " << entries.error().what();
    EXPECT_EQ(entries.error().field.view(), c.field) << c.text << ": " << entries.error().what();
    EXPECT_TRUE(contains(entries.error().message.view(), c.message)) << c.text << ": " << entries.error().what();
  }
}

TEST(CostModelParse, LongTextIsShortenedInMessages) {
  const std::string text = "0=1" + std::string(300, '0') + "x:1";
  const auto entries = parse_axis_costs(text, mesh_of("2"));
  ASSERT_FALSE(entries.ok());
  EXPECT_LE(entries.error().message.size(), 200u);
  EXPECT_TRUE(contains(entries.error().message.view(), "...")) << entries.error().what();
  const std::string no_equals(500, 'a');
  const auto missing = parse_axis_costs(no_equals, mesh_of("2"));
  ASSERT_FALSE(missing.ok());
  EXPECT_TRUE(contains(missing.error().message.view(), "has no '='")) << missing.error().what();
}

}  // namespace
}  // namespace shardplan
