#pragma once

#include "socketio/Adapter.hpp"

#include <boost/json/array.hpp>

namespace parley::socketio {

class Namespace;

/// io.to(room).except(room).emit(...): collects the target, then hands one encoded packet to
/// the namespace's adapter.
class BroadcastOperator {
public:
    BroadcastOperator(Namespace& nsp, BroadcastOptions opts) : nsp_(nsp), opts_(std::move(opts)) {}

    BroadcastOperator& to(std::string room) &;
    BroadcastOperator&& to(std::string room) && { return std::move(to(std::move(room))); }
    BroadcastOperator& except(std::string room) &;
    BroadcastOperator&& except(std::string room) && { return std::move(except(std::move(room))); }
    BroadcastOperator& local() & {
        opts_.local = true;
        return *this;
    }
    /// The packet may be dropped for a client that is behind (socket.io's `volatile`).
    BroadcastOperator& volatileFlag() & {
        opts_.isVolatile = true;
        return *this;
    }
    BroadcastOperator&& volatileFlag() && { return std::move(volatileFlag()); }
    /// Its place in a chain every process delivers in order (BroadcastOrder); seq 0: none.
    BroadcastOperator& inOrder(std::string chain, std::int64_t seq) & {
        if (seq > 0) opts_.order = BroadcastOrder{std::move(chain), seq};
        return *this;
    }
    BroadcastOperator&& inOrder(std::string chain, std::int64_t seq) && {
        return std::move(inOrder(std::move(chain), seq));
    }

    void emit(std::string_view event, const boost::json::array& args = {}) const;
    void emitRaw(std::string_view event, std::string_view argsText, const std::vector<std::string>& buffers = {}) const;
    void socketsJoin(std::vector<std::string> rooms) const;
    void socketsLeave(std::vector<std::string> rooms) const;
    void disconnectSockets(bool close = false) const;

private:
    Namespace& nsp_;
    BroadcastOptions opts_;
};

} // namespace parley::socketio
