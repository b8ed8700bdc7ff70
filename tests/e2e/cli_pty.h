#pragma once
// Runs a program in a pseudo-terminal so tests can drive an interactive CLI as a person would:
// type, press Ctrl+C / Ctrl+D, and wait for text to appear.

#include <sys/types.h>

#include <string>
#include <vector>

namespace hearth::test {

class PtyProcess {
 public:
  // Starts argv[0] with `env` added to the environment, on a terminal `cols` wide.
  PtyProcess(const std::vector<std::string>& argv, const std::vector<std::string>& env,
             int cols = 100);
  ~PtyProcess();

  void type(const std::string& text);  // as typed keys ("\r" is Enter, "\x03" is Ctrl+C)
  // Waits until `needle` appears in the output after the read mark; moves the mark past it.
  // Returns false after `timeout_s` (a hang guard, not a speed check).
  bool expect(const std::string& needle, int timeout_s = 60);
  // Everything the program wrote so far.
  const std::string& output() const { return out_; }
  // The output since the last expect() match.
  std::string pending() const { return out_.substr(mark_); }
  // Waits for exit; returns the exit status (-1 on a timeout or a signal).
  int wait(int timeout_s = 60);

 private:
  void pump(int timeout_ms);
  pid_t pid_ = -1;
  int fd_ = -1;
  std::string out_;
  size_t mark_ = 0;
  bool exited_ = false;
  int status_ = -1;
};

}  // namespace hearth::test
