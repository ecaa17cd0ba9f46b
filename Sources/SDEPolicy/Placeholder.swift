// Placeholder until this target's issue lands; replaced by its first real file.
