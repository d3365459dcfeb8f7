"""Local development tools: emulator launcher, demo stack, benchmark."""
