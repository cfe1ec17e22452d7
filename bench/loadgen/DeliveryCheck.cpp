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

    // Every send belongs to one chat: its place in that chat's list of messages.
    std::vector<std::vector<std::pair<std::uint32_t, std::uint32_t>>> messagesOf(roster.chats.size()); // (sender, seq)
    std::vector<std::vector<std::uint32_t>> placeOf(members.size());
    for (std::size_t s = 0; s < members.size(); ++s) {
        const auto& sentBy = members[s]->sent;
        placeOf[s].resize(sentBy.size());
        for (std::size_t seq = 0; seq < sentBy.size(); ++seq) {
            auto& list = messagesOf[sentBy[seq].chat];
            placeOf[s][seq] = static_cast<std::uint32_t>(list.size());
            list.emplace_back(static_cast<std::uint32_t>(s), static_cast<std::uint32_t>(seq));
        }
    }

    // Per (chat, recipient): a recipient in several chats is judged in each separately, on the
    // deliveries whose chatId names that chat (Member::onMessageNew kept only chats it is in, from
    // senders that are in them too).
    std::vector<std::size_t> slotOf(roster.users.size(), static_cast<std::size_t>(-1));
    for (std::size_t c = 0; c < roster.chats.size(); ++c) {
        const auto& chat = roster.chats[c];
        const auto& messages = messagesOf[c];
        for (std::size_t k = 0; k < chat.members.size(); ++k) slotOf[chat.members[k]] = k;

        std::vector<std::uint16_t> counts;
        std::vector<std::int64_t> lastSeq(chat.members.size());
        for (std::size_t receiverIndex : chat.members) {
            const Member& receiver = *members[receiverIndex];
            counts.assign(messages.size(), 0);
            std::fill(lastSeq.begin(), lastSeq.end(), -1);
            for (const Delivery& d : receiver.deliveries) {
                if (d.chat != c) continue;
                const auto& sentBy = members[d.sender]->sent;
                if (d.seq >= sentBy.size()) {
                    ++f.unknownSeq;
                    continue;
                }
                const SentRecord& rec = sentBy[d.seq];
                if (rec.chat != c) { // sent to another chat, delivered as this one's
                    ++f.misrouted;
                    continue;
                }
                auto& count = counts[placeOf[d.sender][d.seq]];
                if (count < UINT16_MAX) ++count;
                if (count > 1) continue;
                const std::size_t k = slotOf[d.sender];
                if (static_cast<std::int64_t>(d.seq) < lastSeq[k]) ++f.outOfOrder;
                lastSeq[k] = std::max<std::int64_t>(lastSeq[k], d.seq);
                if (rec.status == SendStatus::Acked && rec.serverId != d.serverId) ++f.idMismatch;
            }
            for (std::size_t i = 0; i < messages.size(); ++i) {
                const SentRecord& rec = members[messages[i].first]->sent[messages[i].second];
                const std::uint16_t n = counts[i];
                switch (rec.status) {
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
                if (n > 1 && rec.status != SendStatus::RateLimited && rec.status != SendStatus::Refused)
                    f.duplicated += n - 1;
            }
        }
        for (std::size_t k : chat.members) slotOf[k] = static_cast<std::size_t>(-1);
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
