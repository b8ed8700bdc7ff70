#pragma once
// Tells whether the client of a request is still connected, so that a request waiting in the
// queue or generating without output can be cancelled at once when its client goes away.
// cpp-httplib (0.11) does not hand the socket to handlers, so the probe finds it once by its
// address pair: the descriptor whose peer and local addresses are the request's.

#include <string>

namespace hearth::server {

class ConnectionProbe {
 public:
  ConnectionProbe(std::string remote_addr, int remote_port, std::string local_addr, int local_port);
  // False once the peer has closed or reset the connection. True when the socket cannot be found
  // (then only a failing write reveals a disconnect).
  bool alive();

 private:
  int find_socket() const;
  std::string remote_addr_, local_addr_;
  int remote_port_, local_port_;
  int fd_ = -2;  // -2: not looked up yet; -1: not found
};

}  // namespace hearth::server
