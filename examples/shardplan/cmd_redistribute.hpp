#pragma once
// `shardplan redistribute`: the least-cost list of collectives (all_gather, reduce_scatter, all_reduce, all_to_all,
// permute, local slices) that turns a tensor held in one layout into another layout on the same mesh, with each
// step's bytes and modelled time under the alpha-beta cost model (default topology of --devices-per-host, axes
// overridden with --axis-cost). --verify runs the plan on every rank in memory and checks the result.
#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "args.hpp"
#include "command.hpp"
#include "format.hpp"
#include "json.hpp"
#include "layout_flags.hpp"
#include "output.hpp"
#include "shardplan/shardplan.hpp"

namespace shardplan_cli {

namespace redistribute {

inline constexpr FlagSpec kFromFlag{"--from", "PLACEMENTS", "the source placements, one per --mesh axis", true};
inline constexpr FlagSpec kToFlag{"--to", "PLACEMENTS", "the target placements, one per --mesh axis", true};
inline constexpr FlagSpec kDtypeFlag{"--dtype", "D", "element type, for byte counts: bf16 (default), f32, fp8, ..."};
inline constexpr FlagSpec kHostFlag{
    "--devices-per-host", "N",
    "devices per host for the default topology (default 8): axes within a host 0.6 us + 87.7 GB/s, others 2.7 us + "
    "19.294 GB/s"};
inline constexpr FlagSpec kAxisCostFlag{
    "--axis-cost", "LIST",
    "per-axis overrides applied after the default topology: AXIS=ALPHA_US:GBPS,... (AXIS: index or axis name)"};
inline constexpr FlagSpec kVerifyFlag{"--verify", "",
                                      "run the plan on every rank in memory and check every rank's result"};
inline constexpr FlagSpec kJsonFlag{"--json", "", "print one JSON object instead of the listing"};
inline constexpr FlagSpec kFlags[] = {kShapeFlag, kMeshFlag, kFromFlag,     kToFlag,     kDtypeFlag,
                                      kPolicyFlag, kHostFlag, kAxisCostFlag, kVerifyFlag, kJsonFlag};

inline constexpr std::string_view kDefaultDtype = "bf16";

// --verify materialises every rank's local tensor (8-byte integers), each at most the whole tensor.
inline constexpr Index kMaxVerifyElements = Index{1} << 24;

struct Request {
  shardplan::Layout from;
  shardplan::Layout to;
  std::string dtype;
  Index element_size = 0;
  Index devices_per_host = shardplan::kDefaultDevicesPerHost;
  shardplan::CostModel costs;
  bool verify = false;
};

inline Index read_devices_per_host(const ParsedFlags& flags) {
  const auto text = flags.get(kHostFlag.name);
  if (!text) return shardplan::kDefaultDevicesPerHost;
  const Index value = parse_index(*text, kHostFlag.name);
  if (value < 1) throw InputError(kHostFlag.name, "must be >= 1, got " + std::to_string(value));
  return value;
}

/// Validates everything before the plan: flags, the planner's own refusals, the limits.
inline Request read_request(const ParsedFlags& flags) {
  const shardplan::Shape shape = parse_shape(flags.require(kShapeFlag.name), kShapeFlag.name);
  const shardplan::Mesh mesh = parse_mesh(flags.require(kMeshFlag.name), kMeshFlag.name);
  const shardplan::SplitPolicy policy = read_policy(flags);
  shardplan::Layout from = read_side(shape, mesh, kMeshFlag.name, kFromFlag, policy, flags);
  shardplan::Layout to = read_side(shape, mesh, kMeshFlag.name, kToFlag, policy, flags);
  std::string dtype(flags.get(kDtypeFlag.name).value_or(kDefaultDtype));
  const Index element_size = unwrap(shardplan::dtype_size(dtype), kDtypeFlag.name);
  const Index devices_per_host = read_devices_per_host(flags);
  shardplan::CostModel costs = unwrap(shardplan::CostModel::create(mesh, devices_per_host), kHostFlag.name);
  if (const auto text = flags.get(kAxisCostFlag.name)) {
    if (const auto status = shardplan::apply_axis_costs(*text, mesh, costs); !status.ok()) {
      throw library_error(kAxisCostFlag.name, status.error());
    }
  }

  if (const auto status = shardplan::check_redistribution(from, to, costs, element_size); !status.ok()) {
    throw blame_field(status.error(),
                      {kFromFlag.name, kToFlag.name, kShapeFlag.name, kAxisCostFlag.name, kMeshFlag.name},
                      kToFlag.name);
  }
  const bool verify = flags.has(kVerifyFlag.name);
  if (verify) {
    const Index elements = shardplan::checked_product(shape).value();  // check_redistribution bounded it
    const Index world = mesh.world_size();
    const auto total = shardplan::checked_mul(elements, world);
    if (!total.ok() || *total > kMaxVerifyElements) {
      throw InputError(kVerifyFlag.name, "the in-memory run would hold up to " + std::to_string(elements) +
                                             " elements x " + std::to_string(world) + " ranks = " +
                                             (total.ok() ? std::to_string(*total) : std::string("more than int64 can count")) +
                                             " elements, more than 2^24 = " + std::to_string(kMaxVerifyElements) +
                                             "; drop --verify or use a smaller --shape");
    }
  }
  return Request{std::move(from), std::move(to), std::move(dtype), element_size, devices_per_host, costs, verify};
}

struct Outcome {
  Request request;
  shardplan::RedistributionPlan plan;
  bool verified = false;
};

inline Outcome make_plan(const ParsedFlags& flags) {
  Request request = read_request(flags);
  // check_redistribution passed, so the planner answers: the least-cost plan, or the best one it found when its
  // search budget runs out (the plan says so: "optimal").
  auto plan = shardplan::plan_redistribution(request.from, request.to, request.costs, request.element_size);
  if (!plan.ok()) throw std::logic_error("redistribution plan: " + plan.error().what());
  Outcome result{std::move(request), std::move(plan).value(), false};
  if (result.request.verify) {
    if (const auto status = shardplan::prove_plan_in_memory(result.plan); !status.ok()) {
      throw std::logic_error("the plan failed verification (please report): " + status.error().what());
    }
    result.verified = true;
  }
  return result;
}

// ---------------------------------------------------------------------------------------------------------------
// JSON

template <class Range>
void write_numbers(JsonWriter& json, const Range& values) {
  json.begin_array();
  for (const auto value : values) json.number(static_cast<Index>(value));
  json.end_array();
}

inline void write_placements(JsonWriter& json, const shardplan::Placements& placements) {
  json.begin_array();
  for (const shardplan::Placement& placement : placements) json.string(placement.to_string().view());
  json.end_array();
}

inline void write_json(const Outcome& result, Output& out) {
  const Request& request = result.request;
  const shardplan::RedistributionPlan& plan = result.plan;
  const shardplan::Mesh& mesh = request.from.mesh();
  JsonWriter json(out.buffer());
  json.begin_object();
  json.key("shape");
  write_numbers(json, request.from.shape());
  json.key("dtype").string(request.dtype);
  json.key("dtype_bytes").number(request.element_size);
  json.key("policy").string(shardplan::to_string(request.from.policy()));
  json.key("mesh");
  write_numbers(json, mesh.shape());
  if (mesh.has_names()) {
    json.key("mesh_names").begin_array();
    for (const shardplan::AxisName& name : mesh.names()) json.string(name.view());
    json.end_array();
  }
  if (const auto devices = mesh.devices()) json.key("mesh_device_order").string(devices->to_string().view());
  json.key("from");
  write_placements(json, request.from.placements());
  json.key("to");
  write_placements(json, request.to.placements());
  json.key("devices_per_host").number(request.devices_per_host);
  json.key("axis_costs").begin_array();
  for (std::size_t axis = 0; axis < request.costs.ndim(); ++axis) {
    json.begin_object();
    json.key("axis").number(static_cast<Index>(axis));
    json.key("alpha_us").decimal(request.costs.axis(axis).alpha_us);
    json.key("gbps").decimal(request.costs.axis(axis).gbps);
    json.end_object();
  }
  json.end_array();

  json.key("steps").begin_array();
  for (const shardplan::PlanStep& step : plan.steps) {
    json.begin_object();
    json.key("op").string(shardplan::to_string(step.op));
    if (shardplan::has_reduce_op(step.op)) json.key("reduce_op").string(shardplan::to_string(step.reduce_op));
    json.key("mesh_dims");
    write_numbers(json, step.mesh_dims);
    json.key("tensor_dims");
    write_numbers(json, step.tensor_dims);
    json.key("placements_after");
    write_placements(json, step.after.placements());
    json.key("bytes_sent").number(step.bytes_sent);
    json.key("bytes_received").number(step.bytes_received);
    json.key("time_us").decimal(step.time_us);
    json.end_object();
    out.maybe_flush();
  }
  json.end_array();
  json.key("bytes_per_rank").number(plan.bytes_per_rank);
  json.key("lower_bound_bytes").number(plan.lower_bound_bytes);
  json.key("time_us").decimal(plan.time_us);
  json.key("peak_bytes").number(plan.peak_bytes);
  json.key("optimal").boolean(plan.optimal);
  json.key("verified").boolean(result.verified);
  json.end_object();
  out.write("\n");
}

// ---------------------------------------------------------------------------------------------------------------
// Readable output

/// `0.601`: microseconds with three decimals, however long.
inline std::string format_us(double value) { return format_fixed(value, 3); }

/// `[0,1]`; `[]` when empty.
template <class Range>
std::string format_list(const Range& values) {
  std::string text = "[";
  bool first = true;
  for (const auto value : values) {
    if (!first) text += ',';
    first = false;
    text += std::to_string(value);
  }
  text += ']';
  return text;
}

inline std::string axis_label(const shardplan::Mesh& mesh, std::size_t axis) {
  std::string label = "axis " + std::to_string(axis);
  if (mesh.has_names()) {
    label += " (";
    label += mesh.names()[axis].view();
    label += ')';
  }
  return label;
}

inline void write_text(const Outcome& result, Output& out) {
  const Request& request = result.request;
  const shardplan::RedistributionPlan& plan = result.plan;
  const shardplan::Mesh& mesh = request.from.mesh();
  std::string& text = out.buffer();
  text += "redistribute shape " + format_tuple(request.from.shape()) + "  mesh " + mesh.to_string().str() +
          "  dtype " + request.dtype + " (" + std::to_string(request.element_size) +
          (request.element_size == 1 ? " byte" : " bytes") + ")  policy " +
          std::string(shardplan::to_string(request.from.policy())) + "\n";
  text += "from " + shardplan::to_string(request.from.placements()).str() + "\n";
  text += "to   " + shardplan::to_string(request.to.placements()).str() + "\n";
  text += "costs (" + std::to_string(request.devices_per_host) + " devices per host):";
  for (std::size_t axis = 0; axis < request.costs.ndim(); ++axis) {
    const shardplan::AxisCost& cost = request.costs.axis(axis);
    text += axis == 0 ? " " : ", ";
    text += axis_label(mesh, axis);
    text += ' ';
    text += shardplan::decimal_text(cost.alpha_us).view();
    text += " us + ";
    text += shardplan::decimal_text(cost.gbps).view();
    text += " GB/s";
  }
  text += "\n\n";

  if (plan.steps.empty()) {
    text += "no steps: the layouts are the same\n";
  } else {
    TableLayout table({"step", "op", "mesh_dims", "tensor_dims", "reduce", "placements_after", "received", "sent",
                       "time_us"});
    std::vector<std::vector<std::string>> rows;
    for (std::size_t i = 0; i < plan.steps.size(); ++i) {
      const shardplan::PlanStep& step = plan.steps[i];
      rows.push_back({std::to_string(i), std::string(shardplan::to_string(step.op)), format_list(step.mesh_dims),
                      format_list(step.tensor_dims),
                      shardplan::has_reduce_op(step.op) ? std::string(shardplan::to_string(step.reduce_op)) : "-",
                      shardplan::to_string(step.after.placements()).str(), std::to_string(step.bytes_received),
                      std::to_string(step.bytes_sent), format_us(step.time_us)});
      table.measure(rows.back());
    }
    table.append_header(text);
    for (const std::vector<std::string>& row : rows) table.append_row(row, text);
  }
  text += "\ntime " + format_us(plan.time_us) + " us\n";
  text += "bytes per rank " + std::to_string(plan.bytes_per_rank) + " (lower bound " +
          std::to_string(plan.lower_bound_bytes) + ", ratio ";
  if (plan.lower_bound_bytes == 0) {
    text += "n/a";
  } else {
    text += format_fixed(static_cast<double>(plan.bytes_per_rank) / static_cast<double>(plan.lower_bound_bytes), 2);
  }
  text += ")\n";
  text += "peak bytes " + std::to_string(plan.peak_bytes) + "\n";
  if (plan.optimal) {
    text += "optimal: yes (no cheaper plan under the model)\n";
  } else if (!plan.weighed_every_step) {
    text += "optimal: no (the search left out steps whose splitting axes span more than " +
            std::to_string(shardplan::kMaxStepCombinations) +
            " combinations; the best plan it found, not proven the least)\n";
  } else {
    text += "optimal: no (the search ran out of budget; the best plan it found, not proven the least)\n";
  }
  text += result.verified ? "verified: yes (ran in memory on every rank)\n" : "verified: no (use --verify)\n";
}

inline int run(const ParsedFlags& flags, Output& out) {
  const Outcome result = make_plan(flags);
  if (flags.has(kJsonFlag.name)) {
    write_json(result, out);
  } else {
    write_text(result, out);
  }
  return 0;
}

}  // namespace redistribute

inline constexpr Command kRedistributeCommand{
    "redistribute",
    "the collectives that move a tensor from one layout to another on the same mesh, with bytes and time",
    "Plans how a tensor of --shape held as --from on --mesh becomes --to on the same mesh: the least-cost list of\n"
    "steps (all_gather, reduce_scatter, all_reduce, all_to_all, permute, local_slice, local_partition), each on\n"
    "some mesh axes, under the alpha-beta model: a step on a group of k ranks costs hops x alpha + bytes / bandwidth\n"
    "(hops k-1 for all_gather, reduce_scatter and all_to_all, 2(k-1) for all_reduce, 1 for permute). The default\n"
    "topology puts --devices-per-host (default 8) devices per host: walking the axes from the last, an axis whose\n"
    "cumulative size stays within a host gets 0.6 us and 87.7 GB/s, the others 2.7 us and 19.294 GB/s; --axis-cost\n"
    "overrides axes, e.g. 0=2.7:25,tp=0.6:450. --dtype (default bf16) sets the bytes per element. Byte figures are\n"
    "for the busiest rank. --verify runs the plan on every rank in memory (up to 2^24 elements x ranks) and checks\n"
    "that every rank ends with its target data. --json prints one object:\n"
    "  {\"shape\":[..],\"dtype\":..,\"mesh\":[..],\"from\":[..],\"to\":[..],\"axis_costs\":[{\"axis\":0,\"alpha_us\":..,\"gbps\":..}],\n"
    "   \"steps\":[{\"op\":\"all_gather\",\"mesh_dims\":[1],\"tensor_dims\":[0],\"placements_after\":[\"S(0)\",\"R\"],\n"
    "     \"bytes_sent\":..,\"bytes_received\":..,\"time_us\":..},..],\n"
    "   \"bytes_per_rank\":..,\"lower_bound_bytes\":..,\"time_us\":..,\"peak_bytes\":..,\"optimal\":true,\"verified\":true}\n"
    "Reductions and local_partition steps also carry \"reduce_op\". Every request gets a plan: when the search\n"
    "runs out of budget (3 x 2^24 units of work, about a second) the answer is the best plan it found, at worst the\n"
    "constructive one (reduce the Partial axes, gather what must move, slice), with \"optimal\": false.",
    redistribute::kFlags,
    redistribute::run,
};

}  // namespace shardplan_cli
