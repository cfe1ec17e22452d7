#include "app/ChatStack.hpp"

#include "http/WebRoot.hpp"
#include "store/Open.hpp"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include <sys/stat.h>

namespace parley::app {

namespace {
std::string readFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw std::invalid_argument("cannot read " + path);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Where a browser on this machine reaches the server: a wildcard address through loopback.
std::string baseUrl(const std::string& host, unsigned short port) {
    std::string shown = host == "0.0.0.0" ? "127.0.0.1" : host == "::" ? "::1" : host;
    if (shown.find(':') != std::string::npos) shown = "[" + shown + "]";
    return "http://" + shown + ":" + std::to_string(port);
}

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
    return s;
}
} // namespace

std::string resolveJwtSecret(const Config& config, bool createIfMissing) {
    if (!config.jwtSecret.empty()) return config.jwtSecret;
    if (!config.jwtPublicKey.empty()) return {};
    const std::string path = config.dataDir + "/jwt-secret";
    if (std::filesystem::exists(path)) return trim(readFile(path));
    if (!createIfMissing) throw std::invalid_argument("no JWT secret: pass --jwt-secret or start the server once");
    std::filesystem::create_directories(config.dataDir);
    unsigned char bytes[32];
    randombytes_buf(bytes, sizeof bytes);
    char hex[65];
    sodium_bin2hex(hex, sizeof hex, bytes, sizeof bytes);
    {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out << hex << "\n";
        if (!out) throw std::runtime_error("cannot write " + path);
    }
    ::chmod(path.c_str(), 0600);
    spdlog::warn("no JWT secret configured: generated one in {} (set --jwt-secret in production)", path);
    return hex;
}

std::unique_ptr<store::ChatStore> openStore(const Config& config, store::Metrics* metrics) {
    store::OpenOptions options;
    options.uri = config.storeUri();
    options.pacing.maxDelay = config.commitDelay;
    options.slowCommit = config.slowCommit;
    options.metrics = metrics;
    if (config.storePool > 0) options.poolSize = config.storePool;
    return store::openChatStore(options);
}

ChatStack::ChatStack(Runtime& runtime) {
    const Config& config = runtime.config();
    storeMetrics_.registerWith(runtime.metrics());
    chatMetrics_.registerWith(runtime.metrics());
    auth::JwtConfig jwt;
    jwt.secret = resolveJwtSecret(config, true);
    if (!config.jwtPublicKey.empty()) jwt.publicKeyPem = readFile(config.jwtPublicKey);
    jwt.issuer = config.jwtIssuer;
    jwt.audience = config.jwtAudience;
    jwt.requireExp = config.jwtRequireExp;
    jwt.leeway = config.jwtLeeway;
    jwt_ = std::make_unique<auth::JwtVerifier>(jwt);

    store_ = openStore(config, &storeMetrics_);
    spdlog::info("store: {}", config.storeDescription());

    chat::ChatConfig chatConfig;
    chatConfig.typingTimeoutMs = std::chrono::milliseconds(config.typingTimeout).count();
    chatConfig.renewLimit.perWindow = config.tokenRenewalsPerMinute;
    chatConfig.storeBudget.perWindow = config.storeOpsPer10s;
    chatConfig.recoveryWindowMs = std::chrono::milliseconds(config.recoveryWindow).count();
    chat::SharedChatState shared;
    if (auto* bus = runtime.bus()) {
        // Runtime has parsed --redis already to start the bus.
        clusterState_ =
            std::make_unique<ClusterChatState>(runtime.threads(), cluster::RedisAddress::parse(config.redis).value(),
                                               bus->uid(), chatConfig, runtime.metrics());
        shared = clusterState_->shared();
        runtime.onStop([state = clusterState_.get()] { state->stop(); });
    }
    chat_ = std::make_unique<chat::ChatService>(runtime.threads(), runtime.io().of("/"), *store_, *jwt_, chatConfig,
                                                &chatMetrics_, shared);
    chat_->install();
    Runtime::DrainSteps drain;
    drain.begin = [chat = chat_.get()] { chat->startDrain(); };
    drain.busy = [chat = chat_.get()] { return chat->sendsInFlight() > 0; };
    drain.settle = [store = store_.get(), &ctx = runtime.threads().context(0)](std::function<void()> done) {
        store->settle(ctx, [done = std::move(done)](store::Result<void>) { done(); });
    };
    runtime.onDrain(std::move(drain));

    http::RestConfig rest;
    rest.jwtSecret = jwt.secret;
    rest.jwtIssuer = config.jwtIssuer;
    rest.jwtAudience = config.jwtAudience;
    rest.login.perAddressPerMinute = config.loginPerIpPerMinute;
    rest.login.failuresPerAccount = config.loginFailuresPerAccount;
    rest.login.failureWindowMs = config.loginFailureWindow.count();
    rest.maxPendingLogins = config.loginHashQueue;
    rest.metrics = &chatMetrics_;
    rest.peers = &runtime.peerLimits();
    if (auto* bus = runtime.bus()) rest.clusterConnected = [bus] { return bus->connected(); };
    rest_ = std::make_unique<http::RestApi>(runtime.router(), *chat_, runtime.threads(), rest);
    installAdminUi(runtime);
    installWebClient(runtime);
}

// The socket.io admin UI's namespace (AdminUi); its page is served by installWebClient.
void ChatStack::installAdminUi(Runtime& runtime) {
    const Config& config = runtime.config();
    if (!config.servesAdmin()) return;
    AdminSettings settings;
    settings.username = config.adminUsername;
    settings.password = config.adminPassword;
    settings.readonly = config.adminReadonly;
    settings.verbose = config.adminMode == "development";
    settings.cluster = runtime.bus() != nullptr;
    admin_ = std::make_unique<AdminUi>(runtime.io(), runtime.threads(), std::move(settings));
    admin_->start();
    runtime.onStop([admin = admin_.get()] { admin->stop(); });
}

// The web client's files on / (http::WebRoot). A missing directory is no reason not to serve the
// API: it is said once, and / is 404 until the directory is there.
void ChatStack::installWebClient(Runtime& runtime) {
    const Config& config = runtime.config();
    if (!config.servesWeb()) return;
    http::WebRoot web(config.webRoot);
    if (config.servesAdmin()) web.serveAdminUi();
    web.install(runtime.router());
    std::error_code ec;
    if (!std::filesystem::is_directory(config.webRoot, ec)) {
        spdlog::warn("no web client: --web-root {} is not a directory (/ answers 404)", config.webRoot);
        return;
    }
    runtime.onListening([host = config.host, admin = config.servesAdmin()](unsigned short port) {
        const std::string base = baseUrl(host, port);
        spdlog::info("web client at {}/", base);
        if (admin) spdlog::info("admin UI at {}/admin/ (namespace /admin)", base);
    });
}

ChatStack::~ChatStack() = default;

} // namespace parley::app
