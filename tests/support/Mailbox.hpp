#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>

namespace parley::testsupport {

/// How long a test waits for anything it expects before it fails: far longer than anything
/// takes on loopback, so that only a real failure (never a slow machine) runs into it.
inline constexpr std::chrono::milliseconds kDeadline{5000};

/// A queue that one thread (e.g. a server handler on an io thread) fills and another (the
/// test) waits on, with a deadline.
template <class T>
class Mailbox {
public:
    void push(T value) {
        {
            const std::lock_guard lock(mutex_);
            items_.push_back(std::move(value));
        }
        ready_.notify_all();
    }

    /// The oldest item, or nullopt if none came within `timeout`.
    std::optional<T> pop(std::chrono::milliseconds timeout = kDeadline) {
        std::unique_lock lock(mutex_);
        if (!ready_.wait_for(lock, timeout, [this] { return !items_.empty(); })) return std::nullopt;
        std::optional<T> value(std::move(items_.front()));
        items_.pop_front();
        return value;
    }

    std::size_t size() const {
        const std::lock_guard lock(mutex_);
        return items_.size();
    }

private:
    mutable std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<T> items_;
};

} // namespace parley::testsupport
