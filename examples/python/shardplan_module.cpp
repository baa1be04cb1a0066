// The C++ part of the Python module `shardplan` (imported as shardplan._shardplan; shardplan/__init__.py is the
// package). A thin binding, like the command: it converts Python values to the library's types and back, raises
// ValueError with the library's message ("field: message") for every input error, and holds no logic of its own.
// The model, redistribution and resharding calls run the `shardplan` command's own code (commands.hpp) and return
// its JSON text, so their results are the command's, field for field.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstddef>
#include <exception>
#include <new>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../shardplan/commands.hpp"
#include "shardplan/shardplan.hpp"

namespace py = pybind11;

namespace shardplan_python {
namespace {

using shardplan::Index;

/// The most items a result lists (intervals of index_sets, indices of a slices index list, byte ranges of
/// row_major_reads): a Python int costs about
/// 30 bytes and a tuple 60, so 2^22 items are a few hundred MB; past that the call raises instead of exhausting memory.
constexpr Index kMaxListedItems = Index{1} << 22;

[[noreturn]] void raise(const shardplan::Error& error) { throw py::value_error(error.what()); }

template <class T>
T unwrap(shardplan::Result<T> result) {
  if (!result.ok()) raise(result.error());
  return std::move(result).value();
}

[[noreturn]] void bad_value(std::string_view field, const std::string& message) {
  throw py::value_error(std::string(field) + ": " + message);
}

/// "field" or "field[i]", built only for an error message (the per-call path never formats one).
std::string field_name(std::string_view field, std::ptrdiff_t index) {
  std::string name(field);
  if (index >= 0) name += "[" + std::to_string(index) + "]";
  return name;
}

std::string type_name(py::handle value) { return py::str(py::type::of(value).attr("__name__")); }

Index to_index(py::handle value, std::string_view field, std::ptrdiff_t index = -1) {
  if (!PyLong_Check(value.ptr()) || PyBool_Check(value.ptr())) {
    bad_value(field_name(field, index), "expected an int, got " + type_name(value));
  }
  int overflow = 0;
  const long long number = PyLong_AsLongLongAndOverflow(value.ptr(), &overflow);
  if (overflow != 0) bad_value(field_name(field, index), std::string(py::str(value)) + " does not fit in int64");
  return static_cast<Index>(number);
}

/// Calls visit(item, i) for each item of a list or tuple (fast path) or any other sequence; strings are refused.
template <class Visit>
void for_each_item(py::handle values, std::string_view field, std::size_t capacity, const char* what, Visit&& visit) {
  PyObject* object = values.ptr();
  if (PyList_Check(object) || PyTuple_Check(object)) {
    const Py_ssize_t count = PySequence_Fast_GET_SIZE(object);
    if (static_cast<std::size_t>(count) > capacity) {
      bad_value(field, std::to_string(count) + " entries, at most " + std::to_string(capacity));
    }
    PyObject** items = PySequence_Fast_ITEMS(object);
    for (Py_ssize_t i = 0; i < count; ++i) visit(py::handle(items[i]), static_cast<std::ptrdiff_t>(i));
    return;
  }
  if (!PySequence_Check(object) || PyUnicode_Check(object)) {
    bad_value(field, std::string("expected ") + what + ", got " + type_name(values));
  }
  const auto sequence = py::reinterpret_borrow<py::sequence>(values);
  if (sequence.size() > capacity) {
    bad_value(field, std::to_string(sequence.size()) + " entries, at most " + std::to_string(capacity));
  }
  for (std::size_t i = 0; i < sequence.size(); ++i) visit(sequence[i], static_cast<std::ptrdiff_t>(i));
}

/// A sequence of ints (list, tuple, torch.Size, ...) into a fixed-capacity list such as Shape or AxisSizes.
template <class List>
List to_list(py::handle values, std::string_view field, std::size_t capacity) {
  List list;
  for_each_item(values, field, capacity, "a sequence of ints",
                [&](py::handle item, std::ptrdiff_t i) { list.push_back(to_index(item, field, i)); });
  return list;
}

shardplan::Shape to_shape(py::handle values, std::string_view field = "shape") {
  return to_list<shardplan::Shape>(values, field, shardplan::kMaxTensorRank);
}

template <class List>
py::tuple to_tuple(const List& values) {
  py::tuple tuple(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) tuple[i] = py::int_(values[i]);
  return tuple;
}

/// One placement: a string ("S(0)", "_S(0,2)", "R", "P(sum)", "Shard(0)", ...) or an object with PyTorch's
/// placement attributes (torch.distributed.tensor's Shard, _StridedShard, Replicate, Partial).
shardplan::Placement to_placement(py::handle item, std::string_view base, std::ptrdiff_t index) {
  if (PyUnicode_Check(item.ptr())) {
    const auto parsed = shardplan::parse_placements(item.cast<std::string_view>());
    if (!parsed.ok()) bad_value(field_name(base, index), std::string(parsed.error().message.view()));
    if (parsed->size() != 1) {
      bad_value(field_name(base, index), "one placement per entry, got " + std::to_string(parsed->size()));
    }
    return (*parsed)[0];
  }
  const std::string field = field_name(base, index);
  const auto call = [&](const char* method) {
    return py::hasattr(item, method) && py::bool_(item.attr(method)());
  };
  if (py::hasattr(item, "split_factor") && py::hasattr(item, "dim")) {
    return shardplan::Placement::strided_shard(to_index(item.attr("dim"), field + ".dim"),
                                               to_index(item.attr("split_factor"), field + ".split_factor"));
  }
  if (call("is_shard")) return shardplan::Placement::shard(to_index(item.attr("dim"), field + ".dim"));
  if (call("is_replicate")) return shardplan::Placement::replicate();
  if (call("is_partial")) {
    const std::string op = py::hasattr(item, "reduce_op") ? std::string(py::str(item.attr("reduce_op"))) : "sum";
    const auto parsed = shardplan::parse_placements("P(" + op + ")");
    if (!parsed.ok()) bad_value(field + ".reduce_op", "unknown reduce op '" + op + "' (sum, avg, max, min, product)");
    return (*parsed)[0];
  }
  bad_value(field, "not a placement: " + std::string(py::repr(item)) +
                       " (give a string such as \"S(0)\", or a torch.distributed.tensor placement)");
}

/// A placements string ("S(0),_S(0,2),R"), or a sequence of placements (strings or PyTorch placement objects).
shardplan::Placements to_placements(py::handle value, std::string_view field = "placements") {
  if (PyUnicode_Check(value.ptr())) return unwrap(shardplan::parse_placements(value.cast<std::string_view>()));
  shardplan::Placements placements;
  for_each_item(value, field, shardplan::kMaxMeshAxes, "a string or a sequence of placements",
                [&](py::handle item, std::ptrdiff_t i) { placements.push_back(to_placement(item, field, i)); });
  return placements;
}

/// Axis sizes: a sequence of ints, or one int (a 1-axis mesh).
shardplan::AxisSizes to_axis_sizes(py::handle value, std::string_view field) {
  if (PyLong_Check(value.ptr()) && !PyBool_Check(value.ptr())) return shardplan::AxisSizes{to_index(value, field)};
  return to_list<shardplan::AxisSizes>(value, field, shardplan::kMaxMeshAxes);
}

/// A Mesh, a mesh string ("dp=4,tp=8", "4,8"), or axis sizes (to_axis_sizes).
shardplan::Mesh to_mesh(py::handle value, std::string_view field = "mesh") {
  if (py::isinstance<shardplan::Mesh>(value)) return value.cast<shardplan::Mesh>();
  if (PyUnicode_Check(value.ptr())) return unwrap(shardplan::parse_mesh(value.cast<std::string>()));
  return unwrap(shardplan::Mesh::create(to_axis_sizes(value, field)));
}

/// The layout of one compute_local_shape_and_global_offset call. Loaders ask for every rank of one tensor in a row,
/// so the last layout built from a placements string is kept and reused while shape, mesh and string repeat: a
/// memo of the library's result, not a rule of its own.
const shardplan::Layout& layout_of(py::handle shape, py::handle mesh, py::handle placements) {
  struct Memo {
    bool valid = false;
    shardplan::Shape shape;
    shardplan::AxisSizes mesh;
    std::string placements;
    shardplan::Layout layout;
  };
  static Memo memo;
  static shardplan::Layout scratch;  // the layout of a call that is not memoized, returned the same way
  const shardplan::Shape global = to_shape(shape, "global_shape");
  const bool memoizable = PyUnicode_Check(placements.ptr()) && !py::isinstance<shardplan::Mesh>(mesh) &&
                          !PyUnicode_Check(mesh.ptr());
  if (!memoizable) {
    scratch = unwrap(shardplan::Layout::create(global, to_mesh(mesh, "mesh_shape"), to_placements(placements)));
    return scratch;
  }
  const auto text = placements.cast<std::string_view>();
  const shardplan::AxisSizes sizes = to_axis_sizes(mesh, "mesh_shape");
  if (memo.valid && memo.shape == global && memo.mesh == sizes && memo.placements == text) return memo.layout;
  memo.valid = false;
  memo.layout = unwrap(shardplan::Layout::create(global, unwrap(shardplan::Mesh::create(sizes)),
                                                 unwrap(shardplan::parse_placements(text))));
  memo.shape = global;
  memo.mesh = sizes;
  memo.placements = text;
  memo.valid = true;
  return memo.layout;
}

shardplan::SplitPolicy to_policy(const std::string& policy) { return unwrap(shardplan::parse_split_policy(policy)); }

py::tuple local_box_tuple(const shardplan::LocalBox& box) {
  return py::make_tuple(to_tuple(box.local_shape), to_tuple(box.global_offset));
}

/// Per dim, the intervals [begin, end) as tuples.
py::list sets_list(const shardplan::Box& box) {
  Index intervals = 0;
  for (const shardplan::IntervalSet& set : box) intervals += static_cast<Index>(set.intervals().size());
  if (intervals > kMaxListedItems) {
    bad_value("index_sets", "the rank's sets hold " + std::to_string(intervals) + " intervals, past the limit of " +
                                std::to_string(kMaxListedItems) + " for a Python list");
  }
  py::list dims;
  for (const shardplan::IntervalSet& set : box) {
    py::list intervals;
    for (const shardplan::Interval& interval : set.intervals()) intervals.append(py::make_tuple(interval.begin, interval.end));
    dims.append(intervals);
  }
  return dims;
}

/// Per dim, what indexes the rank's part of a full tensor: a slice when its set is one interval (or empty), else
/// the list of indices (numpy and torch both take it as an index array).
py::tuple slices_tuple(const shardplan::Box& box) {
  py::tuple out(box.ndim());
  for (std::size_t d = 0; d < box.ndim(); ++d) {
    const shardplan::IntervalSet& set = box[d];
    if (set.is_contiguous()) {
      const Index begin = set.empty() ? 0 : set.front();
      out[d] = py::slice(py::int_(begin), py::int_(begin + set.size()), py::none());
    } else {
      // An index list costs a Python int per index: past kMaxListedItems the caller wants index_sets.
      if (set.size() > kMaxListedItems) {
        bad_value("slices", "dim " + std::to_string(d) + " holds " + std::to_string(set.size()) + " indices in " +
                                std::to_string(set.intervals().size()) + " intervals, past the limit of " +
                                std::to_string(kMaxListedItems) + " indices for an index list (use index_sets)");
      }
      py::list indices;
      for (const shardplan::Interval& interval : set.intervals()) {
        for (Index i = interval.begin; i < interval.end; ++i) indices.append(i);
      }
      out[d] = indices;
    }
  }
  return out;
}

/// `shardplan <args...> --json` run in-process: the command's JSON text, or ValueError with its message.
std::string run_command(const std::vector<std::string>& args) {
  if (args.empty()) throw py::value_error("command: missing");
  const shardplan_cli::Command* command = shardplan_cli::find_command(args[0]);
  if (command == nullptr) throw py::value_error("command: unknown '" + args[0] + "'");
  std::vector<std::string_view> flags(args.begin() + 1, args.end());
  std::string text;
  shardplan_cli::Output out(&text);
  try {
    (void)shardplan_cli::run_command(*command, flags, out);
    out.flush();
  } catch (const shardplan_cli::InputError& error) {
    throw py::value_error(error.what());
  }
  return text;
}

}  // namespace
}  // namespace shardplan_python

PYBIND11_MODULE(_shardplan, m) {
  using namespace shardplan_python;
  using shardplan::Layout;
  using shardplan::Mesh;
  m.doc() = "shardplan: exact sharding math for distributed tensors (the C++ library's binding).";
  m.attr("__version__") = shardplan::kVersion;

  m.def(
      "compute_local_shape_and_global_offset",
      [](py::handle global_shape, py::handle mesh_shape, py::handle coordinate, py::handle placements) {
        const Layout& layout = layout_of(global_shape, mesh_shape, placements);
        const auto coord = to_list<shardplan::Coord>(coordinate, "coordinate", shardplan::kMaxMeshAxes);
        const Index rank = unwrap(layout.mesh().rank(coord));
        return local_box_tuple(unwrap(layout.local_box(rank)));
      },
      py::arg("global_shape"), py::arg("mesh_shape"), py::arg("coordinate"), py::arg("placements"),
      "PyTorch's compute_local_shape_and_global_offset: (local_shape, global_offset) of the rank at `coordinate`.\n\n"
      "An empty shard reports the dim size as its offset, as PyTorch does. `placements` is a string such as\n"
      "\"S(0),_S(0,2)\", or a sequence of strings or torch.distributed.tensor placements.");

  py::class_<Mesh>(m, "Mesh", "An N-d grid of ranks (row-major: the last axis varies fastest).")
      .def(py::init([](py::handle shape, py::object names) {
             if (PyUnicode_Check(shape.ptr())) {
               if (!names.is_none()) bad_value("names", "give the names in the mesh string (\"dp=4,tp=8\") or here");
               return unwrap(shardplan::parse_mesh(shape.cast<std::string>()));
             }
             shardplan::AxisNames axis_names;
             if (!names.is_none()) {
               for_each_item(names, "mesh.names", shardplan::kMaxMeshAxes, "a sequence of axis names",
                             [&](py::handle name, std::ptrdiff_t i) {
                               if (!PyUnicode_Check(name.ptr())) {
                                 bad_value(field_name("mesh.names", i), "expected a str, got " + type_name(name));
                               }
                               const auto text = name.cast<std::string_view>();
                               // The library's limit for an axis name (parse_mesh's too).
                               if (text.size() > 23) {
                                 bad_value(field_name("mesh.names", i), "longer than 23 characters");
                               }
                               axis_names.push_back(shardplan::AxisName(text));
                             });
             }
             return unwrap(Mesh::create(to_list<shardplan::AxisSizes>(shape, "shape", shardplan::kMaxMeshAxes),
                                        axis_names));
           }),
           py::arg("shape"), py::arg("names") = py::none(),
           "Mesh((4, 8)), Mesh((4, 8), names=(\"dp\", \"tp\")) or Mesh(\"dp=4,tp=8\").")
      .def_property_readonly("shape", [](const Mesh& mesh) { return to_tuple(mesh.shape()); })
      .def_property_readonly("names",
                             [](const Mesh& mesh) {
                               py::tuple names(mesh.names().size());
                               for (std::size_t i = 0; i < mesh.names().size(); ++i) {
                                 names[i] = py::str(std::string(mesh.names()[i].view()));
                               }
                               return names;
                             })
      .def_property_readonly("world_size", &Mesh::world_size)
      .def("coordinate", [](const Mesh& mesh, Index rank) { return to_tuple(unwrap(mesh.coordinate(rank))); },
           py::arg("rank"), "The coordinate of a rank.")
      .def("rank",
           [](const Mesh& mesh, py::handle coordinate) {
             return unwrap(mesh.rank(to_list<shardplan::Coord>(coordinate, "coordinate", shardplan::kMaxMeshAxes)));
           },
           py::arg("coordinate"), "The rank at a coordinate.")
      .def("__repr__", [](const Mesh& mesh) { return "Mesh(" + std::string(mesh.to_string().view()) + ")"; })
      .def("__str__", [](const Mesh& mesh) { return std::string(mesh.to_string().view()); })
      .def("__eq__", [](const Mesh& a, const Mesh& b) { return a == b; });

  py::class_<Layout>(m, "Layout",
                     "A tensor's layout: global shape, mesh, one placement per mesh axis, split policy.\n\n"
                     "Policies: \"chunk\" (torch.chunk, DTensor), \"balanced\" (n/k + (i < n%k)), \"even\" (exact).")
      .def(py::init([](py::handle shape, py::handle mesh, py::handle placements, const std::string& policy) {
             return unwrap(Layout::create(to_shape(shape), to_mesh(mesh), to_placements(placements), to_policy(policy)));
           }),
           py::arg("shape"), py::arg("mesh"), py::arg("placements"), py::arg("policy") = "chunk")
      .def_property_readonly("shape", [](const Layout& layout) { return to_tuple(layout.shape()); })
      .def_property_readonly("mesh", &Layout::mesh)
      .def_property_readonly("placements",
                             [](const Layout& layout) {
                               return std::string(shardplan::to_string(layout.placements()).view());
                             })
      .def("local_box", [](const Layout& layout, Index rank) { return local_box_tuple(unwrap(layout.local_box(rank))); },
           py::arg("rank"), "(local_shape, global_offset) of a rank, in PyTorch's convention.")
      .def("local_shape", [](const Layout& layout, Index rank) { return to_tuple(unwrap(layout.local_shape(rank))); },
           py::arg("rank"))
      .def("global_offset",
           [](const Layout& layout, Index rank) { return to_tuple(unwrap(layout.global_offset(rank))); },
           py::arg("rank"))
      .def("index_sets", [](const Layout& layout, Index rank) { return sets_list(unwrap(layout.index_sets(rank))); },
           py::arg("rank"), "Per dim, the rank's indices as [begin, end) intervals, in increasing order.")
      .def("slices", [](const Layout& layout, Index rank) { return slices_tuple(unwrap(layout.index_sets(rank))); },
           py::arg("rank"),
           "Per dim, a slice (one interval) or a list of indices (an _S dim). Index one dim at a time,\n"
           "x[s0][:, s1]..., as two index lists in one subscript would pair up (see docs/python.md).")
      .def("__repr__", [](const Layout& layout) { return "Layout(" + shardplan::to_string(layout).str() + ")"; })
      .def("__eq__", [](const Layout& a, const Layout& b) { return a == b; });

  m.def(
      "row_major_reads",
      [](py::handle shape, py::handle index_sets, Index element_size, Index file_offset, Index max_gap) {
        const shardplan::Shape global = to_shape(shape);
        shardplan::Box region;
        if (!PySequence_Check(index_sets.ptr())) bad_value("region", "expected one list of (begin, end) per dim");
        for (py::handle dim : index_sets) {
          std::vector<shardplan::Interval> intervals;
          for (py::handle pair : dim) {
            const auto tuple = py::reinterpret_borrow<py::sequence>(pair);
            if (tuple.size() != 2) bad_value("region", "each interval is (begin, end)");
            intervals.push_back({to_index(tuple[0], "region"), to_index(tuple[1], "region")});
          }
          if (region.ndim() == shardplan::kMaxTensorRank) bad_value("region", "more dims than a tensor has");
          region.push_back(shardplan::IntervalSet::from_intervals(std::move(intervals)));
        }
        const shardplan::ReadPlan plan =
            unwrap(shardplan::row_major_reads(global, region, element_size, file_offset, max_gap, kMaxListedItems));
        py::list reads;
        for (const shardplan::FileRead& read : plan.reads) reads.append(py::make_tuple(read.file_offset, read.length));
        py::list segments;
        for (const shardplan::ByteSegment& segment : plan.segments) {
          segments.append(py::make_tuple(segment.file_offset, segment.length, segment.dst_offset));
        }
        py::dict out;
        out["reads"] = reads;
        out["segments"] = segments;
        out["bytes_needed"] = plan.bytes_needed;
        out["bytes_read"] = plan.bytes_read;
        return out;
      },
      py::arg("shape"), py::arg("index_sets"), py::arg("element_size"), py::arg("file_offset") = 0,
      py::arg("max_gap") = 0,
      "The byte ranges of a row-major tensor (from `file_offset`) that hold a region (Layout.index_sets(rank)):\n"
      "{\"reads\": [(file_offset, length)], \"segments\": [(file_offset, length, buffer_offset)], ...}.");

  m.def(
      "placements_text",
      [](py::handle placements) { return std::string(shardplan::to_string(to_placements(placements)).view()); },
      py::arg("placements"),
      "The library's text of placements given in any accepted form: [Shard(0), Replicate()] -> \"S(0),R\".");

  m.def("_run_command", &run_command, py::arg("args"),
        "Runs `shardplan <args>` in-process and returns its standard output (the package's functions pass --json).");
}
