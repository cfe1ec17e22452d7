#pragma once

#include "Member.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <memory>
#include <vector>

namespace parley::bench {

class RestClient;

/// The REST history of every chat, compared with the acknowledged sends.
struct HistoryFigures {
    std::uint64_t chats = 0;
    std::uint64_t messages = 0; ///< messages in the histories
    std::uint64_t requests = 0;
    std::uint64_t missing = 0;         ///< acked, not in the history
    std::uint64_t extra = 0;           ///< in the history, refused or never sent
    std::uint64_t unackedStored = 0;   ///< in the history, sent but never acked (not an error)
    std::uint64_t duplicates = 0;      ///< the same _id or clientId twice in one history
    std::uint64_t fieldMismatch = 0;   ///< _id, sender or body differ from the ack / the send
    std::uint64_t orderViolations = 0; ///< one sender's messages out of send order
    std::uint64_t pagingMismatch = 0;  ///< the forward (after=) walk disagrees with the backward one

    bool equal() const noexcept {
        return missing == 0 && extra == 0 && duplicates == 0 && fieldMismatch == 0 && orderViolations == 0 &&
               pagingMismatch == 0;
    }
};

/// For each chat: walks GET /v1/chats/:id/messages?limit=100 back from the newest page with
/// `before=`, then forward again from the oldest message with `after=` (the reconnection
/// backfill), checks both walks agree, and compares the history with the acked sends.
/// (A forward walk alone cannot start at the beginning: `after` must name a message of the chat,
/// and no cursor at all means the newest page.) Throws on a refused request.
HistoryFigures checkHistory(RestClient& rest, const Roster& roster, const std::vector<std::unique_ptr<Member>>& members,
                            std::string_view runTag);

boost::json::object toJson(const HistoryFigures& h);

} // namespace parley::bench
