#include "store/testing/pg_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <libpq-fe.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

#include "store/pg_connection.hpp"

namespace spacehook::store::testing {

namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kNotInstalled = "PostgreSQL server binaries not found";
constexpr const char* kSetpriv = "/usr/bin/setpriv";

Error Unavailable(std::string message) {
    return Error{ErrorCode::kUnavailable, std::move(message), 0, std::nullopt};
}

/// Who the server runs as: ourselves, or (when we are root) a system user through setpriv.
struct ServerUser {
    bool switch_user = false;
    uid_t uid = 0;
    gid_t gid = 0;
    std::string name;
};

Result<ServerUser> ResolveUser() {
    if (geteuid() != 0) return ServerUser{false, geteuid(), getegid(), ""};
    const char* env = std::getenv("SPACEHOOK_PG_USER");
    const std::string name = env != nullptr && *env != '\0' ? env : "postgres";
    const passwd* entry = getpwnam(name.c_str());
    if (entry == nullptr) {
        return Fail(
            Unavailable(fmt::format("PostgreSQL refuses to run as root and there is no user '{}' to run it "
                                    "as (install postgresql, or set SPACEHOOK_PG_USER)",
                                    name)));
    }
    if (access(kSetpriv, X_OK) != 0)
        return Fail(Unavailable("running PostgreSQL as another user needs /usr/bin/setpriv"));
    return ServerUser{true, entry->pw_uid, entry->pw_gid, name};
}

/// argv for running `args` as `user` (setpriv when switching), with a parent-death signal when
/// `pdeathsig` is set (setpriv sets it after the uid change, which would clear one set before).
std::vector<std::string> AsUser(const ServerUser& user, std::vector<std::string> args, bool pdeathsig) {
    if (!user.switch_user) return args;
    std::vector<std::string> out = {kSetpriv, fmt::format("--reuid={}", user.uid),
                                    fmt::format("--regid={}", user.gid), "--init-groups"};
    if (pdeathsig) out.emplace_back("--pdeathsig=INT");
    out.emplace_back("--");
    out.insert(out.end(), args.begin(), args.end());
    return out;
}

/// Forks and execs `argv` with stdout and stderr appended to `log_path`. The child gets SIGINT when
/// this process dies (`pdeathsig`: for a server; setpriv applies it when switching users).
Result<pid_t> Spawn(const std::vector<std::string>& argv, const std::string& log_path, bool pdeathsig) {
    std::vector<char*> args;
    args.reserve(argv.size() + 1);
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0)
        return Fail(Unavailable(fmt::format("cannot open {}: {}", log_path, std::strerror(errno))));
    const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    const pid_t parent = getpid();
    const pid_t pid = fork();
    if (pid < 0) {
        ::close(log_fd);
        if (null_fd >= 0) ::close(null_fd);
        return Fail(Unavailable(fmt::format("fork failed: {}", std::strerror(errno))));
    }
    if (pid == 0) {
        // Only async-signal-safe calls until exec. A parent that blocks or ignores signals (the
        // helper binary sigwaits SIGTERM/SIGINT) must not pass that on: the server's shutdown and its
        // parent-death signal are SIGINT.
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, nullptr);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        if (null_fd >= 0) dup2(null_fd, STDIN_FILENO);
        dup2(log_fd, STDOUT_FILENO);
        dup2(log_fd, STDERR_FILENO);
        if (pdeathsig) {
            prctl(PR_SET_PDEATHSIG, SIGINT);
            if (getppid() != parent) _exit(70);  // the parent died before prctl
        }
        execv(args[0], args.data());
        _exit(127);
    }
    ::close(log_fd);
    if (null_fd >= 0) ::close(null_fd);
    return pid;
}

/// Waits for `pid` to exit, up to `timeout`; its exit status, or nullopt (still running).
std::optional<int> WaitExit(pid_t pid, milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
        int status = 0;
        const pid_t done = waitpid(pid, &status, WNOHANG);
        if (done == pid) return status;
        if (done < 0) return -1;
        if (Clock::now() >= deadline) return std::nullopt;
        std::this_thread::sleep_for(milliseconds(10));
    }
}

std::string Tail(const std::string& path, std::size_t bytes = 2000) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    std::string all = text.str();
    return all.size() > bytes ? all.substr(all.size() - bytes) : all;
}

/// Runs a command to completion within `timeout`; kUnavailable with its output when it fails.
Status Run(const std::vector<std::string>& argv, const std::string& log_path, milliseconds timeout) {
    auto pid = Spawn(argv, log_path, /*pdeathsig=*/false);
    if (!pid) return Fail(pid.error());
    auto status = WaitExit(*pid, timeout);
    if (!status) {
        kill(*pid, SIGKILL);
        (void)WaitExit(*pid, milliseconds(5000));
        return Fail(Unavailable(fmt::format("{} did not finish within {} ms", argv.back(), timeout.count())));
    }
    if (!WIFEXITED(*status) || WEXITSTATUS(*status) != 0) {
        std::string command;
        for (const auto& a : argv) command += (command.empty() ? "" : " ") + a;
        return Fail(
            Unavailable(fmt::format("`{}` failed (status {}): {}", command, *status, Tail(log_path))));
    }
    return Ok();
}

Result<int> FreeLoopbackPort() {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return Fail(Unavailable("socket() failed"));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                    getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
    ::close(fd);
    if (!ok) return Fail(Unavailable("cannot bind a loopback port"));
    return static_cast<int>(ntohs(addr.sin_port));
}

std::string TempBase() {
    const char* base = std::getenv("TMPDIR");
    return base != nullptr && *base != '\0' ? base : "/tmp";
}

Status GiveTo(const ServerUser& user, const std::string& path) {
    if (!user.switch_user) return Ok();
    if (chown(path.c_str(), user.uid, user.gid) != 0) {
        return Fail(
            Unavailable(fmt::format("cannot hand {} to {}: {}", path, user.name, std::strerror(errno))));
    }
    return Ok();
}

std::vector<std::string> InitdbArgs(const std::string& bin, const std::string& data) {
    // -N: no fsync of the new cluster (a throwaway); trust on loopback (nothing else can reach it);
    // 1 MB WAL segments instead of 16: every test process copies the result, so smaller is faster.
    return {bin + "/initdb", "-D", data,   "-U",         "postgres", "-A",
            "trust",         "-E", "UTF8", "--locale=C", "-N",       "--wal-segsize=1"};
}

/// The cached initdb output for this user and these binaries, created when missing. nullopt when the
/// cache cannot be used (the caller then runs initdb itself).
std::optional<std::string> CachedTemplate(const std::string& bin, const ServerUser& user,
                                          const std::string& log_path, milliseconds timeout) {
    struct stat postgres_binary {};
    if (stat((bin + "/postgres").c_str(), &postgres_binary) != 0) return std::nullopt;
    // A different build (upgrade) or different initdb options get a different template.
    std::string initdb_options;
    for (const auto& arg : InitdbArgs(bin, "")) initdb_options += arg + " ";
    const std::size_t key = std::hash<std::string>{}(fmt::format(
        "{}|{}|{}|{}", bin, postgres_binary.st_size, postgres_binary.st_mtim.tv_sec, initdb_options));
    const std::string base = fmt::format("{}/spacehook-pg-template-{}-{:016x}", TempBase(), user.uid, key);
    const int lock = ::open((base + ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (lock < 0) return std::nullopt;
    if (flock(lock, LOCK_EX) != 0) {
        ::close(lock);
        return std::nullopt;
    }
    std::optional<std::string> out;
    struct stat info {};
    // Only a directory owned by the server user and closed to others: $TMPDIR is shared.
    const bool usable = lstat(base.c_str(), &info) == 0 && S_ISDIR(info.st_mode) && info.st_uid == user.uid &&
                        (info.st_mode & 077) == 0 && fs::exists(base + "/PG_VERSION");
    if (usable) {
        out = base;
    } else if (!fs::exists(base)) {
        const std::string staging = fmt::format("{}.tmp-{}", base, getpid());
        std::error_code ec;
        fs::remove_all(staging, ec);
        if (Run(AsUser(user, InitdbArgs(bin, staging), false), log_path, timeout) &&
            ::rename(staging.c_str(), base.c_str()) == 0) {
            out = base;
        } else {
            fs::remove_all(staging, ec);
        }
    }
    flock(lock, LOCK_UN);
    ::close(lock);
    return out;
}

}  // namespace

// --- binaries ---------------------------------------------------------------------------------

Result<std::string> PgServer::FindBinDir() {
    auto has_server = [](const std::string& dir) {
        return access((dir + "/initdb").c_str(), X_OK) == 0 && access((dir + "/postgres").c_str(), X_OK) == 0;
    };
    if (const char* env = std::getenv("SPACEHOOK_PG_BIN"); env != nullptr && *env != '\0') {
        if (has_server(env)) return std::string(env);
        return Fail(
            Unavailable(fmt::format("{}: SPACEHOOK_PG_BIN={} holds no initdb/postgres", kNotInstalled, env)));
    }
    // Debian: /usr/lib/postgresql/<major>/bin (not on PATH); the newest major wins.
    int best_major = -1;
    std::string best;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
        const std::string name = entry.path().filename().string();
        if (name.empty() ||
            !std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; }))
            continue;
        const std::string dir = entry.path().string() + "/bin";
        if (has_server(dir) && std::stoi(name) > best_major) {
            best_major = std::stoi(name);
            best = dir;
        }
    }
    if (!best.empty()) return best;
    if (const char* path = std::getenv("PATH"); path != nullptr) {
        std::stringstream dirs(path);
        for (std::string dir; std::getline(dirs, dir, ':');) {
            if (!dir.empty() && has_server(dir)) return dir;
        }
    }
    return Fail(Unavailable(
        fmt::format("{} (install Debian's `postgresql` package, or set SPACEHOOK_PG_BIN)", kNotInstalled)));
}

bool PgServer::NotInstalled(const Error& error) {
    return error.message.starts_with(kNotInstalled);
}

// --- lifecycle --------------------------------------------------------------------------------

Result<std::unique_ptr<PgServer>> PgServer::Start(const PgServerOptions& options) {
    auto bin = FindBinDir();
    if (!bin) return Fail(bin.error());
    auto user = ResolveUser();
    if (!user) return Fail(user.error());
    const milliseconds timeout = options.start_timeout;

    std::unique_ptr<PgServer> server(new PgServer());
    std::string pattern = TempBase() + "/spacehook-pg-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) return Fail(Unavailable("mkdtemp failed for " + pattern));
    server->dir_ = pattern;
    if (auto st = GiveTo(*user, server->dir_); !st) return Fail(st.error());
    const std::string data = server->dir_ + "/data";
    const std::string log_path = server->dir_ + "/postgres.log";

    if (auto cached = CachedTemplate(*bin, *user, log_path, timeout)) {
        // cp -a keeps the owner (as root) and the 0700 mode PostgreSQL insists on.
        if (auto st = Run({"/bin/cp", "-a", *cached, data}, log_path, timeout); !st) return Fail(st.error());
    } else if (auto st = Run(AsUser(*user, InitdbArgs(*bin, data), false), log_path, timeout); !st) {
        return Fail(st.error());
    }

    // A port found free may be taken before the server binds it: try a few.
    for (int attempt = 1;; ++attempt) {
        auto port = FreeLoopbackPort();
        if (!port) return Fail(port.error());
        std::vector<std::string> args = {*bin + "/postgres",
                                         "-D",
                                         data,
                                         "-p",
                                         std::to_string(*port),
                                         "-c",
                                         "listen_addresses=127.0.0.1",
                                         "-c",
                                         "unix_socket_directories=",
                                         "-c",
                                         fmt::format("max_connections={}", options.max_connections),
                                         "-c",
                                         fmt::format("fsync={}", options.durable ? "on" : "off"),
                                         "-c",
                                         fmt::format("full_page_writes={}", options.durable ? "on" : "off")};
        auto pid = Spawn(AsUser(*user, args, /*pdeathsig=*/true), log_path, /*pdeathsig=*/!user->switch_user);
        if (!pid) return Fail(pid.error());
        server->pid_ = *pid;
        server->port_ = *port;

        const std::string conninfo =
            fmt::format("host=127.0.0.1 port={} dbname=postgres user=postgres connect_timeout=2", *port);
        const auto deadline = Clock::now() + timeout;
        bool exited = false;
        while (Clock::now() < deadline) {
            if (PQping(conninfo.c_str()) == PQPING_OK) return server;
            if (auto status = WaitExit(*pid, milliseconds(0))) {
                exited = true;
                server->pid_ = -1;
                break;
            }
            std::this_thread::sleep_for(milliseconds(20));
        }
        const std::string log = Tail(log_path);
        const bool port_taken = log.find("could not bind") != std::string::npos ||
                                log.find("Address already in use") != std::string::npos;
        if (exited && port_taken && attempt < 5) continue;
        return Fail(Unavailable(fmt::format("PostgreSQL did not become ready on port {} within {} s: {}",
                                            *port, options.start_timeout.count(), log)));
    }
}

PgServer::~PgServer() {
    (void)Stop();
}

Status PgServer::Stop() {
    Status result = Ok();
    if (pid_ > 0) {
        // SIGINT = fast shutdown: disconnect clients, checkpoint, exit. Then harder, all bounded.
        kill(pid_, SIGINT);
        if (!WaitExit(pid_, milliseconds(30000))) {
            kill(pid_, SIGQUIT);
            if (!WaitExit(pid_, milliseconds(5000))) {
                kill(pid_, SIGKILL);
                (void)WaitExit(pid_, milliseconds(5000));
            }
            result = Fail(Unavailable("PostgreSQL did not shut down within 30 s"));
        }
        pid_ = -1;
    }
    if (!dir_.empty()) {
        std::error_code ec;
        fs::remove_all(dir_, ec);
        dir_.clear();
    }
    return result;
}

std::string PgServer::Url(const std::string& database) const {
    return fmt::format("postgres://postgres@127.0.0.1:{}/{}", port_, database);
}

Status PgServer::Exec(const std::string& database, const std::string& sql) {
    auto db = pg::Connection::Open(Url(database), pg::ConnectOptions{});
    if (!db) return Fail(db.error());
    return (*db)->Exec(sql);
}

Result<std::string> PgServer::CreateDatabase() {
    const std::string name = fmt::format("t{}_{}", getpid(), next_database_++);
    // FILE_COPY (PostgreSQL 15+) copies the small template's files instead of WAL-logging every page:
    // several times faster for a throwaway server. Older servers only know the plain form.
    if (Exec("postgres", fmt::format("CREATE DATABASE {} STRATEGY = FILE_COPY", name))) return Url(name);
    if (auto st = Exec("postgres", fmt::format("CREATE DATABASE {}", name)); !st) return Fail(st.error());
    return Url(name);
}

PgServer* SharedPgServer(Error* error) {
    static std::mutex mu;
    static std::unique_ptr<PgServer> server;
    static std::optional<Error> failed;
    std::lock_guard lock(mu);
    if (!server && !failed) {
        auto started = PgServer::Start();
        if (started) {
            server = std::move(*started);
        } else {
            failed = started.error();
        }
    }
    if (failed && error != nullptr) *error = *failed;
    return server.get();
}

}  // namespace spacehook::store::testing
