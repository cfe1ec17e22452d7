#pragma once

#include "core/Assert.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <cstddef>
#include <deque>
#include <limits>
#include <thread>
#include <vector>

namespace parley::net {

/// N io_contexts, each run by exactly one thread: a context is an implicit strand, so state
/// owned by one thread needs no lock. Cross-thread work goes through postTo().
class IoThreads {
public:
    static constexpr std::size_t kNotAnIoThread = std::numeric_limits<std::size_t>::max();

    explicit IoThreads(std::size_t count);
    ~IoThreads();
    IoThreads(const IoThreads&) = delete;
    IoThreads& operator=(const IoThreads&) = delete;

    std::size_t size() const noexcept { return contexts_.size(); }
    boost::asio::io_context& context(std::size_t index) {
        PARLEY_ASSERT(index < contexts_.size(),
                      "io thread index out of range (kNotAnIoThread: called off the io threads?)");
        return contexts_[index];
    }

    /// Index of the io thread calling this, or kNotAnIoThread.
    static std::size_t currentIndex() noexcept;
    /// Index of the io thread calling this, for code that may only run on one (per-thread
    /// state is indexed with it); asserts that the caller is an io thread of `threads`.
    static std::size_t ownIndex(const IoThreads& threads) noexcept {
        const std::size_t index = currentIndex();
        PARLEY_ASSERT(index < threads.size(), "must be called on an io thread");
        return index;
    }

    /// Runs `fn` on the thread that owns context `index`.
    template <class Fn>
    void postTo(std::size_t index, Fn&& fn) {
        PARLEY_ASSERT(index < contexts_.size(), "io thread index out of range");
        boost::asio::post(contexts_[index], std::forward<Fn>(fn));
    }

    /// Starts one thread per context; returns at once.
    void start();
    /// Lets the contexts run out of work (the work guards are dropped) and joins the threads.
    void join();
    /// Stops every context at once.
    void stop();

private:
    using WorkGuard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;
    std::deque<boost::asio::io_context> contexts_;
    std::vector<WorkGuard> guards_;
    std::vector<std::thread> threads_;
};

} // namespace parley::net
