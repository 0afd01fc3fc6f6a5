# Every third-party dependency is found here, once. All come from Debian bookworm packages
# (see README "Dependencies"); nothing is downloaded at build time.
find_package(Threads REQUIRED)
find_package(Boost 1.81 REQUIRED CONFIG)            # Boost::headers (Beast, Asio) - libboost1.81-dev
find_package(OpenSSL REQUIRED)                      # OpenSSL::SSL OpenSSL::Crypto
find_package(CURL REQUIRED)                         # CURL::libcurl (openssl flavour)
find_package(nlohmann_json 3.11 REQUIRED CONFIG)    # nlohmann_json::nlohmann_json
find_package(yaml-cpp REQUIRED CONFIG)              # target: yaml-cpp (no namespace in 0.7)
find_package(SQLite3 REQUIRED)                      # SQLite::SQLite3
find_package(PostgreSQL REQUIRED)                   # PostgreSQL::PostgreSQL (libpq)
find_package(fmt REQUIRED CONFIG)                   # fmt::fmt (g++ 12 has no <format>)
find_package(CLI11 REQUIRED CONFIG)                 # CLI11::CLI11
find_package(tl-expected REQUIRED CONFIG)           # tl::expected (no std::expected in C++20)
find_package(PkgConfig REQUIRED)
pkg_check_modules(RE2 REQUIRED IMPORTED_TARGET re2) # PkgConfig::RE2
pkg_check_modules(SYSTEMD REQUIRED IMPORTED_TARGET libsystemd) # PkgConfig::SYSTEMD (sd_notify) - libsystemd-dev
if(SPACEHOOK_BUILD_TESTS)
  find_package(GTest REQUIRED)                      # GTest::gtest GTest::gtest_main GTest::gmock
endif()
