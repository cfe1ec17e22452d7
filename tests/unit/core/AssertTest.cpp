#include "core/Assert.hpp"

#include <gtest/gtest.h>

namespace parley::core {
namespace {

int timesEvaluated = 0;
bool countedTrue() {
    ++timesEvaluated;
    return true;
}
bool countedFalse() {
    ++timesEvaluated;
    return false;
}

TEST(Assert, AHoldingConditionIsEvaluatedOnlyWhenAssertionsAreOn) {
    timesEvaluated = 0;
    PARLEY_ASSERT(countedTrue(), "holds");
    EXPECT_EQ(timesEvaluated, PARLEY_ASSERTIONS ? 1 : 0);
}

TEST(Assert, AFailingConditionAbortsWithFileLineConditionAndMessage) {
    if (!PARLEY_ASSERTIONS) GTEST_SKIP() << "assertions are compiled out in this build";
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_DEATH(PARLEY_ASSERT(1 + 1 == 3, "arithmetic broke"),
                 "AssertTest\\.cpp:[0-9]+: assertion failed: 1 \\+ 1 == 3: arithmetic broke");
}

TEST(Assert, AFailingConditionIsNotEvaluatedWhenAssertionsAreOff) {
    if (PARLEY_ASSERTIONS) GTEST_SKIP() << "assertions are on in this build (the death test covers them)";
    timesEvaluated = 0;
    PARLEY_ASSERT(countedFalse(), "compiled out: neither evaluated nor fatal");
    EXPECT_EQ(timesEvaluated, 0);
}

TEST(Assert, WorksAsAnExpressionStatementInEveryPosition) {
    // An if without braces and a comma-free condition with a contextual bool conversion.
    const int* p = &timesEvaluated;
    if (p != nullptr)
        PARLEY_ASSERT(p, "a pointer converts to bool");
    else
        PARLEY_ASSERT(!p, "unreachable");
    SUCCEED();
}

} // namespace
} // namespace parley::core
