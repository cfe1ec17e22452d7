#include "Fleet.hpp"

#include "Clock.hpp"

#include <boost/asio/post.hpp>

#include <limits>

namespace parley::bench {

void Launcher::launch(std::vector<Member*> members, std::size_t limit) {
    queue_ = std::move(members);
    next_ = 0;
    inFlight_ = 0;
    limit_ = limit == 0 ? std::numeric_limits<std::size_t>::max() : limit;
    pump();
}

void Launcher::pump() {
    while (inFlight_ < limit_ && next_ < queue_.size()) {
        Member* m = queue_[next_++];
        ++inFlight_;
        m->start([this] {
            --inFlight_;
            pump();
        });
    }
}

void PacedLauncher::launch(std::vector<std::pair<std::int64_t, Member*>> due) {
    queue_ = std::move(due);
    next_ = 0;
    arm();
}

void PacedLauncher::arm() {
    if (next_ >= queue_.size()) return;
    timer_.expires_at(toTimePoint(std::max(queue_[next_].first, lastWakeNs_ + 1000000)));
    timer_.async_wait([this](boost::system::error_code ec) {
        if (ec) return;
        const std::int64_t now = nowNs();
        lastWakeNs_ = now;
        while (next_ < queue_.size() && queue_[next_].first <= now) queue_[next_++].second->start();
        arm();
    });
}

Fleet::Fleet(Workers& workers, RunShared& shared) : workers_(workers), shared_(shared), byThread_(workers.size()) {
    const std::size_t n = shared.roster.users.size();
    members_.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t owner = workers.ownerOf(i);
        members_.push_back(std::make_unique<Member>(i, workers.context(owner), shared));
        byThread_[owner].push_back(members_.back().get());
    }
    for (std::size_t t = 0; t < workers.size(); ++t) {
        launchers_.push_back(std::make_unique<Launcher>());
        paced_.push_back(std::make_unique<PacedLauncher>(workers.context(t)));
    }
}

Fleet::~Fleet() = default;

void Fleet::startAll(std::size_t concurrency) {
    const std::size_t perThread = concurrency == 0 ? 0 : std::max<std::size_t>(1, concurrency / workers_.size());
    for (std::size_t t = 0; t < workers_.size(); ++t)
        boost::asio::post(workers_.context(t),
                          [this, t, perThread] { launchers_[t]->launch(byThread_[t], perThread); });
}

void Fleet::startPaced(std::int64_t startNs, std::int64_t spanNs) {
    const auto n = static_cast<double>(members_.size());
    for (std::size_t t = 0; t < workers_.size(); ++t) {
        std::vector<std::pair<std::int64_t, Member*>> due;
        for (Member* m : byThread_[t])
            due.emplace_back(
                startNs + static_cast<std::int64_t>(static_cast<double>(spanNs) * static_cast<double>(m->index()) / n),
                m);
        boost::asio::post(workers_.context(t),
                          [this, t, due = std::move(due)]() mutable { paced_[t]->launch(std::move(due)); });
    }
}

bool Fleet::waitSettled(std::int64_t deadlineNs) const {
    const auto& p = shared_.progress;
    waitUntil([&] { return p.ready.load() + p.failed.load() >= members_.size(); }, deadlineNs);
    return p.ready.load() == members_.size();
}

std::size_t Fleet::closeAll(std::chrono::milliseconds timeout) {
    onEachThread([](std::size_t, const std::vector<Member*>& ms) {
        for (auto* m : ms) m->close();
    });
    const auto& p = shared_.progress;
    if (waitUntil([&] { return p.open.load() == 0; }, nowNs() + timeout.count() * 1000000)) return 0;
    const std::size_t stragglers = p.open.load();
    // A close handshake the server never answered: cut the sockets.
    onEachThread([](std::size_t, const std::vector<Member*>& ms) {
        for (auto* m : ms) m->abort();
    });
    waitUntil([&] { return p.open.load() == 0; }, nowNs() + 2000000000);
    return stragglers;
}

void Fleet::onEachThread(std::function<void(std::size_t, const std::vector<Member*>&)> fn) {
    for (std::size_t t = 0; t < workers_.size(); ++t)
        boost::asio::post(workers_.context(t), [this, t, fn] { fn(t, byThread_[t]); });
}

} // namespace parley::bench
