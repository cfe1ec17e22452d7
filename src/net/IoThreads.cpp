#include "net/IoThreads.hpp"

namespace parley::net {

namespace {
thread_local std::size_t tCurrentIndex = IoThreads::kNotAnIoThread;
}

IoThreads::IoThreads(std::size_t count) {
    if (count == 0) count = 1;
    for (std::size_t i = 0; i < count; ++i) {
        // concurrency hint 1: each context is run by exactly one thread, so Asio can skip locking.
        contexts_.emplace_back(1);
        guards_.emplace_back(contexts_.back().get_executor());
    }
}

IoThreads::~IoThreads() {
    stop();
    join();
}

std::size_t IoThreads::currentIndex() noexcept { return tCurrentIndex; }

void IoThreads::start() {
    for (std::size_t i = 0; i < contexts_.size(); ++i) {
        threads_.emplace_back([this, i] {
            tCurrentIndex = i;
            contexts_[i].run();
        });
    }
}

void IoThreads::join() {
    guards_.clear();
    for (auto& t : threads_)
        if (t.joinable()) t.join();
    threads_.clear();
}

void IoThreads::stop() {
    for (auto& c : contexts_) c.stop();
}

} // namespace parley::net
