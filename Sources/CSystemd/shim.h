// CSystemd: libsystemd's sd_notify(3), which the daemon uses to tell systemd that it is ready, reloading or
// stopping, and to pet the watchdog. Nothing else of libsystemd is used.
#include <systemd/sd-daemon.h>
