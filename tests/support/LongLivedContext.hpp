#pragma once

#include <boost/asio/io_context.hpp>

#include <deque>
#include <mutex>

namespace parley::test {

/// A fresh io_context that lives until the test process exits. A store's thread may still be
/// inside the post() of an answer when the test has run that answer and moved on, so a context
/// that receives a store's answers must outlive the store (ThreadSanitizer sees the race when a
/// test's local context is destroyed first). Tests that make one per thread or per call take it
/// from here instead.
inline boost::asio::io_context& longLivedContext() {
    static std::mutex mutex;
    static std::deque<boost::asio::io_context> contexts;
    std::lock_guard lock(mutex);
    return contexts.emplace_back();
}

} // namespace parley::test
