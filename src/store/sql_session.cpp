#include "store/sql_session.hpp"

namespace spacehook::store {

Status Session::ExecuteOne(std::string_view sql, std::initializer_list<Param> params,
                           const std::string& missing) {
    auto changed = Execute(sql, params);
    if (!changed) return Fail(changed.error());
    if (*changed == 0) return Fail(ErrorCode::kNotFound, missing);
    return Ok();
}

Result<std::optional<std::int64_t>> Session::SelectInt(std::string_view sql,
                                                       std::initializer_list<Param> params) {
    std::optional<std::int64_t> value;
    bool first = true;
    auto read = [&](const Row& row) -> Status {
        if (first && !row.IsNull(0)) value = row.Int(0);
        first = false;
        return Ok();
    };
    const RowSink sink(read);
    if (auto ran = Run(sql, Params(params.begin(), params.size()), &sink); !ran) return Fail(ran.error());
    return value;
}

}  // namespace spacehook::store
