#pragma once

#include "Member.hpp"

#include <boost/json/object.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace parley::bench {

/// The exactly-once verdict of a fanout run, from the members' own ledgers.
struct DeliveryFigures {
    std::uint64_t sent = 0;
    std::uint64_t acked = 0;
    std::uint64_t rateLimited = 0;
    std::uint64_t refused = 0;          ///< refused for another reason than the rate limit
    std::uint64_t unacked = 0;          ///< no ack by the end of the drain
    std::uint64_t skippedSends = 0;     ///< due while the sender was not connected
    std::uint64_t expected = 0;         ///< acked messages x members of their chat
    std::uint64_t delivered = 0;        ///< message:new of this run received, all kinds
    std::uint64_t lost = 0;             ///< (acked message, member) pairs never delivered
    std::uint64_t duplicated = 0;       ///< deliveries beyond the first of a message to a member
    std::uint64_t outOfOrder = 0;       ///< first deliveries that came after a later message of the same sender
    std::uint64_t refusedDelivered = 0; ///< deliveries of messages whose send was refused
    std::uint64_t unackedDelivered = 0; ///< first deliveries of messages never acked (not an error)
    std::uint64_t idMismatch = 0;       ///< delivered _id differs from the serverId of the ack
    std::uint64_t unknownSeq = 0;       ///< deliveries of a (sender, seq) that was never sent
    std::uint64_t foreign = 0, misrouted = 0, wrongFields = 0, ackMismatch = 0, ackOutOfOrder = 0;
    std::uint64_t otherEvents = 0, drops = 0;
    std::map<std::string, std::uint64_t> refusals;

    /// True when nothing above says the server broke its contract.
    bool exact() const noexcept {
        return lost == 0 && duplicated == 0 && outOfOrder == 0 && refusedDelivered == 0 && idMismatch == 0 &&
               unknownSeq == 0 && foreign == 0 && misrouted == 0 && wrongFields == 0 && ackMismatch == 0 &&
               ackOutOfOrder == 0;
    }
};

/// Compares, for every chat and each of its members (a client in several chats is judged in each),
/// what each member received with what each member sent and how the
/// sends were acknowledged. Call after the io threads have stopped.
DeliveryFigures checkDeliveries(const Roster& roster, const std::vector<std::unique_ptr<Member>>& members);

boost::json::object toJson(const DeliveryFigures& f);

} // namespace parley::bench
