// tests/store's helpers (TempDir, LocalRegistry, put_stories_model, run_hearth) built into this
// suite as well, rather than copied: the store suite owns them.
#include "../store/store_test_util.cc"
