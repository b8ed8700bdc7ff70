#include "store/registry_client.h"

#include <nlohmann/json.hpp>

#include <openssl/rand.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <utility>
#include <vector>

#include "store/signing_key.h"
#include "util/base64.h"
#include "util/error.h"
#include "util/log.h"

namespace hearth::store {

namespace {

// Parses `Bearer realm="...",service="...",scope="..."` into its key/value pairs.
std::map<std::string, std::string> parse_challenge(const std::string& h, std::string* scheme) {
  std::map<std::string, std::string> out;
  size_t i = 0;
  while (i < h.size() && h[i] != ' ') ++i;
  *scheme = h.substr(0, i);
  for (auto& c : *scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  while (i < h.size()) {
    while (i < h.size() && (h[i] == ' ' || h[i] == ',')) ++i;
    size_t k = i;
    while (i < h.size() && h[i] != '=') ++i;
    if (i >= h.size()) break;
    std::string key = h.substr(k, i - k);
    ++i;
    std::string val;
    if (i < h.size() && h[i] == '"') {
      ++i;
      while (i < h.size() && h[i] != '"') {
        if (h[i] == '\\' && i + 1 < h.size()) ++i;
        val.push_back(h[i++]);
      }
      ++i;
    } else {
      while (i < h.size() && h[i] != ',') val.push_back(h[i++]);
    }
    out[key] = val;
  }
  return out;
}

std::string host_of(const std::string& url) {
  auto s = url.find("://");
  if (s == std::string::npos) return {};
  s += 3;
  auto e = url.find_first_of("/?#", s);
  return url.substr(s, e == std::string::npos ? std::string::npos : e - s);
}

std::string strip_port(const std::string& host) {
  auto c = host.rfind(':');
  return c == std::string::npos ? host : host.substr(0, c);
}

// The token request URL as Go's url.Values.Encode writes it (keys sorted; the realm's own
// parameters kept; one scope per space-separated scope), with a random nonce: the exact URL sent
// is the one signed.
std::string token_request_url(const std::string& realm, const std::string& service, const std::string& scope) {
  std::vector<std::pair<std::string, std::string>> query;
  std::string base = realm;
  if (const size_t q = realm.find('?'); q != std::string::npos) {
    base = realm.substr(0, q);
    const std::string rest = realm.substr(q + 1);
    for (size_t at = 0; at <= rest.size();) {
      const size_t amp = std::min(rest.find('&', at), rest.size());
      const std::string pair = rest.substr(at, amp - at);
      if (!pair.empty()) {
        const size_t eq = pair.find('=');
        query.emplace_back(pair.substr(0, eq), eq == std::string::npos ? "" : pair.substr(eq + 1));
      }
      at = amp + 1;
    }
  }
  query.emplace_back("service", url_escape(service));
  for (size_t at = 0; at <= scope.size();) {
    const size_t sp = std::min(scope.find(' ', at), scope.size());
    query.emplace_back("scope", url_escape(scope.substr(at, sp - at)));
    at = sp + 1;
  }
  query.emplace_back("ts", std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                                              std::chrono::system_clock::now().time_since_epoch())
                                              .count()));
  std::string nonce(16, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(nonce.data()), 16) != 1) {
    throw Error(ErrorCode::internal, "OpenSSL gave no random bytes");
  }
  query.emplace_back("nonce", base64_encode(nonce, Base64::raw_url));
  std::stable_sort(query.begin(), query.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string url = base;
  for (size_t i = 0; i < query.size(); ++i) url += (i == 0 ? "?" : "&") + query[i].first + "=" + query[i].second;
  return url;
}

// The key that signs token requests, made on first use. A key that cannot be read or made (no
// writable home, a damaged file) is logged and the request goes unsigned: anonymous tokens still
// work that way, where Ollama would fail the pull.
std::optional<SigningKey> signing_key(const std::string& configured) {
  const std::string path = configured.empty() ? default_signing_key_path() : configured;
  try {
    bool created = false;
    SigningKey key = SigningKey::load_or_create(path, &created);
    if (created) {
      HEARTH_LOG_INFO("no signing key at " + path + "; made a new one. Your new public key is: " +
                      key.public_key_line());
    }
    return key;
  } catch (const Error& e) {
    HEARTH_LOG_WARN(std::string("token request sent unsigned: ") + e.what());
    return std::nullopt;
  }
}

}  // namespace

void check_name_scheme(std::string_view text, const RegistryOptions& opts) {
  if (text.rfind("http://", 0) == 0 && !opts.insecure) {
    throw Error(ErrorCode::invalid_argument, "insecure protocol http");
  }
}

std::string registry_user_agent() { return "hearth/0.1.0 (amd64 linux)"; }

RegistryClient::RegistryClient(ModelName name, RegistryOptions opts)
    : name_(std::move(name)), opts_(std::move(opts)) {}

std::string RegistryClient::base_url() const {
  return std::string(opts_.insecure ? "http://" : "https://") + name_.host;
}

std::string RegistryClient::repo_url(const std::string& suffix) const {
  return base_url() + "/v2/" + name_.ns + "/" + name_.model + suffix;
}

HttpResponse RegistryClient::send(HttpRequest req) {
  req.headers.push_back("User-Agent: " + registry_user_agent());
  if (req.cancel == nullptr) req.cancel = opts_.cancel;
  req.low_speed_time_s = opts_.low_speed_time_s;
  std::vector<std::string> base_headers = req.headers;
  for (int attempt = 0;; ++attempt) {
    req.headers = base_headers;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!token_.empty()) req.headers.push_back("Authorization: Bearer " + token_);
    }
    HttpResponse r = http_perform(req);
    if (r.status != 401 || attempt > 0) return r;
    std::string challenge = r.header("www-authenticate");
    if (challenge.empty() || !fetch_token(challenge)) return r;
  }
}

bool RegistryClient::fetch_token(const std::string& challenge) {
  std::string scheme;
  auto kv = parse_challenge(challenge, &scheme);
  if (scheme != "bearer" || kv["realm"].empty()) return false;
  std::string realm = kv["realm"];
  // A realm elsewhere could collect credentials meant for this registry.
  if (strip_port(host_of(realm)) != strip_port(name_.host)) {
    throw Error(ErrorCode::invalid_argument,
                "unauthorized: auth realm host " + host_of(realm) + " does not match registry host " +
                    name_.host);
  }
  const std::string url = token_request_url(realm, kv["service"], kv["scope"]);
  HttpRequest tr;
  tr.url = url;
  tr.headers.push_back("User-Agent: " + registry_user_agent());
  if (const auto key = signing_key(opts_.signing_key_path)) {
    tr.headers.push_back("Authorization: " + key->authorization(token_request_signing_data(url)));
  }
  tr.cancel = opts_.cancel;
  HttpResponse r = http_perform(tr);
  if (r.status != 200) return false;
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return false;
  std::string tok;
  if (auto t = j.find("token"); t != j.end() && t->is_string()) tok = t->get<std::string>();
  if (tok.empty()) {
    if (auto t = j.find("access_token"); t != j.end() && t->is_string()) tok = t->get<std::string>();
  }
  if (tok.empty()) return false;
  std::lock_guard<std::mutex> lock(mutex_);
  token_ = tok;
  return true;
}

void RegistryClient::throw_for_status(const HttpResponse& r, const std::string& what) {
  std::string prefix = what.empty() ? "" : what + ": ";
  if (r.status == 404) throw Error(ErrorCode::not_found, prefix + "file does not exist");
  std::string body = r.body.size() > 512 ? r.body.substr(0, 512) + "..." : r.body;
  while (!body.empty() && (body.back() == '\n' || body.back() == '\r')) body.pop_back();
  if (r.status == 401 || r.status == 403) {
    throw Error(ErrorCode::invalid_argument, prefix + "unauthorized: " + std::to_string(r.status) +
                                                 (body.empty() ? "" : ": " + body));
  }
  throw Error(r.status >= 500 ? ErrorCode::io : ErrorCode::invalid_argument,
              prefix + std::to_string(r.status) + ": " + body);
}

}  // namespace hearth::store
