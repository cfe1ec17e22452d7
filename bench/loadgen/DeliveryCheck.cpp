#include "DeliveryCheck.hpp"

#include <algorithm>

namespace parley::bench {

DeliveryFigures checkDeliveries(const Roster& roster, const std::vector<std::unique_ptr<Member>>& members) {
    DeliveryFigures f;
    for (const auto& m : members) {
        f.sent += m->sent.size();
        f.skippedSends += m->skippedSends;
        f.delivered += m->deliveries.size();
        f.foreign += m->foreign;
        f.misrouted += m->misrouted;
        f.wrongFields += m->wrongFields;
        f.ackMismatch += m->ackMismatch;
        f.ackOutOfOrder += m->ackOutOfOrder;
        f.otherEvents += m->otherEvents;
        f.drops += m->drops;
        for (const auto& [code, n] : m->refusals) f.refusals[code] += n;
        for (const auto& rec : m->sent) {
            switch (rec.status) {
            case SendStatus::Acked: ++f.acked; break;
            case SendStatus::RateLimited: ++f.rateLimited; break;
            case SendStatus::Refused: ++f.refused; break;
            case SendStatus::Pending: ++f.unacked; break;
            }
        }
    }

    for (const auto& chat : roster.chats) {
        // Position of each sender within the chat, for the per-receiver tables below.
        std::vector<std::size_t> slotOf(roster.users.size(), static_cast<std::size_t>(-1));
        for (std::size_t k = 0; k < chat.members.size(); ++k) slotOf[chat.members[k]] = k;

        std::vector<std::vector<std::uint16_t>> counts(chat.members.size());
        std::vector<std::int64_t> lastSeq(chat.members.size());
        for (std::size_t receiverIndex : chat.members) {
            const Member& receiver = *members[receiverIndex];
            for (std::size_t k = 0; k < chat.members.size(); ++k) {
                counts[k].assign(members[chat.members[k]]->sent.size(), 0);
                lastSeq[k] = -1;
            }
            for (const Delivery& d : receiver.deliveries) {
                const std::size_t k = slotOf[d.sender]; // Member::onMessageNew kept only senders of this chat
                const auto& sentBy = members[d.sender]->sent;
                if (d.seq >= sentBy.size()) {
                    ++f.unknownSeq;
                    continue;
                }
                auto& count = counts[k][d.seq];
                if (count < UINT16_MAX) ++count;
                if (count > 1) continue;
                if (static_cast<std::int64_t>(d.seq) < lastSeq[k]) ++f.outOfOrder;
                lastSeq[k] = std::max<std::int64_t>(lastSeq[k], d.seq);
                const SentRecord& rec = sentBy[d.seq];
                if (rec.status == SendStatus::Acked && rec.serverId != d.serverId) ++f.idMismatch;
            }
            for (std::size_t k = 0; k < chat.members.size(); ++k) {
                const auto& sentBy = members[chat.members[k]]->sent;
                for (std::size_t seq = 0; seq < sentBy.size(); ++seq) {
                    const std::uint16_t n = counts[k][seq];
                    switch (sentBy[seq].status) {
                    case SendStatus::Acked:
                        ++f.expected;
                        if (n == 0) ++f.lost;
                        break;
                    case SendStatus::RateLimited:
                    case SendStatus::Refused: f.refusedDelivered += n; break;
                    case SendStatus::Pending:
                        if (n > 0) ++f.unackedDelivered;
                        break;
                    }
                    if (n > 1 && sentBy[seq].status != SendStatus::RateLimited &&
                        sentBy[seq].status != SendStatus::Refused)
                        f.duplicated += n - 1;
                }
            }
        }
    }
    return f;
}

boost::json::object toJson(const DeliveryFigures& f) {
    boost::json::object refusals;
    for (const auto& [code, n] : f.refusals) refusals[code] = n;
    return boost::json::object{
        {"sent", f.sent},
        {"acked", f.acked},
        {"rateLimited", f.rateLimited},
        {"refused", f.refused},
        {"refusals", std::move(refusals)},
        {"unacked", f.unacked},
        {"skippedSends", f.skippedSends},
        {"expectedDeliveries", f.expected},
        {"delivered", f.delivered},
        {"lost", f.lost},
        {"duplicated", f.duplicated},
        {"outOfOrder", f.outOfOrder},
        {"refusedDelivered", f.refusedDelivered},
        {"unackedDelivered", f.unackedDelivered},
        {"idMismatch", f.idMismatch},
        {"unknownSeq", f.unknownSeq},
        {"foreign", f.foreign},
        {"misrouted", f.misrouted},
        {"wrongFields", f.wrongFields},
        {"ackMismatch", f.ackMismatch},
        {"ackOutOfOrder", f.ackOutOfOrder},
        {"otherEvents", f.otherEvents},
        {"drops", f.drops},
        {"exactlyOnce", f.exact()},
    };
}

} // namespace parley::bench
