"""Installing the daemon as a service: a systemd unit on Linux, WinSW on Windows."""
