#pragma once

#include "Options.hpp"
#include "Roster.hpp"
#include "SioClient.hpp"

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace parley::bench {

/// Counters every io thread updates and the main thread reads to know when a phase is over.
/// Nothing else is shared between threads during a run.
struct Progress {
    std::atomic<std::size_t> ready{0};          ///< connected, and joined when the member has a chat
    std::atomic<std::size_t> failed{0};         ///< could not connect, authenticate or join
    std::atomic<std::size_t> open{0};           ///< members with a transport that has not ended
    std::atomic<std::size_t> dropped{0};        ///< connections that ended while ready, unasked
    std::atomic<std::size_t> sendersRunning{0}; ///< send schedulers that have sends still due
    std::atomic<std::int64_t> acksOutstanding{0};
    std::atomic<std::uint64_t> deliveriesExpected{0}; ///< acked messages x members of their chat
    std::atomic<std::uint64_t> deliveriesReceived{0};
    std::atomic<std::int64_t> windowStartNs{0};
    std::atomic<std::int64_t> windowEndNs{0};
    std::atomic<std::int64_t> lastReadyNs{0};    ///< when the latest member became ready
    std::atomic<std::int64_t> lastPresenceNs{0}; ///< when a presence frame last arrived (any member)
    std::atomic<bool> presenceFrozen{false};     ///< set before the closes: presence frames are no longer counted
};

/// What every member of a run shares: read-only once the io threads run (Progress aside).
struct RunShared {
    const Options& options;
    const Roster& roster;
    TransportKind kind;
    std::string runTag; ///< prefix of every clientId of this run: "<runTag>-<sender>-<seq>"
    Progress progress;
    /// userId -> client index. When set, every member keeps its view of everyone's presence
    /// (Member::presenceView): bigroom's final check.
    const StringMap<std::uint32_t>* userIndex = nullptr;
};

/// A member's view of one user's presence, as its snapshot and updates told it.
enum class PresenceSeen : std::uint8_t { Unknown, Online, Offline, Other };

enum class SendStatus : std::uint8_t { Pending, Acked, RateLimited, Refused };

/// One message:send, owned by its sender.
struct SentRecord {
    std::int64_t sentNs = 0;
    std::int64_t ackNs = 0;
    SendStatus status = SendStatus::Pending;
    std::uint32_t chat = 0; ///< the chat it was sent to (index in the roster)
    std::array<char, 24> serverId{};
};

/// One message:new received, owned by its receiver.
struct Delivery {
    std::uint32_t sender = 0;
    std::uint32_t seq = 0;
    std::uint32_t chat = 0; ///< the chat its chatId names
    std::int64_t receivedNs = 0;
    std::array<char, 24> serverId{};
};

/// One simulated user on one connection: connects with its token, joins its chats (if any),
/// sends messages when told, and records everything it sends and receives. Lives on one io
/// thread; its ledger is read by the main thread only after the io threads have stopped.
class Member final : public SioHandler {
public:
    Member(std::size_t index, boost::asio::io_context& ctx, RunShared& shared);

    /// Connects (dropping any current connection at once), authenticates, joins. `settled` runs
    /// once, when the member is ready or has failed.
    void start(std::function<void()> settled = {});
    /// Graceful close (`41`, then the transport's close).
    void close();
    /// Closes the sockets at once, without any handshake (as a network drop looks to the
    /// server); start() may follow at once.
    void abort();
    /// Sends one message:send to chat `chat` (a roster index; kNoChat: its chats in turn, one send
    /// each), skipped and counted when not ready.
    void sendMessage(std::size_t chat = Roster::kNoChat);

    std::size_t index() const noexcept { return index_; }
    bool isReady() const noexcept { return phase_ == Phase::Ready; }
    std::int64_t startNs() const noexcept { return startNs_; }
    std::int64_t readyNs() const noexcept { return readyNs_; }

    // The ledger and counters: written by the owner thread, read after the run.
    std::vector<SentRecord> sent;
    std::vector<Delivery> deliveries;
    std::uint64_t windowDeliveries = 0;      ///< message:new received inside the window
    std::uint64_t skippedSends = 0;          ///< sends due while not ready
    std::uint64_t foreign = 0;               ///< message:new whose clientId is not of this run
    std::uint64_t misrouted = 0;             ///< message:new from a sender outside this member's chat
    std::uint64_t wrongFields = 0;           ///< message:new whose chatId/senderId/_id disagree with the sender
    std::uint64_t ackMismatch = 0;           ///< ok acks whose clientId/serverId are missing or wrong
    std::uint64_t ackOutOfOrder = 0;         ///< acks that came back before those of earlier sends
    std::uint64_t otherEvents = 0;           ///< chat:update, typing:update, ...
    std::uint64_t presenceUpdates = 0;       ///< presence:update events
    std::uint64_t presenceBatches = 0;       ///< presence:batch events
    std::uint64_t presenceBatchEntries = 0;  ///< the updates inside them
    std::uint64_t presenceSnapshots = 0;     ///< presence:snapshot events
    std::uint64_t presenceChatSnapshots = 0; ///< ... of them a chat's (the batched form's {chatId, users})
    std::uint64_t presenceUnknownUsers = 0;  ///< entries naming no user of the run (view kept)
    /// With RunShared::userIndex: client index -> the presence this member was last told, and
    /// that state's timestamp (0: none).
    std::vector<PresenceSeen> presenceView;
    std::vector<std::int64_t> presenceAt;
    std::uint64_t drops = 0;                       ///< connections lost while ready
    std::map<std::string, std::uint64_t> refusals; ///< error code -> count, for refused sends
    std::string lastError;

private:
    enum class Phase { Idle, Connecting, Joining, Ready, Closing, Failed };

    void onConnect() override;
    void onConnectError(std::string_view message) override;
    void onEvent(std::string_view name, const boost::json::array& args) override;
    void onClose(boost::system::error_code ec) override;

    void settle(bool ok);
    void onJoinAck(const boost::json::array& args);
    void onSendAck(std::uint32_t seq, const boost::json::array& args);
    void onMessageNew(const boost::json::array& args);
    void onPresence(std::string_view name, const boost::json::array& args);
    void seePresence(const boost::json::value& entry);

    std::size_t index_;
    RunShared& shared_;
    const std::vector<std::uint32_t>& chats_; ///< the roster's, for this member
    std::size_t joinsPending_ = 0;
    SioClient client_;
    Phase phase_ = Phase::Idle;
    bool open_ = false;
    std::function<void()> settled_;
    std::int64_t startNs_ = 0;
    std::int64_t readyNs_ = 0;
    std::int64_t inFlight_ = 0; ///< sends of the current connection without an ack yet
    std::int64_t lastAckedSeq_ = -1;
};

/// "<runTag>-<sender>-<seq>" split back; false for anything else.
bool parseClientId(std::string_view clientId, std::string_view runTag, std::uint32_t& sender, std::uint32_t& seq);

} // namespace parley::bench
