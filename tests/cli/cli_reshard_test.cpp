// End-to-end tests of `shardplan reshard`: the transfer pieces every destination rank needs and its row-major reads.
// Note: the test JSON parser reads integers only, so outputs whose read_amplification is fractional are compared
// byte for byte instead of parsed.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "../support/cli_runner.hpp"

namespace {

using namespace shardplan_cli_test;
using Ints = std::vector<std::int64_t>;

std::vector<std::string> with(std::vector<std::string> args, const std::vector<std::string>& more) {
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

std::vector<std::string> strings(const Json& array) {
  std::vector<std::string> values;
  for (const Json& item : array.array) values.push_back(item.string);
  return values;
}

struct Piece {
  std::int64_t src_rank;
  Ints src_offset;
  Ints dst_offset;
  Ints lengths;
};

void expect_pieces(const Json& rank, const std::vector<Piece>& expected) {
  const Json& pieces = rank["pieces"];
  ASSERT_EQ(pieces.array.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    SCOPED_TRACE("piece " + std::to_string(i));
    const Json& piece = pieces[i];
    EXPECT_EQ(piece["src_rank"].number, expected[i].src_rank);
    EXPECT_EQ(piece["src_offset"].ints(), expected[i].src_offset);
    EXPECT_EQ(piece["dst_offset"].ints(), expected[i].dst_offset);
    EXPECT_EQ(piece["lengths"].ints(), expected[i].lengths);
    std::int64_t count = 1;
    for (const std::int64_t length : expected[i].lengths) count *= length;
    EXPECT_EQ(piece["count"].number, count);
  }
}

const std::vector<std::string> kAcceptance = {"reshard", "--shape",   "4096,4096", "--from-mesh", "8",
                                              "--from",  "S(0)",      "--to-mesh", "2,2",         "--to",
                                              "S(0),S(1)", "--dtype", "bf16"};

// ---------------------------------------------------------------------------------------------------------------
// Transfer pieces

TEST_F(Cli, ReshardAcceptanceExample) {
  const Json json = run_json(kAcceptance);
  EXPECT_EQ(json["shape"].ints(), (Ints{4096, 4096}));
  EXPECT_EQ(json["dtype"].string, "bf16");
  EXPECT_EQ(json["dtype_bytes"].number, 2);
  EXPECT_EQ(json["from_mesh"].ints(), (Ints{8}));
  EXPECT_EQ(json["to_mesh"].ints(), (Ints{2, 2}));
  EXPECT_EQ(strings(json["from"]), (std::vector<std::string>{"S(0)"}));
  EXPECT_EQ(strings(json["to"]), (std::vector<std::string>{"S(0)", "S(1)"}));
  EXPECT_EQ(json["elements_moved"].number, 4096 * 4096);
  EXPECT_EQ(json["piece_count"].number, 16);
  // Every source rank sends its 512 x 4096 rows (two halves to two destinations): ties go to the first.
  EXPECT_EQ(json["busiest_source"]["rank"].number, 0);
  EXPECT_EQ(json["busiest_source"]["bytes"].number, 512 * 4096 * 2);

  const Json& ranks = json["ranks"];
  ASSERT_EQ(ranks.array.size(), 4u);
  for (std::int64_t r = 0; r < 4; ++r) {
    SCOPED_TRACE("rank " + std::to_string(r));
    const Json& rank = ranks[static_cast<std::size_t>(r)];
    const std::int64_t row = r / 2;  // rows [2048 row, 2048 row + 2048)
    const std::int64_t col = r % 2;  // cols [2048 col, 2048 col + 2048)
    EXPECT_EQ(rank["rank"].number, r);
    EXPECT_EQ(rank["coord"].ints(), (Ints{row, col}));
    EXPECT_EQ(rank["local_shape"].ints(), (Ints{2048, 2048}));
    EXPECT_EQ(rank["bytes_needed"].number, 8388608);
    EXPECT_EQ(rank["bytes_read"].number, 8388608);
    std::vector<Piece> expected;
    for (std::int64_t i = 0; i < 4; ++i) {
      expected.push_back({4 * row + i, {0, 2048 * col}, {512 * i, 0}, {512, 2048}});
    }
    expect_pieces(rank, expected);
    std::int64_t counted = 0;
    for (const Json& piece : rank["pieces"].array) counted += piece["count"].number;
    EXPECT_EQ(counted, 2048 * 2048);
    // One read per local row: 4096 bytes from the row-major file.
    const Json& reads = rank["reads"];
    ASSERT_EQ(reads.array.size(), 2048u);
    for (std::int64_t i = 0; i < 2048; ++i) {
      const Json& read = reads[static_cast<std::size_t>(i)];
      const std::int64_t global_row = 2048 * row + i;
      ASSERT_EQ(read["file_offset"].number, 8192 * global_row + 4096 * col) << "read " << i;
      ASSERT_EQ(read["length"].number, 4096) << "read " << i;
      ASSERT_EQ(read["dst_offset"].number, 4096 * i) << "read " << i;
      ASSERT_FALSE(read.has("segments")) << "read " << i;
    }
  }
  // Rank 1 as the issue states it.
  EXPECT_EQ(ranks[1]["reads"][0]["file_offset"].number, 4096);
  EXPECT_EQ(ranks[1]["reads"][2047]["file_offset"].number, 8192 * 2047 + 4096);
  EXPECT_EQ(json["bytes_needed"].number, 4 * 8388608);
  EXPECT_EQ(json["bytes_read"].number, 4 * 8388608);
  EXPECT_EQ(json["read_amplification"].number, 1);
}

TEST_F(Cli, ReshardTpToTpTimesDp) {
  const Json json =
      run_json({"reshard", "--shape", "16,4", "--from-mesh", "8", "--from", "S(0)", "--to-mesh", "2,4", "--to", "R,S(0)"});
  const Json& ranks = json["ranks"];
  ASSERT_EQ(ranks.array.size(), 8u);
  for (std::int64_t r = 0; r < 8; ++r) {
    SCOPED_TRACE("rank " + std::to_string(r));
    const std::int64_t tp = r % 4;  // rows [4 tp, 4 tp + 4), whatever the dp row: dp=1 gets the same pieces
    EXPECT_EQ(ranks[static_cast<std::size_t>(r)]["local_shape"].ints(), (Ints{4, 4}));
    expect_pieces(ranks[static_cast<std::size_t>(r)],
                  {{2 * tp, {0, 0}, {0, 0}, {2, 4}}, {2 * tp + 1, {0, 0}, {2, 0}, {2, 4}}});
  }
  EXPECT_EQ(json["elements_moved"].number, 8 * 16);
  EXPECT_EQ(json["piece_count"].number, 16);
  EXPECT_EQ(json["busiest_source"]["rank"].number, 0);
  EXPECT_EQ(json["busiest_source"]["bytes"].number, 2 * 8 * 2);  // two destinations x 8 elements x bf16
}

TEST_F(Cli, ReshardStridedFsdpTpToPlainTp) {
  // Source rank (0,0) holds rows [0,4), (0,1) [8,12), (1,0) [4,8), (1,1) [12,16).
  const Json json = run_json({"reshard", "--shape", "16,2", "--from-mesh", "2,2", "--from", "_S(0,2),S(0)",
                              "--to-mesh", "4", "--to", "S(0)"});
  EXPECT_EQ(strings(json["from"]), (std::vector<std::string>{"_S(0,2)", "S(0)"}));
  const Json& ranks = json["ranks"];
  ASSERT_EQ(ranks.array.size(), 4u);
  const Ints sources = {0, 2, 1, 3};
  for (std::size_t r = 0; r < 4; ++r) {
    SCOPED_TRACE("rank " + std::to_string(r));
    expect_pieces(ranks[r], {{sources[r], {0, 0}, {0, 0}, {4, 2}}});
    EXPECT_EQ(ranks[r]["reads"].array.size(), 1u);
    EXPECT_EQ(ranks[r]["reads"][0]["file_offset"].number, static_cast<std::int64_t>(r) * 16);
    EXPECT_EQ(ranks[r]["reads"][0]["length"].number, 16);
  }
}

TEST_F(Cli, ReshardToStridedDestination) {
  // _S(0,2) over 4 ranks: rank r holds {r, r + 4}, one element from each source half.
  const Json json =
      run_json({"reshard", "--shape", "8", "--from-mesh", "2", "--from", "S(0)", "--to-mesh", "4", "--to", "_S(0,2)"});
  const Json& ranks = json["ranks"];
  ASSERT_EQ(ranks.array.size(), 4u);
  for (std::int64_t r = 0; r < 4; ++r) {
    SCOPED_TRACE("rank " + std::to_string(r));
    const Json& rank = ranks[static_cast<std::size_t>(r)];
    EXPECT_EQ(rank["local_shape"].ints(), (Ints{2}));
    expect_pieces(rank, {{0, {r}, {0}, {1}}, {1, {r}, {1}, {1}}});
    // Two reads of one bf16 element each, 8 bytes apart in the file, adjacent in the buffer.
    const Json& reads = rank["reads"];
    ASSERT_EQ(reads.array.size(), 2u);
    EXPECT_EQ(reads[0]["file_offset"].number, 2 * r);
    EXPECT_EQ(reads[1]["file_offset"].number, 2 * r + 8);
    EXPECT_EQ(reads[0]["length"].number, 2);
    EXPECT_EQ(reads[1]["length"].number, 2);
    EXPECT_EQ(reads[0]["dst_offset"].number, 0);
    EXPECT_EQ(reads[1]["dst_offset"].number, 2);
  }
}

TEST_F(Cli, ReshardReplicatedSourcesCopyLocallyThenSpread) {
  // Source ranks 0 and 2 hold the first half, 1 and 3 the second. Destination rank 0 and 3 hold a copy of their
  // quarter themselves; 1 and 2 are served by the replica that has sent the least so far.
  const Json json =
      run_json({"reshard", "--shape", "8", "--from-mesh", "2,2", "--from", "R,S(0)", "--to-mesh", "4", "--to", "S(0)"});
  const Json& ranks = json["ranks"];
  ASSERT_EQ(ranks.array.size(), 4u);
  expect_pieces(ranks[0], {{0, {0}, {0}, {2}}});
  expect_pieces(ranks[1], {{2, {2}, {0}, {2}}});
  expect_pieces(ranks[2], {{1, {0}, {0}, {2}}});
  expect_pieces(ranks[3], {{3, {2}, {0}, {2}}});
}

TEST_F(Cli, ReshardScalarAndEmpty) {
  const Json scalar = run_json({"reshard", "--shape", "", "--from-mesh", "2", "--from", "R", "--to-mesh", "3", "--to", "R"});
  ASSERT_EQ(scalar["ranks"].array.size(), 3u);
  expect_pieces(scalar["ranks"][0], {{0, {}, {}, {}}});
  expect_pieces(scalar["ranks"][1], {{1, {}, {}, {}}});
  expect_pieces(scalar["ranks"][2], {{0, {}, {}, {}}});
  EXPECT_EQ(scalar["ranks"][2]["reads"][0]["length"].number, 2);
  EXPECT_EQ(scalar["bytes_needed"].number, 6);

  const Json empty =
      run_json({"reshard", "--shape", "0,4", "--from-mesh", "2", "--from", "S(0)", "--to-mesh", "2", "--to", "S(1)"});
  EXPECT_TRUE(empty["ranks"][1]["pieces"].array.empty());
  EXPECT_TRUE(empty["ranks"][1]["reads"].array.empty());
  EXPECT_EQ(empty["elements_moved"].number, 0);
  EXPECT_EQ(empty["read_amplification"].number, 1);
}

TEST_F(Cli, ReshardNamedMeshAndDeviceOrder) {
  const Json json = run_json({"reshard", "--shape", "8,8", "--from-mesh", "dp=2,tp=2", "--from", "S(0),S(1)",
                              "--to-mesh", "2,2 <=[2,2]T(1,0)", "--to", "S(0),S(1)", "--rank", "1"});
  EXPECT_EQ(strings(json["from_mesh_names"]), (std::vector<std::string>{"dp", "tp"}));
  EXPECT_EQ(json["to_mesh_device_order"].string, "[2,2]T(1,0)");
  ASSERT_EQ(json["ranks"].array.size(), 1u);
  // Destination rank 1 sits at (1,0): rows [4,8), cols [0,4), which source rank 2 holds.
  EXPECT_EQ(json["ranks"][0]["coord"].ints(), (Ints{1, 0}));
  expect_pieces(json["ranks"][0], {{2, {0, 0}, {0, 0}, {4, 4}}});
}

// ---------------------------------------------------------------------------------------------------------------
// Reads: --file-offset, --max-gap, --dtype

const std::vector<std::string> kColumns = {"reshard", "--shape",   "4,4", "--from-mesh", "2",     "--from", "S(0)",
                                           "--to-mesh", "2",       "--to", "S(1)",      "--dtype", "f32"};

TEST_F(Cli, ReshardBridgedReadsExact) {
  // Each rank needs 8 bytes of every 16-byte row; the 8-byte gaps are bridged: one read of 56 bytes for 32 needed.
  EXPECT_EQ(
      run_ok(with(kColumns, {"--file-offset", "100", "--max-gap", "8", "--json"})),
      R"j({"shape":[4,4],"dtype":"f32","dtype_bytes":4,"policy":"chunk","from_mesh":[2],"from":["S(0)"],)j"
      R"j("to_mesh":[2],"to":["S(1)"],"file_offset":100,"max_gap":8,"elements_moved":16,"piece_count":4,)j"
      R"j("busiest_source":{"rank":0,"elements":8,"bytes":32},"ranks":[)j"
      R"j({"rank":0,"coord":[0],"local_shape":[4,2],"bytes_needed":32,"bytes_read":56,"pieces":[)j"
      R"j({"src_rank":0,"src_offset":[0,0],"dst_offset":[0,0],"lengths":[2,2],"count":4},)j"
      R"j({"src_rank":1,"src_offset":[0,0],"dst_offset":[2,0],"lengths":[2,2],"count":4}],)j"
      R"j("reads":[{"file_offset":100,"length":56,"dst_offset":0,"segments":[)j"
      R"j({"file_offset":100,"length":8,"dst_offset":0},{"file_offset":116,"length":8,"dst_offset":8},)j"
      R"j({"file_offset":132,"length":8,"dst_offset":16},{"file_offset":148,"length":8,"dst_offset":24}]}]},)j"
      R"j({"rank":1,"coord":[1],"local_shape":[4,2],"bytes_needed":32,"bytes_read":56,"pieces":[)j"
      R"j({"src_rank":0,"src_offset":[0,2],"dst_offset":[0,0],"lengths":[2,2],"count":4},)j"
      R"j({"src_rank":1,"src_offset":[0,2],"dst_offset":[2,0],"lengths":[2,2],"count":4}],)j"
      R"j("reads":[{"file_offset":108,"length":56,"dst_offset":0,"segments":[)j"
      R"j({"file_offset":108,"length":8,"dst_offset":0},{"file_offset":124,"length":8,"dst_offset":8},)j"
      R"j({"file_offset":140,"length":8,"dst_offset":16},{"file_offset":156,"length":8,"dst_offset":24}]}]}],)j"
      R"j("bytes_needed":64,"bytes_read":112,"read_amplification":1.75})j"
      "\n");
}

TEST_F(Cli, ReshardGapsLargerThanMaxGapStayApart) {
  const Json json = run_json(with(kColumns, {"--file-offset", "100", "--max-gap", "7", "--rank", "1"}));
  ASSERT_EQ(json["ranks"].array.size(), 1u);
  const Json& reads = json["ranks"][0]["reads"];
  ASSERT_EQ(reads.array.size(), 4u);
  for (std::int64_t i = 0; i < 4; ++i) {
    const Json& read = reads[static_cast<std::size_t>(i)];
    EXPECT_EQ(read["file_offset"].number, 108 + 16 * i);
    EXPECT_EQ(read["length"].number, 8);
    EXPECT_EQ(read["dst_offset"].number, 8 * i);
    EXPECT_FALSE(read.has("segments"));
  }
  EXPECT_EQ(json["bytes_needed"].number, 32);
  EXPECT_EQ(json["bytes_read"].number, 32);
  EXPECT_EQ(json["read_amplification"].number, 1);
}

TEST_F(Cli, ReshardStridedDestinationBridged) {
  // Rank 2 holds elements {2, 6}: bridging the 6-byte gap reads 10 bytes for 4 (amplification 2.5 overall).
  const std::string out = run_ok({"reshard", "--shape", "8", "--from-mesh", "2", "--from", "S(0)", "--to-mesh", "4",
                                  "--to", "_S(0,2)", "--max-gap", "6", "--json"});
  EXPECT_NE(out.find(R"j("reads":[{"file_offset":4,"length":10,"dst_offset":0,"segments":[)j"
                     R"j({"file_offset":4,"length":2,"dst_offset":0},{"file_offset":12,"length":2,"dst_offset":2}]}]})j"),
            std::string::npos)
      << out;
  EXPECT_TRUE(out.ends_with(R"j("bytes_needed":16,"bytes_read":40,"read_amplification":2.5})j"
                            "\n"))
      << out;
}

TEST_F(Cli, ReshardDtypeSetsBytes) {
  const std::vector<std::string> args = {"reshard", "--shape", "16,4", "--from-mesh", "4", "--from", "S(1)",
                                         "--to-mesh", "2", "--to", "S(0)", "--rank", "1"};
  // Rank 1 holds rows [8,16): one contiguous read of 8 x 4 elements.
  const Json f32 = run_json(with(args, {"--dtype", "float32"}));
  EXPECT_EQ(f32["dtype"].string, "float32");
  EXPECT_EQ(f32["dtype_bytes"].number, 4);
  EXPECT_EQ(f32["ranks"][0]["reads"][0]["file_offset"].number, 8 * 4 * 4);
  EXPECT_EQ(f32["ranks"][0]["reads"][0]["length"].number, 8 * 4 * 4);
  EXPECT_EQ(f32["bytes_needed"].number, 8 * 4 * 4);
  EXPECT_EQ(f32["busiest_source"]["bytes"].number, 16 * 4);  // each source rank sends one column of 16
  expect_pieces(f32["ranks"][0], {{0, {8, 0}, {0, 0}, {8, 1}},
                                  {1, {8, 0}, {0, 1}, {8, 1}},
                                  {2, {8, 0}, {0, 2}, {8, 1}},
                                  {3, {8, 0}, {0, 3}, {8, 1}}});
  // The default is bf16.
  const Json bf16 = run_json(args);
  EXPECT_EQ(bf16["dtype"].string, "bf16");
  EXPECT_EQ(bf16["bytes_needed"].number, 8 * 4 * 2);
  EXPECT_EQ(run_json(with(args, {"--dtype", "fp8"}))["bytes_needed"].number, 8 * 4);
}

// ---------------------------------------------------------------------------------------------------------------
// --rank and readable output

TEST_F(Cli, ReshardRankListsOneDestination) {
  const Json all = run_json(kAcceptance);
  const Json one = run_json(with(kAcceptance, {"--rank", "2"}));
  ASSERT_EQ(one["ranks"].array.size(), 1u);
  EXPECT_EQ(one["ranks"][0]["rank"].number, 2);
  EXPECT_EQ(one["ranks"][0]["coord"].ints(), (Ints{1, 0}));
  expect_pieces(one["ranks"][0], {{4, {0, 0}, {0, 0}, {512, 2048}},
                                  {5, {0, 0}, {512, 0}, {512, 2048}},
                                  {6, {0, 0}, {1024, 0}, {512, 2048}},
                                  {7, {0, 0}, {1536, 0}, {512, 2048}}});
  EXPECT_EQ(one["ranks"][0]["reads"].array.size(), all["ranks"][2]["reads"].array.size());
  // Top-level byte totals cover the listed ranks; the map's totals cover every rank.
  EXPECT_EQ(one["bytes_needed"].number, 8388608);
  EXPECT_EQ(one["bytes_read"].number, 8388608);
  EXPECT_EQ(one["elements_moved"].number, all["elements_moved"].number);
  EXPECT_EQ(one["busiest_source"]["bytes"].number, all["busiest_source"]["bytes"].number);
}

TEST_F(Cli, ReshardReadable) {
  const std::string out = run_ok(kAcceptance);
  EXPECT_TRUE(out.starts_with("reshard shape (4096,4096)  dtype bf16 (2 bytes)  policy chunk\n"
                              "from mesh (8)  placements S(0)\n"
                              "to   mesh (2,2)  placements S(0),S(1)\n"
                              "16777216 elements moved in 16 pieces; busiest source: rank 0 sends 2097152 elements "
                              "(4194304 bytes)\n"
                              "reads from a row-major file at offset 0, max gap 0 bytes\n"))
      << out;
  EXPECT_NE(out.find("\nrank 1 (0,1): local shape (2048,2048), 8388608 bytes, 4 pieces\n"
                     "  from rank 0: src [0:512, 2048:4096] -> dst [0:512, 0:2048], 1048576 elements\n"
                     "  from rank 1: src [0:512, 2048:4096] -> dst [512:1024, 0:2048], 1048576 elements (local copy)\n"
                     "  from rank 2: src [0:512, 2048:4096] -> dst [1024:1536, 0:2048], 1048576 elements\n"
                     "  from rank 3: src [0:512, 2048:4096] -> dst [1536:2048, 0:2048], 1048576 elements\n"
                     "  reads: 2048 reads of 2048 byte ranges, 8388608 bytes read, amplification 1.00\n"),
            std::string::npos)
      << out;
  EXPECT_TRUE(out.ends_with("\ntotal reads: 8192 reads, 33554432 bytes read for 33554432 bytes needed, "
                            "amplification 1.00\n"))
      << out;

  const std::string bridged = run_ok(with(kColumns, {"--file-offset", "100", "--max-gap", "8", "--rank", "1"}));
  EXPECT_NE(bridged.find("\nrank 1 (1): local shape (4,2), 32 bytes, 2 pieces\n"
                         "  from rank 0: src [0:2, 2:4] -> dst [0:2, 0:2], 4 elements\n"
                         "  from rank 1: src [0:2, 2:4] -> dst [2:4, 0:2], 4 elements (local copy)\n"
                         "  reads: 1 read of 4 byte ranges, 56 bytes read, amplification 1.75\n"),
            std::string::npos)
      << bridged;
  EXPECT_EQ(bridged.find("\nrank 0 "), std::string::npos) << bridged;
  EXPECT_NE(bridged.find("reads from a row-major file at offset 100, max gap 8 bytes\n"), std::string::npos) << bridged;
}

TEST_F(Cli, ReshardReadableCapsLongPieceLists) {
  // 64 source ranks of one element each into one replicated destination: 64 pieces, 32 shown.
  const std::string out =
      run_ok({"reshard", "--shape", "64", "--from-mesh", "64", "--from", "S(0)", "--to-mesh", "1", "--to", "R"});
  EXPECT_NE(out.find("  from rank 31: src [0:1] -> dst [31:32], 1 element\n"
                     "  ... and 32 more pieces (see --json)\n"),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find("from rank 32:"), std::string::npos) << out;
  EXPECT_EQ(run_json({"reshard", "--shape", "64", "--from-mesh", "64", "--from", "S(0)", "--to-mesh", "1", "--to", "R"})
                ["ranks"][0]["pieces"]
                    .array.size(),
            64u);
}

TEST_F(Cli, ReshardHelp) {
  const std::string help = run_ok({"reshard", "--help"});
  EXPECT_TRUE(help.starts_with("usage: shardplan reshard --shape SIZES --from-mesh MESH --from LIST --to-mesh MESH "
                               "--to LIST [--dtype D] [--policy POLICY] [--rank R] [--file-offset BYTES] "
                               "[--max-gap BYTES] [--json]\n"))
      << help;
  EXPECT_NE(run_ok({"--help"}).find("  reshard  "), std::string::npos);
}

// ---------------------------------------------------------------------------------------------------------------
// Input errors: status 2, empty stdout, one line naming the flag.

TEST_F(Cli, ReshardErrors) {
  const std::vector<std::string> from = {"reshard", "--shape", "4096,4096", "--from-mesh", "8", "--from", "S(0)"};
  const std::vector<std::string> base = with(from, {"--to-mesh", "2,2", "--to", "S(0),S(1)"});
  expect_input_error(with(from, {"--to", "S(0),S(1)"}), "--to-mesh");  // missing --to-mesh
  expect_input_error(with(from, {"--to-mesh", "2,2"}), "--to");        // missing --to
  EXPECT_NE(expect_input_error(with(from, {"--to-mesh", "2,2", "--to", "S(0),Foo"}), "--to")
                .find("placements[1]: unknown placement 'Foo'"),
            std::string::npos);
  expect_input_error(with(from, {"--to-mesh", "2,2", "--to", "S(0)"}), "--to");  // one placement for two axes
  expect_input_error({"reshard", "--shape", "4096,4096", "--from-mesh", "8", "--from", "S(0),R", "--to-mesh", "2",
                      "--to", "S(0)"},
                     "--from");
  // A 1-d shape with a placement on dim 1.
  EXPECT_NE(expect_input_error({"reshard", "--shape", "4096", "--from-mesh", "8", "--from", "S(0)", "--to-mesh", "2,2",
                                "--to", "S(0),S(1)"},
                               "--to")
                .find("placements[1]"),
            std::string::npos);
  expect_input_error(with(from, {"--to-mesh", "2,0", "--to", "S(0),S(1)"}), "--to-mesh");
  expect_input_error({"reshard", "--shape", "4096,4096", "--from-mesh", "8,x", "--from", "S(0)", "--to-mesh", "2",
                      "--to", "S(0)"},
                     "--from-mesh");
  EXPECT_NE(expect_input_error(with(base, {"--rank", "4"}), "--rank").find("rank 4 is outside a mesh of 4 ranks"),
            std::string::npos);
  expect_input_error(with(base, {"--rank", "-1"}), "--rank");
  EXPECT_NE(expect_input_error(with(base, {"--max-gap", "-1"}), "--max-gap").find("must be >= 0, got -1"),
            std::string::npos);
  expect_input_error(with(base, {"--max-gap", "1.5"}), "--max-gap");
  expect_input_error(with(base, {"--file-offset", "-8"}), "--file-offset");
  EXPECT_NE(expect_input_error(with(base, {"--file-offset", "1k"}), "--file-offset").find("'1k' is not an integer"),
            std::string::npos);
  EXPECT_NE(expect_input_error(with(base, {"--dtype", "nope"}), "--dtype").find("unknown dtype 'nope'"),
            std::string::npos);
  expect_input_error(with(base, {"--dtype", "fp4"}), "--dtype");  // sub-byte: no bytes per element
  expect_input_error(with(base, {"--policy", "fast"}), "--policy");
  // even refuses a split that does not divide, on either side, and says which.
  EXPECT_NE(expect_input_error({"reshard", "--shape", "10", "--from-mesh", "2", "--from", "S(0)", "--to-mesh", "4",
                                "--to", "S(0)", "--policy", "even"},
                               "--policy")
                .find("--to placements[0]: even policy: dim 0 has 10 indices"),
            std::string::npos);
  expect_input_error({"reshard", "--shape", "12", "--from-mesh", "8", "--from", "S(0)", "--to-mesh", "4", "--to",
                      "S(0)", "--policy", "even"},
                     "--policy");
  // Partial values cannot be copied into place.
  expect_input_error(with(from, {"--to-mesh", "2,2", "--to", "S(0),P"}), "--to");
  expect_input_error({"reshard", "--shape", "8", "--from-mesh", "2", "--from", "P(sum)", "--to-mesh", "2", "--to", "R"},
                     "--from");
  expect_input_error(with(base, {"--file-offset", "9223372036854775000"}), "--file-offset");  // end overflows
  expect_input_error({"reshard", "--shape", "4611686018427387904", "--from-mesh", "2", "--from", "S(0)", "--to-mesh",
                      "2", "--to", "S(0)"},
                     "--shape");
  expect_input_error(with(base, {"--segments", "0=1"}), "--segments");  // not a reshard flag
}

TEST_F(Cli, ReshardLimitsAreInputErrors) {
  // 4096 x 4096 single-element pieces.
  expect_input_error({"reshard", "--shape", "4096,4096", "--from-mesh", "4096", "--from", "S(0)", "--to-mesh", "4096",
                      "--to", "S(1)"},
                     "--to");
  // 8 ranks x a million rows, each row a separate read.
  const std::vector<std::string> rows = {"reshard", "--shape", "1000000,1000", "--from-mesh", "8", "--from", "S(0)",
                                         "--to-mesh", "8", "--to", "S(1)"};
  EXPECT_NE(expect_input_error(rows, "--to").find("pick one with --rank"), std::string::npos);
  expect_input_error({"reshard", "--shape", "4", "--from-mesh", "2048,1024", "--from", "R,R", "--to-mesh", "1", "--to",
                      "R"},
                     "--from-mesh");
  EXPECT_EQ(expect_input_error({"reshard", "--shape", "4000000", "--from-mesh", "64,64", "--from", "_S(0,1000000),R",
                                "--to-mesh", "1", "--to", "R"},
                               "--from-mesh"),
            "shardplan: --from-mesh: mesh: listing 4096 ranks of up to 1000001 intervals each is past the limit of "
            "67108864 intervals\n");
  // One rank whose split factor alone is past the bound: blamed on that side's placements, at once.
  EXPECT_EQ(expect_input_error({"reshard", "--shape", "9223372036854775807", "--from-mesh", "1", "--from", "R",
                                "--to-mesh", "1", "--to", "_S(0,9223372036854775807)"},
                               "--to"),
            "shardplan: --to: placements: _S split factors cut dim 0 (size 9223372036854775807) into up to "
            "9223372036854775807 intervals per rank, past the limit of 67108864 intervals\n");
  // Byte counts past int64 name the numbers.
  EXPECT_EQ(expect_input_error({"reshard", "--shape", "4611686018427387904", "--from-mesh", "1", "--from", "R",
                                "--to-mesh", "1", "--to", "R", "--dtype", "f32"},
                               "--shape"),
            "shardplan: --shape: elements x bytes per element: 4611686018427387904 * 4 overflows int64\n");
  EXPECT_EQ(expect_input_error({"reshard", "--shape", "8", "--from-mesh", "1", "--from", "R", "--to-mesh", "1",
                                "--to", "R", "--file-offset", "9223372036854775807"},
                               "--file-offset"),
            "shardplan: --file-offset: offset + tensor bytes: 9223372036854775807 + 16 overflows int64\n");
}

}  // namespace
