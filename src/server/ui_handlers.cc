// The built-in web page at /ui: the files of web/dist, compiled into the binary. The page is a
// client of the API on the same origin, so it passes the same Host and Origin checks; the files
// themselves are public (they hold no data), and the page asks for HEARTH_API_KEY when the API
// answers 401, as any client would.

#include "server/server_state.h"
#include "server/ui_assets.h"

namespace hearth::server {

namespace {

std::string content_type(std::string_view name) {
  if (name.ends_with(".html")) return "text/html; charset=utf-8";
  if (name.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (name.ends_with(".css")) return "text/css; charset=utf-8";
  return "application/octet-stream";
}

// Everything the page loads comes from this origin: a script injected through a model's answer
// (the page builds DOM nodes, never HTML, but defence in depth) could neither run nor send data
// elsewhere.
constexpr const char* kPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

void serve(httplib::Response& res, std::string_view name) {
  for (const UiAsset& a : ui_assets()) {
    if (a.name != name) continue;
    res.status = 200;
    res.set_content(std::string(a.body), content_type(name));
    res.set_header("Content-Security-Policy", kPolicy);
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("Referrer-Policy", "no-referrer");
    // The files change with the binary: revalidating each time costs little on loopback.
    res.set_header("Cache-Control", "no-cache");
    return;
  }
  res.status = 404;
  res.set_content("404 page not found", "text/plain");
}

}  // namespace

bool is_ui_path(const std::string& path) { return path == "/ui" || path.rfind("/ui/", 0) == 0; }

void handle_ui_index(Call& c) { serve(c.res, "index.html"); }
void handle_ui_file(Call& c) { serve(c.res, c.req.matches[1].str()); }

}  // namespace hearth::server
