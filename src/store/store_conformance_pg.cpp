// The conformance suite (TEST_P(StoreTest, ...) in store_*_test.cpp) against PostgreSQL: each test on a
// fresh database of a throwaway server this process starts (store/testing/pg_server.hpp); skipped
// where PostgreSQL's server is not installed.

#include "store/store_test_support.hpp"

namespace spacehook::store::testing {

INSTANTIATE_TEST_SUITE_P(Backend, StoreTest, ::testing::Values(Backend::kPostgres), BackendName);

}  // namespace spacehook::store::testing
