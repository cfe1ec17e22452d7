#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

namespace parley::bench {

/// The generator's io threads: N io_contexts, one thread each, so each context is an implicit
/// strand and every client belongs to exactly one of them for its whole life (client i to
/// context i % N). The main thread only orchestrates: it posts work and samples.
class Workers {
public:
    explicit Workers(std::size_t count);
    ~Workers();
    Workers(const Workers&) = delete;
    Workers& operator=(const Workers&) = delete;

    std::size_t size() const noexcept { return contexts_.size(); }
    boost::asio::io_context& context(std::size_t index) { return *contexts_[index]; }
    std::size_t ownerOf(std::size_t client) const noexcept { return client % contexts_.size(); }

    /// CPU time of each io thread, in microseconds.
    std::vector<std::int64_t> cpuUs() const;

    /// Lets every run() return once its work is done, waits up to `grace` for that, then stops
    /// the contexts and joins the threads. Called once; the destructor calls it if needed.
    void finish(std::chrono::milliseconds grace);

private:
    using Guard = boost::asio::executor_work_guard<boost::asio::io_context::executor_type>;
    std::vector<std::unique_ptr<boost::asio::io_context>> contexts_;
    std::vector<Guard> guards_;
    mutable std::vector<std::thread> threads_; // native_handle() is not const
    std::atomic<std::size_t> running_{0};
    bool finished_ = false;
};

} // namespace parley::bench
