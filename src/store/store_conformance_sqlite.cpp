// The conformance suite (TEST_P(StoreTest, ...) in store_*_test.cpp) against SQLite.

#include "store/store_test_support.hpp"

namespace spacehook::store::testing {

INSTANTIATE_TEST_SUITE_P(Backend, StoreTest, ::testing::Values(Backend::kSqlite), BackendName);

}  // namespace spacehook::store::testing
