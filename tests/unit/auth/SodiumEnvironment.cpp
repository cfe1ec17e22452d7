// parley_core and parley_auth call libsodium; its contract is sodium_init() before anything else.
// A global environment does that once, before any test in this executable runs.

#include <gtest/gtest.h>
#include <sodium.h>

namespace {

class SodiumEnvironment : public ::testing::Environment {
public:
    void SetUp() override { ASSERT_GE(sodium_init(), 0) << "libsodium failed to initialise"; }
};

// gtest owns and deletes the environment; registering at static-init time works with gtest_main.
[[maybe_unused]] ::testing::Environment* const kSodium = ::testing::AddGlobalTestEnvironment(new SodiumEnvironment);

} // namespace
