// "Acked means stored": a process that acknowledges deliveries and is killed with SIGKILL loses none
// of the acknowledged ones.

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <set>
#include <sstream>
#include <thread>

#include "store/store_test_support.hpp"

namespace spacehook::store::testing {
namespace {

/// The child: appends from several threads, writes "acked N\n" to `fd` from each stored-callback (one
/// write(2) of < PIPE_BUF bytes, so lines never interleave), until it is killed. Never returns.
[[noreturn]] void AppendUntilKilled(const std::string& url, int fd) {
    alarm(60);  // bounded even if the parent dies before killing us
    ManualClock clock;
    auto store = OpenStore(url, StoreOptions{}, clock);
    if (!store) _exit(3);
    std::atomic<int> next{0};
    std::atomic<int> in_flight{0};
    auto worker = [&] {
        for (;;) {
            const int n = next.fetch_add(1);
            ++in_flight;
            (*store)->Append(MakeDelivery("wh", fmt::format("e{}", n)),
                             [fd, n, &in_flight](Result<AppendOutcome> r) {
                                 if (!r || *r != AppendOutcome::kStored) _exit(4);
                                 const std::string line = fmt::format("acked {}\n", n);
                                 if (write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size()))
                                     _exit(5);
                                 --in_flight;
                             });
            // Keep the queue short so the kill lands among commits, not only on queued appends.
            while (in_flight.load() > 200) std::this_thread::sleep_for(std::chrono::microseconds(100));
        }
    };
    std::thread a(worker), b(worker), c(worker);
    a.join();  // never: the parent kills us
    _exit(6);
}

TEST_P(StoreTest, AckedDeliveriesSurviveSigkill) {
    store_->Close();  // the child owns the database until it dies
    store_.reset();

    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        close(fds[0]);
        AppendUntilKilled(Url(), fds[1]);
    }
    close(fds[1]);

    std::set<int> acked;
    std::string pending;
    auto consume = [&](const char* data, ssize_t n) {
        pending.append(data, static_cast<std::size_t>(n));
        std::size_t eol;
        while ((eol = pending.find('\n')) != std::string::npos) {
            std::istringstream line(pending.substr(0, eol));
            std::string word;
            int id = -1;
            line >> word >> id;
            if (word == "acked" && id >= 0) acked.insert(id);
            pending.erase(0, eol + 1);
        }
    };
    // Let it acknowledge a good number of deliveries, then kill it mid-stream.
    const auto deadline = std::chrono::steady_clock::now() + kWait;
    char buffer[4096];
    while (acked.size() < 2000 && std::chrono::steady_clock::now() < deadline) {
        pollfd p{fds[0], POLLIN, 0};
        if (poll(&p, 1, 100) <= 0) continue;
        const ssize_t n = read(fds[0], buffer, sizeof buffer);
        if (n <= 0) break;
        consume(buffer, n);
    }
    ASSERT_EQ(kill(child, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
        << "child did not die by our SIGKILL (exit " << (WIFEXITED(status) ? WEXITSTATUS(status) : -1) << ")";
    // Every ack written before the kill is still in the pipe.
    for (;;) {
        const ssize_t n = read(fds[0], buffer, sizeof buffer);
        if (n <= 0) break;
        consume(buffer, n);
    }
    close(fds[0]);
    ASSERT_GE(acked.size(), 2000u) << "the child acknowledged too few deliveries before the deadline";

    Reopen();
    auto stats = store_->Stats();
    ASSERT_TRUE(stats);
    EXPECT_GE(stats->events_total, static_cast<std::int64_t>(acked.size()));
    std::size_t missing = 0;
    for (int id : acked) {
        auto event = store_->FindEvent(fmt::format("e{}", id));
        ASSERT_TRUE(event) << event.error().message;
        if (!*event) ++missing;
    }
    EXPECT_EQ(missing, 0u) << "of " << acked.size() << " acknowledged deliveries";
}

}  // namespace
}  // namespace spacehook::store::testing
