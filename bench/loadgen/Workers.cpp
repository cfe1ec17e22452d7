#include "Workers.hpp"

#include "Clock.hpp"
#include "ProcProbe.hpp"

namespace parley::bench {

Workers::Workers(std::size_t count) {
    for (std::size_t i = 0; i < count; ++i) {
        // Concurrency hint 1: each context is only ever run by its own thread.
        contexts_.push_back(std::make_unique<boost::asio::io_context>(1));
        guards_.emplace_back(contexts_.back()->get_executor());
    }
    running_ = count;
    for (std::size_t i = 0; i < count; ++i) {
        threads_.emplace_back([this, i] {
            contexts_[i]->run();
            --running_;
        });
    }
}

Workers::~Workers() { finish(std::chrono::milliseconds(0)); }

std::vector<std::int64_t> Workers::cpuUs() const {
    std::vector<std::int64_t> out;
    out.reserve(threads_.size());
    for (auto& t : threads_) out.push_back(finished_ ? 0 : threadCpuUs(t.native_handle()));
    return out;
}

void Workers::finish(std::chrono::milliseconds grace) {
    if (finished_) return;
    for (auto& g : guards_) g.reset();
    waitUntil([this] { return running_.load() == 0; }, nowNs() + grace.count() * 1000000);
    for (auto& c : contexts_) c->stop();
    for (auto& t : threads_)
        if (t.joinable()) t.join();
    finished_ = true;
}

} // namespace parley::bench
