#pragma once

#include "app/AdminUi.hpp"
#include "app/ClusterChatState.hpp"
#include "app/Runtime.hpp"
#include "auth/Jwt.hpp"
#include "chat/ChatService.hpp"
#include "chat/Metrics.hpp"
#include "http/RestApi.hpp"
#include "store/ChatStore.hpp"
#include "store/Metrics.hpp"

#include <memory>

namespace parley::app {

/// The chat product wired onto a Runtime: the store, token verification, the chat handlers
/// on "/", the REST API, the web client (--web-root) and the admin UI (--admin-password).
class ChatStack {
public:
    /// Opens the store (running migrations) and installs everything. Throws on bad config.
    explicit ChatStack(Runtime& runtime);
    ~ChatStack();

private:
    void installWebClient(Runtime& runtime);
    void installAdminUi(Runtime& runtime);

    // Before what counts into them; registered with the runtime's registry.
    store::Metrics storeMetrics_;
    chat::Metrics chatMetrics_;
    std::unique_ptr<store::ChatStore> store_;
    std::unique_ptr<auth::JwtVerifier> jwt_;
    // With --redis: the rate limit and presence the cluster shares (before the chat, which uses them).
    std::unique_ptr<ClusterChatState> clusterState_;
    std::unique_ptr<chat::ChatService> chat_;
    std::unique_ptr<http::RestApi> rest_;
    std::unique_ptr<AdminUi> admin_; ///< with --admin-password
};

/// The HS256 secret of this configuration: --jwt-secret, else <dataDir>/jwt-secret, created
/// (32 random bytes, hex, mode 0600) when missing. Empty when a public key is configured.
std::string resolveJwtSecret(const Config& config, bool createIfMissing);

/// Opens the configured store (creating what is missing, running migrations). `metrics` may be
/// null. Throws std::invalid_argument for a bad --store and std::runtime_error when it cannot open.
std::unique_ptr<store::ChatStore> openStore(const Config& config, store::Metrics* metrics = nullptr);

} // namespace parley::app
