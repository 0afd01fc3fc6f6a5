// The ledger's shared state: named values and leases in one table (shared_state), one row per name.

#include <fmt/format.h>

#include "store/ledger.hpp"
#include "store/ledger_sql.hpp"

namespace spacehook::store {

namespace {

Status RequireName(const std::string& name) {
    if (name.empty()) return Fail(ErrorCode::kInvalidArgument, "a shared state name must not be empty");
    return Ok();
}

}  // namespace

Result<std::optional<std::string>> Ledger::GetValue(const std::string& name) {
    if (auto st = RequireName(name); !st) return Fail(st.error());
    return ReadValue<std::optional<std::string>>(*db_, [&](Session& db) {
        return db.First<std::string>("SELECT value FROM shared_state WHERE name = ?1 AND value <> ''", {name},
                                     [](const Row& row) { return Result<std::string>(row.Text(0)); });
    });
}

Status Ledger::PutValue(const std::string& name, const std::string& value) {
    if (auto st = RequireName(name); !st) return st;
    const TimePoint now = clock_.Now();
    return db_->Write([&](Transaction& tx) -> Status {
        auto put = tx.Execute(
            "INSERT INTO shared_state (name, value, updated_at) VALUES (?1, ?2, ?3) "
            "ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
            {name, value, now});
        if (!put) return Fail(put.error());
        return Ok();
    });
}

Result<bool> Ledger::TakeLease(const std::string& name, const std::string& owner, TimePoint now,
                               std::chrono::milliseconds ttl) {
    if (auto st = RequireName(name); !st) return Fail(st.error());
    if (auto st = RequireOwner(owner); !st) return Fail(st.error());
    return WriteValue<bool>(*db_, [&](Transaction& tx) -> Result<bool> {
        // The conflict's update only happens while the lease is ours or has expired; two processes asking
        // at once are ordered by the row lock, the second then sees the first's lease unexpired.
        auto taken = tx.Execute(
            "INSERT INTO shared_state (name, lease_owner, lease_until, updated_at) VALUES (?1, ?2, ?3, ?4) "
            "ON CONFLICT (name) DO UPDATE SET lease_owner = excluded.lease_owner, "
            "lease_until = excluded.lease_until, updated_at = excluded.updated_at "
            "WHERE shared_state.lease_owner = excluded.lease_owner OR shared_state.lease_until <= ?4",
            {name, owner, now + ttl, now});
        if (!taken) return Fail(taken.error());
        if (*taken == 0) tx.NothingToCommit();
        return *taken > 0;
    });
}

Status Ledger::ReleaseLease(const std::string& name, const std::string& owner) {
    if (auto st = RequireName(name); !st) return st;
    if (auto st = RequireOwner(owner); !st) return st;
    return db_->Write([&](Transaction& tx) -> Status {
        auto released = tx.Execute(
            "UPDATE shared_state SET lease_owner = '', lease_until = 0 WHERE name = ?1 AND lease_owner = ?2",
            {name, owner});
        if (!released) return Fail(released.error());
        if (*released == 0) tx.NothingToCommit();
        return Ok();
    });
}

}  // namespace spacehook::store
