// Placeholder source for a module folder that has no .cc files yet.
