// Feeds every committed seed (fuzz/corpus/<target>/) and every crash input kept after a fix
// (fuzz/regressions/<target>/) through the fuzz targets' bodies. Built by the ordinary compiler with the
// other unit tests, so a fixed crash stays fixed in every CI run, not only in the clang fuzz stage.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "fuzz_targets.hpp"

namespace fs = std::filesystem;
using spacehook::fuzz::FuzzTarget;
using spacehook::fuzz::FuzzTargets;

namespace {

std::vector<fs::path> FilesUnder(const fs::path& dir) {
    std::vector<fs::path> files;
    if (!fs::is_directory(dir)) return files;
    for (const auto& entry : fs::directory_iterator(dir)) {
        if (entry.is_regular_file() && entry.path().filename().string().front() != '.')
            files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    return files;
}

std::string ReadFile(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// Each input is named on stderr before it runs: a body that breaks an invariant aborts the process, and
// the last name printed is the input to look at.
std::size_t Replay(const FuzzTarget& target, const fs::path& dir) {
    std::size_t count = 0;
    for (const auto& path : FilesUnder(dir)) {
        std::fprintf(stderr, "replaying %s\n", path.string().c_str());
        target.run(ReadFile(path));
        ++count;
    }
    return count;
}

class CorpusReplay : public testing::TestWithParam<FuzzTarget> {};

TEST_P(CorpusReplay, SeedsAndRegressionsRunClean) {
    const FuzzTarget& target = GetParam();
    const fs::path root = SPACEHOOK_FUZZ_DIR;
    const std::size_t seeds = Replay(target, root / "corpus" / std::string(target.name));
    const std::size_t regressions = Replay(target, root / "regressions" / std::string(target.name));
    // An empty or misnamed corpus directory would make this test pass while replaying nothing.
    EXPECT_GE(seeds, 5u) << "fuzz/corpus/" << target.name << " holds too few seeds";
    RecordProperty("seeds", static_cast<int>(seeds));
    RecordProperty("regressions", static_cast<int>(regressions));
}

INSTANTIATE_TEST_SUITE_P(Fuzz, CorpusReplay, testing::ValuesIn(FuzzTargets()),
                         [](const testing::TestParamInfo<FuzzTarget>& param_info) {
                             return std::string(param_info.param.name);
                         });

}  // namespace
