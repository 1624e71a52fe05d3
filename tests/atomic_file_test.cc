// Atomic files under concurrent writers that share a PID: two writers in one process are
// exactly the case of two ranks with equal PIDs on different nodes of a shared file system.
//  - two open AtomicPaths of one target get different temporary files;
//  - each commit publishes that writer's complete contents (never the other's, never mixed);
//  - many threads writing one target with write_file_atomic leave one writer's complete
//    contents and no temporary file behind;
//  - the committed file has the permissions of a plain write (0666 & ~umask), not 0600.
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/atomic_file.h"

namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("ipm_atomic_" + name + "_" +
                                                  std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

std::string read_all(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

std::vector<std::string> entries(const fs::path& d) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(d)) out.push_back(e.path().filename().string());
  return out;
}

TEST(AtomicPath, WritersWithOnePidGetTheirOwnTemporaryFiles) {
  const fs::path d = fresh_dir("pid");
  const fs::path target = d / "metrics.json";
  ipm::AtomicPath a(target), b(target);
  ASSERT_NE(a.tmp(), b.tmp()) << "both writers would write " << a.tmp();
  EXPECT_EQ(a.tmp().parent_path(), d);  // same directory: rename stays on one file system
  { std::ofstream(a.tmp(), std::ios::binary) << std::string(4096, 'a'); }
  { std::ofstream(b.tmp(), std::ios::binary) << "b"; }
  a.commit();
  EXPECT_EQ(read_all(target), std::string(4096, 'a'));
  b.commit();
  EXPECT_EQ(read_all(target), "b");
  EXPECT_EQ(entries(d), std::vector<std::string>{"metrics.json"});
  fs::remove_all(d);
}

TEST(AtomicPath, ManyThreadsLeaveOneCompleteFileAndNoTemporaries) {
  const fs::path d = fresh_dir("threads");
  const fs::path target = d / "DONE";
  std::set<std::string> written;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    const std::string body(1000 + 997 * t, static_cast<char>('a' + t));
    written.insert(body);
    threads.emplace_back([target, body] {
      for (int i = 0; i < 20; ++i) ipm::write_file_atomic(target, body);
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(written.count(read_all(target)), 1u) << "torn or mixed contents";
  EXPECT_EQ(entries(d), std::vector<std::string>{"DONE"});
  fs::remove_all(d);
}

TEST(AtomicPath, UncommittedRemovesItsFileAndCommittedHasPlainPermissions) {
  const fs::path d = fresh_dir("perm");
  { ipm::AtomicPath unused(d / "x"); }
  EXPECT_TRUE(entries(d).empty());
  const mode_t old = ::umask(022);
  ipm::write_file_atomic(d / "y", "y");
  ::umask(old);
  struct stat st {};
  ASSERT_EQ(::stat((d / "y").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  fs::remove_all(d);
}

}  // namespace
